//! Our CustomResourceDefinition in the cluster.

use std::sync::OnceLock;

use crate::control_plane::{ControlPlane, Error, Result};

/// Installs our CRD (manifests/crd.yaml) once per process and waits until it is served.
pub fn install_crd(cp: &ControlPlane) -> Result<()> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        let crd = cp.repo_dir().join("manifests").join("crd.yaml");
        let kubectl = cp.kubectl();
        kubectl
            .run([
                "apply",
                "--server-side",
                "--force-conflicts",
                "-f",
                &crd.to_string_lossy(),
            ])
            .map_err(|e| e.to_string())?;
        kubectl
            .run([
                "wait",
                "--for=condition=Established",
                "--timeout=60s",
                "crd/sealedsecrets.bitnami.com",
            ])
            .map_err(|e| e.to_string())?;
        Ok(())
    })
    .clone()
    .map_err(Error::ControlPlane)
}
