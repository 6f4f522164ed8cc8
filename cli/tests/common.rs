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
