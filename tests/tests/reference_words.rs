//! The same failing SealedSecrets under the reference v0.40.0 controller and
//! ours: the message of our `Synced` condition starts with the reference's
//! (tools that match on its words keep working), and may go on with what to
//! do about it (". Seal these items again ...", ". Delete that Secret, or
//! annotate it ...", ". The target Secret is immutable: ...", the keys a
//! Secret cannot have). Ours never shows a value; the reference does in
//! one place, the argument of sprig's `fail` (`{{ fail .password }}`),
//! which ours leaves out: there ours says the reference's words up to
//! `error calling fail: `, then that it does not show the message.
//!
//! Two things the reference leaves to chance are compared as sets: which
//! keys share a line (`no key could decrypt secret (a, b)`: Go map order)
//! and the order of the lines when items fail for different reasons
//! (`errors.Join`, one line per reason, in map order). Our `Ready` and
//! `Stalled` conditions give the reason of the design table.
//!
//! The reference runs in one namespace (in-cluster credentials, see
//! [`ControllerOptions::in_cluster`]) and ours in another, at the same
//! time, each with its own key; "sealed for another key" is sealed with the
//! other controller's certificate, as for another cluster. Without the
//! reference binary the test prints `SKIPPED: ...` and passes, unless
//! `REQUIRE_REFERENCE=1`.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use sealed_secrets_e2e::binaries::reference_controller;
use sealed_secrets_e2e::controller::{Controller, ControllerOptions};
use sealed_secrets_e2e::kubeseal::{kubeseal, succeeded};
use sealed_secrets_e2e::status::{synced, wait_synced_true};
use sealed_secrets_e2e::{poll, ControlPlane, TestNamespace};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(90);
const TICK: Duration = Duration::from_millis(250);

/// The values sealed; no message may show them.
const VALUE: &str = "Hunter2-words-VALUE";
const CHANGED: &str = "Changed-words-VALUE";

/// One controller, its namespace and its certificate.
struct Side {
    label: &'static str,
    ns: TestNamespace,
    controller: Controller,
    cert: String,
}

impl Side {
    fn start(
        cp: &ControlPlane,
        label: &'static str,
        binary: Option<PathBuf>,
        dir: &tempfile::TempDir,
    ) -> Self {
        let ns = TestNamespace::create(cp, &format!("words-{label}")).expect("namespace");
        let options = ControllerOptions::for_namespace(&ns);
        let controller = match binary {
            Some(binary) => options.binary(binary).in_cluster().start(cp),
            None => options.start(cp),
        }
        .unwrap_or_else(|e| panic!("{label} controller starts: {e}"));
        let (code, pem) = controller.get("/v1/cert.pem").expect("GET /v1/cert.pem");
        assert_eq!(code, 200, "{label}: {pem}");
        let cert = dir.path().join(format!("{label}.pem"));
        std::fs::write(&cert, pem).expect("write cert");
        Side {
            label,
            ns,
            controller,
            cert: cert.to_string_lossy().into_owned(),
        }
    }
}

/// Seals for one side: with its own certificate, or the other side's.
struct Sealer<'a> {
    cp: &'a ControlPlane,
    namespace: &'a str,
    cert: &'a str,
    foreign: &'a str,
}

impl Sealer<'_> {
    fn seal_with(&self, cert: &str, name: &str, items: &[(&str, &str)]) -> Value {
        let data: serde_json::Map<String, Value> = items
            .iter()
            .map(|(k, v)| (k.to_string(), Value::from(b64(v))))
            .collect();
        let secret = json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": name, "namespace": self.namespace},
            "type": "Opaque",
            "data": data,
        });
        let out = kubeseal(
            self.cp,
            &["--cert", cert, "-o", "json"],
            &secret.to_string(),
        )
        .expect("kubeseal runs");
        serde_json::from_str(&succeeded(&out)).expect("kubeseal writes JSON")
    }

    /// Sealed for this side's controller.
    fn own(&self, name: &str, items: &[(&str, &str)]) -> Value {
        self.seal_with(self.cert, name, items)
    }

    /// Sealed for the other controller's key (as for another cluster).
    fn foreign(&self, name: &str, items: &[(&str, &str)]) -> Value {
        self.seal_with(self.foreign, name, items)
    }

    /// One item sealed for the other controller, to add to an object.
    fn foreign_item(&self, name: &str, key: &str) -> Value {
        self.foreign(name, &[(key, VALUE)])["spec"]["encryptedData"][key].clone()
    }
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// How our message relates to the reference's.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// It starts with the reference's (modulo Go map order).
    StartsWith,
    /// Sprig's `fail`: the reference shows its argument, which may be a
    /// value (`{{ fail .password }}`); ours says the same up to
    /// `error calling fail: ` and then that it does not show it. The
    /// argument the reference shows is given.
    FailHidden(&'static str),
}

