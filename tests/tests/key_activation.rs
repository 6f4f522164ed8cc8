//! A key that is not used before it is safe (the reference's issue #359):
//! `kubeseal admin keys rotate --activate-after` makes a pending key that
//! opens SealedSecrets at once while `/v1/cert.pem` keeps serving the old
//! key; at its time every replica switches by its own clock. The
//! controller's `--key-activation-delay` makes its own new keys pending
//! without making the renewal loop spin. The reference controller ignores
//! the annotation and seals with such a key at once (README, Compatibility
//! notes).

use std::process::Output;
use std::time::{Duration, Instant};

use sealed_secrets_e2e::binaries::reference_controller;
use sealed_secrets_e2e::cold_start::metric;
use sealed_secrets_e2e::controller::{Controller, ControllerOptions};
use sealed_secrets_e2e::kubeseal::{kubeseal, lf, seal_value, succeeded};
use sealed_secrets_e2e::secrets::{key_secret_names, wait_secret_value};
use sealed_secrets_e2e::status::wait_synced_true;
use sealed_secrets_e2e::{poll, ControlPlane, TestNamespace};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(60);
const TICK: Duration = Duration::from_millis(250);
/// How late after its time a replica may switch: its timer, and the poll.
const SLACK: Duration = Duration::from_secs(10);
const ACTIVATE_AFTER: Duration = Duration::from_secs(30);

