//! Sealing with the real binary: formats, inputs, outputs, refusals.

mod common;

use common::*;
use sealed_secrets_api::crypto::{Certificate, CertificateParams, PrivateKey};
use sealed_secrets_api::SealedSecret;
use std::time::{Duration, SystemTime};

fn unseal_with_fixture_key(home: &std::path::Path, sealed: &str) -> serde_json::Value {
    let out = kubeseal(home)
        .args([
            "--recovery-unseal",
            "--recovery-private-key",
            &fixture("key-2048.pem"),
        ])
        .write_stdin(sealed)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

#[test]
fn seals_json_by_default_and_round_trips() {
    let home = tempfile::tempdir().unwrap();
    let out = kubeseal(home.path())
        .args(["--cert", &fixture("cert-2048.pem")])
        .write_stdin(SECRET_YAML)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("{\n") && text.ends_with("}\n"));
    let sealed: SealedSecret = serde_json::from_str(&text).unwrap();
    assert_eq!(sealed.metadata.name.as_deref(), Some("app"));
    assert_eq!(sealed.metadata.namespace.as_deref(), Some("team"));
    assert!(!text.contains("creationTimestamp"));

    let secret = unseal_with_fixture_key(home.path(), &text);
    assert_eq!(secret["data"]["user"], "YWRtaW4=");
    assert_eq!(secret["data"]["pass"], "aHVudGVyMg==");
    assert_eq!(secret["metadata"]["labels"]["tier"], "web");
    assert_eq!(secret["type"], "Opaque");
}

#[test]
fn yaml_output_and_sorted_keys() {
    let home = tempfile::tempdir().unwrap();
    let out = kubeseal(home.path())
        .args(["--cert", &fixture("cert-2048.pem"), "-o", "yaml"])
        .write_stdin(SECRET_YAML)
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(
        text.starts_with("---\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n"),
        "{text}"
    );
    let pass = text.find("    pass: ").unwrap();
    let user = text.find("    user: ").unwrap();
    assert!(pass < user, "keys sorted");
}

#[test]
fn file_input_and_atomic_file_output_with_format_from_extension() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("secret.yaml");
    std::fs::write(&input, SECRET_YAML).unwrap();
    for (name, yaml) in [("out.yaml", true), ("out.yml", true), ("out.json", false)] {
        let target = dir.path().join(name);
        let out = kubeseal(home.path())
            .args(["--cert", &fixture("cert-2048.pem"), "-f"])
            .arg(&input)
            .arg("-w")
            .arg(&target)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(out.stdout.is_empty());
        let written = std::fs::read_to_string(&target).unwrap();
        assert_eq!(written.starts_with("---\n"), yaml, "{name}");
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".kubeseal-"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary files left behind");
}

#[test]
fn a_failed_run_leaves_the_output_file_untouched() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("sealed.yaml");
    std::fs::write(&target, "precious").unwrap();
    let out = kubeseal(home.path())
        .args(["--cert", &fixture("cert-2048.pem"), "-w"])
        .arg(&target)
        .write_stdin("metadata: {name: a, namespace: b}\n")
        .output()
        .unwrap();
    assert_refused(&out, "--allow-empty-data");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
    let fresh = dir.path().join("new.yaml");
    let out = kubeseal(home.path())
        .args(["--cert", &fixture("cert-2048.pem"), "-w"])
        .arg(&fresh)
        .write_stdin("not: [valid")
        .output()
        .unwrap();
    assert_refused(&out, "not valid YAML");
    assert!(!fresh.exists());
}

#[test]
fn several_secrets_in_one_stream() {
    let home = tempfile::tempdir().unwrap();
    let yaml = format!(
        "{SECRET_YAML}---\n{}",
        SECRET_YAML.replace("name: app", "name: app2")
    );
    let out = kubeseal(home.path())
        .args(["--cert", &fixture("cert-2048.pem"), "-o", "yaml"])
        .write_stdin(yaml)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).matches("kind: SealedSecret").count(), 2);

    let json = r#"{"kind":"Secret","metadata":{"name":"a","namespace":"n"},"stringData":{"k":"v"}}
{"kind":"Secret","metadata":{"name":"b","namespace":"n"},"stringData":{"k":"v"}}"#;
    let out = kubeseal(home.path())
        .args(["--cert", &fixture("cert-2048.pem")])
        .write_stdin(json)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let docs: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&stdout(&out))
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(docs.len(), 2);
}

