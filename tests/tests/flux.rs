//! The GitOps loop with Flux's own controllers: a team commits
//! SealedSecrets to Git, source-controller fetches the repository,
//! kustomize-controller applies it and waits for everything to be healthy,
//! our controller (the manifests' Deployment on the node) unseals, and an
//! application's Pod mounts the Secret.
//!
//! The Kustomization carries the health check the README gives Flux users
//! for SealedSecrets (kstatus alone calls one without status Current).
//! source-controller, kustomize-controller and the Git server are built from
//! their Go modules by `scripts/install-tools gitops`.
//!
//! The controller Pod watches every namespace: this binary runs nothing else.

use std::time::{Duration, Instant};

use serde_json::Value;

use sealed_secrets_e2e::flux::{Flux, GitRepo, GitopsTools};
use sealed_secrets_e2e::kubeseal::{kubeseal, succeeded};
use sealed_secrets_e2e::pod::ControllerPod;
use sealed_secrets_e2e::secrets::secret_value;
use sealed_secrets_e2e::{poll, ControlPlane, TestNamespace};

/// The README's health check for SealedSecrets (section "GitOps with Flux
/// and Argo CD"); `the_readme_gives_this_health_check` keeps them one.
const HEALTH_CHECK: &str = r#"  healthCheckExprs:
    - apiVersion: bitnami.com/v1alpha1
      kind: SealedSecret
      inProgress: "status.?conditions.orValue([]).exists(c, c.type == 'Reconciling' && c.status == 'True')"
      failed: "status.?conditions.orValue([]).exists(c, c.type == 'Stalled' && c.status == 'True')"
      current: "status.?conditions.orValue([]).exists(c, c.type == 'Synced' && c.status == 'True')"
"#;

/// How long the Kustomization waits for health (`spec.timeout`).
const HEALTH_TIMEOUT: Duration = Duration::from_secs(60);

const TICK: Duration = Duration::from_millis(500);

struct Loop<'a> {
    cp: &'a ControlPlane,
    flux_ns: TestNamespace,
    app_ns: TestNamespace,
    repo: GitRepo,
    flux: Flux,
    controller: ControllerPod<'a>,
}

/// Flux's objects carry Flux's finalizers: deleted only while Flux runs.
/// Left behind, their namespace would stay Terminating for good (and the
/// fault tests that wait for a quiet cluster would wait in vain).
impl Drop for Loop<'_> {
    fn drop(&mut self) {
        let kubectl = self.flux_ns.kubectl();
        let kinds =
            "kustomizations.kustomize.toolkit.fluxcd.io,gitrepositories.source.toolkit.fluxcd.io";
        if kubectl
            .run(["delete", kinds, "--all", "--wait=true", "--timeout=60s"])
            .is_ok()
        {
            return;
        }
        for kind in kinds.split(',') {
            let names = kubectl.run(["get", kind, "-o", "name"]).unwrap_or_default();
            for name in names.lines().filter(|n| !n.is_empty()) {
                let _ = kubectl.run([
                    "patch",
                    name,
                    "--type=merge",
                    "-p",
                    r#"{"metadata":{"finalizers":null}}"#,
                ]);
            }
        }
    }
}

