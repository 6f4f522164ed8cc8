//! Flags of the reference v0.40.0 against the real API server: which
//! namespaces `--additional-namespaces` watches, `--read-timeout` on the
//! controller's port, and kubeseal's `--proxy-url` and `--as-uid`.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sealed_secrets_e2e::controller::ControllerOptions;
use sealed_secrets_e2e::kubeseal::{kubeseal, succeeded};
use sealed_secrets_e2e::secrets::{secret_value, wait_secret_value};
use sealed_secrets_e2e::{ControlPlane, TestNamespace};

fn secret_yaml(ns: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\n  namespace: {ns}\ntype: Opaque\nstringData:\n  pass: p-{ns}\n"
    )
}

#[test]
fn additional_namespaces_limit_watching_although_all_namespaces_is_true() {
    let cp = ControlPlane::shared().expect("control plane");
    let home = TestNamespace::create(cp, "v040-home").expect("namespace");
    let listed = TestNamespace::create(cp, "v040-listed").expect("namespace");
    let other = TestNamespace::create(cp, "v040-other").expect("namespace");
    let controller = ControllerOptions::for_namespace(&home)
        .watch(&[listed.name()])
        // The harness passes --all-namespaces=false first; the last value
        // wins (as with pflag), so this is the reference's default.
        .arg("--all-namespaces=true")
        .start(cp)
        .expect("controller starts");
    let (code, pem) = controller.get("/v1/cert.pem").expect("cert");
    assert_eq!(code, 200);
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    std::fs::write(&cert, pem).unwrap();
    let cert = cert.to_string_lossy().into_owned();

    for ns in [&other, &listed] {
        let sealed = succeeded(
            &kubeseal(
                cp,
                &["--cert", &cert, "-o", "yaml"],
                &secret_yaml(ns.name()),
            )
            .unwrap(),
        );
        ns.kubectl().apply(&sealed).expect("apply SealedSecret");
    }
    wait_secret_value(&listed, "app", "pass", &format!("p-{}", listed.name()))
        .expect("the listed namespace is watched");
    // Applied first, so it had every chance.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        secret_value(&other, "app", "pass"),
        None,
        "a namespace not listed was unsealed; log:\n{}",
        controller.log()
    );
}

#[test]
fn read_timeout_closes_a_connection_that_never_sends_its_headers() {
    let cp = ControlPlane::shared().expect("control plane");
    let ns = TestNamespace::create(cp, "v040-timeout").expect("namespace");
    let controller = ControllerOptions::for_namespace(&ns)
        .arg("--read-timeout=1s")
        .start(cp)
        .expect("controller starts");
    let mut stream = TcpStream::connect(controller.http_address()).unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
    let waited = started.elapsed();
    assert!(
        waited < Duration::from_secs(4),
        "the connection stayed open {waited:?}"
    );
}

/// A CONNECT proxy on 127.0.0.1 that records each target and relays bytes.
fn connect_proxy() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let record = record.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(client.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    return;
                }
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
                        break;
                    }
                }
                let Some(target) = line
                    .strip_prefix("CONNECT ")
                    .and_then(|r| r.split(' ').next())
                else {
                    return;
                };
                record.lock().unwrap().push(target.to_string());
                let Ok(upstream) = TcpStream::connect(target) else {
                    return;
                };
                let mut client = client;
                let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
                let (mut up_read, mut up_write) = (upstream.try_clone().unwrap(), upstream);
                let mut client_write = client.try_clone().unwrap();
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut up_read, &mut client_write);
                });
                let _ = std::io::copy(&mut reader, &mut up_write);
            });
        }
    });
    (port, seen)
}

#[test]
fn kubeseal_reaches_the_api_server_through_proxy_url() {
    let cp = ControlPlane::shared().expect("control plane");
    let ns = TestNamespace::create(cp, "v040-proxy").expect("namespace");
    let (port, seen) = connect_proxy();
    let proxy = format!("http://127.0.0.1:{port}");
    let out = kubeseal(
        cp,
        &[
            "--fetch-cert",
            "--controller-namespace",
            ns.name(),
            "--controller-name",
            "absent",
            "--proxy-url",
            &proxy,
        ],
        "",
    )
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    // The API server's own answer, so the round trip happened.
    assert!(err.contains("services \"absent\" not found"), "{err}");
    let targets = seen.lock().unwrap().clone();
    // The API server's port: scripts/test-k8s-versions runs others beside it.
    let api_port =
        std::env::var("CONTROL_PLANE_APISERVER_PORT").unwrap_or_else(|_| "6443".to_string());
    assert!(
        targets.iter().any(|t| t.ends_with(&format!(":{api_port}"))),
        "the proxy saw {targets:?}"
    );
}

/// An account that may impersonate the user `nobody` but no UIDs: the API
/// server refuses the UID only if kubeseal sends it.
#[test]
fn as_uid_is_sent_to_the_api_server() {
    let cp = ControlPlane::shared().expect("control plane");
    let ns = TestNamespace::create(cp, "v040-uid").expect("namespace");
    let name = ns.name().to_string();
    cp.kubectl()
        .apply(&format!(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: imp\n  namespace: {name}\n---\n\
             apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: {name}-imp\n\
             rules:\n- apiGroups: [\"\"]\n  resources: [users]\n  verbs: [impersonate]\n  resourceNames: [nobody]\n---\n\
             apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: {name}-imp\n\
             roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: {name}-imp\n\
             subjects:\n- kind: ServiceAccount\n  name: imp\n  namespace: {name}\n"
        ))
        .expect("RBAC");
    let token = ns.kubectl().run(["create", "token", "imp"]).expect("token");
    let ca = cp
        .kubectl()
        .run([
            "config",
            "view",
            "--raw",
            "-o",
            "jsonpath={.clusters[0].cluster.certificate-authority-data}",
        ])
        .expect("CA");
    let server = cp
        .kubectl()
        .run([
            "config",
            "view",
            "--raw",
            "-o",
            "jsonpath={.clusters[0].cluster.server}",
        ])
        .expect("server");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kubeconfig");
    std::fs::write(
        &config,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {}\n    certificate-authority-data: {}\n\
             users:\n- name: imp\n  user:\n    token: {}\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: imp\n\
             current-context: x\n",
            server.trim(),
            ca.trim(),
            token.trim()
        ),
    )
    .unwrap();
    let config = config.to_string_lossy().into_owned();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "--kubeconfig",
            config.as_str(),
            "--fetch-cert",
            "--controller-namespace",
            &name,
            "--as",
            "nobody",
        ];
        args.extend_from_slice(extra);
        String::from_utf8_lossy(&kubeseal(cp, &args, "").unwrap().stderr).into_owned()
    };
    // Impersonating nobody works; nobody may not read Services.
    let plain = run(&[]);
    assert!(
        plain.contains("User \"nobody\" cannot get resource \"services\""),
        "{plain}"
    );
    // With a UID the API server checks `impersonate uids` too, which imp lacks.
    let with_uid = run(&["--as-uid", "u-1"]);
    assert!(
        with_uid.contains("cannot impersonate resource \"uids\""),
        "{with_uid}"
    );
    let _ = cp.kubectl().run([
        "delete",
        "clusterrole,clusterrolebinding",
        &format!("{name}-imp"),
    ]);
}