#[test]
fn refusals_have_clear_messages_and_no_output() {
    let home = tempfile::tempdir().unwrap();
    let cert = fixture("cert-2048.pem");
    let cases: &[(&[&str], &str, &str)] = &[
        (
            &[],
            "metadata: {name: a, namespace: b}\n",
            "--allow-empty-data",
        ),
        (
            &[],
            "metadata: {namespace: b}\nstringData: {k: v}\n",
            "missing metadata.name",
        ),
        (
            &["-n", "other"],
            "metadata: {name: a, namespace: b}\nstringData: {k: v}\n",
            "namespace mismatch",
        ),
        (
            &[],
            "metadata: {name: a}\nstringData: {k: v}\n",
            "secret must declare a namespace",
        ),
        (
            &[],
            "kind: ConfigMap\nmetadata: {name: a, namespace: b}\n",
            "is a ConfigMap, expected a Secret",
        ),
        (&[], "", "no secrets found"),
        (
            &[],
            "metadata: {name: a, namespace: b}\ndata: {k: '%%%'}\n",
            "not a valid Secret",
        ),
        (
            &["--from-file", "x"],
            SECRET_YAML,
            "--from-file requires --raw",
        ),
        (
            &["--scope", "galaxy"],
            SECRET_YAML,
            "invalid value 'galaxy'",
        ),
    ];
    for (args, input, needle) in cases {
        let out = kubeseal(home.path())
            .arg("--cert")
            .arg(&cert)
            .args(*args)
            .write_stdin(*input)
            .output()
            .unwrap();
        if needle.starts_with("invalid value") {
            assert_eq!(out.status.code(), Some(2), "clap usage error");
            assert!(stderr(&out).contains(needle));
        } else {
            assert_refused(&out, needle);
        }
    }
}

#[test]
fn expired_certificate_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let key = PrivateKey::generate(2048).unwrap();
    let cert = Certificate::self_signed(
        &key,
        &CertificateParams {
            common_name: String::new(),
            not_before: SystemTime::now() - Duration::from_secs(7200),
            valid_for: Duration::from_secs(3600),
        },
    )
    .unwrap();
    let path = home.path().join("expired.pem");
    std::fs::write(&path, cert.to_pem()).unwrap();
    let out = kubeseal(home.path())
        .arg("--cert")
        .arg(&path)
        .write_stdin(SECRET_YAML)
        .output()
        .unwrap();
    assert_refused(&out, "failed to encrypt using an expired certificate on ");
}

#[test]
fn missing_or_bad_certificates() {
    let home = tempfile::tempdir().unwrap();
    let out = kubeseal(home.path())
        .args(["--cert", "/nonexistent.pem"])
        .write_stdin(SECRET_YAML)
        .output()
        .unwrap();
    assert_refused(&out, "cannot read certificate file \"/nonexistent.pem\"");
    let junk = home.path().join("junk.pem");
    std::fs::write(&junk, "hello").unwrap();
    let out = kubeseal(home.path())
        .arg("--cert")
        .arg(&junk)
        .write_stdin(SECRET_YAML)
        .output()
        .unwrap();
    assert_refused(&out, "no certificate found");
    let out = kubeseal(home.path())
        .write_stdin(SECRET_YAML)
        .output()
        .unwrap();
    assert_refused(&out, "--cert");
}

#[test]
fn scope_flag_and_annotations() {
    let home = tempfile::tempdir().unwrap();
    for (scope, annotation) in [
        (
            "namespace-wide",
            Some("sealedsecrets.bitnami.com/namespace-wide"),
        ),
        (
            "cluster-wide",
            Some("sealedsecrets.bitnami.com/cluster-wide"),
        ),
        ("strict", None),
    ] {
        let out = kubeseal(home.path())
            .args(["--cert", &fixture("cert-2048.pem"), "--scope", scope])
            .write_stdin(SECRET_YAML)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        match annotation {
            Some(a) => assert_eq!(v["metadata"]["annotations"][a], "true"),
            None => assert!(v["metadata"].get("annotations").is_none()),
        }
    }
    // A cluster-wide annotation on the input selects the scope and needs no namespace.
    let input = "metadata:\n  name: a\n  annotations: {sealedsecrets.bitnami.com/cluster-wide: 'true'}\nstringData: {k: v}\n";
    let out = kubeseal(home.path())
        .args(["--cert", &fixture("cert-2048.pem")])
        .write_stdin(input)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["metadata"].get("namespace").is_none());
}

#[test]
fn namespace_comes_from_the_kubeconfig_context() {
    let home = tempfile::tempdir().unwrap();
    let kubeconfig = home.path().join("config");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\ncurrent-context: dev\ncontexts:\n- name: dev\n  context: {cluster: c, user: u, namespace: from-context}\n- name: other\n  context: {cluster: c, user: u}\n",
    )
    .unwrap();
    let input = "metadata: {name: a}\nstringData: {k: v}\n";
    let ns = |extra: &[&str], env: bool| {
        let mut cmd = kubeseal(home.path());
        cmd.args(["--cert", &fixture("cert-2048.pem")]).args(extra);
        if env {
            cmd.env("KUBECONFIG", &kubeconfig);
        } else {
            cmd.arg("--kubeconfig").arg(&kubeconfig);
        }
        let out = cmd.write_stdin(input).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["metadata"]["namespace"].as_str().unwrap().to_string()
    };
    assert_eq!(ns(&[], false), "from-context");
    assert_eq!(ns(&[], true), "from-context");
    assert_eq!(ns(&["--context", "other"], false), "default");
    assert_eq!(ns(&["-n", "flag"], false), "flag");
}

