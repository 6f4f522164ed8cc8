//! Keys protected by a KMS (README, "Keys protected by a KMS"): our
//! controller with `--kms-endpoint` and the real KMS v2 test plugin
//! (scripts/kms-plugin over SoftHSM2) beside it.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use base64::Engine as _;
use sealed_secrets_e2e::controller::{Controller, ControllerOptions};
use sealed_secrets_e2e::kms::KmsPlugin;
use sealed_secrets_e2e::kubeseal::{kubeseal, lf, seal_value, succeeded};
use sealed_secrets_e2e::secrets::{wait_secret_value, ANY_KEY_SELECTOR};
use sealed_secrets_e2e::{etcd, poll, ControlPlane, TestNamespace};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(90);
const TICK: Duration = Duration::from_millis(250);

fn key_secrets(ns: &TestNamespace) -> Vec<Value> {
    let list = ns
        .kubectl()
        .get_json(["get", "secrets", "-l", ANY_KEY_SELECTOR])
        .expect("key Secrets");
    list["items"].as_array().cloned().unwrap_or_default()
}

fn wait_ready(controller: &Controller) {
    poll("/readyz 200", WAIT, TICK, || {
        Ok(matches!(controller.get("/readyz"), Ok((200, _))).then_some(()))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", controller.log()));
}

fn certificate(controller: &Controller) -> String {
    let (code, pem) = controller.get("/v1/cert.pem").expect("cert.pem");
    assert_eq!(code, 200, "{pem}");
    lf(&pem)
}

fn apply_sealed(cp: &ControlPlane, ns: &TestNamespace, cert: &Path, name: &str, value: &str) {
    let sealed = seal_value(cp, cert, ns, name, value).expect("sealed");
    ns.kubectl().apply(&sealed).expect("applied");
    wait_secret_value(ns, name, "k", value).unwrap_or_else(|e| panic!("{e}"));
}

/// Every data item of every key Secret, decoded.
fn key_secret_data(ns: &TestNamespace) -> Vec<(String, Vec<u8>)> {
    key_secrets(ns)
        .iter()
        .flat_map(|secret| {
            secret["data"]
                .as_object()
                .cloned()
                .unwrap_or_default()
                .into_iter()
        })
        .map(|(item, value)| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(value.as_str().unwrap_or_default())
                .expect("base64");
            (item, bytes)
        })
        .collect()
}

#[test]
fn keys_are_wrapped_and_a_plugin_away_never_forks_them() {
    let cp = ControlPlane::shared().expect("control plane");
    let ns = TestNamespace::create(cp, "kms").expect("namespace");
    let mut plugin = KmsPlugin::start(cp).expect("the KMS plugin");
    let endpoint = format!("--kms-endpoint={}", plugin.endpoint());
    let options = || ControllerOptions::for_namespace(&ns).arg(endpoint.clone());
    let controller = options().start(cp).expect("controller");
    wait_ready(&controller);

    // 1. The key Secret holds the certificate, the plugin's wrapped data
    // key and the sealed key: no tls.key, nothing that reads as a key.
    let keys = key_secrets(&ns);
    assert_eq!(keys.len(), 1, "one key: {keys:#?}");
    let key = &keys[0];
    assert_eq!(key["type"], "sealedsecrets.bitnami.com/kms-wrapped-key");
    assert_eq!(
        key["metadata"]["labels"]["sealedsecrets.bitnami.com/sealed-secrets-key"],
        "kms-v2"
    );
    assert_eq!(
        key["metadata"]["annotations"]["sealedsecrets.bitnami.com/kms-key-id"],
        "kek-1"
    );
    let data = key_secret_data(&ns);
    let items: Vec<&str> = data.iter().map(|(item, _)| item.as_str()).collect();
    assert_eq!(
        items,
        [
            "kms.annotations",
            "kms.key-id",
            "kms.sealed-key",
            "kms.wrapped-dek",
            "tls.crt"
        ]
    );
    for (item, bytes) in &data {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains("PRIVATE KEY"), "{item}");
    }
    // Nor in etcd: what the API server stored for this namespace's Secrets.
    let stored =
        etcd::values_under(cp, &format!("/registry/secrets/{}/", ns.name())).expect("etcd range");
    assert!(!stored.is_empty(), "the key Secret is in etcd");
    for (key, value) in &stored {
        let text = String::from_utf8_lossy(value);
        assert!(!text.contains("PRIVATE KEY"), "{key}");
        assert!(!text.contains("tls.key"), "{key}");
    }
    let cert = certificate(&controller);
    let cert_file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(cert_file.path(), &cert).expect("cert file");

    // 2. Sealing and unsealing work as ever.
    apply_sealed(cp, &ns, cert_file.path(), "first", "one");

    // 3. The plugin away: a running controller keeps unsealing with the
    // keys it holds, and serves the certificate.
    plugin.stop();
    apply_sealed(cp, &ns, cert_file.path(), "second", "two");
    assert_eq!(certificate(&controller), cert);

    // 4. Restarted while the plugin is away: not ready, says why, and
    // makes no key of its own.
    controller.stop().expect("stopped");
    let restarted = options().start(cp).expect("restarted controller");
    std::thread::sleep(Duration::from_secs(8));
    let (code, body) = restarted.get("/readyz").expect("/readyz");
    assert_eq!(code, 503, "{body}");
    assert!(body.contains("KMS plugin"), "{body}");
    assert_eq!(
        key_secrets(&ns).len(),
        1,
        "no new key while the KMS is away"
    );
    assert!(
        restarted.log().contains("KMS plugin"),
        "{}",
        restarted.log()
    );

    // 5. The plugin back: ready with the same key.
    plugin.resume().expect("plugin back");
    wait_ready(&restarted);
    assert_eq!(certificate(&restarted), cert);
    assert_eq!(key_secrets(&ns).len(), 1);
    apply_sealed(cp, &ns, cert_file.path(), "third", "three");

    // 6. A plain key Secret planted in the namespace (newer than the
    // wrapped key) opens what it sealed but never becomes the key that
    // seals.
    let dir = tempfile::tempdir().expect("tempdir");
    let status = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=planted", "-keyout"])
        .arg(dir.path().join("key.pem"))
        .arg("-out")
        .arg(dir.path().join("cert.pem"))
        .output()
        .expect("openssl");
    assert!(status.status.success(), "openssl req");
    let kubectl = ns.kubectl();
    let tls = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    kubectl
        .run([
            "create",
            "secret",
            "tls",
            "planted",
            "--cert",
            &tls("cert.pem"),
            "--key",
            &tls("key.pem"),
        ])
        .expect("planted key");
    kubectl
        .run([
            "label",
            "secret",
            "planted",
            "sealedsecrets.bitnami.com/sealed-secrets-key=active",
        ])
        .expect("labelled");
    poll("the planted key seen", WAIT, TICK, || {
        Ok(restarted.log().contains("never seals").then_some(()))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", restarted.log()));
    assert_eq!(certificate(&restarted), cert, "the wrapped key still seals");
    let planted_cert = std::fs::read_to_string(dir.path().join("cert.pem")).expect("cert");
    apply_sealed(
        cp,
        &ns,
        &dir.path().join("cert.pem"),
        "planted-one",
        "opens",
    );
    assert_ne!(lf(&planted_cert), cert);
}

#[test]
fn a_wrapped_key_without_kms_endpoint_stops_the_start_and_says_what_to_do() {
    let cp = ControlPlane::shared().expect("control plane");
    let ns = TestNamespace::create(cp, "kms-off").expect("namespace");
    let plugin = KmsPlugin::start(cp).expect("the KMS plugin");
    let wrapped = ControllerOptions::for_namespace(&ns)
        .arg(format!("--kms-endpoint={}", plugin.endpoint()))
        .start(cp)
        .expect("controller");
    wait_ready(&wrapped);
    wrapped.stop().expect("stopped");

    let error = match ControllerOptions::for_namespace(&ns).start(cp) {
        Ok(controller) => panic!("started:\n{}", controller.log()),
        Err(e) => e.to_string(),
    };
    assert!(error.contains("--kms-endpoint"), "{error}");
    assert!(error.contains("kubeseal admin keys unwrap"), "{error}");
    assert_eq!(key_secrets(&ns).len(), 1, "no plain key made beside it");

    // A backup of wrapped keys restores elsewhere (a fresh cluster's
    // namespace) and serves there only with the KMS.
    let dir = tempfile::tempdir().expect("tempdir");
    let backup = dir.path().join("keys.yaml");
    let admin = |args: &[&str], namespace: &str| {
        let mut all = vec!["admin"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--controller-namespace", namespace]);
        succeeded(&kubeseal(cp, &all, "").expect("kubeseal runs"))
    };
    admin(
        &["keys", "backup", "-o", &backup.to_string_lossy()],
        ns.name(),
    );
    let text = std::fs::read_to_string(&backup).expect("backup");
    assert!(!text.contains("PRIVATE KEY") && !text.contains("tls.key"));
    let fresh = TestNamespace::create(cp, "kms-restored").expect("namespace");
    admin(
        &["keys", "restore", &backup.to_string_lossy()],
        fresh.name(),
    );
    let without = ControllerOptions::for_namespace(&fresh).start(cp);
    let error = without.map(|_| ()).unwrap_err().to_string();
    assert!(error.contains("--kms-endpoint"), "{error}");
    let with = ControllerOptions::for_namespace(&fresh)
        .arg(format!("--kms-endpoint={}", plugin.endpoint()))
        .start(cp)
        .expect("controller with the KMS");
    wait_ready(&with);
    let restored_cert = certificate(&with);
    let cert_file = dir.path().join("cert.pem");
    std::fs::write(&cert_file, &restored_cert).expect("cert");
    apply_sealed(cp, &fresh, &cert_file, "restored", "opens");
    assert_eq!(key_secrets(&fresh).len(), 1, "the restored key, no new one");

    let refused = ControllerOptions::for_namespace(&ns)
        .arg("--kms-endpoint=/var/run/plugin.sock")
        .start(cp);
    let error = refused.map(|_| ()).unwrap_err().to_string();
    assert!(error.contains("--kms-endpoint"), "{error}");
    assert!(error.contains("unix:///"), "{error}");
}

fn metric_line(controller: &Controller, prefix: &str) -> Option<String> {
    controller
        .metrics()
        .ok()?
        .lines()
        .find(|l| l.starts_with(prefix))
        .map(str::to_string)
}

#[test]
fn a_new_kms_key_wraps_every_key_again() {
    let cp = ControlPlane::shared().expect("control plane");
    let ns = TestNamespace::create(cp, "kms-kek").expect("namespace");
    let mut plugin = KmsPlugin::start(cp).expect("the KMS plugin");
    let options = ControllerOptions::for_namespace(&ns)
        .arg(format!("--kms-endpoint={}", plugin.endpoint()))
        .arg("--kms-status-period=2s");
    let controller = options.clone().start(cp).expect("controller");
    wait_ready(&controller);
    controller.signal("USR1");
    poll("a second key", WAIT, TICK, || {
        Ok((key_secrets(&ns).len() == 2).then_some(()))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", controller.log()));
    let cert = certificate(&controller);
    let cert_file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(cert_file.path(), &cert).expect("cert file");
    apply_sealed(cp, &ns, cert_file.path(), "before", "one");
    poll("kms metrics", WAIT, TICK, || {
        Ok(metric_line(
            &controller,
            "sealed_secrets_controller_kms_keys{kms_key_id=\"kek-1\"} 2",
        )
        .and(metric_line(
            &controller,
            "sealed_secrets_controller_kms_plugin_healthy 1",
        )))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", controller.metrics().unwrap_or_default()));

    // The KMS's key rotates: every key Secret is wrapped again under it.
    plugin.rotate("kek-2").expect("rotated");
    let rewrapped = |secret: &Value| {
        secret["metadata"]["annotations"]["sealedsecrets.bitnami.com/kms-key-id"] == "kek-2"
            && secret["data"]["kms.key-id"] == "a2VrLTI="
    };
    poll("both keys wrapped under kek-2", WAIT, TICK, || {
        Ok(key_secrets(&ns).iter().all(rewrapped).then_some(()))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", controller.log()));
    assert_eq!(key_secrets(&ns).len(), 2, "the same keys, no new one");
    poll("kms_keys follows", WAIT, TICK, || {
        let metrics = controller.metrics().unwrap_or_default();
        Ok(
            (metrics.contains("sealed_secrets_controller_kms_keys{kms_key_id=\"kek-2\"} 2")
                && !metrics.contains("kms_key_id=\"kek-1\""))
            .then_some(()),
        )
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", controller.metrics().unwrap_or_default()));

    // The old KMS key retired (deleted from the HSM), restarted: it opens
    // the keys under the new KMS key, the same keys.
    controller.stop().expect("stopped");
    plugin.stop();
    plugin.retire("kek-1").expect("kek-1 deleted");
    plugin.resume().expect("plugin back");
    let restarted = options.start(cp).expect("restarted");
    wait_ready(&restarted);
    assert_eq!(certificate(&restarted), cert);
    apply_sealed(cp, &ns, cert_file.path(), "after", "two");

    // The plugin's health is a metric.
    plugin.stop();
    poll("kms_plugin_healthy 0", WAIT, TICK, || {
        Ok(metric_line(
            &restarted,
            "sealed_secrets_controller_kms_plugin_healthy 0",
        ))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", restarted.metrics().unwrap_or_default()));
}

/// `kubeseal admin keys wrap` then `--kms-endpoint`: the same key seals,
/// and `unwrap` takes it back to a controller without a KMS.
#[test]
fn keys_wrapped_by_admin_keep_sealing_and_unwrap_back() {
    let cp = ControlPlane::shared().expect("control plane");
    let ns = TestNamespace::create(cp, "kms-migrate").expect("namespace");
    let plain = ControllerOptions::for_namespace(&ns);
    let controller = plain.clone().start(cp).expect("controller");
    wait_ready(&controller);
    let cert = certificate(&controller);
    let cert_file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(cert_file.path(), &cert).expect("cert file");
    apply_sealed(cp, &ns, cert_file.path(), "before", "one");
    controller.stop().expect("stopped");

    let plugin = KmsPlugin::start(cp).expect("the KMS plugin");
    let endpoint = plugin.endpoint();
    let admin = |verb: &str| {
        let out = kubeseal(
            cp,
            &[
                "admin",
                "keys",
                verb,
                "--kms-endpoint",
                &endpoint,
                "--controller-namespace",
                ns.name(),
            ],
            "",
        )
        .expect("kubeseal runs");
        succeeded(&out)
    };
    admin("wrap");
    let keys = key_secrets(&ns);
    assert_eq!(keys.len(), 1, "{keys:#?}");
    assert_eq!(keys[0]["type"], "sealedsecrets.bitnami.com/kms-wrapped-key");

    let wrapped = plain
        .clone()
        .arg(format!("--kms-endpoint={endpoint}"))
        .start(cp)
        .expect("controller with the KMS");
    wait_ready(&wrapped);
    assert_eq!(
        certificate(&wrapped),
        cert,
        "the wrapped key seals: no new key"
    );
    assert_eq!(key_secrets(&ns).len(), 1);
    apply_sealed(cp, &ns, cert_file.path(), "wrapped", "two");

    // `admin keys rotate` beside wrapped keys: only with the KMS, and the
    // new key, wrapped, is the one the controller seals with.
    let rotate = |kms: bool| {
        let mut args = vec![
            "admin",
            "keys",
            "rotate",
            "--key-size",
            "2048",
            "--controller-namespace",
            ns.name(),
        ];
        if kms {
            args.extend_from_slice(&["--kms-endpoint", &endpoint]);
        }
        kubeseal(cp, &args, "").expect("kubeseal runs")
    };
    let refused = rotate(false);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("--kms-endpoint"), "{said}");
    assert_eq!(key_secrets(&ns).len(), 1, "nothing made");
    let new_cert = lf(&succeeded(&rotate(true)));
    poll("the rotated key seals", WAIT, TICK, || {
        Ok((certificate(&wrapped) == new_cert).then_some(()))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", wrapped.log()));
    let keys = key_secrets(&ns);
    assert_eq!(keys.len(), 2);
    assert!(keys
        .iter()
        .all(|k| k["type"] == "sealedsecrets.bitnami.com/kms-wrapped-key"));
    wrapped.stop().expect("stopped");

    admin("unwrap");
    let keys = key_secrets(&ns);
    assert_eq!(keys.len(), 2, "{keys:#?}");
    assert!(keys.iter().all(|k| k["type"] == "kubernetes.io/tls"));
    let back = plain.start(cp).expect("controller without the KMS");
    wait_ready(&back);
    assert_eq!(certificate(&back), new_cert);
    apply_sealed(cp, &ns, cert_file.path(), "unwrapped", "three");
}
