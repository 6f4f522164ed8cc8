//! What GitOps tools make of the statuses our controller writes: kstatus
//! (sigs.k8s.io/cli-utils `status.Compute`, the library behind Flux's health
//! checks, `kubectl wait` and Fleet) and Argo CD's own SealedSecret
//! `health.lua`, both built by `scripts/install-tools gitops`, run on each
//! SealedSecret as `kubectl get sealedsecret NAME -o json` shows it.
//!
//! | case | kstatus | Argo CD |
//! |---|---|---|
//! | synced | Current | Healthy |
//! | a Stalled failure (DecryptFailed, TemplateFailed, SecretNotManaged, SecretInvalid, SecretImmutable) | Failed | Degraded |
//! | a retried failure (UpdateFailed: Reconciling) | InProgress | Degraded |
//! | no status yet | Current (kstatus' gap, see the README) | Progressing |
//! | generation not processed yet | InProgress | Progressing |
//!
//! Next to that, the conditions themselves: `Synced` first, `Ready` with the
//! reason, `Stalled` only for the failures that wait for a change,
//! `Reconciling` only for the retried one, each at the object's generation.
//! Then the way back to the reference: restarted with
//! `--kstatus-conditions=false` (or `SEALED_SECRETS_KSTATUS_CONDITIONS=false`)
//! the controller removes `Ready`, `Stalled` and `Reconciling` and keeps
//! `Synced`.
//!
//! Without the tools the tests fail (they are not skipped): run
//! `scripts/install-tools gitops` (`make test` does).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use sealed_secrets_e2e::controller::{Controller, ControllerOptions};
use sealed_secrets_e2e::helm::repo_dir;
use sealed_secrets_e2e::kubeconfig::service_account_kubeconfig;
use sealed_secrets_e2e::kubeseal::{kubeseal, succeeded};
use sealed_secrets_e2e::status::wait_synced_true;
use sealed_secrets_e2e::{poll, ControlPlane, TestNamespace};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(90);
const TICK: Duration = Duration::from_millis(250);
/// How long a status without the expected `Ready` is watched before the
/// checks report it.
const SETTLE: Duration = Duration::from_secs(5);
/// The conditions `--kstatus-conditions` adds next to `Synced`.
const KSTATUS_CONDITIONS: [&str; 3] = ["Ready", "Stalled", "Reconciling"];

/// The GitOps tools of `scripts/install-tools gitops`.
struct Tools {
    kstatus: PathBuf,
    argo_health: PathBuf,
    /// Argo CD's `resource_customizations/bitnami.com/SealedSecret/health.lua`.
    health_lua: PathBuf,
}

/// What a tool says about one object.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Verdict {
    status: String,
    message: String,
}

impl Tools {
    /// The tools, or a panic that says how to get them.
    fn find() -> Tools {
        let script = repo_dir().join("scripts").join("install-tools");
        let out = Command::new(&script)
            .arg("--print-gitops-dir")
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {} --print-gitops-dir: {e}", script.display()));
        assert!(
            out.status.success(),
            "{} --print-gitops-dir failed: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        let tools = Tools {
            kstatus: dir.join("kstatus"),
            argo_health: dir.join("argo-health"),
            health_lua: dir.join("argocd").join("SealedSecret").join("health.lua"),
        };
        for path in [&tools.kstatus, &tools.argo_health, &tools.health_lua] {
            assert!(
                path.is_file(),
                "{} is missing: run `scripts/install-tools gitops` (`make test` does)",
                path.display()
            );
        }
        tools
    }

