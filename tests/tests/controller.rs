//! The controller against a real kube-apiserver (+ kube-controller-manager):
//! every test runs its own controller scoped to its own namespace.

use std::time::Duration;

use sealed_secrets_e2e::controller::{Controller, ControllerOptions};
use sealed_secrets_e2e::http;
use sealed_secrets_e2e::kubeseal::{kubeseal, reference_kubeseal, succeeded};
use sealed_secrets_e2e::secrets::{secret_value, wait_secret_value};
use sealed_secrets_e2e::status::synced;
use sealed_secrets_e2e::{poll, ControlPlane, TestNamespace};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(60);
const TICK: Duration = Duration::from_millis(250);

fn setup(
    prefix: &str,
) -> (
    &'static ControlPlane,
    TestNamespace,
    Controller,
    tempfile::TempDir,
) {
    let cp = ControlPlane::shared().expect("control plane");
    let ns = TestNamespace::create(cp, prefix).expect("namespace");
    let controller = ControllerOptions::for_namespace(&ns)
        .start(cp)
        .expect("controller starts");
    let dir = tempfile::tempdir().expect("tempdir");
    (cp, ns, controller, dir)
}

fn cert_file(controller: &Controller, dir: &tempfile::TempDir) -> String {
    let (code, pem) = controller.get("/v1/cert.pem").expect("cert.pem");
    assert_eq!(code, 200);
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let path = dir.path().join(format!("cert-{}.pem", controller.pid()));
    std::fs::write(&path, pem).expect("write cert");
    path.to_string_lossy().into_owned()
}

fn secret_yaml(ns: &str, name: &str, items: &[(&str, &str)]) -> String {
    let type_ = if items.iter().any(|(k, _)| *k == "username") {
        "kubernetes.io/basic-auth"
    } else {
        "Opaque"
    };
    let mut y = format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: {ns}\n  labels: {{app: demo}}\n  annotations: {{team: platform}}\ntype: {type_}\nstringData:\n");
    for (k, v) in items {
        y.push_str(&format!("  {k}: {v}\n"));
    }
    y
}

fn seal(cp: &ControlPlane, cert: &str, yaml: &str, extra: &[&str]) -> String {
    let mut args = vec!["--cert", cert, "-o", "yaml"];
    args.extend_from_slice(extra);
    succeeded(&kubeseal(cp, &args, yaml).expect("kubeseal runs"))
}

/// Seals a Secret of `items` with `cert`, applies it and waits until it is
/// unsealed (the last item holds its value).
fn apply_and_wait(
    cp: &ControlPlane,
    ns: &TestNamespace,
    cert: &str,
    name: &str,
    items: &[(&str, &str)],
) {
    ns.kubectl()
        .apply(&seal(cp, cert, &secret_yaml(ns.name(), name, items), &[]))
        .expect("apply");
    if let Some((key, value)) = items.last() {
        wait_value(ns, name, key, value);
    }
}

fn wait_value(ns: &TestNamespace, name: &str, key: &str, expected: &str) {
    wait_secret_value(ns, name, key, expected).unwrap_or_else(|e| panic!("{e}"));
}

