//! `kubeseal admin ...` against the real control plane: each test runs its
//! own controller in its own namespace, used as --controller-namespace.
//! Key listing, backup, restore and prune talk to the API server only, so a
//! controller on the host is enough; rotate's proof and `reencrypt` go
//! through the service proxy, so their controller runs in the node.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use base64::Engine as _;
use sealed_secrets_e2e::controller::{Controller, ControllerOptions};
use sealed_secrets_e2e::kubeconfig::token_kubeconfig;
use sealed_secrets_e2e::kubeseal::{kubeseal, lf, succeeded};
use sealed_secrets_e2e::secrets::{key_secret_names, wait_secret_value, KEY_SELECTOR};
use sealed_secrets_e2e::{poll, ControlPlane, TestNamespace};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(60);
const TICK: Duration = Duration::from_millis(250);

/// The names of the key Secrets in `ns`, sorted.
fn key_names(ns: &TestNamespace) -> Vec<String> {
    key_secret_names(ns).expect("list the key Secrets")
}

/// Fails with `needle` on stderr; returns stdout.
fn refused(out: &Output, needle: &str) -> String {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "expected failure; stderr: {err}\nstdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(needle), "expected {needle:?} in {err}");
    assert!(!err.contains("panicked"), "{err}");
    String::from_utf8(out.stdout.clone()).expect("utf-8")
}

fn admin(cp: &ControlPlane, ns: &str, args: &[&str]) -> Output {
    let mut all = vec!["admin"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--controller-namespace", ns]);
    kubeseal(cp, &all, "").expect("kubeseal runs")
}

fn secret_yaml(ns: &str, name: &str, value: &str) -> String {
    format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: {name}, namespace: {ns}}}\nstringData: {{k: \"{value}\"}}\n")
}

fn seal(cp: &ControlPlane, cert: &Path, ns: &str, name: &str, value: &str, format: &str) -> String {
    let cert = cert.to_string_lossy();
    succeeded(
        &kubeseal(
            cp,
            &["--cert", &cert, "-o", format],
            &secret_yaml(ns, name, value),
        )
        .expect("seal"),
    )
}

fn cert_of(controller: &Controller, path: &Path) -> String {
    let (code, pem) = controller.get("/v1/cert.pem").expect("cert.pem");
    assert_eq!(code, 200, "{pem}");
    std::fs::write(path, &pem).expect("write cert");
    lf(&pem)
}

fn fetch_cert(cp: &ControlPlane, ns: &str) -> String {
    lf(&succeeded(
        &kubeseal(cp, &["--controller-namespace", ns, "--fetch-cert"], "").expect("fetch-cert"),
    ))
}

fn start(cp: &ControlPlane, ns: &TestNamespace) -> Controller {
    ControllerOptions::for_namespace(ns)
        .start(cp)
        .expect("controller starts")
}

/// A controller in a new namespace, and a temporary directory holding its
/// certificate (the path returned last).
fn setup(
    prefix: &str,
) -> (
    &'static ControlPlane,
    TestNamespace,
    Controller,
    tempfile::TempDir,
    PathBuf,
) {
    let cp = ControlPlane::shared().expect("control plane");
    let ns = TestNamespace::create(cp, prefix).expect("namespace");
    let controller = start(cp, &ns);
    let dir = tempfile::tempdir().expect("tempdir");
    let cert = dir.path().join("cert.pem");
    cert_of(&controller, &cert);
    (cp, ns, controller, dir, cert)
}

/// `keys list -o json` for the test's controller, counting only `scan`.
fn key_report(cp: &ControlPlane, ns: &str, scan: &str) -> Value {
    let out = admin(
        cp,
        ns,
        &["keys", "list", "-o", "json", "--watched-namespaces", scan],
    );
    serde_json::from_str(&succeeded(&out)).expect("list -o json is JSON")
}

fn keys(report: &Value) -> Vec<Value> {
    report["keys"].as_array().cloned().unwrap_or_default()
}

