//! Our chart against the reference chart (`helm/sealed-secrets` 2.19.x of the
//! reference module), each rendered by helm3 and helm4 with the same values
//! files (`tests/fixtures/helm/values/`): the same objects (kinds, names,
//! namespaces, CRD included), labels, Deployment selector and Pod template
//! (container and port names, probes, security contexts, volumes), flags,
//! Services, RBAC object names and bindings, Ingress, PDB and ServiceMonitor.
//! Where we differ on purpose, the difference is spelt out and pinned here
//! (docs/helm.md lists them).
//!
//! Skips without Helm or the reference chart, unless `REQUIRE_REFERENCE=1`.

use std::collections::BTreeSet;
use std::path::Path;

use sealed_secrets_e2e::helm::{
    documents, identity, our_chart, reference_chart, Case, Helm, CASES, NOT_IN_THE_REFERENCE,
};
use serde_json::{json, Value};

/// Both Helms and the reference chart, or `None` (skip).
fn setup() -> Option<(Vec<Helm>, std::path::PathBuf)> {
    let helms = Helm::all()?;
    let reference = reference_chart()?;
    Some((helms, reference))
}

fn render(helm: &Helm, case: &Case, chart: &Path, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["--include-crds"];
    args.extend(extra);
    let out = case
        .render(helm, chart, &args)
        .unwrap_or_else(|e| panic!("{} {} ({}): {e}", helm.name(), case.values, chart.display()));
    documents(&out).expect("rendered YAML")
}

/// Ours rendered with the reference's single-replica layout (one replica, no
/// leader election, no PDB unless the values file asks for one), so the rest
/// compares like for like; `deliberate_differences` pins the HA defaults.
fn render_ours_as_reference(helm: &Helm, case: &Case, extra: &[&str]) -> Vec<Value> {
    let values = our_chart()
        .join("../../tests/fixtures/helm/values")
        .join(format!("{}.yaml", case.values));
    let asks_for_pdb = std::fs::read_to_string(values).is_ok_and(|t| t.contains("\npdb:"));
    let single = if asks_for_pdb {
        "replicaCount=1,leaderElection.enabled=false"
    } else {
        "replicaCount=1,leaderElection.enabled=false,pdb.create=false"
    };
    let mut args = vec!["--set", single];
    args.extend(extra);
    render(helm, case, &our_chart(), &args)
}

fn ids(objects: &[Value]) -> BTreeSet<(String, String, String)> {
    objects.iter().map(identity).collect()
}

/// `small` (a map, or null) is contained in `big`.
fn subset(small: &Value, big: &Value, skip: &[&str]) -> Result<(), String> {
    for (k, v) in small.as_object().into_iter().flatten() {
        if !skip.contains(&k.as_str()) && &big[k] != v {
            return Err(format!("{k}: {v} vs {}", big[k]));
        }
    }
    Ok(())
}

/// The flags the reference chart passes, as ours passes them: ours adds
/// `--update-status=false` where the reference passes nothing, and joins
/// `--privatekey-*` pairs sorted by key.
fn expected_args(theirs: &Value) -> Vec<String> {
    let theirs: Vec<String> = theirs
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a.as_str().map(String::from))
        .collect();
    let mut out = Vec::new();
    if !theirs.iter().any(|a| a == "--update-status") {
        out.push("--update-status=false".to_string());
    }
    let mut previous = String::new();
    for arg in theirs {
        let arg = if previous.starts_with("--privatekey-") {
            let mut pairs: Vec<&str> = arg.split(',').collect();
            pairs.sort();
            pairs.join(",")
        } else {
            arg
        };
        previous = arg.clone();
        out.push(arg);
    }
    out
}

/// An RBAC rule as sorted sets, to compare rules whatever the order.
fn rule_key(rule: &Value) -> Vec<Vec<String>> {
    ["apiGroups", "resources", "resourceNames", "verbs"]
        .iter()
        .map(|field| {
            let mut v: Vec<String> = rule[field]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s.as_str().map(String::from))
                .collect();
            v.sort();
            v
        })
        .collect()
}

