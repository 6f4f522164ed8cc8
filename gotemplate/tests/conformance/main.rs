//! Conformance with Go, no Sealed Secrets binary needed: every template of
//! the differential corpus (`cli/tests/fixtures/templates/corpus.yaml`),
//! rendered as the controller does, and every record of the builder API's
//! corpus (`api-corpus.yaml`: options, delimiters, sets of templates, serde
//! data), rendered by this crate and by a small Go program
//! (`tests/conformance/go/`: Go's text/template with sprig v3.3.0 and
//! semver v3.4.0, as the reference controller links them). They agree when
//! the bytes are the same (or both match the entry's `shape`, for random and
//! time-dependent output), or when both fail.
//!
//! With a Cargo feature off, its functions are left out of Go's map too, so
//! a record naming one fails both ways; with the default features every
//! function of Go's map must be ours. The Go program is built with `go`
//! (needs sprig's modules: module cache or proxy) unless
//! `GOTEMPLATE_CONFORMANCE_GO` names a built one; without Go the run says it
//! skipped, unless `GOTEMPLATE_CONFORMANCE=require`.
//!
//! Mismatches and differing error texts are listed in
//! `target/tmp/gotemplate-conformance.txt`. A positional argument that is
//! not part of this test's name filters records by `entry/key` (as
//! `cargo test -p go-text-template --test conformance -- sprig-`, or `-- api/`
//! for the API corpus). `GOTEMPLATE_CONFORMANCE_TRACE=1` prints each
//! record's label before Go renders it (to find one that stops Go).
//!
//! `--bench [--bench-ms N]` times every record both ways instead (release
//! build: `cargo test --release -p go-text-template --test conformance -- --bench`,
//! see docs/benchmarks.md) and writes `target/tmp/gotemplate-bench.md`.

mod api;
mod bench;
mod corpus;
mod go;

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use go_text_template::{Limits, Template};

use corpus::{Case, How};

const NAME: &str = "corpus_renders_as_go";

/// Every sprig function is compiled in (the default features).
const ALL_SPRIG: bool = cfg!(all(
    feature = "sprig",
    feature = "sprig-crypto",
    feature = "sprig-regex",
    feature = "sprig-time"
));

struct Args {
    filter: String,
    bench_ms: Option<u32>,
    list: bool,
}

fn args() -> Result<Args, String> {
    let mut args = Args {
        filter: String::new(),
        bench_ms: None,
        list: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--bench" => args.bench_ms = Some(args.bench_ms.unwrap_or(2)),
            "--bench-ms" => {
                let ms = it.next().ok_or("--bench-ms needs a number of ms")?;
                args.bench_ms = Some(ms.parse().map_err(|e| format!("--bench-ms {ms}: {e}"))?);
            }
            "--list" => args.list = true,
            // libtest's options with a value, passed on by cargo test.
            "--test-threads" | "--skip" | "--format" | "--color" | "--logfile" | "-Z" => {
                it.next();
            }
            flag if flag.starts_with('-') => {}
            // cargo test's filter naming this test runs it whole.
            filter if NAME.contains(filter) => {}
            filter => args.filter = filter.to_string(),
        }
    }
    Ok(args)
}

fn render(case: &Case) -> Result<Vec<u8>, String> {
    let How::Controller(data) = &case.how else {
        return api::render(&case.record);
    };
    // The controller's bounds (api's TEMPLATES).
    let limits = Limits {
        max_output: 1 << 20,
        max_memory: 16 << 20,
        deadline: Some(Instant::now() + Duration::from_secs(5)),
        ..Limits::default()
    };
    // As the controller parses (api's GoTemplates).
    Template::new(&case.record.name)
        .with_sprig()
        .value_free_errors(true)
        .parse(&case.record.template)
        .and_then(|t| t.execute_strings(data, &limits))
        .map_err(|e| e.to_string())
}

/// Whether this build's sprig map has `name` (a builtin such as `slice`,
/// which sprig's replaces, does not count).
fn defined(name: &str) -> bool {
    go_text_template::sprig().get(name).is_some()
}

/// `None` when the two agree.
fn disagreement(
    case: &Case,
    ours: &Result<Vec<u8>, String>,
    go: &Result<Vec<u8>, String>,
) -> Option<String> {
    match (ours, go) {
        (Err(_), Err(_)) => None,
        (Ok(a), Ok(b)) => match &case.shape {
            None if a == b => None,
            None => Some("the outputs differ".into()),
            Some(re) if re.is_match(a) && re.is_match(b) => None,
            Some(re) => Some(format!("an output does not match the shape {re}")),
        },
        (Ok(_), Err(_)) => Some("Go failed, ours rendered".into()),
        (Err(_), Ok(_)) => Some("ours failed, Go rendered".into()),
    }
}

fn show(result: &Result<Vec<u8>, String>) -> String {
    match result {
        Ok(bytes) => format!("{:?}", String::from_utf8_lossy(bytes)),
        Err(e) => format!("error: {e}"),
    }
}

