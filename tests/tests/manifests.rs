//! `kubectl apply -k manifests/` applies to the real API server, and the
//! controller works with exactly those RBAC rules: it runs under the
//! ServiceAccount's own token, not as an admin.

use std::time::Duration;

use sealed_secrets_e2e::sealed::{kubeseal, succeeded, ControllerOptions, ControllerProcess};
use sealed_secrets_e2e::{poll, ControlPlane, TestNamespace};

#[test]
fn controller_works_under_the_manifests_rbac() {
    let cp = ControlPlane::shared().expect("control plane");
    let manifests = cp.repo_dir().join("manifests");
    let applied = cp
        .kubectl()
        .run([
            "apply",
            "--server-side",
            "--force-conflicts",
            "-k",
            &manifests.to_string_lossy(),
        ])
        .expect("kubectl apply -k manifests/");
    for object in [
        "customresourcedefinition",
        "serviceaccount",
        "clusterrole",
        "role",
        "service",
        "deployment",
    ] {
        assert!(applied.contains(object), "{object} applied:\n{applied}");
    }

    // A kubeconfig that is the ServiceAccount and nothing more.
    let token = cp
        .kubectl()
        .run([
            "-n",
            "kube-system",
            "create",
            "token",
            "sealed-secrets-controller",
            "--duration=1h",
        ])
        .expect("token");
    let raw = cp
        .kubectl()
        .get_json(["config", "view", "--raw", "--minify", "-o", "json"])
        .expect("admin kubeconfig");
    let cluster = &raw["clusters"][0]["cluster"];
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("sa.kubeconfig");
    let config = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "local", "cluster": {
            "server": cluster["server"],
            "certificate-authority-data": cluster["certificate-authority-data"],
        }}],
        "users": [{"name": "sa", "user": {"token": token.trim()}}],
        "contexts": [{"name": "sa", "context": {"cluster": "local", "user": "sa"}}],
        "current-context": "sa",
    });
    std::fs::write(
        &kubeconfig,
        serde_json::to_vec_pretty(&config).expect("json"),
    )
    .expect("write kubeconfig");

    let ns = TestNamespace::create(cp, "rbac").expect("namespace");
    let mut options = ControllerOptions::for_namespace(&ns);
    options.key_namespace = "kube-system";
    options.kubeconfig = Some(kubeconfig);
    let controller =
        ControllerProcess::start(cp, options).expect("controller under the ServiceAccount");
    poll(
        "ready",
        Duration::from_secs(60),
        Duration::from_millis(250),
        || Ok((controller.get("/readyz")?.0 == 200).then_some(())),
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", controller.log()));

    let (_, pem) = controller.get("/v1/cert.pem").expect("cert");
    let cert = dir.path().join("cert.pem");
    std::fs::write(&cert, pem).expect("write cert");
    let secret = format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: app, namespace: {}}}\nstringData: {{k: v}}\n", ns.name());
    let out = kubeseal(
        cp,
        &["--cert", &cert.to_string_lossy(), "-o", "yaml"],
        &secret,
    )
    .expect("kubeseal");
    ns.kubectl().apply(&succeeded(&out)).expect("apply");

    poll(
        "Secret and Synced=True under RBAC",
        Duration::from_secs(60),
        Duration::from_millis(250),
        || {
            let ss = ns
                .kubectl()
                .get_json(["get", "sealedsecret", "app", "-o", "json"])?;
            let synced = ss["status"]["conditions"][0]["status"] == "True";
            let secret = ns.kubectl().get_optional("secret", "app")?;
            Ok((synced && secret.is_some()).then_some(()))
        },
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", controller.log()));
    poll(
        "Unsealed event",
        Duration::from_secs(30),
        Duration::from_millis(250),
        || {
            let events = ns.kubectl().run(["get", "events"])?;
            Ok(events.contains("Unsealed").then_some(()))
        },
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", controller.log()));
    let log = controller.log();
    assert!(!log.contains("forbidden"), "no permission errors:\n{log}");
}
