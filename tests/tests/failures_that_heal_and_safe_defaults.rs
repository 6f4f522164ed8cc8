//! Defects a review once found, each against the real control
//! plane and binaries: prune keeps every key an item needs, failed objects
//! recover by themselves, kubeseal fails fast when nothing answers behind the
//! controller's Service, and recovered plaintext is written mode 0600.

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use sealed_secrets_e2e::controller::{Controller, ControllerOptions};
use sealed_secrets_e2e::kubeseal::{kubeseal, lf, reference_kubeseal, succeeded};
use sealed_secrets_e2e::secrets::{key_secret_names, wait_secret_value};
use sealed_secrets_e2e::{poll, status, ControlPlane, TestNamespace};

const WAIT: Duration = Duration::from_secs(60);
const TICK: Duration = Duration::from_millis(250);

fn secret_yaml(ns: &str, name: &str, items: &[(&str, &str)]) -> String {
    let data: Vec<String> = items.iter().map(|(k, v)| format!("{k}: \"{v}\"")).collect();
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: {name}, namespace: {ns}}}\nstringData: {{{}}}\n",
        data.join(", ")
    )
}

fn seal(cp: &ControlPlane, cert: &Path, input: &str, extra: &[&str]) -> String {
    let cert = cert.to_string_lossy();
    let args = [&["--cert", &cert, "-o", "yaml"][..], extra].concat();
    succeeded(&kubeseal(cp, &args, input).expect("kubeseal runs"))
}

fn write_cert(controller: &Controller, path: &Path) -> String {
    let (code, pem) = controller.get("/v1/cert.pem").expect("cert.pem");
    assert_eq!(code, 200, "{pem}");
    std::fs::write(path, &pem).expect("write cert");
    lf(&pem)
}

fn synced(ns: &TestNamespace, name: &str) -> Option<(String, String)> {
    status::synced(ns, name).map(|(status, message, _)| (status, message))
}