/// A failing SealedSecret.
struct Case {
    name: &'static str,
    /// The reason of our `Ready` (and `Stalled`) condition.
    reason: &'static str,
    /// The SealedSecret, for one side.
    build: fn(&Sealer<'_>, &'static str) -> Value,
    /// Done before it is created.
    prepare: Option<fn(&TestNamespace, &'static str)>,
    /// Applied once the first version is synced: the change that fails.
    then: Option<fn(&Sealer<'_>, &'static str) -> Value>,
    expect: Expect,
}

impl Case {
    const fn new(
        name: &'static str,
        reason: &'static str,
        build: fn(&Sealer<'_>, &'static str) -> Value,
    ) -> Self {
        Self {
            name,
            reason,
            build,
            prepare: None,
            then: None,
            expect: Expect::StartsWith,
        }
    }
}

fn with_item(mut sealed: Value, key: &str, value: Value) -> Value {
    sealed["spec"]["encryptedData"][key] = value;
    sealed
}

fn with_template(mut sealed: Value, key: &str, template: &str) -> Value {
    sealed["spec"]["template"]["data"][key] = Value::from(template);
    sealed
}

fn cases() -> Vec<Case> {
    vec![
        Case::new("other-key", "DecryptFailed", |s, n| {
            s.foreign(n, &[("password", VALUE)])
        }),
        // One reason, two keys: `(password, user)` in Go map order.
        Case::new("other-key-two", "DecryptFailed", |s, n| {
            s.foreign(n, &[("password", VALUE), ("user", VALUE)])
        }),
        Case::new("not-base64", "DecryptFailed", |s, n| {
            with_item(s.own(n, &[("user", VALUE)]), "a", Value::from("%%%"))
        }),
        // One reason (the same offset), two keys: one line.
        Case::new("not-base64-two", "DecryptFailed", |s, n| {
            let sealed = with_item(s.own(n, &[("user", VALUE)]), "c", Value::from("%%%"));
            with_item(sealed, "a", Value::from("%%%"))
        }),
        Case::new("bad-padding", "DecryptFailed", |s, n| {
            with_item(s.own(n, &[("user", VALUE)]), "b", Value::from("AB=C"))
        }),
        // Two reasons: one line each, in Go map order.
        Case::new("two-reasons", "DecryptFailed", |s, n| {
            let sealed = with_item(s.own(n, &[("user", VALUE)]), "a", Value::from("%%%"));
            with_item(sealed, "password", s.foreign_item(n, "password"))
        }),
        Case::new("three-reasons", "DecryptFailed", |s, n| {
            let sealed = with_item(s.own(n, &[("user", VALUE)]), "a", Value::from("%%%"));
            let sealed = with_item(sealed, "b", Value::from("AB=C"));
            with_item(sealed, "password", s.foreign_item(n, "password"))
        }),
        Case::new("template-parse", "TemplateFailed", |s, n| {
            with_template(s.own(n, &[("password", VALUE)]), "broken", "{{ .x ")
        }),
        // Sprig's fail: the reference shows its argument, a literal here...
        Case {
            expect: Expect::FailHidden("boom"),
            ..Case::new("template-fail", "TemplateFailed", |s, n| {
                with_template(
                    s.own(n, &[("password", VALUE)]),
                    "failed",
                    r#"{{ fail "boom" }}"#,
                )
            })
        },
        // ... or a value: the reason ours shows neither.
        Case {
            expect: Expect::FailHidden(VALUE),
            ..Case::new("template-fail-value", "TemplateFailed", |s, n| {
                with_template(
                    s.own(n, &[("password", VALUE)]),
                    "failed",
                    "{{ fail .password }}",
                )
            })
        },
        Case::new("template-undefined", "TemplateFailed", |s, n| {
            with_template(
                s.own(n, &[("password", VALUE)]),
                "undefined",
                r#"{{ template "nope" }}"#,
            )
        }),
        Case::new("template-len", "TemplateFailed", |s, n| {
            with_template(s.own(n, &[("password", VALUE)]), "length", "{{ len 3 }}")
        }),
        Case::new("template-two", "TemplateFailed", |s, n| {
            let sealed = with_template(s.own(n, &[("password", VALUE)]), "broken", "{{ .x ");
            with_template(sealed, "length", "{{ len 3 }}")
        }),
        // The reference renders the templates even when an item did not open.
        Case::new("decrypt-and-template", "DecryptFailed", |s, n| {
            with_template(s.foreign(n, &[("password", VALUE)]), "broken", "{{ .x ")
        }),
        Case::new("both-fields", "InvalidSealedSecret", |s, n| {
            let mut sealed = s.own(n, &[("user", VALUE)]);
            sealed["spec"]["data"] = Value::from(b64("not a sealed blob"));
            sealed
        }),
        // The deprecated single blob, which no key opens: shorter than the
        // RSA part its first two bytes announce...
        Case::new("data-only", "DecryptFailed", |s, n| {
            data_only(s.own(n, &[("user", VALUE)]), &[b'x'; 300])
        }),
        // ... and long enough.
        Case::new("data-only-long", "DecryptFailed", |s, n| {
            let mut blob = vec![1, 0];
            blob.extend([b'x'; 256 + 64]);
            data_only(s.own(n, &[("user", VALUE)]), &blob)
        }),
        Case {
            prepare: Some(|ns, n| {
                ns.kubectl()
                    .run(["create", "secret", "generic", n, "--from-literal=k=theirs"])
                    .expect("create the Secret first");
            }),
            ..Case::new("unmanaged", "SecretNotManaged", |s, n| {
                s.own(n, &[("password", VALUE)])
            })
        },
        Case {
            then: Some(|s, n| immutable(s.own(n, &[("password", CHANGED)]))),
            ..Case::new("immutable", "SecretImmutable", |s, n| {
                immutable(s.own(n, &[("password", VALUE)]))
            })
        },
        // A Secret's type cannot change (nor is it `immutable: true`).
        Case {
            then: Some(|s, n| {
                let mut sealed = s.own(n, &[("username", VALUE), ("password", CHANGED)]);
                sealed["spec"]["template"]["type"] = Value::from("kubernetes.io/basic-auth");
                sealed
            }),
            ..Case::new("type-change", "SecretInvalid", |s, n| {
                s.own(n, &[("username", VALUE), ("password", VALUE)])
            })
        },
        Case::new("bad-key", "SecretInvalid", |s, n| {
            s.own(n, &[("a b", VALUE), ("ok", VALUE)])
        }),
        Case::new("tls-without-keys", "SecretInvalid", |s, n| {
            let mut sealed = s.own(n, &[("password", VALUE)]);
            sealed["spec"]["template"]["type"] = Value::from("kubernetes.io/tls");
            sealed
        }),
        Case::new("bad-label", "SecretInvalid", |s, n| {
            let mut sealed = s.own(n, &[("password", VALUE)]);
            sealed["spec"]["template"]["metadata"]["labels"] = json!({"team": "not a label!"});
            sealed
        }),
        Case::new("too-big", "SecretInvalid", |s, n| {
            s.own(n, &[("v", &"x".repeat(1 << 20)), ("w", "x")])
        }),
    ]
}

/// `sealed` with no items and `blob` as the deprecated `spec.data`.
fn data_only(mut sealed: Value, blob: &[u8]) -> Value {
    sealed["spec"]["encryptedData"] = json!({});
    sealed["spec"]["data"] = Value::from(base64::engine::general_purpose::STANDARD.encode(blob));
    sealed
}

fn immutable(mut sealed: Value) -> Value {
    sealed["spec"]["template"]["immutable"] = Value::from(true);
    sealed
}

/// Waits until `name` is Synced=False at its generation; the SealedSecret.
fn wait_failed(side: &Side, name: &str) -> Value {
    poll(
        &format!("{}: {name} Synced=False", side.label),
        WAIT,
        TICK,
        || {
            Ok(synced(&side.ns, name)
                .filter(|(status, _, ss)| {
                    status == "False"
                        && ss["status"]["observedGeneration"] == ss["metadata"]["generation"]
                })
                .map(|(_, _, ss)| ss))
        },
    )
    .unwrap_or_else(|e| {
        panic!(
            "{e}: {:#?}\n{} controller log:\n{}",
            synced(&side.ns, name).map(|(s, m, _)| (s, m)),
            side.label,
            side.controller.log()
        )
    })
}

fn condition<'a>(ss: &'a Value, type_: &str) -> Option<&'a Value> {
    ss["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
}

