//! `kubeseal admin ...` without a cluster: argument handling and the errors
//! that must come before any request. The cluster side is in
//! tests/tests/admin.rs (end to end).

mod common;

use common::*;

fn run(home: &std::path::Path, args: &[&str]) -> std::process::Output {
    kubeseal(home).args(args).output().unwrap()
}

/// A clap usage error: exit 2, the message on stderr, nothing on stdout.
fn assert_usage_error(out: &std::process::Output, needle: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(err.contains(needle), "expected {needle:?} in: {err}");
    assert!(out.stdout.is_empty(), "stdout: {}", stdout(out));
}

const SEALED: &str = "\
apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata: {name: app, namespace: team}
spec:
  encryptedData: {k: AgBy3i4OJSWK+PiTySYZZA==}
";

#[test]
fn help_lists_the_subcommands() {
    let home = tempfile::tempdir().unwrap();
    let top = stdout(&run(home.path(), &["--help"]));
    assert!(top.contains("admin"), "{top}");
    let admin = run(home.path(), &["admin", "--help"]);
    assert!(admin.status.success());
    let admin = stdout(&admin);
    for word in [
        "keys",
        "reencrypt",
        "--controller-namespace",
        "--kubeconfig",
        "--kms-endpoint",
        "--kms-timeout",
    ] {
        assert!(admin.contains(word), "admin help lists {word}: {admin}");
    }
    let wrap = stdout(&run(home.path(), &["admin", "keys", "wrap", "--help"]));
    for word in ["--dry-run", "--kms-endpoint", "verified"] {
        assert!(wrap.contains(word), "wrap help lists {word}: {wrap}");
    }
    let keys = stdout(&run(home.path(), &["admin", "keys", "--help"]));
    for word in [
        "list", "rotate", "activate", "backup", "restore", "prune", "wrap", "unwrap",
    ] {
        assert!(keys.contains(word), "keys help lists {word}: {keys}");
    }
    let prune = stdout(&run(home.path(), &["admin", "keys", "prune", "--help"]));
    for word in ["--older-than", "--yes", "--force", "--watched-namespaces"] {
        assert!(prune.contains(word), "prune help lists {word}: {prune}");
    }
    let rotate = stdout(&run(home.path(), &["admin", "keys", "rotate", "--help"]));
    for word in ["--key-size", "--my-cn", "--key-ttl"] {
        assert!(rotate.contains(word), "rotate help lists {word}: {rotate}");
    }
}

#[test]
fn bad_arguments_are_refused() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    assert_usage_error(&run(h, &["admin"]), "Usage: kubeseal admin");
    assert_usage_error(&run(h, &["admin", "keys"]), "Usage: kubeseal admin keys");
    assert_usage_error(
        &run(h, &["admin", "keys", "burn"]),
        "unrecognized subcommand",
    );
    assert_usage_error(&run(h, &["admin", "reencrypt"]), "<PATH>");
    assert_usage_error(&run(h, &["admin", "keys", "backup"]), "--output <FILE>");
    assert_usage_error(&run(h, &["admin", "keys", "restore"]), "<FILE>");
    assert_usage_error(
        &run(h, &["admin", "keys", "list", "-o", "xml"]),
        "invalid value 'xml'",
    );
    assert_usage_error(
        &run(h, &["admin", "keys", "rotate", "--key-size", "1024"]),
        "supported key sizes: 2048, 3072, 4096, 8192",
    );
    assert_usage_error(
        &run(h, &["admin", "keys", "rotate", "--key-ttl", "forever"]),
        "--key-ttl",
    );
    // The sealing flags do not belong to admin commands.
    assert_usage_error(
        &run(h, &["admin", "keys", "list", "--raw"]),
        "unexpected argument '--raw'",
    );
}

#[test]
fn prune_duration_is_checked() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    assert_usage_error(
        &run(h, &["admin", "keys", "prune"]),
        "--older-than <DURATION>",
    );
    for bad in ["3x", "soon", "-1h", "1.5.3d", ""] {
        let flag = format!("--older-than={bad}");
        let out = run(h, &["admin", "keys", "prune", &flag]);
        assert_usage_error(&out, "--older-than");
        assert!(
            stderr(&out).contains("720h"),
            "suggests a form: {}",
            stderr(&out)
        );
    }
}