    /// Runs `program args` with `input` on stdin; stdout (it must succeed).
    fn run(program: &Path, args: &[&str], input: &str) -> String {
        use std::io::Write;
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
        let out = child.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "{} {args:?} failed ({}): {}\n{}\ninput: {input}",
            program.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stdout).expect("utf-8 output")
    }

    /// kstatus' status of one object (JSON).
    fn kstatus(&self, object: &str) -> Verdict {
        let parsed: Value = serde_json::from_str(object).expect("object JSON");
        let who = format!(
            "{}/{}",
            parsed["metadata"]["namespace"].as_str().unwrap_or_default(),
            parsed["metadata"]["name"].as_str().unwrap_or_default()
        );
        let out = Self::run(&self.kstatus, &[], object);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "kstatus prints one line per object: {out:?}"
        );
        let mut fields = lines[0].splitn(3, '\t');
        let (name, status, message) = (fields.next(), fields.next(), fields.next());
        assert_eq!(name, Some(who.as_str()), "kstatus output {out:?}");
        Verdict {
            status: status.unwrap_or_default().to_string(),
            message: message.unwrap_or_default().to_string(),
        }
    }

    /// What Argo CD's health.lua says about one object (JSON or YAML).
    fn argo(&self, object: &str) -> Verdict {
        let script = self.health_lua.to_string_lossy();
        let out = Self::run(&self.argo_health, &["--script", &script], object);
        let line = out.trim_end_matches('\n');
        assert!(!line.contains('\n'), "argo-health prints one line: {out:?}");
        let (status, message) = line.split_once('\t').unwrap_or((line, ""));
        Verdict {
            status: status.to_string(),
            message: message.to_string(),
        }
    }
}

/// A message as the tools print it (tabs and line breaks as spaces).
fn one_line(message: &str) -> String {
    message
        .replace("\r\n", " ")
        .replace(['\t', '\n', '\r'], " ")
}

/// The condition of `type_` in a SealedSecret's status.
fn condition<'a>(ss: &'a Value, type_: &str) -> Option<&'a Value> {
    ss["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

/// Which conditions a case gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Synced=True, Ready=True reason `Unsealed`.
    Synced,
    /// Synced=False, Ready=False and Stalled=True with this reason.
    Stalled(&'static str),
    /// Synced=False, Ready=False and Reconciling=True with this reason.
    Reconciling(&'static str),
}

impl Outcome {
    fn synced(self) -> &'static str {
        match self {
            Outcome::Synced => "True",
            _ => "False",
        }
    }

    fn reason(self) -> &'static str {
        match self {
            Outcome::Synced => "Unsealed",
            Outcome::Stalled(r) | Outcome::Reconciling(r) => r,
        }
    }
}

/// Which controller a case runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// Ours, with the usual rights, in the test's namespace.
    Main,
    /// Ours in a second namespace, as a user that may not create Secrets.
    Restricted,
}

/// One namespace, the certificate its controller seals with, and the other one.
struct Env<'a> {
    cp: &'static ControlPlane,
    ns: &'a TestNamespace,
    /// The certificate of this namespace's controller.
    cert: &'a str,
    /// Another controller's certificate (as another cluster's).
    foreign: &'a str,
    controller: &'a Controller,
}

impl Env<'_> {
    fn seal_with(&self, cert: &str, name: &str, items: &[(&str, &str)]) -> Value {
        seal(self.cp, self.ns, cert, name, items)
    }

    fn seal(&self, name: &str, items: &[(&str, &str)]) -> Value {
        seal(self.cp, self.ns, self.cert, name, items)
    }

    fn apply(&self, object: &Value) {
        apply(self.ns, object);
    }
}

/// A SealedSecret (JSON) of an Opaque Secret with `items`, sealed with `cert`.
fn seal(
    cp: &ControlPlane,
    ns: &TestNamespace,
    cert: &str,
    name: &str,
    items: &[(&str, &str)],
) -> Value {
    let data: serde_json::Map<String, Value> = items
        .iter()
        .map(|(k, v)| {
            let encoded = base64::engine::general_purpose::STANDARD.encode(v);
            (k.to_string(), Value::from(encoded))
        })
        .collect();
    let secret = json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": name, "namespace": ns.name()},
        "type": "Opaque",
        "data": data,
    });
    let out =
        kubeseal(cp, &["--cert", cert, "-o", "json"], &secret.to_string()).expect("kubeseal runs");
    serde_json::from_str(&succeeded(&out)).expect("kubeseal writes JSON")
}

