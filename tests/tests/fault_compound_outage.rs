//! The outage of the bug report, as a new user would meet it: a cold start of
//! 300 SealedSecrets; when a fifth are synced, kube-apiserver is stopped
//! (SIGSTOP) for 60 s and resumed, then etcd is stopped for 60 s and resumed.
//! The controller lives through both without relisting (nothing is killed,
//! its watches resume where they were): within two minutes of etcd resuming,
//! every SealedSecret is Synced=True at its current generation and every
//! Secret holds its own values. What failed during the outage (Secret writes
//! past their quick retries, status writes) must not wait for its slow retry
//! period, or for ever: a user watching `kubectl get sealedsecrets` after an
//! outage sees no stale failures. Then the controller and the API server
//! are killed, and a new controller starts before the API server does: it
//! waits (no exit, /healthz answers, /readyz does not), and everything is
//! synced within two minutes of the API server's return.
//!
//! On failure it says how many were synced, what the statuses of the others
//! say, and the controller's log tail.
//!
//! `SSRS_FAULT_SECONDS` shortens both stops for a quick local run.
//!
//! A file of its own: it stops etcd and kube-apiserver and restarts the API
//! server, which would disturb any test running beside it (cargo runs test
//! binaries one at a time).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use sealed_secrets_e2e::cold_start::{pause, ColdStart};
use sealed_secrets_e2e::controller::ControllerOptions;
use sealed_secrets_e2e::{ControlPlane, Error};

const COUNT: usize = 300;
/// How long after the outage ends (or a new controller starts) every status
/// must be Synced=True.
const SYNCED_WITHIN: Duration = Duration::from_secs(120);
/// How long the new controller runs before the API server is started again.
const API_SERVER_DOWN: Duration = Duration::from_secs(20);

/// The last `n` lines of `log`.
fn tail(log: &str, n: usize) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The SealedSecrets not Synced=True at their current generation, grouped by
/// what their status says: (generation, observedGeneration, the conditions'
/// type=status and message) -> names.
fn stale(cold: &ColdStart) -> Result<BTreeMap<String, Vec<String>>, Error> {
    let list = cold
        .ns
        .kubectl()
        .get_json(["get", "sealedsecrets", "-o", "json"])?;
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in list["items"].as_array().into_iter().flatten() {
        let conditions: Vec<&serde_json::Value> = s["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .collect();
        let current = s["status"]["observedGeneration"] == s["metadata"]["generation"];
        if current
            && conditions
                .iter()
                .any(|c| c["type"] == "Synced" && c["status"] == "True")
        {
            continue;
        }
        let said: Vec<String> = conditions
            .iter()
            .map(|c| format!("{}={}: {:?}", c["type"], c["status"], c["message"]))
            .collect();
        let key = format!(
            "generation {} observed {}; {}",
            s["metadata"]["generation"],
            s["status"]["observedGeneration"],
            if said.is_empty() {
                "no conditions".into()
            } else {
                said.join("; ")
            }
        );
        groups
            .entry(key)
            .or_default()
            .push(s["metadata"]["name"].as_str().unwrap_or("?").to_string());
    }
    Ok(groups)
}

/// [`stale`] for a message: how many say what, with a few names.
fn describe(stale: &Result<BTreeMap<String, Vec<String>>, Error>) -> String {
    let groups = match stale {
        Ok(groups) => groups,
        Err(e) => return format!("  (cannot list the SealedSecrets: {e})"),
    };
    groups
        .iter()
        .map(|(said, names)| {
            let shown: Vec<&str> = names.iter().take(5).map(String::as_str).collect();
            format!("  {} x {said}  (e.g. {})", names.len(), shown.join(", "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// How many are synced now (0 while they cannot be listed).
fn synced(cold: &ColdStart) -> usize {
    cold.synced().unwrap_or(0)
}

/// Every SealedSecret synced within [`SYNCED_WITHIN`] of `since`, with its
/// own values; else what the stale ones say and the log's tail.
fn all_synced_on_time(
    cold: &ColdStart,
    since: Instant,
    before: &Secrets,
    log: impl Fn() -> String,
) {
    if let Err(e) = cold.wait_synced(COUNT, SYNCED_WITHIN.saturating_sub(since.elapsed())) {
        panic!(
            "{e}: {} of {COUNT} synced {:?} after {}; the others say:\n{}\n--- controller log tail ---\n{}",
            synced(cold),
            since.elapsed(),
            "the outage ended",
            describe(&stale(cold)),
            tail(&log(), 200)
        );
    }
    eprintln!("all {COUNT} synced {:?} after", since.elapsed());
    cold.verify(before)
        .unwrap_or_else(|e| panic!("{e}\n{}", tail(&log(), 200)));
}

type Secrets = BTreeMap<String, (String, serde_json::Value)>;

#[test]
fn statuses_are_synced_within_two_minutes_of_a_compound_outage() {
    let cp = ControlPlane::shared().expect("control plane");
    let cold = ColdStart::prepare(cp, "fault-compound", COUNT).expect("cold start");
    let mut first = ControllerOptions::for_namespace(&cold.ns)
        .start(cp)
        .expect("controller");
    cold.wait_synced(COUNT / 5, Duration::from_secs(180))
        .unwrap_or_else(|e| panic!("{e}\n{}", first.log()));
    let before = cold.secrets().expect("secrets");
    assert!(
        before.len() < COUNT,
        "all synced before the outage: it must come mid-way"
    );
    eprintln!("{} Secrets written before the outage", before.len());

    pause(cp, "kube-apiserver").expect("pause kube-apiserver");
    eprintln!("kube-apiserver resumed: {} synced", synced(&cold));
    pause(cp, "etcd").expect("pause etcd");
    let resumed = Instant::now();
    eprintln!("etcd resumed: {} synced", synced(&cold));
    all_synced_on_time(&cold, resumed, &before, || first.log());
    assert!(first.is_running(), "the controller exited by itself");

    // A new controller that starts while the API server is down (a node
    // restarted in the outage) waits for it, serving /healthz, instead of
    // exiting: in a Pod, each exit is restarted with a longer back-off, up to
    // five minutes, which would outlast the outage by minutes.
    first.signal("KILL");
    drop(first);
    cp.kill_component("kube-apiserver")
        .expect("kill kube-apiserver");
    let mut second = ControllerOptions::for_namespace(&cold.ns)
        .start(cp)
        .expect("a controller started while the API server is down serves /healthz");
    std::thread::sleep(API_SERVER_DOWN);
    assert!(
        second.is_running(),
        "the controller exited while the API server was down:\n{}",
        tail(&second.log(), 40)
    );
    let (code, _) = second.get("/readyz").expect("/readyz");
    assert_ne!(code, 200, "not ready without keys");
    cp.restart_stopped().expect("kube-apiserver again");
    let back = Instant::now();
    all_synced_on_time(&cold, back, &before, || second.log());
    assert!(second.is_running(), "the controller exited by itself");
}
