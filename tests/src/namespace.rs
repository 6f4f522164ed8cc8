//! Namespaces made for one test each, with names unique across processes
//! (or the one name a control-plane setting needs).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::control_plane::{poll, run_command, ControlPlane, Kubectl, Result};

/// A namespace with a unique name, created for one test and deleted (without
/// waiting) when dropped. Set `SSRS_E2E_KEEP_NAMESPACES=1` to keep them for
/// debugging.
#[derive(Debug)]
pub struct TestNamespace {
    name: String,
    kubectl: Kubectl,
}

impl TestNamespace {
    /// Create a namespace named `<prefix>-<unique suffix>`.
    pub fn create(cp: &ControlPlane, prefix: &str) -> Result<TestNamespace> {
        let name = unique_name(prefix);
        let kubectl = cp.kubectl();
        // The label lets a developer find and clean up leftovers.
        kubectl.create(&format!(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n  labels:\n    sealed-secrets-rs.test/e2e: \"true\"\n"
        ))?;
        Ok(TestNamespace {
            kubectl: kubectl.namespace(name.clone()),
            name,
        })
    }

    /// Create the namespace `name` itself (one a control-plane setting
    /// names, as [`crate::audit::AUDITED_NAMESPACE`]), first waiting until
    /// an earlier run's is gone.
    pub fn create_exact(cp: &ControlPlane, name: &str) -> Result<TestNamespace> {
        let kubectl = cp.kubectl();
        poll(
            &format!("namespace {name} left by an earlier run to be gone"),
            Duration::from_secs(180),
            Duration::from_millis(500),
            || {
                let found = kubectl.get_optional("namespace", name)?;
                Ok(found.is_none().then_some(()))
            },
        )?;
        kubectl.create(&format!(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n  labels:\n    sealed-secrets-rs.test/e2e: \"true\"\n"
        ))?;
        Ok(TestNamespace {
            kubectl: kubectl.namespace(name.to_string()),
            name: name.to_string(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// kubectl scoped to this namespace.
    pub fn kubectl(&self) -> Kubectl {
        self.kubectl.clone()
    }
}

impl Drop for TestNamespace {
    fn drop(&mut self) {
        if std::env::var_os("SSRS_E2E_KEEP_NAMESPACES").is_some_and(|v| v == "1") {
            eprintln!("keeping namespace {}", self.name);
            return;
        }
        let mut cmd = self.kubectl.command();
        cmd.args([
            "delete",
            "namespace",
            &self.name,
            "--wait=false",
            "--ignore-not-found",
        ]);
        if let Err(e) = run_command(cmd, None) {
            eprintln!("warning: deleting namespace {}: {e}", self.name);
        }
    }
}

/// A DNS-1123 label `<prefix>-<suffix>` unique across processes and calls.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let suffix = format!("{:x}{:x}{:04x}", std::process::id(), n, nanos & 0xffff);
    let mut clean: String = prefix
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    clean.truncate(63 - 1 - suffix.len());
    let clean = clean.trim_matches('-');
    if clean.is_empty() {
        format!("t-{suffix}")
    } else {
        format!("{clean}-{suffix}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_names_are_dns_labels_and_differ() {
        let a = unique_name("Some_Test::name");
        let b = unique_name("Some_Test::name");
        assert_ne!(a, b);
        for n in [&a, &b, &unique_name(&"x".repeat(100)), &unique_name("--")] {
            assert!(n.len() <= 63, "{n}");
            assert!(n
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
            assert!(!n.starts_with('-') && !n.ends_with('-'), "{n}");
        }
    }
}
