//! Service-account credentials laid out as in a Pod, for a controller that
//! only supports in-cluster configuration (the reference's
//! `rest.InClusterConfig()` has no kubeconfig flag or variable): it reads
//! `KUBERNETES_SERVICE_HOST`/`_PORT` and a token and CA under
//! `/var/run/secrets/kubernetes.io/serviceaccount/`.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::control_plane::{poll, ControlPlane, Error, Result};
use crate::kubeconfig::api_server_url;
use crate::namespace::unique_name;

/// Mounts the service-account files where in-cluster clients look, then
/// `exec`s the program given as its arguments (so its pid stays the
/// program's).
const MOUNT_AND_EXEC: &str = r#"run=$(readlink -f /var/run)
mount -t tmpfs -o mode=0755 ssrs-in-cluster "$run"
mkdir -p "$run/secrets/kubernetes.io/serviceaccount"
mount --bind -o ro "$SSRS_SA_DIR" "$run/secrets/kubernetes.io/serviceaccount"
exec "$0" "$@""#;

/// The files of a ServiceAccount `sealed-secrets-controller` of one
/// namespace, removed on drop.
pub(super) struct InCluster {
    dir: PathBuf,
    /// The API server's address as the host reaches it.
    host: String,
    port: String,
}

impl InCluster {
    const ACCOUNT: &'static str = "sealed-secrets-controller";

    /// Creates the ServiceAccount in `namespace` with a RoleBinding to
    /// `cluster-admin` there and in each of `watched` (namespace-scoped,
    /// removed with each namespace), issues a token for it and writes the
    /// files.
    pub(super) fn prepare(cp: &ControlPlane, namespace: &str, watched: &[String]) -> Result<Self> {
        let kubectl = cp.kubectl().namespace(namespace);
        kubectl.apply(&format!(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {sa}\n",
            sa = Self::ACCOUNT
        ))?;
        let binding = format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: {sa}-{namespace}\n\
             roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: cluster-admin\n\
             subjects:\n- kind: ServiceAccount\n  name: {sa}\n  namespace: {namespace}\n",
            sa = Self::ACCOUNT
        );
        let mut bound = vec![namespace];
        bound.extend(
            watched
                .iter()
                .map(String::as_str)
                .filter(|w| *w != namespace),
        );
        for each in bound {
            cp.kubectl().namespace(each).apply(&binding)?;
        }
        let token = kubectl.run(["create", "token", Self::ACCOUNT, "--duration=6h"])?;
        // What a Pod gets: kube-root-ca.crt, published into every namespace
        // by kube-controller-manager shortly after the namespace appears.
        let ca = poll(
            "kube-root-ca.crt ConfigMap",
            Duration::from_secs(60),
            Duration::from_millis(200),
            || {
                Ok(kubectl
                    .get_optional("configmap", "kube-root-ca.crt")?
                    .and_then(|cm| cm["data"]["ca.crt"].as_str().map(str::to_string)))
            },
        )?;
        let server = api_server_url(cp)?;
        let authority = server
            .strip_prefix("https://")
            .map(|rest| rest.trim_end_matches('/'))
            .ok_or_else(|| Error::ControlPlane(format!("unexpected API server URL {server:?}")))?;
        let (host, port) = authority
            .rsplit_once(':')
            .map(|(h, p)| (h.to_string(), p.to_string()))
            .unwrap_or_else(|| (authority.to_string(), "443".into()));
        let dir = std::env::temp_dir().join(unique_name(&format!("serviceaccount-{namespace}")));
        let write = |name: &str, text: &str| {
            std::fs::create_dir_all(&dir)
                .and_then(|_| std::fs::write(dir.join(name), text))
                .map_err(|source| Error::Io {
                    context: format!("writing {}", dir.join(name).display()),
                    source,
                })
        };
        write("token", token.trim())?;
        write("ca.crt", &ca)?;
        write("namespace", namespace)?;
        Ok(Self { dir, host, port })
    }

    /// `program` run in a private mount namespace (`unshare --mount`) whose
    /// tmpfs on `/var/run` holds the files, so nothing on the host changes.
    pub(super) fn wrap(&self, program: Vec<OsString>) -> Vec<OsString> {
        let mut wrapped: Vec<OsString> = [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-euc",
            MOUNT_AND_EXEC,
        ]
        .into_iter()
        .map(OsString::from)
        .collect();
        wrapped.extend(program);
        wrapped
    }

    /// The variables [`InCluster::wrap`]'s script and the in-cluster client
    /// read; `api_host`: where the API server is, seen from where the
    /// process runs (`None`: as from the host).
    pub(super) fn set_env(&self, cmd: &mut Command, api_host: Option<&str>) {
        cmd.env("SSRS_SA_DIR", &self.dir)
            .env("KUBERNETES_SERVICE_HOST", api_host.unwrap_or(&self.host))
            .env("KUBERNETES_SERVICE_PORT", &self.port);
    }
}

impl Drop for InCluster {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
