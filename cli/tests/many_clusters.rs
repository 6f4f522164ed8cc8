//! Several certificates in one run (`--cert NAME=FILE`, repeated): one
//! SealedSecret per cluster, each opened by its own key only, files written
//! all or none. Real binary, no cluster: three clusters' key pairs are the
//! two fixtures and one generated here.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use base64::Engine as _;
use common::{assert_refused, fixture, kubeseal, stderr, stdout, SECRET_YAML};
use sealed_secrets_api::crypto::{Certificate, CertificateParams, PrivateKey, Scope};

const NAMES: [&str; 3] = ["oslo", "bergen", "tromso"];

/// The third cluster's key and certificate (PEM), made once per test binary.
fn generated() -> &'static (String, String) {
    static PAIR: OnceLock<(String, String)> = OnceLock::new();
    PAIR.get_or_init(|| {
        let key = PrivateKey::generate(2048).unwrap();
        let cert = Certificate::self_signed(&key, &CertificateParams::default()).unwrap();
        (key.to_pkcs1_pem().unwrap().to_string(), cert.to_pem())
    })
}

/// A temporary HOME holding `certs/` and `keys/` of the three clusters.
struct Clusters {
    home: tempfile::TempDir,
}

impl Clusters {
    fn new() -> Self {
        let home = tempfile::tempdir().unwrap();
        for dir in ["certs", "keys"] {
            std::fs::create_dir(home.path().join(dir)).unwrap();
        }
        let (key, cert) = generated();
        let pems = [
            (fixture("key-2048.pem"), fixture("cert-2048.pem")),
            (fixture("key-4096.pem"), fixture("cert-4096.pem")),
        ];
        for (name, (key_file, cert_file)) in NAMES.iter().zip(&pems) {
            std::fs::copy(key_file, home.path().join(format!("keys/{name}.pem"))).unwrap();
            std::fs::copy(cert_file, home.path().join(format!("certs/{name}.pem"))).unwrap();
        }
        std::fs::write(home.path().join("keys/tromso.pem"), key).unwrap();
        std::fs::write(home.path().join("certs/tromso.pem"), cert).unwrap();
        Self { home }
    }

    fn root(&self) -> &Path {
        self.home.path()
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.root().join(relative)
    }

    fn cert(&self, name: &str) -> String {
        self.path(&format!("certs/{name}.pem"))
            .to_string_lossy()
            .into_owned()
    }

    fn key(&self, name: &str) -> String {
        self.path(&format!("keys/{name}.pem"))
            .to_string_lossy()
            .into_owned()
    }

    /// `--cert oslo=... --cert bergen=... --cert tromso=...`
    fn cert_args(&self) -> Vec<String> {
        NAMES
            .iter()
            .flat_map(|n| ["--cert".to_owned(), format!("{n}={}", self.cert(n))])
            .collect()
    }

    /// `kubeseal` run in the temporary HOME.
    fn kubeseal(&self) -> assert_cmd::Command {
        let mut cmd = kubeseal(self.root());
        cmd.current_dir(self.root());
        cmd
    }

    /// Seals SECRET_YAML with every certificate and `extra` flags.
    fn seal(&self, extra: &[&str]) -> Output {
        self.kubeseal()
            .args(self.cert_args())
            .args(extra)
            .write_stdin(SECRET_YAML)
            .output()
            .unwrap()
    }

    /// `--recovery-unseal` of `sealed` with the key of cluster `name`.
    fn unseal(&self, name: &str, sealed: &[u8]) -> Output {
        self.kubeseal()
            .args(["--recovery-unseal", "--recovery-private-key"])
            .arg(self.key(name))
            .args(["-o", "yaml"])
            .write_stdin(sealed.to_vec())
            .output()
            .unwrap()
    }

    /// `sealed` opens with `owner`'s key (to SECRET_YAML's values) and is
    /// refused by the other clusters' keys.
    fn assert_only_opens_with(&self, owner: &str, sealed: &[u8]) {
        for name in NAMES {
            let out = self.unseal(name, sealed);
            if name == owner {
                assert!(out.status.success(), "{owner}: {}", stderr(&out));
                let secret = stdout(&out);
                assert!(secret.contains("pass: aHVudGVyMg=="), "{secret}");
                assert!(secret.contains("user: YWRtaW4="), "{secret}");
            } else {
                assert_refused(&out, "the key given does not open it");
            }
        }
    }
}

/// Every file below `dir` whose name starts with `.kubeseal-`.
fn leftovers(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(leftovers(&path));
        } else if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(".kubeseal-"))
        {
            found.push(path);
        }
    }
    found
}

