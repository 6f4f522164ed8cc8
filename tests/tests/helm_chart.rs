//! The Helm chart (`charts/sealed-secrets`) without a cluster, with both
//! `helm3` and `helm4`: `helm lint --strict`; golden renders of every values
//! file in `tests/fixtures/helm/values/`; a typo in a values file is an error
//! (`values.schema.json`); the objects are wired together (selectors, port
//! names); the controller parses every flag the chart passes. The comparison
//! with the reference chart is in `helm_reference.rs`; that the dashboard and
//! alerts query metrics the controller serves, in
//! `controller/tests/chart_metrics.rs`.
//!
//! After changing the chart, regenerate the golden files and review the diff:
//!
//! ```sh
//! UPDATE_GOLDEN=1 cargo test -p sealed-secrets-e2e --test helm_chart
//! ```
//!
//! Skips when `scripts/install-tools helm` has not built Helm, unless
//! `REQUIRE_REFERENCE=1`.

use std::collections::BTreeSet;
use std::path::Path;

use sealed_secrets_e2e::helm::{
    documents, fixtures, identity, normalize, our_chart, reference_chart, Helm, CASES,
};
use serde_json::Value;

fn update_golden() -> bool {
    std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| !v.is_empty() && v != "0")
}

/// A unified diff of two texts (`diff -u`), for failure messages.
fn diff(expected: &str, actual: &str) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let (a, b) = (dir.path().join("golden"), dir.path().join("rendered"));
    std::fs::write(&a, expected).expect("write");
    std::fs::write(&b, actual).expect("write");
    match std::process::Command::new("diff")
        .arg("-u")
        .args([&a, &b])
        .output()
    {
        Ok(out) => String::from_utf8_lossy(&out.stdout).into_owned(),
        Err(_) => {
            let line = expected
                .lines()
                .zip(actual.lines())
                .position(|(x, y)| x != y)
                .unwrap_or(0);
            format!("(no diff program) first difference at line {}", line + 1)
        }
    }
}

#[test]
fn lint_strict_with_every_values_file() {
    let Some(helms) = Helm::all() else { return };
    let chart = our_chart();
    for helm in &helms {
        let out = helm
            .run(["lint", "--strict", &chart.to_string_lossy()])
            .unwrap_or_else(|e| panic!("{}: {e}", helm.name()));
        assert!(out.contains("0 chart(s) failed"), "{}: {out}", helm.name());
        for case in CASES {
            let values = case.values_path();
            helm.run([
                "lint",
                "--strict",
                "--namespace",
                case.namespace,
                "--values",
                &values.to_string_lossy(),
                &chart.to_string_lossy(),
            ])
            .unwrap_or_else(|e| panic!("{} lint with {}: {e}", helm.name(), case.values));
        }
    }
}

