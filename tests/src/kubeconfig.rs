//! Kubeconfigs for users with less than the admin's rights.

use std::path::Path;

use crate::control_plane::{ControlPlane, Error, Result};
use crate::namespace::TestNamespace;

/// The API server's URL, as the control plane's kubeconfig names it.
pub(crate) fn api_server_url(cp: &ControlPlane) -> Result<String> {
    let server = cp.kubectl().run([
        "config",
        "view",
        "--minify",
        "-o",
        "jsonpath={.clusters[0].cluster.server}",
    ])?;
    Ok(server.trim().to_string())
}

/// A ServiceAccount `account` of `ns`, bound to a Role of `rules` (YAML
/// flow items, one per line, e.g. `{apiGroups: [""], resources: [secrets],
/// verbs: [get]}`), and a kubeconfig at `path` holding only its token (an
/// hour long).
pub fn service_account_kubeconfig(
    cp: &ControlPlane,
    ns: &TestNamespace,
    account: &str,
    rules: &[&str],
    path: &Path,
) -> Result<()> {
    let rules: String = rules.iter().map(|r| format!("- {r}\n")).collect();
    let manifest = format!(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: {account}}}\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: {account}}}\nrules:\n{rules}---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: {account}}}\n\
         roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: {account}}}\n\
         subjects: [{{kind: ServiceAccount, name: {account}, namespace: {n}}}]\n",
        n = ns.name()
    );
    ns.kubectl().apply(&manifest)?;
    let token = ns
        .kubectl()
        .run(["create", "token", account, "--duration=1h"])?;
    token_kubeconfig(cp, path, account, &token)?;
    Ok(())
}

/// Writes a kubeconfig at `path` that authenticates only with `token`, as a
/// user with nothing but that token would have; returns the path.
pub fn token_kubeconfig(cp: &ControlPlane, path: &Path, user: &str, token: &str) -> Result<String> {
    let server = api_server_url(cp)?;
    let config = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "local", "cluster": {"server": server, "insecure-skip-tls-verify": true}}],
        "users": [{"name": user, "user": {"token": token.trim()}}],
        "contexts": [{"name": user, "context": {"cluster": "local", "user": user}}],
        "current-context": user,
    });
    let text = serde_json::to_vec_pretty(&config)
        .map_err(|e| Error::ControlPlane(format!("kubeconfig: {e}")))?;
    std::fs::write(path, text).map_err(|source| Error::Io {
        context: format!("writing {}", path.display()),
        source,
    })?;
    Ok(path.to_string_lossy().into_owned())
}
