//! The HTTP API and metrics against the reference v0.40.0 as oracle: the
//! same requests to our controller and to the reference binary (run in turn
//! on one namespace and one key), the same status codes, rate limit and
//! metric labels; the deliberate differences pinned (a body over 10 MiB is
//! 413, `/v1/rotate` keeps `spec.template`).
//!
//! Without the reference binary the reference half prints `SKIPPED: ...`
//! and our half still runs against the expected table; `REQUIRE_REFERENCE=1`
//! turns absence into a failure.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use sealed_secrets_e2e::binaries::reference_controller;
use sealed_secrets_e2e::controller::{without_long_lines, Controller, ControllerOptions};
use sealed_secrets_e2e::http::{call, Reply, Send};
use sealed_secrets_e2e::kubeseal::{kubeseal, succeeded};
use sealed_secrets_e2e::status::wait_synced_true;
use sealed_secrets_e2e::{poll, ControlPlane, TestNamespace};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(60);
const TICK: Duration = Duration::from_millis(250);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Ours,
    Reference,
}

fn start(cp: &ControlPlane, ns: &TestNamespace, who: Who, extra: &[&str]) -> Controller {
    let options = ControllerOptions::for_namespace(ns).args(extra.iter().copied());
    match who {
        Who::Ours => options.start(cp).expect("our controller starts"),
        Who::Reference => options
            .binary(reference_controller(cp).expect("the callers check it is there"))
            .in_cluster()
            .start(cp)
            .expect("reference controller starts"),
    }
}

fn cert_file(controller: &Controller, dir: &tempfile::TempDir) -> String {
    let (code, pem) = controller.get("/v1/cert.pem").expect("GET /v1/cert.pem");
    assert_eq!(code, 200, "{pem}");
    let path = dir.path().join("cert.pem");
    std::fs::write(&path, pem).expect("write cert");
    path.to_string_lossy().into_owned()
}

/// A SealedSecret (JSON) of `name` in `ns` with items `a` and `b`.
fn seal(cp: &ControlPlane, cert: &str, ns: &str, name: &str, labels: &str) -> Value {
    let yaml = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: {ns}\n  labels: {{{labels}}}\nstringData:\n  a: one\n  b: two\n"
    );
    let out = kubeseal(cp, &["--cert", cert, "-o", "json"], &yaml).expect("kubeseal runs");
    serde_json::from_str(&succeeded(&out)).expect("sealed JSON")
}

fn json(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).expect("json")
}

fn yaml(v: &Value) -> Vec<u8> {
    serde_yaml::to_string(v).expect("yaml").into_bytes()
}