/// The reference's rules as ours grants them: no `delete` on Secrets, no
/// rule on namespaces, and the key-admin Role may also `watch` Secrets.
fn expected_rules(theirs: &Value, key_admin: bool) -> BTreeSet<Vec<Vec<String>>> {
    let mut out = BTreeSet::new();
    for rule in theirs.as_array().into_iter().flatten() {
        let mut key = rule_key(rule);
        if key[1] == ["namespaces"] {
            continue;
        }
        if key[1] == ["secrets"] {
            key[3].retain(|v| v != "delete");
            if key_admin && key[2].is_empty() {
                key[3].push("watch".into());
                key[3].sort();
            }
        }
        out.insert(key);
    }
    out
}

fn without_empty_api_group(subjects: &Value) -> Value {
    let mut subjects = subjects.clone();
    for s in subjects.as_array_mut().into_iter().flatten() {
        if s["apiGroup"] == "" {
            s.as_object_mut().map(|m| m.remove("apiGroup"));
        }
    }
    subjects
}

/// The images the charts run by default.
const REFERENCE_IMAGE: &str = "docker.io/bitnami/sealed-secrets-controller:0.39.1";
const OUR_IMAGE: &str = "docker.io/sealed-secrets-rs/controller:0.1.0";

/// Where two values differ, as JSON pointers (the first few).
fn differences(a: &Value, b: &Value, path: String, out: &mut Vec<String>) {
    if out.len() >= 5 || a == b {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                differences(&a[k], &b[k], format!("{path}/{k}"), out);
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (x, y)) in x.iter().zip(y).enumerate() {
                differences(x, y, format!("{path}/{i}"), out);
            }
        }
        _ => out.push(format!("{path}: ours {a}, theirs {b}")),
    }
}

/// What must be the same in two objects of the same kind and name.
fn compare(ours: &Value, theirs: &Value, problems: &mut Vec<String>) {
    let (kind, _, name) = identity(ours);
    let mut check = |what: &str, ok: Result<(), String>| {
        if let Err(e) = ok {
            problems.push(format!("{kind} {name}: {what}: {e}"));
        }
    };
    let eq = |a: &Value, b: &Value| {
        let mut found = Vec::new();
        differences(a, b, String::new(), &mut found);
        if found.is_empty() {
            Ok(())
        } else {
            Err(found.join("; "))
        }
    };
    if kind == "CustomResourceDefinition" {
        // Its content is api/tests/crd.rs's business.
        return;
    }
    // Our labels and annotations hold theirs (the chart identity aside).
    let skip = ["helm.sh/chart", "app.kubernetes.io/version"];
    check(
        "labels",
        subset(
            &theirs["metadata"]["labels"],
            &ours["metadata"]["labels"],
            &skip,
        ),
    );
    check(
        "annotations",
        subset(
            &theirs["metadata"]["annotations"],
            &ours["metadata"]["annotations"],
            &[],
        ),
    );
    match kind.as_str() {
        "Deployment" => {
            let (mut o, mut t) = (ours["spec"].clone(), theirs["spec"].clone());
            let (oc, tc) = (
                &mut o["template"]["spec"]["containers"][0],
                &mut t["template"]["spec"]["containers"][0],
            );
            let ours_args = oc["args"].take();
            let their_args = tc["args"].take();
            check("args", eq(&ours_args, &json!(expected_args(&their_args))));
            // The reference sets Go runtime variables from resources.limits;
            // the Rust controller has none.
            check("env", eq(&oc["env"].take(), &Value::Null));
            // Their default image is theirs; a values file's image is the same.
            let their_image = match tc["image"].take() {
                Value::String(i) if i == REFERENCE_IMAGE => json!(OUR_IMAGE),
                other => other,
            };
            check("image", eq(&oc["image"].take(), &their_image));
            let their_env: Vec<Value> = tc["env"].take().as_array().cloned().unwrap_or_default();
            for e in their_env {
                check(
                    "reference env",
                    match e["name"].as_str() {
                        Some("GOMAXPROCS" | "GOMEMLIMIT") => Ok(()),
                        other => Err(format!("unexpected {other:?}")),
                    },
                );
            }
            check("spec", eq(&o, &t));
        }
        "Service" | "Ingress" | "PodDisruptionBudget" | "ServiceMonitor" => {
            check("spec", eq(&ours["spec"], &theirs["spec"]))
        }
        "ClusterRoleBinding" | "RoleBinding" => {
            check("roleRef", eq(&ours["roleRef"], &theirs["roleRef"]));
            check(
                "subjects",
                eq(
                    &without_empty_api_group(&ours["subjects"]),
                    &without_empty_api_group(&theirs["subjects"]),
                ),
            );
        }
        "ClusterRole" | "Role" => {
            let ours_rules: BTreeSet<_> = ours["rules"]
                .as_array()
                .into_iter()
                .flatten()
                .map(rule_key)
                .collect();
            let expected = expected_rules(&theirs["rules"], name.ends_with("-key-admin"));
            check("rules", eq(&json!(ours_rules), &json!(expected)));
        }
        "NetworkPolicy" => {
            for field in ["podSelector", "egress"] {
                check(field, eq(&ours["spec"][field], &theirs["spec"][field]));
            }
            // The Pod's ports by name; the reference lists the Services' port
            // numbers, which are not the Pod's when they differ.
            check(
                "ingress",
                eq(
                    &ours["spec"]["ingress"],
                    &json!([{"ports": [{"port": "http"}, {"port": "metrics"}]}]),
                ),
            );
        }
        "ConfigMap" | "Secret" => {
            let keys = |o: &Value| -> Vec<String> {
                o["data"]
                    .as_object()
                    .map(|d| d.keys().cloned().collect())
                    .unwrap_or_default()
            };
            check("data keys", eq(&json!(keys(ours)), &json!(keys(theirs))));
            check("type", eq(&ours["type"], &theirs["type"]));
        }
        // Our own default alerts: the same groups by name.
        "PrometheusRule" => {
            let names = |o: &Value| -> Vec<Value> {
                o["spec"]["groups"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|g| g["name"].clone())
                    .collect()
            };
            check(
                "group names",
                eq(&json!(names(ours)), &json!(names(theirs))),
            );
        }
        // CRD: its content is api/tests/crd.rs's; ServiceAccount: metadata only.
        _ => {}
    }
}

