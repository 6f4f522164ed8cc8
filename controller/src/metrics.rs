//! Prometheus metrics under the reference's names and labels, so its
//! dashboards and alerts (helm/sealed-secrets) keep working.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Instant;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    pub reason: String,
    pub namespace: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConditionLabels {
    pub namespace: String,
    pub name: String,
    pub condition: String,
    /// The SealedSecret's `app.kubernetes.io/instance` label. The reference
    /// (v0.40) names it so: a plain `instance` clashes with Prometheus' own
    /// target label.
    pub ss_app_kubernetes_io_instance: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub path: String,
    pub code: String,
    pub method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpDurationLabels {
    pub path: String,
    pub method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    revision: String,
}

/// Why an unseal failed, as the `reason` label of `unseal_errors_total`.
#[derive(Debug, Clone, Copy)]
pub enum ErrorReason {
    Fetch,
    Unseal,
    Update,
    Unmanaged,
    Status,
}

impl ErrorReason {
    fn as_str(self) -> &'static str {
        match self {
            ErrorReason::Fetch => "fetch",
            ErrorReason::Unseal => "unseal",
            ErrorReason::Update => "update",
            ErrorReason::Unmanaged => "unmanaged",
            ErrorReason::Status => "status",
        }
    }
}

/// The HTTP method as the `method` label, as promhttp (client_golang) does:
/// a known method spelt all upper or all lower case, lowercased; anything
/// else `unknown`, so arbitrary method strings never make new series.
pub fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 10] = [
        "get", "put", "head", "post", "delete", "connect", "options", "notify", "trace", "patch",
    ];
    KNOWN
        .into_iter()
        .find(|known| method == *known || method == known.to_ascii_uppercase())
        .unwrap_or("unknown")
}

/// Prometheus' default histogram buckets (`prometheus.DefBuckets`), which the
/// reference uses for the request duration.
const DEFAULT_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