fn apply(ns: &TestNamespace, object: &Value) {
    ns.kubectl()
        .apply(&object.to_string())
        .unwrap_or_else(|e| panic!("apply {}: {e}", object["metadata"]["name"]));
}

/// A row of the table: how the SealedSecret is made and what is expected.
struct Case {
    name: &'static str,
    side: Side,
    outcome: Outcome,
    /// What kstatus and Argo CD's health.lua say.
    kstatus: &'static str,
    argo: &'static str,
    /// The status message starts with this.
    message_starts: &'static str,
    make: fn(&Env<'_>, &'static str),
}

fn with_immutable(mut sealed: Value) -> Value {
    sealed["spec"]["template"]["immutable"] = Value::from(true);
    sealed
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "synced",
            side: Side::Main,
            outcome: Outcome::Synced,
            kstatus: "Current",
            argo: "Healthy",
            message_starts: "",
            make: |env, name| env.apply(&env.seal(name, &[("password", "hunter2")])),
        },
        Case {
            name: "decrypt",
            side: Side::Main,
            outcome: Outcome::Stalled("DecryptFailed"),
            kstatus: "Failed",
            argo: "Degraded",
            message_starts: "no key could decrypt secret (",
            make: |env, name| {
                env.apply(&env.seal_with(env.foreign, name, &[("password", "hunter2")]))
            },
        },
        Case {
            name: "template",
            side: Side::Main,
            outcome: Outcome::Stalled("TemplateFailed"),
            kstatus: "Failed",
            argo: "Degraded",
            message_starts: "template: ",
            make: |env, name| {
                let mut sealed = env.seal(name, &[("x", "hunter2")]);
                sealed["spec"]["template"]["data"] = json!({"dsn": "{{ .x "});
                env.apply(&sealed);
            },
        },
        Case {
            name: "unmanaged",
            side: Side::Main,
            outcome: Outcome::Stalled("SecretNotManaged"),
            kstatus: "Failed",
            argo: "Degraded",
            message_starts: "failed update: Resource \"unmanaged\" already exists and is not managed by SealedSecret",
            make: |env, name| {
                env.ns
                    .kubectl()
                    .run(["create", "secret", "generic", name, "--from-literal=k=theirs"])
                    .expect("create the plain Secret first");
                env.apply(&env.seal(name, &[("password", "hunter2")]));
            },
        },
        Case {
            name: "invalid",
            side: Side::Main,
            outcome: Outcome::Stalled("SecretInvalid"),
            kstatus: "Failed",
            argo: "Degraded",
            message_starts: "Secret \"invalid\" is invalid: ",
            make: |env, name| env.apply(&env.seal(name, &[("a b", "1"), ("ok", "2")])),
        },
        Case {
            name: "immutable",
            side: Side::Main,
            outcome: Outcome::Stalled("SecretImmutable"),
            kstatus: "Failed",
            argo: "Degraded",
            message_starts: "Secret \"immutable\" is invalid: ",
            make: |env, name| {
                env.apply(&with_immutable(env.seal(name, &[("password", "first")])));
                let ss = wait_synced_true(env.ns, name, env.controller);
                assert_eq!(ss["metadata"]["generation"], 1, "{ss}");
                env.apply(&with_immutable(env.seal(name, &[("password", "second")])));
            },
        },
        Case {
            name: "retry",
            side: Side::Restricted,
            outcome: Outcome::Reconciling("UpdateFailed"),
            kstatus: "InProgress",
            argo: "Degraded",
            message_starts: "secrets is forbidden: ",
            make: |env, name| env.apply(&env.seal(name, &[("password", "hunter2")])),
        },
    ]
}

