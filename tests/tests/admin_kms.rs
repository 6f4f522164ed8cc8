//! `kubeseal admin keys wrap` / `unwrap` and the other admin commands with
//! KMS-wrapped keys, against the real control plane and the real KMS v2 test
//! plugin (SoftHSM, `scripts/kms-softhsm`, built by
//! `scripts/install-tools kms`): each test makes its own token in a
//! temporary directory and starts the plugin on it. The keys are made by
//! `kubeseal admin keys rotate` in the test's namespace; no controller runs
//! there (tests/tests/kms.rs has the migration under our controller).

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use base64::Engine as _;
use sealed_secrets_e2e::binaries::reference_controller;
use sealed_secrets_e2e::controller::ControllerOptions;
use sealed_secrets_e2e::crd::install_crd;
use sealed_secrets_e2e::kms::KmsPlugin;
use sealed_secrets_e2e::kubeconfig::token_kubeconfig;
use sealed_secrets_e2e::kubeseal::{kubeseal, succeeded};
use sealed_secrets_e2e::secrets::{names_labelled, wait_secret_value};
use sealed_secrets_e2e::{ControlPlane, TestNamespace};
use serde_json::Value;

const ACTIVE: &str = "sealedsecrets.bitnami.com/sealed-secrets-key=active";
const WRAPPED: &str = "sealedsecrets.bitnami.com/sealed-secrets-key=kms-v2";
const CREATED: &str = "sealedsecrets.bitnami.com/key-created";