#[test]
fn every_flag_reads_its_environment_variable() {
    let home = tempfile::tempdir().unwrap();
    let out = kubeseal(home.path())
        .env("SEALED_SECRETS_CERT", fixture("cert-2048.pem"))
        .env("SEALED_SECRETS_FORMAT", "yaml")
        .env("SEALED_SECRETS_SCOPE", "cluster-wide")
        .write_stdin(SECRET_YAML)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("---\n"));
    assert!(
        text.contains("sealedsecrets.bitnami.com/cluster-wide: 'true'")
            || text.contains("sealedsecrets.bitnami.com/cluster-wide: \"true\""),
        "{text}"
    );
}

#[test]
fn cert_from_file_url_and_http_url() {
    let home = tempfile::tempdir().unwrap();
    let file_url = format!("file://{}", fixture("cert-2048.pem"));
    let out = kubeseal(home.path())
        .args(["--cert", &file_url])
        .write_stdin(SECRET_YAML)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));

    let pem = std::fs::read(fixture("cert-2048.pem")).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        use std::io::{Read, Write};
        for _ in 0..2 {
            let (mut conn, _) = listener.accept().unwrap();
            let mut buf = [0u8; 4096];
            let n = conn.read(&mut buf).unwrap();
            let request = String::from_utf8_lossy(&buf[..n]).to_string();
            if request.starts_with("GET /v1/cert.pem") {
                write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    pem.len()
                )
                .unwrap();
                conn.write_all(&pem).unwrap();
            } else {
                write!(
                    conn,
                    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
                .unwrap();
            }
        }
    });
    let url = format!("http://127.0.0.1:{port}/v1/cert.pem");
    let out = kubeseal(home.path())
        .args(["--cert", &url])
        .write_stdin(SECRET_YAML)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let missing = format!("http://127.0.0.1:{port}/nope");
    let out = kubeseal(home.path())
        .args(["--cert", &missing])
        .write_stdin(SECRET_YAML)
        .output()
        .unwrap();
    assert_refused(&out, "404");
    server.join().unwrap();
}

#[test]
fn fetch_cert_with_cert_prints_it() {
    let home = tempfile::tempdir().unwrap();
    let out = kubeseal(home.path())
        .args(["--fetch-cert", "--cert", &fixture("cert-2048.pem")])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, std::fs::read(fixture("cert-2048.pem")).unwrap());
}

#[test]
fn flags_that_need_a_cluster_say_so() {
    let home = tempfile::tempdir().unwrap();
    let sealed = std::fs::read_to_string(fixture("reference-sealed.yaml")).unwrap();
    for flag in ["--validate", "--re-encrypt", "--rotate", "--fetch-cert"] {
        let out = kubeseal(home.path())
            .arg(flag)
            .write_stdin(sealed.clone())
            .output()
            .unwrap();
        assert_refused(&out, "no usable kubeconfig");
        assert_refused(
            &out,
            "set KUBECONFIG or --kubeconfig, or seal offline with --cert",
        );
    }
    let out = kubeseal(home.path())
        .write_stdin(SECRET_YAML)
        .output()
        .unwrap();
    assert_refused(
        &out,
        "set KUBECONFIG or --kubeconfig, or seal offline with --cert",
    );
}

#[test]
fn version_and_help() {
    let home = tempfile::tempdir().unwrap();
    let out = kubeseal(home.path()).arg("--version").output().unwrap();
    assert!(stdout(&out).starts_with("kubeseal version: v"));
    let out = kubeseal(home.path()).arg("--help").output().unwrap();
    let help = stdout(&out);
    for flag in [
        "--cert",
        "--controller-name",
        "--controller-namespace",
        "--format",
        "--sealed-secret-file",
        "--secret-file",
        "--fetch-cert",
        "--allow-empty-data",
        "--validate",
        "--merge-into",
        "--raw",
        "--name",
        "--from-file",
        "--kubeconfig",
        "--scope",
        "--re-encrypt",
        "--recovery-unseal",
        "--recovery-private-key",
        "--namespace",
        "--context",
        "--version",
    ] {
        assert!(help.contains(flag), "help lists {flag}");
    }
}

#[test]
fn conflicting_modes_are_refused() {
    let home = tempfile::tempdir().unwrap();
    let out = kubeseal(home.path())
        .args([
            "--raw",
            "--recovery-unseal",
            "--cert",
            &fixture("cert-2048.pem"),
        ])
        .output()
        .unwrap();
    assert_refused(&out, "--recovery-unseal and --raw cannot be used together");
}