#[test]
fn activation_times_are_checked_before_any_request() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let rotate = |extra: &[&str]| {
        let mut args = vec!["admin", "keys", "rotate"];
        args.extend_from_slice(extra);
        run(h, &args)
    };
    assert_usage_error(
        &rotate(&["--activate-at", "2000-01-01T00:00:00Z"]),
        "is in the past: drop it to activate at once",
    );
    assert_usage_error(
        &rotate(&["--activate-at", "tomorrow"]),
        "use e.g. 2025-07-01T12:00:00Z",
    );
    assert_usage_error(
        &rotate(&[
            "--activate-at",
            "2999-01-01T00:00:00Z",
            "--activate-after",
            "1h",
        ]),
        "cannot be used with",
    );
    assert_usage_error(&rotate(&["--activate-after", "soon"]), "720h");
    assert_usage_error(
        &run(
            h,
            &[
                "admin",
                "keys",
                "activate",
                "k",
                "--at",
                "2000-01-01T00:00:00Z",
            ],
        ),
        "is in the past",
    );
    assert_usage_error(&run(h, &["admin", "keys", "activate"]), "NAME|FINGERPRINT");
    let help = stdout(&run(h, &["admin", "keys", "rotate", "--help"]));
    for word in ["--activate-at", "--activate-after", "backed up"] {
        assert!(help.contains(word), "rotate help lists {word}: {help}");
    }
}