impl Loop<'_> {
    fn secret_yaml(&self, name: &str, value: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: {}\nstringData:\n  password: {value}\n",
            self.app_ns.name()
        )
    }

    /// Sealed by our kubeseal with the controller's certificate, fetched
    /// through the API server (kubeseal's defaults), or with `cert`.
    fn seal(&self, name: &str, value: &str, cert: Option<&str>) -> String {
        let mut args = vec!["-o", "yaml"];
        if let Some(cert) = cert {
            args.extend(["--cert", cert]);
        }
        succeeded(&kubeseal(self.cp, &args, &self.secret_yaml(name, value)).expect("kubeseal"))
    }

    /// Commits and asks Flux to fetch it now (as `flux reconcile source git`).
    fn commit(&self, message: &str, files: &[(&str, Option<&str>)]) -> String {
        let revision = self.repo.commit(message, files).expect("commit");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        self.flux_ns
            .kubectl()
            .run([
                "annotate",
                "--overwrite",
                "gitrepository/app",
                &format!("reconcile.fluxcd.io/requestedAt={now}"),
            ])
            .expect("request a fetch");
        revision
    }

    fn kustomization(&self) -> Value {
        self.flux_ns
            .kubectl()
            .get_json(["get", "kustomization", "app"])
            .unwrap_or(Value::Null)
    }

    /// The Kustomization's Ready condition once it has decided about
    /// `revision`: (status, reason, message).
    fn outcome(&self, revision: &str) -> (String, String, String) {
        poll(
            &format!("the Kustomization deciding about {revision}"),
            HEALTH_TIMEOUT * 2,
            TICK,
            || {
                let k = self.kustomization();
                let attempted = k["status"]["lastAttemptedRevision"]
                    .as_str()
                    .unwrap_or_default();
                let ready = k["status"]["conditions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|c| c["type"] == "Ready")
                    .cloned()
                    .unwrap_or(Value::Null);
                let status = ready["status"].as_str().unwrap_or_default();
                let text = |f: &str| ready[f].as_str().unwrap_or_default().to_string();
                Ok(
                    (attempted.ends_with(revision) && (status == "True" || status == "False"))
                        .then(|| (status.to_string(), text("reason"), text("message"))),
                )
            },
        )
        .unwrap_or_else(|e| {
            panic!(
                "{e}\nKustomization: {:#}\n{}\ncontroller:\n{}",
                self.kustomization(),
                self.flux.logs(),
                self.controller.logs()
            )
        })
    }

    fn ready(&self, revision: &str) {
        let (status, reason, message) = self.outcome(revision);
        assert_eq!(
            status,
            "True",
            "{reason}: {message}\n{}\ncontroller:\n{}",
            self.flux.logs(),
            self.controller.logs()
        );
    }

    fn sealed_secret(&self, name: &str) -> Option<Value> {
        self.app_ns
            .kubectl()
            .get_optional("sealedsecret", name)
            .expect("get sealedsecret")
    }

    fn condition(&self, name: &str, type_: &str) -> Value {
        self.sealed_secret(name)
            .and_then(|s| {
                s["status"]["conditions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|c| c["type"] == type_)
                    .cloned()
            })
            .unwrap_or(Value::Null)
    }
}

fn deployment(image: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  replicas: 1
  selector:
    matchLabels: {{app: app}}
  template:
    metadata:
      labels: {{app: app}}
    spec:
      automountServiceAccountToken: false
      terminationGracePeriodSeconds: 1
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        seccompProfile: {{type: RuntimeDefault}}
      containers:
        - name: app
          image: {image}
          imagePullPolicy: Never
          securityContext:
            allowPrivilegeEscalation: false
            capabilities: {{drop: [ALL]}}
          volumeMounts:
            - {{name: db, mountPath: /etc/db, readOnly: true}}
      volumes:
        - name: db
          secret: {{secretName: db}}
"#
    )
}

/// The pause image the node has (the only image it needs besides ours).
fn pause_image(cp: &ControlPlane) -> String {
    let mut list = std::process::Command::new(cp.repo_dir().join("scripts/control-plane"));
    list.arg("images");
    let out = list.output().expect("scripts/control-plane images");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .find(|l| l.contains("/pause:"))
        .map(String::from)
        .expect("the node has a pause image")
}

/// A certificate of a key no controller here holds: "another cluster".
fn foreign_certificate(dir: &std::path::Path) -> String {
    let cert = dir.join("other-cluster.pem");
    let status = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=another-cluster"])
        .arg("-keyout")
        .arg(dir.join("other-cluster.key"))
        .arg("-out")
        .arg(&cert)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl");
    assert!(status.success(), "openssl req");
    cert.to_string_lossy().into_owned()
}