fn sealing_fingerprint(report: &Value) -> String {
    keys(report)
        .iter()
        .find(|k| k["sealing"] == true)
        .and_then(|k| k["fingerprint"].as_str())
        .expect("a sealing key")
        .to_string()
}

/// Waits until the controller recorded which key opened SealedSecret `name`.
fn wait_fingerprint(ns: &TestNamespace, name: &str) -> String {
    poll(&format!("{name} status.keyFingerprint"), WAIT, TICK, || {
        Ok(ns
            .kubectl()
            .get_optional("sealedsecret", name)?
            .and_then(|ss| ss["status"]["keyFingerprint"].as_str().map(str::to_string)))
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

fn wait_value(ns: &TestNamespace, name: &str, expected: &str) {
    wait_secret_value(ns, name, "k", expected).unwrap_or_else(|e| panic!("{e}"));
}

/// A kubeconfig for ServiceAccount `account` of `ns` (its token only).
fn kubeconfig_for(cp: &ControlPlane, ns: &TestNamespace, account: &str, dir: &Path) -> String {
    let token = ns
        .kubectl()
        .run(["create", "token", account])
        .expect("token");
    let path = dir.join(format!("{account}.kubeconfig"));
    token_kubeconfig(cp, &path, account, &token).expect("kubeconfig")
}

#[test]
fn list_shows_keys_and_how_many_sealed_secrets_each_opens() {
    let (cp, ns, controller, _dir, cert) = setup("admin-list");
    let other = TestNamespace::create(cp, "admin-list-other").expect("namespace");

    for (name, value) in [("one", "1"), ("two", "2")] {
        ns.kubectl()
            .apply(&seal(cp, &cert, ns.name(), name, value, "yaml"))
            .expect("apply");
    }
    let fp = wait_fingerprint(&ns, "one");
    assert_eq!(wait_fingerprint(&ns, "two"), fp);
    // No controller watches `other`: this one records no key.
    other
        .kubectl()
        .apply(&seal(cp, &cert, other.name(), "three", "3", "yaml"))
        .expect("apply");

    let scan = format!("{},{}", ns.name(), other.name());
    let report = key_report(cp, ns.name(), &scan);
    let listed = keys(&report);
    assert_eq!(listed.len(), 1, "{report}");
    let key = &listed[0];
    assert_eq!(key["fingerprint"], fp.as_str());
    assert_eq!(key["sealing"], true);
    assert_eq!(key["sealedSecrets"], 2, "{report}");
    assert_eq!(key["secret"], key_names(&ns)[0].as_str());
    for field in ["created", "expires"] {
        let t = key[field].as_str().expect("timestamp");
        assert!(
            t.len() == 20 && t.ends_with('Z') && t.as_bytes()[10] == b'T',
            "RFC3339: {t}"
        );
    }
    assert_eq!(report["namespace"], ns.name());
    assert_eq!(report["totalSealedSecrets"], 3);
    assert_eq!(report["unknownSealedSecrets"], 1);

    // The default counts every namespace; the cluster flags also work before `admin`.
    let out = kubeseal(
        cp,
        &["--controller-namespace", ns.name(), "admin", "keys", "list"],
        "",
    )
    .expect("list");
    let table = succeeded(&out);
    let mut lines = table.lines();
    let header = lines.next().expect("header");
    for column in [
        "NAME",
        "FINGERPRINT",
        "CREATED",
        "EXPIRES",
        "STATE",
        "SEALEDSECRETS",
    ] {
        assert!(header.contains(column), "{table}");
    }
    let row = lines.next().expect("row");
    assert!(
        row.contains(&fp) && row.contains(" sealing ") && row.trim_end().ends_with(" 2"),
        "{table}"
    );
    assert!(table.contains("in all namespaces; unknown: "), "{table}");

    // A legacy key (unlabelled, named exactly as the prefix) and a broken labelled one.
    let original = ns
        .kubectl()
        .get_json(["get", "secret", &key_names(&ns)[0]])
        .expect("key secret");
    let legacy = serde_json::json!({
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
        "metadata": {"name": "sealed-secrets-key"},
        "data": original["data"],
    });
    ns.kubectl()
        .create(&legacy.to_string())
        .expect("legacy key");
    ns.kubectl()
        .create(&format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: broken-key, labels: {{{}: active}}}}\nstringData: {{tls.crt: nope}}\n",
            KEY_SELECTOR.split('=').next().unwrap_or_default()
        ))
        .expect("broken key");
    let report = key_report(cp, ns.name(), ns.name());
    let listed = keys(&report);
    let names: Vec<&str> = listed
        .iter()
        .filter_map(|k| k["secret"].as_str())
        .map(|s| match s {
            "sealed-secrets-key" | "broken-key" => s,
            _ => "generated",
        })
        .collect();
    assert_eq!(names.len(), 3, "{report}");
    assert!(names.contains(&"sealed-secrets-key") && names.contains(&"broken-key"));
    let broken = keys(&report)
        .into_iter()
        .find(|k| k["secret"] == "broken-key")
        .expect("broken listed");
    assert!(
        broken["error"]
            .as_str()
            .unwrap_or_default()
            .contains("tls.key"),
        "{broken}"
    );
    let table = succeeded(&admin(
        cp,
        ns.name(),
        &["keys", "list", "--watched-namespaces", ns.name()],
    ));
    assert!(
        table.contains("<unreadable>") && table.contains("warning: secret broken-key"),
        "{table}"
    );
    assert!(!table.contains("PRIVATE KEY"), "no key material: {table}");
    drop(controller);
}

