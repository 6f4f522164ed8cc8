//! A drop-in for the reference v0.40.0: our controller under the
//! reference's own RBAC (rendered from its Helm chart templates), and with
//! the reference's CRD installed (which has no `status.keyFingerprint`).
//!
//! The CRD is cluster-scoped and shared by every test on the control plane,
//! so the CRD test swaps it only for a few seconds, restores the one that
//! was installed before (a drop guard, also on failure), and the tests of
//! this binary run one at a time. `cargo test` runs test binaries one after
//! another, so in `make test` nothing else runs meanwhile.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use sealed_secrets_e2e::controller::{Controller, ControllerOptions};
use sealed_secrets_e2e::kubeconfig::token_kubeconfig;
use sealed_secrets_e2e::kubeseal::{kubeseal, lf, succeeded};
use sealed_secrets_e2e::secrets::{wait_secret_value, KEY_SELECTOR};
use sealed_secrets_e2e::status::synced;
use sealed_secrets_e2e::{poll, ControlPlane, TestNamespace};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(60);
const TICK: Duration = Duration::from_millis(250);
const CRD: &str = "crd/sealedsecrets.bitnami.com";
/// The chart's default `secretName` (the legacy key Secret's name).
const CHART_SECRET_NAME: &str = "sealed-secrets-key";

/// The tests of this binary run one at a time (the CRD test changes the cluster).
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// The reference module's source directory in Go's module cache (where
/// `scripts/install-tools ref` downloaded it), or `None` (the test then
/// skips, unless `REQUIRE_REFERENCE=1`).
fn reference_module(cp: &ControlPlane) -> Option<PathBuf> {
    let versions = std::fs::read_to_string(cp.repo_dir().join("scripts/versions.env")).ok()?;
    let value = |key: &str| {
        versions
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .map(str::trim)
            .map(str::to_string)
    };
    let module = value("SEALED_SECRETS_REF_MODULE")?;
    let version = value("SEALED_SECRETS_REF_VERSION")?;
    let go = ["go", "/usr/local/go/bin/go"]
        .into_iter()
        .find(|g| Command::new(g).arg("version").output().is_ok())?;
    let out = Command::new(go).args(["env", "GOMODCACHE"]).output().ok()?;
    let cache = String::from_utf8(out.stdout).ok()?;
    let dir = Path::new(cache.trim()).join(format!("{module}@{version}"));
    let found = dir
        .join("helm/sealed-secrets/templates/cluster-role.yaml")
        .is_file();
    if found {
        return Some(dir);
    }
    if std::env::var("REQUIRE_REFERENCE").as_deref() == Ok("1") {
        panic!(
            "REQUIRE_REFERENCE=1 but the reference module is not in {} (run scripts/install-tools ref)",
            dir.display()
        );
    }
    eprintln!(
        "SKIPPED: reference module {module}@{version} not in Go's module cache (run scripts/install-tools ref)"
    );
    None
}

/// The `rules:` of the first RBAC object in a reference chart template,
/// rendered for the chart's defaults plus `additionalNamespaces`. Only the
/// template actions these files use are understood; anything else fails the
/// test, so a change in the reference's templates is noticed.
fn render_rules(template: &str, additional_namespaces: &[&str]) -> String {
    let mut out = String::new();
    let mut in_rules = false;
    let mut skipping = false;
    for line in template.lines() {
        if !in_rules {
            in_rules = line == "rules:";
            continue;
        }
        let action = line.trim();
        if action == "---" || action == "{{ end }}" {
            break;
        }
        if action == "{{- if .Values.additionalNamespaces }}" {
            skipping = additional_namespaces.is_empty();
            continue;
        }
        if action == "{{- end }}" {
            skipping = false;
            continue;
        }
        if skipping {
            continue;
        }
        if action.starts_with(
            "{{- include \"sealed-secrets.render\" (dict \"value\" .Values.additionalNamespaces",
        ) && action.ends_with("| nindent 6 }}")
        {
            for ns in additional_namespaces {
                out.push_str(&format!("      - {ns}\n"));
            }
            continue;
        }
        let line = line.replace("{{ .Values.secretName }}", CHART_SECRET_NAME);
        assert!(
            !line.contains("{{"),
            "the reference template has an action this test does not render: {line}"
        );
        out.push_str(&line);
        out.push('\n');
    }
    assert!(
        in_rules && !out.trim().is_empty(),
        "no rules in:\n{template}"
    );
    out
}

/// Cluster-scoped objects of one test, deleted on drop.
struct ClusterObjects(Vec<String>);

