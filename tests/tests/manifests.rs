//! `kubectl apply -k manifests/` runs the controller as a Pod on the real
//! node, from the locally built image, under its ServiceAccount (projected
//! token, in-cluster config) and the manifests' securityContext, in a
//! namespace that enforces the `restricted` Pod Security level; `kubeseal`
//! with its default flags reaches it through the API server's service proxy;
//! a replaced Pod serves the same keys and leaves existing Secrets alone.
//!
//! One test on purpose: the Pod watches every namespace, so nothing else may
//! run a controller beside it (cargo runs test binaries one at a time).

use std::time::Duration;

use sealed_secrets_e2e::kubeseal::{kubeseal, lf, reference_kubeseal, succeeded};
use sealed_secrets_e2e::pod::{manifest_image, pod_process, ControllerPod, NAMESPACE};
use sealed_secrets_e2e::secrets::{
    names_labelled, secret_value, wait_secret_value, ANY_KEY_SELECTOR,
};
use sealed_secrets_e2e::{poll, ControlPlane, TestNamespace};
use serde_json::Value;

const CERT_PATH: &str =
    "/api/v1/namespaces/kube-system/services/http:sealed-secrets-controller:http/proxy/v1/cert.pem";

fn secret(ns: &str, name: &str, value: &str) -> String {
    format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: {name}, namespace: {ns}}}\nstringData: {{k: {value}}}\n")
}

