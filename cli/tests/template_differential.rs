//! Differential test of `spec.template.data` rendering: every entry of
//! `tests/fixtures/templates/corpus.yaml` is sealed (strict scope) into one
//! SealedSecret, opened with `--recovery-unseal` by our `kubeseal` and by the
//! reference one (which renders exactly like its controller), and the two
//! Secrets' `data` are compared: byte for byte (`exact`, the default; both
//! refusing also agrees) or, for random and time-dependent functions, against
//! the entry's `shape` regex.
//!
//! Every entry runs, mismatches or not; they are listed in
//! `target/template-differential.txt` and the test fails with their count.
//! Without the reference kubeseal the test is skipped, unless
//! `REQUIRE_REFERENCE=1`. Run alone:
//! `cargo test -p kubeseal --test template_differential -- --nocapture`;
//! `TEMPLATE_DIFF_FILTER=sprig-` runs only the entries whose name contains it;
//! `TEMPLATE_DIFF_ALL=1` lists agreeing entries in the report too.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use common::{fixture, reference_kubeseal};
use regex::bytes::Regex;
use sealed_secrets_api::crypto::{seal, PrivateKey, Scope};
use serde::Deserialize;

const THREADS: usize = 2;
const TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Corpus {
    #[serde(default)]
    defaults: Values,
    entries: Vec<Entry>,
}

/// Encrypted values: `values` as UTF-8 text, `binary` as base64 of any bytes.
#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct Values {
    #[serde(default)]
    values: BTreeMap<String, String>,
    #[serde(default)]
    binary: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    /// The Secret's name and namespace (default `s` in `ns`).
    secret_name: Option<String>,
    namespace: Option<String>,
    /// Encrypted values, merged over the corpus defaults unless `no_defaults`.
    #[serde(default)]
    values: BTreeMap<String, String>,
    #[serde(default)]
    binary: BTreeMap<String, String>,
    #[serde(default)]
    no_defaults: bool,
    /// Shorthand for `template: {out: T}`.
    t: Option<String>,
    /// `spec.template.data`: templates, plaintext siblings and `null`s.
    #[serde(default)]
    template: BTreeMap<String, Option<String>>,
    /// Compare these output keys by regex (a string: every key of
    /// `template`) instead of exactly; both outputs must match.
    shape: Option<Shape>,
    /// The reference must refuse this entry (checked: a corpus self-test).
    #[serde(default)]
    refuse: bool,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Shape {
    All(String),
    Keys(BTreeMap<String, String>),
}

/// What one binary made of one entry.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Data(BTreeMap<String, Vec<u8>>),
    Refused(String),
    /// Killed by a signal, panicked, timed out or printed something unparsable.
    Broken(String),
}

struct Case {
    entry: Entry,
    file: PathBuf,
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let cli = Path::new(env!("CARGO_MANIFEST_DIR"));
            cli.parent().unwrap_or(cli).join("target")
        })
}

fn sealed_secret(entry: &Entry, defaults: &Values, key: &PrivateKey) -> serde_json::Value {
    let name = entry.secret_name.as_deref().unwrap_or("s");
    let namespace = entry.namespace.as_deref().unwrap_or("ns");
    let label = Scope::Strict.label(namespace, name);
    let mut plain: BTreeMap<&str, Vec<u8>> = BTreeMap::new();
    let own = [(&entry.values, &entry.binary)];
    let all = [(&defaults.values, &defaults.binary), own[0]];
    let sets: &[_] = if entry.no_defaults { &own } else { &all };
    for (values, binary) in sets {
        for (k, v) in *values {
            plain.insert(k, v.clone().into_bytes());
        }
        for (k, v) in *binary {
            let bytes = B64
                .decode(v)
                .unwrap_or_else(|e| panic!("{}: binary {k}: {e}", entry.name));
            plain.insert(k, bytes);
        }
    }
    let encrypted: serde_json::Map<String, serde_json::Value> = plain
        .iter()
        .map(|(k, v)| {
            let sealed = seal(key.public_key(), v, &label).expect("seal");
            (k.to_string(), B64.encode(sealed).into())
        })
        .collect();
    serde_json::json!({
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "encryptedData": encrypted,
            "template": {
                "metadata": {"name": name, "namespace": namespace},
                "data": templates(entry),
            },
        },
    })
}

fn templates(entry: &Entry) -> BTreeMap<String, Option<String>> {
    let mut all = entry.template.clone();
    if let Some(t) = &entry.t {
        all.insert("out".into(), Some(t.clone()));
    }
    all
}

