//! Shared helpers: run the real `kubeseal` binary in a clean environment.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../crypto/tests/fixtures")
}

pub fn fixture(name: &str) -> String {
    fixtures().join(name).to_string_lossy().into_owned()
}

/// `kubeseal` with no kubeconfig, no SEALED_SECRETS_* and a private HOME, so
/// the developer's own cluster settings never leak into a test.
pub fn kubeseal(home: &Path) -> Command {
    let mut cmd = Command::cargo_bin("kubeseal").expect("kubeseal binary is built");
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("SEALED_SECRETS_") {
            cmd.env_remove(&key);
        }
    }
    cmd.env_remove("KUBECONFIG").env("HOME", home);
    cmd
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("utf-8 stdout")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("utf-8 stderr")
}

/// Asserts a refusal: exit 1, `error: ` with `needle` on stderr, nothing on stdout.
pub fn assert_refused(output: &Output, needle: &str) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(1), "stderr: {err}");
    assert!(err.starts_with("error: "), "stderr: {err}");
    assert!(err.contains(needle), "expected {needle:?} in: {err}");
    assert!(output.stdout.is_empty(), "stdout: {}", stdout(output));
    assert!(!err.contains("panicked"), "{err}");
}

pub const SECRET_YAML: &str = "\
apiVersion: v1
kind: Secret
metadata:
  name: app
  namespace: team
  labels: {tier: web}
type: Opaque
data:
  user: YWRtaW4=
stringData:
  pass: hunter2
";

/// The reference kubeseal: `$KUBESEAL_REFERENCE`, else where
/// scripts/install-tools puts it. `None` when absent, unless
/// `REQUIRE_REFERENCE=1` (CI), which turns absence into a failure.
pub fn reference_kubeseal() -> Option<PathBuf> {
    let path = match std::env::var_os("KUBESEAL_REFERENCE") {
        Some(p) => PathBuf::from(p),
        None => {
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/install-tools");
            let out = std::process::Command::new(script)
                .arg("--print-ref-dir")
                .output()
                .ok()?;
            PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("kubeseal")
        }
    };
    if path.is_file() {
        return Some(path);
    }
    if std::env::var("REQUIRE_REFERENCE").as_deref() == Ok("1") {
        panic!("REQUIRE_REFERENCE=1 but the reference kubeseal is not at {}: run scripts/install-tools", path.display());
    }
    eprintln!(
        "SKIPPED: reference kubeseal not found at {} (run scripts/install-tools)",
        path.display()
    );
    None
}