fn wait_synced(ns: &TestNamespace, name: &str, status: &str, contains: &str, wait: Duration) {
    poll(
        &format!("{name} Synced={status} with {contains:?}"),
        wait,
        TICK,
        || {
            Ok(synced(ns, name)
                .filter(|(s, m)| s == status && m.contains(contains))
                .map(|_| ()))
        },
    )
    .unwrap_or_else(|e| panic!("{e}; now {:?}", synced(ns, name)));
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Items of one SealedSecret sealed with two keys (`--merge-into` across a
/// rotation): the status records one of them, yet prune keeps both.
#[test]
fn prune_keeps_every_key_an_item_needs() {
    let cp = ControlPlane::shared().expect("control plane");
    let ns = TestNamespace::create(cp, "prune-items").expect("namespace");
    let controller = ControllerOptions::for_namespace(&ns)
        .start(cp)
        .expect("controller");
    let dir = tempfile::tempdir().expect("tempdir");
    let old_cert = dir.path().join("old.pem");
    let old_pem = write_cert(&controller, &old_cert);
    let old_name = key_secret_names(&ns).expect("key Secrets")[0].clone();
    let file = dir.path().join("mixed.yaml");
    std::fs::write(
        &file,
        seal(
            cp,
            &old_cert,
            &secret_yaml(ns.name(), "mixed", &[("a", "1")]),
            &[],
        ),
    )
    .expect("write");

    // Key times have one-second resolution: make the new key newer.
    std::thread::sleep(Duration::from_millis(1100));
    controller.signal("USR1");
    let new_cert = dir.path().join("new.pem");
    poll("the new key served", WAIT, TICK, || {
        Ok((write_cert(&controller, &new_cert) != old_pem).then_some(()))
    })
    .expect("rotated");
    let path = file.to_string_lossy().into_owned();
    let new_cert_arg = new_cert.to_string_lossy().into_owned();
    succeeded(
        &kubeseal(
            cp,
            &["--cert", &new_cert_arg, "--merge-into", &path],
            &secret_yaml(ns.name(), "mixed", &[("b", "2")]),
        )
        .expect("merge"),
    );
    ns.kubectl()
        .apply(&std::fs::read_to_string(&file).expect("read"))
        .expect("apply");
    wait_secret_value(&ns, "mixed", "a", "1").expect("a");
    wait_secret_value(&ns, "mixed", "b", "2").expect("b");
    let recorded = poll("status.keyFingerprint", WAIT, TICK, || {
        Ok(ns
            .kubectl()
            .get_optional("sealedsecret", "mixed")?
            .and_then(|ss| ss["status"]["keyFingerprint"].as_str().map(str::to_string)))
    })
    .expect("recorded key");
    std::thread::sleep(Duration::from_secs(1));

    let out = kubeseal(
        cp,
        &[
            "admin",
            "keys",
            "prune",
            "--older-than",
            "1s",
            "--yes",
            "--force",
            "--watched-namespaces",
            ns.name(),
            "--controller-namespace",
            ns.name(),
        ],
        "",
    )
    .expect("prune runs");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{report}\n{}", stderr(&out));
    assert!(
        report.contains(&format!("refused {old_name} ("))
            && report.contains(&format!("{}/mixed", ns.name())),
        "recorded {recorded}; {report}\n{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("refused to delete 1 key(s) still in use"));
    assert_eq!(
        key_secret_names(&ns).expect("key Secrets").len(),
        2,
        "both keys kept"
    );
    drop(controller);
}

/// Denies creating Secrets in one namespace (a ValidatingAdmissionPolicy,
/// built into the API server) until dropped.
struct SecretsBlocked<'a> {
    cp: &'a ControlPlane,
    name: String,
}

impl<'a> SecretsBlocked<'a> {
    fn in_namespace(cp: &'a ControlPlane, ns: &TestNamespace) -> Self {
        let name = ns.name().to_string();
        cp.kubectl()
            .apply(&format!(
                "apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {{name: {name}}}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - {{apiGroups: [\"\"], apiVersions: [v1], operations: [CREATE], resources: [secrets]}}
  validations:
  - {{expression: \"false\", message: \"secrets are blocked here for now\"}}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {{name: {name}}}
spec:
  policyName: {name}
  validationActions: [Deny]
  matchResources:
    namespaceSelector:
      matchLabels: {{kubernetes.io/metadata.name: {name}}}
"
            ))
            .expect("admission policy");
        // In force once a Secret of our own is refused.
        poll("the admission policy in force", WAIT, TICK, || {
            let probe =
                ns.kubectl()
                    .run(["create", "secret", "generic", "probe", "--from-literal=k=v"]);
            match probe {
                Ok(_) => {
                    ns.kubectl().run(["delete", "secret", "probe"])?;
                    Ok(None)
                }
                Err(e) => Ok(e.to_string().contains("blocked here").then_some(())),
            }
        })
        .expect("policy in force");
        Self { cp, name }
    }

    fn lift(&self) {
        for kind in [
            "validatingadmissionpolicybinding",
            "validatingadmissionpolicy",
        ] {
            let _ = self
                .cp
                .kubectl()
                .run(["delete", kind, &self.name, "--ignore-not-found"]);
        }
    }
}

impl Drop for SecretsBlocked<'_> {
    fn drop(&mut self) {
        self.lift();
    }
}

/// A SealedSecret whose Secret cannot be written (an admission policy
/// refuses it) fails more often than --max-unseal-retries; once the policy
/// goes, it becomes Synced without anyone touching it.
#[test]
fn failed_objects_recover_once_the_cause_is_gone() {
    let cp = ControlPlane::shared().expect("control plane");
    let keys = TestNamespace::create(cp, "retry-keys").expect("namespace");
    let work = TestNamespace::create(cp, "retry-work").expect("namespace");
    let controller = ControllerOptions::for_namespace(&keys)
        .watch(&[work.name()])
        .args(["--max-unseal-retries=1", "--unseal-retry-period=3s"])
        .start(cp)
        .expect("controller");
    let dir = tempfile::tempdir().expect("tempdir");
    let cert = dir.path().join("cert.pem");
    write_cert(&controller, &cert);
    let blocked = SecretsBlocked::in_namespace(cp, &work);
    work.kubectl()
        .apply(&seal(
            cp,
            &cert,
            &secret_yaml(work.name(), "late", &[("k", "v")]),
            &[],
        ))
        .expect("apply");
    wait_synced(&work, "late", "False", "blocked here", WAIT);
    // Well past the one quick retry (1s).
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(synced(&work, "late").map(|s| s.0).as_deref(), Some("False"));

    blocked.lift();
    wait_synced(&work, "late", "True", "", Duration::from_secs(30));
    wait_secret_value(&work, "late", "k", "v").expect("value");
    let log = controller.log();
    assert!(!log.contains("panicked"), "{log}");
    drop(controller);
}

/// A Secret the controller does not manage blocks a SealedSecret of its
/// name; deleting it lets the SealedSecret through, untouched.
#[test]
fn an_unmanaged_secret_blocks_until_it_is_deleted() {
    let cp = ControlPlane::shared().expect("control plane");
    let ns = TestNamespace::create(cp, "unblock").expect("namespace");
    let controller = ControllerOptions::for_namespace(&ns)
        .start(cp)
        .expect("controller");
    let dir = tempfile::tempdir().expect("tempdir");
    let cert = dir.path().join("cert.pem");
    write_cert(&controller, &cert);
    ns.kubectl()
        .run([
            "create",
            "secret",
            "generic",
            "taken",
            "--from-literal=k=theirs",
        ])
        .expect("create secret");
    ns.kubectl()
        .apply(&seal(
            cp,
            &cert,
            &secret_yaml(ns.name(), "taken", &[("k", "ours")]),
            &[],
        ))
        .expect("apply");
    wait_synced(&ns, "taken", "False", "not managed by SealedSecret", WAIT);
    ns.kubectl()
        .run(["delete", "secret", "taken"])
        .expect("delete secret");
    wait_synced(&ns, "taken", "True", "", Duration::from_secs(20));
    wait_secret_value(&ns, "taken", "k", "ours").expect("ours");
    drop(controller);
}

/// The controller's Service has an endpoint, but nothing listens there: the
/// API server's proxy answers 503 at once, and so must kubeseal.
#[test]
fn kubeseal_fails_fast_when_nothing_answers_behind_the_service() {
    let cp = ControlPlane::shared().expect("control plane");
    let ns = TestNamespace::create(cp, "deadsvc").expect("namespace");
    // Port 1 on the node: nothing listens there.
    cp.expose_named(ns.name(), "sealed-secrets-controller", 8080, 1, "http")
        .expect("expose");
    let target = ["--controller-namespace", ns.name()];
    let input = secret_yaml(ns.name(), "s", &[("k", "v")]);
    for args in [&["--fetch-cert"][..], &["-o", "yaml"][..]] {
        let all = [&target[..], args].concat();
        let started = Instant::now();
        let out = kubeseal(cp, &all, &input).expect("kubeseal runs");
        let took = started.elapsed();
        let err = stderr(&out);
        assert!(!out.status.success(), "{args:?}: {err}");
        assert!(
            took < Duration::from_secs(5),
            "{args:?} took {took:?}: {err}"
        );
        assert!(
            err.contains(&format!(
                "the controller's Service {}/sealed-secrets-controller has no process answering (503",
                ns.name()
            )) && err.contains("is the controller running?")
                && err.contains(&format!("kubectl -n {} get pods", ns.name())),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    // The reference fails as fast (when installed).
    if cp.reference_bin_dir().join("kubeseal").is_file() {
        let started = Instant::now();
        let out = reference_kubeseal(cp, &[&target[..], &["--fetch-cert"]].concat(), "")
            .expect("reference runs");
        assert!(!out.status.success());
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{}",
            stderr(&out)
        );
    }
}

/// `--recovery-unseal -w FILE` writes plaintext: mode 0600, also over a
/// file that existed with a wider mode.
#[cfg(unix)]
#[test]
fn recovered_secrets_are_written_mode_0600() {
    use std::os::unix::fs::PermissionsExt as _;
    let cp = ControlPlane::shared().expect("control plane");
    let ns = TestNamespace::create(cp, "recover0600").expect("namespace");
    let controller = ControllerOptions::for_namespace(&ns)
        .start(cp)
        .expect("controller");
    let dir = tempfile::tempdir().expect("tempdir");
    let cert = dir.path().join("cert.pem");
    write_cert(&controller, &cert);
    let backup = dir.path().join("keys.yaml");
    let backup_arg = backup.to_string_lossy().into_owned();
    succeeded(
        &kubeseal(
            cp,
            &[
                "admin",
                "keys",
                "backup",
                "-o",
                &backup_arg,
                "--controller-namespace",
                ns.name(),
            ],
            "",
        )
        .expect("backup"),
    );
    drop(controller);
    let sealed = seal(
        cp,
        &cert,
        &secret_yaml(ns.name(), "s", &[("k", "hunter2")]),
        &[],
    );
    let mode = |path: &Path| {
        std::fs::metadata(path)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777
    };
    let fresh = dir.path().join("fresh.yaml");
    let existing = dir.path().join("existing.yaml");
    std::fs::write(&existing, "old\n").expect("write");
    std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    for out_file in [&fresh, &existing] {
        let path = out_file.to_string_lossy().into_owned();
        succeeded(
            &kubeseal(
                cp,
                &[
                    "--recovery-unseal",
                    "--recovery-private-key",
                    &backup_arg,
                    "-o",
                    "yaml",
                    "-w",
                    &path,
                ],
                &sealed,
            )
            .expect("recovery-unseal"),
        );
        let text = std::fs::read_to_string(out_file).expect("read");
        // base64 of the value: the recovered Secret, in plaintext.
        assert!(text.contains("aHVudGVyMg=="), "{text}");
        assert_eq!(mode(out_file), 0o600, "{}", out_file.display());
    }
}
