//! A leader that misses its renew deadline without losing the Lease (its
//! process stopped for longer than the deadline, but shorter than the lease
//! duration) stops writing until it renews, and what was asked of it
//! meanwhile is done once it has renewed: a SealedSecret created and another
//! sealed again with a new value while it was stopped are both applied
//! within 30 s of it waking. Its leadership reads "leading" before and after
//! (it never published that it stopped), so only the reconciles refused by
//! the closed gate can remind it; no periodic resync helps
//! (`SEALED_SECRETS_RESYNC_PERIOD=1h`).
//!
//! A file of its own, not in `ha.rs`: the controller Pods there watch every
//! namespace and would reconcile this test's SealedSecrets too.

use std::time::{Duration, Instant};

use sealed_secrets_e2e::cold_start::metric;
use sealed_secrets_e2e::controller::{Controller, ControllerOptions};
use sealed_secrets_e2e::kubeseal::seal_value;
use sealed_secrets_e2e::secrets::wait_secret_value;
use sealed_secrets_e2e::status::{wait_applied, wait_synced_true};
use sealed_secrets_e2e::{poll, ControlPlane, TestNamespace};

const LEASE_DURATION: Duration = Duration::from_secs(15);
const RENEW_DEADLINE: Duration = Duration::from_secs(10);
const RETRY_PERIOD: Duration = Duration::from_secs(2);
/// Past the renew deadline, short of the lease duration.
const STOPPED_FOR: Duration = Duration::from_secs(12);
const APPLIED_WITHIN: Duration = Duration::from_secs(30);
const LEADER: &str = "sealed_secrets_controller_leader";

/// The controller's own `sealed_secrets_controller_leader` (no API server involved).
fn leading(controller: &Controller) -> Option<f64> {
    metric(&controller.metrics().ok()?, LEADER)
}

/// SIGCONT on drop: a failing assertion must not leave the controller stopped.
struct Stopped<'a>(&'a Controller);

impl Drop for Stopped<'_> {
    fn drop(&mut self) {
        self.0.signal("CONT");
    }
}

#[test]
fn a_leader_past_its_renew_deadline_applies_what_changed_once_it_renews() {
    let cp = ControlPlane::shared().expect("control plane");
    let ns = TestNamespace::create(cp, "ha-gate").expect("namespace");
    let secs = |d: Duration| format!("{}s", d.as_secs());
    let controller = ControllerOptions::for_namespace(&ns)
        .args([
            "--leader-elect".to_string(),
            format!("--leader-elect-lease-duration={}", secs(LEASE_DURATION)),
            format!("--leader-elect-renew-deadline={}", secs(RENEW_DEADLINE)),
            format!("--leader-elect-retry-period={}", secs(RETRY_PERIOD)),
        ])
        .env("SEALED_SECRETS_RESYNC_PERIOD", "1h")
        .start(cp)
        .expect("controller");

    // It leads (the only replica) and has made its first key.
    poll(
        "the controller to lead",
        Duration::from_secs(60),
        Duration::from_millis(250),
        || Ok((leading(&controller) == Some(1.0)).then_some(())),
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", controller.log()));
    let pem = poll(
        "the first key",
        Duration::from_secs(60),
        Duration::from_millis(250),
        || {
            let (code, pem) = controller.get("/v1/cert.pem")?;
            Ok((code == 200).then_some(pem))
        },
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", controller.log()));
    let dir = tempfile::tempdir().expect("tempdir");
    let cert = dir.path().join("cert.pem");
    std::fs::write(&cert, pem).expect("write the certificate");
    ns.kubectl()
        .apply(&seal_value(cp, &cert, &ns, "resealed", "before").expect("seal"))
        .expect("apply");
    wait_synced_true(&ns, "resealed", &controller);
    wait_secret_value(&ns, "resealed", "k", "before")
        .unwrap_or_else(|e| panic!("{e}\n{}", controller.log()));
    let born = seal_value(cp, &cert, &ns, "born-while-stopped", "born").expect("seal");
    let resealed = seal_value(cp, &cert, &ns, "resealed", "after").expect("seal");

    // Stopped past the renew deadline; the watch events of the two changes
    // wait in its sockets until it wakes.
    let stopped_at = Instant::now();
    controller.signal("STOP");
    let stopped = Stopped(&controller);
    ns.kubectl().apply(&born).expect("apply born-while-stopped");
    ns.kubectl()
        .apply(&resealed)
        .expect("apply the new value of resealed");
    std::thread::sleep(STOPPED_FOR.saturating_sub(stopped_at.elapsed()));
    drop(stopped);
    let woke = Instant::now();

    let expected = [("born-while-stopped", "born"), ("resealed", "after")];
    if let Err(e) = wait_applied(&ns, &expected, APPLIED_WITHIN) {
        panic!(
            "{e}\n({:?} after the controller woke; leader metric {:?})\ncontroller log:\n{}",
            woke.elapsed(),
            leading(&controller),
            controller.log()
        );
    }
    eprintln!("applied {:?} after the controller woke", woke.elapsed());
    assert_eq!(leading(&controller), Some(1.0), "still the leader");
}
