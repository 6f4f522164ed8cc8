//! Hostile SealedSecrets on a real API server: thousands of items, values at
//! and past every size limit on the way (the Secret's 1 MiB, etcd's request
//! size), the longest names, keys a Secret cannot have. Each gets a clear
//! `Synced` condition, the controller keeps running and serving, and an
//! ordinary SealedSecret applied afterwards still unseals.

use std::time::Duration;

use base64::Engine as _;
use sealed_secrets_e2e::controller::{Controller, ControllerOptions};
use sealed_secrets_e2e::kubeseal::{kubeseal, succeeded};
use sealed_secrets_e2e::secrets::wait_secret_value;
use sealed_secrets_e2e::status::{synced, wait_synced_true};
use sealed_secrets_e2e::{poll, ControlPlane, TestNamespace};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(120);
const TICK: Duration = Duration::from_millis(250);

/// The most a Secret's values may hold together (the API server's MaxSecretSize).
const MAX_SECRET: usize = 1 << 20;

struct Setup {
    cp: &'static ControlPlane,
    ns: TestNamespace,
    controller: Controller,
    cert: String,
    _dir: tempfile::TempDir,
}

fn setup(prefix: &str) -> Setup {
    let cp = ControlPlane::shared().expect("control plane");
    let ns = TestNamespace::create(cp, prefix).expect("namespace");
    let controller = ControllerOptions::for_namespace(&ns)
        .start(cp)
        .expect("controller starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, pem) = controller.get("/v1/cert.pem").expect("cert.pem");
    assert_eq!(code, 200);
    let cert = dir.path().join("cert.pem");
    std::fs::write(&cert, pem).expect("write cert");
    Setup {
        cp,
        ns,
        controller,
        cert: cert.to_string_lossy().into_owned(),
        _dir: dir,
    }
}

impl Setup {
    /// A SealedSecret (JSON) of a Secret with these `data` items (raw bytes).
    fn seal(&self, name: &str, items: &[(&str, &[u8])]) -> Value {
        let data: serde_json::Map<String, Value> = items
            .iter()
            .map(|(k, v)| {
                let encoded = base64::engine::general_purpose::STANDARD.encode(v);
                (k.to_string(), Value::String(encoded))
            })
            .collect();
        let secret = json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": name, "namespace": self.ns.name()},
            "data": data,
        });
        let out = kubeseal(
            self.cp,
            &["--cert", &self.cert, "-o", "json"],
            &secret.to_string(),
        )
        .expect("kubeseal runs");
        serde_json::from_str(&succeeded(&out)).expect("kubeseal writes JSON")
    }

    /// `kubectl create` (no last-applied annotation, which would double the size).
    fn create(&self, object: &Value) -> Result<String, String> {
        self.ns
            .kubectl()
            .create(&object.to_string())
            .map_err(|e| e.to_string())
    }

    /// Waits for `Synced=<status>` at the object's current generation; the message.
    fn wait_synced(&self, name: &str, status: &str) -> String {
        poll(&format!("{name} Synced={status}"), WAIT, TICK, || {
            Ok(synced(&self.ns, name)
                .filter(|(s, _, ss)| {
                    s == status
                        && ss["status"]["observedGeneration"] == ss["metadata"]["generation"]
                })
                .map(|(_, message, _)| message))
        })
        .unwrap_or_else(|e| panic!("{e}\ncontroller log:\n{}", self.controller.log()))
    }

    /// Alive, serving /healthz, and unsealing: an ordinary SealedSecret works.
    fn still_unseals(&self, name: &str) {
        let (code, _) = self.controller.get("/healthz").expect("healthz answers");
        assert_eq!(code, 200, "healthz");
        let sealed = self.seal(name, &[("password", b"hunter2")]);
        self.create(&sealed).expect("create");
        wait_synced_true(&self.ns, name, &self.controller);
        wait_secret_value(&self.ns, name, "password", "hunter2")
            .unwrap_or_else(|e| panic!("{e}\n{}", self.controller.log()));
        assert!(!self.controller.log().contains("panicked"));
    }

    fn secret_exists(&self, name: &str) -> bool {
        self.ns
            .kubectl()
            .get_optional("secret", name)
            .expect("get secret")
            .is_some()
    }
}

/// A SealedSecret with these `encryptedData` items, built by hand.
fn sealed_object(namespace: &str, name: &str, items: serde_json::Map<String, Value>) -> Value {
    json!({
        "apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"template": {"metadata": {"name": name, "namespace": namespace}}, "encryptedData": items},
    })
}

#[test]
fn ten_thousand_items_get_a_short_message() {
    let s = setup("hostile-items");
    // 9,999 items nobody could have sealed, and one real one.
    let real = s.seal("many", &[("real", b"value")]);
    let mut items = serde_json::Map::new();
    for i in 0..9_999 {
        items.insert(format!("item{i:05}"), Value::String("AgA=".into()));
    }
    items.insert("real".into(), real["spec"]["encryptedData"]["real"].clone());
    let object = sealed_object(s.ns.name(), "many", items);
    s.create(&object)
        .expect("the API server stores 10,000 items");
    let message = s.wait_synced("many", "False");
    // The reference's words, its list of keys cut short.
    assert!(
        message.starts_with("no key could decrypt secret (item00000, item00001,"),
        "{message}"
    );
    assert!(
        message
            .contains("and 9989 more). Seal these items again with this controller's certificate"),
        "{message}"
    );
    assert!(message.len() < 1_000, "{} bytes: {message}", message.len());
    assert!(!s.secret_exists("many"));
    s.still_unseals("after-items");
}