/// Runs the reference kubeseal with `args` and `stdin`, with a private HOME
/// and no kubeconfig, as `kubeseal()` runs ours.
pub fn run_reference(reference: &Path, home: &Path, args: &[&str], stdin: &[u8]) -> Output {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(reference)
        .args(args)
        .env("HOME", home)
        .env_remove("KUBECONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("reference kubeseal starts");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(stdin)
        .expect("write stdin");
    child.wait_with_output().expect("reference kubeseal runs")
}

/// A repository with a `.sealed-secrets.yaml` for the layout tests: folders
/// of clusters a, b and c, a break-glass copy area, and their certificates.
pub mod layout_repo {
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};
    use std::process::Output;

    use sealed_secrets_api::crypto::{Certificate, CertificateParams, PrivateKey};

    use super::*;

    pub const LAYOUT: &str = "\
# which certificate seals which folder
version: 1
clusters:
  a:
    cert: certs/a.pem
  b:
    cert: certs/b.pem
  c:
    cert: certs/c.pem
  safe:
    cert: certs/safe.pem
    copy_to: break-glass/{path}
creation_rules:
  - path_regex: ^clusters/a/
    cluster: a
  - path_regex: ^clusters/b/
    cluster: b
  - path_regex: ^clusters/c/
    cluster: c
";

    /// A key pair: the private key's PEM file and the certificate's PEM text.
    pub struct Pair {
        pub key: PathBuf,
        pub cert: String,
        pub fingerprint: String,
    }

    pub fn fixture_pair(bits: u32) -> Pair {
        let key = PathBuf::from(fixture(&format!("key-{bits}.pem")));
        let private = PrivateKey::from_pem(&std::fs::read(&key).unwrap()).unwrap();
        Pair {
            cert: std::fs::read_to_string(fixture(&format!("cert-{bits}.pem"))).unwrap(),
            fingerprint: private.fingerprint().to_string(),
            key,
        }
    }

    pub fn new_pair(dir: &Path, name: &str) -> Pair {
        let private = PrivateKey::generate(2048).unwrap();
        let cert = Certificate::self_signed(&private, &CertificateParams::default()).unwrap();
        let key = dir.join(format!("{name}-key.pem"));
        std::fs::write(&key, private.to_pkcs1_pem().unwrap().as_bytes()).unwrap();
        Pair {
            key,
            cert: cert.to_pem(),
            fingerprint: private.fingerprint().to_string(),
        }
    }

    pub struct Repo {
        pub home: tempfile::TempDir,
        _dir: tempfile::TempDir,
        /// The repository's root (canonical, as kubeseal reports paths).
        pub root: PathBuf,
    }

    impl Repo {
        pub fn kubeseal(&self, args: &[&str]) -> Output {
            kubeseal(self.home.path())
                .current_dir(&self.root)
                .args(args)
                .output()
                .unwrap()
        }

        pub fn seal(&self, cert: &str, file: &str) {
            let out = kubeseal(self.home.path())
                .current_dir(&self.root)
                .args(["--cert", cert, "-w", file])
                .write_stdin(SECRET_YAML)
                .output()
                .unwrap();
            assert!(out.status.success(), "{file}: {}", stderr(&out));
        }

        /// Every file of the repository (but `.git`) and its content.
        pub fn snapshot(&self) -> BTreeMap<String, Vec<u8>> {
            fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
                for entry in std::fs::read_dir(dir).unwrap() {
                    let path = entry.unwrap().path();
                    if path.is_dir() {
                        if !path.ends_with(".git") {
                            walk(&path, root, out);
                        }
                    } else {
                        let rel = path
                            .strip_prefix(root)
                            .unwrap()
                            .to_string_lossy()
                            .into_owned();
                        out.insert(rel, std::fs::read(&path).unwrap());
                    }
                }
            }
            let mut out = BTreeMap::new();
            walk(&self.root, &self.root, &mut out);
            out
        }

        /// Opens `file` with `key` (`--recovery-unseal`): the Secret, or the refusal.
        pub fn open(&self, file: &str, key: &Path) -> Result<serde_json::Value, String> {
            let out = kubeseal(self.home.path())
                .current_dir(&self.root)
                .args(["--recovery-unseal", "--recovery-private-key"])
                .arg(key)
                .args(["-f", file])
                .output()
                .unwrap();
            if out.status.success() {
                Ok(serde_json::from_slice(&out.stdout).unwrap())
            } else {
                Err(stderr(&out))
            }
        }
    }

    /// The repository: `.git/`, the layout, `certs/`, SealedSecrets in
    /// `clusters/{a,b,c}` each sealed for its cluster, a break-glass copy of
    /// a's file, and files no rule or no parser covers.
    pub fn repo(a: &Pair, b: &Pair, c: &Pair, safe: &Pair) -> Repo {
        let home = tempfile::tempdir().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        for dir in [
            ".git",
            "certs",
            "clusters/a",
            "clusters/b",
            "clusters/c",
            "clusters/zzz",
            "break-glass/clusters/a",
        ] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        std::fs::write(root.join(".sealed-secrets.yaml"), LAYOUT).unwrap();
        for (name, pair) in [("a", a), ("b", b), ("c", c), ("safe", safe)] {
            std::fs::write(root.join(format!("certs/{name}.pem")), &pair.cert).unwrap();
        }
        let repo = Repo {
            home,
            _dir: dir,
            root,
        };
        repo.seal("certs/a.pem", "clusters/a/db.yaml");
        repo.seal("certs/a.pem", "clusters/a/api.json");
        repo.seal("certs/b.pem", "clusters/b/db.yaml");
        repo.seal("certs/c.pem", "clusters/c/db.yaml");
        repo.seal("certs/safe.pem", "break-glass/clusters/a/db.yaml");
        repo.seal("certs/a.pem", "clusters/zzz/db.yaml");
        std::fs::write(
            repo.root.join("clusters/a/cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
        )
        .unwrap();
        repo
    }

    pub fn lines(out: &Output) -> Vec<String> {
        stdout(out).lines().map(str::to_string).collect()
    }

    pub fn changed(
        before: &BTreeMap<String, Vec<u8>>,
        after: &BTreeMap<String, Vec<u8>>,
    ) -> Vec<String> {
        assert_eq!(
            before.keys().collect::<Vec<_>>(),
            after.keys().collect::<Vec<_>>(),
            "no file appears or goes"
        );
        before
            .iter()
            .filter(|(name, bytes)| after[*name] != **bytes)
            .map(|(name, _)| name.clone())
            .collect()
    }
}
