//! --raw, --merge-into and --recovery-unseal with the real binary, and the
//! cross checks against the reference kubeseal in both directions.

mod common;

use base64::Engine as _;
use common::*;
use sealed_secrets_api::crypto::{open, PrivateKey, Scope};

fn fixture_key() -> PrivateKey {
    PrivateKey::from_pem(&std::fs::read(fixture("key-2048.pem")).unwrap()).unwrap()
}

fn raw(home: &std::path::Path, args: &[&str], value: &str) -> std::process::Output {
    kubeseal(home)
        .args(["--cert", &fixture("cert-2048.pem"), "--raw"])
        .args(args)
        .write_stdin(value.to_string())
        .output()
        .unwrap()
}

#[test]
fn raw_values_for_each_scope() {
    let home = tempfile::tempdir().unwrap();
    let cases = [
        (vec!["-n", "ns", "--name", "n"], Scope::Strict),
        (
            vec!["--scope", "strict", "-n", "ns", "--name", "n"],
            Scope::Strict,
        ),
        (
            vec!["--scope", "namespace-wide", "-n", "ns"],
            Scope::NamespaceWide,
        ),
        (vec!["--scope", "cluster-wide"], Scope::ClusterWide),
    ];
    for (args, scope) in cases {
        let out = raw(home.path(), &args, "s3cret");
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(!text.ends_with('\n'), "no trailing newline");
        let ct = base64::engine::general_purpose::STANDARD
            .decode(&text)
            .unwrap();
        let plain = open(&fixture_key(), &ct, &scope.label("ns", "n")).unwrap();
        assert_eq!(plain.as_slice(), b"s3cret");
    }
}

#[test]
fn raw_refusals() {
    let home = tempfile::tempdir().unwrap();
    assert_refused(
        &raw(home.path(), &["--name", "n"], "v"),
        "must provide the --namespace flag with --raw and --scope strict",
    );
    assert_refused(
        &raw(home.path(), &["-n", "ns"], "v"),
        "must provide the --name flag with --raw and --scope strict",
    );
    assert_refused(
        &raw(home.path(), &["--scope", "namespace-wide"], "v"),
        "--namespace flag with --raw and --scope namespace-wide",
    );
    assert_refused(
        &raw(
            home.path(),
            &[
                "--scope",
                "cluster-wide",
                "--from-file",
                "a",
                "--from-file",
                "b",
            ],
            "",
        ),
        "only one --from-file",
    );
    assert_refused(
        &raw(
            home.path(),
            &["--scope", "cluster-wide", "--from-file", "/nonexistent"],
            "",
        ),
        "cannot read --from-file",
    );
}

#[test]
fn raw_from_file_with_key_syntax() {
    let home = tempfile::tempdir().unwrap();
    let value = home.path().join("value.txt");
    std::fs::write(&value, "from a file").unwrap();
    let arg = format!("key={}", value.display());
    let out = raw(
        home.path(),
        &["--scope", "cluster-wide", "--from-file", &arg],
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let ct = base64::engine::general_purpose::STANDARD
        .decode(stdout(&out))
        .unwrap();
    assert_eq!(
        open(&fixture_key(), &ct, b"").unwrap().as_slice(),
        b"from a file"
    );
}

#[test]
fn merge_into_updates_the_file_in_place_keeping_its_format() {
    let home = tempfile::tempdir().unwrap();
    for yaml in [true, false] {
        let file = home
            .path()
            .join(if yaml { "sealed.yaml" } else { "sealed.json" });
        let mut cmd = kubeseal(home.path());
        cmd.args(["--cert", &fixture("cert-2048.pem")]);
        if yaml {
            cmd.args(["-o", "yaml"]);
        }
        let out = cmd.write_stdin(SECRET_YAML).output().unwrap();
        std::fs::write(&file, &out.stdout).unwrap();
        let before: sealed_secrets_api::SealedSecret =
            serde_yaml::from_str(stdout(&out).trim_start_matches("---\n")).unwrap();

        // New item, a changed item, and a new label; name and namespace come from the file.
        let update = "metadata: {name: ignored, labels: {extra: yes}}\nstringData: {pass: changed, token: t0k}\n";
        let out = kubeseal(home.path())
            .args(["--cert", &fixture("cert-2048.pem"), "--merge-into"])
            .arg(&file)
            .write_stdin(update)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(out.stdout.is_empty());
        let text = std::fs::read_to_string(&file).unwrap();
        assert_eq!(text.starts_with("---\n"), yaml, "format kept: {text}");
        let after: sealed_secrets_api::SealedSecret =
            serde_yaml::from_str(text.trim_start_matches("---\n")).unwrap();
        assert_eq!(after.metadata.name.as_deref(), Some("app"));
        assert_eq!(
            after.spec.encrypted_data["user"],
            before.spec.encrypted_data["user"]
        );
        assert_ne!(
            after.spec.encrypted_data["pass"],
            before.spec.encrypted_data["pass"]
        );
        let labels = after.spec.template.metadata.labels.clone().unwrap();
        assert_eq!(labels["tier"], "web");
        assert_eq!(labels["extra"], "yes");

        let out = kubeseal(home.path())
            .args([
                "--recovery-unseal",
                "--recovery-private-key",
                &fixture("key-2048.pem"),
            ])
            .arg("-f")
            .arg(&file)
            .output()
            .unwrap();
        let secret: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(secret["data"]["pass"], "Y2hhbmdlZA==");
        assert_eq!(secret["data"]["token"], "dDBr");
        assert_eq!(secret["data"]["user"], "YWRtaW4=");
    }
}

#[test]
fn merge_into_refuses_a_file_that_is_not_a_sealed_secret() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("secret.yaml");
    std::fs::write(&file, SECRET_YAML).unwrap();
    let out = kubeseal(home.path())
        .args(["--cert", &fixture("cert-2048.pem"), "--merge-into"])
        .arg(&file)
        .write_stdin(SECRET_YAML)
        .output()
        .unwrap();
    assert_refused(&out, "is not a SealedSecret");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        SECRET_YAML,
        "file untouched"
    );
}