impl Drop for ClusterObjects {
    fn drop(&mut self) {
        if let Ok(cp) = ControlPlane::shared() {
            for object in &self.0 {
                let _ = cp
                    .kubectl()
                    .run(["delete", "--ignore-not-found", "--wait=false", object]);
            }
        }
    }
}

/// A ServiceAccount in `ns` bound to nothing but the reference chart's
/// ClusterRole (`secrets-unsealer`, with `additionalNamespaces: [ns]`) and
/// key-admin Role; returns a kubeconfig holding only its token.
fn reference_account(
    cp: &ControlPlane,
    module: &Path,
    ns: &TestNamespace,
    dir: &Path,
) -> (PathBuf, ClusterObjects) {
    let templates = module.join("helm/sealed-secrets/templates");
    let read = |name: &str| {
        std::fs::read_to_string(templates.join(name))
            .unwrap_or_else(|e| panic!("reading the reference chart's {name}: {e}"))
    };
    let cluster_rules = render_rules(&read("cluster-role.yaml"), &[ns.name()]);
    let key_rules = render_rules(&read("role.yaml"), &[]);
    let account = "sealed-secrets-controller";
    let cluster_role = format!("ssrs-ref-unsealer-{}", ns.name());
    let guard = ClusterObjects(vec![
        format!("clusterrolebinding/{cluster_role}"),
        format!("clusterrole/{cluster_role}"),
    ]);
    let n = ns.name();
    let manifest = format!(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: {account}, namespace: {n}}}\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: {cluster_role}}}\nrules:\n{cluster_rules}---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: {cluster_role}}}\n\
         roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {cluster_role}}}\n\
         subjects: [{{kind: ServiceAccount, name: {account}, namespace: {n}}}]\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: sealed-secrets-key-admin, namespace: {n}}}\nrules:\n{key_rules}---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: sealed-secrets-key-admin, namespace: {n}}}\n\
         roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: sealed-secrets-key-admin}}\n\
         subjects: [{{kind: ServiceAccount, name: {account}, namespace: {n}}}]\n"
    );
    cp.kubectl()
        .apply(&manifest)
        .unwrap_or_else(|e| panic!("{e}\n{manifest}"));

    // What the test stands on: the reference grants the status only `update`.
    let role = cp
        .kubectl()
        .get_json(["get", "clusterrole", &cluster_role, "-o", "json"])
        .expect("clusterrole");
    let verbs_of = |resource: &str| -> Vec<String> {
        role["rules"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| {
                r["resources"]
                    .as_array()
                    .is_some_and(|rs| rs.iter().any(|x| x == resource))
            })
            .flat_map(|r| r["verbs"].as_array().cloned().unwrap_or_default())
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    };
    assert_eq!(verbs_of("sealedsecrets/status"), ["update"], "{role}");
    assert!(
        !verbs_of("secrets").contains(&"patch".to_string()),
        "{role}"
    );

    let token = ns
        .kubectl()
        .run(["create", "token", account, "--duration=1h"])
        .expect("token");
    let path = dir.join("reference-rbac.kubeconfig");
    token_kubeconfig(cp, &path, account, &token).expect("kubeconfig");
    (path, guard)
}

fn secret_yaml(ns: &str, name: &str, value: &str) -> String {
    format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: {name}, namespace: {ns}}}\nstringData: {{k: \"{value}\"}}\n")
}

fn seal(cp: &ControlPlane, cert: &Path, ns: &str, name: &str, value: &str) -> String {
    let cert = cert.to_string_lossy();
    succeeded(
        &kubeseal(
            cp,
            &["--cert", &cert, "-o", "yaml"],
            &secret_yaml(ns, name, value),
        )
        .expect("kubeseal runs"),
    )
}

/// A SealedSecret whose only value no key opens (it is truncated).
fn broken(ns: &str, name: &str) -> String {
    format!("apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {{name: {name}, namespace: {ns}}}\nspec: {{encryptedData: {{k: AgBy}}}}\n")
}

