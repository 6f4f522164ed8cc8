//! kube-apiserver stopped (SIGSTOP) for 60 s in the middle of a cold start of
//! 500 SealedSecrets, then killed and started again: afterwards every
//! SealedSecret is synced with its own values, no Secret written before the
//! outage was written again, no extra key, the unmanaged Secret untouched,
//! and the controller never restarted. During the outage its /healthz,
//! /readyz and /metrics answer at once (it can still serve certificates).
//!
//! A file of its own: stopping the shared API server would disturb any test
//! running beside it (cargo runs test binaries one at a time).

use std::time::Duration;

use sealed_secrets_e2e::cold_start::{outage, ColdStart};
use sealed_secrets_e2e::ControlPlane;

const COUNT: usize = 500;

#[test]
fn apiserver_stopped_then_killed_mid_cold_start() {
    let cp = ControlPlane::shared().expect("control plane");
    let cold = ColdStart::prepare(cp, "fault-api", COUNT).expect("cold start");
    let mut controller = cold.start_controller(cp).expect("controller");
    cold.wait_synced(COUNT / 5, Duration::from_secs(180))
        .unwrap_or_else(|e| panic!("{e}\n{}", controller.log()));
    let before = cold.secrets().expect("secrets");
    assert!(before.len() < COUNT, "the outage must come mid-way");

    outage(cp, "kube-apiserver", &controller)
        .unwrap_or_else(|e| panic!("{e}\n{}", controller.log()));

    cold.wait_synced(COUNT, Duration::from_secs(300))
        .unwrap_or_else(|e| panic!("{e}\n{}", controller.log()));
    cold.verify(&before)
        .unwrap_or_else(|e| panic!("{e}\n{}", controller.log()));
    assert!(
        controller.is_running(),
        "the controller never exits by itself"
    );
    let log = controller.log();
    assert!(!log.contains("panicked"), "{log}");
}