#[test]
fn the_manifests_run_the_controller_as_a_pod() {
    let cp = ControlPlane::shared().expect("control plane");
    let controller = ControllerPod::deploy(cp).unwrap_or_else(|e| panic!("{e}"));
    let pods = controller
        .ready_pods(Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(pods.len(), 2, "two replicas");
    for pod in &pods {
        pod_is_what_the_manifests_say(cp, pod, &controller);
    }
    let pod = poll(
        "a leader",
        Duration::from_secs(30),
        Duration::from_millis(500),
        || controller.leader_pod(),
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", controller.describe()));
    restricted_level_is_enforced(cp);

    let ns = TestNamespace::create(cp, "pod").expect("namespace");
    let sealed = kubeseal_with_default_flags(cp, &ns, &controller);

    // A new Pod (the Deployment replaces the deleted leader) loads the same key.
    let cert_before = lf(&cp.kubectl().get_raw(CERT_PATH).expect("cert"));
    let keys_before = key_secrets(cp);
    let secret_before = ns
        .kubectl()
        .get_optional("secret", "ours")
        .expect("get")
        .expect("secret ours");
    let old = pod["metadata"]["name"]
        .as_str()
        .expect("pod name")
        .to_string();
    ns.kubectl()
        .namespace(NAMESPACE)
        .run(["delete", "pod", &old, "--wait=false"])
        .expect("delete pod");
    let pods = poll(
        "the deleted Pod replaced",
        Duration::from_secs(180),
        Duration::from_millis(500),
        || {
            let pods = controller.pods()?;
            let replaced = pods.len() == 2
                && pods.iter().all(sealed_secrets_e2e::pod::is_ready)
                && pods.iter().all(|p| p["metadata"]["name"] != old.as_str());
            Ok(replaced.then_some(pods))
        },
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", controller.describe()));
    for pod in &pods {
        pod_is_what_the_manifests_say(cp, pod, &controller);
    }
    let cert_after = poll(
        "the new Pod serving the certificate",
        Duration::from_secs(60),
        Duration::from_millis(500),
        || Ok(cp.kubectl().get_raw(CERT_PATH).ok()),
    )
    .expect("cert after restart");
    assert_eq!(
        lf(&cert_after),
        cert_before,
        "the new Pod serves the same certificate"
    );
    assert_eq!(key_secrets(cp), keys_before, "no new key was generated");

    // The new Pod works (it unseals a new SealedSecret) and, having seen the
    // old one again, left its Secret as it was.
    let out = kubeseal(cp, &["-o", "yaml"], &secret(ns.name(), "after", "v3")).expect("seal");
    ns.kubectl().apply(&succeeded(&out)).expect("apply");
    wait_secret_value(&ns, "after", "k", "v3")
        .unwrap_or_else(|e| panic!("{e}\n{}", controller.logs()));
    succeeded(&kubeseal(cp, &["--validate"], &sealed).expect("validate after restart"));
    let secret_after = ns
        .kubectl()
        .get_optional("secret", "ours")
        .expect("get")
        .expect("secret ours");
    for field in ["uid", "resourceVersion"] {
        assert_eq!(
            secret_after["metadata"][field], secret_before["metadata"][field],
            "the existing Secret is untouched ({field})"
        );
    }
    let logs = controller.logs();
    assert!(!logs.contains("forbidden"), "no permission errors:\n{logs}");
}

/// The Pod runs the manifests' image on the node, under the ServiceAccount's
/// projected token, as user 1001 with a read-only root, and is Ready with no
/// restarts (startup, readiness and liveness probes pass).
fn pod_is_what_the_manifests_say(cp: &ControlPlane, pod: &Value, controller: &ControllerPod<'_>) {
    let spec = &pod["spec"];
    assert_eq!(spec["nodeName"], cp.netns(), "scheduled onto the node");
    assert_eq!(spec["serviceAccountName"], "sealed-secrets-controller");
    let container = &spec["containers"][0];
    let image = manifest_image(cp).expect("image");
    assert!(
        image.ends_with(container["image"].as_str().expect("image")),
        "{image} vs {}",
        container["image"]
    );
    assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(spec["securityContext"]["runAsUser"], 1001);
    let projected = spec["volumes"].as_array().into_iter().flatten().any(|v| {
        v["projected"]["sources"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| !s["serviceAccountToken"].is_null())
    });
    assert!(projected, "a projected ServiceAccount token: {spec}");
    let status = &pod["status"]["containerStatuses"][0];
    assert_eq!(status["ready"], true);
    assert_eq!(status["restartCount"], 0, "{}", controller.describe());
    assert_eq!(status["image"], image.as_str(), "the loaded image ran");

    // The process itself, seen from the host: uid 1001 in the Pod's cgroup.
    let uid = pod["metadata"]["uid"].as_str().expect("uid").to_string();
    let process = poll(
        "the controller process on the host",
        Duration::from_secs(30),
        Duration::from_millis(500),
        || Ok(pod_process(&uid).map(|p| (p.comm, p.uid))),
    )
    .expect("process");
    assert_eq!(process.0, "controller", "the entrypoint is `controller`");
    assert_eq!(process.1, "1001", "runs as uid 1001");

    let logs = controller.logs();
    assert!(logs.contains("watches synced"), "{logs}");
    assert!(
        !logs.contains('\u{1b}'),
        "no colour codes in a Pod's log:\n{logs}"
    );
}

/// The namespace enforces `restricted`: a Pod that does not meet it is refused.
fn restricted_level_is_enforced(cp: &ControlPlane) {
    let labels = cp
        .kubectl()
        .get_json(["get", "namespace", NAMESPACE, "-o", "json"])
        .expect("namespace")["metadata"]["labels"]
        .clone();
    assert_eq!(labels["pod-security.kubernetes.io/enforce"], "restricted");
    let refused = cp.kubectl().namespace(NAMESPACE).run([
        "run",
        "not-restricted",
        "--image=registry.k8s.io/pause:3.10.2",
        "--dry-run=server",
    ]);
    let message = match refused {
        Ok(out) => panic!("a Pod without a securityContext was admitted: {out}"),
        Err(e) => e.to_string(),
    };
    assert!(
        message.contains("violates PodSecurity") && message.contains("restricted:latest"),
        "{message}"
    );
}

/// Seals with no --cert and no controller flags (kube-system/sealed-secrets-controller
/// through the service proxy), validates, re-encrypts; returns the sealed YAML.
fn kubeseal_with_default_flags(
    cp: &ControlPlane,
    ns: &TestNamespace,
    controller: &ControllerPod<'_>,
) -> String {
    let fetched = succeeded(&kubeseal(cp, &["--fetch-cert"], "").expect("fetch-cert"));
    let served = cp.kubectl().get_raw(CERT_PATH).expect("cert via proxy");
    assert_eq!(lf(&fetched), lf(&served));

    let sealed =
        succeeded(&kubeseal(cp, &["-o", "yaml"], &secret(ns.name(), "ours", "v1")).expect("seal"));
    ns.kubectl().apply(&sealed).expect("apply");
    wait_secret_value(ns, "ours", "k", "v1")
        .unwrap_or_else(|e| panic!("{e}\n{}", controller.logs()));

    succeeded(&kubeseal(cp, &["--validate"], &sealed).expect("validate"));
    let moved = sealed.replace("name: ours", "name: moved");
    let out = kubeseal(cp, &["--validate"], &moved).expect("validate moved");
    assert!(!out.status.success(), "a renamed copy does not validate");
    assert!(String::from_utf8_lossy(&out.stderr).contains("unable to decrypt sealed secret: moved"));

    let rotated =
        succeeded(&kubeseal(cp, &["--re-encrypt", "-o", "yaml"], &sealed).expect("re-encrypt"));
    assert!(rotated.contains("kind: SealedSecret") && rotated != sealed);
    succeeded(&kubeseal(cp, &["--validate"], &rotated).expect("validate re-encrypted"));

    // The reference kubeseal's defaults reach our Pod the same way.
    if cp.reference_bin_dir().join("kubeseal").is_file() {
        let theirs = succeeded(
            &reference_kubeseal(cp, &["-o", "yaml"], &secret(ns.name(), "theirs", "v2"))
                .expect("reference seal"),
        );
        ns.kubectl().apply(&theirs).expect("apply");
        wait_secret_value(ns, "theirs", "k", "v2")
            .unwrap_or_else(|e| panic!("{e}\n{}", controller.logs()));
        succeeded(&reference_kubeseal(cp, &["--validate"], &sealed).expect("reference validate"));
    } else {
        assert_ne!(
            std::env::var("REQUIRE_REFERENCE").as_deref(),
            Ok("1"),
            "REQUIRE_REFERENCE=1 but the reference kubeseal is missing: run scripts/install-tools"
        );
        eprintln!("SKIPPED: reference kubeseal not installed; run scripts/install-tools");
    }
    assert_eq!(secret_value(ns, "ours", "k").as_deref(), Some("v1"));
    sealed
}

/// Names of the sealing key Secrets in kube-system.
fn key_secrets(cp: &ControlPlane) -> Vec<String> {
    names_labelled(&cp.kubectl().namespace(NAMESPACE), ANY_KEY_SELECTOR).expect("key Secrets")
}