/// `kubectl get sealedsecret NAME -o json`: the text the tools read, parsed.
fn get(ns: &TestNamespace, name: &str) -> (String, Value) {
    let text = ns
        .kubectl()
        .run(["get", "sealedsecret", name, "-o", "json"])
        .unwrap_or_else(|e| panic!("get sealedsecret {name}: {e}"));
    let value = serde_json::from_str(&text).expect("SealedSecret JSON");
    (text, value)
}

/// Waits until `name` shows `outcome` at its generation: Synced as expected
/// and Ready with the reason, or Synced as expected for [`SETTLE`] (one
/// status write brings them all; the checks then say what is missing). On
/// timeout it says so and returns what is there, for the checks to report
/// precisely.
fn wait_outcome(
    ns: &TestNamespace,
    name: &str,
    outcome: Outcome,
    log: &dyn Fn() -> String,
) -> (String, Value, Option<String>) {
    let mut synced_since: Option<Instant> = None;
    let waited = poll(
        &format!("{name}: Synced={} at its generation", outcome.synced()),
        WAIT,
        TICK,
        || {
            let (text, ss) = get(ns, name);
            let current = !ss["metadata"]["generation"].is_null()
                && ss["status"]["observedGeneration"] == ss["metadata"]["generation"];
            let synced = condition(&ss, "Synced").is_some_and(|c| c["status"] == outcome.synced());
            let ready = condition(&ss, "Ready").is_some_and(|c| c["reason"] == outcome.reason());
            if !(current && synced) {
                synced_since = None;
                return Ok(None);
            }
            let since = *synced_since.get_or_insert_with(Instant::now);
            Ok((ready || since.elapsed() > SETTLE).then_some((text, ss)))
        },
    );
    match waited {
        Ok((text, ss)) => (text, ss, None),
        Err(e) => {
            let (text, ss) = get(ns, name);
            (text, ss, Some(format!("{e}\ncontroller log:\n{}", log())))
        }
    }
}