fn run() -> Result<bool, String> {
    let args = args()?;
    if args.list {
        println!("{NAME}: test");
        return Ok(true);
    }
    // Go's Local is UTC under TZ=UTC, as the reference controller runs; set
    // before anything reads it (this is our own process).
    std::env::set_var("TZ", "UTC");
    let Some(program) = go::program()? else {
        if std::env::var("GOTEMPLATE_CONFORMANCE").as_deref() == Ok("require") {
            return Err("go is not on PATH and GOTEMPLATE_CONFORMANCE=require".into());
        }
        println!(
            "{NAME}: skipped: go is not on PATH (GOTEMPLATE_CONFORMANCE_GO names a built program)"
        );
        return Ok(true);
    };

    let undefined: Vec<String> = go::function_names(&program)?
        .into_iter()
        .filter(|name| !defined(name))
        .collect();
    if ALL_SPRIG && !undefined.is_empty() {
        return Err(format!(
            "with every feature on, Go's functions {undefined:?} are not ours"
        ));
    }

    let corpus_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../cli/tests/fixtures/templates/corpus.yaml");
    let api_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/api-corpus.yaml");
    let mut cases = corpus::load(&corpus_path, &undefined)?;
    cases.extend(api::load(&api_path, &undefined)?);
    let cases: Vec<Case> = cases
        .into_iter()
        .filter(|c| c.label.contains(&args.filter))
        .collect();

    let started = Instant::now();
    let mut session = go::Session::start(&program, args.bench_ms)?;
    let mut report = String::new();
    let mut timings = Vec::new();
    let (mut mismatches, mut texts_differ, mut both_failed, mut known) = (0, 0, 0, 0);
    // Each entry: marked `refuse`, and whether Go refused it (some template
    // failed), for the corpus self-check.
    let mut entries = std::collections::BTreeMap::<&str, (bool, bool)>::new();
    for case in &cases {
        if std::env::var_os("GOTEMPLATE_CONFORMANCE_TRACE").is_some() {
            eprintln!("{}", case.label);
        }
        let theirs = session.render(&case.record)?;
        let ours = render(case);
        if let Some(ms) = args.bench_ms {
            let rust_ns = bench::ns_per_render(Duration::from_millis(ms.into()), || {
                let _ = render(case);
            });
            timings.push(bench::Timing {
                label: case.label.clone(),
                go_ns: theirs.ns_per_render,
                rust_ns,
            });
        }
        if let How::Controller(_) = case.how {
            entries.entry(&case.entry).or_insert((case.refuse, false)).1 |=
                theirs.rendered.is_err();
        }
        let differs = disagreement(case, &ours, &theirs.rendered);
        if let Some(reason) = &case.differs {
            // A deliberate difference: it must still differ.
            if differs.is_some() {
                known += 1;
                let _ = writeln!(
                    report,
                    "known difference {} ({reason}):\n  ours: {}\n  go:   {}",
                    case.label,
                    show(&ours),
                    show(&theirs.rendered)
                );
            } else {
                mismatches += 1;
                let _ = writeln!(
                    report,
                    "MISMATCH {}: marked as differing ({reason}) but agrees with Go: drop the mark",
                    case.label
                );
            }
            continue;
        }
        if let Some(why) = differs {
            mismatches += 1;
            let _ = writeln!(
                report,
                "MISMATCH {}: {why}\n  template: {:?}\n  ours: {}\n  go:   {}",
                case.label,
                case.record.template,
                show(&ours),
                show(&theirs.rendered)
            );
        } else if let (Err(a), Err(b)) = (&ours, &theirs.rendered) {
            both_failed += 1;
            if a != b {
                texts_differ += 1;
                let _ = writeln!(
                    report,
                    "error text differs {}:\n  ours: {a}\n  go:   {b}",
                    case.label
                );
            }
        }
    }
    drop(session);

    // The corpus' own claim, checked when Go has every function: the
    // reference refuses exactly the entries marked `refuse`.
    let mut corpus_errors = 0;
    if undefined.is_empty() {
        for (entry, (marked, refused)) in &entries {
            if marked != refused {
                corpus_errors += 1;
                let verb = if *refused {
                    "refused it"
                } else {
                    "rendered it"
                };
                let _ = writeln!(
                    report,
                    "CORPUS {entry}: marked refuse: {marked}, but Go {verb}"
                );
            }
        }
    }

    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let report_path = dir.join("gotemplate-conformance.txt");
    std::fs::write(&report_path, &report).map_err(|e| format!("{}: {e}", report_path.display()))?;
    println!(
        "{NAME}: {} records in {:.1?}: {} agree ({both_failed} failing both ways, {texts_differ} of them with \
         another error text), {mismatches} differ, {known} differ as documented, {corpus_errors} corpus errors; \
         {} of Go's functions left out by this build's features; report: {}",
        cases.len(),
        started.elapsed(),
        cases.len() - mismatches - known,
        undefined.len(),
        report_path.display()
    );
    if args.bench_ms.is_some() {
        let summary = bench::summary(&timings);
        let bench_path = dir.join("gotemplate-bench.md");
        std::fs::write(&bench_path, &summary)
            .map_err(|e| format!("{}: {e}", bench_path.display()))?;
        println!("\n{summary}\n(written to {})", bench_path.display());
    }
    if mismatches + corpus_errors > 0 {
        eprint!("{report}");
    }
    println!(
        "conformance: {} passed, {} failed",
        cases.len() - mismatches,
        mismatches + corpus_errors
    );
    Ok(mismatches + corpus_errors == 0)
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("{NAME}: {e}");
            ExitCode::FAILURE
        }
    }
}
