//! Errors of the API server's own resources (Secrets, SealedSecrets) in the
//! words of RBAC: what was refused and how to check or get the permission.

use anyhow::anyhow;

/// Where a request went, for error messages: a namespace or the whole cluster.
#[derive(Clone, Copy)]
pub(crate) enum Place<'a> {
    Namespace(&'a str),
    Cluster,
}

/// Turns an API error into what happened and what to do about it.
/// `verb` and `resource` are RBAC terms (`list`, `secrets`).
pub(crate) fn api_error(
    err: kube::Error,
    verb: &str,
    resource: &str,
    place: Place<'_>,
) -> anyhow::Error {
    let (place, can_i) = match place {
        Place::Namespace(ns) => (format!("in namespace {ns:?}"), format!("-n {ns}")),
        Place::Cluster => (
            "in all namespaces".to_string(),
            "--all-namespaces".to_string(),
        ),
    };
    let what = format!("cannot {verb} {resource} {place}");
    match &err {
        kube::Error::Api(s) if s.code == 403 => anyhow!(
            "{what}: forbidden ({}).\nYou need RBAC permission to `{verb} {resource}` {place}: ask a cluster admin, \
             check with `kubectl auth can-i {verb} {resource} {can_i}`, or use --context/--as for an account that has it",
            s.message
        ),
        kube::Error::Api(s) if s.code == 401 => anyhow!(
            "{what}: the API server rejected the credentials ({}): check --kubeconfig, --context, --token",
            s.message
        ),
        kube::Error::Api(s) if s.code == 404 && resource.starts_with("sealedsecrets") => anyhow!(
            "{what}: the SealedSecret CRD (sealedsecrets.bitnami.com) is not installed in this cluster ({})",
            s.message
        ),
        kube::Error::Api(s) => anyhow!("{what}: {} ({})", s.message, s.code),
        other => anyhow!("{what}: cannot reach the API server: {other}"),
    }
}

/// The API server's own message for an API error (as Go's
/// `StatusError.Error()` prints it), not kube's debug form of the status.
/// The controller has the same five lines: the two binaries share no crate
/// that has kube's client.
pub(crate) fn api_message(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(s) if !s.message.is_empty() => s.message.clone(),
        other => other.to_string(),
    }
}