/// What is wrong with the conditions of `ss` for `outcome`.
fn check_conditions(ss: &Value, outcome: Outcome, message_starts: &str) -> Vec<String> {
    let mut wrong = Vec::new();
    let generation = &ss["metadata"]["generation"];
    if ss["status"]["observedGeneration"] != *generation {
        wrong.push(format!(
            "status.observedGeneration {} is not metadata.generation {generation}",
            ss["status"]["observedGeneration"]
        ));
    }
    let conditions = ss["status"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if conditions.first().map(|c| &c["type"]) != Some(&Value::from("Synced")) {
        wrong.push("conditions[0] is not Synced".into());
    }
    for type_ in ["Synced", "Ready", "Stalled", "Reconciling"] {
        let n = conditions.iter().filter(|c| c["type"] == type_).count();
        if n > 1 {
            wrong.push(format!("{n} conditions of type {type_}"));
        }
    }
    let Some(synced) = condition(ss, "Synced") else {
        wrong.push("no Synced condition".into());
        return wrong;
    };
    if synced["status"] != outcome.synced() {
        wrong.push(format!(
            "Synced is {}, not {}",
            synced["status"],
            outcome.synced()
        ));
    }
    let message = text(&synced["message"]);
    if outcome != Outcome::Synced && !message.starts_with(message_starts) {
        wrong.push(format!(
            "the message does not start with {message_starts:?}: {message:?}"
        ));
    }
    // Synced is the reference's condition; where it has a generation, it is this one.
    if !synced["observedGeneration"].is_null() && synced["observedGeneration"] != *generation {
        wrong.push(format!(
            "Synced.observedGeneration {} is not {generation}",
            synced["observedGeneration"]
        ));
    }
    let expected = |type_: &str| {
        matches!(
            (type_, outcome),
            ("Ready", _)
                | ("Stalled", Outcome::Stalled(_))
                | ("Reconciling", Outcome::Reconciling(_))
        )
    };
    for type_ in KSTATUS_CONDITIONS {
        let found = condition(ss, type_);
        match (found, expected(type_)) {
            (None, true) => wrong.push(format!("no {type_} condition")),
            (Some(c), false) => wrong.push(format!("a {type_} condition: {c}")),
            (None, false) => {}
            (Some(c), true) => {
                let status = if type_ == "Ready" {
                    outcome.synced()
                } else {
                    "True"
                };
                if c["status"] != status {
                    wrong.push(format!("{type_} is {}, not {status}", c["status"]));
                }
                if c["reason"] != outcome.reason() {
                    wrong.push(format!(
                        "{type_} reason {}, not {}",
                        c["reason"],
                        outcome.reason()
                    ));
                }
                if c["message"] != synced["message"] {
                    wrong.push(format!(
                        "{type_} message {} is not Synced's {}",
                        c["message"], synced["message"]
                    ));
                }
                if c["observedGeneration"] != *generation {
                    wrong.push(format!(
                        "{type_}.observedGeneration {} is not metadata.generation {generation}",
                        c["observedGeneration"]
                    ));
                }
                if c["lastTransitionTime"].as_str().is_none_or(str::is_empty) {
                    wrong.push(format!("{type_} has no lastTransitionTime"));
                }
            }
        }
    }
    wrong
}

/// What is wrong with what kstatus and Argo CD say about `text` (`ss`).
fn check_tools(
    tools: &Tools,
    text: &str,
    ss: &Value,
    kstatus: &str,
    argo: &str,
) -> (Verdict, Verdict, Vec<String>) {
    let mut wrong = Vec::new();
    let k = tools.kstatus(text);
    let a = tools.argo(text);
    if k.status != kstatus {
        wrong.push(format!("kstatus says {k:?}, not {kstatus}"));
    }
    if a.status != argo {
        wrong.push(format!("Argo CD says {a:?}, not {argo}"));
    }
    let message = one_line(text_of(condition(ss, "Synced"), "message"));
    // kstatus shows the message of Stalled or Reconciling, Argo CD Synced's.
    let shows_message = kstatus == "Failed" || condition(ss, "Reconciling").is_some();
    if shows_message && k.message != message {
        wrong.push(format!(
            "kstatus' message {:?} is not the status message {message:?}",
            k.message
        ));
    }
    if argo == "Degraded" && a.message != message {
        wrong.push(format!(
            "Argo CD's message {:?} is not the status message {message:?}",
            a.message
        ));
    }
    (k, a, wrong)
}

fn text_of<'a>(value: Option<&'a Value>, field: &str) -> &'a str {
    value.map(|v| text(&v[field])).unwrap_or_default()
}

/// A ServiceAccount of `ns` that may read SealedSecrets and Secrets, update
/// SealedSecrets' status and write Events, but not create Secrets; a
/// kubeconfig holding only its token.
fn restricted_kubeconfig(cp: &ControlPlane, ns: &TestNamespace, dir: &Path) -> PathBuf {
    let account = "kstatus-restricted";
    let path = dir.join("restricted.kubeconfig");
    service_account_kubeconfig(
        cp,
        ns,
        account,
        &[
            "{apiGroups: [bitnami.com], resources: [sealedsecrets], verbs: [get, list, watch]}",
            "{apiGroups: [bitnami.com], resources: [sealedsecrets/status], verbs: [update]}",
            r#"{apiGroups: [""], resources: [secrets], verbs: [get, list, watch]}"#,
            r#"{apiGroups: [""], resources: [events], verbs: [create, patch]}"#,
        ],
        &path,
    )
    .expect("restricted user");
    let user = format!("system:serviceaccount:{}:{account}", ns.name());
    let can = |args: &[&str]| {
        let mut all = vec!["auth", "can-i"];
        all.extend_from_slice(args);
        all.extend(["--as", &user]);
        ns.kubectl().run(all).is_ok()
    };
    assert!(can(&[
        "update",
        "sealedsecrets.bitnami.com",
        "--subresource=status"
    ]));
    assert!(can(&["watch", "secrets"]));
    assert!(!can(&["create", "secrets"]), "{user} may create Secrets");
    path
}

