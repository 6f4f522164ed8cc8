//! Keys protected by a KMS, end to end on the node (README, "Keys protected
//! by a KMS"; docs/kms.md): `helm install` of our chart with `kms.enabled`
//! and the KMS v2 test plugin's image (`scripts/build-image kms-plugin`:
//! scripts/kms-plugin over SoftHSM2) as the controller's sidecar, both run by
//! the kubelet from locally loaded images, in a fresh namespace that enforces
//! the `restricted` Pod Security level. Values:
//! `tests/fixtures/kms-node/values.yaml`; the plugin's configuration (a
//! ConfigMap): `plugin-config.yaml` there. The plugin makes its token
//! (`--init-token`) on an emptyDir and its key itself.
//!
//! 1. The Pod is Ready with both containers, from the loaded images.
//! 2. The key Secret is `sealedsecrets.bitnami.com/kms-wrapped-key`: no
//!    `tls.key`, nothing that reads as a private key.
//! 3. `kubeseal --fetch-cert` through the API server seals, the Pod unseals.
//! 4. The plugin container killed (SIGKILL from the node): a SealedSecret
//!    applied meanwhile unseals (the controller holds its keys); the
//!    kubelet restarts the plugin, which finds its token (same Pod, same
//!    emptyDir) instead of making one.
//! 5. The controller container killed: the kubelet restarts it, it unwraps
//!    its key through the restarted plugin, is Ready with the same
//!    certificate, makes no new key Secret, and unseals again.
//!
//! The controller watches its own namespace only (additionalNamespaces set
//! to it, namespaced Roles), so it leaves other tests' objects alone.
//! The controller image (`scripts/build-image controller`, loaded with
//! `scripts/control-plane load-image`) must be on the node, as for the other
//! node tests (scripts/test-all does it); the plugin's image is built and
//! loaded here (`scripts/build-image kms-plugin`: seconds when built).

use std::process::Command;
use std::time::Duration;

use base64::Engine as _;
use sealed_secrets_e2e::helm::{our_chart, Helm};
use sealed_secrets_e2e::kubeseal::{kubeseal, lf, succeeded};
use sealed_secrets_e2e::pod::{is_ready, pod_processes};
use sealed_secrets_e2e::secrets::{wait_secret_value, ANY_KEY_SELECTOR};
use sealed_secrets_e2e::{poll, ControlPlane, Kubectl, TestNamespace};
use serde_json::Value;

const VERSION: &str = env!("CARGO_PKG_VERSION");
const RELEASE: &str = "sealed-secrets";
const WAIT: Duration = Duration::from_secs(180);
const TICK: Duration = Duration::from_millis(500);
/// The containers' process names (comm, 15 bytes at most).
const CONTROLLER_COMM: &str = "controller";
const PLUGIN_COMM: &str = "kms-softhsm-plu";

fn controller_image() -> String {
    format!("docker.io/sealed-secrets-rs/controller:{VERSION}")
}

fn plugin_image() -> String {
    format!("docker.io/sealed-secrets-rs/kms-softhsm-plugin:{VERSION}")
}

