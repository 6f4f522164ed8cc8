//! The Helm chart's dashboard (`charts/sealed-secrets/dashboards/*.json`) and
//! default alerts (`metrics.prometheusRule.groups` in its `values.yaml`), and
//! the reference chart's (users may have copied them), query metrics and
//! labels this controller serves, as `Metrics::render` writes them.
//!
//! Here rather than in the chart's tests (`tests/tests/helm_chart.rs`) so the
//! e2e crate need not link the controller. The reference chart is read from
//! `$SEALED_SECRETS_REF_SRC`, the module copy `scripts/install-tools ref`
//! makes, or the Go module cache; without it that part is skipped, unless
//! `REQUIRE_REFERENCE=1`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use sealed_secrets_controller::metrics::{
    ClusterState, ErrorReason, KeyState, Metrics, SealedState,
};
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("controller/ has a parent")
        .to_path_buf()
}

/// A cluster with one key and one failing SealedSecret.
struct OneOfEach;

impl ClusterState for OneOfEach {
    fn keys(&self) -> Vec<KeyState> {
        vec![KeyState {
            fingerprint: "SHA256:k".into(),
            created: SystemTime::now(),
            expires: SystemTime::now(),
            sealing: true,
            kms_key_id: None,
            activates: Some(SystemTime::now()),
        }]
    }

    fn sealed_secrets(&self, each: &mut dyn FnMut(SealedState<'_>)) {
        each(SealedState {
            namespace: "apps",
            name: "db",
            instance: "my-app",
            synced: Some(false),
            failing: Some("DecryptFailed"),
            key: Some("SHA256:k"),
        });
    }
}

/// Metric name -> its label names, every series made to exist first.
fn served() -> BTreeMap<String, BTreeSet<String>> {
    let metrics = Metrics::new(false);
    metrics.observe_state(Arc::new(OneOfEach), true);
    metrics.key_schedule(Duration::from_secs(3600), Some(SystemTime::now()));
    metrics.unseal_request();
    metrics.unseal_error(ErrorReason::Unseal, "apps");
    metrics.http_request("/v1/cert.pem", "GET", 200, Instant::now());
    let mut served: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in metrics.render().lines().filter(|l| !l.starts_with('#')) {
        let name_end = line.find(['{', ' ']).unwrap_or(line.len());
        let labels = served.entry(line[..name_end].to_string()).or_default();
        if let Some(rest) = line[name_end..].strip_prefix('{') {
            for pair in rest.split('}').next().unwrap_or_default().split(',') {
                if let Some((k, _)) = pair.split_once('=') {
                    labels.insert(k.to_string());
                }
            }
        }
    }
    served
}

/// Labels Prometheus adds to every scraped series (ServiceMonitor targets).
const TARGET_LABELS: [&str; 7] = [
    "pod",
    "namespace",
    "instance",
    "job",
    "service",
    "endpoint",
    "container",
];

/// PromQL strings of a dashboard (`expr`, `definition`, string `query`; a
/// data source variable's `query` is a plugin type, not PromQL).
fn dashboard_queries(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) if map.get("type") == Some(&Value::from("datasource")) => {}
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("expr" | "definition" | "query", Value::String(q)) => out.push(q.clone()),
                    _ => dashboard_queries(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| dashboard_queries(i, out)),
        _ => {}
    }
}

fn dashboards(chart: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(chart.join("dashboards")).expect("dashboards/") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).expect("read dashboard");
            let json: Value = serde_json::from_str(&text).expect("dashboard JSON");
            dashboard_queries(&json, &mut out);
        }
    }
    out
}

