//! The controller binary's flags, run for real (no cluster needed: parsing
//! happens before anything else, and `--version` stops there).

use std::process::{Command, Output};

fn run(binary: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(binary);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("SEALED_SECRETS_") {
            cmd.env_remove(&key);
        }
    }
    cmd.args(args)
        .envs(env.iter().copied())
        .output()
        .expect("runs")
}

const OURS: &str = env!("CARGO_BIN_EXE_sealed-secrets-controller");
/// The name the reference image and chart run: `command: [controller]`.
const AS_REFERENCE: &str = env!("CARGO_BIN_EXE_controller");

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

#[test]
fn the_binary_also_exists_as_controller_and_behaves_the_same() {
    let a = run(OURS, &["--version"], &[]);
    let b = run(AS_REFERENCE, &["--version"], &[]);
    assert!(b.status.success(), "{}", text(&b.stderr));
    assert_eq!(text(&a.stdout), text(&b.stdout));
    assert!(text(&b.stdout).starts_with("controller version: v"));
    let help = run(AS_REFERENCE, &["--help"], &[]);
    assert!(help.status.success());
    for flag in [
        "--read-timeout",
        "--write-timeout",
        "--additional-namespaces",
        "--key-renew-period",
    ] {
        assert!(
            text(&help.stdout).contains(flag),
            "{flag} missing from --help"
        );
    }
}

#[test]
fn timeouts_come_from_the_environment_too_and_parse_as_go() {
    let ok = run(
        AS_REFERENCE,
        &["--version"],
        &[
            ("SEALED_SECRETS_READ_TIMEOUT", "1m30s"),
            ("SEALED_SECRETS_WRITE_TIMEOUT", "-1s"),
        ],
    );
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    let bad = run(
        AS_REFERENCE,
        &["--version"],
        &[("SEALED_SECRETS_WRITE_TIMEOUT", "2 minutes")],
    );
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains(r#"time: unknown unit " minutes" in duration "2 minutes""#),
        "{}",
        text(&bad.stderr)
    );
}

#[test]
fn values_go_tolerates_do_not_stop_the_controller_from_starting() {
    let out = run(
        AS_REFERENCE,
        &[
            "--log-format=logfmt",
            "--key-order-priority=Newest",
            "--log-level=verbose",
            "--version",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn durations_go_refuses_are_refused() {
    let out = run(AS_REFERENCE, &["--key-renew-period=30d", "--version"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains(r#"time: unknown unit "d" in duration "30d""#),
        "{}",
        text(&out.stderr)
    );
}

/// A bad `--cluster-name` stops the controller before it reaches any
/// cluster, and says what a name may hold (the flag or its environment).
#[test]
fn a_bad_cluster_name_is_a_startup_error() {
    let outputs = [
        run(AS_REFERENCE, &["--cluster-name", "oslo/prod"], &[]),
        run(AS_REFERENCE, &[], &[("SEALED_SECRETS_CLUSTER_NAME", "a.b")]),
    ];
    for out in outputs {
        assert_eq!(out.status.code(), Some(1));
        let err = text(&out.stderr);
        assert!(
            err.contains("--cluster-name: ")
                && err.contains("use at most 63 letters, digits, '-' and '_'"),
            "{err}"
        );
        assert!(!err.contains("Kubernetes client"), "{err}");
    }
}
