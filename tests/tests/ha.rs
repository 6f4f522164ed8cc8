//! High availability on the real node: the manifests' two replicas elect one
//! leader on a Lease. Started together on an empty cluster they make one key;
//! the leader killed without grace is replaced within the lease duration
//! while kubeseal keeps fetching the certificate; an API server outage longer
//! than the renew deadline stops the leader's writes, and afterwards there is
//! one leader again and everything is synced.
//!
//! One test on purpose: the Pods watch every namespace and the outage stops
//! the shared API server, so nothing else may run beside it (cargo runs test
//! binaries one at a time).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sealed_secrets_e2e::http;
use sealed_secrets_e2e::kubeseal::{kubeseal, lf, succeeded};
use sealed_secrets_e2e::pod::{self, ControllerPod, NAMESPACE};
use sealed_secrets_e2e::secrets::{names_labelled, wait_secret_value};
use sealed_secrets_e2e::status::synced;
use sealed_secrets_e2e::{poll, ControlPlane, TestNamespace};
use serde_json::Value;

/// The manifests' `--leader-elect-*` defaults.
const LEASE_DURATION: Duration = Duration::from_secs(15);
const RENEW_DEADLINE: Duration = Duration::from_secs(10);
const KEY_SELECTOR: &str = "sealedsecrets.bitnami.com/sealed-secrets-key";

fn secret(ns: &str, name: &str, value: &str) -> String {
    format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: {name}, namespace: {ns}}}\nstringData: {{k: {value}}}\n")
}