fn node_images(cp: &ControlPlane) -> Vec<String> {
    let out = Command::new(cp.repo_dir().join("scripts/control-plane"))
        .arg("images")
        .output()
        .expect("scripts/control-plane images");
    assert!(out.status.success(), "scripts/control-plane images failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().to_string())
        .collect()
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The plugin's image, built (cached: seconds) and loaded into the node.
fn load_plugin_image(cp: &ControlPlane) {
    let build = cp.repo_dir().join("scripts/build-image");
    let archive = run(Command::new(&build).arg("kms-plugin"));
    let archive = archive.lines().last().expect("the archive's path").trim();
    run(Command::new(cp.repo_dir().join("scripts/control-plane"))
        .arg("load-image")
        .arg(archive));
    assert!(
        node_images(cp).contains(&plugin_image()),
        "{archive} did not load as {}",
        plugin_image()
    );
}

/// The release, uninstalled on drop (also on failure); the drop waits until
/// its Pods are gone.
struct Release {
    helm: Helm,
    kubectl: Kubectl,
    namespace: String,
}

impl Release {
    fn selector() -> String {
        format!("app.kubernetes.io/instance={RELEASE},app.kubernetes.io/name=sealed-secrets")
    }

    fn pods(&self) -> Vec<Value> {
        let list = self
            .kubectl
            .get_json(["get", "pods", "-l", &Self::selector()])
            .expect("list pods");
        list["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
            .cloned()
            .collect()
    }

    /// The one Pod, once Ready with every container ready.
    fn ready_pod(&self) -> Value {
        poll("the controller Pod Ready", WAIT, TICK, || {
            let pods = self.pods();
            Ok(
                (pods.len() == 1 && is_ready(&pods[0]) && all_containers_ready(&pods[0]))
                    .then(|| pods[0].clone()),
            )
        })
        .unwrap_or_else(|e| panic!("{e}\n{}", self.describe()))
    }

    fn logs(&self, pod: &str, container: &str) -> String {
        self.kubectl
            .run(["logs", pod, "-c", container, "--tail=-1"])
            .unwrap_or_else(|e| format!("(no logs: {e})"))
    }

    fn describe(&self) -> String {
        let pods = self
            .kubectl
            .run(["describe", "pods", "-l", &Self::selector()])
            .unwrap_or_else(|e| e.to_string());
        let mut logs = String::new();
        for container in ["controller", "kms-plugin"] {
            for previous in ["false", "true"] {
                let log = self
                    .kubectl
                    .run([
                        "logs",
                        "-l",
                        &Self::selector(),
                        "-c",
                        container,
                        &format!("--previous={previous}"),
                        "--tail=40",
                    ])
                    .unwrap_or_default();
                logs.push_str(&format!("--- {container} (previous={previous})\n{log}"));
            }
        }
        format!("{pods}\nlogs:\n{logs}")
    }
}

impl Drop for Release {
    fn drop(&mut self) {
        if let Err(e) = self.helm.run([
            "uninstall",
            RELEASE,
            "--namespace",
            &self.namespace,
            "--ignore-not-found",
            "--wait",
            "--timeout",
            "120s",
        ]) {
            eprintln!("warning: helm uninstall: {e}");
        }
        let gone = poll("the release's Pods gone", WAIT, TICK, || {
            let list = self
                .kubectl
                .get_json(["get", "pods", "-l", &Self::selector()])?;
            Ok(list["items"]
                .as_array()
                .is_none_or(Vec::is_empty)
                .then_some(()))
        });
        if let Err(e) = gone {
            eprintln!("warning: {e}");
        }
    }
}

fn all_containers_ready(pod: &Value) -> bool {
    let statuses = pod["status"]["containerStatuses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    statuses.len() == 2 && statuses.iter().all(|s| s["ready"] == true)
}

/// The status of container `name` in `pod`.
fn container_status<'a>(pod: &'a Value, name: &str) -> &'a Value {
    pod["status"]["containerStatuses"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("no status of container {name}: {pod:#}"))
}

fn restarts(pod: &Value, name: &str) -> u64 {
    container_status(pod, name)["restartCount"]
        .as_u64()
        .unwrap_or(0)
}

/// SIGKILLs the process named `comm` in Pod `pod` from the node's side
/// (the images have no shell: no `kubectl exec`), as a crash.
fn kill_container(pod: &Value, comm: &str) {
    let uid = pod["metadata"]["uid"].as_str().expect("pod uid");
    let procs = pod_processes(uid);
    let target = procs
        .iter()
        .find(|p| p.comm == comm)
        .unwrap_or_else(|| panic!("no process {comm} in Pod {uid}: {procs:?}"));
    assert_eq!(target.uid, "1001", "{comm} runs as 1001");
    run(Command::new("kill").args(["-KILL", &target.pid.to_string()]));
}

/// Waits until container `name` restarted (restartCount above `before`) and
/// the Pod is Ready again with both containers.
fn wait_restarted(release: &Release, name: &str, before: u64) -> Value {
    poll(
        &format!("{name} restarted and the Pod Ready"),
        WAIT,
        TICK,
        || {
            let pods = release.pods();
            Ok(pods
                .first()
                .filter(|p| restarts(p, name) > before && is_ready(p) && all_containers_ready(p))
                .cloned())
        },
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", release.describe()))
}

/// (name, uid, resourceVersion) of every key Secret, sorted.
fn key_secrets(ns: &TestNamespace) -> Vec<(String, String, String)> {
    let list = ns
        .kubectl()
        .get_json(["get", "secrets", "-l", ANY_KEY_SELECTOR])
        .expect("key Secrets");
    let mut keys: Vec<_> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            let m = &s["metadata"];
            let f = |v: &Value| v.as_str().unwrap_or_default().to_string();
            (f(&m["name"]), f(&m["uid"]), f(&m["resourceVersion"]))
        })
        .collect();
    keys.sort();
    keys
}

fn secret(ns: &str, name: &str, value: &str) -> String {
    format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: {name}, namespace: {ns}}}\nstringData: {{k: {value}}}\n")
}