fn admin(cp: &ControlPlane, ns: &str, args: &[&str]) -> Output {
    let mut all = vec!["admin"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--controller-namespace", ns]);
    kubeseal(cp, &all, "").expect("kubeseal runs")
}

fn cert(controller: &Controller) -> String {
    let (code, pem) = controller.get("/v1/cert.pem").expect("cert.pem");
    assert_eq!(code, 200, "{pem}\n{}", controller.log());
    lf(&pem)
}

fn wait_cert(controller: &Controller) -> String {
    poll("a certificate", WAIT, TICK, || {
        let (code, pem) = controller.get("/v1/cert.pem")?;
        Ok((code == 200).then(|| lf(&pem)))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", controller.log()))
}

/// `keys list -o json`'s keys.
fn listed(cp: &ControlPlane, ns: &str) -> Vec<Value> {
    let out = admin(cp, ns, &["keys", "list", "-o", "json"]);
    let report: Value = serde_json::from_str(&succeeded(&out)).expect("JSON");
    report["keys"].as_array().cloned().unwrap_or_default()
}

fn with_state<'a>(keys: &'a [Value], state: &str) -> Vec<&'a Value> {
    keys.iter().filter(|k| k["state"] == state).collect()
}

/// `sealed_secrets_controller_<name>{fingerprint="<fp>"}`.
fn key_metric(controller: &Controller, name: &str, fingerprint: &str) -> Option<f64> {
    let page = controller.metrics().ok()?;
    metric(
        &page,
        &format!("sealed_secrets_controller_{name}{{fingerprint=\"{fingerprint}\"}}"),
    )
}

fn start(cp: &ControlPlane, ns: &TestNamespace, watch: &str, extra: &[&str]) -> Controller {
    ControllerOptions::for_namespace(ns)
        .watch(&[watch])
        .args(extra.iter().copied())
        .start(cp)
        .expect("controller starts")
}

#[test]
fn a_pending_key_opens_at_once_and_both_replicas_switch_at_its_time() {
    let cp = ControlPlane::shared().expect("control plane");
    let ns = TestNamespace::create(cp, "activation").expect("namespace");
    let idle = TestNamespace::create(cp, "activation-idle").expect("namespace");
    // Two replicas on one key namespace; only one unseals (two watching one
    // namespace would both write statuses).
    let lead = ["--leader-elect"];
    let a = start(cp, &ns, ns.name(), &lead);
    let old = wait_cert(&a);
    let b = start(cp, &ns, idle.name(), &lead);
    assert_eq!(wait_cert(&b), old, "replicas agree before");
    // Certificates have one-second NotBefore: the new key must rank above.
    std::thread::sleep(Duration::from_millis(1100));

    let asked_at = Instant::now();
    let out = admin(
        cp,
        ns.name(),
        &[
            "keys",
            "rotate",
            "--key-size",
            "2048",
            "--activate-after",
            "30s",
        ],
    );
    let rotated_at = Instant::now();
    let new = lf(&succeeded(&out));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("pending until"), "{said}");
    assert!(said.contains("keeps serving"), "{said}");
    assert!(said.contains("kubeseal admin keys backup"), "{said}");
    assert_ne!(new, old);

    let keys = listed(cp, ns.name());
    let pending = with_state(&keys, "pending");
    assert_eq!(pending.len(), 1, "{keys:?}");
    let new_fp = pending[0]["fingerprint"].as_str().expect("fp").to_string();
    assert!(pending[0]["activateAt"].is_string(), "{keys:?}");
    assert_eq!(pending[0]["sealing"], false);
    let old_fp = with_state(&keys, "sealing")[0]["fingerprint"]
        .as_str()
        .expect("fp")
        .to_string();
    let table = succeeded(&admin(cp, ns.name(), &["keys", "list"]));
    assert!(table.contains("pending until"), "{table}");

    // Both replicas know the pending key (its activation gauge) and still serve the old one.
    for replica in [&a, &b] {
        poll("the pending key registered", WAIT, TICK, || {
            Ok(key_metric(replica, "key_activation_timestamp_seconds", &new_fp).map(|_| ()))
        })
        .unwrap_or_else(|e| panic!("{e}\n{}", replica.log()));
        assert_eq!(cert(replica), old, "a pending key is not served");
        assert_eq!(key_metric(replica, "key_sealing", &new_fp), Some(0.0));
    }

    // Sealed with the printed certificate, it opens at once.
    let dir = tempfile::tempdir().expect("tempdir");
    let new_cert = dir.path().join("new.pem");
    std::fs::write(&new_cert, &new).expect("write");
    ns.kubectl()
        .apply(&seal_value(cp, &new_cert, &ns, "early", "before-activation").expect("seal"))
        .expect("apply");
    let sealed = wait_synced_true(&ns, "early", &a);
    wait_secret_value(&ns, "early", "k", "before-activation").expect("unsealed");
    assert_eq!(sealed["status"]["keyFingerprint"], new_fp.as_str());
    assert!(
        rotated_at.elapsed() < ACTIVATE_AFTER,
        "the checks before the activation took {:?}: raise ACTIVATE_AFTER",
        rotated_at.elapsed()
    );
    assert_eq!(cert(&a), old, "still the old key before the time");

    // At its time both switch, each within the slack.
    for replica in [&a, &b] {
        poll("the new key served", ACTIVATE_AFTER + SLACK, TICK, || {
            Ok((cert(replica) == new).then_some(()))
        })
        .unwrap_or_else(|e| panic!("{e}\n{}", replica.log()));
        let switched = rotated_at.elapsed();
        assert!(
            switched <= ACTIVATE_AFTER + SLACK,
            "switched {switched:?} after the rotation"
        );
        // The annotation holds whole seconds: up to 1 s before now + 30 s.
        let since_asked = asked_at.elapsed();
        assert!(
            since_asked + Duration::from_secs(1) >= ACTIVATE_AFTER,
            "switched early: {since_asked:?} after asking"
        );
        assert_eq!(key_metric(replica, "key_sealing", &new_fp), Some(1.0));
        assert_eq!(key_metric(replica, "key_sealing", &old_fp), Some(0.0));
        assert!(
            replica
                .log()
                .contains("key activated: it seals from now on"),
            "{}",
            replica.log()
        );
    }
    let keys = listed(cp, ns.name());
    assert_eq!(
        with_state(&keys, "sealing")[0]["fingerprint"],
        new_fp.as_str()
    );
    assert_eq!(
        with_state(&keys, "active")[0]["fingerprint"],
        old_fp.as_str()
    );
    assert_eq!(key_secret_names(&ns).expect("keys").len(), 2, "no key made");
}

