//! kube-apiserver stopped (SIGSTOP) for 60 s in the middle of a cold start of
//! 500 SealedSecrets, then killed and started again: afterwards every
//! SealedSecret is synced with its own values, no Secret written before the
//! outage was written again, no extra key, the unmanaged Secret untouched,
//! and the controller never restarted. During the outage its /healthz,
//! /readyz and /metrics answer at once (it can still serve certificates).
//!
//! A file of its own: stopping the shared API server would disturb any test
//! running beside it (cargo runs test binaries one at a time).

use sealed_secrets_e2e::cold_start::outage_mid_cold_start;
use sealed_secrets_e2e::ControlPlane;

#[test]
fn apiserver_stopped_then_killed_mid_cold_start() {
    let cp = ControlPlane::shared().expect("control plane");
    outage_mid_cold_start(cp, "kube-apiserver", "fault-api", 500).unwrap_or_else(|e| panic!("{e}"));
}