fn name(pod: &Value) -> String {
    pod["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// This Pod's `sealed_secrets_controller_leader` value, read from the Pod's
/// own metrics port (no API server involved).
fn leader_gauge(pod: &Value) -> Option<i64> {
    let ip = pod["status"]["podIP"].as_str()?;
    let (code, body) = http::get(&format!("http://{ip}:8081/metrics")).ok()?;
    if code != 200 {
        return None;
    }
    body.lines()
        .find(|l| l.starts_with("sealed_secrets_controller_leader{"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

fn key_count(cp: &ControlPlane) -> usize {
    names_labelled(&cp.kubectl().namespace(NAMESPACE), KEY_SELECTOR)
        .expect("key Secrets")
        .len()
}

/// SIGSTOPs the API server; SIGCONT on drop, whatever happens in between.
struct ApiServerPaused(i32);

impl ApiServerPaused {
    fn pause(cp: &ControlPlane) -> Self {
        let state = cp.kubeconfig().parent().expect("state dir");
        let pid: i32 = std::fs::read_to_string(state.join("kube-apiserver.pid"))
            .expect("kube-apiserver.pid")
            .trim()
            .parse()
            .expect("pid");
        signal(pid, "STOP");
        Self(pid)
    }
}

impl Drop for ApiServerPaused {
    fn drop(&mut self) {
        signal(self.0, "CONT");
    }
}

fn signal(pid: i32, sig: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .expect("kill");
    assert!(status.success(), "kill -{sig} {pid}");
}

#[test]
fn two_replicas_one_leader_failover_and_api_outage() {
    let cp = ControlPlane::shared().expect("control plane");

    // Both replicas start at once on a cluster without keys or Lease.
    pod::remove_existing(cp).expect("remove an earlier Deployment");
    let system = cp.kubectl().namespace(NAMESPACE);
    system
        .run([
            "delete",
            "secrets",
            "-l",
            KEY_SELECTOR,
            "--ignore-not-found",
        ])
        .expect("delete keys");
    system
        .run(["delete", "lease", pod::DEPLOYMENT, "--ignore-not-found"])
        .expect("delete lease");
    let controller = ControllerPod::deploy(cp).unwrap_or_else(|e| panic!("{e}"));
    let pods = controller
        .ready_pods(Duration::from_secs(120))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(pods.len(), 2);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        key_count(cp),
        1,
        "one key from a simultaneous start\n{}",
        controller.logs()
    );

    // Exactly one leader, and each replica's metric says which.
    let leader = poll(
        "a leader",
        Duration::from_secs(30),
        Duration::from_millis(500),
        || controller.leader_pod(),
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", controller.describe()));
    let follower = pods
        .iter()
        .find(|p| name(p) != name(&leader))
        .expect("a follower")
        .clone();
    let gauges = poll(
        "leader metrics",
        Duration::from_secs(20),
        Duration::from_millis(500),
        || {
            Ok(match (leader_gauge(&leader), leader_gauge(&follower)) {
                (Some(1), Some(0)) => Some(()),
                _ => None,
            })
        },
    );
    gauges.unwrap_or_else(|e| {
        panic!(
            "{e}: leader {:?}, follower {:?}",
            leader_gauge(&leader),
            leader_gauge(&follower)
        )
    });

    // SIGUSR1 to the replica that does not lead: the leader makes the key
    // (one, not two); `kubeseal admin keys rotate` makes one that the leader
    // does not duplicate. Every replica serves the newest certificate.
    let follower_process = pod::pod_process(follower["metadata"]["uid"].as_str().expect("uid"))
        .expect("the follower's process");
    signal(follower_process.pid as i32, "USR1");
    poll(
        "a key made on request",
        Duration::from_secs(60),
        Duration::from_millis(500),
        || Ok((key_count(cp) == 2).then_some(())),
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", controller.logs()));
    let out = kubeseal(cp, &["admin", "keys", "rotate", "--key-size", "2048"], "").expect("rotate");
    let rotated = lf(&succeeded(&out));
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(
        key_count(cp),
        3,
        "one key per request\n{}",
        controller.logs()
    );
    for pod in [&leader, &follower] {
        let ip = pod["status"]["podIP"].as_str().expect("pod IP");
        let served = poll(
            "the newest certificate",
            Duration::from_secs(30),
            Duration::from_millis(500),
            || {
                let (code, pem) = http::get(&format!("http://{ip}:8080/v1/cert.pem"))?;
                Ok((code == 200 && lf(&pem) == rotated).then_some(()))
            },
        );
        served.unwrap_or_else(|e| panic!("{e}: {} serves another certificate", name(pod)));
    }
    let logs = controller.logs();
    assert!(logs.contains("asking the leader"), "{logs}");
    assert!(
        logs.contains("requested through the leader Lease"),
        "{logs}"
    );

    let ns = TestNamespace::create(cp, "ha").expect("namespace");
    let first =
        succeeded(&kubeseal(cp, &["-o", "yaml"], &secret(ns.name(), "first", "v1")).expect("seal"));
    ns.kubectl().apply(&first).expect("apply");
    wait_secret_value(&ns, "first", "k", "v1")
        .unwrap_or_else(|e| panic!("{e}\n{}", controller.logs()));

    // Kill the leader without grace; kubeseal keeps fetching the certificate
    // from the other replica meanwhile, and the other replica unseals.
    let sealed = succeeded(
        &kubeseal(cp, &["-o", "yaml"], &secret(ns.name(), "failover", "v2")).expect("seal"),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let attempts = Arc::new(AtomicUsize::new(0));
    let fetcher = {
        let (stop, attempts) = (stop.clone(), attempts.clone());
        std::thread::spawn(move || {
            let mut failures = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let out = kubeseal(cp, &["--fetch-cert"], "").expect("run kubeseal");
                attempts.fetch_add(1, Ordering::Relaxed);
                if !out.status.success() {
                    failures.push(String::from_utf8_lossy(&out.stderr).into_owned());
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            failures
        })
    };
    std::thread::sleep(Duration::from_secs(1));
    let killed = Instant::now();
    system
        .run([
            "delete",
            "pod",
            &name(&leader),
            "--grace-period=0",
            "--force",
        ])
        .expect("force delete the leader");
    ns.kubectl().apply(&sealed).expect("apply right after");
    wait_secret_value(&ns, "failover", "k", "v2")
        .unwrap_or_else(|e| panic!("{e}\n{}", controller.logs()));
    let failover = killed.elapsed();
    assert!(
        failover <= LEASE_DURATION + Duration::from_secs(5),
        "unsealed {failover:?} after the leader was killed"
    );
    std::thread::sleep(Duration::from_secs(2));
    stop.store(true, Ordering::Relaxed);
    let failures = fetcher.join().expect("fetcher");
    assert!(
        attempts.load(Ordering::Relaxed) >= 10,
        "kubeseal ran through the switch"
    );
    assert!(
        failures.is_empty(),
        "kubeseal --fetch-cert failed during the switch: {failures:?}"
    );
    let new_leader = controller
        .leader_pod()
        .expect("lease")
        .expect("a new leader");
    // The killed Pod still got SIGTERM from the kubelet and released the
    // Lease, so the standby or the Deployment's new Pod, whichever asked
    // first, leads now.
    assert_ne!(name(&new_leader), name(&leader), "a new leader");
    eprintln!("failover: unsealed {failover:?} after the leader was killed");

    // The API server stops for longer than the renew deadline: the leader
    // stops writing (its metric says so, read from the Pod itself).
    let pods = controller
        .ready_pods(Duration::from_secs(120))
        .unwrap_or_else(|e| panic!("{e}"));
    let leader = controller.leader_pod().expect("lease").expect("leader");
    let before_outage = succeeded(
        &kubeseal(cp, &["-o", "yaml"], &secret(ns.name(), "outage", "v3")).expect("seal"),
    );
    assert_eq!(leader_gauge(&leader), Some(1));
    {
        let paused = ApiServerPaused::pause(cp);
        let stopped_at = Instant::now();
        let stepped_down = poll(
            "the leader to stop writing",
            RENEW_DEADLINE + Duration::from_secs(10),
            Duration::from_millis(250),
            || Ok((leader_gauge(&leader) == Some(0)).then(|| stopped_at.elapsed())),
        )
        .unwrap_or_else(|e| panic!("{e}: the leader still says {:?}", leader_gauge(&leader)));
        assert!(
            stepped_down >= RENEW_DEADLINE - Duration::from_secs(1),
            "not before the deadline: {stepped_down:?}"
        );
        for pod in &pods {
            assert_ne!(
                leader_gauge(pod),
                Some(1),
                "no leader while the API server is away"
            );
        }
        std::thread::sleep(Duration::from_secs(3));
        drop(paused);
    }

    // Back: one leader again, everything synced, new objects unsealed.
    let pods = controller
        .ready_pods(Duration::from_secs(120))
        .unwrap_or_else(|e| panic!("{e}"));
    poll(
        "one leader again",
        Duration::from_secs(60),
        Duration::from_millis(500),
        || {
            let leading: Vec<_> = pods.iter().filter(|p| leader_gauge(p) == Some(1)).collect();
            Ok((leading.len() == 1 && controller.leader_pod()?.is_some()).then_some(()))
        },
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", controller.logs()));
    ns.kubectl()
        .apply(&before_outage)
        .expect("apply after the outage");
    wait_secret_value(&ns, "outage", "k", "v3")
        .unwrap_or_else(|e| panic!("{e}\n{}", controller.logs()));
    for object in ["first", "failover", "outage"] {
        let (status, message, _) = synced(&ns, object).expect("synced condition");
        assert_eq!(status, "True", "{object}: {message}");
    }
    assert_eq!(
        key_count(cp),
        3,
        "no key made by the outage or the failover"
    );
    let logs = controller.logs();
    assert!(
        logs.contains("not leader any more: stopped writing"),
        "{logs}"
    );
}
