//! Our controller and the reference controller (v0.40.0) on the same cluster,
//! in turn (never at once), sharing one namespace as key namespace and
//! watched namespace: each must load the other's sealing key instead of
//! creating one, unseal what was sealed for the other, and take over the
//! Secrets the other created.
//!
//! The reference controller only supports in-cluster configuration; it runs
//! with [`ControllerOptions::in_cluster`]. Without its binary the
//! tests print `SKIPPED: ...` and pass, unless `REQUIRE_REFERENCE=1`.

use std::path::PathBuf;
use std::time::Duration;

use sealed_secrets_e2e::binaries::reference_controller;
use sealed_secrets_e2e::controller::{Controller, ControllerOptions};
use sealed_secrets_e2e::kubeseal::{kubeseal, lf, reference_kubeseal, succeeded};
use sealed_secrets_e2e::secrets::wait_secret_value;
use sealed_secrets_e2e::status::wait_synced_true;
use sealed_secrets_e2e::{poll, ControlPlane, TestNamespace};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(60);
const TICK: Duration = Duration::from_millis(250);
const KEY_LABEL: &str = "sealedsecrets.bitnami.com/sealed-secrets-key";

fn start_reference(cp: &ControlPlane, ns: &TestNamespace, binary: PathBuf) -> Controller {
    ControllerOptions::for_namespace(ns)
        .binary(binary)
        .in_cluster()
        .start(cp)
        .expect("reference controller starts")
}

fn start_ours(cp: &ControlPlane, ns: &TestNamespace) -> Controller {
    ControllerOptions::for_namespace(ns)
        .start(cp)
        .expect("our controller starts")
}

/// Names of the key Secrets in the namespace, sorted.
fn key_names(ns: &TestNamespace) -> Vec<String> {
    sealed_secrets_e2e::secrets::names_labelled(&ns.kubectl(), KEY_LABEL).expect("key Secrets")
}