#[test]
fn rotate_creates_a_key_the_running_controller_serves() {
    let cp = ControlPlane::shared().expect("control plane");
    let ns = TestNamespace::create(cp, "admin-rotate").expect("namespace");
    let _controller = ControllerOptions::for_namespace(&ns)
        .in_node()
        .start(cp)
        .expect("controller in node");
    let before = fetch_cert(cp, ns.name());
    let old_names = key_names(&ns);
    assert_eq!(old_names.len(), 1);

    let out = admin(
        cp,
        ns.name(),
        &[
            "keys",
            "rotate",
            "--key-size",
            "2048",
            "--my-cn",
            "admin-e2e",
            "--key-ttl",
            "48h",
        ],
    );
    let pem = lf(&succeeded(&out));
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    assert_ne!(pem, before);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("created key Secret")
            && !err.contains("PRIVATE KEY")
            && !err.contains("warning"),
        "{err}"
    );

    // The controller, not restarted, serves the new certificate through the proxy.
    poll(
        "the new certificate served",
        WAIT,
        Duration::from_millis(500),
        || Ok((fetch_cert(cp, ns.name()) == pem).then_some(())),
    )
    .expect("controller picked up the new key");

    // Same shape as the controller's own key Secrets.
    let names = key_names(&ns);
    assert_eq!(names.len(), 2);
    let new_name = names
        .iter()
        .find(|n| !old_names.contains(n))
        .expect("a new key Secret");
    assert!(
        new_name.starts_with("sealed-secrets-key") && new_name.len() > "sealed-secrets-key".len()
    );
    let secret = ns
        .kubectl()
        .get_json(["get", "secret", new_name])
        .expect("new key secret");
    assert_eq!(secret["type"], "kubernetes.io/tls");
    assert!(secret["data"]["tls.crt"].is_string() && secret["data"]["tls.key"].is_string());
    let key_pem = secret["data"]["tls.key"]
        .as_str()
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    assert!(
        key_pem.starts_with("-----BEGIN RSA PRIVATE KEY-----"),
        "PKCS#1"
    );

    let report = key_report(cp, ns.name(), ns.name());
    let newest = keys(&report)
        .into_iter()
        .find(|k| k["sealing"] == true)
        .expect("sealing key");
    assert_eq!(newest["secret"], new_name.as_str());
    let (created, expires) = (
        newest["created"].as_str().unwrap_or_default(),
        newest["expires"].as_str().unwrap_or_default(),
    );
    assert_ne!(created[..10], expires[..10], "--key-ttl 48h: {newest}");

    // Refused where there is no key: probably the wrong namespace.
    let empty = TestNamespace::create(cp, "admin-rotate-empty").expect("namespace");
    let out = admin(cp, empty.name(), &["keys", "rotate", "--key-size", "2048"]);
    refused(&out, "wrong --controller-namespace?");
    refused(&out, "--force");
    assert!(key_names(&empty).is_empty());
}