#[test]
fn renders_match_the_golden_files() {
    let Some(helms) = Helm::all() else { return };
    let chart = our_chart();
    let mut failures = Vec::new();
    for case in CASES {
        let golden = case.golden_path();
        for (i, helm) in helms.iter().enumerate() {
            let rendered = case
                .render(helm, &chart, &[])
                .unwrap_or_else(|e| panic!("{} {}: {e}", helm.name(), case.values));
            let rendered = normalize(&rendered);
            if update_golden() && i == 0 {
                std::fs::create_dir_all(golden.parent().expect("golden dir")).expect("mkdir");
                std::fs::write(&golden, &rendered).expect("write golden");
                eprintln!("wrote {}", golden.display());
                continue;
            }
            let expected = std::fs::read_to_string(&golden).unwrap_or_default();
            if expected != rendered {
                failures.push(format!(
                    "{} with {}.yaml differs from {}:\n{}",
                    helm.name(),
                    case.values,
                    golden.display(),
                    diff(&expected, &rendered)
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{}\nIf the change is intended: UPDATE_GOLDEN=1 cargo test -p sealed-secrets-e2e --test helm_chart",
        failures.join("\n")
    );
}

/// No values file without a case, no golden file without a values file.
#[test]
fn every_fixture_is_rendered() {
    let stems = |dir: &str| -> BTreeSet<String> {
        std::fs::read_dir(fixtures().join(dir))
            .expect("fixtures dir")
            .flatten()
            .filter_map(|e| {
                e.file_name()
                    .to_str()?
                    .strip_suffix(".yaml")
                    .map(String::from)
            })
            .collect()
    };
    let cases: BTreeSet<String> = CASES.iter().map(|c| c.values.to_string()).collect();
    assert_eq!(
        stems("values"),
        cases,
        "tests/fixtures/helm/values vs CASES"
    );
    assert_eq!(
        stems("golden"),
        cases,
        "tests/fixtures/helm/golden vs CASES"
    );
}

/// values.schema.json refuses unknown keys (at the top and in the objects the
/// chart defines) and wrong types. The reference chart has no schema and
/// silently ignores such a typo: a deliberate difference.
#[test]
fn a_typo_in_values_is_an_error() {
    let Some(helms) = Helm::all() else { return };
    let chart = our_chart();
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = [
        ("secretNmae: my-keys\n", "secretNmae"),
        ("ingress:\n  enable: true\n", "enable"),
        (
            "metrics:\n  serviceMonitor:\n    enabeld: true\n",
            "enabeld",
        ),
        ("rbac:\n  serviceProxier:\n    binds: false\n", "binds"),
        ("rateLimit: [1]\n", "rateLimit"),
        ("privateKeyLabels:\n  tier: 1\n", "privateKeyLabels"),
        ("image:\n  pullPolicy: Sometimes\n", "pullPolicy"),
        ("hostUsers: \"no\"\n", "hostUsers"),
        ("service:\n  type: Headless\n", "type"),
        ("kms:\n  plugin:\n    imagee: {}\n", "imagee"),
        ("kms:\n  socketDir: var/run/kms\n", "socketDir"),
    ];
    for (i, (values, key)) in bad.iter().enumerate() {
        let path = dir.path().join(format!("bad-{i}.yaml"));
        std::fs::write(&path, values).expect("write values");
        for helm in &helms {
            let err = match helm.template("sealed-secrets", "kube-system", &chart, &[&path], &[]) {
                Ok(_) => panic!("{}: {values:?} was accepted", helm.name()),
                Err(e) => e.to_string(),
            };
            assert!(
                err.contains("values don't meet the specifications of the schema")
                    && err.contains(key),
                "{}: {values:?}: {err}",
                helm.name()
            );
            let lint = helm.run([
                "lint",
                "--strict",
                "--values",
                &path.to_string_lossy(),
                &chart.to_string_lossy(),
            ]);
            assert!(lint.is_err(), "{}: lint accepted {values:?}", helm.name());
        }
    }
    // The reference renders the first typo as if it were not there.
    if let Some(reference) = reference_chart() {
        let path = dir.path().join("bad-0.yaml");
        helms[0]
            .template("sealed-secrets", "kube-system", &reference, &[&path], &[])
            .expect("the reference chart ignores unknown keys");
    }
}

fn objects(helm: &Helm, case: &sealed_secrets_e2e::helm::Case) -> Vec<Value> {
    let out = case
        .render(helm, &our_chart(), &[])
        .unwrap_or_else(|e| panic!("{} {}: {e}", helm.name(), case.values));
    documents(&out).expect("rendered YAML")
}

/// `labels` (a map) holds every pair of `selector`.
fn selects(selector: &Value, labels: &Value) -> bool {
    selector
        .as_object()
        .is_some_and(|s| !s.is_empty() && s.iter().all(|(k, v)| &labels[k] == v))
}

/// The objects fit together in every case: the Services, PDB and
/// NetworkPolicy select the Deployment's Pods, the Services' target ports are
/// the container's port names, and the ServiceMonitor selects the metrics
/// Service's labels, port and namespace.
#[test]
fn objects_are_wired_together() {
    let Some(helms) = Helm::all() else { return };
    for case in CASES {
        let objects = objects(&helms[0], case);
        let find = |kind: &'static str| objects.iter().filter(move |o| o["kind"] == kind);
        let Some(deployment) = find("Deployment").next() else {
            assert_eq!(
                case.values, "minimal",
                "only minimal.yaml has no controller"
            );
            continue;
        };
        let pod = &deployment["spec"]["template"];
        let pod_labels = &pod["metadata"]["labels"];
        assert!(selects(
            &deployment["spec"]["selector"]["matchLabels"],
            pod_labels
        ));
        let container = &pod["spec"]["containers"][0];
        assert_eq!(container["name"], "controller", "{}", case.values);
        let port_names: BTreeSet<&str> = container["ports"]
            .as_array()
            .expect("ports")
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert_eq!(port_names, BTreeSet::from(["http", "metrics"]));
        for svc in find("Service") {
            assert!(selects(&svc["spec"]["selector"], pod_labels), "{svc}");
            for port in svc["spec"]["ports"].as_array().expect("ports") {
                let target = port["targetPort"].as_str().expect("named target port");
                assert!(port_names.contains(target), "{}: {port}", case.values);
            }
        }
        for pdb in find("PodDisruptionBudget") {
            assert!(selects(&pdb["spec"]["selector"]["matchLabels"], pod_labels));
        }
        for np in find("NetworkPolicy") {
            assert!(selects(
                &np["spec"]["podSelector"]["matchLabels"],
                pod_labels
            ));
        }
        for sm in find("ServiceMonitor") {
            let spec = &sm["spec"];
            let svc = find("Service")
                .find(|s| selects(&spec["selector"]["matchLabels"], &s["metadata"]["labels"]))
                .unwrap_or_else(|| panic!("no Service matches the ServiceMonitor: {spec}"));
            assert!(svc["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.ends_with("-metrics")));
            assert_eq!(
                spec["endpoints"][0]["port"],
                svc["spec"]["ports"][0]["name"]
            );
            assert_eq!(
                spec["namespaceSelector"]["matchNames"][0],
                svc["metadata"]["namespace"]
            );
        }
        let sa = pod["spec"]["serviceAccountName"].as_str().expect("SA");
        for binding in find("ClusterRoleBinding").chain(find("RoleBinding")) {
            let subjects = binding["subjects"].as_array().expect("subjects");
            if binding["roleRef"]["name"]
                .as_str()
                .is_some_and(|n| !n.ends_with("-service-proxier"))
            {
                assert!(
                    subjects.iter().any(|s| s["name"] == sa),
                    "{}: {binding}",
                    case.values
                );
            }
        }
    }
}

/// Runs the controller binary with `args` and `--version=true`: it parses
/// every flag (clap, before anything else) and stops; the error otherwise.
fn controller_parses(args: &[Value]) -> Result<(), String> {
    let binary = sealed_secrets_e2e::binaries::binaries()
        .map_err(|e| e.to_string())?
        .join("sealed-secrets-controller");
    let mut cmd = std::process::Command::new(binary);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("SEALED_SECRETS_") {
            cmd.env_remove(&key);
        }
    }
    cmd.args(args.iter().map(|a| a.as_str().expect("string args")))
        .arg("--version=true");
    let out = cmd.output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn container_args(objects: &[Value]) -> Option<Vec<Value>> {
    let deployment = objects.iter().find(|o| o["kind"] == "Deployment")?;
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["command"], serde_json::json!(["controller"]));
    Some(container["args"].as_array().cloned().unwrap_or_default())
}

/// The controller takes every flag the chart passes, with every values file
/// and a few single values (and the reference chart's flags too: its
/// Deployment with our image is the first step of an upgrade).
#[test]
fn the_controller_takes_the_flags() {
    let Some(helms) = Helm::all() else { return };
    let mut renders: Vec<(String, String)> = CASES
        .iter()
        .map(|c| {
            let out = c.render(&helms[0], &our_chart(), &[]).expect("render");
            (c.values.to_string(), out)
        })
        .collect();
    for set in [
        "kubeClientQPS=-1",
        "keyrenewperiod=0",
        "updateStatus=false",
        "clusterName=oslo",
        "keyActivationDelay=72h",
    ] {
        let out = helms[0]
            .template("r", "ns", &our_chart(), &[], &["--set", set])
            .expect("render");
        if set.starts_with("keyActivationDelay") {
            let args = container_args(&documents(&out).expect("YAML")).expect("args");
            let at = args.iter().position(|a| a == "--key-activation-delay");
            assert_eq!(
                at.and_then(|i| args.get(i + 1)),
                Some(&Value::from("72h")),
                "{args:?}"
            );
        }
        renders.push((set.to_string(), out));
    }
    if let Some(reference) = reference_chart() {
        for case in CASES.iter().filter(|c| c.values != "ingress-secrets") {
            let out = case.render(&helms[0], &reference, &[]).expect("render");
            renders.push((format!("reference {}", case.values), out));
        }
    }
    let mut parsed = 0;
    for (what, out) in renders {
        let Some(args) = container_args(&documents(&out).expect("YAML")) else {
            continue;
        };
        controller_parses(&args).unwrap_or_else(|e| panic!("{what}: {args:?}: {e}"));
        parsed += 1;
    }
    assert!(parsed >= 10, "{parsed}");
    // And a flag it does not know fails (the check is real).
    let bad = [Value::from("--key-prefixx"), Value::from("x")];
    assert!(controller_parses(&bad).is_err());
}

/// clusterName (ours) passes --cluster-name after the other flags, also after
/// a custom `args` (the web page is turned on there); unset, no values file
/// renders it; a name the controller would refuse is refused at render time.
#[test]
fn cluster_name_passes_the_flag() {
    let Some(helms) = Helm::all() else { return };
    for helm in &helms {
        for (set, want) in [
            ("clusterName=oslo", &["--cluster-name", "oslo"][..]),
            (
                "clusterName=prod-eu_1,args={--web-ui}",
                &["--web-ui", "--cluster-name", "prod-eu_1"][..],
            ),
        ] {
            let out = helm
                .template("r", "ns", &our_chart(), &[], &["--set", set])
                .unwrap_or_else(|e| panic!("{}: {set}: {e}", helm.name()));
            let args = container_args(&documents(&out).expect("YAML")).expect("a Deployment");
            let args: Vec<&str> = args.iter().filter_map(Value::as_str).collect();
            assert_eq!(args[args.len() - want.len()..], *want, "{set}: {args:?}");
        }
        for bad in ["a.b", "-x", "a/b", &"a".repeat(64)] {
            let set = format!("clusterName={bad}");
            let err = helm
                .template("r", "ns", &our_chart(), &[], &["--set", &set])
                .expect_err(&set)
                .to_string();
            assert!(err.contains("clusterName"), "{}: {set}: {err}", helm.name());
        }
    }
    for case in CASES {
        let out = case.render(&helms[0], &our_chart(), &[]).expect("render");
        assert!(!out.contains("--cluster-name"), "{}", case.values);
    }
}

/// The dashboard ConfigMap holds the dashboard file as it is, under the
/// reference's name and key; the PrometheusRule holds the default groups.
#[test]
fn dashboard_and_alerts_are_rendered_as_given() {
    let Some(helms) = Helm::all() else { return };
    let values = fixtures().join("values").join("everything.yaml");
    let file = our_chart().join("dashboards/sealed-secrets-controller.json");
    let dashboard: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("JSON");
    let text = std::fs::read_to_string(our_chart().join("values.yaml")).expect("values.yaml");
    let defaults: Value = serde_yaml::from_str(&text).expect("YAML");
    for helm in &helms {
        let out = helm
            .template("r", "ns", &our_chart(), &[&values], &[])
            .expect("render");
        let objects = documents(&out).expect("YAML");
        let cm = objects
            .iter()
            .find(|o| identity(o).2 == "r-sealed-secrets-sealed-secrets-controller")
            .expect("the dashboard ConfigMap, named <fullname>-<file> as the reference's");
        assert_eq!(cm["kind"], "ConfigMap");
        let data = cm["data"]["sealed-secrets-controller.json"]
            .as_str()
            .expect("the file's name as key");
        let rendered: Value = serde_json::from_str(data).expect("JSON");
        assert_eq!(rendered, dashboard);
        let rule = objects
            .iter()
            .find(|o| o["kind"] == "PrometheusRule")
            .expect("PrometheusRule");
        assert_eq!(
            rule["spec"]["groups"],
            defaults["metrics"]["prometheusRule"]["groups"]
        );
    }
}

/// ingress.selfSigned makes a CA and a certificate for ingress.hostname (random,
/// so not in a golden file), in the Secret the Ingress's TLS names.
#[test]
fn self_signed_ingress_certificate() {
    let Some(helms) = Helm::all() else { return };
    let set = "ingress.enabled=true,ingress.tls=true,ingress.selfSigned=true,ingress.hostname=ss.example.com";
    for helm in &helms {
        let out = helm
            .template("r", "ns", &our_chart(), &[], &["--set", set])
            .expect("render");
        let objects = documents(&out).expect("YAML");
        let secret = objects
            .iter()
            .find(|o| o["kind"] == "Secret")
            .expect("a TLS Secret");
        assert_eq!(secret["metadata"]["name"], "ss.example.com-tls");
        assert_eq!(secret["type"], "kubernetes.io/tls");
        for key in ["tls.crt", "tls.key", "ca.crt"] {
            assert!(
                secret["data"][key].as_str().is_some_and(|v| v.len() > 100),
                "{key}"
            );
        }
        let ingress = objects
            .iter()
            .find(|o| o["kind"] == "Ingress")
            .expect("Ingress");
        assert_eq!(
            ingress["spec"]["tls"],
            serde_json::json!([{"hosts": ["ss.example.com"], "secretName": "ss.example.com-tls"}])
        );
    }
}

/// The dashboard is our own JSON: a Grafana dashboard whose panels all query
/// the Prometheus data source variable.
#[test]
fn the_dashboard_is_grafana_json() {
    let path = Path::new(&our_chart()).join("dashboards/sealed-secrets-controller.json");
    let text = std::fs::read_to_string(&path).expect("dashboard");
    let dashboard: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(dashboard["title"], "Sealed Secrets Controller");
    let panels = dashboard["panels"].as_array().expect("panels");
    assert!(panels.len() >= 6);
    let mut ids = BTreeSet::new();
    for panel in panels {
        assert!(ids.insert(panel["id"].as_i64().expect("id")), "unique ids");
        assert_eq!(panel["datasource"]["uid"], "${datasource}", "{panel}");
        assert!(!panel["targets"].as_array().expect("targets").is_empty());
    }
    // On Grafana's 24-column grid, no two panels overlap.
    let rect = |p: &Value| -> [i64; 4] {
        let g = &p["gridPos"];
        ["x", "y", "w", "h"].map(|k| g[k].as_i64().expect("gridPos"))
    };
    for (i, a) in panels.iter().enumerate() {
        let [ax, ay, aw, ah] = rect(a);
        assert!(ax + aw <= 24, "{}", a["title"]);
        for b in &panels[i + 1..] {
            let [bx, by, bw, bh] = rect(b);
            let apart = ax + aw <= bx || bx + bw <= ax || ay + ah <= by || by + bh <= ay;
            assert!(apart, "{} overlaps {}", a["title"], b["title"]);
        }
    }
}

/// The PromQL of the dashboard's panels (`targets[].expr`).
fn dashboard_exprs() -> Vec<String> {
    let path = Path::new(&our_chart()).join("dashboards/sealed-secrets-controller.json");
    let dashboard: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("dashboard")).expect("JSON");
    dashboard["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| t["expr"].as_str().map(String::from))
        .collect()
}

/// `(alert name, expr)` of the default rules (`metrics.prometheusRule.groups`).
fn default_alerts() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(our_chart().join("values.yaml")).expect("values.yaml");
    let values: Value = serde_yaml::from_str(&text).expect("YAML");
    values["metrics"]["prometheusRule"]["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
        .map(|r| {
            (
                r["alert"].as_str().expect("alert name").to_string(),
                r["expr"].as_str().expect("expr").to_string(),
            )
        })
        .collect()
}

/// State gauges: every replica serves the same value (computed from its watch
/// caches), so a query must take the max over Pods.
const STATE_GAUGES: [&str; 7] = [
    "sealed_secrets_controller_condition_info",
    "sealed_secrets_controller_key_created_timestamp_seconds",
    "sealed_secrets_controller_key_expiry_timestamp_seconds",
    "sealed_secrets_controller_key_sealing",
    "sealed_secrets_controller_key_sealedsecrets",
    "sealed_secrets_controller_sealedsecrets_not_newest_key",
    "sealed_secrets_controller_sealedsecrets_failing",
];

/// Whether `before` (the query up to a metric name) ends with a `max`
/// aggregation opening: `max(`, `max by (...) (` or `max without (...) (`.
fn ends_in_max(before: &str) -> bool {
    let Some(rest) = before.trim_end().strip_suffix('(') else {
        return false;
    };
    let mut rest = rest.trim_end();
    if let Some(inner) = rest.strip_suffix(')') {
        let Some(open) = inner.rfind('(') else {
            return false;
        };
        let clause = inner[..open].trim_end();
        let Some(clause) = clause
            .strip_suffix("by")
            .or_else(|| clause.strip_suffix("without"))
        else {
            return false;
        };
        rest = clause.trim_end();
    }
    rest.strip_suffix("max")
        .is_some_and(|r| !r.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_'))
}

/// Queries naming a state gauge not straight inside a `max` aggregation.
fn not_max_over_pods(queries: &[String]) -> Vec<String> {
    let mut bad = Vec::new();
    for q in queries {
        for gauge in STATE_GAUGES {
            for (at, _) in q.match_indices(gauge) {
                let after = q[at + gauge.len()..].chars().next();
                if after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                    continue; // a longer name
                }
                if !ends_in_max(&q[..at]) {
                    bad.push(format!("{gauge} in {q}"));
                }
            }
        }
    }
    bad
}

/// With two replicas a ServiceMonitor scrapes each Pod: the dashboard and the
/// default alerts take the max over Pods of every state gauge (one alert per
/// SealedSecret, key or reason, not one per Pod), and use the key and failure
/// metrics. The PromQL itself was checked with promtool on two-replica data
/// (see the comments next to the rules in values.yaml).
#[test]
fn dashboard_and_alerts_fit_two_replicas() {
    let dashboard = dashboard_exprs();
    let alerts = default_alerts();
    let alert_exprs: Vec<String> = alerts.iter().map(|(_, e)| e.clone()).collect();
    assert_eq!(not_max_over_pods(&dashboard), Vec::<String>::new());
    assert_eq!(not_max_over_pods(&alert_exprs), Vec::<String>::new());

    // Every key and failure metric is on the dashboard.
    for metric in &STATE_GAUGES[1..] {
        assert!(
            dashboard.iter().any(|q| q.contains(metric)),
            "the dashboard does not query {metric}"
        );
    }
    // The failure and key-age metrics have alerts (key_sealedsecrets and
    // sealedsecrets_not_newest_key are information, not alerts).
    for (alert, metrics) in [
        (
            "SealedSecretsFailing",
            &["sealed_secrets_controller_sealedsecrets_failing"][..],
        ),
        (
            "SealedSecretsSealingKeyNotRenewed",
            &["sealed_secrets_controller_key_created_timestamp_seconds"][..],
        ),
        (
            "SealedSecretsSealingKeyCertificateExpiring",
            &[
                "sealed_secrets_controller_key_expiry_timestamp_seconds",
                "sealed_secrets_controller_key_sealing",
            ][..],
        ),
        (
            "SealedSecretsControllerNotReady",
            &["sealed_secrets_controller_condition_info"][..],
        ),
        (
            "SealedSecretsUnsealErrors",
            &["sealed_secrets_controller_unseal_errors_total"][..],
        ),
    ] {
        let (_, expr) = alerts
            .iter()
            .find(|(name, _)| name == alert)
            .unwrap_or_else(|| panic!("no default alert {alert}"));
        for metric in metrics {
            assert!(
                expr.contains(metric),
                "{alert} does not use {metric}: {expr}"
            );
        }
    }

    // The check is real: the per-Pod forms are caught.
    for bad in [
        "sealed_secrets_controller_condition_info != 1",
        "count(sealed_secrets_controller_condition_info{condition=\"Synced\"} != 1)",
        "sum by (reason) (sealed_secrets_controller_sealedsecrets_failing) > 0",
        "time() - max(sealed_secrets_controller_key_created_timestamp_seconds * on(fingerprint) group_left sealed_secrets_controller_key_sealing == 1)",
        "maxx(sealed_secrets_controller_key_sealing)",
    ] {
        assert!(!not_max_over_pods(&[bad.to_string()]).is_empty(), "{bad}");
    }
    for good in [
        "max without (instance, pod) (sealed_secrets_controller_key_sealing)",
        "count(max by (namespace, name) (sealed_secrets_controller_condition_info{x=\"y\"}) != 1)",
    ] {
        assert!(not_max_over_pods(&[good.to_string()]).is_empty(), "{good}");
    }
}

/// The containers, volumes and controller args of the Deployment of `objects`.
fn pod_spec(objects: &[Value]) -> &Value {
    &objects
        .iter()
        .find(|o| o["kind"] == "Deployment")
        .expect("a Deployment")["spec"]["template"]["spec"]
}

/// kms.enabled (kms.yaml): the plugin runs as a second container; both mount
/// the in-memory emptyDir at kms.socketDir; the controller gets --kms-endpoint
/// (the socket in it) and --kms-timeout after its other flags (also after a
/// custom `args`); the plugin's args, env and extra volumes are rendered with
/// tpl. Every other values file renders no trace of it, and kms.enabled
/// without a plugin image, or with a socket path too long, is refused.
#[test]
fn kms_plugin_sidecar() {
    let Some(helms) = Helm::all() else { return };
    let kms = CASES.iter().find(|c| c.values == "kms").expect("kms case");
    for helm in &helms {
        for extra in [&[][..], &["--set", "args={--key-prefix,k}"][..]] {
            let out = kms
                .render(helm, &our_chart(), extra)
                .unwrap_or_else(|e| panic!("{}: {e}", helm.name()));
            let objects = documents(&out).expect("YAML");
            let spec = pod_spec(&objects);
            let containers = spec["containers"].as_array().expect("containers");
            assert_eq!(containers.len(), 2, "{}", helm.name());
            let (controller, plugin) = (&containers[0], &containers[1]);
            assert_eq!(controller["name"], "controller");
            assert_eq!(plugin["name"], "kms-plugin");
            let args: Vec<&str> = controller["args"]
                .as_array()
                .expect("args")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            assert_eq!(
                args[args.len() - 4..],
                [
                    "--kms-endpoint",
                    "unix:///var/run/kmsplugin/socket.sock",
                    "--kms-timeout",
                    "5s"
                ],
                "{} {extra:?}",
                helm.name()
            );
            if !extra.is_empty() {
                assert_eq!(args[..2], ["--key-prefix", "k"]);
            }
            let socket_mount =
                serde_json::json!({"name": "kms-socket", "mountPath": "/var/run/kmsplugin"});
            for c in [controller, plugin] {
                let mounts = c["volumeMounts"].as_array().expect("mounts");
                assert!(mounts.contains(&socket_mount), "{c}");
            }
            assert_eq!(
                plugin["image"],
                "ghcr.io/falcosuessgott/vault-kubernetes-kms:v1.4.0"
            );
            assert_eq!(
                plugin["args"][0],
                "-socket=unix:///var/run/kmsplugin/socket.sock"
            );
            assert_eq!(plugin["env"][0]["name"], "VAULT_KMS_HEALTH_PORT");
            assert_eq!(plugin["livenessProbe"]["httpGet"]["port"], 8090);
            assert_eq!(plugin["resources"]["limits"]["memory"], "128Mi");
            // The controller's user (the default): it can connect to the socket.
            assert_eq!(plugin["securityContext"]["runAsUser"], 1001);
            assert_eq!(plugin["securityContext"]["runAsNonRoot"], true);
            assert_eq!(plugin["volumeMounts"][1]["name"], "vault-token");
            assert!(!controller["volumeMounts"]
                .as_array()
                .expect("mounts")
                .iter()
                .any(|m| m["name"] == "vault-token"));
            let volumes = spec["volumes"].as_array().expect("volumes");
            assert!(volumes.contains(
                &serde_json::json!({"name": "kms-socket", "emptyDir": {"medium": "Memory"}})
            ));
            let token = volumes
                .iter()
                .find(|v| v["name"] == "vault-token")
                .expect("the plugin's extra volume");
            assert_eq!(
                token["projected"]["sources"][0]["serviceAccountToken"]["audience"],
                "vault-kms"
            );
        }
    }
    // Off: no sidecar, no socket, no flag, with every other values file.
    for case in CASES.iter().filter(|c| c.values != "kms") {
        let out = case.render(&helms[0], &our_chart(), &[]).expect("render");
        assert!(!out.contains("kms"), "{}", case.values);
    }
    // Refused: no image; a socket path longer than a unix socket address.
    let long = format!("kms.socketDir=/{}", "d".repeat(100));
    for (set, message) in [
        (
            "kms.enabled=true",
            "kms.enabled needs kms.plugin.image.repository",
        ),
        (
            "kms.enabled=true,kms.plugin.image.repository=p",
            "kms.enabled needs kms.plugin.image.tag or kms.plugin.image.digest",
        ),
        (
            &format!(
                "kms.enabled=true,kms.plugin.image.repository=p,kms.plugin.image.tag=1,{long}"
            ),
            "a unix socket path holds at most 107",
        ),
    ] {
        for helm in &helms {
            let err = helm
                .template("r", "ns", &our_chart(), &[], &["--set", set])
                .expect_err(set)
                .to_string();
            assert!(err.contains(message), "{}: {set}: {err}", helm.name());
        }
    }
    // A digest pins the image; the endpoint follows socketDir and socketName.
    let out = helms[0]
        .template(
            "r",
            "ns",
            &our_chart(),
            &[],
            &[
                "--set",
                "kms.enabled=true,kms.plugin.image.repository=p,kms.plugin.image.digest=sha256:ab,kms.socketDir=/run/kms/,kms.socketName=k.sock",
            ],
        )
        .expect("render");
    let objects = documents(&out).expect("YAML");
    let spec = pod_spec(&objects);
    assert_eq!(spec["containers"][1]["image"], "p@sha256:ab");
    let args = spec["containers"][0]["args"].as_array().expect("args");
    assert!(
        args.contains(&Value::from("unix:///run/kms/k.sock")),
        "{args:?}"
    );
    assert!(args.contains(&Value::from("3s")), "the default timeout");
}