fn message(ss: &Value) -> String {
    condition(ss, "Synced")
        .and_then(|c| c["message"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// `(a, b)` at the end of `text`: the keys Go's multierror tags a line with.
/// `None` when the parentheses hold anything but key names.
fn tagged(text: &str) -> Option<(&str, BTreeSet<&str>)> {
    let inner = text.strip_suffix(')')?;
    let open = inner.rfind(" (")?;
    let keys: BTreeSet<&str> = inner[open + 2..].split(", ").collect();
    let names = keys
        .iter()
        .all(|k| !k.is_empty() && !k.contains([' ', '(', ')']));
    names.then_some((&text[..open + 2], keys))
}

/// Whether our line starts with the reference's, the keys of a tagged line
/// in any order.
fn line_starts_with(ours: &str, reference: &str) -> bool {
    let Some((head, keys)) = tagged(reference) else {
        return ours.starts_with(reference);
    };
    let Some(rest) = ours.strip_prefix(head) else {
        return false;
    };
    rest.find(')')
        .is_some_and(|close| rest[..close].split(", ").collect::<BTreeSet<_>>() == keys)
}

/// Whether `ours` starts with `reference`, modulo the order of the lines and
/// of the keys in each line (the reference's come in Go map order). Our
/// hint, after the reference's text, may follow any line's keys.
fn starts_like(ours: &str, reference: &str) -> bool {
    fn assign(ours: &mut Vec<&str>, reference: &[&str]) -> bool {
        let Some((first, rest)) = reference.split_first() else {
            return true;
        };
        for i in 0..ours.len() {
            if line_starts_with(ours[i], first) {
                let line = ours.remove(i);
                if assign(ours, rest) {
                    return true;
                }
                ours.insert(i, line);
            }
        }
        false
    }
    if ours.starts_with(reference) {
        return true;
    }
    let reference: Vec<&str> = reference.split('\n').collect();
    let mut lines: Vec<&str> = ours.split('\n').collect();
    lines.len() == reference.len() && assign(&mut lines, &reference)
}

/// What each side says about each case, in one pass over the cases.
fn messages(cp: &ControlPlane, side: &Side, foreign: &str, cases: &[Case]) -> Vec<Value> {
    let sealer = Sealer {
        cp,
        namespace: side.ns.name(),
        cert: &side.cert,
        foreign,
    };
    let k = side.ns.kubectl();
    for case in cases {
        if let Some(prepare) = case.prepare {
            prepare(&side.ns, case.name);
        }
        // create, not apply: no last-applied copy (too-big would not fit).
        k.create(&(case.build)(&sealer, case.name).to_string())
            .unwrap_or_else(|e| panic!("{}: create {}: {e}", side.label, case.name));
    }
    for case in cases {
        if let Some(then) = case.then {
            wait_synced_true(&side.ns, case.name, &side.controller);
            k.run_with_stdin(
                ["replace", "-f", "-"],
                &then(&sealer, case.name).to_string(),
            )
            .unwrap_or_else(|e| panic!("{}: replace {}: {e}", side.label, case.name));
        }
    }
    cases
        .iter()
        .map(|case| wait_failed(side, case.name))
        .collect()
}

#[test]
fn our_failure_messages_start_with_the_references() {
    let cp = ControlPlane::shared().expect("control plane");
    let Some(binary) = reference_controller(cp) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let reference = Side::start(cp, "reference", Some(binary), &dir);
    let ours = Side::start(cp, "ours", None, &dir);
    let cases = cases();
    let (theirs, mine) = std::thread::scope(|s| {
        let theirs = s.spawn(|| messages(cp, &reference, &ours.cert, &cases));
        let mine = messages(cp, &ours, &reference.cert, &cases);
        (theirs.join(), mine)
    });
    let theirs = theirs.unwrap_or_else(|e| std::panic::resume_unwind(e));

    let mut wrong = Vec::new();
    for ((case, reference_ss), our_ss) in cases.iter().zip(&theirs).zip(&mine) {
        let (theirs, ours) = (message(reference_ss), message(our_ss));
        eprintln!(
            "--- {}\nreference: {theirs:?}\nours:      {ours:?}",
            case.name
        );
        let mut problems = Vec::new();
        if theirs.is_empty() {
            problems.push("the reference gave no message".to_string());
        }
        match case.expect {
            Expect::StartsWith if !starts_like(&ours, &theirs) => {
                problems.push("ours does not start with the reference's message".into());
            }
            Expect::StartsWith => {}
            Expect::FailHidden(argument) => {
                const FAIL: &str = "error calling fail: ";
                let same = theirs.find(FAIL).map(|at| &theirs[..at + FAIL.len()]);
                if !theirs.contains(&format!("{FAIL}{argument}")) {
                    problems.push(format!("the reference does not show {argument:?}"));
                }
                // (The action, `<fail "boom">`, is in the words both say.)
                let hidden = same.and_then(|same| ours.strip_prefix(same));
                if hidden.is_none_or(|rest| rest.contains(argument)) {
                    problems.push(format!(
                        "ours does not say the reference's words up to {FAIL:?} without {argument:?}"
                    ));
                }
            }
        }
        // The reference shows what sprig's fail was given: that is all.
        let leaks = match case.expect {
            Expect::FailHidden(argument) => argument,
            Expect::StartsWith => "",
        };
        for (who, text) in [("reference", &theirs), ("ours", &ours)] {
            for value in [VALUE, CHANGED] {
                if who == "reference" && value == leaks {
                    continue;
                }
                if text.contains(value) || text.contains(&b64(value)) {
                    problems.push(format!("the {who} message shows the value {value:?}"));
                }
            }
        }
        for type_ in ["Ready", "Stalled"] {
            let said = condition(our_ss, type_);
            let reason = said.and_then(|c| c["reason"].as_str());
            if reason != Some(case.reason) {
                problems.push(format!(
                    "our {type_} says {said:?}, want reason {}",
                    case.reason
                ));
            }
        }
        if !problems.is_empty() {
            wrong.push(format!(
                "{}:\n  {}\n  reference: {theirs:?}\n  ours:      {ours:?}",
                case.name,
                problems.join("\n  ")
            ));
        }
    }
    // Our events and log show no value either.
    let events = ours
        .ns
        .kubectl()
        .run(["get", "events", "-o", "json"])
        .expect("events");
    let log = ours.controller.log();
    for value in [VALUE, CHANGED] {
        assert!(!events.contains(value), "an Event shows {value:?}");
        assert!(!log.contains(value), "our log shows {value:?}");
    }
    assert!(!log.contains("panicked"), "{log}");
    assert!(
        wrong.is_empty(),
        "{} of {} cases differ:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
}

#[test]
fn messages_are_compared_modulo_go_map_order() {
    let hint = ". Seal these items again with this controller's certificate";
    assert!(starts_like(
        &format!("no key could decrypt secret (a, b){hint}"),
        "no key could decrypt secret (b, a)"
    ));
    assert!(!starts_like(
        "no key could decrypt secret (a, c)",
        "no key could decrypt secret (b, a)"
    ));
    assert!(starts_like(
        &format!("illegal base64 data at input byte 0 (a)\nno key could decrypt secret (p){hint}"),
        "no key could decrypt secret (p)\nillegal base64 data at input byte 0 (a)"
    ));
    assert!(!starts_like(
        "no key could decrypt secret (p)",
        "no key could decrypt secret (p)\ntemplate: t:1: unclosed action (t)"
    ));
    // Parentheses that are not a list of keys compare as they are.
    let api =
        "data[a b]: Invalid value: \"a b\": a valid config key (e.g. 'key.name',  or 'KEY_NAME')";
    assert!(starts_like(&format!("{api}. A key is"), api));
    assert!(!starts_like(
        "data[a b]: Invalid value: \"a b\": a valid config key (or 'KEY_NAME', e.g. 'key.name')",
        api
    ));
}