#[test]
fn recovery_unseal_with_pem_keys_and_key_secret_backups() {
    let home = tempfile::tempdir().unwrap();
    let sealed = std::fs::read_to_string(fixture("reference-sealed.yaml")).unwrap();
    let key_pem = std::fs::read(fixture("key-4096.pem")).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&key_pem);
    let backup_secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sealed-secrets-keyabcde\n  namespace: kube-system\n  labels: {{sealedsecrets.bitnami.com/sealed-secrets-key: active}}\ntype: kubernetes.io/tls\ndata:\n  tls.key: {b64}\n  tls.crt: ''\n"
    );
    let backup_list = format!(
        r#"{{"apiVersion":"v1","kind":"List","items":[{{"apiVersion":"v1","kind":"Secret","metadata":{{"name":"k1"}},"data":{{"tls.key":"{b64}"}}}}]}}"#
    );
    let yaml_file = home.path().join("backup.yaml");
    let json_file = home.path().join("backup.json");
    std::fs::write(&yaml_file, backup_secret).unwrap();
    std::fs::write(&json_file, backup_list).unwrap();
    let combos = [
        vec![fixture("key-4096.pem")],
        vec![format!(
            "{},{}",
            fixture("key-2048.pem"),
            fixture("key-4096.pem")
        )],
        vec![fixture("key-2048.pem"), yaml_file.display().to_string()],
        vec![json_file.display().to_string()],
    ];
    for keys in combos {
        let mut cmd = kubeseal(home.path());
        cmd.args(["--recovery-unseal", "-o", "yaml"]);
        for k in &keys {
            cmd.args(["--recovery-private-key", k]);
        }
        let out = cmd.write_stdin(sealed.clone()).output().unwrap();
        assert!(out.status.success(), "{keys:?}: {}", stderr(&out));
        let secret: serde_json::Value =
            serde_yaml::from_str(stdout(&out).trim_start_matches("---\n")).unwrap();
        assert_eq!(secret["kind"], "Secret");
        assert_eq!(secret["data"]["username"], "YWRtaW4=");
        assert_eq!(secret["data"]["password"], "czNjcjN0");
    }
}

#[test]
fn recovery_unseal_refusals() {
    let home = tempfile::tempdir().unwrap();
    let sealed = std::fs::read_to_string(fixture("reference-sealed.yaml")).unwrap();
    let out = kubeseal(home.path())
        .arg("--recovery-unseal")
        .write_stdin(sealed.clone())
        .output()
        .unwrap();
    assert_refused(&out, "pass --recovery-private-key");
    let out = kubeseal(home.path())
        .args([
            "--recovery-unseal",
            "--recovery-private-key",
            &fixture("key-2048.pem"),
        ])
        .write_stdin(sealed)
        .output()
        .unwrap();
    assert_refused(&out, "the key given does not open it");
    assert!(stderr(&out).contains("no key could decrypt secret"));
    let out = kubeseal(home.path())
        .args([
            "--recovery-unseal",
            "--recovery-private-key",
            &fixture("cert-2048.pem"),
        ])
        .write_stdin("")
        .output()
        .unwrap();
    assert_refused(&out, "cannot load private keys");
}

