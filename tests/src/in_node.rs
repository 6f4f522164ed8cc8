//! Our controller (or the reference's) as a process inside the node network
//! namespace, reached through a Service like a Pod would be.

use std::path::PathBuf;
use std::time::Duration;

use crate::control_plane::{poll, ControlPlane, Error};
use crate::sealed::{binaries, install_crd, InCluster, IN_CLUSTER_SCRIPT};

type Result<T, E = Error> = std::result::Result<T, E>;

/// Our controller inside the node network namespace, reachable as the Service
/// `sealed-secrets-controller` (port 8080, named `http`) in `namespace`,
/// which is also where its keys live.
pub struct ControllerInNode {
    _process: crate::NodeProcess,
    _in_cluster: Option<InCluster>,
    pub service: String,
}

impl ControllerInNode {
    /// `binary`: `None` for ours (it reads the node's KUBECONFIG); the
    /// reference controller's path to run that instead, with in-cluster
    /// credentials, which is all the reference accepts.
    pub fn start(cp: &ControlPlane, namespace: &str, binary: Option<PathBuf>) -> Result<Self> {
        Self::start_with_args(cp, namespace, binary, &[])
    }

    /// As [`ControllerInNode::start`], with more flags (e.g. `--web-ui`).
    pub fn start_with_args(
        cp: &ControlPlane,
        namespace: &str,
        binary: Option<PathBuf>,
        extra_args: &[&str],
    ) -> Result<Self> {
        install_crd(cp)?;
        let in_cluster = match &binary {
            Some(_) => Some(InCluster::prepare(cp, namespace)?),
            None => None,
        };
        let binary = match binary {
            Some(b) => b,
            None => binaries()?.join("sealed-secrets-controller"),
        };
        // Ports inside the node are shared by every test process: a port that
        // turns out to be taken makes the controller exit, so check that it
        // is still alive once the Service answers, and move on if not.
        let mut last_error = None;
        for _attempt in 0..5 {
            let port = next_node_port();
            // env's options come before its assignments.
            let mut argv = match in_cluster {
                Some(_) => vec!["-u".to_string(), "KUBECONFIG".to_string()],
                None => Vec::new(),
            };
            argv.extend([
                format!("POD_NAMESPACE={namespace}"),
                "NO_COLOR=1".to_string(),
            ]);
            if let Some(ic) = &in_cluster {
                argv.extend([
                    format!("SSRS_SA_DIR={}", ic.dir.display()),
                    // From the node, the API server is at the host end of the veth.
                    format!("KUBERNETES_SERVICE_HOST={}", cp.host_ip()),
                    format!("KUBERNETES_SERVICE_PORT={}", ic.port),
                    "unshare".into(),
                    "--mount".into(),
                    "--propagation".into(),
                    "private".into(),
                    "sh".into(),
                    "-euc".into(),
                    IN_CLUSTER_SCRIPT.into(),
                ]);
            }
            argv.extend([
                binary.to_string_lossy().into_owned(),
                format!("--listen-addr=0.0.0.0:{port}"),
                format!("--listen-metrics-addr=127.0.0.1:{}", port + 1),
                "--all-namespaces=false".into(),
                format!("--additional-namespaces={namespace}"),
                "--key-size=2048".into(),
            ]);
            argv.extend(extra_args.iter().map(|a| a.to_string()));
            let mut process = cp.spawn_in_node("env", argv, None)?;
            cp.expose_named(namespace, "sealed-secrets-controller", 8080, port, "http")?;
            let kubectl = cp.kubectl().namespace(namespace);
            let path = format!(
                "/api/v1/namespaces/{namespace}/services/http:sealed-secrets-controller:http/proxy/healthz"
            );
            let answered = poll(
                "controller to answer through the service proxy",
                Duration::from_secs(90),
                Duration::from_millis(300),
                || {
                    if process.check_running().is_err() {
                        return Ok(Some(false));
                    }
                    Ok(kubectl.get_raw(&path).ok().map(|_| true))
                },
            );
            std::thread::sleep(Duration::from_millis(300));
            match answered {
                Ok(true) if process.check_running().is_ok() => {
                    return Ok(Self {
                        _process: process,
                        _in_cluster: in_cluster,
                        service: "sealed-secrets-controller".into(),
                    })
                }
                Ok(_) => last_error = process.check_running().err(),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| Error::ControlPlane("no free port in the node".into())))
    }
}

static NEXT_PORT: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(0);

/// A port for a server in the node: a per-process block, then the next in it.
fn next_node_port() -> u16 {
    let block = 20000 + (std::process::id() % 400) as u16 * 100;
    let offset = NEXT_PORT.fetch_add(2, std::sync::atomic::Ordering::Relaxed) % 100;
    block + offset
}
