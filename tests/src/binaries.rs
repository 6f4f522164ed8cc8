//! The binaries the tests run: ours, built once per test process, and the
//! reference controller's, built by `scripts/install-tools ref`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::control_plane::{ControlPlane, Error, Result};

/// Builds the workspace binaries once per test process; returns their directory.
///
/// `SEALED_SECRETS_E2E_BIN_DIR=DIR` uses the `kubeseal` and
/// `sealed-secrets-controller` already in DIR instead (e.g. `target/release`
/// after `scripts/build-image`), without building: for a machine short of
/// disk or time, where a debug build of both would not fit.
pub fn binaries() -> Result<&'static Path> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            if let Some(dir) = std::env::var_os("SEALED_SECRETS_E2E_BIN_DIR") {
                let dir = PathBuf::from(dir);
                return match ["kubeseal", "sealed-secrets-controller"]
                    .iter()
                    .find(|b| !dir.join(b).is_file())
                {
                    Some(missing) => Err(format!(
                        "SEALED_SECRETS_E2E_BIN_DIR={} has no {missing}",
                        dir.display()
                    )),
                    None => Ok(dir),
                };
            }
            let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let mut build = Command::new(cargo);
            // What cargo sets for this test process (CARGO_PKG_NAME, ...) would
            // reach build scripts that rerun when it changes (ring's does), and
            // rebuild half the dependency tree on every run: leave it out.
            for (key, _) in std::env::vars_os() {
                let key = key.to_string_lossy();
                if [
                    "CARGO_PKG_",
                    "CARGO_MANIFEST_",
                    "CARGO_CRATE_",
                    "CARGO_BIN_",
                ]
                .iter()
                .any(|p| key.starts_with(p))
                    || ["CARGO_PRIMARY_PACKAGE", "CARGO_TARGET_TMPDIR"].contains(&&*key)
                {
                    build.env_remove(&*key);
                }
            }
            let status = build
                .current_dir(&repo)
                .args([
                    "build",
                    "--quiet",
                    "-p",
                    "kubeseal",
                    "-p",
                    "sealed-secrets-controller",
                    "--bins",
                ])
                .status()
                .map_err(|e| format!("cannot run cargo build: {e}"))?;
            if !status.success() {
                return Err(format!("cargo build of the binaries failed ({status})"));
            }
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| repo.join("target"));
            Ok(target.join("debug"))
        })
        .as_ref()
        .map(PathBuf::as_path)
        .map_err(|e| Error::ControlPlane(e.clone()))
}

/// The reference controller binary (`$CONTROLLER_REFERENCE`, or the one
/// `scripts/install-tools ref` builds), or `None` (after saying so) when it
/// is absent; `REQUIRE_REFERENCE=1` (set by `make test`) turns absence into
/// a failure.
pub fn reference_controller(cp: &ControlPlane) -> Option<PathBuf> {
    let path = match std::env::var_os("CONTROLLER_REFERENCE") {
        Some(p) => PathBuf::from(p),
        None => cp.reference_bin_dir().join("controller"),
    };
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var("REQUIRE_REFERENCE").as_deref() != Ok("1"),
        "REQUIRE_REFERENCE=1 but the reference controller {} is missing (run scripts/install-tools ref)",
        path.display()
    );
    eprintln!(
        "SKIPPED: reference controller {} not found (run scripts/install-tools ref, or set REQUIRE_REFERENCE=1 to fail)",
        path.display()
    );
    None
}