fn run(binary: &Path, home: &Path, key: &str, file: &Path) -> Outcome {
    let mut cmd = Command::new(binary);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("SEALED_SECRETS_") {
            cmd.env_remove(&k);
        }
    }
    let mut child = cmd
        .args([
            "--recovery-unseal",
            "--recovery-private-key",
            key,
            "-o",
            "json",
            "-f",
        ])
        .arg(file)
        .env("HOME", home)
        // Dates render in the local zone: make it the same everywhere.
        .env("TZ", "UTC")
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubeseal starts");
    // Read both pipes on threads so a chatty child never blocks on a full pipe.
    let mut out_pipe = child.stdout.take().expect("stdout");
    let mut err_pipe = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out_pipe.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err_pipe.read_to_end(&mut buf);
        buf
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stdout = out_reader.join().expect("stdout reader");
    let stderr = String::from_utf8_lossy(&err_reader.join().expect("stderr reader")).into_owned();
    let first_line = stderr.lines().next().unwrap_or("").to_string();
    let Some(status) = status else {
        return Outcome::Broken(format!("timed out after {TIMEOUT:?}"));
    };
    if stderr.contains("panicked") || stderr.contains("stack overflow") {
        return Outcome::Broken(format!("crashed: {first_line}"));
    }
    match status.code() {
        None => Outcome::Broken(format!("killed by a signal ({status}): {first_line}")),
        Some(0) => parse_secret(&stdout).unwrap_or_else(Outcome::Broken),
        Some(_) => Outcome::Refused(first_line),
    }
}

fn parse_secret(stdout: &[u8]) -> Result<Outcome, String> {
    let secret: serde_json::Value =
        serde_json::from_slice(stdout).map_err(|e| format!("unparsable output: {e}"))?;
    let mut data = BTreeMap::new();
    if let Some(map) = secret.get("data").and_then(|d| d.as_object()) {
        for (k, v) in map {
            // The reference prints an empty value as `null` (a nil []byte).
            let text = match v {
                serde_json::Value::Null => "",
                v => v.as_str().ok_or(format!("data.{k} is not a string"))?,
            };
            let bytes = B64
                .decode(text)
                .map_err(|e| format!("data.{k} is not base64: {e}"))?;
            data.insert(k.clone(), bytes);
        }
    }
    Ok(Outcome::Data(data))
}

/// The entry's shape regexes by output key (empty for `exact` entries).
fn shape_patterns(entry: &Entry) -> BTreeMap<String, Regex> {
    let patterns: BTreeMap<String, String> = match &entry.shape {
        None => BTreeMap::new(),
        Some(Shape::All(p)) => templates(entry)
            .into_iter()
            .filter(|(_, t)| t.is_some())
            .map(|(k, _)| (k, p.clone()))
            .collect(),
        Some(Shape::Keys(m)) => m.clone(),
    };
    patterns
        .into_iter()
        .map(|(k, p)| {
            let re = Regex::new(&p)
                .unwrap_or_else(|e| panic!("{}: bad shape regex {p:?}: {e}", entry.name));
            (k, re)
        })
        .collect()
}

/// Corpus self-test: the reference refuses exactly the entries marked
/// `refuse`, and its output has the entry's shape.
fn check_reference(entry: &Entry, reference: &Outcome) -> Option<String> {
    let data = match (reference, entry.refuse) {
        (Outcome::Refused(_), true) => return None,
        (Outcome::Data(data), false) => data,
        (Outcome::Refused(_), false) => return Some("the reference refused".into()),
        (Outcome::Data(_), true) => return Some("the reference did not refuse".into()),
        (Outcome::Broken(why), _) => return Some(format!("the reference broke: {why}")),
    };
    for (k, re) in shape_patterns(entry) {
        match data.get(&k) {
            Some(v) if re.is_match(v) => {}
            _ => return Some(format!("reference data.{k} does not match {re}")),
        }
    }
    None
}

/// `None` when the two outcomes agree for this entry, else why not.
fn compare(entry: &Entry, ours: &Outcome, reference: &Outcome) -> Option<String> {
    let (Outcome::Data(a), Outcome::Data(b)) = (ours, reference) else {
        return match (ours, reference) {
            (Outcome::Refused(_), Outcome::Refused(_)) => None,
            _ => Some("outcomes differ".into()),
        };
    };
    let patterns = shape_patterns(entry);
    if a.keys().ne(b.keys()) {
        return Some("data keys differ".into());
    }
    for (k, va) in a {
        match patterns.get(k) {
            None if va != &b[k] => return Some(format!("data.{k} differs")),
            None => {}
            Some(re) if !re.is_match(va) => {
                return Some(format!("our data.{k} does not match {re}"));
            }
            Some(_) => {}
        }
    }
    None
}