#[test]
fn values_at_and_past_the_size_limits() {
    let s = setup("hostile-sizes");
    // The biggest Secret: 1 MiB of values. Its SealedSecret (about 1.4 MB
    // of base64) is within etcd's 1.5 MiB request limit.
    let biggest = vec![b'x'; MAX_SECRET];
    let sealed = s.seal("biggest", &[("v", &biggest)]);
    let size = sealed.to_string().len();
    s.create(&sealed)
        .unwrap_or_else(|e| panic!("a {size}-byte SealedSecret is stored: {e}"));
    wait_synced_true(&s.ns, "biggest", &s.controller);
    let data =
        s.ns.kubectl()
            .get_optional("secret", "biggest")
            .expect("get");
    let value = data.as_ref().and_then(|d| d["data"]["v"].as_str());
    assert_eq!(value.map(str::len), Some(MAX_SECRET.div_ceil(3) * 4));

    // One byte more: stored as a SealedSecret, refused as a Secret, said so.
    let over = s.seal("over", &[("v", &biggest), ("w", b"x")]);
    s.create(&over).expect("the SealedSecret itself fits");
    let message = s.wait_synced("over", "False");
    assert!(
        message.contains("would hold 1048577 bytes of values, more than the 1048576 (1 MiB) a Secret can hold: split the items across several SealedSecrets"),
        "{message}"
    );
    assert!(!s.secret_exists("over"));

    // Past what the API server stores (etcd's 1.5 MiB request limit): kubectl
    // is refused, there is nothing for the controller to see.
    let huge = vec![b'y'; MAX_SECRET + MAX_SECRET / 8];
    let refused = s.seal("huge", &[("v", &huge)]);
    let size = refused.to_string().len();
    let err = s
        .create(&refused)
        .expect_err("a SealedSecret past etcd's limit is refused");
    assert!(
        err.contains("too large") || err.contains("exceeds"),
        "{size} bytes: {err}"
    );
    s.still_unseals("after-sizes");
}

#[test]
fn longest_names_and_keys_a_secret_cannot_have() {
    let s = setup("hostile-keys");
    // The longest names Kubernetes allows: object, and key.
    let name = format!("{}-{}", "n".repeat(240), "x".repeat(12));
    assert_eq!(name.len(), 253);
    let key = "k".repeat(253);
    let sealed = s.seal(&name, &[(&key, b"long"), ("ok", b"fine")]);
    s.create(&sealed).expect("create");
    wait_synced_true(&s.ns, &name, &s.controller);
    wait_secret_value(&s.ns, &name, "ok", "fine").expect("unsealed");
    // Its event too (client-go's event name would be 270 characters).
    let events = poll("the Unsealed event", WAIT, TICK, || {
        let list = s.ns.kubectl().get_json(["get", "events"])?;
        Ok(list["items"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["involvedObject"]["name"] == name.as_str() && e["reason"] == "Unsealed")
            .cloned())
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", s.controller.log()));
    assert!(
        events["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .len()
            <= 253
    );

    let unicode = s.seal(
        "unicode",
        &[("pässwörd", b"a"), ("ключ", b"b"), ("🔑", b"c")],
    );
    s.create(&unicode)
        .expect("a SealedSecret may have any keys");
    let message = s.wait_synced("unicode", "False");
    // The API server's refusal first (the reference shows it), then which
    // keys and what to do.
    assert!(
        message.starts_with("Secret \"unicode\" is invalid: "),
        "{message}"
    );
    assert!(
        message.contains(
            "These items' keys cannot be Secret keys: \"pässwörd\", \"ключ\", \"🔑\". A key is 1 to 253 letters, digits"
        ),
        "{message}"
    );
    assert!(
        message.ends_with("rename the items and seal them again"),
        "{message}"
    );

    let long = "k".repeat(254);
    let invalid = s.seal(
        "invalid",
        &[
            ("a b", b"1"),
            ("../x", b"2"),
            ("", b"3"),
            (&long, b"4"),
            ("ok", b"5"),
        ],
    );
    s.create(&invalid).expect("create");
    let message = s.wait_synced("invalid", "False");
    assert!(
        message.contains(r#"cannot be Secret keys: "", "../x", "a b", "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...""#),
        "{message}"
    );
    assert!(!s.secret_exists("invalid") && !s.secret_exists("unicode"));
    // No value in the status or the log.
    let log = s.controller.log();
    for value in ["hunter2", "long", "fine"] {
        assert!(!message.contains(value));
        assert!(!log.contains(&format!("\"{value}\"")), "{value} in the log");
    }
    s.still_unseals("after-keys");
}
