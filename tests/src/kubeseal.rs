//! Running `kubeseal`, ours or the reference's, and reading what it printed.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::binaries::binaries;
use crate::control_plane::{ControlPlane, Error, Result};
use crate::namespace::TestNamespace;

/// Runs our `kubeseal` with `args` and `stdin`, with a clean environment.
pub fn kubeseal(cp: &ControlPlane, args: &[&str], stdin: &str) -> Result<Output> {
    run_with_stdin(binaries()?.join("kubeseal"), cp, args, stdin)
}

/// Runs the reference `kubeseal` the same way.
pub fn reference_kubeseal(cp: &ControlPlane, args: &[&str], stdin: &str) -> Result<Output> {
    run_with_stdin(cp.reference_bin_dir().join("kubeseal"), cp, args, stdin)
}

fn run_with_stdin(
    binary: PathBuf,
    cp: &ControlPlane,
    args: &[&str],
    stdin: &str,
) -> Result<Output> {
    let mut child = Command::new(&binary)
        .args(args)
        .env("KUBECONFIG", cp.kubeconfig())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| Error::Io {
            context: format!("starting {}", binary.display()),
            source,
        })?;
    if let Some(mut input) = child.stdin.take() {
        input
            .write_all(stdin.as_bytes())
            .map_err(|source| Error::Io {
                context: "writing stdin".into(),
                source,
            })?;
    }
    child.wait_with_output().map_err(|source| Error::Io {
        context: format!("running {}", binary.display()),
        source,
    })
}

/// Stdout of a command that must have succeeded: an assertion for tests,
/// it panics with stderr and stdout otherwise.
pub fn succeeded(out: &Output) -> String {
    assert!(
        out.status.success(),
        "expected success; stderr: {}\nstdout: {}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout.clone()).expect("utf-8 output")
}

/// A PEM text trimmed and with LF line endings, to compare certificates
/// however they were written out.
pub fn lf(pem: &str) -> String {
    pem.replace("\r\n", "\n").trim().to_string()
}

/// `name` with `k: value`, sealed offline with the certificate at `cert`
/// (YAML).
pub fn seal_value(
    cp: &ControlPlane,
    cert: &Path,
    ns: &TestNamespace,
    name: &str,
    value: &str,
) -> Result<String> {
    let secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: {name}, namespace: {}}}\nstringData: {{k: {value}}}\n",
        ns.name()
    );
    let out = kubeseal(
        cp,
        &["--cert", &cert.to_string_lossy(), "-o", "yaml"],
        &secret,
    )?;
    if !out.status.success() {
        return Err(Error::ControlPlane(format!(
            "kubeseal sealing {name} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
