//! Watches that expire (410 Gone after an etcd compaction and an API server
//! restart) make the controller list everything again, and a relist decrypts
//! nothing that is already synced: the RSA operations metric does not move.
//! A clean cold start needs exactly one RSA operation per item, and about
//! four API requests per SealedSecret (read it, create its Secret, an Event,
//! its status), as the reference makes: the echoes of its own writes cost
//! none. The requests are the API server's audit records of the test's
//! namespace (`sealed_secrets_e2e::audit`), so nothing else in the cluster
//! counts.
//!
//! A file of its own: it restarts the shared API server.

use std::time::Duration;

use sealed_secrets_e2e::audit::AuditLog;
use sealed_secrets_e2e::cold_start::{expire_watches, metric, wait_relisted, ColdStart, RELISTS};
use sealed_secrets_e2e::controller::ControllerOptions;
use sealed_secrets_e2e::ControlPlane;

const COUNT: usize = 200;
const RSA: &str = "sealed_secrets_controller_rsa_decryptions_total";

#[test]
fn an_expired_watch_relists_without_decrypting_again() {
    let cp = ControlPlane::shared().expect("control plane");
    let audit = AuditLog::of(cp).expect("the API server's audit log");
    // Requests are counted in the one namespace the API server records.
    let cold = ColdStart::prepare_audited(cp, COUNT).expect("cold start");
    let mark = audit.mark().expect("audit log");
    let controller = ControllerOptions::for_namespace(&cold.ns)
        .start(cp)
        .expect("controller");
    cold.wait_synced(COUNT, Duration::from_secs(180))
        .unwrap_or_else(|e| panic!("{e}\n{}", controller.log()));
    // Let the last status writes and their echoes settle.
    std::thread::sleep(Duration::from_secs(3));
    // Neither the test's own reads (kubectl) nor the garbage collector's
    // (the owners of new Secrets) are the controller's.
    let requests = audit
        .requests_since(mark, |r| !r.is_test_or_cluster())
        .expect("audit log");
    let per_object: Vec<_> = requests
        .iter()
        .filter(|((verb, resource), _)| {
            matches!(verb.as_str(), "GET" | "POST" | "PUT" | "PATCH")
                && ["secrets", "sealedsecrets", "sealedsecrets/status", "events"]
                    .contains(&resource.as_str())
        })
        .collect();
    let total: f64 = per_object.iter().map(|(_, n)| **n).sum();
    let count_of = |verb: &str, resource: &str| {
        requests
            .get(&(verb.to_string(), resource.to_string()))
            .copied()
            .unwrap_or(0.0)
    };
    eprintln!("cold start of {COUNT}: {total} requests: {requests:?}");
    let slack = (COUNT / 10) as f64;
    assert!(
        total <= (4 * COUNT) as f64 + slack
            && count_of("GET", "sealedsecrets") <= COUNT as f64 + slack
            && count_of("GET", "secrets") <= slack,
        "a cold start of {COUNT} should take about 4 requests each (one read of the \
         SealedSecret, and no read of Secrets the watch has never seen): {total} in all, \
         {requests:?}"
    );
    let page = controller.metrics().expect("metrics");
    let rsa_before = metric(&page, RSA).expect("rsa metric");
    let relists_before = metric(&page, RELISTS).expect("relist metric");
    assert_eq!(
        rsa_before as usize,
        2 * COUNT,
        "one RSA operation per item on a cold start"
    );
    let secrets_before = cold.secrets().expect("secrets");

    // The controller sleeps while history moves on and is compacted away,
    // and the API server forgets its watch cache.
    controller.signal("STOP");
    expire_watches(cp, &cold.ns).expect("expire the watches");
    controller.signal("CONT");

    wait_relisted(&controller, relists_before, Duration::from_secs(120))
        .unwrap_or_else(|e| panic!("{e}\n{}", controller.log()));
    std::thread::sleep(Duration::from_secs(10));
    cold.wait_synced(COUNT, Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("{e}\n{}", controller.log()));
    let page = controller.metrics().expect("metrics");
    assert_eq!(
        metric(&page, RSA),
        Some(rsa_before),
        "no decryption after the relist"
    );
    cold.verify(&secrets_before)
        .unwrap_or_else(|e| panic!("{e}\n{}", controller.log()));
}
