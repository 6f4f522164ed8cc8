//! The controller killed (SIGKILL) in the middle of a cold start and started
//! again; and another writer updating the Secrets the controller writes
//! (409 conflicts): both converge, losing nothing. And a controller whose
//! first list never completes still stops on SIGTERM.

use std::time::Duration;

use sealed_secrets_e2e::cold_start::ColdStart;
use sealed_secrets_e2e::controller::ControllerOptions;
use sealed_secrets_e2e::kubeconfig::service_account_kubeconfig;
use sealed_secrets_e2e::kubeseal::{kubeseal, succeeded};
use sealed_secrets_e2e::status::wait_synced_true;
use sealed_secrets_e2e::{poll, ControlPlane, TestNamespace};

const COUNT: usize = 500;

#[test]
fn controller_killed_mid_cold_start_and_started_again() {
    let cp = ControlPlane::shared().expect("control plane");
    let cold = ColdStart::prepare(cp, "fault-kill", COUNT).expect("cold start");
    let first = ControllerOptions::for_namespace(&cold.ns)
        .start(cp)
        .expect("controller");
    cold.wait_synced(COUNT / 5, Duration::from_secs(180))
        .unwrap_or_else(|e| panic!("{e}\n{}", first.log()));
    first.signal("KILL");
    let first_log = first.log();
    drop(first);
    let before = cold.secrets().expect("secrets");
    assert!(before.len() < COUNT, "killed mid-way");

    let mut second = ControllerOptions::for_namespace(&cold.ns)
        .start(cp)
        .expect("controller again");
    cold.wait_synced(COUNT, Duration::from_secs(300))
        .unwrap_or_else(|e| panic!("{e}\n{first_log}\n{}", second.log()));
    cold.verify(&before)
        .unwrap_or_else(|e| panic!("{e}\n{}", second.log()));
    assert!(second.is_running());
}

/// While another writer keeps updating the Secret (its own annotation), the
/// SealedSecret's template labels and annotations change three times: the
/// controller meets 409s, retries, and the Secret ends with the last
/// template's labels and annotations and the right value.
#[test]
fn concurrent_writers_do_not_lose_template_updates() {
    let cp = ControlPlane::shared().expect("control plane");
    let ns = TestNamespace::create(cp, "fault-conflict").expect("namespace");
    let controller = ControllerOptions::for_namespace(&ns)
        .start(cp)
        .expect("controller");
    let (_, pem) = controller.get("/v1/cert.pem").expect("cert");
    let dir = tempfile::tempdir().expect("tempdir");
    let cert = dir.path().join("cert.pem");
    std::fs::write(&cert, pem).expect("write cert");
    let cert = cert.to_string_lossy().into_owned();
    let sealed_with = |generation: u32| {
        let secret = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: contended\n  namespace: {}\n  labels: {{gen: \"{generation}\"}}\n  annotations: {{note: \"n{generation}\"}}\nstringData: {{k: v{generation}}}\n",
            ns.name()
        );
        succeeded(&kubeseal(cp, &["--cert", &cert, "-o", "yaml"], &secret).expect("seal"))
    };
    ns.kubectl().apply(&sealed_with(1)).expect("apply");
    wait_synced_true(&ns, "contended", &controller);

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        let kubectl = ns.kubectl();
        std::thread::spawn(move || {
            let mut writes = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if kubectl
                    .run([
                        "annotate",
                        "secret",
                        "contended",
                        "--overwrite",
                        &format!("other-writer={writes}"),
                    ])
                    .is_ok()
                {
                    writes += 1;
                }
            }
            writes
        })
    };
    for generation in 2..=4 {
        ns.kubectl().apply(&sealed_with(generation)).expect("apply");
        std::thread::sleep(Duration::from_millis(700));
    }
    let converged = poll(
        "the last template in the Secret",
        Duration::from_secs(90),
        Duration::from_millis(250),
        || {
            let Some(secret) = ns.kubectl().get_optional("secret", "contended")? else {
                return Ok(None);
            };
            let labels_ok = secret["metadata"]["labels"]["gen"] == "4";
            let annotations_ok = secret["metadata"]["annotations"]["note"] == "n4";
            let value_ok = secret["data"]["k"] == "djQ="; // "v4"
            Ok((labels_ok && annotations_ok && value_ok).then_some(()))
        },
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let writes = writer.join().expect("writer");
    converged.unwrap_or_else(|e| panic!("{e}\n{}", controller.log()));
    assert!(writes > 5, "the other writer really wrote ({writes})");
    let ss = wait_synced_true(&ns, "contended", &controller);
    assert_eq!(
        ss["metadata"]["generation"],
        ss["status"]["observedGeneration"]
    );
}

/// SIGTERM while the watches have not listed once (here: the controller may
/// not list SealedSecrets, so their list fails again and again, as during an
/// outage at start) stops the controller within seconds. kube-runtime's
/// reconcilers wait for their first list before they stop; without a bound
/// the process stayed until its Pod was killed.
#[test]
fn sigterm_before_the_first_list_stops_the_controller() {
    let cp = ControlPlane::shared().expect("control plane");
    let ns = TestNamespace::create(cp, "fault-term").expect("namespace");
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    service_account_kubeconfig(
        cp,
        &ns,
        "no-sealedsecrets",
        &[
            r#"{apiGroups: [""], resources: [secrets], verbs: [get, list, watch, create, update]}"#,
            r#"{apiGroups: [""], resources: [events], verbs: [create, patch]}"#,
        ],
        &kubeconfig,
    )
    .expect("a user that may not list SealedSecrets");
    let controller = ControllerOptions::for_namespace(&ns)
        .kubeconfig(kubeconfig)
        .start(cp)
        .expect("controller");
    // Keys made, the list of SealedSecrets refused: serving, never ready.
    poll(
        "the list refused",
        Duration::from_secs(30),
        Duration::from_millis(200),
        || Ok(controller.log().contains("sealedsecrets").then_some(())),
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", controller.log()));
    let (code, _) = controller.get("/readyz").expect("readyz");
    assert_ne!(code, 200, "not ready without a list");
    let log = controller.log();
    let status = controller
        .stop()
        .unwrap_or_else(|e| panic!("{e}: SIGTERM did not stop it\n{log}"));
    assert!(status.success(), "{status}\n{log}");
}