/// Its certificate, written to `dir`.
fn cert_of(controller: &Controller, dir: &Path, file: &str) -> String {
    let (code, pem) = controller.get("/v1/cert.pem").expect("cert.pem");
    assert_eq!(code, 200, "{pem}");
    let path = dir.join(file);
    std::fs::write(&path, pem).expect("write cert");
    path.to_string_lossy().into_owned()
}

/// Stops `controller` with SIGTERM once it is ready (`/readyz`): a
/// controller stopped while its first list is under way may never exit
/// (kube-runtime's applier then waits for a store that is never ready).
fn stop(controller: Controller) {
    poll("the controller to be ready", WAIT, TICK, || {
        Ok((controller.get("/readyz")?.0 == 200).then_some(()))
    })
    .unwrap_or_else(|e| panic!("{e}\ncontroller log:\n{}", controller.log()));
    let log = controller.log();
    let status = controller
        .stop()
        .unwrap_or_else(|e| panic!("{e}\ncontroller log:\n{log}"));
    assert!(status.success(), "SIGTERM exits cleanly: {status}\n{log}");
}

/// Waits until none of `names` has Ready, Stalled or Reconciling and each is
/// processed at its generation with Synced first; returns them.
fn wait_kstatus_conditions_removed(
    ns: &TestNamespace,
    names: &[&str],
    log: &dyn Fn() -> String,
) -> Vec<(String, Value)> {
    let started = Instant::now();
    let objects = poll(
        &format!("{names:?} without {KSTATUS_CONDITIONS:?}"),
        WAIT,
        TICK,
        || {
            let objects: Vec<(String, Value)> = names.iter().map(|n| get(ns, n)).collect();
            let done = objects.iter().all(|(_, ss)| {
                KSTATUS_CONDITIONS
                    .iter()
                    .all(|t| condition(ss, t).is_none())
                    && ss["status"]["observedGeneration"] == ss["metadata"]["generation"]
                    && ss["status"]["conditions"][0]["type"] == "Synced"
            });
            Ok(done.then_some(objects))
        },
    )
    .unwrap_or_else(|e| {
        let now: Vec<Value> = names
            .iter()
            .map(|n| get(ns, n).1["status"].clone())
            .collect();
        panic!("{e}\nstatuses: {}\ncontroller log:\n{}", json!(now), log())
    });
    eprintln!(
        "{names:?}: kstatus conditions removed {:?} after the restart",
        started.elapsed()
    );
    objects
}

/// Argo CD's own test cases for its SealedSecret health check
/// (`health_test.yaml`) give what Argo CD's tests expect through
/// `argo-health`: the harness runs the script as Argo CD does.
#[test]
fn argo_health_passes_argo_cds_own_test_cases() {
    let tools = Tools::find();
    let dir = tools.health_lua.parent().expect("dir");
    let spec: Value = serde_yaml::from_str(
        &std::fs::read_to_string(dir.join("health_test.yaml")).expect("health_test.yaml"),
    )
    .expect("health_test.yaml is YAML");
    let tests = spec["tests"].as_array().cloned().unwrap_or_default();
    assert!(tests.len() >= 4, "{spec}");
    for test in tests {
        let input = std::fs::read_to_string(dir.join(text(&test["inputPath"]))).expect("input");
        let got = tools.argo(&input);
        let want = Verdict {
            status: text(&test["healthStatus"]["status"]).to_string(),
            message: text(&test["healthStatus"]["message"]).to_string(),
        };
        assert_eq!(got, want, "{}", test["inputPath"]);
    }
}

