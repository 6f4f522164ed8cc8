//! Prometheus metrics under the reference's names and labels, so its
//! dashboards and alerts (helm/sealed-secrets) keep working.
//!
//! Two kinds: counters of the work this replica did (unseal requests and
//! errors, HTTP requests), and gauges of the cluster's state (keys, and
//! with statuses written, each SealedSecret's condition), read from the
//! watch caches at each scrape, so that a scrape of any replica, leader or
//! not, shows the same state.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Instant, SystemTime};

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

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KeyLabels {
    fingerprint: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KmsKeyLabels {
    kms_key_id: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: String,
}

/// One sealing key, as the metrics show it.
#[derive(Debug, Clone)]
pub struct KeyState {
    pub fingerprint: String,
    /// What key renewal counts from (`--key-order-priority`).
    pub created: SystemTime,
    /// The certificate's NotAfter.
    pub expires: SystemTime,
    /// The key kubeseal gets: the newest active one.
    pub sealing: bool,
    /// Its `activate-at`, when it has one.
    pub activates: Option<SystemTime>,
    /// The KMS key (KEK) that wraps it; `None`: a plain key Secret.
    pub kms_key_id: Option<String>,
}

/// One SealedSecret, as the metrics show it (from its cached status).
#[derive(Debug, Clone, Copy)]
pub struct SealedState<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub instance: &'a str,
    /// `Synced`: `None` when the status has none yet.
    pub synced: Option<bool>,
    /// Failing at its generation: the `Ready` reason (`Unknown` without one).
    pub failing: Option<&'a str>,
    /// The fingerprint of the key that opens it.
    pub key: Option<&'a str>,
}