pub struct Metrics {
    registry: Mutex<Registry>,
    unseal_requests: Counter,
    unseal_errors: Family<ErrorLabels, Counter>,
    condition_info: Family<ConditionLabels, Gauge>,
    /// The `condition_info` labels of each SealedSecret (namespace, name), to
    /// remove its series when it goes away or its instance label changes.
    conditions: Mutex<HashMap<(String, String), ConditionLabels>>,
    /// `--metrics-omit-secret-labels`: no `condition_info` series at all.
    omit_secret_labels: bool,
    http_requests: Family<HttpLabels, Counter>,
    http_duration: Family<HttpDurationLabels, Histogram>,
    leader: Family<LeaderLabels, Gauge>,
    rsa_decryptions: Counter,
    relists: Counter,
    resyncs: Family<ResyncLabels, Counter>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LeaderLabels {
    identity: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResyncLabels {
    reason: &'static str,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new(false)
    }
}

impl Metrics {
    pub fn new(omit_secret_labels: bool) -> Self {
        let mut registry = Registry::with_prefix("sealed_secrets_controller");
        let build_info = Family::<BuildLabels, Gauge>::default();
        build_info
            .get_or_create(&BuildLabels {
                revision: format!("v{}", env!("CARGO_PKG_VERSION")),
            })
            .set(1);
        registry.register("build_info", "Build information.", build_info);
        let unseal_requests = Counter::default();
        registry.register(
            "unseal_requests",
            "Total number of sealed secret unseal requests",
            unseal_requests.clone(),
        );
        let unseal_errors = Family::default();
        registry.register(
            "unseal_errors",
            "Total number of sealed secret unseal errors by reason",
            unseal_errors.clone(),
        );
        let condition_info = Family::default();
        registry.register(
            "condition_info",
            "Current SealedSecret condition status. Values are -1 (false), 0 (unknown or absent), 1 (true)",
            condition_info.clone(),
        );
        let http_requests = Family::default();
        registry.register(
            "http_requests",
            "A counter for requests to the wrapped handler.",
            http_requests.clone(),
        );
        let http_duration = Family::<HttpDurationLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(DEFAULT_BUCKETS)
        });
        registry.register(
            "http_request_duration_seconds",
            "A histogram of latencies for requests.",
            http_duration.clone(),
        );
        let leader = Family::default();
        registry.register(
            "leader",
            "1 while this replica holds the leader Lease (--leader-elect), else 0; always 1 without election",
            leader.clone(),
        );
        let rsa_decryptions = Counter::default();
        registry.register(
            "rsa_decryptions",
            "RSA private-key operations (unsealing, /v1/verify, /v1/rotate): a synced SealedSecret needs none",
            rsa_decryptions.clone(),
        );
        let relists = Counter::default();
        registry.register(
            "watch_relists",
            "Full lists of the SealedSecret watches: at start, and after a watch expired (410 Gone) or failed",
            relists.clone(),
        );
        let resyncs = Family::default();
        registry.register(
            "resyncs",
            "Reconciles of every SealedSecret, by reason: a new key, leadership, a relist, the API server back, the --resync-period",
            resyncs.clone(),
        );
        Self {
            registry: Mutex::new(registry),
            unseal_requests,
            unseal_errors,
            condition_info,
            conditions: Mutex::default(),
            omit_secret_labels,
            http_requests,
            http_duration,
            leader,
            rsa_decryptions,
            relists,
            resyncs,
        }
    }

    /// Every SealedSecret is reconciled again, for `reason`.
    pub fn resync(&self, reason: &'static str) {
        self.resyncs.get_or_create(&ResyncLabels { reason }).inc();
    }

    /// A SealedSecret watch started a full list.
    pub fn relist(&self) {
        self.relists.inc();
    }

    /// Whether this replica (`identity`) leads.
    pub fn leader(&self, identity: &str, leading: bool) {
        self.leader
            .get_or_create(&LeaderLabels {
                identity: identity.into(),
            })
            .set(i64::from(leading));
    }

    pub fn unseal_request(&self) {
        self.unseal_requests.inc();
    }

    pub fn unseal_error(&self, reason: ErrorReason, namespace: &str) {
        self.unseal_errors
            .get_or_create(&ErrorLabels {
                reason: reason.as_str().into(),
                namespace: namespace.into(),
            })
            .inc();
    }

    /// Sets the `Synced` condition of a SealedSecret: 1 true, -1 false.
    pub fn condition(&self, namespace: &str, name: &str, instance: &str, synced: bool) {
        if self.omit_secret_labels {
            return;
        }
        let labels = ConditionLabels {
            namespace: namespace.into(),
            name: name.into(),
            condition: "Synced".into(),
            ss_app_kubernetes_io_instance: instance.into(),
        };
        let Ok(mut conditions) = self.conditions.lock() else {
            return;
        };
        let key = (namespace.to_string(), name.to_string());
        if let Some(old) = conditions.insert(key, labels.clone()) {
            if old != labels {
                self.condition_info.remove(&old);
            }
        }
        self.condition_info
            .get_or_create(&labels)
            .set(if synced { 1 } else { -1 });
    }

    /// Removes the series of a SealedSecret that is gone.
    pub fn forget(&self, namespace: &str, name: &str) {
        let Ok(mut conditions) = self.conditions.lock() else {
            return;
        };
        if let Some(old) = conditions.remove(&(namespace.to_string(), name.to_string())) {
            self.condition_info.remove(&old);
        }
    }

    /// After a relist of `scope` (one namespace, or all with `None`): removes
    /// the series of SealedSecrets in it that the list no longer holds
    /// (deleted while the watch was down).
    pub fn retain(&self, scope: Option<&str>, present: &HashSet<(String, String)>) {
        let Ok(mut conditions) = self.conditions.lock() else {
            return;
        };
        conditions.retain(|key, labels| {
            let keep = scope.is_some_and(|ns| ns != key.0) || present.contains(key);
            if !keep {
                self.condition_info.remove(labels);
            }
            keep
        });
    }

    pub fn http_request(&self, path: &str, method: &str, code: u16, started: Instant) {
        let method = method_label(method);
        self.http_requests
            .get_or_create(&HttpLabels {
                path: path.into(),
                code: code.to_string(),
                method: method.into(),
            })
            .inc();
        self.http_duration
            .get_or_create(&HttpDurationLabels {
                path: path.into(),
                method: method.into(),
            })
            .observe(started.elapsed().as_secs_f64());
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Ok(registry) = self.registry.lock() {
            // Under the lock, so two scrapes never add the same operations twice.
            let done = sealed_secrets_crypto::rsa_decryptions();
            let shown = self.rsa_decryptions.get();
            if done > shown {
                self.rsa_decryptions.inc_by(done - shown);
            }
            // Writing to a String cannot fail.
            let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn condition_lines(metrics: &Metrics) -> Vec<String> {
        metrics
            .render()
            .lines()
            .filter(|l| l.starts_with("sealed_secrets_controller_condition_info{"))
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn condition_info_uses_the_reference_label_names() {
        let metrics = Metrics::default();
        metrics.condition("apps", "db", "my-release", true);
        metrics.condition("apps", "web", "", false);
        let lines = condition_lines(&metrics);
        assert!(
            lines.contains(&r#"sealed_secrets_controller_condition_info{namespace="apps",name="db",condition="Synced",ss_app_kubernetes_io_instance="my-release"} 1"#.to_string()),
            "{lines:?}"
        );
        assert!(
            lines.contains(&r#"sealed_secrets_controller_condition_info{namespace="apps",name="web",condition="Synced",ss_app_kubernetes_io_instance=""} -1"#.to_string()),
            "{lines:?}"
        );
        assert!(!metrics.render().contains(",instance="));
    }

    #[test]
    fn condition_series_go_away_with_their_sealed_secret() {
        let metrics = Metrics::default();
        metrics.condition("apps", "db", "a", true);
        metrics.condition("apps", "web", "", true);
        metrics.condition("other", "db", "", true);
        // A changed instance label replaces the series instead of adding one.
        metrics.condition("apps", "db", "b", false);
        let lines = condition_lines(&metrics);
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(lines
            .iter()
            .any(|l| l.contains(r#"name="db""#) && l.contains(r#"instance="b"} -1"#)));

        metrics.forget("apps", "db");
        let lines = condition_lines(&metrics);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(!lines
            .iter()
            .any(|l| l.contains(r#"namespace="apps",name="db""#)));

        // A relist of "apps" that no longer holds "web" drops it, and only it.
        metrics.retain(Some("apps"), &HashSet::new());
        let lines = condition_lines(&metrics);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].contains(r#"namespace="other""#));
        metrics.retain(None, &HashSet::from([("x".to_string(), "y".to_string())]));
        assert!(condition_lines(&metrics).is_empty());
    }

    #[test]
    fn omitting_secret_labels_makes_no_condition_series() {
        let metrics = Metrics::new(true);
        metrics.condition("apps", "db", "a", true);
        assert!(condition_lines(&metrics).is_empty());
        assert!(!metrics.render().contains(r#"name="db""#));
    }

    #[test]
    fn method_label_takes_only_known_methods_as_promhttp() {
        for (method, label) in [
            ("GET", "get"),
            ("get", "get"),
            ("POST", "post"),
            ("PATCH", "patch"),
            ("NOTIFY", "notify"),
            ("CONNECT", "connect"),
            ("Get", "unknown"),
            ("FOO", "unknown"),
            ("PROPFIND", "unknown"),
        ] {
            assert_eq!(method_label(method), label, "{method}");
        }
        let metrics = Metrics::default();
        for method in ["FOO", "BAR", "x-random-1"] {
            metrics.http_request("/v1/verify", method, 500, Instant::now());
        }
        let text = metrics.render();
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("sealed_secrets_controller_http_requests_total{"))
            .collect();
        assert_eq!(
            lines,
            [
                r#"sealed_secrets_controller_http_requests_total{path="/v1/verify",code="500",method="unknown"} 3"#
            ],
        );
    }

    #[test]
    fn request_durations_use_prometheus_default_buckets() {
        let metrics = Metrics::default();
        metrics.http_request("/v1/cert.pem", "GET", 200, Instant::now());
        let text = metrics.render();
        let les: Vec<&str> = text
            .lines()
            .filter(|l| {
                l.starts_with("sealed_secrets_controller_http_request_duration_seconds_bucket{")
            })
            .filter_map(|l| l.split("le=\"").nth(1)?.split('"').next())
            .collect();
        assert_eq!(
            les,
            [
                "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0",
                "10.0", "+Inf"
            ]
        );
    }
}