/// Waits for Synced=`status` at the object's current generation.
fn wait_synced(ns: &TestNamespace, name: &str, status: &str, log: impl Fn() -> String) -> Value {
    poll(&format!("{name} Synced={status}"), WAIT, TICK, || {
        Ok(synced(ns, name)
            .filter(|(s, _, ss)| {
                s == status && ss["status"]["observedGeneration"] == ss["metadata"]["generation"]
            })
            .map(|(_, _, ss)| ss))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", log()))
}

fn events(ns: &TestNamespace, reason: &str, object: &str) -> Vec<Value> {
    ns.kubectl()
        .get_json(["get", "events", "-o", "json"])
        .map(|v| v["items"].as_array().cloned().unwrap_or_default())
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e["reason"] == reason && e["involvedObject"]["name"] == object)
        .collect()
}

fn key_secrets(ns: &TestNamespace) -> usize {
    ns.kubectl()
        .get_json(["get", "secrets", "-l", KEY_SELECTOR, "-o", "json"])
        .expect("key secrets")["items"]
        .as_array()
        .map_or(0, Vec::len)
}

fn cert_of(controller: &Controller, path: &Path) {
    let (code, pem) = controller.get("/v1/cert.pem").expect("cert.pem");
    assert_eq!(code, 200, "{pem}");
    std::fs::write(path, lf(&pem)).expect("write cert");
}

fn start(cp: &ControlPlane, ns: &TestNamespace, kubeconfig: PathBuf) -> Controller {
    let controller = ControllerOptions::for_namespace(ns)
        .kubeconfig(kubeconfig)
        .start(cp)
        .expect("controller under the reference's RBAC");
    poll("ready", WAIT, TICK, || {
        Ok((controller.get("/readyz")?.0 == 200).then_some(()))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", controller.log()));
    controller
}

#[test]
fn controller_works_under_the_reference_charts_rbac() {
    let _serial = serial();
    let cp = ControlPlane::shared().expect("control plane");
    let Some(module) = reference_module(cp) else {
        return;
    };
    let ns = TestNamespace::create(cp, "ref-rbac").expect("namespace");
    let dir = tempfile::tempdir().expect("tempdir");
    let (kubeconfig, _rbac) = reference_account(cp, &module, &ns, dir.path());

    // A fresh namespace: the controller made its first key (key Role: create, list).
    let controller = start(cp, &ns, kubeconfig);
    assert_eq!(key_secrets(&ns), 1, "{}", controller.log());
    let cert = dir.path().join("cert.pem");
    cert_of(&controller, &cert);

    ns.kubectl()
        .apply(&seal(cp, &cert, ns.name(), "app", "s3cret"))
        .expect("apply");
    ns.kubectl()
        .apply(&broken(ns.name(), "broken"))
        .expect("apply");
    let log = || controller.log();
    wait_secret_value(&ns, "app", "k", "s3cret").unwrap_or_else(|e| panic!("{e}\n{}", log()));
    // The status is written with `update` only.
    wait_synced(&ns, "app", "True", log);
    let failed = wait_synced(&ns, "broken", "False", log);
    assert!(
        failed["status"]["conditions"][0]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{failed}"
    );

    // Events: written (create), and a repeat counted on the same Event (patch).
    poll("Unsealed event", WAIT, TICK, || {
        Ok((!events(&ns, "Unsealed", "app").is_empty()).then_some(()))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", log()));
    let first = poll("ErrUnsealFailed event", WAIT, TICK, || {
        let e = events(&ns, "ErrUnsealFailed", "broken");
        Ok((!e.is_empty()).then_some(e))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", log()));
    let count = first[0]["count"].as_u64().unwrap_or(0);
    ns.kubectl()
        .run(["annotate", "sealedsecret", "broken", "touched=1"])
        .expect("annotate");
    poll(
        "the repeated failure counted (events patch)",
        WAIT,
        TICK,
        || {
            let e = events(&ns, "ErrUnsealFailed", "broken");
            Ok((e.len() == 1 && e[0]["count"].as_u64() > Some(count)).then_some(()))
        },
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", log()));

    // A deleted Secret comes back (secrets watch, create).
    let uid = ns
        .kubectl()
        .get_json(["get", "secret", "app", "-o", "json"])
        .expect("secret")["metadata"]["uid"]
        .clone();
    ns.kubectl()
        .run(["delete", "secret", "app"])
        .expect("delete");
    poll("the Secret re-created", WAIT, TICK, || {
        let secret = ns.kubectl().get_optional("secret", "app")?;
        Ok(secret.filter(|s| s["metadata"]["uid"] != uid).map(|_| ()))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", log()));

    // A new sealed value replaces the Secret's data (secrets update), and the
    // status follows the new generation.
    ns.kubectl()
        .apply(&seal(cp, &cert, ns.name(), "app", "changed"))
        .expect("apply");
    wait_secret_value(&ns, "app", "k", "changed").unwrap_or_else(|e| panic!("{e}\n{}", log()));
    wait_synced(&ns, "app", "True", log);

    let log = controller.log();
    assert!(
        !log.to_lowercase().contains("forbidden"),
        "no permission errors under the reference's RBAC:\n{log}"
    );
    assert!(!log.contains("s3cret"), "{log}");
}

/// The CRD as installed now, to put back.
fn live_crd(cp: &ControlPlane) -> Value {
    cp.kubectl()
        .get_json(["get", CRD, "-o", "json"])
        .expect("the CRD is installed")
}

/// Replaces the live CRD's spec (and annotations) with `wanted`'s.
fn replace_crd(cp: &ControlPlane, wanted: &Value) -> Result<(), String> {
    let mut last = String::new();
    for _ in 0..5 {
        let mut live = live_crd(cp);
        live["spec"] = wanted["spec"].clone();
        live["metadata"]["annotations"] = wanted["metadata"]["annotations"].clone();
        if let Some(meta) = live["metadata"].as_object_mut() {
            meta.remove("managedFields");
        }
        if let Some(object) = live.as_object_mut() {
            object.remove("status");
        }
        match cp
            .kubectl()
            .run_with_stdin(["replace", "-f", "-"], &live.to_string())
        {
            Ok(_) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Err(last)
}

/// Whether the served CRD keeps `status.keyFingerprint`, from a write to the
/// status of a probe object (in a namespace no controller watches).
fn keeps_fingerprint(probe: &TestNamespace) -> Result<bool, sealed_secrets_e2e::Error> {
    let out = probe.kubectl().run([
        "patch",
        "sealedsecret",
        "probe",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"keyFingerprint":"SHA256:probe","observedGeneration":1}}"#,
        "-o",
        "json",
    ])?;
    let object: Value = serde_json::from_str(&out).unwrap_or_default();
    Ok(object["status"]["keyFingerprint"] == "SHA256:probe")
}

fn wait_fingerprint_kept(probe: &TestNamespace, kept: bool) -> Result<(), String> {
    poll(
        &format!("status.keyFingerprint kept = {kept}"),
        Duration::from_secs(30),
        Duration::from_millis(100),
        || Ok((keeps_fingerprint(probe)? == kept).then_some(())),
    )
    .map_err(|e| e.to_string())
}

/// The reference's CRD, installed until dropped; then the CRD that was
/// there before is put back, and its schema is served again before the drop returns.
struct ReferenceCrd<'a> {
    cp: &'a ControlPlane,
    before: Value,
    probe: &'a TestNamespace,
    since: std::time::Instant,
}

impl<'a> ReferenceCrd<'a> {
    fn install(cp: &'a ControlPlane, module: &Path, probe: &'a TestNamespace) -> Self {
        let before = live_crd(cp);
        let file = module.join("helm/sealed-secrets/crds/bitnami.com_sealedsecrets.yaml");
        let reference: Value = serde_json::from_str(
            &cp.kubectl()
                .run([
                    "create",
                    "--dry-run=client",
                    "-o",
                    "json",
                    "-f",
                    &file.to_string_lossy(),
                ])
                .expect("the reference CRD as JSON"),
        )
        .expect("JSON");
        let guard = Self {
            cp,
            before,
            probe,
            since: std::time::Instant::now(),
        };
        replace_crd(cp, &reference).expect("install the reference CRD");
        wait_fingerprint_kept(probe, false).expect("the reference CRD is served");
        guard
    }
}

impl Drop for ReferenceCrd<'_> {
    fn drop(&mut self) {
        if let Err(e) = replace_crd(self.cp, &self.before) {
            eprintln!("cannot restore the CRD: {e}");
        }
        if let Err(e) = wait_fingerprint_kept(self.probe, true) {
            eprintln!("the restored CRD is not served yet: {e}");
        }
        eprintln!(
            "the reference CRD was installed for {:.1} s",
            self.since.elapsed().as_secs_f64()
        );
    }
}

fn admin(cp: &ControlPlane, ns: &str, args: &[&str]) -> std::process::Output {
    let mut all = vec!["admin"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--controller-namespace", ns, "--watched-namespaces", ns]);
    kubeseal(cp, &all, "").expect("kubeseal runs")
}

#[test]
fn the_reference_crd_works_and_admin_keys_say_what_they_cannot_know() {
    let _serial = serial();
    let cp = ControlPlane::shared().expect("control plane");
    let Some(module) = reference_module(cp) else {
        return;
    };
    let ns = TestNamespace::create(cp, "ref-crd").expect("namespace");
    let probe_ns = TestNamespace::create(cp, "ref-crd-probe").expect("namespace");
    let dir = tempfile::tempdir().expect("tempdir");
    let (kubeconfig, _rbac) = reference_account(cp, &module, &ns, dir.path());

    // Everything slow happens before the swap: the controller and its first
    // key, the sealing, a second key (so the first becomes a prune candidate).
    let controller = start(cp, &ns, kubeconfig.clone());
    let cert = dir.path().join("cert.pem");
    cert_of(&controller, &cert);
    let sealed = seal(cp, &cert, ns.name(), "app", "s3cret");
    probe_ns
        .kubectl()
        .apply(&broken(probe_ns.name(), "probe"))
        .expect("probe");
    std::thread::sleep(Duration::from_millis(1100)); // certificate times have 1 s resolution
    succeeded(
        &kubeseal(
            cp,
            &[
                "admin",
                "keys",
                "rotate",
                "--controller-namespace",
                ns.name(),
            ],
            "",
        )
        .expect("rotate"),
    );
    assert_eq!(key_secrets(&ns), 2);
    let log = || controller.log();

    {
        let _reference = ReferenceCrd::install(cp, &module, &probe_ns);
        ns.kubectl().apply(&sealed).expect("apply");
        ns.kubectl()
            .apply(&broken(ns.name(), "broken"))
            .expect("apply");
        wait_secret_value(&ns, "app", "k", "s3cret").unwrap_or_else(|e| panic!("{e}\n{}", log()));
        let app = wait_synced(&ns, "app", "True", log);
        wait_synced(&ns, "broken", "False", log);
        assert!(
            app["status"].get("keyFingerprint").is_none(),
            "the reference CRD drops it: {app}"
        );
        // The dropped field does not make the controller write the status again and again.
        let version = app["metadata"]["resourceVersion"].clone();
        std::thread::sleep(Duration::from_secs(2));
        let again = ns
            .kubectl()
            .get_json(["get", "sealedsecret", "app", "-o", "json"])
            .expect("get");
        assert_eq!(again["metadata"]["resourceVersion"], version, "{again}");

        // list: the keys, and that it cannot tell which SealedSecrets each opens.
        let out = admin(cp, ns.name(), &["keys", "list"]);
        let text = succeeded(&out);
        let said = format!("{text}{}", String::from_utf8_lossy(&out.stderr));
        assert!(
            said.contains("the installed CRD drops status.keyFingerprint"),
            "{said}"
        );
        assert!(said.contains("manifests/crd.yaml"), "{said}");
        let out = admin(cp, ns.name(), &["keys", "list", "-o", "json"]);
        let report: Value = serde_json::from_str(&succeeded(&out)).expect("JSON");
        assert_eq!(report["keyFingerprintRecorded"], false, "{report}");
        for key in report["keys"].as_array().expect("keys") {
            assert!(key["sealedSecrets"].is_null(), "unknown, not 0: {report}");
        }

        // prune needs no keyFingerprint (it checks every item against the
        // keys): the old key still opens "app", so it is refused and kept.
        let out = admin(
            cp,
            ns.name(),
            &["keys", "prune", "--older-than", "0s", "--yes"],
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{err}");
        assert!(err.contains("refus"), "{err}");
        assert_eq!(key_secrets(&ns), 2, "nothing deleted");
    }

    // Our CRD is back: restarted, the controller records the key of what it
    // unsealed meanwhile (already synced: unsealed again only to learn it).
    let log = controller.log();
    assert!(log.contains("drops status.keyFingerprint"), "{log}");
    drop(controller);
    let controller = start(cp, &ns, kubeconfig);
    poll("app's status.keyFingerprint", WAIT, TICK, || {
        let ss = ns
            .kubectl()
            .get_json(["get", "sealedsecret", "app", "-o", "json"])?;
        Ok(ss["status"]["keyFingerprint"].as_str().map(|_| ()))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", controller.log()));
    let out = admin(cp, ns.name(), &["keys", "list", "-o", "json"]);
    let report: Value = serde_json::from_str(&succeeded(&out)).expect("JSON");
    assert_eq!(report["keyFingerprintRecorded"], true, "{report}");
    let counted: u64 = report["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(|k| k["sealedSecrets"].as_u64())
        .sum();
    assert_eq!(counted, 1, "app counted, broken unknown: {report}");

    let log = format!("{log}{}", controller.log());
    assert!(!log.to_lowercase().contains("forbidden"), "{log}");
    assert!(!log.contains("s3cret"), "{log}");
}
