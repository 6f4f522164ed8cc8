//! What changes while the controller's watches are away is seen by the list
//! that replaces them: the controller sleeps (SIGSTOP) past an etcd
//! compaction and an API server restart, and meanwhile a SealedSecret is
//! created, another gets a new sealed value, the Secret of a third is
//! deleted, and the unmanaged Secret that held a fourth's name is deleted.
//! Both watches come back with 410 Gone and list everything again (six pages
//! of SealedSecrets); within a minute each of the four is right, with no
//! periodic resync to help (`SEALED_SECRETS_RESYNC_PERIOD=1h`): the relist
//! alone must do it.
//!
//! The changes are made after the API server was killed once with the
//! controller stopped: a change made while its watch connections still stood
//! would wait in their socket buffers and reach the controller as an
//! ordinary watch event when it wakes, not through the relist.
//!
//! The four sort before the cold start's `s-NNNNN`, so they come in the
//! relist's first page, and the five pages after it take about 0.1 s: a
//! controller that reconciles each page as it comes, against the cache from
//! before the list, has the time to get them wrong. With a cold start of 200
//! (three pages) the old controller came out right by luck one run in four.
//!
//! A file of its own: it restarts the shared API server.

use std::time::Duration;

use sealed_secrets_e2e::cold_start::{expire_watches, metric, wait_relisted, ColdStart, RELISTS};
use sealed_secrets_e2e::controller::ControllerOptions;
use sealed_secrets_e2e::kubeseal::seal_value;
use sealed_secrets_e2e::secrets::{secret_value, wait_secret_value};
use sealed_secrets_e2e::status::{synced, wait_applied, wait_synced_true};
use sealed_secrets_e2e::{poll, ControlPlane};

/// With the four, six list pages of SealedSecrets (the controller lists 100 at a time).
const COUNT: usize = 500;
/// Long enough that no periodic resync runs during the test.
const RESYNC: (&str, &str) = ("SEALED_SECRETS_RESYNC_PERIOD", "1h");
/// How long after the controller wakes the four objects must be right.
const HEALED_WITHIN: Duration = Duration::from_secs(60);

#[test]
fn changes_made_while_the_watches_were_gone_are_applied_after_the_relist() {
    let cp = ControlPlane::shared().expect("control plane");
    let cold = ColdStart::prepare(cp, "fault-relist-gap", COUNT).expect("cold start");
    let ns = &cold.ns;
    let controller = ControllerOptions::for_namespace(ns)
        .env(RESYNC.0, RESYNC.1)
        .start(cp)
        .expect("controller");
    cold.wait_synced(COUNT, Duration::from_secs(180))
        .unwrap_or_else(|e| panic!("{e}\n{}", controller.log()));

    // The four objects the gap will change, in their state before it.
    let (_, pem) = controller.get("/v1/cert.pem").expect("certificate");
    let dir = tempfile::tempdir().expect("tempdir");
    let cert = dir.path().join("cert.pem");
    std::fs::write(&cert, pem).expect("write the certificate");
    ns.kubectl()
        .run([
            "create",
            "secret",
            "generic",
            "blocked",
            "--from-literal=k=not-yours",
        ])
        .expect("the unmanaged Secret named blocked");
    for (name, value) in [("edited", "old"), ("lost", "kept"), ("blocked", "sealed")] {
        ns.kubectl()
            .apply(&seal_value(cp, &cert, ns, name, value).expect("seal"))
            .expect("apply");
    }
    for (name, value) in [("edited", "old"), ("lost", "kept")] {
        wait_synced_true(ns, name, &controller);
        wait_secret_value(ns, name, "k", value)
            .unwrap_or_else(|e| panic!("{e}\n{}", controller.log()));
    }
    poll(
        "blocked Synced=False (its name is taken)",
        Duration::from_secs(60),
        Duration::from_millis(250),
        || Ok(synced(ns, "blocked").filter(|(status, _, _)| status == "False")),
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", controller.log()));
    assert_eq!(
        secret_value(ns, "blocked", "k").as_deref(),
        Some("not-yours"),
        "the unmanaged Secret is left alone"
    );
    let born = seal_value(cp, &cert, ns, "born-in-gap", "new-born").expect("seal");
    let edited = seal_value(cp, &cert, ns, "edited", "new").expect("seal");
    let relists_before = metric(&controller.metrics().expect("metrics"), RELISTS).expect(RELISTS);

    // The gap. The controller's watch connections die first, so that what
    // follows reaches it only through the relist.
    controller.signal("STOP");
    cp.kill_component("kube-apiserver")
        .expect("kill the API server");
    cp.restart_stopped().expect("the API server again");
    ns.kubectl().apply(&born).expect("apply born-in-gap");
    ns.kubectl()
        .apply(&edited)
        .expect("apply the new value of edited");
    ns.kubectl()
        .run(["delete", "secret", "lost"])
        .expect("delete the Secret of lost");
    ns.kubectl()
        .run(["delete", "secret", "blocked"])
        .expect("delete the unmanaged Secret named blocked");
    expire_watches(cp, ns).expect("expire the watches");
    controller.signal("CONT");
    let woke = std::time::Instant::now();

    wait_relisted(&controller, relists_before, Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("{e}\n{}", controller.log()));

    let expected = [
        ("born-in-gap", "new-born"),
        ("edited", "new"),
        ("lost", "kept"),
        ("blocked", "sealed"),
    ];
    if let Err(e) = wait_applied(ns, &expected, HEALED_WITHIN) {
        panic!(
            "{e}\n({:?} after the controller woke)\ncontroller log:\n{}",
            woke.elapsed(),
            controller.log()
        );
    }
    eprintln!("healed {:?} after the controller woke", woke.elapsed());
    cold.wait_synced(COUNT + 4, Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("{e}\n{}", controller.log()));
}