#[test]
fn recovery_unseal_with_wrapped_keys_needs_the_kms() {
    let home = tempfile::tempdir().unwrap();
    let sealed = std::fs::read_to_string(fixture("reference-sealed.yaml")).unwrap();
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let cert = std::fs::read(fixture("cert-2048.pem")).unwrap();
    // A KMS-wrapped key Secret as `kubeseal admin keys backup` writes it.
    let backup = format!(
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: sealed-secrets-keywrapped\n    \
         labels: {{sealedsecrets.bitnami.com/sealed-secrets-key: kms-v2}}\n  type: sealedsecrets.bitnami.com/kms-wrapped-key\n  data:\n    \
         tls.crt: {}\n    kms.key-id: {}\n    kms.wrapped-dek: {}\n    kms.annotations: {}\n    kms.sealed-key: {}\n",
        b64(&cert),
        b64(b"kek-1"),
        b64(&[7; 60]),
        b64(b"{}"),
        b64(&[9; 64]),
    );
    let file = home.path().join("wrapped.yaml");
    std::fs::write(&file, backup).unwrap();
    let recover = |extra: &[&str], env: Option<&str>| {
        let mut cmd = kubeseal(home.path());
        cmd.args(["--recovery-unseal", "--recovery-private-key"])
            .arg(&file)
            .args(extra);
        if let Some(endpoint) = env {
            cmd.env("SEALED_SECRETS_KMS_ENDPOINT", endpoint);
        }
        cmd.write_stdin(sealed.clone()).output().unwrap()
    };
    let out = recover(&[], None);
    assert_refused(&out, "1 of the keys given is KMS-wrapped");
    assert_refused(&out, "secret sealed-secrets-keywrapped; KMS key_id kek-1");
    assert_refused(&out, "pass --kms-endpoint unix:///PATH");
    // The KMS given but not there: it says so, within --kms-timeout.
    let gone = format!("unix://{}/kms.sock", home.path().display());
    for out in [
        recover(&["--kms-endpoint", &gone, "--kms-timeout", "500ms"], None),
        recover(&[], Some(&gone)),
    ] {
        assert_refused(&out, "is not usable");
        assert_refused(&out, "unreachable");
    }
    let out = recover(&["--kms-endpoint", "/not/a/uri"], None);
    assert_refused(&out, "invalid KMS plugin endpoint");
}

#[test]
fn reference_kubeseal_opens_what_we_seal() {
    let Some(reference) = reference_kubeseal() else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    for format in ["json", "yaml"] {
        let out = kubeseal(home.path())
            .args(["--cert", &fixture("cert-4096.pem"), "-o", format])
            .write_stdin(SECRET_YAML)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let unsealed = run_reference(
            &reference,
            home.path(),
            &[
                "--recovery-unseal",
                "--recovery-private-key",
                &fixture("key-4096.pem"),
                "-o",
                "json",
            ],
            &out.stdout,
        );
        assert!(
            unsealed.status.success(),
            "reference: {}",
            String::from_utf8_lossy(&unsealed.stderr)
        );
        let secret: serde_json::Value = serde_json::from_slice(&unsealed.stdout).unwrap();
        assert_eq!(secret["data"]["user"], "YWRtaW4=");
        assert_eq!(secret["data"]["pass"], "aHVudGVyMg==");
    }
    // Raw values too, in every scope.
    for (scope, args) in [
        ("strict", vec!["-n", "fixture-ns", "--name", "fixture-name"]),
        ("cluster-wide", vec![]),
    ] {
        let out = kubeseal(home.path())
            .args([
                "--cert",
                &fixture("cert-4096.pem"),
                "--raw",
                "--scope",
                scope,
            ])
            .args(&args)
            .write_stdin("raw value")
            .output()
            .unwrap();
        assert!(out.status.success());
        let sealed = format!(
            "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: fixture-name\n  namespace: fixture-ns\n{}spec:\n  encryptedData:\n    k: {}\n",
            if scope == "cluster-wide" { "  annotations: {sealedsecrets.bitnami.com/cluster-wide: 'true'}\n" } else { "" },
            stdout(&out)
        );
        let unsealed = run_reference(
            &reference,
            home.path(),
            &[
                "--recovery-unseal",
                "--recovery-private-key",
                &fixture("key-4096.pem"),
                "-f",
                "/dev/stdin",
            ],
            sealed.as_bytes(),
        );
        assert!(
            unsealed.status.success(),
            "reference: {}",
            String::from_utf8_lossy(&unsealed.stderr)
        );
        let secret: serde_json::Value = serde_json::from_slice(&unsealed.stdout).unwrap();
        assert_eq!(secret["data"]["k"], "cmF3IHZhbHVl", "{scope}");
    }
}