fn default_alerts(chart: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(chart.join("values.yaml")).expect("values.yaml");
    let values: Value = serde_yaml::from_str(&text).expect("values.yaml is YAML");
    values["metrics"]["prometheusRule"]["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
        .filter_map(|r| r["expr"].as_str().map(String::from))
        .collect()
}

/// Every `sealed_secrets_controller_*` metric a query names is served, and
/// every label it matches or groups by is that metric's or Prometheus'.
/// Queries naming none of ours are skipped (the reference's dashboard also
/// queries kube-state-metrics); returns how many were checked.
fn check(queries: &[String], served: &BTreeMap<String, BTreeSet<String>>) -> usize {
    let mut checked = 0;
    for q in queries
        .iter()
        .filter(|q| q.contains("sealed_secrets_controller_"))
    {
        let mut labels: BTreeSet<String> = TARGET_LABELS.iter().map(|l| l.to_string()).collect();
        labels.insert("le".into());
        for (at, _) in q.match_indices("sealed_secrets_controller_") {
            let name: String = q[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let own = served
                .get(&name)
                .unwrap_or_else(|| panic!("{q}: the controller serves no {name}"));
            labels.extend(own.iter().cloned());
        }
        let mut used = Vec::new();
        for (at, _) in q.match_indices('{') {
            let inner = q[at + 1..].split('}').next().unwrap_or_default();
            used.extend(inner.split(',').filter_map(|m| {
                let key = m.split(['=', '!']).next()?.trim();
                (!key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                    .then(|| key.to_string())
            }));
        }
        for (at, _) in q.match_indices("by (") {
            let inner = q[at + 4..].split(')').next().unwrap_or_default();
            used.extend(inner.split(',').map(|l| l.trim().to_string()));
        }
        for label in used {
            assert!(
                labels.contains(&label),
                "{q}: no label {label:?} on its metrics"
            );
        }
        checked += 1;
    }
    checked
}

#[test]
fn our_chart_queries_served_metrics() {
    let served = served();
    for name in [
        "sealed_secrets_controller_unseal_requests_total",
        "sealed_secrets_controller_unseal_errors_total",
        "sealed_secrets_controller_condition_info",
        "sealed_secrets_controller_http_requests_total",
        "sealed_secrets_controller_http_request_duration_seconds_bucket",
        "sealed_secrets_controller_build_info",
    ] {
        assert!(served.contains_key(name), "{name} in {served:?}");
    }
    let chart = repo().join("charts/sealed-secrets");
    let dashboard = dashboards(&chart);
    assert_eq!(
        check(&dashboard, &served),
        dashboard.len(),
        "every query is ours"
    );
    assert!(dashboard.len() >= 8, "{dashboard:?}");
    let alerts = default_alerts(&chart);
    assert_eq!(check(&alerts, &served), alerts.len());
    assert!(!alerts.is_empty());
}

/// The checker catches a wrong metric name and a wrong label.
#[test]
fn the_check_catches_mistakes() {
    let served = served();
    for bad in [
        "sum(rate(sealed_secrets_controller_unseal_request_total[5m]))",
        "sum by (secret) (sealed_secrets_controller_unseal_errors_total)",
        "sealed_secrets_controller_condition_info{kind=\"Synced\"}",
    ] {
        let caught = std::panic::catch_unwind(|| check(&[bad.to_string()], &served));
        assert!(caught.is_err(), "{bad} passed");
    }
}

/// The reference chart: `helm/sealed-secrets` of the reference module.
fn reference_chart() -> Option<PathBuf> {
    let versions = std::fs::read_to_string(repo().join("scripts/versions.env")).unwrap_or_default();
    let pinned = |key: &str| {
        versions
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .map(|v| v.trim().to_string())
    };
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(dir) = std::env::var_os("SEALED_SECRETS_REF_SRC") {
        candidates.push(dir.into());
    }
    if let (Some(module), Some(version)) = (
        pinned("SEALED_SECRETS_REF_MODULE"),
        pinned("SEALED_SECRETS_REF_VERSION"),
    ) {
        let cache = std::env::var_os("SEALED_SECRETS_CACHE")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/sealed-secrets-rs"))
            });
        if let Some(cache) = cache {
            candidates.push(cache.join(format!("control-plane/work/sealed-secrets-{version}")));
        }
        let gomodcache = std::env::var_os("GOMODCACHE")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join("go/pkg/mod")));
        if let Some(cache) = gomodcache {
            candidates.push(cache.join(format!("{module}@{version}")));
        }
    }
    let found = candidates
        .into_iter()
        .map(|d| d.join("helm/sealed-secrets"))
        .find(|c| c.join("dashboards").is_dir());
    if found.is_none() {
        assert!(
            std::env::var("REQUIRE_REFERENCE").as_deref() != Ok("1"),
            "REQUIRE_REFERENCE=1 but the reference chart was not found (scripts/install-tools ref)"
        );
        eprintln!("SKIPPED: the reference chart was not found (scripts/install-tools ref)");
    }
    found
}

#[test]
fn the_reference_charts_queries_find_our_metrics() {
    let Some(chart) = reference_chart() else {
        return;
    };
    let served = served();
    assert!(check(&dashboards(&chart), &served) >= 2);
    assert!(check(&default_alerts(&chart), &served) >= 1);
}