/// The YAML documents of a stream, each with a `---` line as kubeseal
/// writes them, and the comment lines seen before each.
fn documents(stream: &str) -> Vec<(Vec<String>, String)> {
    let mut docs = Vec::new();
    let mut comments = Vec::new();
    for chunk in stream.split_inclusive('\n') {
        if chunk.starts_with('#') {
            comments.push(chunk.trim_end().to_owned());
        } else if chunk == "---\n" {
            docs.push((std::mem::take(&mut comments), chunk.to_owned()));
        } else {
            docs.last_mut()
                .expect("a document starts with ---")
                .1
                .push_str(chunk);
        }
    }
    assert!(comments.is_empty(), "comments after the last document");
    docs
}

/// A document without its ciphertexts: what a single run prints too.
fn without_ciphertexts(doc: &str) -> serde_json::Value {
    let mut value: serde_json::Value = serde_yaml::from_str(doc).unwrap();
    for item in value["spec"]["encryptedData"]
        .as_object_mut()
        .unwrap()
        .values_mut()
    {
        *item = serde_json::Value::Null;
    }
    value
}

#[test]
fn several_certs_to_stdout_make_one_yaml_stream_in_cert_order() {
    let c = Clusters::new();
    let out = c.seal(&["-o", "yaml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let docs = documents(&stdout(&out));
    assert_eq!(docs.len(), 3);
    let single = c
        .kubeseal()
        .args(["--cert", &c.cert("oslo"), "-o", "yaml"])
        .write_stdin(SECRET_YAML)
        .output()
        .unwrap();
    let single = stdout(&single);
    for ((comments, doc), name) in docs.iter().zip(NAMES) {
        assert_eq!(comments, &[format!("# cluster: {name}")]);
        assert_eq!(without_ciphertexts(doc), without_ciphertexts(&single));
        c.assert_only_opens_with(name, doc.as_bytes());
    }
}

#[test]
fn several_certs_to_stdout_in_json_make_one_list() {
    let c = Clusters::new();
    let out = c.seal(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list["apiVersion"], "v1");
    assert_eq!(list["kind"], "List");
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    for (item, name) in items.iter().zip(NAMES) {
        assert_eq!(item["kind"], "SealedSecret");
        c.assert_only_opens_with(name, item.to_string().as_bytes());
    }
}

#[test]
fn w_with_cluster_writes_one_file_per_cluster_each_for_its_key_only() {
    let c = Clusters::new();
    for name in NAMES {
        std::fs::create_dir_all(c.path(&format!("out/{name}"))).unwrap();
    }
    let out = c.seal(&["-w", "out/{cluster}/db.yaml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    for name in NAMES {
        let file = std::fs::read(c.path(&format!("out/{name}/db.yaml"))).unwrap();
        assert!(file.starts_with(b"---\napiVersion: bitnami.com/v1alpha1\n"));
        c.assert_only_opens_with(name, &file);
    }
    assert_eq!(leftovers(c.root()), Vec::<PathBuf>::new());
}

#[test]
fn one_named_cert_substitutes_cluster_and_otherwise_prints_as_a_single_run() {
    let c = Clusters::new();
    std::fs::create_dir(c.path("out")).unwrap();
    let out = c
        .kubeseal()
        .args(["--cert", &format!("oslo={}", c.cert("oslo"))])
        .args(["-w", "out/{cluster}.json"])
        .write_stdin(SECRET_YAML)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let file = std::fs::read(c.path("out/oslo.json")).unwrap();
    assert!(file.starts_with(b"{\n"));
    c.assert_only_opens_with("oslo", &file);
    // To stdout: no `# cluster:` line, as a plain --cert.
    let out = c
        .kubeseal()
        .args(["--cert", &format!("oslo={}", c.cert("oslo")), "-o", "yaml"])
        .write_stdin(SECRET_YAML)
        .output()
        .unwrap();
    assert!(
        stdout(&out).starts_with("---\napiVersion:"),
        "{}",
        stdout(&out)
    );
}

/// The reference keeps the last of two `--cert` (pflag); ours seals for
/// both (README, Compatibility notes).
#[test]
fn a_repeated_cert_adds_a_certificate_where_the_reference_keeps_the_last() {
    let c = Clusters::new();
    let out = c
        .kubeseal()
        .args(["--cert", &c.cert("oslo"), "--cert", &c.cert("bergen")])
        .args(["-o", "yaml"])
        .write_stdin(SECRET_YAML)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let docs = documents(&stdout(&out));
    let names: Vec<_> = docs.iter().map(|(c, _)| c.join("")).collect();
    assert_eq!(names, ["# cluster: oslo", "# cluster: bergen"]);
    c.assert_only_opens_with("oslo", docs[0].1.as_bytes());
    c.assert_only_opens_with("bergen", docs[1].1.as_bytes());
}

/// SEALED_SECRETS_CERT stays one location (URLs may hold commas): no split.
#[test]
fn the_environment_names_one_certificate() {
    let c = Clusters::new();
    let odd = c.path("certs/a,b.pem");
    std::fs::copy(c.cert("oslo"), &odd).unwrap();
    let out = c
        .kubeseal()
        .env("SEALED_SECRETS_CERT", &odd)
        .args(["-o", "yaml"])
        .write_stdin(SECRET_YAML)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stdout(&out).contains("# cluster"));
    c.assert_only_opens_with("oslo", &out.stdout);
}

#[test]
fn refusals_say_what_to_do() {
    let c = Clusters::new();
    std::fs::create_dir(c.path("clusters")).unwrap();
    assert_refused(
        &c.seal(&["-w", "clusters/app.yaml"]),
        "-w clusters/app.yaml names one file but 3 certificates were given (oslo, bergen, tromso): put {cluster} in the path, e.g. -w 'clusters/{cluster}/app.yaml'",
    );
    assert_refused(
        &c.seal(&["-w", "clusters/{cluster}/{name}.yaml"]),
        "unknown placeholder {name} in -w clusters/{cluster}/{name}.yaml: only {cluster} is replaced",
    );
    let dup = c
        .kubeseal()
        .args(["--cert", &c.cert("oslo"), "--cert"])
        .arg(format!("oslo={}", c.cert("bergen")))
        .write_stdin(SECRET_YAML)
        .output()
        .unwrap();
    assert_refused(&dup, "2 certificates are named \"oslo\"");
    std::fs::copy(c.cert("oslo"), c.path("certs/oslo.prod.pem")).unwrap();
    let bad = c
        .kubeseal()
        .args(["--cert", &c.cert("bergen"), "--cert", "certs/oslo.prod.pem"])
        .write_stdin(SECRET_YAML)
        .output()
        .unwrap();
    assert_refused(
        &bad,
        "--cert certs/oslo.prod.pem gives no cluster name (\"oslo.prod\" is not one: use letters, digits, '-' and '_'): name it, e.g. --cert oslo=certs/oslo.prod.pem",
    );
    // An invalid NAME= is no name: the whole text is a file, and the error says how to name.
    let odd = c
        .kubeseal()
        .args(["--cert", "oslo.prod=certs/oslo.pem"])
        .write_stdin(SECRET_YAML)
        .output()
        .unwrap();
    assert_refused(
        &odd,
        "cannot read certificate file \"oslo.prod=certs/oslo.pem\" (for a cluster named \"oslo.prod\", NAME= takes letters, digits, '-' and '_')",
    );
    for mode in [
        "--fetch-cert",
        "--validate",
        "--recovery-unseal",
        "--open-ui",
    ] {
        assert_refused(
            &c.seal(&[mode]),
            &format!("{mode} works with one cluster, but 3 certificates were given (--cert): run it once per cluster"),
        );
    }
    let no_cert = c
        .kubeseal()
        .args(["-w", "clusters/{cluster}.yaml"])
        .write_stdin(SECRET_YAML)
        .output()
        .unwrap();
    assert_refused(
        &no_cert,
        "{cluster} appears in -w but no certificate names a cluster: pass --cert NAME=FILE, once per cluster",
    );
    assert_eq!(leftovers(c.root()), Vec::<PathBuf>::new());
    assert_eq!(std::fs::read_dir(c.path("clusters")).unwrap().count(), 0);
}

#[test]
fn a_certificate_error_names_its_cluster_and_nothing_is_written() {
    let c = Clusters::new();
    for name in NAMES {
        std::fs::create_dir_all(c.path(&format!("out/{name}"))).unwrap();
    }
    let out = c
        .kubeseal()
        .args(["--cert", &format!("oslo={}", c.cert("oslo"))])
        .args(["--cert", "bergen=certs/missing.pem"])
        .args(["-w", "out/{cluster}/db.yaml"])
        .write_stdin(SECRET_YAML)
        .output()
        .unwrap();
    assert_refused(
        &out,
        "cannot use the certificate of cluster bergen (certs/missing.pem): cannot read certificate file",
    );
    assert!(!c.path("out/oslo/db.yaml").exists());
}

/// Contents and modification times of the files below `out/`.
fn snapshot(c: &Clusters) -> Vec<(PathBuf, Vec<u8>, std::time::SystemTime)> {
    ["out/oslo/db.yaml", "out/bergen/db.yaml"]
        .iter()
        .map(|f| {
            let path = c.path(f);
            let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
            (path.clone(), std::fs::read(&path).unwrap(), modified)
        })
        .collect()
}

#[test]
fn all_or_none_a_failing_third_file_leaves_the_others_untouched() {
    let c = Clusters::new();
    for name in ["oslo", "bergen"] {
        std::fs::create_dir_all(c.path(&format!("out/{name}"))).unwrap();
        std::fs::write(
            c.path(&format!("out/{name}/db.yaml")),
            format!("old {name}\n"),
        )
        .unwrap();
    }
    let before = snapshot(&c);
    // tromso's folder is missing.
    let out = c.seal(&["-w", "out/{cluster}/db.yaml"]);
    assert_refused(
        &out,
        "directory out/tromso does not exist (cluster tromso): create it first; nothing was written",
    );
    assert_eq!(snapshot(&c), before);
    assert_eq!(leftovers(c.root()), Vec::<PathBuf>::new());
    // tromso's file is a non-empty directory (fails for root too).
    std::fs::create_dir_all(c.path("out/tromso/db.yaml/keep")).unwrap();
    let out = c.seal(&["-w", "out/{cluster}/db.yaml"]);
    assert_refused(
        &out,
        "out/tromso/db.yaml is a directory or special file, not a file (cluster tromso)",
    );
    assert_eq!(snapshot(&c), before);
    assert_eq!(leftovers(c.root()), Vec::<PathBuf>::new());
    // Two expansions that are one file.
    std::fs::create_dir_all(c.path("out/x")).unwrap();
    let out = c.seal(&["-w", "out/{cluster}/../db.yaml"]);
    assert_refused(
        &out,
        "cluster oslo and cluster bergen would both be written to out/bergen/../db.yaml",
    );
    assert_eq!(snapshot(&c), before);
}

#[test]
fn merge_into_each_clusters_file_with_its_key() {
    let c = Clusters::new();
    for name in NAMES {
        std::fs::create_dir_all(c.path(&format!("out/{name}"))).unwrap();
    }
    let out = c.seal(&["-w", "out/{cluster}/db.yaml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let before: Vec<serde_json::Value> = NAMES
        .iter()
        .map(|n| {
            serde_yaml::from_slice(&std::fs::read(c.path(&format!("out/{n}/db.yaml"))).unwrap())
                .unwrap()
        })
        .collect();
    let update = "apiVersion: v1\nkind: Secret\nmetadata: {name: ignored, namespace: ignored}\nstringData: {token: abc123}\n";
    let out = c
        .kubeseal()
        .args(c.cert_args())
        .args(["--merge-into", "out/{cluster}/db.yaml"])
        .write_stdin(update)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    for (name, before) in NAMES.iter().zip(&before) {
        let file = std::fs::read(c.path(&format!("out/{name}/db.yaml"))).unwrap();
        let after: serde_json::Value = serde_yaml::from_slice(&file).unwrap();
        let data = &after["spec"]["encryptedData"];
        // Old items byte-identical, the new one added.
        assert_eq!(data["user"], before["spec"]["encryptedData"]["user"]);
        assert_eq!(data["pass"], before["spec"]["encryptedData"]["pass"]);
        assert!(data["token"].is_string());
        assert_eq!(after["metadata"], before["metadata"]);
        // Sealed for the file's name/namespace with this cluster's key.
        c.assert_only_opens_with(name, &file);
        let opened = stdout(&c.unseal(name, &file));
        assert!(opened.contains("token: YWJjMTIz"), "{opened}");
    }
    // A missing file of one cluster: refused, nothing changed.
    std::fs::remove_file(c.path("out/tromso/db.yaml")).unwrap();
    let oslo = std::fs::read(c.path("out/oslo/db.yaml")).unwrap();
    let out = c
        .kubeseal()
        .args(c.cert_args())
        .args(["--merge-into", "out/{cluster}/db.yaml"])
        .write_stdin(update)
        .output()
        .unwrap();
    assert_refused(
        &out,
        "--merge-into: out/tromso/db.yaml does not exist (cluster tromso): seal it first with -w",
    );
    assert_eq!(std::fs::read(c.path("out/oslo/db.yaml")).unwrap(), oslo);
}

/// The raw ciphertext opens with `owner`'s key only.
fn assert_raw_opens_only_with(c: &Clusters, owner: &str, encoded: &str) {
    let ciphertext = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    let label = Scope::Strict.label("team", "app");
    for name in NAMES {
        let key = PrivateKey::from_pem(&std::fs::read(c.key(name)).unwrap()).unwrap();
        let opened = sealed_secrets_api::crypto::open(&key, &ciphertext, &label);
        if name == owner {
            assert_eq!(&opened.unwrap()[..], b"s3cret");
        } else {
            assert!(opened.is_err(), "{owner}'s value opens with {name}'s key");
        }
    }
}

#[test]
fn raw_prints_one_line_per_cluster_or_writes_bare_files() {
    let c = Clusters::new();
    let raw = ["--raw", "--namespace", "team", "--name", "app"];
    let out = c
        .kubeseal()
        .args(c.cert_args())
        .args(raw)
        .write_stdin("s3cret")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.ends_with('\n'));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    for (line, name) in lines.iter().zip(NAMES) {
        let (label, encoded) = line.split_once(": ").unwrap();
        assert_eq!(label, name);
        assert_raw_opens_only_with(&c, name, encoded);
    }
    std::fs::create_dir(c.path("raw")).unwrap();
    let out = c
        .kubeseal()
        .args(c.cert_args())
        .args(raw)
        .args(["-w", "raw/{cluster}.txt"])
        .write_stdin("s3cret")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    for name in NAMES {
        let encoded = std::fs::read_to_string(c.path(&format!("raw/{name}.txt"))).unwrap();
        assert!(!encoded.contains('\n'));
        assert_raw_opens_only_with(&c, name, &encoded);
    }
    // One certificate: bare base64, no newline, as the reference.
    let out = c
        .kubeseal()
        .args(["--cert", &c.cert("oslo")])
        .args(raw)
        .write_stdin("s3cret")
        .output()
        .unwrap();
    let single = stdout(&out);
    assert!(!single.contains(['\n', ':']), "{single}");
    assert_raw_opens_only_with(&c, "oslo", &single);
}

#[test]
fn re_encrypt_copies_a_sealed_secret_to_other_clusters_offline() {
    let c = Clusters::new();
    std::fs::create_dir(c.path("clusters")).unwrap();
    for name in NAMES {
        std::fs::create_dir(c.path(&format!("clusters/{name}"))).unwrap();
    }
    let sealed = c
        .kubeseal()
        .args(["--cert", &c.cert("oslo"), "-w", "clusters/oslo/db.yaml"])
        .write_stdin(SECRET_YAML)
        .output()
        .unwrap();
    assert!(sealed.status.success(), "{}", stderr(&sealed));
    let out = c
        .kubeseal()
        .args(["--re-encrypt", "--recovery-private-key", &c.key("oslo")])
        .args(["--cert", &format!("bergen={}", c.cert("bergen"))])
        .args(["--cert", &format!("tromso={}", c.cert("tromso"))])
        .args([
            "-f",
            "clusters/oslo/db.yaml",
            "-w",
            "clusters/{cluster}/db.yaml",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    for name in ["bergen", "tromso"] {
        let file = std::fs::read(c.path(&format!("clusters/{name}/db.yaml"))).unwrap();
        c.assert_only_opens_with(name, &file);
        let text = String::from_utf8(file).unwrap();
        assert!(!text.contains("hunter2") && !text.contains("aHVudGVyMg=="));
    }
    // The source stays as it was: it is not a target.
    c.assert_only_opens_with(
        "oslo",
        &std::fs::read(c.path("clusters/oslo/db.yaml")).unwrap(),
    );

    let refused = |args: &[&str]| {
        c.kubeseal()
            .args(c.cert_args())
            .args(["-f", "clusters/oslo/db.yaml"])
            .args(args)
            .output()
            .unwrap()
    };
    assert_refused(
        &refused(&["--re-encrypt", "-w", "clusters/{cluster}/db.yaml"]),
        "--re-encrypt with several certificates works without the cluster only: pass --recovery-private-key",
    );
    assert_refused(
        &refused(&["--re-encrypt", "--recovery-private-key", &c.key("oslo")]),
        "--re-encrypt with 3 certificates writes one file per cluster: pass -w with {cluster} in the path",
    );
    assert_refused(
        &refused(&[
            "--re-encrypt",
            "--recovery-private-key",
            &c.key("bergen"),
            "-w",
            "x/{cluster}.yaml",
        ]),
        "none of the keys given (--recovery-private-key) opens it",
    );
}