#[test]
fn the_chart_with_the_kms_plugin_sidecar_on_the_node() {
    let Some(helms) = Helm::all() else { return };
    let cp = ControlPlane::shared().expect("control plane");
    let started = std::time::Instant::now();
    assert!(
        node_images(cp).contains(&controller_image()),
        "the node has no image {}: run scripts/build-image controller and \
         scripts/control-plane load-image target/images/sealed-secrets-controller-*.oci.tar \
         (scripts/test-all does both)",
        controller_image()
    );
    load_plugin_image(cp);
    eprintln!("plugin image built and loaded: {:?}", started.elapsed());

    let ns = TestNamespace::create(cp, "kms-node").expect("namespace");
    cp.kubectl()
        .run([
            "label",
            "namespace",
            ns.name(),
            "pod-security.kubernetes.io/enforce=restricted",
            "pod-security.kubernetes.io/enforce-version=latest",
        ])
        .expect("label the namespace");
    let fixtures = cp.repo_dir().join("tests/fixtures/kms-node");
    let config = std::fs::read_to_string(fixtures.join("plugin-config.yaml")).expect("fixture");
    ns.kubectl().apply(&config).expect("the plugin's ConfigMap");

    let release = Release {
        helm: helms[1].with_kubeconfig(cp.kubeconfig()),
        kubectl: ns.kubectl(),
        namespace: ns.name().to_string(),
    };
    let values = fixtures.join("values.yaml");
    let chart = our_chart();
    release
        .helm
        .run([
            "install",
            RELEASE,
            chart.to_str().expect("UTF-8 path"),
            "--namespace",
            ns.name(),
            "--values",
            values.to_str().expect("UTF-8 path"),
            "--set-string",
            &format!("kms.plugin.image.tag={VERSION}"),
            "--set",
            &format!("additionalNamespaces={{{}}}", ns.name()),
            "--wait",
            "--timeout",
            "180s",
        ])
        .unwrap_or_else(|e| panic!("helm install: {e}\n{}", release.describe()));

    // 1. Ready, both containers, from the loaded images.
    let pod = release.ready_pod();
    let pod_name = pod["metadata"]["name"].as_str().expect("name").to_string();
    let names: Vec<&str> = pod["spec"]["containers"]
        .as_array()
        .expect("containers")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, ["controller", "kms-plugin"]);
    assert_eq!(
        container_status(&pod, "controller")["image"],
        controller_image()
    );
    assert_eq!(
        container_status(&pod, "kms-plugin")["image"],
        plugin_image()
    );
    for c in ["controller", "kms-plugin"] {
        assert_eq!(restarts(&pod, c), 0, "{c}\n{}", release.describe());
    }
    let plugin_log = release.logs(&pod_name, "kms-plugin");
    assert!(
        plugin_log.contains("initialised the token"),
        "the plugin made its token: {plugin_log}"
    );
    eprintln!("installed, Pod Ready: {:?}", started.elapsed());

    // 2. The key Secret: wrapped, no private key in it.
    let keys = poll("the controller's key Secret", WAIT, TICK, || {
        let keys = key_secrets(&ns);
        Ok((!keys.is_empty()).then_some(keys))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", release.describe()));
    assert_eq!(keys.len(), 1, "one key: {keys:?}");
    let key = ns
        .kubectl()
        .get_json(["get", "secret", &keys[0].0])
        .expect("the key Secret");
    assert_eq!(key["type"], "sealedsecrets.bitnami.com/kms-wrapped-key");
    assert_eq!(
        key["metadata"]["annotations"]["sealedsecrets.bitnami.com/kms-key-id"],
        "kek-1"
    );
    let data = key["data"].as_object().expect("data");
    assert!(!data.contains_key("tls.key"), "{:?}", data.keys());
    assert!(data.contains_key("tls.crt"), "{:?}", data.keys());
    for (item, value) in data {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(value.as_str().unwrap_or_default())
            .expect("base64");
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("PRIVATE KEY"), "{item} reads as a key");
    }

    // 3. kubeseal through the API server: fetch the certificate, seal, unseal.
    let flags = [
        "--controller-namespace",
        ns.name(),
        "--controller-name",
        RELEASE,
    ];
    let fetch = |what: &str| {
        let mut args = vec!["--fetch-cert"];
        args.extend(flags);
        lf(&succeeded(
            &kubeseal(cp, &args, "").unwrap_or_else(|e| panic!("{what}: {e}")),
        ))
    };
    let cert = fetch("fetch-cert");
    assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"), "{cert}");
    let seal_and_apply = |name: &str, value: &str| {
        let mut args = vec!["-o", "yaml"];
        args.extend(flags);
        let sealed =
            succeeded(&kubeseal(cp, &args, &secret(ns.name(), name, value)).expect("kubeseal"));
        ns.kubectl().apply(&sealed).expect("apply the SealedSecret");
        wait_secret_value(&ns, name, "k", value)
            .unwrap_or_else(|e| panic!("{e}\n{}", release.describe()));
    };
    seal_and_apply("first", "one");
    eprintln!("sealed and unsealed: {:?}", started.elapsed());

    // 4. The plugin killed: the controller keeps unsealing; the kubelet
    // restarts the plugin on the same token.
    kill_container(&pod, PLUGIN_COMM);
    seal_and_apply("second", "two");
    let pod = wait_restarted(&release, "kms-plugin", 0);
    assert_eq!(pod["metadata"]["name"], pod_name.as_str(), "the same Pod");
    let plugin_log = release.logs(&pod_name, "kms-plugin");
    assert!(
        plugin_log.contains("exists") && !plugin_log.contains("initialised the token"),
        "the restarted plugin found its token: {plugin_log}"
    );
    eprintln!("plugin restarted: {:?}", started.elapsed());

    // 5. The controller killed: back with the same key, unwrapped through
    // the (restarted) plugin.
    let before = restarts(&pod, "controller");
    kill_container(&pod, CONTROLLER_COMM);
    let pod = wait_restarted(&release, "controller", before);
    assert_eq!(pod["metadata"]["name"], pod_name.as_str(), "the same Pod");
    poll("the same certificate served", WAIT, TICK, || {
        let mut args = vec!["--fetch-cert"];
        args.extend(flags);
        let out = kubeseal(cp, &args, "")?;
        Ok(
            (out.status.success() && lf(&String::from_utf8_lossy(&out.stdout)) == cert)
                .then_some(()),
        )
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", release.describe()));
    assert_eq!(fetch("fetch-cert after the restart"), cert);
    assert_eq!(
        key_secrets(&ns),
        keys,
        "no new key Secret, the key untouched"
    );
    seal_and_apply("third", "three");
    let log = release.logs(&pod_name, "controller");
    assert!(!log.contains("panicked"), "{log}");
    assert_eq!(key_secrets(&ns), keys, "still one key");
    eprintln!("controller restarted: {:?}", started.elapsed());
}