#[test]
fn cluster_flags_work_after_the_subcommand() {
    let home = tempfile::tempdir().unwrap();
    let missing = home.path().join("missing.kubeconfig");
    let missing = missing.to_string_lossy();
    // Parsed (not refused as unknown) and used: the kubeconfig named is read.
    for args in [
        vec![
            "admin",
            "keys",
            "list",
            "--controller-namespace",
            "x",
            "--kubeconfig",
            &missing,
        ],
        vec![
            "--kubeconfig",
            &missing,
            "admin",
            "keys",
            "list",
            "--controller-namespace",
            "x",
        ],
        vec![
            "--controller-namespace",
            "x",
            "admin",
            "--context",
            "c",
            "keys",
            "prune",
            "--older-than",
            "30d",
            "--kubeconfig",
            &missing,
        ],
    ] {
        let out = run(home.path(), &args);
        assert_refused(&out, "cannot read kubeconfig");
        assert!(
            stderr(&out).contains("missing.kubeconfig"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn commands_without_a_cluster_fail_clearly() {
    let home = tempfile::tempdir().unwrap();
    for args in [
        vec!["admin", "keys", "list"],
        vec!["admin", "keys", "rotate", "--key-size", "2048"],
        vec!["admin", "keys", "prune", "--older-than", "30d"],
    ] {
        let out = run(home.path(), &args);
        assert_refused(&out, "set KUBECONFIG or --kubeconfig");
    }
}

#[test]
fn reencrypt_without_a_cluster_fails_clearly_and_leaves_files() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.yaml");
    std::fs::write(&file, SEALED).unwrap();
    let out = run(
        home.path(),
        &["admin", "reencrypt", &file.to_string_lossy()],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("cannot connect to the cluster"), "{err}");
    assert!(err.contains("set KUBECONFIG or --kubeconfig"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), SEALED);
}

#[test]
fn reencrypt_skips_other_files_without_a_cluster() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";
    let mixed = format!("{SEALED}---\n{cm}");
    std::fs::write(dir.path().join("cm.yaml"), cm).unwrap();
    std::fs::write(dir.path().join("mixed.yml"), &mixed).unwrap();
    std::fs::write(dir.path().join("broken.json"), "{\"kind\":").unwrap();
    std::fs::write(dir.path().join("notes.txt"), SEALED).unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    std::fs::write(dir.path().join(".git").join("x.yaml"), SEALED).unwrap();
    let out = run(
        home.path(),
        &["admin", "reencrypt", &dir.path().to_string_lossy()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let report = stdout(&out);
    assert!(
        report.contains("cm.yaml: document 1 is a ConfigMap"),
        "{report}"
    );
    assert!(
        report.contains("mixed.yml: document 2 is a ConfigMap"),
        "{report}"
    );
    assert!(report.contains("broken.json: not YAML or JSON"), "{report}");
    assert!(
        !report.contains("notes.txt") && !report.contains(".git"),
        "{report}"
    );
    assert!(stderr(&out).contains("no SealedSecret files found"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("cm.yaml")).unwrap(),
        cm
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("mixed.yml")).unwrap(),
        mixed
    );

    let out = run(home.path(), &["admin", "reencrypt", "/nonexistent/x.yaml"]);
    assert_refused(&out, "cannot read /nonexistent/x.yaml");
}

#[test]
fn restore_checks_the_file_before_any_request() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let h = home.path();
    let missing = dir.path().join("none.yaml");
    assert_refused(
        &run(h, &["admin", "keys", "restore", &missing.to_string_lossy()]),
        "cannot read backup file",
    );
    let cm = dir.path().join("cm.yaml");
    std::fs::write(
        &cm,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
    )
    .unwrap();
    assert_refused(
        &run(h, &["admin", "keys", "restore", &cm.to_string_lossy()]),
        "document 1 is a ConfigMap: expected key Secrets",
    );
    let empty = dir.path().join("empty.yaml");
    std::fs::write(&empty, "apiVersion: v1\nkind: List\nitems: []\n").unwrap();
    assert_refused(
        &run(h, &["admin", "keys", "restore", &empty.to_string_lossy()]),
        "holds no Secrets",
    );
    let nokey = dir.path().join("nokey.yaml");
    std::fs::write(
        &nokey,
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {tls.crt: eA==}\n",
    )
    .unwrap();
    assert_refused(
        &run(h, &["admin", "keys", "restore", &nokey.to_string_lossy()]),
        "secret s is not a sealing key: it has no tls.key; nothing was restored",
    );
}

#[test]
fn backup_refuses_stdout() {
    let home = tempfile::tempdir().unwrap();
    assert_refused(
        &run(home.path(), &["admin", "keys", "backup", "-o", "-"]),
        "only to a file",
    );
}

/// `admin reencrypt --recovery-private-key OLD --cert NEW DIR`: every file
/// re-sealed here, with no cluster (no kubeconfig, HOME empty); only the
/// ciphertexts change, and they open with the new key only. A file no key
/// given opens stops the run and is left as it was.
#[test]
fn reencrypt_offline_rewrites_files_without_a_cluster() {
    use sealed_secrets_api::crypto::{Certificate, CertificateParams, PrivateKey};
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("repo");
    std::fs::create_dir(&dir).unwrap();
    let seal = |format: &str| {
        let out = kubeseal(home.path())
            .args(["--cert", &fixture("cert-2048.pem"), "-o", format])
            .write_stdin(SECRET_YAML)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    let yaml = seal("yaml");
    std::fs::write(dir.join("app.yaml"), &yaml).unwrap();
    std::fs::write(dir.join("app.json"), seal("json")).unwrap();
    let new_key = PrivateKey::generate(2048).unwrap();
    let new_cert = Certificate::self_signed(&new_key, &CertificateParams::default()).unwrap();
    let cert_file = home.path().join("new.pem");
    std::fs::write(&cert_file, new_cert.to_pem()).unwrap();
    let key_file = home.path().join("new-key.pem");
    std::fs::write(&key_file, new_key.to_pkcs1_pem().unwrap().as_bytes()).unwrap();
    let reencrypt = |keys: &std::path::Path| {
        kubeseal(home.path())
            .args(["admin", "reencrypt", "--recovery-private-key"])
            .arg(keys)
            .arg("--cert")
            .arg(&cert_file)
            .arg(&dir)
            .output()
            .unwrap()
    };

    let out = reencrypt(std::path::Path::new(&fixture("key-2048.pem")));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("reencrypted"), "{}", stdout(&out));
    for file in ["app.yaml", "app.json"] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let open = |key: &str| {
            kubeseal(home.path())
                .args(["--recovery-unseal", "--recovery-private-key", key])
                .write_stdin(text.clone())
                .output()
                .unwrap()
        };
        let opened = open(&key_file.display().to_string());
        assert!(opened.status.success(), "{file}: {}", stderr(&opened));
        let secret: serde_json::Value = serde_json::from_slice(&opened.stdout).unwrap();
        assert_eq!(secret["data"]["pass"], "aHVudGVyMg==", "{file}");
        assert!(!open(&fixture("key-2048.pem")).status.success(), "{file}");
    }
    let after = std::fs::read_to_string(dir.join("app.yaml")).unwrap();
    assert!(after.contains("tier: web"), "the rest is kept: {after}");
    assert_ne!(after, yaml);

    // The old key no longer opens them: refused, the files untouched.
    let out = reencrypt(std::path::Path::new(&fixture("key-2048.pem")));
    assert_refused(
        &out,
        "none of the keys given (--recovery-private-key) opens",
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("app.yaml")).unwrap(),
        after
    );
    // Half the flags: refused before anything is read.
    let out = kubeseal(home.path())
        .args(["admin", "reencrypt", "--cert"])
        .arg(&cert_file)
        .arg(&dir)
        .output()
        .unwrap();
    assert_refused(&out, "--recovery-private-key");
}