#[test]
fn same_objects_as_the_reference() {
    let Some((helms, reference)) = setup() else {
        return;
    };
    let mut problems = Vec::new();
    let mut compared = 0;
    for case in CASES
        .iter()
        .filter(|c| c.values != "ingress-secrets" && !NOT_IN_THE_REFERENCE.contains(&c.values))
    {
        for helm in &helms {
            let ours = render_ours_as_reference(helm, case, &[]);
            let theirs = render(helm, case, &reference, &[]);
            assert_eq!(
                ids(&ours),
                ids(&theirs),
                "{} {}: the same objects",
                helm.name(),
                case.values
            );
            for o in &ours {
                let t = theirs
                    .iter()
                    .find(|t| identity(t) == identity(o))
                    .expect("same identities");
                let before = problems.len();
                compare(o, t, &mut problems);
                for p in &mut problems[before..] {
                    *p = format!("{} {}: {p}", helm.name(), case.values);
                }
                compared += 1;
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(compared > 100, "compared {compared} objects");
}

/// Single values over the defaults, beyond the values files: each renders
/// the same objects as the reference, compared as above (one Helm: the
/// golden test shows both render the same).
#[test]
fn same_as_the_reference_with_single_values() {
    let Some((helms, reference)) = setup() else {
        return;
    };
    let variants = [
        "networkPolicy.enabled=true,networkPolicy.egress.enabled=true",
        "hostNetwork=true,dnsPolicy=ClusterFirstWithHostNet",
        "hostPorts.http=18080",
        "ingress.enabled=true,ingress.apiVersion=networking.k8s.io/v1beta1",
        "ingress.enabled=true,kubeVersion=1.17.0,ingress.ingressClassName=nginx",
        "ingress.enabled=true,global.kubeVersion=1.18.5,ingress.hostname=",
        "ingress.enabled=true,ingress.tls=true",
        "serviceAccount.create=false",
        "serviceAccount.name=custom-sa",
        "rbac.create=false",
        "rbac.clusterRole=false",
        "rbac.serviceProxier.create=false",
        "service.type=LoadBalancer,service.loadBalancerClass=lb,service.nodePort=30001",
        "metrics.service.type=NodePort,metrics.service.nodePort=30002",
        "podSecurityContext.enabled=false,containerSecurityContext.enabled=false",
        "livenessProbe.enabled=false,readinessProbe.enabled=false",
        "startupProbe.enabled=true",
        "keyrenewperiod=0,maxRetries=3,rateLimit=1",
        "pdb.create=true",
        "pdb.create=true,pdb.minAvailable=50%",
        "createController=false",
        "containerPorts.http=9090,service.port=80",
        "namespace=elsewhere",
        "fullnameOverride=a-very-long-name-that-goes-on-and-on-and-on-past-sixty-three-characters",
        "metrics.serviceMonitor.enabled=true,metrics.serviceMonitor.honorLabels=false",
        "metrics.dashboards.create=true",
    ];
    let defaults = CASES
        .iter()
        .find(|c| c.values == "defaults")
        .expect("defaults");
    let mut problems = Vec::new();
    for set in variants {
        let ours = render_ours_as_reference(&helms[0], defaults, &["--set", set]);
        let theirs = render(&helms[0], defaults, &reference, &["--set", set]);
        assert_eq!(ids(&ours), ids(&theirs), "--set {set}: the same objects");
        for o in &ours {
            let t = theirs
                .iter()
                .find(|t| identity(t) == identity(o))
                .expect("same identities");
            let before = problems.len();
            compare(o, t, &mut problems);
            for p in &mut problems[before..] {
                *p = format!("--set {set}: {p}");
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The reference's values.yaml is a valid values file for our chart, and
/// every key in it is in ours with the same default, but the image (ours)
/// and the PrometheusRule's alert groups (ours, for our metrics).
#[test]
fn reference_values_keys_and_defaults() {
    let Some((helms, reference)) = setup() else {
        return;
    };
    let load = |dir: &Path| -> Value {
        let text = std::fs::read_to_string(dir.join("values.yaml")).expect("values.yaml");
        serde_yaml::from_str(&text).expect("values.yaml is YAML")
    };
    let (ours, theirs) = (load(&our_chart()), load(&reference));
    let differ = [
        "/image/repository",
        "/image/tag",
        "/pdb/create",
        "/metrics/prometheusRule/groups",
    ];
    fn leaves(v: &Value, path: String, out: &mut Vec<(String, Value)>) {
        match v {
            Value::Object(map) if !map.is_empty() => {
                for (k, v) in map {
                    leaves(v, format!("{path}/{k}"), out);
                }
            }
            _ => out.push((path, v.clone())),
        }
    }
    let mut theirs_leaves = Vec::new();
    leaves(&theirs, String::new(), &mut theirs_leaves);
    assert!(theirs_leaves.len() > 100, "{}", theirs_leaves.len());
    for (path, value) in theirs_leaves {
        let mine = ours.pointer(&path);
        assert!(mine.is_some(), "{path} is missing from our values.yaml");
        if !differ.contains(&path.as_str()) {
            assert_eq!(mine, Some(&value), "default of {path}");
        }
    }
    assert_eq!(
        ours["image"],
        json!({"registry": "docker.io", "repository": "sealed-secrets-rs/controller",
               "tag": "0.1.0", "digest": "", "pullPolicy": "IfNotPresent", "pullSecrets": []}),
        "our image, as manifests/deployment.yaml"
    );
    let values = reference.join("values.yaml");
    for helm in &helms {
        helm.template(
            "sealed-secrets",
            "kube-system",
            &our_chart(),
            &[&values],
            &[],
        )
        .unwrap_or_else(|e| panic!("{}: the reference's values.yaml: {e}", helm.name()));
    }
}

fn case(values: &'static str) -> &'static Case {
    CASES
        .iter()
        .find(|c| c.values == values)
        .expect("a case of that name")
}

fn container(objects: &[Value]) -> Value {
    objects
        .iter()
        .find(|o| o["kind"] == "Deployment")
        .map(|d| d["spec"]["template"]["spec"]["containers"][0].clone())
        .expect("a Deployment")
}

/// Each deliberate difference, pinned both ways.
#[test]
fn deliberate_differences() {
    let Some((helms, reference)) = setup() else {
        return;
    };
    let defaults = case("defaults");
    for helm in &helms {
        let both = |extra: &[&str]| {
            (
                render(helm, defaults, &our_chart(), extra),
                render(helm, defaults, &reference, extra),
            )
        };
        // ingress.secrets: the reference fails on its own template.
        let broken = case("ingress-secrets").render(helm, &reference, &[]);
        let message = broken
            .expect_err("the reference renders ingress.secrets")
            .to_string();
        assert!(
            message.contains("nil pointer evaluating interface {}.commonLabels"),
            "{message}"
        );
        let ours = render(helm, case("ingress-secrets"), &our_chart(), &[]);
        assert!(ours.iter().any(|o| o["kind"] == "Secret"
            && o["metadata"]["name"] == "sealed.example.com-tls"
            && o["data"]["tls.crt"].is_string()));

        // updateStatus: false reaches the controller.
        let (ours, theirs) = both(&["--set", "updateStatus=false"]);
        let args = |o: &[Value]| container(o)["args"].as_array().cloned().unwrap_or_default();
        assert_eq!(args(&ours)[0], "--update-status=false");
        assert!(!args(&theirs)
            .iter()
            .any(|a| a.as_str().is_some_and(|a| a.contains("update-status"))));

        // rbac.pspEnabled: only where the cluster serves PodSecurityPolicy.
        let psp_ids = |o: &[Value]| -> BTreeSet<(String, String, String)> {
            o.iter()
                .map(identity)
                .filter(|(k, _, n)| k == "PodSecurityPolicy" || n.ends_with("-psp"))
                .collect()
        };
        let (ours, theirs) = both(&["--set", "rbac.pspEnabled=true"]);
        assert_eq!(
            psp_ids(&theirs).len(),
            3,
            "the reference renders PSP objects anyway"
        );
        assert!(
            psp_ids(&ours).is_empty(),
            "no PodSecurityPolicy API, no PSP objects"
        );
        let with_psp = [
            "--set",
            "rbac.pspEnabled=true",
            "--api-versions",
            "policy/v1beta1/PodSecurityPolicy",
        ];
        let (ours, theirs) = both(&with_psp);
        assert_eq!(psp_ids(&ours), psp_ids(&theirs));

        // Kubernetes 1.21 or later (policy/v1, networking.k8s.io/v1).
        let old = defaults.render(helm, &our_chart(), &["--kube-version", "1.20.0"]);
        assert!(old
            .expect_err("1.20 refused")
            .to_string()
            .contains(">=1.21.0-0"));
        defaults
            .render(helm, &reference, &["--kube-version", "1.20.0"])
            .expect("the reference takes 1.20");

        // image.digest (ours only) pins the image.
        let (ours, theirs) = both(&["--set", "image.digest=sha256:0123"]);
        assert_eq!(
            container(&ours)["image"],
            "docker.io/sealed-secrets-rs/controller@sha256:0123"
        );
        assert_eq!(
            container(&theirs)["image"],
            "docker.io/bitnami/sealed-secrets-controller:0.39.1"
        );

        // High availability: two replicas electing a leader on a Lease named
        // like the objects, its Role, and a PDB; the reference runs one.
        let (ours, theirs) = both(&[]);
        let deployment = |o: &[Value]| {
            o.iter()
                .find(|d| d["kind"] == "Deployment")
                .cloned()
                .expect("Deployment")
        };
        assert_eq!(deployment(&ours)["spec"]["replicas"], 2);
        assert_eq!(deployment(&theirs)["spec"]["replicas"], 1);
        let ours_args: Vec<String> = args(&ours)
            .iter()
            .filter_map(|a| a.as_str().map(str::to_string))
            .collect();
        let lease_flag = ours_args
            .iter()
            .position(|a| a == "--leader-elect-resource-name")
            .expect("--leader-elect-resource-name");
        assert!(ours_args.contains(&"--leader-elect".to_string()));
        assert_eq!(ours_args[lease_flag + 1], "sealed-secrets");
        let role = ours
            .iter()
            .find(|o| {
                o["kind"] == "Role" && o["metadata"]["name"] == "sealed-secrets-leader-election"
            })
            .expect("the Lease Role");
        assert_eq!(role["rules"][0]["resourceNames"], json!(["sealed-secrets"]));
        assert!(ours.iter().any(|o| o["kind"] == "PodDisruptionBudget"));
        assert!(!theirs.iter().any(|o| o["kind"] == "PodDisruptionBudget"));
        let refused = defaults.render(
            helm,
            &our_chart(),
            &["--set", "leaderElection.enabled=false"],
        );
        assert!(refused
            .expect_err("two replicas without election")
            .to_string()
            .contains("replicaCount > 1 needs leaderElection.enabled"));

        // No Go runtime variables from resources.limits.
        let (ours, theirs) = both(&[
            "--set",
            "resources.limits.cpu=1,resources.limits.memory=128Mi",
        ]);
        assert!(container(&ours)["env"].is_null());
        assert_eq!(container(&theirs)["env"].as_array().map(Vec::len), Some(2));
    }
}