/// The cluster's state, as this replica's watches hold it.
pub trait ClusterState: Send + Sync {
    fn keys(&self) -> Vec<KeyState>;
    /// Calls `each` for every SealedSecret.
    fn sealed_secrets(&self, each: &mut dyn FnMut(SealedState<'_>));
}

/// The gauges made from [`ClusterState`] at each scrape.
struct StateGauges {
    key_created: Family<KeyLabels, Gauge>,
    key_expiry: Family<KeyLabels, Gauge>,
    key_sealing: Family<KeyLabels, Gauge>,
    key_activation: Family<KeyLabels, Gauge>,
    key_sealed_secrets: Family<KeyLabels, Gauge>,
    not_newest_key: Gauge,
    failing: Family<ReasonLabels, Gauge>,
    kms_keys: Family<KmsKeyLabels, Gauge>,
    kms_plain_keys: Gauge,
}

fn unix_seconds(time: SystemTime) -> i64 {
    match time.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
    }
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
    state_gauges: StateGauges,
    /// Where the state gauges come from, once the watches run.
    state: OnceLock<Arc<dyn ClusterState>>,
    /// `condition_info` comes from the cached statuses (every replica
    /// alike), not from this replica's reconciles: statuses are written.
    conditions_from_state: AtomicBool,
    /// Registered with `--kms-endpoint` only ([`Metrics::kms`]).
    kms_healthy: Gauge,
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
        let state_gauges = StateGauges {
            key_created: Family::default(),
            key_expiry: Family::default(),
            key_sealing: Family::default(),
            key_activation: Family::default(),
            key_sealed_secrets: Family::default(),
            not_newest_key: Gauge::default(),
            failing: Family::default(),
            kms_keys: Family::default(),
            kms_plain_keys: Gauge::default(),
        };
        registry.register(
            "key_created_timestamp_seconds",
            "When each sealing key was made (what --key-renew-period counts from), in Unix seconds",
            state_gauges.key_created.clone(),
        );
        registry.register(
            "key_expiry_timestamp_seconds",
            "When each sealing key's certificate expires (NotAfter), in Unix seconds",
            state_gauges.key_expiry.clone(),
        );
        registry.register(
            "key_sealing",
            "1 for the key kubeseal seals with (the newest active one), 0 for the others, which still unseal",
            state_gauges.key_sealing.clone(),
        );
        registry.register(
            "key_activation_timestamp_seconds",
            "When each key with an activate-at annotation starts (or started) sealing, in Unix seconds; keys without one seal as soon as they are the newest",
            state_gauges.key_activation.clone(),
        );
        registry.register(
            "key_sealedsecrets",
            "SealedSecrets each key opens, per their status (status.keyFingerprint)",
            state_gauges.key_sealed_secrets.clone(),
        );
        registry.register(
            "sealedsecrets_not_newest_key",
            "SealedSecrets opened by a key other than the sealing one: re-encryption candidates (kubeseal admin reencrypt)",
            state_gauges.not_newest_key.clone(),
        );
        registry.register(
            "sealedsecrets_failing",
            "SealedSecrets not Synced at their generation, by the reason of their Ready condition",
            state_gauges.failing.clone(),
        );
        Self {
            kms_healthy: Gauge::default(),
            state_gauges,
            state: OnceLock::new(),
            conditions_from_state: AtomicBool::new(false),
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

    /// The state gauges come from `state` from now on; with `statuses`
    /// (statuses are written), `condition_info` too.
    pub fn observe_state(&self, state: Arc<dyn ClusterState>, statuses: bool) {
        if self.state.set(state).is_ok() && statuses {
            self.conditions_from_state.store(true, Ordering::Relaxed);
            if let Ok(mut conditions) = self.conditions.lock() {
                conditions.clear();
            }
            self.condition_info.clear();
        }
    }

    /// When keys are renewed (`--key-renew-period`, 0: never) and the
    /// `--key-cutoff-time` (no series when not set), as gauges: an alert on
    /// a key not renewed in time follows the flags.
    pub fn key_schedule(&self, renew_period: std::time::Duration, cutoff: Option<SystemTime>) {
        let Ok(mut registry) = self.registry.lock() else {
            return;
        };
        let period = Gauge::<i64>::default();
        period.set(i64::try_from(renew_period.as_secs()).unwrap_or(i64::MAX));
        registry.register(
            "key_renew_period_seconds",
            "--key-renew-period in seconds: a new sealing key is made when the newest is this old (0: never)",
            period,
        );
        if let Some(cutoff) = cutoff {
            let gauge = Gauge::<i64>::default();
            gauge.set(unix_seconds(cutoff));
            registry.register(
                "key_cutoff_timestamp_seconds",
                "--key-cutoff-time in Unix seconds: keys made before it are renewed",
                gauge,
            );
        }
    }

    /// With `--kms-endpoint`: the plugin's health and the keys per KMS key.
    pub fn kms(&self) {
        let Ok(mut registry) = self.registry.lock() else {
            return;
        };
        registry.register(
            "kms_plugin_healthy",
            "1 while the KMS v2 plugin's Status says ok (polled every minute, every 10 s while not), else 0",
            self.kms_healthy.clone(),
        );
        registry.register(
            "kms_keys",
            "Sealing keys wrapped by each KMS key (kms_key_id); after a KMS key rotation the old one goes to 0 once every key is wrapped again",
            self.state_gauges.kms_keys.clone(),
        );
        registry.register(
            "kms_plain_keys",
            "Plain key Secrets (tls.key) beside the KMS: they open SealedSecrets but never seal; wrap them (kubeseal admin keys wrap) or remove them if nobody made them",
            self.state_gauges.kms_plain_keys.clone(),
        );
    }

    pub fn kms_healthy(&self, healthy: bool) {
        self.kms_healthy.set(i64::from(healthy));
    }

    /// Refreshes the state gauges from the watches' caches.
    fn refresh_state(&self) {
        let Some(state) = self.state.get() else {
            return;
        };
        let gauges = &self.state_gauges;
        let keys = state.keys();
        for family in [
            &gauges.key_created,
            &gauges.key_expiry,
            &gauges.key_sealing,
            &gauges.key_activation,
            &gauges.key_sealed_secrets,
        ] {
            family.clear();
        }
        gauges.failing.clear();
        gauges.kms_keys.clear();
        let mut kms_keys: HashMap<&str, i64> = HashMap::new();
        for key in &keys {
            if let Some(kek) = &key.kms_key_id {
                *kms_keys.entry(kek.as_str()).or_default() += 1;
            }
        }
        for (kek, count) in kms_keys {
            gauges
                .kms_keys
                .get_or_create(&KmsKeyLabels {
                    kms_key_id: kek.to_string(),
                })
                .set(count);
        }
        gauges
            .kms_plain_keys
            .set(keys.iter().filter(|k| k.kms_key_id.is_none()).count() as i64);
        let mut opened: HashMap<&str, i64> = HashMap::new();
        let mut failing: HashMap<String, i64> = HashMap::new();
        let mut not_newest = 0;
        let sealing = keys
            .iter()
            .find(|k| k.sealing)
            .map(|k| k.fingerprint.as_str());
        let conditions =
            self.conditions_from_state.load(Ordering::Relaxed) && !self.omit_secret_labels;
        if conditions {
            self.condition_info.clear();
        }
        state.sealed_secrets(&mut |sealed| {
            if let Some(key) = sealed.key {
                // A series per known key, never one per value found in a status.
                if let Some(known) = keys.iter().find(|k| k.fingerprint == key) {
                    *opened.entry(known.fingerprint.as_str()).or_default() += 1;
                }
                if sealing.is_some_and(|s| s != key) {
                    not_newest += 1;
                }
            }
            if let Some(reason) = sealed.failing {
                *failing
                    .entry(bounded_reason(reason).to_string())
                    .or_default() += 1;
            }
            if let (true, Some(synced)) = (conditions, sealed.synced) {
                self.condition_info
                    .get_or_create(&ConditionLabels {
                        namespace: sealed.namespace.into(),
                        name: sealed.name.into(),
                        condition: "Synced".into(),
                        ss_app_kubernetes_io_instance: sealed.instance.into(),
                    })
                    .set(if synced { 1 } else { -1 });
            }
        });
        for key in &keys {
            let labels = KeyLabels {
                fingerprint: key.fingerprint.clone(),
            };
            gauges
                .key_created
                .get_or_create(&labels)
                .set(unix_seconds(key.created));
            gauges
                .key_expiry
                .get_or_create(&labels)
                .set(unix_seconds(key.expires));
            gauges
                .key_sealing
                .get_or_create(&labels)
                .set(i64::from(key.sealing));
            if let Some(at) = key.activates {
                gauges
                    .key_activation
                    .get_or_create(&labels)
                    .set(unix_seconds(at));
            }
            gauges
                .key_sealed_secrets
                .get_or_create(&labels)
                .set(opened.get(key.fingerprint.as_str()).copied().unwrap_or(0));
        }
        gauges.not_newest_key.set(not_newest);
        for (reason, count) in failing {
            gauges
                .failing
                .get_or_create(&ReasonLabels { reason })
                .set(count);
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

    /// Sets the `Synced` condition of a SealedSecret: 1 true, -1 false
    /// (without statuses; with, the cached statuses say it).
    pub fn condition(&self, namespace: &str, name: &str, instance: &str, synced: bool) {
        if self.omit_secret_labels || self.conditions_from_state.load(Ordering::Relaxed) {
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
            self.refresh_state();
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

/// A reason as a label value: the controller's own CamelCase reasons pass;
/// anything else written into a status by someone else counts as `Other`,
/// so a status can never make new series.
fn bounded_reason(reason: &str) -> &str {
    crate::reason::ALL
        .into_iter()
        .chain(["Unknown"])
        .find(|k| *k == reason)
        .unwrap_or("Other")
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

    /// Name, Synced, failing reason, key.
    type Row = (String, Option<bool>, Option<String>, Option<String>);

    struct Fixed {
        keys: Vec<KeyState>,
        sealed: Vec<Row>,
    }

    impl ClusterState for Fixed {
        fn keys(&self) -> Vec<KeyState> {
            self.keys.clone()
        }
        fn sealed_secrets(&self, each: &mut dyn FnMut(SealedState<'_>)) {
            for (name, synced, failing, key) in &self.sealed {
                each(SealedState {
                    namespace: "apps",
                    name,
                    instance: "",
                    synced: *synced,
                    failing: failing.as_deref(),
                    key: key.as_deref(),
                });
            }
        }
    }

    fn value(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
            .and_then(|l| l.rsplit(' ').next()?.parse().ok())
    }

    /// Keys, re-encryption candidates and failures come from the cached
    /// state, a series per key or reason, never per value found in a status.
    #[test]
    fn state_gauges_come_from_the_cluster_state() {
        let at = |s: u64| SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(s);
        let key = |fp: &str, created: u64, sealing: bool| KeyState {
            fingerprint: fp.into(),
            created: at(created),
            expires: at(created + 100),
            sealing,
            kms_key_id: None,
            activates: None,
        };
        let sealed =
            |name: &str, synced: Option<bool>, failing: Option<&str>, key: Option<&str>| {
                (
                    name.to_string(),
                    synced,
                    failing.map(str::to_string),
                    key.map(str::to_string),
                )
            };
        let metrics = Metrics::default();
        metrics.observe_state(
            Arc::new(Fixed {
                keys: vec![
                    key("SHA256:new", 2000, true),
                    key("SHA256:old", 1000, false),
                    // Newer, but waiting for its activation time.
                    KeyState {
                        activates: Some(at(3000)),
                        ..key("SHA256:next", 2500, false)
                    },
                ],
                sealed: vec![
                    sealed("a", Some(true), None, Some("SHA256:new")),
                    sealed("b", Some(true), None, Some("SHA256:old")),
                    sealed("c", Some(false), Some("DecryptFailed"), None),
                    sealed(
                        "d",
                        Some(false),
                        Some("made up by someone"),
                        Some("SHA256:forged"),
                    ),
                    sealed("e", None, None, None),
                ],
            }),
            true,
        );
        metrics.key_schedule(std::time::Duration::from_secs(3600), Some(at(1500)));
        let text = metrics.render();
        let p = "sealed_secrets_controller_";
        assert_eq!(
            value(
                &text,
                &format!(r#"{p}key_created_timestamp_seconds{{fingerprint="SHA256:old"}}"#)
            ),
            Some(1000.0)
        );
        assert_eq!(
            value(
                &text,
                &format!(r#"{p}key_expiry_timestamp_seconds{{fingerprint="SHA256:new"}}"#)
            ),
            Some(2100.0)
        );
        assert_eq!(
            value(
                &text,
                &format!(r#"{p}key_sealing{{fingerprint="SHA256:new"}}"#)
            ),
            Some(1.0)
        );
        assert_eq!(
            value(
                &text,
                &format!(r#"{p}key_sealing{{fingerprint="SHA256:old"}}"#)
            ),
            Some(0.0)
        );
        assert_eq!(
            value(
                &text,
                &format!(r#"{p}key_activation_timestamp_seconds{{fingerprint="SHA256:next"}}"#)
            ),
            Some(3000.0)
        );
        assert_eq!(
            value(
                &text,
                &format!(r#"{p}key_activation_timestamp_seconds{{fingerprint="SHA256:old"}}"#)
            ),
            None,
            "a key without activate-at has no series"
        );
        assert_eq!(
            value(
                &text,
                &format!(r#"{p}key_sealedsecrets{{fingerprint="SHA256:old"}}"#)
            ),
            Some(1.0)
        );
        assert_eq!(
            value(&text, &format!("{p}sealedsecrets_not_newest_key")),
            Some(2.0)
        );
        assert_eq!(
            value(
                &text,
                &format!(r#"{p}sealedsecrets_failing{{reason="DecryptFailed"}}"#)
            ),
            Some(1.0)
        );
        assert_eq!(
            value(
                &text,
                &format!(r#"{p}sealedsecrets_failing{{reason="Other"}}"#)
            ),
            Some(1.0)
        );
        assert_eq!(
            value(&text, &format!("{p}key_cutoff_timestamp_seconds")),
            Some(1500.0)
        );
        assert!(
            !text.contains("SHA256:forged") && !text.contains("made up"),
            "{text}"
        );
        let conditions = condition_lines(&metrics);
        assert_eq!(
            conditions.len(),
            4,
            "no series without a Synced condition: {conditions:?}"
        );
        assert!(conditions
            .iter()
            .any(|l| l.contains(r#"name="c""#) && l.ends_with(" -1")));
        // Pushed conditions are ignored: the statuses say it.
        metrics.condition("apps", "zz", "", true);
        assert_eq!(condition_lines(&metrics).len(), 4);
    }
}
