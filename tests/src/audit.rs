//! The API server's own record of the requests made in one namespace
//! ([`AUDITED_NAMESPACE`]; `scripts/control-plane` writes the audit policy):
//! counts of what a controller asked, by verb and resource, that nothing
//! else in the cluster can add to. The API server's request metrics cannot
//! tell who asked: the garbage collector, reading the owners of Secrets (an
//! earlier test's deleted ones, or the new ones), once added 216 reads to a
//! count of 801.

use std::collections::BTreeMap;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::PathBuf;

use crate::control_plane::{ControlPlane, Error};

type Result<T, E = Error> = std::result::Result<T, E>;

/// The only namespace whose requests the API server records.
pub const AUDITED_NAMESPACE: &str = "ssrs-audited";

/// Requests by (HTTP method, resource[/subresource]), as
/// `apiserver_request_total` names them: `("GET", "sealedsecrets")`,
/// `("PUT", "sealedsecrets/status")`.
pub type Requests = BTreeMap<(String, String), f64>;

/// The audit log, read from a mark on.
pub struct AuditLog {
    path: PathBuf,
}

/// A place in the log: what was recorded before it is not counted.
#[derive(Debug, Clone, Copy)]
pub struct Mark(u64);

impl AuditLog {
    /// The log of `cp`'s API server; an error saying what to do when it
    /// records nothing (a control plane started before it had the policy).
    pub fn of(cp: &ControlPlane) -> Result<Self> {
        let state_dir = cp
            .kubeconfig()
            .parent()
            .ok_or_else(|| Error::ControlPlane("the kubeconfig has no state directory".into()))?;
        let path = state_dir.join("logs").join("audit.log");
        if !state_dir.join("audit-policy.yaml").is_file() {
            return Err(Error::ControlPlane(format!(
                "the API server has no audit policy (started by an older scripts/control-plane): \
                 restart it with `scripts/control-plane down && scripts/control-plane up` \
                 ({} stays empty until then)",
                path.display()
            )));
        }
        Ok(Self { path })
    }

    /// Where the log ends now.
    pub fn mark(&self) -> Result<Mark> {
        match std::fs::metadata(&self.path) {
            Ok(meta) => Ok(Mark(meta.len())),
            // Nothing recorded yet.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Mark(0)),
            Err(source) => Err(Error::Io {
                context: format!("reading {}", self.path.display()),
                source,
            }),
        }
    }

    /// The requests recorded after `mark` whose requester `counts`.
    pub fn requests_since(
        &self,
        mark: Mark,
        counts: impl Fn(&Requester) -> bool,
    ) -> Result<Requests> {
        let io = |source| Error::Io {
            context: format!("reading {}", self.path.display()),
            source,
        };
        let mut file = std::fs::File::open(&self.path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        if len < mark.0 {
            return Err(Error::ControlPlane(format!(
                "{} was rotated since the mark (--audit-log-maxsize): count again",
                self.path.display()
            )));
        }
        file.seek(SeekFrom::Start(mark.0)).map_err(io)?;
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(io)?;
        Ok(count(&text, counts))
    }
}

/// Who made a request.
pub struct Requester<'a> {
    /// The user name (`system:serviceaccount:kube-system:generic-garbage-collector`).
    pub user: &'a str,
    /// The `User-Agent` (`kubectl/v1.37.2 ...`; empty for the controller).
    pub agent: &'a str,
}

impl Requester<'_> {
    /// A test's own `kubectl`, or a part of the control plane (the garbage
    /// collector reads the owners of new Secrets): not a controller under test.
    pub fn is_test_or_cluster(&self) -> bool {
        self.agent.starts_with("kubectl/") || self.user.starts_with("system:")
    }
}

/// Counts completed requests in audit log lines (JSON, one event a line).
fn count(text: &str, counts: impl Fn(&Requester) -> bool) -> Requests {
    let mut requests = Requests::new();
    for event in text
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
    {
        if event["stage"] != "ResponseComplete" {
            continue;
        }
        let requester = Requester {
            user: event["user"]["username"].as_str().unwrap_or_default(),
            agent: event["userAgent"].as_str().unwrap_or_default(),
        };
        if !counts(&requester) {
            continue;
        }
        let method = match event["verb"].as_str().unwrap_or_default() {
            "get" => "GET",
            "create" => "POST",
            "update" => "PUT",
            "patch" => "PATCH",
            "delete" | "deletecollection" => "DELETE",
            "list" => "LIST",
            "watch" => "WATCH",
            other => other,
        };
        let object = &event["objectRef"];
        let mut resource = object["resource"].as_str().unwrap_or_default().to_string();
        if let Some(sub) = object["subresource"].as_str().filter(|s| !s.is_empty()) {
            resource = format!("{resource}/{sub}");
        }
        *requests
            .entry((method.to_string(), resource))
            .or_insert(0.0) += 1.0;
    }
    requests
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_completed_requests_by_method_and_resource() {
        let admin = r#""user":{"username":"admin"}"#;
        let gc =
            r#""user":{"username":"system:serviceaccount:kube-system:generic-garbage-collector"}"#;
        let log = [
            format!(r#"{{"stage":"ResponseComplete","verb":"get",{admin},"objectRef":{{"resource":"sealedsecrets","namespace":"ssrs-audited","name":"a"}}}}"#),
            format!(r#"{{"stage":"ResponseStarted","verb":"watch",{admin},"objectRef":{{"resource":"secrets"}}}}"#),
            format!(r#"{{"stage":"ResponseComplete","verb":"update",{admin},"objectRef":{{"resource":"sealedsecrets","subresource":"status"}}}}"#),
            format!(r#"{{"stage":"ResponseComplete","verb":"create",{admin},"userAgent":"kubectl/v1.37.2 (linux/amd64)","objectRef":{{"resource":"configmaps"}}}}"#),
            format!(r#"{{"stage":"ResponseComplete","verb":"get",{gc},"userAgent":"kube-controller-manager/v1.37.2","objectRef":{{"resource":"sealedsecrets"}}}}"#),
            format!(r#"{{"stage":"ResponseComplete","verb":"get",{admin},"userAgent":"x","objectRef":{{"resource":"sealedsecrets"}}}}"#),
            "not json".to_string(),
        ]
        .join("\n");
        let counted = count(&log, |r| !r.is_test_or_cluster());
        let key = |m: &str, r: &str| (m.to_string(), r.to_string());
        assert_eq!(counted.get(&key("GET", "sealedsecrets")), Some(&2.0));
        assert_eq!(counted.get(&key("PUT", "sealedsecrets/status")), Some(&1.0));
        assert_eq!(counted.len(), 2, "{counted:?}");
    }
}