#[test]
fn backup_opens_sealed_secrets_offline_and_restore_brings_the_keys_back() {
    let (cp, ns, controller, dir, cert) = setup("admin-backup");
    let sealed = seal(cp, &cert, ns.name(), "db", "hunter2", "yaml");
    ns.kubectl().apply(&sealed).expect("apply");
    let fp = wait_fingerprint(&ns, "db");

    let yaml = dir.path().join("keys.yaml");
    let json = dir.path().join("keys.json");
    for file in [&yaml, &json] {
        let report = succeeded(&admin(
            cp,
            ns.name(),
            &["keys", "backup", "-o", &file.to_string_lossy()],
        ));
        assert!(report.contains("backed up 1 key Secret"), "{report}");
        assert!(!report.contains("PRIVATE KEY"));
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(file)
            .expect("backup")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{}", file.display());
    }
    let text = std::fs::read_to_string(&yaml).expect("read");
    assert!(
        text.contains("kind: List") && text.contains("kind: Secret"),
        "{text}"
    );
    for server_field in [
        "uid:",
        "resourceVersion",
        "creationTimestamp",
        "managedFields",
    ] {
        assert!(
            !text.contains(server_field),
            "{server_field} stripped: {text}"
        );
    }
    let list: Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("read")).expect("JSON backup");
    assert_eq!(list["kind"], "List");
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));

    // Disaster recovery: the backup opens the SealedSecret without any cluster.
    for file in [&yaml, &json] {
        let out = kubeseal(
            cp,
            &[
                "--recovery-unseal",
                "--recovery-private-key",
                &file.to_string_lossy(),
            ],
            &sealed,
        )
        .expect("recovery-unseal");
        let secret: Value = serde_json::from_str(&succeeded(&out)).expect("secret JSON");
        assert_eq!(secret["data"]["k"], "aHVudGVyMg==", "hunter2");
    }

    // Lose the keys, restore them, and a new controller opens old SealedSecrets again.
    controller.stop().expect("stop");
    ns.kubectl()
        .run(["delete", "secret", "-l", KEY_SELECTOR])
        .expect("delete keys");
    assert!(key_names(&ns).is_empty());
    refused(
        &admin(
            cp,
            ns.name(),
            &[
                "keys",
                "backup",
                "-o",
                &dir.path().join("none.yaml").to_string_lossy(),
            ],
        ),
        "no sealing keys found",
    );
    assert!(!dir.path().join("none.yaml").exists(), "nothing written");

    let out = succeeded(&admin(
        cp,
        ns.name(),
        &["keys", "restore", &yaml.to_string_lossy()],
    ));
    assert!(
        out.contains(&format!("created {}/", ns.name())) && out.contains(&fp),
        "{out}"
    );
    assert!(out.contains("1 created, 0 skipped"), "{out}");
    let again = succeeded(&admin(
        cp,
        ns.name(),
        &["keys", "restore", &json.to_string_lossy()],
    ));
    assert!(
        again.contains("already present") && again.contains("0 created, 1 skipped"),
        "{again}"
    );
    assert_eq!(key_names(&ns).len(), 1, "never duplicated");

    let controller = start(cp, &ns);
    let sealed2 = seal(cp, &cert, ns.name(), "db2", "again", "yaml");
    ns.kubectl().apply(&sealed2).expect("apply");
    wait_value(&ns, "db2", "again");
    assert_eq!(wait_fingerprint(&ns, "db2"), fp);
    let report = key_report(cp, ns.name(), ns.name());
    assert_eq!(
        keys(&report).len(),
        1,
        "the restarted controller made no new key: {report}"
    );
    assert_eq!(sealing_fingerprint(&report), fp);
    drop(controller);
}

