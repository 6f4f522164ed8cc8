//! The controller as a user gets it: `kubectl apply -k manifests/` on the
//! node, run by the kubelet from the locally built image (scripts/build-image,
//! loaded with `scripts/control-plane load-image`; scripts/test-all does both).
//!
//! The Pod watches every namespace, so a test binary that deploys it must not
//! run other controllers at the same time: keep such tests in a binary of
//! their own (cargo runs test binaries one after another).

use std::time::Duration;

use serde_json::Value;

use crate::control_plane::{poll, ControlPlane, Error, Kubectl};

type Result<T, E = Error> = std::result::Result<T, E>;

/// Where the manifests install the controller (kubeseal's defaults).
pub const NAMESPACE: &str = "kube-system";
pub const DEPLOYMENT: &str = "sealed-secrets-controller";
pub const SELECTOR: &str = "name=sealed-secrets-controller";

/// The image `manifests/deployment.yaml` names, as the kubelet resolves it
/// (a bare `name:tag` is `docker.io/name:tag`).
pub fn manifest_image(cp: &ControlPlane) -> Result<String> {
    let path = cp.repo_dir().join("manifests").join("deployment.yaml");
    let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
        context: format!("reading {}", path.display()),
        source,
    })?;
    let image = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("image:"))
        .map(|i| i.trim().to_string())
        .ok_or_else(|| Error::ControlPlane(format!("no image: line in {}", path.display())))?;
    Ok(match image.split('/').next() {
        Some(first) if image.contains('/') && (first.contains('.') || first.contains(':')) => image,
        _ if image.contains('/') => format!("docker.io/{image}"),
        _ => format!("docker.io/library/{image}"),
    })
}

/// The controller Deployment of the manifests, removed (with its Pods) on drop.
pub struct ControllerPod<'a> {
    cp: &'a ControlPlane,
}

impl<'a> ControllerPod<'a> {
    /// Applies `manifests/` in a namespace that enforces the `restricted` Pod
    /// Security level and waits until the rollout is complete (the Pod Ready).
    pub fn deploy(cp: &'a ControlPlane) -> Result<Self> {
        let image = manifest_image(cp)?;
        let mut list = std::process::Command::new(cp.repo_dir().join("scripts/control-plane"));
        list.arg("images");
        let images = crate::control_plane::run_command(list, None)?;
        if !images.lines().any(|l| l.trim() == image) {
            return Err(Error::ControlPlane(format!(
                "the node has no image {image}: run scripts/build-image controller and \
                 scripts/control-plane load-image target/images/sealed-secrets-controller-*.oci.tar \
                 (scripts/test-all does both)"
            )));
        }
        let kubectl = cp.kubectl();
        // A Deployment left by `make demo` or an interrupted run.
        remove(&kubectl)?;
        kubectl.run([
            "label",
            "namespace",
            NAMESPACE,
            "--overwrite",
            "pod-security.kubernetes.io/enforce=restricted",
            "pod-security.kubernetes.io/enforce-version=latest",
        ])?;
        let this = Self { cp };
        let manifests = cp.repo_dir().join("manifests");
        kubectl.run([
            "apply",
            "--server-side",
            "--force-conflicts",
            "-k",
            &manifests.to_string_lossy(),
        ])?;
        this.wait_rollout()?;
        Ok(this)
    }

    fn kubectl(&self) -> Kubectl {
        self.cp.kubectl().namespace(NAMESPACE)
    }

    /// Waits until the Deployment's Pod is Ready (startup and readiness probes).
    pub fn wait_rollout(&self) -> Result<()> {
        self.kubectl()
            .run([
                "rollout",
                "status",
                &format!("deployment/{DEPLOYMENT}"),
                "--timeout=180s",
            ])
            .map(|_| ())
            .map_err(|e| Error::ControlPlane(format!("{e}\n{}", self.describe())))
    }

    /// The Deployment's Pods that are not being deleted.
    pub fn pods(&self) -> Result<Vec<Value>> {
        let list = self
            .kubectl()
            .get_json(["get", "pods", "-l", SELECTOR, "-o", "json"])?;
        Ok(list["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
            .cloned()
            .collect())
    }

    /// The one Ready Pod (waits up to `timeout` for exactly one).
    pub fn ready_pod(&self, timeout: Duration) -> Result<Value> {
        poll(
            "one Ready controller Pod",
            timeout,
            Duration::from_millis(500),
            || {
                let pods = self.pods()?;
                let ready: Vec<&Value> = pods.iter().filter(|p| is_ready(p)).collect();
                Ok((pods.len() == 1 && ready.len() == 1).then(|| ready[0].clone()))
            },
        )
        .map_err(|e| Error::ControlPlane(format!("{e}\n{}", self.describe())))
    }

    /// `kubectl logs` of the current Pod.
    pub fn logs(&self) -> String {
        self.kubectl()
            .run(["logs", &format!("deployment/{DEPLOYMENT}"), "--tail=-1"])
            .unwrap_or_else(|e| format!("(no logs: {e})"))
    }

    /// Pods, events and logs, for failure messages.
    pub fn describe(&self) -> String {
        let k = self.kubectl();
        let pods = k
            .run(["describe", "pods", "-l", SELECTOR])
            .unwrap_or_else(|e| e.to_string());
        format!("{pods}\nlogs:\n{}", self.logs())
    }
}

/// Ready=True in the Pod's conditions.
pub fn is_ready(pod: &Value) -> bool {
    pod["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

fn remove(kubectl: &Kubectl) -> Result<()> {
    let k = kubectl.clone().namespace(NAMESPACE);
    k.run([
        "delete",
        "deployment",
        DEPLOYMENT,
        "--ignore-not-found",
        "--wait=true",
    ])?;
    // The ReplicaSet's Pods go after the Deployment (garbage collector).
    poll(
        "controller Pods gone",
        Duration::from_secs(90),
        Duration::from_millis(500),
        || {
            let list = k.get_json(["get", "pods", "-l", SELECTOR, "-o", "json"])?;
            Ok(list["items"]
                .as_array()
                .is_none_or(Vec::is_empty)
                .then_some(()))
        },
    )
}

impl Drop for ControllerPod<'_> {
    fn drop(&mut self) {
        let kubectl = self.cp.kubectl();
        if let Err(e) = remove(&kubectl) {
            eprintln!("warning: removing the controller Deployment: {e}");
        }
        let _ = kubectl.run([
            "label",
            "namespace",
            NAMESPACE,
            "pod-security.kubernetes.io/enforce-",
            "pod-security.kubernetes.io/enforce-version-",
        ]);
    }
}