#[test]
fn keys_activate_ends_the_wait_at_once() {
    let cp = ControlPlane::shared().expect("control plane");
    let ns = TestNamespace::create(cp, "activate-now").expect("namespace");
    // The delay is for keys the controller makes; its first one seals at once.
    let controller = start(cp, &ns, ns.name(), &["--key-activation-delay=1h"]);
    let old = wait_cert(&controller);
    assert!(
        controller
            .log()
            .contains("no key seals now: the new key is active at once"),
        "{}",
        controller.log()
    );
    // Certificates have one-second NotBefore: the new key must rank above.
    std::thread::sleep(Duration::from_millis(1100));
    let out = admin(
        cp,
        ns.name(),
        &[
            "keys",
            "rotate",
            "--key-size",
            "2048",
            "--activate-after",
            "1h",
        ],
    );
    let new = lf(&succeeded(&out));
    let keys = listed(cp, ns.name());
    let pending = with_state(&keys, "pending")[0]["secret"]
        .as_str()
        .expect("name")
        .to_string();
    let sealing = with_state(&keys, "sealing")[0]["secret"]
        .as_str()
        .expect("name")
        .to_string();
    let out = admin(cp, ns.name(), &["keys", "activate", &sealing]);
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("is active already"), "{said}");
    assert_eq!(cert(&controller), old);

    let out = admin(cp, ns.name(), &["keys", "activate", &pending]);
    let said = succeeded(&out);
    assert!(said.contains("seals with it as soon as it sees"), "{said}");
    poll("the activated key served", WAIT, TICK, || {
        Ok((cert(&controller) == new).then_some(()))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", controller.log()));
    assert!(
        controller
            .log()
            .contains("key activated: it seals from now on"),
        "{}",
        controller.log()
    );
    let keys = listed(cp, ns.name());
    assert_eq!(with_state(&keys, "sealing")[0]["secret"], pending.as_str());
    assert!(keys.iter().all(|k| k["activateAt"].is_null()), "{keys:?}");
}

/// A key older than the renew period seals while the renewed key waits:
/// renewal counts from the latest key, not the sealing one, or it would
/// make keys in a loop until the new one activates.
#[test]
fn the_activation_delay_makes_renewed_keys_pending_without_a_loop() {
    let cp = ControlPlane::shared().expect("control plane");
    let ns = TestNamespace::create(cp, "activation-delay").expect("namespace");
    let delay = Duration::from_secs(20);
    // An old key: made long ago, as far as the renew schedule can tell.
    succeeded(&admin(
        cp,
        ns.name(),
        &["keys", "rotate", "--key-size", "2048", "--force"],
    ));
    let old_key = key_secret_names(&ns).expect("keys");
    ns.kubectl()
        .run([
            "annotate",
            "secret",
            &old_key[0],
            "sealedsecrets.bitnami.com/key-created=2020-01-01T00:00:00Z",
        ])
        .expect("annotate");
    let controller = start(
        cp,
        &ns,
        ns.name(),
        &[
            "--key-order-priority=SecretCreationTimestamp",
            "--key-renew-period=1h",
            "--key-activation-delay=20s",
        ],
    );
    let old = wait_cert(&controller);

    // Overdue: renewed at once, and the new key waits.
    let started = Instant::now();
    poll("a renewed key", WAIT, TICK, || {
        Ok((key_secret_names(&ns)?.len() == 2).then_some(()))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", controller.log()));
    let keys = listed(cp, ns.name());
    assert_eq!(with_state(&keys, "pending").len(), 1, "{keys:?}");
    assert_eq!(cert(&controller), old, "the renewed key waits");
    while started.elapsed() < delay + SLACK {
        assert_eq!(
            key_secret_names(&ns).expect("keys").len(),
            2,
            "no further key: the renewal counts from the pending key\n{}",
            controller.log()
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    let renewed = cert(&controller);
    assert_ne!(renewed, old, "activated after the delay");
    assert!(with_state(&listed(cp, ns.name()), "pending").is_empty());

    // A renewal request (SIGUSR1) makes a pending key too.
    controller.signal("USR1");
    poll("a requested key", WAIT, TICK, || {
        Ok((key_secret_names(&ns)?.len() == 3).then_some(()))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", controller.log()));
    assert_eq!(with_state(&listed(cp, ns.name()), "pending").len(), 1);
    assert_eq!(cert(&controller), renewed);
}

/// The reference controller knows nothing of `activate-at`: a pending key
/// Secret is just its newest key, and it seals with it at once.
#[test]
fn the_reference_controller_seals_with_a_pending_key_at_once() {
    let cp = ControlPlane::shared().expect("control plane");
    let Some(reference) = reference_controller(cp) else {
        return;
    };
    let ns = TestNamespace::create(cp, "activation-ref").expect("namespace");
    let rotate = |extra: &[&str]| {
        let mut args = vec!["keys", "rotate", "--key-size", "2048"];
        args.extend_from_slice(extra);
        lf(&succeeded(&admin(cp, ns.name(), &args)))
    };
    let _active = rotate(&["--force"]);
    // Certificates have one-second NotBefore: the pending one must be newer.
    std::thread::sleep(Duration::from_millis(1100));
    let pending = rotate(&["--activate-after", "1h"]);
    let controller = ControllerOptions::for_namespace(&ns)
        .binary(reference)
        .in_cluster()
        .start(cp)
        .expect("reference controller starts");
    assert_eq!(wait_cert(&controller), pending, "{}", controller.log());
    assert_eq!(key_secret_names(&ns).expect("keys").len(), 2);
}