#[test]
fn prune_dry_run_refusals_and_deletion() {
    let (cp, ns, controller, _dir, cert) = setup("admin-prune");
    let other = TestNamespace::create(cp, "admin-prune-other").expect("namespace");
    let old_name = key_names(&ns)[0].clone();
    ns.kubectl()
        .apply(&seal(cp, &cert, ns.name(), "a", "1", "yaml"))
        .expect("apply");
    let old_fp = wait_fingerprint(&ns, "a");

    // Only one key: nothing to prune, whatever the age.
    let out = succeeded(&admin(
        cp,
        ns.name(),
        &[
            "keys",
            "prune",
            "--older-than",
            "0s",
            "--watched-namespaces",
            ns.name(),
        ],
    ));
    assert!(out.contains("nothing to prune"), "{out}");

    // Certificate times have one-second resolution: make the new key newer.
    std::thread::sleep(Duration::from_millis(1100));
    succeeded(&admin(
        cp,
        ns.name(),
        &["keys", "rotate", "--key-size", "2048"],
    ));
    std::thread::sleep(Duration::from_secs(2));
    let own = ["--watched-namespaces", ns.name()];

    // The newest key is never a candidate.
    let out = succeeded(&admin(
        cp,
        ns.name(),
        &[&["keys", "prune", "--older-than", "1000d"][..], &own].concat(),
    ));
    assert!(out.contains("nothing to prune"), "{out}");

    // `a` still needs the old key.
    let out = admin(
        cp,
        ns.name(),
        &[&["keys", "prune", "--older-than", "1s", "--yes"][..], &own].concat(),
    );
    let report = refused(&out, "refused to delete 1 key(s) still in use");
    assert!(
        report.contains(&format!("refused {old_name} ({old_fp}"))
            && report.contains(&format!("{}/a", ns.name())),
        "{report}"
    );
    assert_eq!(key_names(&ns).len(), 2);

    // A SealedSecret nobody unsealed (no status) still needs the old key:
    // prune reads its items, so it refuses, and --force does not change that.
    other
        .kubectl()
        .apply(&seal(
            cp,
            &cert,
            other.name(),
            "nobody-watches",
            "x",
            "yaml",
        ))
        .expect("apply");
    let both = format!("{},{}", ns.name(), other.name());
    let scan = ["--watched-namespaces", both.as_str()];

    // Once `a` is gone: dry run first, counting only our namespace.
    ns.kubectl()
        .run(["delete", "sealedsecret", "a"])
        .expect("delete a");
    let out = succeeded(&admin(
        cp,
        ns.name(),
        &[&["keys", "prune", "--older-than", "1s"][..], &own].concat(),
    ));
    assert!(
        out.contains(&format!("would delete {old_name} ({old_fp}")),
        "{out}"
    );
    assert!(out.contains("dry run: nothing deleted"), "{out}");
    assert_eq!(key_names(&ns).len(), 2, "dry run deletes nothing");

    for force in [&[][..], &["--force"][..]] {
        let out = admin(
            cp,
            ns.name(),
            &[
                &["keys", "prune", "--older-than", "1s", "--yes"][..],
                &scan,
                force,
            ]
            .concat(),
        );
        let report = refused(&out, "refused to delete 1 key(s) still in use");
        assert!(
            report.contains(&format!("{}/nobody-watches", other.name())),
            "{report}"
        );
        assert_eq!(key_names(&ns).len(), 2);
    }
    other
        .kubectl()
        .run(["delete", "sealedsecret", "nobody-watches"])
        .expect("delete nobody-watches");
    let out = succeeded(&admin(
        cp,
        ns.name(),
        &[&["keys", "prune", "--older-than", "1s", "--yes"][..], &scan].concat(),
    ));
    assert!(out.contains(&format!("deleted {old_name}")), "{out}");
    let names = key_names(&ns);
    assert_eq!(names.len(), 1);
    assert_ne!(names[0], old_name);
    drop(controller);
}

