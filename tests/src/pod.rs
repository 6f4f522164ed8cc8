//! The controller as a user gets it: `kubectl apply -k manifests/` on the
//! node, run by the kubelet from the locally built image (scripts/build-image,
//! loaded with `scripts/control-plane load-image`; scripts/test-all does both).
//!
//! The Pod watches every namespace, so a test binary that deploys it must not
//! run other controllers at the same time: keep such tests in a binary of
//! their own (cargo runs test binaries one after another).

use std::time::Duration;

use serde_json::Value;

use crate::control_plane::{poll, read_text, ControlPlane, Error, Kubectl};

type Result<T, E = Error> = std::result::Result<T, E>;

/// Where the manifests install the controller (kubeseal's defaults).
pub const NAMESPACE: &str = "kube-system";
pub const DEPLOYMENT: &str = "sealed-secrets-controller";
pub const SELECTOR: &str = "name=sealed-secrets-controller";

/// The image `manifests/deployment.yaml` names, as the kubelet resolves it
/// (a bare `name:tag` is `docker.io/name:tag`).
pub fn manifest_image(cp: &ControlPlane) -> Result<String> {
    let path = cp.repo_dir().join("manifests").join("deployment.yaml");
    let text = read_text(&path)?;
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

    /// Waits until the Deployment's Pod is Ready (startup and readiness
    /// probes) and the Service's Endpoints name it: the endpoints
    /// controller follows a Pod's readiness a moment later, and until then
    /// the API server's proxy answers 503, on which kubeseal fails at once.
    pub fn wait_rollout(&self) -> Result<()> {
        self.kubectl()
            .run([
                "rollout",
                "status",
                &format!("deployment/{DEPLOYMENT}"),
                "--timeout=180s",
            ])
            .map_err(|e| Error::ControlPlane(format!("{e}\n{}", self.describe())))?;
        poll(
            "the Service's Endpoints to name a Ready controller Pod",
            Duration::from_secs(60),
            Duration::from_millis(250),
            || {
                let ready: Vec<String> = self
                    .pods()?
                    .iter()
                    .filter(|p| is_ready(p))
                    .filter_map(|p| p["metadata"]["name"].as_str().map(str::to_string))
                    .collect();
                let endpoints = self.kubectl().get_optional("endpoints", DEPLOYMENT)?;
                let served = endpoints
                    .iter()
                    .flat_map(|e| e["subsets"].as_array().into_iter().flatten())
                    .flat_map(|s| s["addresses"].as_array().into_iter().flatten())
                    .filter_map(|a| a["targetRef"]["name"].as_str())
                    .any(|name| ready.iter().any(|r| r == name));
                Ok(served.then_some(()))
            },
        )
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

    /// `spec.replicas` of the Deployment.
    pub fn replicas(&self) -> Result<usize> {
        let d = self
            .kubectl()
            .get_json(["get", "deployment", DEPLOYMENT, "-o", "json"])?;
        Ok(d["spec"]["replicas"].as_u64().unwrap_or(1) as usize)
    }

    /// Waits up to `timeout` until there are exactly `spec.replicas` Pods,
    /// all Ready; returns them.
    pub fn ready_pods(&self, timeout: Duration) -> Result<Vec<Value>> {
        let replicas = self.replicas()?;
        poll(
            &format!("{replicas} Ready controller Pods"),
            timeout,
            Duration::from_millis(500),
            || {
                let pods = self.pods()?;
                Ok((pods.len() == replicas && pods.iter().all(is_ready)).then_some(pods))
            },
        )
        .map_err(|e| Error::ControlPlane(format!("{e}\n{}", self.describe())))
    }

    /// The leader Lease's holder (`<pod name>_<random>`), if any.
    pub fn lease_holder(&self) -> Result<Option<String>> {
        let lease = self.kubectl().get_optional("lease", DEPLOYMENT)?;
        Ok(lease.and_then(|l| {
            l["spec"]["holderIdentity"]
                .as_str()
                .filter(|h| !h.is_empty())
                .map(str::to_string)
        }))
    }

    /// The Pod whose name the Lease holder starts with.
    pub fn leader_pod(&self) -> Result<Option<Value>> {
        let Some(holder) = self.lease_holder()? else {
            return Ok(None);
        };
        Ok(self.pods()?.into_iter().find(|p| {
            p["metadata"]["name"]
                .as_str()
                .is_some_and(|n| holder.starts_with(&format!("{n}_")))
        }))
    }

    /// `kubectl logs` of every current Pod, each under a header.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        for pod in self.pods().unwrap_or_default() {
            let name = pod["metadata"]["name"].as_str().unwrap_or("?");
            let log = self
                .kubectl()
                .run(["logs", name, "--tail=-1"])
                .unwrap_or_else(|e| format!("(no logs: {e})"));
            out.push_str(&format!("--- {name}\n{log}"));
        }
        out
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

/// Removes the manifests' Deployment, if any, and waits until its Pods are gone.
pub fn remove_existing(cp: &ControlPlane) -> Result<()> {
    remove(&cp.kubectl())
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

/// The container's main process of a Pod, seen from the host.
#[derive(Debug, Clone)]
pub struct PodProcess {
    pub pid: u32,
    pub comm: String,
    /// Real uid, as /proc/PID/status shows it.
    pub uid: String,
}

/// The process (not the sandbox's `pause`) in the cgroup of Pod `pod_uid`.
pub fn pod_process(pod_uid: &str) -> Option<PodProcess> {
    pod_processes(pod_uid).into_iter().next()
}

/// Every process (not the sandbox's `pause`) in the cgroups of Pod
/// `pod_uid`: one per container, plus what the containers started.
pub fn pod_processes(pod_uid: &str) -> Vec<PodProcess> {
    let marker = format!("pod{pod_uid}");
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        let path = entry.path();
        let Ok(cgroup) = std::fs::read_to_string(path.join("cgroup")) else {
            continue;
        };
        if !cgroup.contains(&marker) {
            continue;
        }
        let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        let comm = comm.trim();
        if comm == "pause" {
            continue;
        }
        let status = std::fs::read_to_string(path.join("status")).unwrap_or_default();
        let Some(uid) = status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|l| l.split_whitespace().next())
        else {
            continue;
        };
        found.push(PodProcess {
            pid,
            comm: comm.to_string(),
            uid: uid.to_string(),
        });
    }
    found
}
