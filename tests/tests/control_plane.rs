//! End-to-end checks of the local control plane itself: the API stores
//! objects, the controller manager garbage-collects, and a server inside the
//! node namespace is reachable through the API server's service proxy.

use std::io::{BufRead, BufReader};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use sealed_secrets_e2e::{poll, ControlPlane, TestNamespace};

fn control_plane() -> &'static ControlPlane {
    ControlPlane::shared().expect("bring up the control plane (scripts/control-plane up)")
}

#[test]
fn api_is_ready_and_default_service_account_exists() {
    let cp = control_plane();
    let kubectl = cp.kubectl();
    assert_eq!(kubectl.get_raw("/readyz").expect("readyz").trim(), "ok");
    let version = kubectl
        .get_json(["version"])
        .expect("kubectl version -o json");
    let server = version["serverVersion"]["gitVersion"]
        .as_str()
        .expect("server gitVersion");
    let client = version["clientVersion"]["gitVersion"]
        .as_str()
        .expect("client gitVersion");
    let pinned = pinned_kubernetes_version();
    assert_eq!(server, pinned, "the API server is not the pinned release");
    assert_eq!(client, server, "pinned kubectl and API server differ");
    kubectl
        .clone()
        .namespace("default")
        .run(["get", "serviceaccount", "default"])
        .expect("default service account");
}

#[test]
fn secret_round_trip() {
    let cp = control_plane();
    let ns = TestNamespace::create(cp, "secret-round-trip").expect("create namespace");
    let kubectl = ns.kubectl();
    kubectl
        .run([
            "create",
            "secret",
            "generic",
            "s1",
            "--from-literal=username=admin",
            "--from-literal=password=s3cr3t",
        ])
        .expect("create secret");
    let secret = kubectl
        .get_json(["get", "secret", "s1"])
        .expect("get secret");
    assert_eq!(secret["metadata"]["namespace"], ns.name());
    assert_eq!(secret["type"], "Opaque");
    // base64("admin"), base64("s3cr3t")
    assert_eq!(secret["data"]["username"], "YWRtaW4=");
    assert_eq!(secret["data"]["password"], "czNjcjN0");
}

#[test]
fn owned_object_is_garbage_collected() {
    let cp = control_plane();
    let ns = TestNamespace::create(cp, "garbage-collection").expect("create namespace");
    let kubectl = ns.kubectl();
    kubectl
        .run(["create", "configmap", "owner", "--from-literal=role=owner"])
        .expect("create owner");
    let owner = kubectl
        .get_json(["get", "configmap", "owner"])
        .expect("get owner");
    let uid = owner["metadata"]["uid"].as_str().expect("owner uid");
    kubectl
        .create(&format!(
            r#"{{
  "apiVersion": "v1",
  "kind": "ConfigMap",
  "metadata": {{
    "name": "dependent",
    "ownerReferences": [{{
      "apiVersion": "v1",
      "kind": "ConfigMap",
      "name": "owner",
      "uid": "{uid}"
    }}]
  }},
  "data": {{"role": "dependent"}}
}}"#
        ))
        .expect("create dependent");
    assert!(kubectl
        .get_optional("configmap", "dependent")
        .expect("get dependent")
        .is_some());

    kubectl
        .run(["delete", "configmap", "owner", "--wait=true"])
        .expect("delete owner");
    poll(
        "the garbage collector to delete the dependent ConfigMap",
        Duration::from_secs(60),
        Duration::from_millis(500),
        || {
            Ok(kubectl
                .get_optional("configmap", "dependent")?
                .is_none()
                .then_some(()))
        },
    )
    .expect("dependent garbage-collected");
}

#[test]
fn node_server_is_reachable_through_the_service_proxy() {
    let cp = control_plane();
    let ns = TestNamespace::create(cp, "node-proxy").expect("create namespace");

    let dir = tempfile::tempdir().expect("temp dir");
    let content = format!("hello from the node, namespace {}\n", ns.name());
    std::fs::write(dir.path().join("hello.txt"), &content).expect("write file");

    // Port 0: the server picks a free port inside the node and prints it.
    let dir_arg = dir.path().to_str().expect("utf-8 temp dir").to_string();
    let mut server = cp
        .spawn_in_node(
            "python3",
            [
                "-u",
                "-m",
                "http.server",
                "0",
                "--bind",
                cp.node_ip(),
                "--directory",
                &dir_arg,
            ],
            None,
        )
        .expect("start http server in the node");
    let stdout = server.child().stdout.take().expect("server stdout");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // "Serving HTTP on 10.200.0.2 port 43127 (http://10.200.0.2:43127/) ..."
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("no output from {server}: {e}"));
    let port: u16 = line
        .split_whitespace()
        .skip_while(|w| *w != "port")
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));

    let proxy = cp
        .expose(ns.name(), "node-http", 8080, port)
        .expect("expose the node server as a Service");
    assert_eq!(
        proxy,
        format!(
            "/api/v1/namespaces/{}/services/http:node-http:8080/proxy/",
            ns.name()
        )
    );

    // The node end also sees the API server (through the host veth address).
    let from_node = cp
        .run_in_node("kubectl", ["get", "--raw", "/readyz"])
        .expect("kubectl inside the node");
    assert_eq!(from_node.trim(), "ok");

    let kubectl = cp.kubectl();
    let body = poll(
        "the file through the API server's service proxy",
        Duration::from_secs(30),
        Duration::from_millis(500),
        || {
            server.check_running()?;
            Ok(Some(kubectl.get_raw(&format!("{proxy}hello.txt"))?))
        },
    )
    .expect("fetch through the service proxy");
    assert_eq!(body, content);
}

/// The Kubernetes release `scripts/versions.env` pins, or the one a run of
/// `scripts/test-k8s-versions` overrides it with.
fn pinned_kubernetes_version() -> String {
    if let Ok(version) = std::env::var("KUBERNETES_VERSION_OVERRIDE") {
        return version;
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/versions.env");
    let text = std::fs::read_to_string(&path).expect("scripts/versions.env");
    text.lines()
        .find_map(|l| l.strip_prefix("KUBERNETES_VERSION="))
        .and_then(|v| v.split(":-").nth(1))
        .map(|v| v.trim_end_matches('}').to_string())
        .expect("KUBERNETES_VERSION=${KUBERNETES_VERSION_OVERRIDE:-vX.Y.Z} in versions.env")
}