#[test]
fn reencrypt_rewrites_files_that_still_unseal() {
    let cp = ControlPlane::shared().expect("control plane");
    let ns = TestNamespace::create(cp, "admin-reencrypt").expect("namespace");
    let _controller = ControllerOptions::for_namespace(&ns)
        .in_node()
        .start(cp)
        .expect("controller in node");
    let dir = tempfile::tempdir().expect("tempdir");
    let cert = dir.path().join("cert.pem");
    std::fs::write(&cert, fetch_cert(cp, ns.name())).expect("cert");

    let tree = dir.path().join("repo");
    std::fs::create_dir_all(tree.join("sub")).expect("mkdir");
    let a = tree.join("a.yaml");
    let b = tree.join("sub").join("b.json");
    let c = tree.join("c.yaml");
    let a_text = format!(
        "{}{}",
        seal(cp, &cert, ns.name(), "s1", "one", "yaml"),
        seal(cp, &cert, ns.name(), "s2", "two", "yaml")
    );
    let b_text = seal(cp, &cert, ns.name(), "s3", "three", "json");
    let c_text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";
    std::fs::write(&a, &a_text).expect("write");
    std::fs::write(&b, &b_text).expect("write");
    std::fs::write(&c, c_text).expect("write");

    // A new key the controller picks up; re-encryption moves everything to it.
    std::thread::sleep(Duration::from_millis(1100)); // one-second certificate times
    let new_pem = lf(&succeeded(&admin(
        cp,
        ns.name(),
        &["keys", "rotate", "--key-size", "2048"],
    )));
    poll(
        "the new certificate served",
        WAIT,
        Duration::from_millis(500),
        || Ok((fetch_cert(cp, ns.name()) == new_pem).then_some(())),
    )
    .expect("new key in use");
    let new_fp = sealing_fingerprint(&key_report(cp, ns.name(), ns.name()));

    let out = admin(cp, ns.name(), &["reencrypt", &tree.to_string_lossy()]);
    let report = succeeded(&out);
    assert!(
        report.contains(&format!("reencrypted {} (2 SealedSecrets)", a.display())),
        "{report}"
    );
    assert!(
        report.contains(&format!("reencrypted {} (1 SealedSecret)", b.display())),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "skipped {}: document 1 is a ConfigMap",
            c.display()
        )),
        "{report}"
    );
    assert_eq!(std::fs::read_to_string(&c).expect("c"), c_text, "untouched");
    let a_new = std::fs::read_to_string(&a).expect("a");
    let b_new = std::fs::read_to_string(&b).expect("b");
    assert!(
        a_new.starts_with("---\n") && a_new.matches("kind: SealedSecret").count() == 2,
        "{a_new}"
    );
    assert_ne!(a_new, a_text);
    assert!(b_new.starts_with('{') && b_new != b_text, "{b_new}");

    for file in [&a, &b] {
        ns.kubectl()
            .run(["apply", "-f", &file.to_string_lossy()])
            .expect("apply");
    }
    for (name, value) in [("s1", "one"), ("s2", "two"), ("s3", "three")] {
        wait_value(&ns, name, value);
        assert_eq!(
            wait_fingerprint(&ns, name),
            new_fp,
            "{name} opened with the new key"
        );
    }

    // One file fails: a clear error naming it, earlier files done, it untouched.
    let good = dir.path().join("good.yaml");
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&good, &a_text).expect("write");
    let moved = seal(cp, &cert, ns.name(), "s9", "nine", "yaml").replace("name: s9", "name: moved");
    std::fs::write(&bad, &moved).expect("write");
    let out = admin(
        cp,
        ns.name(),
        &["reencrypt", &good.to_string_lossy(), &bad.to_string_lossy()],
    );
    let report = refused(&out, &format!("cannot re-encrypt {}", bad.display()));
    refused(
        &out,
        &format!(
            "no key of the controller opens SealedSecret {}/moved",
            ns.name()
        ),
    );
    assert!(
        report.contains(&format!("reencrypted {}", good.display())),
        "{report}"
    );
    assert_eq!(std::fs::read_to_string(&bad).expect("bad"), moved);
    succeeded(
        &kubeseal(
            cp,
            &[
                "--controller-namespace",
                ns.name(),
                "--validate",
                "-f",
                &good.to_string_lossy(),
            ],
            "",
        )
        .expect("validate"),
    );

    // No controller Service where we look.
    let empty = TestNamespace::create(cp, "admin-reencrypt-none").expect("namespace");
    let out = admin(cp, empty.name(), &["reencrypt", &good.to_string_lossy()]);
    refused(&out, "--controller-name and --controller-namespace");
}