fn wait_one_key(ns: &TestNamespace) -> String {
    poll("one key Secret", WAIT, TICK, || {
        let names = key_names(ns);
        Ok((names.len() == 1).then(|| names[0].clone()))
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

fn cert(controller: &Controller) -> String {
    let (code, pem) = controller.get("/v1/cert.pem").expect("GET /v1/cert.pem");
    assert_eq!(code, 200, "{pem}");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    pem
}

fn write_cert(dir: &tempfile::TempDir, name: &str, pem: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, pem).expect("write cert");
    path.to_string_lossy().into_owned()
}

fn secret_yaml(ns: &str, name: &str, key: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: {ns}\n  labels: {{app: demo}}\ntype: Opaque\nstringData:\n  {key}: {value}\n"
    )
}

enum Sealer {
    Ours,
    Reference,
}

fn seal(cp: &ControlPlane, sealer: Sealer, cert: &str, yaml: &str) -> String {
    let args = ["--cert", cert, "-o", "yaml"];
    let out = match sealer {
        Sealer::Ours => kubeseal(cp, &args, yaml),
        Sealer::Reference => reference_kubeseal(cp, &args, yaml),
    }
    .expect("kubeseal runs");
    succeeded(&out)
}

/// Seals `key: value` as Secret `name` (by `sealer`, with `cert`), applies
/// it and waits until `who` has unsealed it: the value, Synced=True at the
/// current generation, and the SealedSecret as the Secret's owner.
fn apply_and_unseal(
    cp: &ControlPlane,
    ns: &TestNamespace,
    (sealer, cert): (Sealer, &str),
    name: &str,
    (key, value): (&str, &str),
    who: &Controller,
) {
    ns.kubectl()
        .apply(&seal(
            cp,
            sealer,
            cert,
            &secret_yaml(ns.name(), name, key, value),
        ))
        .unwrap_or_else(|e| panic!("apply {name}: {e}"));
    wait_value(ns, name, key, value, who);
    wait_synced_true(ns, name, who);
    assert_owned(ns, name);
}

fn secret(ns: &TestNamespace, name: &str) -> Option<Value> {
    ns.kubectl().get_optional("secret", name).ok()?
}

fn wait_value(ns: &TestNamespace, name: &str, key: &str, expected: &str, who: &Controller) {
    wait_secret_value(ns, name, key, expected)
        .unwrap_or_else(|e| panic!("{e}\ncontroller log:\n{}", who.log()));
}

fn events(ns: &TestNamespace) -> Vec<Value> {
    ns.kubectl()
        .get_json(["get", "events"])
        .map(|v| v["items"].as_array().cloned().unwrap_or_default())
        .unwrap_or_default()
}

/// Asserts the Secret is controlled by the SealedSecret, exactly once.
fn assert_owned(ns: &TestNamespace, name: &str) {
    let secret = secret(ns, name).expect("secret exists");
    let ss = ns
        .kubectl()
        .get_optional("sealedsecret", name)
        .expect("get")
        .expect("sealedsecret exists");
    let owners = secret["metadata"]["ownerReferences"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(owners.len(), 1, "one owner: {owners:?}");
    let owner = &owners[0];
    assert_eq!(owner["apiVersion"], "bitnami.com/v1alpha1");
    assert_eq!(owner["kind"], "SealedSecret");
    assert_eq!(owner["name"], name);
    assert_eq!(owner["uid"], ss["metadata"]["uid"]);
    assert_eq!(owner["controller"], true);
}

fn assert_no_failures(ns: &TestNamespace, who: &Controller) {
    let bad: Vec<Value> = events(ns)
        .into_iter()
        .filter(|e| {
            e["type"] == "Warning" || e["reason"].as_str().is_some_and(|r| r.starts_with("Err"))
        })
        .collect();
    assert!(
        bad.is_empty(),
        "warning events: {bad:#?}\ncontroller log:\n{}",
        who.log()
    );
    let log = who.log();
    assert!(!log.contains("panicked"), "{log}");
}

/// 1 and 3: the reference creates the key and a Secret; ours loads that key,
/// unseals with it, and takes over the reference's Secret on a re-seal.
#[test]
fn ours_loads_reference_key_and_takes_over_its_secrets() {
    let cp = ControlPlane::shared().expect("control plane");
    let Some(binary) = reference_controller(cp) else {
        return;
    };
    let ns = TestNamespace::create(cp, "ref2ours").expect("namespace");
    let dir = tempfile::tempdir().expect("tempdir");

    let reference = start_reference(cp, &ns, binary);
    let key = wait_one_key(&ns);
    let ref_pem = cert(&reference);
    let ref_cert = write_cert(&dir, "reference.pem", &ref_pem);
    // A Secret the reference creates (sealed by the reference kubeseal).
    apply_and_unseal(
        cp,
        &ns,
        (Sealer::Reference, &ref_cert),
        "db",
        ("password", "by-reference"),
        &reference,
    );
    let before = secret(&ns, "db").expect("db");
    reference.stop().expect("reference stops");

    let ours = start_ours(cp, &ns);
    poll("ours ready", WAIT, TICK, || {
        Ok((ours.get("/readyz")?.0 == 200).then_some(()))
    })
    .expect("ready");
    assert_eq!(
        lf(&cert(&ours)),
        lf(&ref_pem),
        "ours serves the reference's certificate"
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        key_names(&ns),
        vec![key.clone()],
        "ours created no key of its own"
    );

    // Sealed by our kubeseal with the reference's certificate: unseals under ours.
    apply_and_unseal(
        cp,
        &ns,
        (Sealer::Ours, &ref_cert),
        "db2",
        ("token", "sealed-by-ours"),
        &ours,
    );

    // The reference's Secret, untouched by a mere restart...
    let after = secret(&ns, "db").expect("db");
    assert_eq!(
        before["metadata"]["uid"], after["metadata"]["uid"],
        "ours kept the reference's Secret"
    );
    // ... and updated by ours after a re-seal, without complaint.
    apply_and_unseal(
        cp,
        &ns,
        (Sealer::Ours, &ref_cert),
        "db",
        ("password", "by-ours"),
        &ours,
    );
    let updated = secret(&ns, "db").expect("db");
    assert_eq!(
        before["metadata"]["uid"], updated["metadata"]["uid"],
        "updated in place, not recreated"
    );
    assert_eq!(updated["metadata"]["labels"]["app"], "demo");
    assert_no_failures(&ns, &ours);
    assert_eq!(key_names(&ns), vec![key], "still the reference's key only");
    ours.stop().expect("ours stops");
}

/// 2 (and 3 the other way): ours creates the key and a Secret; the reference
/// loads that key, unseals with it, and takes over our Secret on a re-seal.
#[test]
fn reference_loads_our_key_and_takes_over_our_secrets() {
    let cp = ControlPlane::shared().expect("control plane");
    let Some(binary) = reference_controller(cp) else {
        return;
    };
    let ns = TestNamespace::create(cp, "ours2ref").expect("namespace");
    let dir = tempfile::tempdir().expect("tempdir");

    let ours = start_ours(cp, &ns);
    let key = wait_one_key(&ns);
    let our_pem = cert(&ours);
    let our_cert = write_cert(&dir, "ours.pem", &our_pem);
    apply_and_unseal(
        cp,
        &ns,
        (Sealer::Ours, &our_cert),
        "db",
        ("password", "by-ours"),
        &ours,
    );
    let before = secret(&ns, "db").expect("db");
    ours.stop().expect("ours stops");

    let reference = start_reference(cp, &ns, binary);
    assert_eq!(
        lf(&cert(&reference)),
        lf(&our_pem),
        "the reference serves our certificate"
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        key_names(&ns),
        vec![key.clone()],
        "the reference created no key of its own"
    );

    // Sealed with our key's certificate, by the reference kubeseal and by ours.
    ns.kubectl()
        .apply(&seal(
            cp,
            Sealer::Reference,
            &our_cert,
            &secret_yaml(ns.name(), "db2", "token", "reference-kubeseal"),
        ))
        .expect("apply db2");
    ns.kubectl()
        .apply(&seal(
            cp,
            Sealer::Ours,
            &our_cert,
            &secret_yaml(ns.name(), "db3", "token", "our-kubeseal"),
        ))
        .expect("apply db3");
    wait_value(&ns, "db2", "token", "reference-kubeseal", &reference);
    wait_value(&ns, "db3", "token", "our-kubeseal", &reference);
    wait_synced_true(&ns, "db2", &reference);
    wait_synced_true(&ns, "db3", &reference);
    assert_owned(&ns, "db2");
    assert_owned(&ns, "db3");

    // Our Secret, updated by the reference after a re-seal.
    apply_and_unseal(
        cp,
        &ns,
        (Sealer::Reference, &our_cert),
        "db",
        ("password", "by-reference"),
        &reference,
    );
    let updated = secret(&ns, "db").expect("db");
    assert_eq!(
        before["metadata"]["uid"], updated["metadata"]["uid"],
        "updated in place, not recreated"
    );
    assert_no_failures(&ns, &reference);
    assert_eq!(key_names(&ns), vec![key], "still our key only");
    reference.stop().expect("reference stops");
}