#[test]
fn we_open_what_the_reference_kubeseal_seals_now() {
    let Some(reference) = reference_kubeseal() else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let sealed = run_reference(
        &reference,
        home.path(),
        &[
            "--cert",
            &fixture("cert-4096.pem"),
            "-o",
            "yaml",
            "--scope",
            "namespace-wide",
        ],
        SECRET_YAML.as_bytes(),
    );
    assert!(sealed.status.success());
    let out = kubeseal(home.path())
        .args([
            "--recovery-unseal",
            "--recovery-private-key",
            &fixture("key-4096.pem"),
        ])
        .write_stdin(sealed.stdout)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let secret: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(secret["data"]["pass"], "aHVudGVyMg==");
}

#[test]
fn recovery_unseal_takes_several_sealed_secrets() {
    let home = tempfile::tempdir().unwrap();
    let one = std::fs::read_to_string(fixture("reference-sealed.yaml")).unwrap();
    let two = format!(
        "{one}{}",
        one.replace("name: fixture-name", "name: renamed")
    );
    let out = kubeseal(home.path())
        .args([
            "--recovery-unseal",
            "-o",
            "yaml",
            "--recovery-private-key",
            &fixture("key-4096.pem"),
        ])
        .write_stdin(two)
        .output()
        .unwrap();
    // The renamed copy is strict-scoped to its old name: it must not open.
    assert_refused(&out, "cannot unseal renamed");

    let ns_wide = std::fs::read_to_string(fixture("reference-sealed.yaml")).unwrap();
    let both = format!("{ns_wide}{ns_wide}");
    let out = kubeseal(home.path())
        .args([
            "--recovery-unseal",
            "-o",
            "yaml",
            "--recovery-private-key",
            &fixture("key-4096.pem"),
        ])
        .write_stdin(both)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).matches("kind: Secret").count(), 2);
}

/// `--re-encrypt --recovery-private-key OLD --cert NEW`: re-sealed here,
/// with no cluster at all (no kubeconfig, HOME empty); the result opens
/// with the new key only.
#[test]
fn re_encrypt_offline_opens_with_the_given_keys_and_seals_to_the_new_cert() {
    let home = tempfile::tempdir().unwrap();
    let sealed = kubeseal(home.path())
        .args(["--cert", &fixture("cert-2048.pem"), "-o", "yaml"])
        .write_stdin(SECRET_YAML)
        .output()
        .unwrap();
    assert!(sealed.status.success(), "{}", stderr(&sealed));
    let new_key = PrivateKey::generate(2048).unwrap();
    let new_cert = sealed_secrets_api::crypto::Certificate::self_signed(
        &new_key,
        &sealed_secrets_api::crypto::CertificateParams::default(),
    )
    .unwrap();
    let new_cert_file = home.path().join("new.pem");
    std::fs::write(&new_cert_file, new_cert.to_pem()).unwrap();
    let new_key_file = home.path().join("new-key.pem");
    std::fs::write(&new_key_file, new_key.to_pkcs1_pem().unwrap().as_bytes()).unwrap();

    let out = kubeseal(home.path())
        .args([
            "--re-encrypt",
            "--recovery-private-key",
            &fixture("key-2048.pem"),
        ])
        .arg("--cert")
        .arg(&new_cert_file)
        .args(["-o", "yaml"])
        .write_stdin(sealed.stdout.clone())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("ignoring --recovery-private-key"),
        "{}",
        stderr(&out)
    );
    let resealed = stdout(&out);
    assert!(!resealed.contains("hunter2") && !resealed.contains("YWRtaW4="));

    let unseal = |key: &str, input: &str| {
        kubeseal(home.path())
            .args(["--recovery-unseal", "--recovery-private-key", key])
            .write_stdin(input.to_string())
            .output()
            .unwrap()
    };
    let opened = unseal(&new_key_file.display().to_string(), &resealed);
    assert!(opened.status.success(), "{}", stderr(&opened));
    let secret: serde_json::Value = serde_json::from_slice(&opened.stdout).unwrap();
    assert_eq!(secret["data"]["pass"], "aHVudGVyMg==");
    assert_eq!(secret["data"]["user"], "YWRtaW4=");
    assert!(
        !unseal(&fixture("key-2048.pem"), &resealed).status.success(),
        "the old key no longer opens it"
    );

    // The keys given do not open it: refused, nothing printed.
    let out = kubeseal(home.path())
        .args(["--re-encrypt", "--recovery-private-key"])
        .arg(&new_key_file)
        .arg("--cert")
        .arg(&new_cert_file)
        .write_stdin(sealed.stdout.clone())
        .output()
        .unwrap();
    assert_refused(
        &out,
        "none of the keys given (--recovery-private-key) opens it",
    );
    assert!(out.stdout.is_empty());
    // No --cert: refused, says to pass one (no cluster is asked).
    let out = kubeseal(home.path())
        .args([
            "--re-encrypt",
            "--recovery-private-key",
            &fixture("key-2048.pem"),
        ])
        .write_stdin(sealed.stdout)
        .output()
        .unwrap();
    assert_refused(&out, "pass --cert");
}