#[test]
fn kstatus_and_argo_cd_read_the_statuses_the_controller_writes() {
    let tools = Tools::find();
    let started = Instant::now();
    let cp = ControlPlane::shared().expect("control plane");
    let dir = tempfile::tempdir().expect("tempdir");
    let ns = TestNamespace::create(cp, "kstatus").expect("namespace");
    let other = TestNamespace::create(cp, "kstatus-restricted").expect("namespace");

    // The second namespace's key, made by an ordinary controller that then
    // stops: its certificate is "another certificate" for the first.
    let keymaker = ControllerOptions::for_namespace(&other)
        .start(cp)
        .expect("controller starts");
    let other_cert = cert_of(&keymaker, dir.path(), "other.pem");
    stop(keymaker);
    let restricted = ControllerOptions::for_namespace(&other)
        .kubeconfig(restricted_kubeconfig(cp, &other, dir.path()))
        .start(cp)
        .expect("restricted controller starts");
    let controller = ControllerOptions::for_namespace(&ns)
        .start(cp)
        .expect("controller");
    let cert = cert_of(&controller, dir.path(), "cert.pem");
    assert_ne!(
        std::fs::read_to_string(&cert).ok(),
        std::fs::read_to_string(&other_cert).ok(),
        "two controllers, two keys"
    );
    eprintln!("controllers up after {:?}", started.elapsed());

    // Phase 1: one SealedSecret per row, then what each says.
    {
        let main = Env {
            cp,
            ns: &ns,
            cert: &cert,
            foreign: &other_cert,
            controller: &controller,
        };
        let second = Env {
            cp,
            ns: &other,
            cert: &other_cert,
            foreign: &cert,
            controller: &restricted,
        };
        let env = |side: Side| match side {
            Side::Main => &main,
            Side::Restricted => &second,
        };

        let cases = cases();
        for case in &cases {
            (case.make)(env(case.side), case.name);
        }
        let mut wrong = Vec::new();
        let mut table = Vec::new();
        for case in &cases {
            let env = env(case.side);
            let (text, ss, timeout) =
                wait_outcome(env.ns, case.name, case.outcome, &|| env.controller.log());
            let mut problems: Vec<String> = timeout.into_iter().collect();
            problems.extend(check_conditions(&ss, case.outcome, case.message_starts));
            let (k, a, tool_problems) = check_tools(&tools, &text, &ss, case.kstatus, case.argo);
            problems.extend(tool_problems);
            table.push(format!(
                "{:<10} {:<22} kstatus {:<10} Argo CD {:<9} {:?}",
                case.name,
                case.outcome.reason(),
                k.status,
                a.status,
                k.message
            ));
            if !problems.is_empty() {
                wrong.push(format!(
                    "{} ({:?}):\n  {}\n  status: {}",
                    case.name,
                    case.outcome,
                    problems.join("\n  "),
                    ss["status"]
                ));
            }
        }
        eprintln!("after {:?}:\n{}", started.elapsed(), table.join("\n"));
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
        let ahead = main.seal("ahead", &[("password", "first")]);
        main.apply(&ahead);
        wait_synced_true(&ns, "ahead", &controller);
    }

    // Phase 2: while no controller runs, a SealedSecret with no status yet
    // and one whose spec changed after it was synced.
    let log = controller.log();
    stop(controller);
    apply(
        &ns,
        &seal(cp, &ns, &cert, "fresh", &[("password", "hunter2")]),
    );
    apply(
        &ns,
        &seal(cp, &ns, &cert, "ahead", &[("password", "second")]),
    );
    let (text, fresh) = get(&ns, "fresh");
    assert!(
        fresh["status"].is_null()
            || fresh["status"]["conditions"]
                .as_array()
                .is_none_or(Vec::is_empty),
        "fresh has a status although no controller of this test runs (does a concurrent \
         test run a controller for all namespaces on this control plane?): {fresh}"
    );
    let (k, a, problems) = check_tools(&tools, &text, &fresh, "Current", "Progressing");
    assert!(problems.is_empty(), "no status yet: {problems:?}\n{fresh}");
    eprintln!("fresh      (no status)            kstatus {k:?} Argo CD {a:?}");
    let (text, behind) = get(&ns, "ahead");
    assert_eq!(behind["metadata"]["generation"], 2, "{behind}");
    assert_eq!(behind["status"]["observedGeneration"], 1, "{behind}");
    assert!(
        condition(&behind, "Ready").is_some_and(|c| c["status"] == "True"),
        "{behind}"
    );
    let (k, a, problems) = check_tools(&tools, &text, &behind, "InProgress", "Progressing");
    assert!(
        problems.is_empty(),
        "generation ahead: {problems:?}\n{behind}"
    );
    assert!(k.message.contains("generation is 2"), "{k:?}");
    eprintln!("ahead      (generation 2 of 1)    kstatus {k:?} Argo CD {a:?}");

    // Phase 3: the way back to the reference. Restarted with
    // --kstatus-conditions=false, the controller (which reconciles
    // everything at start) removes Ready, Stalled and Reconciling and keeps
    // Synced; the restricted one the same with the environment variable.
    let before: Vec<(&str, Value)> = [
        "synced",
        "decrypt",
        "template",
        "unmanaged",
        "invalid",
        "immutable",
    ]
    .into_iter()
    .map(|n| {
        (
            n,
            condition(&get(&ns, n).1, "Synced")
                .cloned()
                .unwrap_or_default(),
        )
    })
    .collect();
    let retry_before = condition(&get(&other, "retry").1, "Synced")
        .cloned()
        .unwrap_or_default();
    let options = ControllerOptions::for_namespace(&ns).arg("--kstatus-conditions=false");
    let restart = Instant::now();
    let controller = options
        .start(cp)
        .unwrap_or_else(|e| panic!("{e}\nlog before:\n{log}"));
    let mut names: Vec<&str> = before.iter().map(|(n, _)| *n).collect();
    names.extend(["ahead", "fresh"]);
    let objects = wait_kstatus_conditions_removed(&ns, &names, &|| controller.log());
    eprintln!("main controller: {:?} from restart", restart.elapsed());
    drop(restricted);
    let restricted = ControllerOptions::for_namespace(&other)
        .kubeconfig(dir.path().join("restricted.kubeconfig"))
        .env("SEALED_SECRETS_KSTATUS_CONDITIONS", "false")
        .start(cp)
        .expect("restricted controller");
    let retried = wait_kstatus_conditions_removed(&other, &["retry"], &|| restricted.log());

    let mut wrong = Vec::new();
    let all = objects
        .iter()
        .zip(&names)
        .map(|(o, n)| (*n, o))
        .chain([("retry", &retried[0])]);
    for (name, (text, ss)) in all {
        let synced = condition(ss, "Synced").cloned().unwrap_or_default();
        let was = match name {
            "retry" => Some(&retry_before),
            _ => before.iter().find(|(n, _)| *n == name).map(|(_, c)| c),
        };
        let expect_true = matches!(name, "synced" | "ahead" | "fresh");
        let status = if expect_true { "True" } else { "False" };
        if synced["status"] != status {
            wrong.push(format!(
                "{name}: Synced is {}, not {status}: {ss}",
                synced["status"]
            ));
        }
        if let Some(was) = was {
            let said = |c: &Value| {
                (
                    c["status"].clone(),
                    c["message"].clone(),
                    c["lastTransitionTime"].clone(),
                )
            };
            if said(&synced) != said(was) {
                wrong.push(format!("{name}: Synced changed from {was} to {synced}"));
            }
        }
        // Argo CD reads Synced only: it says the same as before.
        let a = tools.argo(text);
        let argo = if expect_true { "Healthy" } else { "Degraded" };
        if a.status != argo {
            wrong.push(format!("{name}: Argo CD says {a:?}, not {argo}"));
        }
        let k = tools.kstatus(text);
        eprintln!(
            "{name:<10} Synced={status:<5} kstatus {:<10} Argo CD {}",
            k.status, a.status
        );
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    eprintln!("done after {:?}", started.elapsed());
}