fn show(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Refused(line) => format!("refused: {line}"),
        Outcome::Broken(why) => format!("BROKEN: {why}"),
        Outcome::Data(data) => {
            let mut s = String::new();
            for (k, v) in data {
                match std::str::from_utf8(v) {
                    Ok(text) => {
                        let _ = writeln!(s, "    {k}: {:?}", text);
                    }
                    Err(_) => {
                        let _ = writeln!(s, "    {k}: (base64) {}", B64.encode(v));
                    }
                }
            }
            format!("data:\n{}", s.trim_end())
        }
    }
}

#[test]
fn templates_render_like_the_reference() {
    let Some(reference) = reference_kubeseal() else {
        return;
    };
    let ours = assert_cmd::cargo::cargo_bin("kubeseal");
    let corpus_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/templates/corpus.yaml");
    let corpus: Corpus = serde_yaml::from_str(&std::fs::read_to_string(&corpus_path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", corpus_path.display()));
    let mut names = std::collections::HashSet::new();
    for e in &corpus.entries {
        assert!(names.insert(e.name.clone()), "duplicate entry {}", e.name);
        shape_patterns(e); // every regex compiles
    }

    let started = Instant::now();
    let key_file = fixture("key-2048.pem");
    let key = PrivateKey::from_pem(&std::fs::read(&key_file).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let defaults = corpus.defaults.clone();
    let filter = std::env::var("TEMPLATE_DIFF_FILTER").unwrap_or_default();
    let cases: Vec<Case> = corpus
        .entries
        .into_iter()
        .filter(|e| e.name.contains(&filter))
        .enumerate()
        .map(|(i, entry)| {
            let file = dir.path().join(format!("{i:04}.json"));
            let doc = sealed_secret(&entry, &defaults, &key);
            std::fs::write(&file, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
            Case { entry, file }
        })
        .collect();

    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Outcome, Outcome)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(case) = cases.get(i) else { break };
                let a = run(&ours, &home, &key_file, &case.file);
                let b = run(&reference, &home, &key_file, &case.file);
                results.lock().unwrap().push((i, a, b));
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|r| r.0);

    let list_all = std::env::var("TEMPLATE_DIFF_ALL").as_deref() == Ok("1");
    let mut report = String::new();
    let (mut mismatches, mut corpus_errors, mut ref_refusals) = (0, 0, 0);
    for (i, ours, reference) in &results {
        let entry = &cases[*i].entry;
        ref_refusals += usize::from(matches!(reference, Outcome::Refused(_)));
        let mut problems = Vec::new();
        if let Some(why) = check_reference(entry, reference) {
            corpus_errors += 1;
            problems.push(format!("CORPUS: {why}"));
        }
        if let Some(why) = compare(entry, ours, reference) {
            mismatches += 1;
            problems.push(format!("MISMATCH: {why}"));
        }
        if problems.is_empty() {
            if !list_all {
                continue;
            }
            problems.push("agree".into());
        }
        let _ = writeln!(report, "=== {} (entry {i})", entry.name);
        for p in problems {
            let _ = writeln!(report, "{p}");
        }
        for (k, t) in templates(entry) {
            match t {
                Some(t) => {
                    let _ = writeln!(report, "template {k}: {t:?}");
                }
                None => {
                    let _ = writeln!(report, "template {k}: null");
                }
            }
        }
        let _ = writeln!(report, "ours:      {}", show(ours));
        let _ = writeln!(report, "reference: {}", show(reference));
        let _ = writeln!(report);
    }
    let elapsed = started.elapsed();
    let summary = format!(
        "{} entries in {:.1} s ({THREADS} threads): {} agree, {mismatches} mismatches, \
         {corpus_errors} corpus errors; the reference refused {ref_refusals}",
        results.len(),
        elapsed.as_secs_f64(),
        results.len() - mismatches,
    );
    let report_path = target_dir().join("template-differential.txt");
    let _ = std::fs::create_dir_all(target_dir());
    std::fs::write(&report_path, format!("{summary}\n\n{report}")).unwrap();
    eprintln!("{summary}\nreport: {}", report_path.display());
    assert!(
        mismatches == 0 && corpus_errors == 0,
        "{summary}; see {}",
        report_path.display()
    );
}