fn wait_synced(ns: &TestNamespace, name: &str, status: &str, message_contains: &str) -> Value {
    poll(
        &format!("{name} Synced={status} with {message_contains:?}"),
        WAIT,
        TICK,
        || {
            Ok(synced(ns, name)
                .filter(|(s, m, _)| s == status && m.contains(message_contains))
                .map(|(_, _, ss)| ss))
        },
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn events(ns: &TestNamespace, reason: &str) -> Vec<Value> {
    ns.kubectl()
        .get_json(["get", "events", "-o", "json"])
        .map(|v| v["items"].as_array().cloned().unwrap_or_default())
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e["reason"] == reason)
        .collect()
}

#[test]
fn seal_apply_unseal_update_recreate_and_collect() {
    let (cp, ns, controller, dir) = setup("unseal");
    let cert = cert_file(&controller, &dir);
    apply_and_wait(
        cp,
        &ns,
        &cert,
        "db",
        &[("username", "admin"), ("password", "hunter2")],
    );

    let secret = ns
        .kubectl()
        .get_json(["get", "secret", "db", "-o", "json"])
        .expect("secret");
    assert_eq!(secret["type"], "kubernetes.io/basic-auth");
    assert_eq!(secret["metadata"]["labels"]["app"], "demo");
    assert_eq!(secret["metadata"]["annotations"]["team"], "platform");
    let owner = &secret["metadata"]["ownerReferences"][0];
    assert_eq!(owner["kind"], "SealedSecret");
    assert_eq!(owner["apiVersion"], "bitnami.com/v1alpha1");
    assert_eq!(owner["controller"], true);
    let ss = wait_synced(&ns, "db", "True", "");
    assert_eq!(
        ss["status"]["observedGeneration"],
        ss["metadata"]["generation"]
    );
    let recorded = ss["status"]["keyFingerprint"].as_str().unwrap_or_default();
    assert!(
        recorded.starts_with("SHA256:"),
        "status records the key that unsealed it: {ss}"
    );
    assert_eq!(owner["uid"], ss["metadata"]["uid"]);
    let unsealed = poll("Unsealed event", WAIT, TICK, || {
        Ok(events(&ns, "Unsealed").into_iter().next())
    })
    .expect("event");
    // As the reference writes it: a core/v1 Event from component sealed-secrets.
    assert_eq!(unsealed["type"], "Normal", "{unsealed}");
    assert_eq!(
        unsealed["source"]["component"], "sealed-secrets",
        "{unsealed}"
    );
    assert_eq!(unsealed["involvedObject"]["kind"], "SealedSecret");
    assert_eq!(unsealed["involvedObject"]["name"], "db");
    assert_eq!(unsealed["involvedObject"]["uid"], ss["metadata"]["uid"]);
    assert_eq!(unsealed["message"], "SealedSecret unsealed successfully");

    // Update: a new value replaces the old one.
    apply_and_wait(
        cp,
        &ns,
        &cert,
        "db",
        &[("username", "admin"), ("password", "changed")],
    );

    // A deleted Secret comes back.
    ns.kubectl()
        .run(["delete", "secret", "db"])
        .expect("delete secret");
    wait_value(&ns, "db", "password", "changed");

    // Deleting the SealedSecret garbage-collects the Secret (kube-controller-manager).
    ns.kubectl()
        .run(["delete", "sealedsecret", "db"])
        .expect("delete sealedsecret");
    poll(
        "Secret to be garbage-collected",
        Duration::from_secs(90),
        TICK,
        || {
            Ok(ns
                .kubectl()
                .get_optional("secret", "db")?
                .is_none()
                .then_some(()))
        },
    )
    .expect("gc");
    drop(controller);
}

#[test]
fn scopes_are_enforced() {
    let (cp, ns, controller, dir) = setup("scopes");
    let cert = cert_file(&controller, &dir);
    let base = secret_yaml(ns.name(), "orig", &[("k", "v")]);
    // Namespace-wide: may be renamed within the namespace.
    let nsw = seal(cp, &cert, &base, &["--scope", "namespace-wide"])
        .replace("name: orig", "name: renamed-ns");
    // Cluster-wide: may be renamed too.
    let cw = seal(cp, &cert, &base, &["--scope", "cluster-wide"])
        .replace("name: orig", "name: renamed-cw");
    // Strict: renaming breaks it.
    let strict = seal(cp, &cert, &base, &[]).replace("name: orig", "name: renamed-strict");
    for doc in [&nsw, &cw, &strict] {
        ns.kubectl().apply(doc).expect("apply");
    }
    wait_value(&ns, "renamed-ns", "k", "v");
    wait_value(&ns, "renamed-cw", "k", "v");
    wait_synced(
        &ns,
        "renamed-strict",
        "False",
        "no key could decrypt secret",
    );
    assert!(ns
        .kubectl()
        .get_optional("secret", "renamed-strict")
        .expect("get")
        .is_none());
    poll("ErrUnsealFailed event", WAIT, TICK, || {
        Ok((!events(&ns, "ErrUnsealFailed").is_empty()).then_some(()))
    })
    .expect("event");
    drop(controller);
}

#[test]
fn existing_secrets_unmanaged_managed_and_patch() {
    let (cp, ns, controller, dir) = setup("owners");
    let cert = cert_file(&controller, &dir);
    let k = ns.kubectl();
    k.run([
        "create",
        "secret",
        "generic",
        "foreign",
        "--from-literal=k=original",
    ])
    .expect("foreign");
    k.run([
        "create",
        "secret",
        "generic",
        "managed",
        "--from-literal=k=original",
        "--from-literal=extra=x",
    ])
    .expect("managed");
    k.run([
        "annotate",
        "secret",
        "managed",
        "sealedsecrets.bitnami.com/managed=true",
    ])
    .expect("annotate");
    k.run([
        "create",
        "secret",
        "generic",
        "patched",
        "--from-literal=keep=yes",
        "--from-literal=k=original",
    ])
    .expect("patched");
    k.run([
        "annotate",
        "secret",
        "patched",
        "sealedsecrets.bitnami.com/patch=true",
    ])
    .expect("annotate");
    for name in ["foreign", "managed", "patched"] {
        let doc = seal(
            cp,
            &cert,
            &secret_yaml(ns.name(), name, &[("k", "sealed")]),
            &[],
        );
        k.apply(&doc).expect("apply");
    }
    wait_synced(
        &ns,
        "foreign",
        "False",
        "Resource \"foreign\" already exists and is not managed by SealedSecret",
    );
    assert_eq!(
        secret_value(&ns, "foreign", "k").as_deref(),
        Some("original"),
        "never touched"
    );

    wait_value(&ns, "managed", "k", "sealed");
    assert_eq!(
        secret_value(&ns, "managed", "extra"),
        None,
        "managed: replaced whole"
    );

    wait_value(&ns, "patched", "k", "sealed");
    assert_eq!(
        secret_value(&ns, "patched", "keep").as_deref(),
        Some("yes"),
        "patch: merged"
    );
    drop(controller);
}

#[test]
fn bad_input_is_reported_and_does_not_stop_others() {
    let (cp, ns, controller, dir) = setup("badinput");
    let cert = cert_file(&controller, &dir);
    // A value that must never show in logs, statuses or events: the good
    // object holds it, and a template that fails with it as its message.
    let good = seal(
        cp,
        &cert,
        &secret_yaml(ns.name(), "good", &[("k", "v"), ("p", "hunter2")]),
        &[],
    );
    let leaky = seal(
        cp,
        &cert,
        &secret_yaml(ns.name(), "leaky", &[("p", "hunter2")]),
        &[],
    )
    .replace(
        "  template:\n",
        "  template:\n    data:\n      shown: '{{ fail .p }}'\n",
    );
    assert!(leaky.contains("{{ fail .p }}"), "{leaky}");
    let truncate = seal(
        cp,
        &cert,
        &secret_yaml(ns.name(), "truncated", &[("k", "v")]),
        &[],
    );
    let truncated = truncate
        .lines()
        .map(|l| {
            if l.starts_with("    k: ") {
                "    k: AgBy".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let bad_b64 = truncate
        .replace("name: truncated", "name: badb64")
        .lines()
        .map(|l| {
            if l.starts_with("    k: ") {
                "    k: '%%%not base64'".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let template = seal(
        cp,
        &cert,
        &secret_yaml(ns.name(), "tmpl", &[("k", "v")]),
        &[],
    )
    .replace(
        "  template:\n",
        "  template:\n    data:\n      broken: '{{ .k '\n",
    );
    // Missing required fields never reach the controller: the CRD schema refuses them.
    let missing = format!("apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {{name: missing, namespace: {}}}\nspec: {{}}\n", ns.name());
    let err = ns
        .kubectl()
        .apply(&missing)
        .expect_err("schema rejects a spec without encryptedData");
    assert!(
        err.to_string()
            .contains("spec.encryptedData: Required value"),
        "{err}"
    );
    let empty = format!("apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {{name: empty, namespace: {}}}\nspec: {{encryptedData: {{}}}}\n", ns.name());
    for doc in [&truncated, &bad_b64, &template, &empty, &leaky, &good] {
        ns.kubectl().apply(doc).expect("apply");
    }
    wait_value(&ns, "good", "k", "v");
    wait_value(&ns, "good", "p", "hunter2");
    let leaked = wait_synced(&ns, "leaky", "False", "");
    assert!(!leaked.to_string().contains("hunter2"), "{leaked}");
    // The reference's words: one reason for anything no key opens, Go's
    // base64 error, each with the item's key.
    wait_synced(&ns, "truncated", "False", "no key could decrypt secret (k)");
    wait_synced(&ns, "badb64", "False", "illegal base64 data at input byte");
    wait_synced(&ns, "tmpl", "False", "template");
    // No items: an empty Secret, as the reference makes.
    wait_synced(&ns, "empty", "True", "");
    // The same failure again (a change that leaves it broken) is counted on
    // the Event already there, not written as a new one.
    let failed = |name: &str| -> Vec<Value> {
        events(&ns, "ErrUnsealFailed")
            .into_iter()
            .filter(|e| e["involvedObject"]["name"] == name)
            .collect()
    };
    let before = failed("badb64");
    assert_eq!(before.len(), 1, "{before:#?}");
    let count_before = before[0]["count"].as_u64().unwrap_or(0);
    ns.kubectl()
        .run(["annotate", "sealedsecret", "badb64", "touched=1"])
        .expect("annotate");
    let repeated = poll("a repeated ErrUnsealFailed", WAIT, TICK, || {
        let events = failed("badb64");
        let counted = events.len() == 1 && events[0]["count"].as_u64() > Some(count_before);
        Ok(counted.then_some(events))
    })
    .unwrap_or_else(|e| panic!("{e}: {:#?}", failed("badb64")));
    assert_eq!(repeated[0]["type"], "Warning");
    let log = controller.log();
    assert!(!log.contains("panicked"), "{log}");
    assert!(!log.contains("hunter2"), "a value in the log");
    let all_events = ns
        .kubectl()
        .run(["get", "events", "-o", "json"])
        .expect("events");
    assert!(all_events.contains("leaky"), "{all_events}");
    assert!(
        !all_events.contains("hunter2"),
        "a value in an event: {all_events}"
    );
    drop(controller);
}

#[test]
fn reference_kubeseal_output_unseals_here() {
    let (cp, ns, controller, dir) = setup("refseal");
    let cert = cert_file(&controller, &dir);
    let out = reference_kubeseal(
        cp,
        &["--cert", &cert, "-o", "yaml"],
        &secret_yaml(ns.name(), "fromref", &[("k", "reference")]),
    )
    .expect("reference kubeseal");
    ns.kubectl().apply(&succeeded(&out)).expect("apply");
    wait_value(&ns, "fromref", "k", "reference");
    drop(controller);
}

#[test]
fn restart_keeps_keys_and_secrets_and_sigusr1_rotates() {
    let (cp, ns, controller, dir) = setup("restart");
    let cert = cert_file(&controller, &dir);
    apply_and_wait(cp, &ns, &cert, "db", &[("k", "v")]);
    let key_count = || {
        ns.kubectl()
            .get_json([
                "get",
                "secrets",
                "-l",
                "sealedsecrets.bitnami.com/sealed-secrets-key=active",
                "-o",
                "json",
            ])
            .map(|v| v["items"].as_array().map(Vec::len).unwrap_or(0))
            .expect("list keys")
    };
    assert_eq!(key_count(), 1);
    let before = ns
        .kubectl()
        .get_json(["get", "secret", "db", "-o", "json"])
        .expect("secret");
    let status = controller.stop().expect("graceful stop");
    assert!(status.success(), "SIGTERM exits cleanly: {status}");

    let controller = ControllerOptions::for_namespace(&ns)
        .start(cp)
        .expect("restart");
    poll("ready after restart", WAIT, TICK, || {
        Ok((controller.get("/readyz")?.0 == 200).then_some(()))
    })
    .expect("ready");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(key_count(), 1, "no new key on restart");
    let after = ns
        .kubectl()
        .get_json(["get", "secret", "db", "-o", "json"])
        .expect("secret");
    assert_eq!(
        before["metadata"]["resourceVersion"], after["metadata"]["resourceVersion"],
        "nothing rewritten"
    );

    controller.signal("USR1");
    poll("a second key after SIGUSR1", WAIT, TICK, || {
        Ok((key_count() == 2).then_some(()))
    })
    .expect("rotated");
    let new_cert = cert_file(&controller, &dir);
    assert_ne!(
        std::fs::read(&new_cert).ok(),
        std::fs::read(&cert).ok(),
        "cert.pem serves the newest key"
    );
    // Old and new keys both unseal.
    apply_and_wait(cp, &ns, &new_cert, "db2", &[("k", "new")]);
    apply_and_wait(cp, &ns, &cert, "db3", &[("k", "old")]);
}

#[test]
fn http_api_verify_rotate_limits_and_metrics() {
    let (cp, ns, controller, dir) = setup("httpapi");
    let cert = cert_file(&controller, &dir);
    apply_and_wait(cp, &ns, &cert, "db", &[("k", "v")]);
    let json = ns
        .kubectl()
        .run(["get", "sealedsecret", "db", "-o", "json"])
        .expect("json");
    assert_eq!(
        http::post(&controller.url("/v1/verify"), json.as_bytes())
            .expect("verify")
            .0,
        200
    );
    let renamed = json.replacen("\"name\": \"db\"", "\"name\": \"other\"", 1);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        http::post(&controller.url("/v1/verify"), renamed.as_bytes())
            .expect("verify")
            .0,
        409
    );
    std::thread::sleep(Duration::from_secs(2));
    let (code, rotated) =
        http::post(&controller.url("/v1/rotate"), json.as_bytes()).expect("rotate");
    assert_eq!(code, 200, "{rotated}");
    let rotated: Value = serde_json::from_str(&rotated).expect("rotated json");
    assert_ne!(
        rotated["spec"]["encryptedData"]["k"],
        serde_json::from_str::<Value>(&json).expect("json")["spec"]["encryptedData"]["k"]
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        http::post(&controller.url("/v1/verify"), b"{not json")
            .expect("bad")
            .0,
        500,
        "as the reference: not a SealedSecret is a 500"
    );
    let big = vec![b' '; 11 << 20];
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        http::post(&controller.url("/v1/verify"), &big)
            .map(|r| r.0)
            .unwrap_or(413),
        413
    );
    let codes: Vec<u16> = (0..8)
        .map(|_| {
            http::post(&controller.url("/v1/verify"), json.as_bytes())
                .expect("verify")
                .0
        })
        .collect();
    assert!(codes.contains(&429), "rate limited: {codes:?}");

    let metrics = controller.metrics().expect("metrics");
    for name in [
        "sealed_secrets_controller_build_info",
        "sealed_secrets_controller_unseal_requests_total",
        "sealed_secrets_controller_condition_info{",
        "sealed_secrets_controller_http_requests_total{",
        "sealed_secrets_controller_http_request_duration_seconds",
    ] {
        assert!(metrics.contains(name), "{name} in:\n{metrics}");
    }
}

#[test]
fn label_selector_limits_what_is_unsealed() {
    let cp = ControlPlane::shared().expect("control plane");
    let ns = TestNamespace::create(cp, "selector").expect("namespace");
    let controller = ControllerOptions::for_namespace(&ns)
        .arg("--label-selector=team=a")
        .start(cp)
        .expect("controller");
    let dir = tempfile::tempdir().expect("tempdir");
    let cert = cert_file(&controller, &dir);
    let mine = seal(
        cp,
        &cert,
        &secret_yaml(ns.name(), "mine", &[("k", "v")]),
        &[],
    )
    .replacen("metadata:\n", "metadata:\n  labels: {team: a}\n", 1);
    let other = seal(
        cp,
        &cert,
        &secret_yaml(ns.name(), "other", &[("k", "v")]),
        &[],
    );
    ns.kubectl().apply(&other).expect("apply other");
    ns.kubectl().apply(&mine).expect("apply mine");
    wait_value(&ns, "mine", "k", "v");
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        ns.kubectl()
            .get_optional("secret", "other")
            .expect("get")
            .is_none(),
        "not selected"
    );
    assert!(synced(&ns, "other").is_none(), "not touched at all");
}

#[test]
fn immutable_secrets_are_reported_not_retried_forever() {
    let (cp, ns, controller, dir) = setup("immutable");
    let cert = cert_file(&controller, &dir);
    let immutable = |value: &str| {
        seal(
            cp,
            &cert,
            &secret_yaml(ns.name(), "frozen", &[("k", value)]),
            &[],
        )
        .replacen("  template:\n", "  template:\n    immutable: true\n", 1)
    };
    ns.kubectl().apply(&immutable("v1")).expect("apply");
    wait_value(&ns, "frozen", "k", "v1");
    let secret = ns
        .kubectl()
        .get_json(["get", "secret", "frozen", "-o", "json"])
        .expect("secret");
    assert_eq!(secret["immutable"], true);

    ns.kubectl().apply(&immutable("v2")).expect("apply change");
    wait_synced(
        &ns,
        "frozen",
        "False",
        "field is immutable when `immutable` is set. The target Secret is immutable",
    );
    assert_eq!(secret_value(&ns, "frozen", "k").as_deref(), Some("v1"));
    // Reported once per change, not in a hot loop.
    std::thread::sleep(Duration::from_secs(3));
    let failures = events(&ns, "ErrUpdateFailed");
    let count: u64 = failures
        .iter()
        .map(|e| e["count"].as_u64().unwrap_or(1))
        .sum();
    assert!(count <= 3, "{count} ErrUpdateFailed events");
    drop(controller);
}

#[test]
fn hostile_templates_fail_alone_and_never_show_values() {
    let (cp, ns, controller, dir) = setup("hostile");
    let cert = cert_file(&controller, &dir);
    const VALUE: &str = "Hunter2-e2e-VALUE";
    // Each once hung, crashed, leaked or ran unbounded in a template engine.
    let attacks = [
        ("hang", r#"{{ "}}" "#),
        (
            "recurse",
            r#"{{ define "r" }}{{ template "r" }}{{ end }}{{ template "r" }}"#,
        ),
        ("ltdot", "{{ lt . 0 }}"),
        ("lendot", "{{ len . 1 }}"),
        ("rangevalue", "{{ range .password }}{{ end }}"),
        (
            "doubling",
            r#"{{ $s := "ab" }}{{ range 64 }}{{ $s = printf "%s%s" $s $s }}{{ end }}{{ $s }}"#,
        ),
        (
            "nested",
            "{{ range 100000 }}{{ range 100000 }}{{ range 100000 }}{{ end }}{{ end }}{{ end }}",
        ),
    ];
    for (name, template) in attacks {
        let sealed = seal(
            cp,
            &cert,
            &secret_yaml(ns.name(), name, &[("password", VALUE)]),
            &[],
        );
        let quoted = serde_json::to_string(template).expect("quote");
        let doc = sealed.replace(
            "  template:\n",
            &format!("  template:\n    data:\n      out: {quoted}\n"),
        );
        ns.kubectl().apply(&doc).expect("apply");
    }
    // Applied after the attacks, unsealed all the same.
    apply_and_wait(cp, &ns, &cert, "good", &[("k", "v")]);
    for (name, _) in attacks {
        let ss = wait_synced(&ns, name, "False", " (out)");
        let text = ss.to_string();
        assert!(!text.contains(VALUE), "{name}: {text}");
        assert!(
            !text.contains("does not open"),
            "{name}: a template error blamed the key: {text}"
        );
    }
    let events = ns
        .kubectl()
        .get_json(["get", "events", "-o", "json"])
        .expect("events")
        .to_string();
    assert!(!events.contains(VALUE), "an Event shows the value");
    let log = controller.log();
    assert!(!log.contains(VALUE), "the log shows the value");
    assert!(!log.contains("panicked"), "{log}");
    // Still serving and unsealing after all of them.
    apply_and_wait(cp, &ns, &cert, "after", &[("k2", "v2")]);
    drop(controller);
}