#[test]
fn errors_name_the_missing_permission() {
    let cp = ControlPlane::shared().expect("control plane");
    let ns = TestNamespace::create(cp, "admin-rbac").expect("namespace");
    let controller = start(cp, &ns);
    let dir = tempfile::tempdir().expect("tempdir");

    // May read Secrets here, nothing more.
    ns.kubectl()
        .apply(&format!(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: reader}}\n---\n\
             apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: secret-reader}}\n\
             rules: [{{apiGroups: [\"\"], resources: [secrets], verbs: [get, list]}}]\n---\n\
             apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: reader}}\n\
             roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: secret-reader}}\n\
             subjects: [{{kind: ServiceAccount, name: reader, namespace: {}}}]\n",
            ns.name()
        ))
        .expect("rbac");
    ns.kubectl()
        .run(["create", "serviceaccount", "nobody"])
        .expect("sa");
    let reader = kubeconfig_for(cp, &ns, "reader", dir.path());
    let nobody = kubeconfig_for(cp, &ns, "nobody", dir.path());

    let out = admin(cp, ns.name(), &["keys", "list", "--kubeconfig", &nobody]);
    refused(&out, "forbidden");
    refused(
        &out,
        &format!("`list secrets` in namespace {:?}", ns.name()),
    );
    refused(&out, "kubectl auth can-i list secrets");

    // Keys listed; the per-key counts need a cluster-wide read it lacks.
    let out = admin(cp, ns.name(), &["keys", "list", "--kubeconfig", &reader]);
    let table = succeeded(&out);
    assert!(
        table
            .lines()
            .nth(1)
            .is_some_and(|row| row.trim_end().ends_with('?')),
        "{table}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot count SealedSecrets")
            && err.contains("`list sealedsecrets.bitnami.com` in all namespaces"),
        "{err}"
    );

    let out = admin(
        cp,
        ns.name(),
        &[
            "keys",
            "rotate",
            "--key-size",
            "2048",
            "--kubeconfig",
            &reader,
        ],
    );
    refused(
        &out,
        &format!("`create secrets` in namespace {:?}", ns.name()),
    );
    assert_eq!(key_names(&ns).len(), 1, "nothing created");

    let backup = dir.path().join("keys.yaml");
    succeeded(&admin(
        cp,
        ns.name(),
        &[
            "keys",
            "backup",
            "-o",
            &backup.to_string_lossy(),
            "--kubeconfig",
            &reader,
        ],
    ));
    // Restoring into another namespace without create rights there.
    let elsewhere = TestNamespace::create(cp, "admin-rbac-restore").expect("namespace");
    let out = admin(
        cp,
        elsewhere.name(),
        &[
            "keys",
            "restore",
            &backup.to_string_lossy(),
            "--kubeconfig",
            &reader,
        ],
    );
    refused(&out, "forbidden");
    // Into an existing name held by another Secret: never overwritten.
    elsewhere
        .kubectl()
        .run([
            "create",
            "secret",
            "generic",
            &key_names(&ns)[0],
            "--from-literal=x=y",
        ])
        .expect("squatter");
    let out = succeeded(&admin(
        cp,
        elsewhere.name(),
        &["keys", "restore", &backup.to_string_lossy()],
    ));
    assert!(
        out.contains("was taken") && out.contains("1 created"),
        "{out}"
    );
    let squatter = elsewhere
        .kubectl()
        .get_json(["get", "secret", &key_names(&ns)[0]])
        .expect("squatter");
    assert_eq!(squatter["data"]["x"], "eQ==", "left as it was");
    assert_eq!(key_names(&elsewhere).len(), 1);
    drop(controller);
}