fn admin(cp: &ControlPlane, ns: &str, args: &[&str]) -> Output {
    let mut all = vec!["admin"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--controller-namespace", ns]);
    kubeseal(cp, &all, "").expect("kubeseal runs")
}

/// Fails with every one of `needles` on stderr; returns stdout.
fn refused(out: &Output, needles: &[&str]) -> String {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "expected failure; stderr: {err}\nstdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(err.starts_with("error: "), "{err}");
    for needle in needles {
        assert!(err.contains(needle), "expected {needle:?} in {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A new key (2048 bits) in `ns`; its certificate is written to `cert`.
fn rotate(cp: &ControlPlane, ns: &str, cert: &Path) {
    let pem = succeeded(&admin(
        cp,
        ns,
        &["keys", "rotate", "--force", "--key-size", "2048"],
    ));
    std::fs::write(cert, pem).expect("write cert");
}

fn seal(cp: &ControlPlane, cert: &Path, ns: &str, name: &str, value: &str) -> String {
    let secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: {name}, namespace: {ns}}}\nstringData: {{k: \"{value}\"}}\n"
    );
    succeeded(
        &kubeseal(
            cp,
            &["--cert", &cert.to_string_lossy(), "-o", "yaml"],
            &secret,
        )
        .expect("seal"),
    )
}

/// `data.k` of what `--recovery-unseal` opens `sealed` into with `keys`.
fn recover(cp: &ControlPlane, keys: &Path, extra: &[&str], sealed: &str) -> Output {
    let keys = keys.to_string_lossy();
    let mut args = vec!["--recovery-unseal", "--recovery-private-key", &keys];
    args.extend_from_slice(extra);
    kubeseal(cp, &args, sealed).expect("recovery-unseal runs")
}

fn recovered_value(out: &Output) -> String {
    let secret: Value = serde_json::from_str(&succeeded(out)).expect("secret JSON");
    let value = secret["data"]["k"].as_str().unwrap_or_default();
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(value)
            .expect("base64"),
    )
    .expect("utf-8")
}

fn secrets(ns: &TestNamespace) -> Vec<Value> {
    ns.kubectl().get_json(["get", "secrets"]).expect("secrets")["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// No Secret in `ns` holds a private key in the clear.
fn no_private_key(ns: &TestNamespace) {
    for s in secrets(ns) {
        let data = s["data"].as_object().cloned().unwrap_or_default();
        assert!(!data.contains_key("tls.key"), "{s}");
        let text = s.to_string();
        for value in data.values() {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(value.as_str().unwrap_or_default())
                .unwrap_or_default();
            assert!(
                !String::from_utf8_lossy(&bytes).contains("PRIVATE KEY"),
                "{text}"
            );
        }
    }
}

fn labelled(ns: &TestNamespace, selector: &str) -> Vec<String> {
    names_labelled(&ns.kubectl(), selector).expect("list")
}

fn get(ns: &TestNamespace, name: &str) -> Value {
    ns.kubectl()
        .get_json(["get", "secret", name])
        .expect("secret")
}

fn report(cp: &ControlPlane, ns: &str) -> Vec<Value> {
    let out = admin(
        cp,
        ns,
        &["keys", "list", "-o", "json", "--watched-namespaces", ns],
    );
    let report: Value = serde_json::from_str(&succeeded(&out)).expect("JSON");
    report["keys"].as_array().cloned().unwrap_or_default()
}

#[test]
fn wrap_list_backup_prune_recover_and_unwrap_back() {
    let cp = ControlPlane::shared().expect("control plane");
    let ns = TestNamespace::create(cp, "kms-wrap").expect("namespace");
    let dir = tempfile::tempdir().expect("tempdir");
    let (old_cert, new_cert) = (dir.path().join("old.pem"), dir.path().join("new.pem"));
    rotate(cp, ns.name(), &old_cert);
    // Certificate times have one-second resolution: the second one seals.
    std::thread::sleep(Duration::from_millis(1100));
    rotate(cp, ns.name(), &new_cert);
    let plain = labelled(&ns, ACTIVE);
    assert_eq!(plain.len(), 2);
    ns.kubectl()
        .run(["label", "secret", &plain[0], "team=a"])
        .expect("label");
    let before: Vec<Value> = plain.iter().map(|n| get(&ns, n)).collect();
    let old_sealed = seal(cp, &old_cert, ns.name(), "old", "one");
    let new_sealed = seal(cp, &new_cert, ns.name(), "new", "two");
    let plugin = KmsPlugin::start(cp).expect("the KMS plugin");
    let kms = plugin.endpoint();
    let with_kms = ["--kms-endpoint", kms.as_str()];

    // No KMS given: refused, nothing changed.
    refused(
        &admin(cp, ns.name(), &["keys", "wrap"]),
        &["--kms-endpoint", "nothing was changed"],
    );
    let out = succeeded(&admin(
        cp,
        ns.name(),
        &["keys", "wrap", "--dry-run", "--kms-endpoint", &kms],
    ));
    assert_eq!(out.matches("would wrap").count(), 2, "{out}");
    assert!(
        out.contains("KMS key_id kek-1") && out.contains("dry run"),
        "{out}"
    );
    assert_eq!(labelled(&ns, ACTIVE), plain, "dry run");

    // Wrap: one line per key, every plain Secret replaced.
    let out = succeeded(&admin(
        cp,
        ns.name(),
        &["keys", "wrap", "--kms-endpoint", &kms],
    ));
    let lines: Vec<&str> = out.lines().filter(|l| l.starts_with("wrapped ")).collect();
    assert_eq!(lines.len(), 2, "{out}");
    for name in &plain {
        assert!(
            lines
                .iter()
                .any(|l| l.contains(name.as_str()) && l.ends_with(&format!("deleted {name}"))),
            "{out}"
        );
    }
    assert!(labelled(&ns, ACTIVE).is_empty());
    let wrapped = labelled(&ns, WRAPPED);
    assert_eq!(wrapped.len(), 2);
    no_private_key(&ns);
    for name in &wrapped {
        let s = get(&ns, name);
        assert_eq!(s["type"], "sealedsecrets.bitnami.com/kms-wrapped-key");
        assert_eq!(
            s["metadata"]["annotations"]["sealedsecrets.bitnami.com/kms-key-id"],
            "kek-1"
        );
        // Same certificate as one of the plain ones, same first creation time.
        let original = before
            .iter()
            .find(|b| b["data"]["tls.crt"] == s["data"]["tls.crt"])
            .expect("the certificate of a plain key");
        assert_eq!(
            s["metadata"]["annotations"][CREATED].as_str(),
            original["metadata"]["creationTimestamp"].as_str(),
            "{s}"
        );
        assert_eq!(
            s["metadata"]["labels"]["team"],
            original["metadata"]["labels"]["team"]
        );
    }
    // Again: nothing left to do.
    let out = succeeded(&admin(
        cp,
        ns.name(),
        &["keys", "wrap", "--kms-endpoint", &kms],
    ));
    assert!(out.contains("nothing to do"), "{out}");

    // list works without the KMS: the certificates are in the clear.
    let listed = report(cp, ns.name());
    assert_eq!(listed.len(), 2, "{listed:?}");
    for k in &listed {
        assert_eq!(k["custody"], "kms", "{k}");
        assert_eq!(k["kmsKeyId"], "kek-1", "{k}");
        assert!(k["fingerprint"].is_string(), "{k}");
    }
    assert_eq!(listed.iter().filter(|k| k["sealing"] == true).count(), 1);
    let table = succeeded(&admin(
        cp,
        ns.name(),
        &["keys", "list", "--watched-namespaces", ns.name()],
    ));
    assert!(
        table.contains("CUSTODY") && table.matches("kms:kek-1").count() == 2,
        "{table}"
    );

    // backup: the wrapped Secrets as they are; no private key in it.
    let backup = dir.path().join("wrapped.yaml");
    let out = succeeded(&admin(
        cp,
        ns.name(),
        &["keys", "backup", "-o", &backup.to_string_lossy()],
    ));
    assert!(
        out.contains("backed up 2 key Secrets") && out.contains("all 2 KMS-wrapped"),
        "{out}"
    );
    let text = std::fs::read_to_string(&backup).expect("backup");
    assert!(
        !text.contains("tls.key")
            && !text.contains("PRIVATE KEY")
            && text.contains("kms.sealed-key"),
        "{text}"
    );

    // Disaster recovery from the wrapped backup: with the KMS, and only so.
    for (sealed, value) in [(&old_sealed, "one"), (&new_sealed, "two")] {
        assert_eq!(
            recovered_value(&recover(cp, &backup, &with_kms, sealed)),
            value
        );
    }
    refused(
        &recover(cp, &backup, &[], &old_sealed),
        &["KMS-wrapped", "--kms-endpoint"],
    );

    // prune: whether the old, wrapped key is still needed takes its private key.
    install_crd(cp).expect("CRD");
    ns.kubectl().apply(&old_sealed).expect("apply");
    let prune = [
        "keys",
        "prune",
        "--older-than",
        "0s",
        "--watched-namespaces",
        ns.name(),
    ];
    refused(
        &admin(cp, ns.name(), &prune),
        &["KMS-wrapped", "--kms-endpoint", "nothing was deleted"],
    );
    let out = refused(
        &admin(cp, ns.name(), &[&prune[..], &with_kms].concat()),
        &["still in use"],
    );
    assert!(out.contains(&format!("{}/old", ns.name())), "{out}");
    assert_eq!(labelled(&ns, WRAPPED).len(), 2, "nothing pruned");

    // restore takes wrapped Secrets back, without the KMS.
    let elsewhere = TestNamespace::create(cp, "kms-restore").expect("namespace");
    let out = succeeded(&admin(
        cp,
        elsewhere.name(),
        &["keys", "restore", &backup.to_string_lossy()],
    ));
    assert!(
        out.contains("2 created") && out.contains("KMS-wrapped with KMS key_id kek-1"),
        "{out}"
    );
    assert_eq!(labelled(&elsewhere, WRAPPED).len(), 2);
    no_private_key(&elsewhere);

    // Unwrap: plain key Secrets as the reference makes them, same keys.
    let out = succeeded(&admin(
        cp,
        ns.name(),
        &["keys", "unwrap", "--kms-endpoint", &kms],
    ));
    assert_eq!(
        out.lines().filter(|l| l.starts_with("unwrapped ")).count(),
        2,
        "{out}"
    );
    assert!(labelled(&ns, WRAPPED).is_empty());
    let back = labelled(&ns, ACTIVE);
    assert_eq!(back.len(), 2);
    for name in &back {
        let s = get(&ns, name);
        assert_eq!(s["type"], "kubernetes.io/tls");
        let key = base64::engine::general_purpose::STANDARD
            .decode(s["data"]["tls.key"].as_str().unwrap_or_default())
            .expect("tls.key");
        assert!(
            String::from_utf8_lossy(&key).starts_with("-----BEGIN RSA PRIVATE KEY-----"),
            "PKCS#1"
        );
        let original = before
            .iter()
            .find(|b| b["data"]["tls.crt"] == s["data"]["tls.crt"])
            .expect("the certificate of a plain key");
        assert_eq!(
            s["data"]["tls.key"], original["data"]["tls.key"],
            "same key"
        );
        assert_eq!(
            s["metadata"]["annotations"][CREATED].as_str(),
            original["metadata"]["creationTimestamp"].as_str()
        );
        assert!(
            s["metadata"]["annotations"]
                .get("sealedsecrets.bitnami.com/kms-key-id")
                .is_none(),
            "{s}"
        );
    }
    let plain_backup = dir.path().join("plain.yaml");
    succeeded(&admin(
        cp,
        ns.name(),
        &["keys", "backup", "-o", &plain_backup.to_string_lossy()],
    ));
    assert_eq!(
        recovered_value(&recover(cp, &plain_backup, &[], &old_sealed)),
        "one"
    );

    // The reference controller takes the unwrapped keys and opens old SealedSecrets.
    let Some(reference) = reference_controller(cp) else {
        return;
    };
    let _controller = ControllerOptions::for_namespace(&ns)
        .binary(reference)
        .in_cluster()
        .start(cp)
        .expect("reference controller starts");
    ns.kubectl().apply(&new_sealed).expect("apply");
    wait_secret_value(&ns, "old", "k", "one").unwrap_or_else(|e| panic!("{e}"));
    wait_secret_value(&ns, "new", "k", "two").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(labelled(&ns, ACTIVE), back, "it made no key of its own");
}

#[test]
fn an_interrupted_wrap_or_unwrap_resumes_without_a_second_copy() {
    let cp = ControlPlane::shared().expect("control plane");
    let ns = TestNamespace::create(cp, "kms-resume").expect("namespace");
    let dir = tempfile::tempdir().expect("tempdir");
    let cert = dir.path().join("cert.pem");
    rotate(cp, ns.name(), &cert);
    let plain = labelled(&ns, ACTIVE);
    let sealed = seal(cp, &cert, ns.name(), "db", "hunter2");
    let mut plugin = KmsPlugin::start(cp).expect("the KMS plugin");
    let kms = plugin.endpoint();

    // An account that may create Secrets but not delete them: the run
    // stops between creating the new Secret and deleting the old one, as a
    // crash there would.
    ns.kubectl()
        .apply(&format!(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: nodelete}}\n---\n\
             apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: nodelete}}\n\
             rules: [{{apiGroups: [\"\"], resources: [secrets], verbs: [get, list, create]}}]\n---\n\
             apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: nodelete}}\n\
             roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: nodelete}}\n\
             subjects: [{{kind: ServiceAccount, name: nodelete, namespace: {}}}]\n",
            ns.name()
        ))
        .expect("rbac");
    let token = ns
        .kubectl()
        .run(["create", "token", "nodelete"])
        .expect("token");
    let kubeconfig =
        token_kubeconfig(cp, &dir.path().join("nodelete"), "nodelete", &token).expect("kubeconfig");
    let limited = [
        "--kubeconfig",
        kubeconfig.as_str(),
        "--kms-endpoint",
        kms.as_str(),
    ];

    let out = admin(cp, ns.name(), &[&["keys", "wrap"][..], &limited].concat());
    refused(
        &out,
        &[
            "stopped:",
            "is still there too",
            "run `kubeseal admin keys wrap` again (safe",
            "`delete secrets`",
        ],
    );
    let copy = labelled(&ns, WRAPPED);
    assert_eq!(copy.len(), 1, "the wrapped copy was made");
    assert_eq!(labelled(&ns, ACTIVE), plain, "the plain key is kept");

    // The rerun verifies the copy and deletes the plain Secret: no second copy.
    let out = succeeded(&admin(
        cp,
        ns.name(),
        &["keys", "wrap", "--kms-endpoint", &kms],
    ));
    assert!(
        out.contains(&format!("already in {}", copy[0])) && out.contains("verified"),
        "{out}"
    );
    assert_eq!(labelled(&ns, WRAPPED), copy);
    assert!(labelled(&ns, ACTIVE).is_empty());
    no_private_key(&ns);

    // The KMS away: unwrap is refused before anything changes.
    plugin.stop();
    refused(
        &admin(cp, ns.name(), &["keys", "unwrap", "--kms-endpoint", &kms]),
        &["nothing was changed", "KMS plugin"],
    );
    assert_eq!(labelled(&ns, WRAPPED), copy);
    assert!(labelled(&ns, ACTIVE).is_empty());
    plugin.resume().expect("the KMS plugin back");

    // The same stop the other way.
    let out = admin(cp, ns.name(), &[&["keys", "unwrap"][..], &limited].concat());
    refused(
        &out,
        &["stopped:", "run `kubeseal admin keys unwrap` again (safe"],
    );
    let plain_copy = labelled(&ns, ACTIVE);
    assert_eq!(plain_copy.len(), 1);
    assert_eq!(labelled(&ns, WRAPPED), copy, "the wrapped key is kept");
    let out = succeeded(&admin(
        cp,
        ns.name(),
        &["keys", "unwrap", "--kms-endpoint", &kms],
    ));
    assert!(
        out.contains(&format!("already in {}", plain_copy[0])),
        "{out}"
    );
    assert!(labelled(&ns, WRAPPED).is_empty());
    assert_eq!(labelled(&ns, ACTIVE), plain_copy);

    // And the key is still the one that opens the SealedSecret.
    let backup = dir.path().join("keys.yaml");
    succeeded(&admin(
        cp,
        ns.name(),
        &["keys", "backup", "-o", &backup.to_string_lossy()],
    ));
    assert_eq!(
        recovered_value(&recover(cp, &backup, &[], &sealed)),
        "hunter2"
    );
}