/// The requests, and the status both controllers answer (ours, reference).
/// What, method, path, body, our status, the reference's status.
type Case = (&'static str, &'static str, &'static str, Vec<u8>, u16, u16);

fn cases(sealed: &Value) -> Vec<Case> {
    let with = |f: &dyn Fn(&mut Value)| {
        let mut v = sealed.clone();
        f(&mut v);
        json(&v)
    };
    let renamed = with(&|v| v["metadata"]["name"] = "other".into());
    let unnamespaced = with(&|v| {
        v["metadata"].as_object_mut().unwrap().remove("namespace");
    });
    let bad_item = with(&|v| v["spec"]["encryptedData"]["b"] = "!!not base64!!".into());
    let both_fields = with(&|v| v["spec"]["data"] = "AAAA".into());
    let secret =
        br#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db"},"data":{"a":"b25l"}}"#
            .to_vec();
    let list = with(&|v| v["kind"] = "SealedSecretList".into());
    let wrong_version = with(&|v| v["apiVersion"] = "bitnami.com/v1".into());
    let two_docs = [yaml(sealed), b"---\n".to_vec(), yaml(sealed)].concat();
    vec![
        (
            "verify: opens",
            "POST",
            "/v1/verify",
            json(sealed),
            200,
            200,
        ),
        ("verify: YAML", "POST", "/v1/verify", yaml(sealed), 200, 200),
        (
            "verify: renamed",
            "POST",
            "/v1/verify",
            renamed.clone(),
            409,
            409,
        ),
        (
            "verify: no namespace",
            "POST",
            "/v1/verify",
            unnamespaced,
            409,
            409,
        ),
        (
            "verify: an item not base64",
            "POST",
            "/v1/verify",
            bad_item,
            409,
            409,
        ),
        (
            "verify: data and encryptedData",
            "POST",
            "/v1/verify",
            both_fields,
            409,
            409,
        ),
        ("verify: empty", "POST", "/v1/verify", Vec::new(), 500, 500),
        // The reference's multi-document check panics on this body (a
        // gopkg.in/yaml.v2 bug) and the connection closes unanswered (0).
        (
            "verify: not JSON",
            "POST",
            "/v1/verify",
            b"{not json".to_vec(),
            500,
            0,
        ),
        (
            "verify: a JSON array",
            "POST",
            "/v1/verify",
            b"[]".to_vec(),
            500,
            500,
        ),
        (
            "rotate: not JSON",
            "POST",
            "/v1/rotate",
            b"{not json".to_vec(),
            500,
            500,
        ),
        (
            "verify: a Secret",
            "POST",
            "/v1/verify",
            secret.clone(),
            500,
            500,
        ),
        ("verify: a list", "POST", "/v1/verify", list, 500, 500),
        (
            "verify: another version",
            "POST",
            "/v1/verify",
            wrong_version,
            500,
            500,
        ),
        (
            "verify: two YAML documents",
            "POST",
            "/v1/verify",
            two_docs.clone(),
            500,
            500,
        ),
        ("verify: GET", "GET", "/v1/verify", Vec::new(), 500, 500),
        (
            "verify: PUT opens",
            "PUT",
            "/v1/verify",
            json(sealed),
            200,
            200,
        ),
        (
            "rotate: opens",
            "POST",
            "/v1/rotate",
            json(sealed),
            200,
            200,
        ),
        ("rotate: renamed", "POST", "/v1/rotate", renamed, 500, 500),
        ("rotate: empty", "POST", "/v1/rotate", Vec::new(), 500, 500),
        ("rotate: a Secret", "POST", "/v1/rotate", secret, 500, 500),
        (
            "rotate: two YAML documents",
            "POST",
            "/v1/rotate",
            two_docs,
            200,
            200,
        ),
        ("rotate: GET", "GET", "/v1/rotate", Vec::new(), 500, 500),
        ("cert: POST", "POST", "/v1/cert.pem", Vec::new(), 200, 200),
        ("unknown path", "GET", "/v1/nothing", Vec::new(), 404, 404),
        // Deliberate: ours caps bodies at 10 MiB; the reference reads any size.
        (
            "verify: 11 MiB",
            "POST",
            "/v1/verify",
            vec![b' '; 11 << 20],
            413,
            500,
        ),
    ]
}

/// Status codes of every case, each from its own client address so the rate
/// limit never interferes; plus a body cut short (400 in both).
fn status_codes(controller: &Controller, sealed: &Value) -> Vec<(String, u16)> {
    let mut codes: Vec<(String, u16)> = cases(sealed)
        .into_iter()
        .enumerate()
        .map(|(i, (what, method, path, body, _, _))| {
            let client = format!("10.0.0.{i}");
            let reply = call(
                method,
                &controller.url(path),
                Some(&client),
                Send::Body(&body),
            )
            .expect("request");
            (what.to_string(), reply.code)
        })
        .collect();
    for path in ["/v1/verify", "/v1/rotate"] {
        let reply = call(
            "POST",
            &controller.url(path),
            Some(&format!("10.0.1.{}", path.len())),
            Send::CutShort {
                declared: 1000,
                sent: b"{\"apiVersion\"",
            },
        )
        .expect("request");
        codes.push((format!("{path}: cut short"), reply.code));
    }
    codes
}

fn expected(sealed: &Value, who: Who) -> Vec<(String, u16)> {
    let mut codes: Vec<(String, u16)> = cases(sealed)
        .into_iter()
        .map(|(what, _, _, _, ours, reference)| {
            (
                what.to_string(),
                if who == Who::Ours { ours } else { reference },
            )
        })
        .collect();
    codes.push(("/v1/verify: cut short".into(), 400));
    codes.push(("/v1/rotate: cut short".into(), 400));
    codes
}

/// Sends requests from one client address until one is refused; the codes.
/// Retries with a new address when the machine was too slow to fit them in
/// one emission interval.
fn burst(
    controller: &Controller,
    path: &str,
    forwarded: &dyn Fn(usize) -> Option<String>,
    interval: Duration,
) -> (Vec<u16>, Reply) {
    for attempt in 0..4 {
        let started = Instant::now();
        let client = forwarded(attempt);
        let mut codes = Vec::new();
        let last = loop {
            let reply = call(
                "POST",
                &controller.url(path),
                client.as_deref(),
                Send::Body(b""),
            )
            .expect("request");
            codes.push(reply.code);
            if reply.code == 429 || codes.len() > 8 {
                break reply;
            }
        };
        if started.elapsed() < interval {
            return (codes, last);
        }
        // Too slow: wait for the bucket to fill and try again.
        std::thread::sleep(interval * 4);
    }
    panic!("could not send a burst within {interval:?}");
}

/// The rate limit of the reference: `--rate-limit-burst` + 1 at once per
/// path and `X-Forwarded-For` value, whatever the TCP peer; 429 after.
fn rate_limit(controller: &Controller) -> Vec<String> {
    // --rate-limit=1: one request per second sustained.
    let interval = Duration::from_secs(1);
    let mut seen = Vec::new();
    let (codes, denied) = burst(
        controller,
        "/v1/verify",
        &|n| Some(format!("192.0.2.{n}")),
        interval,
    );
    seen.push(format!("one client: {codes:?}"));
    seen.push(format!(
        "denied: {} {:?} limit={:?} retry-after={:?}",
        denied.code,
        denied.body,
        denied.headers.get("x-ratelimit-limit"),
        denied.headers.contains_key("retry-after")
    ));
    // The same client on the other path, and another client: their own buckets.
    let other_path = call(
        "POST",
        &controller.url("/v1/rotate"),
        Some("192.0.2.0"),
        Send::Body(b""),
    )
    .expect("request");
    seen.push(format!("other path: {}", other_path.code));
    let other_client = call(
        "POST",
        &controller.url("/v1/verify"),
        Some("198.51.100.7"),
        Send::Body(b""),
    )
    .expect("request");
    seen.push(format!(
        "other client: {} remaining={:?}",
        other_client.code,
        other_client.headers.get("x-ratelimit-remaining")
    ));
    // No X-Forwarded-For: all such callers share one bucket.
    let (codes, _) = burst(controller, "/v1/rotate", &|_| None, interval);
    seen.push(format!("no header: {codes:?}"));
    seen
}

#[test]
fn http_api_answers_as_the_reference() {
    let cp = ControlPlane::shared().expect("control plane");
    let ns = TestNamespace::create(cp, "v040http").expect("namespace");
    let dir = tempfile::tempdir().expect("tempdir");
    let limits = ["--rate-limit=1", "--rate-limit-burst=2"];
    let ours = start(cp, &ns, Who::Ours, &limits);
    let cert = cert_file(&ours, &dir);
    let mut sealed = seal(cp, &cert, ns.name(), "db", "app: demo");
    sealed["spec"]["template"]["data"] = serde_json::json!({"url": "db://{{ .a }}"});

    let our_codes = status_codes(&ours, &sealed);
    assert_eq!(
        our_codes,
        expected(&sealed, Who::Ours),
        "log:\n{}",
        without_long_lines(&ours.log())
    );
    let our_limits = rate_limit(&ours);
    let expected_limits = [
        "one client: [500, 500, 500, 429]".to_string(),
        "denied: 429 \"limit exceeded\\n\" limit=Some(\"3\") retry-after=true".into(),
        "other path: 500".into(),
        "other client: 500 remaining=Some(\"2\")".into(),
        "no header: [500, 500, 500, 429]".into(),
    ];
    assert_eq!(our_limits, expected_limits);
    let our_rotated = call(
        "POST",
        &ours.url("/v1/rotate"),
        Some("203.0.113.1"),
        Send::Body(&json(&sealed)),
    )
    .expect("request");
    assert_eq!(our_rotated.code, 200, "{}", our_rotated.body);
    let our_rotated: Value = serde_json::from_str(&our_rotated.body).expect("rotated JSON");
    // Deliberate: ours keeps spec.template (README, compatibility notes).
    assert_eq!(our_rotated["spec"]["template"], sealed["spec"]["template"]);
    drop(ours);

    if reference_controller(cp).is_none() {
        return;
    }
    let reference = start(cp, &ns, Who::Reference, &limits);
    assert_eq!(
        status_codes(&reference, &sealed),
        expected(&sealed, Who::Reference),
        "log:\n{}",
        without_long_lines(&reference.log())
    );
    assert_eq!(rate_limit(&reference), expected_limits);
    let rotated = call(
        "POST",
        &reference.url("/v1/rotate"),
        Some("203.0.113.1"),
        Send::Body(&json(&sealed)),
    )
    .expect("request");
    assert_eq!(rotated.code, 200, "{}", rotated.body);
    let rotated: Value = serde_json::from_str(&rotated.body).expect("rotated JSON");
    assert!(
        rotated["spec"]["template"]["data"].is_null(),
        "the reference drops template.data on rotate: {rotated}"
    );
}

/// `condition_info` series: labels (sorted) and value.
fn conditions(metrics: &str) -> Vec<(BTreeMap<String, String>, String)> {
    metrics
        .lines()
        .filter_map(|l| l.strip_prefix("sealed_secrets_controller_condition_info{"))
        .filter_map(|rest| {
            let (labels, value) = rest.split_once("} ")?;
            let labels = labels
                .split("\",")
                .filter_map(|pair| pair.split_once("=\""))
                .map(|(k, v)| (k.to_string(), v.trim_end_matches('"').to_string()))
                .collect();
            Some((labels, value.trim().to_string()))
        })
        .collect()
}

fn http_methods(metrics: &str) -> Vec<String> {
    let mut methods: Vec<String> = metrics
        .lines()
        .filter(|l| l.starts_with("sealed_secrets_controller_http_requests_total{"))
        .filter_map(|l| {
            l.split("method=\"")
                .nth(1)?
                .split('"')
                .next()
                .map(str::to_string)
        })
        .collect();
    methods.sort();
    methods.dedup();
    methods
}

/// Applies a SealedSecret labelled `app.kubernetes.io/instance: rel-1`;
/// checks its `condition_info` series, the method label of odd methods, and
/// that the series goes when the SealedSecret does.
fn metrics_case(cp: &ControlPlane, ns: &TestNamespace, who: Who, name: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let controller = start(cp, ns, who, &[]);
    let cert = cert_file(&controller, &dir);
    let mut sealed = seal(cp, &cert, ns.name(), name, "app: demo");
    // The SealedSecret's own label (as Helm or Argo CD set it), not the template's.
    sealed["metadata"]["labels"] = serde_json::json!({"app.kubernetes.io/instance": "rel-1"});
    ns.kubectl()
        .apply(&serde_json::to_string(&sealed).expect("json"))
        .expect("apply");
    wait_synced_true(ns, name, &controller);
    let expected = BTreeMap::from(
        [
            ("namespace", ns.name()),
            ("name", name),
            ("condition", "Synced"),
            ("ss_app_kubernetes_io_instance", "rel-1"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    let series = poll("condition_info series", WAIT, TICK, || {
        let series = conditions(&controller.metrics()?);
        Ok((!series.is_empty()).then_some(series))
    })
    .unwrap_or_else(|e| panic!("{who:?}: {e}"));
    assert_eq!(series, [(expected, "1".to_string())], "{who:?}");

    for (i, method) in ["FOO", "BREW", "Get", "PATCH"].into_iter().enumerate() {
        call(
            method,
            &controller.url("/v1/verify"),
            Some(&format!("10.9.0.{i}")),
            Send::Body(b""),
        )
        .expect("request");
    }
    let methods = http_methods(&controller.metrics().expect("metrics"));
    assert_eq!(methods, ["get", "patch", "unknown"], "{who:?}");

    ns.kubectl()
        .run(["delete", "sealedsecret", name, "--wait=true"])
        .expect("delete");
    poll("condition_info series to go", WAIT, TICK, || {
        Ok(conditions(&controller.metrics()?).is_empty().then_some(()))
    })
    .unwrap_or_else(|e| panic!("{who:?}: {e}\n{}", controller.metrics().unwrap_or_default()));
}

#[test]
fn metrics_labels_and_lifetimes_as_the_reference() {
    let cp = ControlPlane::shared().expect("control plane");
    let ns = TestNamespace::create(cp, "v040metrics").expect("namespace");
    // `cert_file` of the first GET makes the get series; odd methods follow.
    metrics_case(cp, &ns, Who::Ours, "db");
    if reference_controller(cp).is_some() {
        metrics_case(cp, &ns, Who::Reference, "db2");
    }
}

#[test]
fn omit_secret_labels_exposes_no_condition_series() {
    let cp = ControlPlane::shared().expect("control plane");
    let ns = TestNamespace::create(cp, "v040omit").expect("namespace");
    let mut whos = vec![Who::Ours];
    if reference_controller(cp).is_some() {
        whos.push(Who::Reference);
    }
    for (i, who) in whos.into_iter().enumerate() {
        let dir = tempfile::tempdir().expect("tempdir");
        let controller = start(cp, &ns, who, &["--metrics-omit-secret-labels"]);
        let cert = cert_file(&controller, &dir);
        let name = format!("db{i}");
        let mut sealed = seal(cp, &cert, ns.name(), &name, "app: demo");
        sealed["metadata"]["labels"] = serde_json::json!({"app.kubernetes.io/instance": "rel-1"});
        ns.kubectl()
            .apply(&serde_json::to_string(&sealed).expect("json"))
            .expect("apply");
        wait_synced_true(&ns, &name, &controller);
        let metrics = controller.metrics().expect("metrics");
        assert!(
            metrics.contains("sealed_secrets_controller_unseal_requests_total"),
            "{who:?}: {metrics}"
        );
        assert!(conditions(&metrics).is_empty(), "{who:?}: {metrics}");
        assert!(!metrics.contains(&name), "{who:?}: {metrics}");
    }
}