#[test]
fn flux_applies_sealed_secrets_and_shows_the_ones_that_fail() {
    let cp = ControlPlane::shared().expect("control plane");
    let tools = GitopsTools::find(cp).expect("the GitOps tools");
    let controller = ControllerPod::deploy(cp).expect("our controller on the node");
    let flux_ns = TestNamespace::create(cp, "flux").expect("namespace");
    let app_ns = TestNamespace::create(cp, "app").expect("namespace");
    let repo = GitRepo::serve(&tools).expect("Git server");
    let flux = Flux::start(cp, &tools, flux_ns.name()).expect("Flux");
    let scratch = tempfile::tempdir().expect("tempdir");
    let other_cert = foreign_certificate(scratch.path());
    let flow = Loop {
        cp,
        flux_ns,
        app_ns,
        repo,
        flux,
        controller,
    };
    let app = flow.app_ns.name().to_string();

    // 1. A Secret sealed by our kubeseal and a Deployment that mounts it.
    let first = flow
        .repo
        .commit(
            "db and the app that uses it",
            &[
                ("app/db.yaml", Some(&flow.seal("db", "hunter2", None))),
                ("app/deployment.yaml", Some(&deployment(&pause_image(cp)))),
            ],
        )
        .expect("first commit");
    let source = format!(
        r#"apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: app
spec:
  interval: 10m
  url: {url}
  ref:
    branch: main
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: app
spec:
  interval: 10m
  retryInterval: 5s
  path: ./app
  prune: true
  wait: true
  timeout: {timeout}s
  targetNamespace: {app}
  sourceRef:
    kind: GitRepository
    name: app
{HEALTH_CHECK}"#,
        url = flow.repo.url,
        timeout = HEALTH_TIMEOUT.as_secs(),
    );
    flow.flux_ns.kubectl().apply(&source).expect("Flux objects");
    flow.ready(&first);
    assert_eq!(
        secret_value(&flow.app_ns, "db", "password").as_deref(),
        Some("hunter2")
    );
    let deployment = flow
        .app_ns
        .kubectl()
        .get_json(["get", "deployment", "app"])
        .expect("deployment");
    assert_eq!(
        deployment["status"]["availableReplicas"], 1,
        "the Pod runs with the Secret mounted: {deployment:#}"
    );

    // 2. One sealed for another cluster: not Ready, naming it; the
    // SealedSecret says why. Flux fails early (the SealedSecret is Stalled),
    // well within the health check's timeout.
    let started = Instant::now();
    let second = flow.commit(
        "a SealedSecret from another cluster",
        &[(
            "app/other.yaml",
            Some(&flow.seal("other", "from-elsewhere", Some(&other_cert))),
        )],
    );
    let (status, reason, message) = flow.outcome(&second);
    assert_eq!(status, "False", "{reason}: {message}");
    assert_eq!(reason, "HealthCheckFailed", "{message}");
    assert!(
        message.contains(&format!("SealedSecret/{app}/other status: 'Failed'")),
        "the Kustomization names the SealedSecret: {message}"
    );
    assert!(
        started.elapsed() < HEALTH_TIMEOUT,
        "failed early, not at the timeout: {:?}",
        started.elapsed()
    );
    let ready = flow.condition("other", "Ready");
    assert_eq!(ready["status"], "False", "{ready:#}");
    assert_eq!(ready["reason"], "DecryptFailed", "{ready:#}");
    assert!(
        ready["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("no key could decrypt secret (password)")),
        "{ready:#}"
    );
    assert_eq!(flow.condition("other", "Stalled")["status"], "True");
    assert!(!message.contains("from-elsewhere") && !ready.to_string().contains("from-elsewhere"));

    // 3. The fix, sealed for this cluster: Ready again.
    let third = flow.commit(
        "other sealed for this cluster",
        &[(
            "app/other.yaml",
            Some(&flow.seal("other", "from-here", None)),
        )],
    );
    flow.ready(&third);
    assert_eq!(
        secret_value(&flow.app_ns, "other", "password").as_deref(),
        Some("from-here")
    );
    assert_eq!(flow.condition("other", "Stalled"), Value::Null);

    // 4. Removed from Git: Flux prunes the SealedSecret, and its Secret goes
    // with it (owner reference, garbage collection).
    let fourth = flow.commit("other is not needed", &[("app/other.yaml", None)]);
    flow.ready(&fourth);
    assert!(flow.sealed_secret("other").is_none(), "pruned");
    poll(
        "the Secret of a pruned SealedSecret goes",
        Duration::from_secs(60),
        TICK,
        || {
            Ok(flow
                .app_ns
                .kubectl()
                .get_optional("secret", "other")?
                .is_none()
                .then_some(()))
        },
    )
    .expect("garbage collected");

    // 5. A new key, and the repository re-encrypted with it
    // (`kubeseal admin reencrypt`): everything stays Synced.
    let before = flow.sealed_secret("db").expect("db")["status"]["keyFingerprint"].clone();
    succeeded(&kubeseal(cp, &["admin", "keys", "rotate"], "").expect("rotate"));
    poll(
        "the controller seals with the new key",
        Duration::from_secs(60),
        TICK,
        || {
            let listed = succeeded(&kubeseal(cp, &["admin", "keys", "list"], "")?);
            Ok((listed.lines().filter(|l| l.contains("SHA256:")).count() >= 2).then_some(()))
        },
    )
    .expect("two keys");
    let app_dir = flow.repo.work_dir().join("app");
    succeeded(
        &kubeseal(cp, &["admin", "reencrypt", &app_dir.to_string_lossy()], "").expect("reencrypt"),
    );
    let fifth = flow.commit("re-encrypted with the new key", &[]);
    flow.ready(&fifth);
    let synced = flow.condition("db", "Synced");
    assert_eq!(synced["status"], "True", "{synced:#}");
    poll(
        "db records the new key",
        Duration::from_secs(60),
        TICK,
        || {
            let now = flow.sealed_secret("db").expect("db")["status"]["keyFingerprint"].clone();
            Ok((now != before && now.is_string()).then_some(()))
        },
    )
    .expect("re-encrypted db opened by the new key");
    assert_eq!(
        secret_value(&flow.app_ns, "db", "password").as_deref(),
        Some("hunter2")
    );
}

/// The health check this test proves is the one the README gives.
#[test]
fn the_readme_gives_this_health_check() {
    let readme = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"),
    )
    .expect("README.md");
    for line in HEALTH_CHECK.lines().skip(1) {
        assert!(
            readme.contains(line.trim()),
            "README lacks: {}",
            line.trim()
        );
    }
}
