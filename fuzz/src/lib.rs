//! The checks behind the fuzz targets in `tests/fuzz.rs`: each takes raw
//! bytes, feeds them to the very code that reads hostile input in kubeseal
//! and the controller, and asserts what must hold for every input (no
//! panic, round trips, no decrypted value in an error). See docs/fuzzing.md.
//!
//! The keys are the test fixtures of `crypto/tests/fixtures` (2048 bits, to
//! keep RSA cheap): they protect nothing.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use kubeseal::{input, recovery};
use sealed_secrets_api::crypto::{
    self, open, opens_session_key, seal, Certificate, KeyRing, PrivateKey, PublicKey, Scope,
};
use sealed_secrets_api::{
    keys, reencrypt, seal_secret, unseal, verify, GoTemplates, SealOptions, SealedSecret, Secret,
    UnsealOptions,
};
use serde_json::Value;

mod compare;
pub mod mutate;

pub use compare::same_value;

/// The fixed test key every sealed input is opened with.
pub const KEY_PEM: &[u8] = include_bytes!("../../crypto/tests/fixtures/key-2048.pem");
/// Its certificate.
pub const CERT_PEM: &[u8] = include_bytes!("../../crypto/tests/fixtures/cert-2048.pem");
/// Namespace and name the reference fixtures were sealed for.
pub const FIXTURE_NAMESPACE: &str = "fixture-ns";
pub const FIXTURE_NAME: &str = "fixture-name";

/// The most items one input gets RSA work for: the property checks decrypt
/// each item again, and the fuzzer should spend its time on parsers.
const MAX_ITEMS: usize = 8;

struct Fixed {
    key: PrivateKey,
    ring: KeyRing,
}

fn fixed() -> &'static Fixed {
    static FIXED: OnceLock<Fixed> = OnceLock::new();
    FIXED.get_or_init(|| {
        // A fixture in the source tree: it parses, or every target is moot.
        let key = PrivateKey::from_pem(KEY_PEM).expect("the fixture key parses");
        Fixed {
            ring: KeyRing::new(vec![key.clone()]),
            key,
        }
    })
}

/// Templates bounded tighter than the controller's, so one input never
/// costs the fuzzer more than a fraction of a second.
const TEMPLATES: GoTemplates = GoTemplates {
    time_limit: Duration::from_millis(200),
    max_output: 64 << 10,
    max_memory: 1 << 20,
};

fn text(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes).ok()
}

/// kubeseal's input documents: JSON or YAML streams, several per input.
pub fn documents(bytes: &[u8]) {
    let Some(text) = text(bytes) else { return };
    let Ok(docs) = input::documents(text) else {
        // Every object parse of the same text fails too, and cleanly.
        assert!(input::objects::<Secret>(text, "Secret").is_err());
        return;
    };
    assert!(
        docs.iter().all(|d| !d.is_null()),
        "null documents are dropped"
    );
    // JSON out, the same documents back in, whatever the input syntax was
    // (a stream is JSON when it starts with an object or array, as Kubernetes
    // objects do: a scalar first is read as YAML).
    if docs.first().is_some_and(|d| d.is_object() || d.is_array()) {
        let json: Vec<String> = docs.iter().map(Value::to_string).collect();
        let again = input::documents(&json.join("\n")).expect("our own JSON stream parses");
        assert_eq!(docs.len(), again.len(), "JSON stream round trip: {json:?}");
        for (a, b) in docs.iter().zip(&again) {
            assert!(same_value(a, b), "JSON round trip changed {a} into {b}");
        }
    }
    // As a YAML stream, as kubeseal writes with -o yaml.
    if let Ok(yaml) = docs
        .iter()
        .map(serde_yaml::to_string)
        .collect::<Result<Vec<_>, _>>()
    {
        let stream = yaml.iter().map(|d| format!("---\n{d}")).collect::<String>();
        if let Ok(again) = input::documents(&stream) {
            assert_eq!(
                docs.len(),
                again.len(),
                "YAML stream round trip: {stream:?}"
            );
            for (a, b) in docs.iter().zip(&again) {
                assert!(same_value(a, b), "YAML round trip changed {a} into {b}");
            }
        }
    }
    // The typed reads kubeseal does on the same text never panic, and a
    // Secret that does not decode is not shown in the error: its values are
    // the secrets kubeseal is about to seal.
    if let Err(e) = input::objects::<Secret>(text, "Secret") {
        let message = format!("{e:#}");
        for doc in &docs {
            // The rest of the document (its kind, say) may be shown, and a
            // value may happen to be in it, or be a plain word of the message.
            let mut rest = doc.clone();
            if let Some(object) = rest.as_object_mut() {
                object.remove("data");
                object.remove("stringData");
            }
            let rest = rest.to_string();
            for value in secret_values(doc) {
                let distinctive = value.len() >= 8
                    && !value.bytes().all(|b| b.is_ascii_lowercase() || b == b' ')
                    && !rest.contains(value);
                assert!(
                    !distinctive || !message.contains(value),
                    "the error shows the value {value:?}: {message}"
                );
            }
        }
    }
    let _ = input::objects::<SealedSecret>(text, "SealedSecret");
}

/// Every string under a document's `data` and `stringData`, however nested.
fn secret_values(doc: &Value) -> Vec<&str> {
    fn strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::String(s) => out.push(s),
            Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
            Value::Object(o) => o.values().for_each(|v| strings(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for field in ["data", "stringData"] {
        if let Some(v) = doc.get(field) {
            strings(v, &mut out);
        }
    }
    out
}

/// A SealedSecret as the controller and kubeseal read it: decoded, and
/// unsealed, verified and re-encrypted with the fixed key.
pub fn sealed_secret(bytes: &[u8]) {
    let Some(text) = text(bytes) else { return };
    let mut objects: Vec<SealedSecret> = serde_json::from_str(text).into_iter().collect();
    if let Ok(more) = input::objects::<SealedSecret>(text, "SealedSecret") {
        objects.extend(more);
    }
    for sealed in objects.into_iter().take(2) {
        // Encoding and decoding again changes nothing.
        let json = serde_json::to_string(&sealed).expect("a SealedSecret encodes");
        let back: SealedSecret = serde_json::from_str(&json).expect("our own JSON decodes");
        assert_eq!(
            serde_json::to_value(&sealed).ok(),
            serde_json::to_value(&back).ok(),
            "JSON round trip of {json}"
        );
        assert_eq!(sealed.spec, back.spec, "JSON round trip of {json}");
        if sealed.spec.encrypted_data.len() > MAX_ITEMS {
            continue;
        }
        conversions(&sealed, text, &json);
    }
}

fn conversions(sealed: &SealedSecret, text: &str, json: &str) {
    let f = fixed();
    let secret_values = plaintexts(sealed, &f.ring);
    let leaks = |what: &str, message: String| {
        for value in &secret_values {
            // Six bytes or more, and not spelled out in the input anyway (a key
            // name or a template may equal a value by the fuzzer's choice).
            if value.len() >= 6 && !contains(text, value) && !contains(json, value) {
                assert!(
                    !contains(&message, value),
                    "{what} shows a decrypted value: {message}"
                );
            }
        }
    };
    let _ = sealed.scope();
    let _ = keys::keys_needed(sealed, &[&f.key]);
    for accept in [false, true] {
        let options = UnsealOptions {
            accept_deprecated_v1_data: accept,
            templates: &TEMPLATES,
            preferred_key: None,
        };
        match unseal(sealed, &f.ring, &options) {
            Ok(unsealed) => {
                let secret = unsealed.secret;
                assert_eq!(secret.metadata.name, sealed.metadata.name);
                assert_eq!(secret.metadata.namespace, sealed.metadata.namespace);
                if sealed.spec.data.is_none() {
                    let data = secret.data.unwrap_or_default();
                    for (key, value) in &sealed.spec.encrypted_data {
                        let opened = f.ring.open(&decode(value), &sealed.label(), None);
                        let opened = opened.expect("an item of an unsealed object opens");
                        assert_eq!(
                            data.get(key).map(|b| b.0.as_slice()),
                            Some(opened.plaintext.as_slice()),
                            "item {key} unseals to its plaintext"
                        );
                    }
                }
            }
            Err(e) => {
                leaks("unseal error", e.to_string());
                leaks("unseal error (Debug)", format!("{e:?}"));
            }
        }
    }
    if let Err(e) = verify(sealed, &f.ring) {
        leaks("verify error", format!("{e} {e:?}"));
    }
    match reencrypt(sealed, &f.ring, f.key.public_key()) {
        // The same values under a fresh session key: they verify.
        Ok(again) => {
            if again.spec.data.is_none() {
                assert!(
                    verify(&again, &f.ring).is_ok(),
                    "re-encrypted object verifies"
                );
            }
        }
        Err(e) => leaks("re-encrypt error", format!("{e} {e:?}")),
    }
}

/// What each item of `sealed` decrypts to with `ring` (the ones that open).
fn plaintexts(sealed: &SealedSecret, ring: &KeyRing) -> Vec<Vec<u8>> {
    let label = sealed.label();
    let items = sealed
        .spec
        .encrypted_data
        .values()
        .map(|v| decode(v))
        .chain(sealed.spec.data.iter().map(|b| b.0.clone()));
    items
        .filter_map(|ct| ring.open(&ct, &label, None).ok())
        .map(|o| o.plaintext.to_vec())
        .collect()
}

/// An item's bytes as unsealing reads them: Go's base64, which skips `\r`
/// and `\n` and accepts nonzero trailing bits (a stricter decoder here made
/// a mutated item that unsealed look unopenable).
fn decode(value: &str) -> Vec<u8> {
    sealed_secrets_api::go_base64::decode_std(value).unwrap_or_default()
}

fn contains(haystack: &str, needle: &[u8]) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w == needle)
}

/// Secret -> SealedSecret -> Secret, as kubeseal seals and the controller
/// unseals: the values come back, whatever the input Secret holds.
pub fn seal_unseal(bytes: &[u8]) {
    let Some(text) = text(bytes) else { return };
    let Ok(secrets) = input::objects::<Secret>(text, "Secret") else {
        return;
    };
    let f = fixed();
    for secret in secrets.into_iter().take(2) {
        let items = secret.data.as_ref().map_or(0, BTreeMap::len)
            + secret.string_data.as_ref().map_or(0, BTreeMap::len);
        if items > MAX_ITEMS {
            continue;
        }
        let mut expected: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        for (k, v) in secret.data.iter().flatten() {
            expected.insert(k.clone(), v.0.clone());
        }
        for (k, v) in secret.string_data.iter().flatten() {
            expected.insert(k.clone(), v.clone().into_bytes());
        }
        let options = SealOptions {
            default_namespace: Some(FIXTURE_NAMESPACE.into()),
            ..SealOptions::default()
        };
        let Ok(sealed) = seal_secret(secret, f.key.public_key(), &options) else {
            continue;
        };
        // Through its JSON, as it travels to the API server.
        let json = serde_json::to_string(&sealed).expect("a SealedSecret encodes");
        let sealed: SealedSecret = serde_json::from_str(&json).expect("our own JSON decodes");
        let options = UnsealOptions {
            accept_deprecated_v1_data: false,
            templates: &TEMPLATES,
            preferred_key: None,
        };
        let unsealed = unseal(&sealed, &f.ring, &options).expect("what we sealed unseals");
        let data: BTreeMap<String, Vec<u8>> = unsealed
            .secret
            .data
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.0))
            .collect();
        assert_eq!(data, expected, "the values come back");
    }
}

/// A sealed value (`--raw` output, one item of `encryptedData`): one byte
/// picks the scope's label, the rest is the ciphertext.
pub fn hybrid_open(bytes: &[u8]) {
    let Some((&which, ciphertext)) = bytes.split_first() else {
        return;
    };
    let scope = match which % 3 {
        0 => Scope::Strict,
        1 => Scope::NamespaceWide,
        _ => Scope::ClusterWide,
    };
    let label = scope.label(FIXTURE_NAMESPACE, FIXTURE_NAME);
    let f = fixed();
    let single = open(&f.key, ciphertext, &label);
    let ring = f.ring.open(ciphertext, &label, None);
    let session = opens_session_key(&f.key, ciphertext, &label);
    match (&single, &ring) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.as_slice(), b.plaintext.as_slice());
            assert!(session, "a value that opens has a session key that opens");
            // Sealing the plaintext again opens to the same plaintext.
            let again = seal(f.key.public_key(), a, &label).expect("seal");
            let reopened = open(&f.key, &again, &label).expect("open what we sealed");
            assert_eq!(a.as_slice(), reopened.as_slice());
        }
        (Err(a), Err(b)) => {
            // Fixed texts: nothing of the input or of a session key in them.
            for e in [a, b] {
                let message = e.to_string();
                assert!(message.len() < 80, "{message}");
                assert!(
                    matches!(
                        e,
                        crypto::Error::TooShort | crypto::Error::NoKeyCouldDecrypt
                    ),
                    "{e:?}"
                );
            }
        }
        _ => panic!("open and KeyRing::open disagree"),
    }
    // The plaintext is never bigger than the ciphertext: no allocation
    // beyond the input's size.
    if let Ok(plain) = &single {
        assert!(plain.len() <= ciphertext.len());
    }
}

/// PEM and DER: private keys (PKCS#1, PKCS#8), public keys, certificates,
/// as `--cert`, `--recovery-private-key` and the key Secrets give them.
pub fn pem(bytes: &[u8]) {
    let short = |what: &str, e: &crypto::Error| {
        let message = e.to_string();
        // Errors describe, they do not echo: no key material in them.
        assert!(message.len() < 400, "{what}: {message}");
        assert!(!message.contains("PRIVATE KEY-----"), "{what}: {message}");
    };
    match PrivateKey::all_from_pem(bytes) {
        Ok(keys) => {
            for key in keys.iter().take(2) {
                let pem = key.to_pkcs1_pem().expect("PKCS#1 of a parsed key");
                let back = PrivateKey::from_pem(pem.as_bytes()).expect("our PKCS#1 PEM parses");
                assert_eq!(back.fingerprint(), key.fingerprint());
                let back = PrivateKey::from_pem(key.to_pkcs8_pem().as_bytes())
                    .expect("our PKCS#8 PEM parses");
                assert_eq!(back.fingerprint(), key.fingerprint());
                assert!(!format!("{key:?}").contains("PRIVATE"));
            }
        }
        Err(e) => short("private key PEM", &e),
    }
    match Certificate::all_from_pem(bytes) {
        Ok(certs) => {
            for cert in certs.iter().take(2) {
                let back = Certificate::from_pem(cert.to_pem().as_bytes()).expect("our PEM");
                assert_eq!(back.der(), cert.der());
                assert_eq!(
                    back.public_key().fingerprint(),
                    cert.public_key().fingerprint()
                );
                let _ = cert.is_expired_at(std::time::SystemTime::now());
            }
        }
        Err(e) => short("certificate PEM", &e),
    }
    match PublicKey::from_pem(bytes) {
        Ok(key) => {
            let back = PublicKey::from_pem(key.to_pem().as_bytes()).expect("our PEM");
            assert_eq!(back.fingerprint(), key.fingerprint());
            assert_eq!(back.spki_der(), key.spki_der());
        }
        Err(e) => short("public key PEM", &e),
    }
    // The same bytes as DER, for the parsers under the PEM layer.
    for result in [
        PrivateKey::from_pkcs1_der(bytes).map(|_| ()),
        PrivateKey::from_pkcs8_der(bytes).map(|_| ()),
        PublicKey::from_spki_der(bytes).map(|_| ()),
        Certificate::from_der(bytes).map(|_| ()),
    ] {
        if let Err(e) = result {
            short("DER", &e);
        }
    }
}

/// A body of `/v1/verify` or `/v1/rotate`, the controller's unauthenticated
/// endpoints: decoded, verified and re-encrypted with the fixed key.
pub fn http_body(bytes: &[u8]) {
    use sealed_secrets_controller::http::{decode, rotate_body, verify_body, Verified};
    let f = fixed();
    let decoded = decode(bytes);
    let verified = verify_body(bytes, &f.ring, true);
    let rotated = rotate_body(bytes, &f.ring, Some(f.key.public_key()), true);
    let Ok(sealed) = decoded else {
        assert!(
            verified.is_err() && rotated.is_err(),
            "what does not decode is refused"
        );
        return;
    };
    let secret_values = plaintexts(&sealed, &f.ring);
    let text = String::from_utf8_lossy(bytes);
    let messages = [
        verified.as_ref().err().map(ToString::to_string),
        rotated.as_ref().err().map(ToString::to_string),
    ];
    for message in messages.iter().flatten() {
        for value in &secret_values {
            if value.len() >= 6 && !contains(&text, value) {
                assert!(
                    !contains(message, value),
                    "an HTTP error shows a value: {message}"
                );
            }
        }
    }
    if let Ok(json) = rotated {
        // What rotate answers is a SealedSecret that opens.
        // (verify may still refuse the body: it takes no YAML stream, rotate
        // takes its first document, as the reference.)
        assert_eq!(
            verify_body(&json, &f.ring, true).ok(),
            Some(Verified::Opens)
        );
    }
}

/// `--recovery-private-key` files and `kubeseal admin keys restore` input:
/// PEM keys, or a backup (a v1 List of key Secrets, or Secret documents).
pub fn key_backup(bytes: &[u8]) {
    // Key material: lines of base64 as PEM bodies have them, in the file
    // or in the Secrets' decoded data (a name or kind that looks like PEM is
    // the user's own text, and may be shown).
    let text = String::from_utf8_lossy(bytes);
    let secrets = recovery::secrets_in(&text).unwrap_or_default();
    let mut material = base64_lines(&text);
    for secret in &secrets {
        for value in secret.data.iter().flat_map(|d| d.values()) {
            material.extend(base64_lines(&String::from_utf8_lossy(&value.0)));
        }
    }
    let names: Vec<&str> = secrets
        .iter()
        .filter_map(|s| s.metadata.name.as_deref())
        .collect();
    material.retain(|run| !names.iter().any(|n| n.contains(run.as_str())));
    let no_key_in = |what: &str, message: String| {
        for run in &material {
            assert!(
                !message.contains(run.as_str()),
                "{what} shows key material ({run}): {message}"
            );
        }
    };
    match recovery::keys_in(bytes.to_vec()) {
        Ok(keys) => assert!(!keys.is_empty(), "a file with no key is an error"),
        Err(e) => no_key_in("recovery keys", format!("{e:#}")),
    }
    if std::str::from_utf8(bytes).is_err() {
        return;
    }
    if let Err(e) = recovery::secrets_in(&text) {
        no_key_in("backup", format!("{e:#}"));
        return;
    }
    // What restore checks before creating anything.
    for secret in secrets.iter().take(MAX_ITEMS) {
        match keys::read_key_secret(secret) {
            Ok((key, certificate)) => {
                assert_eq!(key.fingerprint(), certificate.public_key().fingerprint());
                let _ = keys::KeyRank::of(keys::KeyOrder::CertNotBefore, secret, &certificate);
                let _ = keys::KeyRank::of(
                    keys::KeyOrder::SecretCreationTimestamp,
                    secret,
                    &certificate,
                );
            }
            Err(reason) => no_key_in("key Secret", reason.to_string()),
        }
    }
    // A backup of what was read reads back the same (as `backup` writes it).
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": secrets});
    let again = recovery::secrets_in(&list.to_string()).expect("our own List parses");
    assert_eq!(secrets, again, "backup round trip");
}

/// Lines of 48 or more base64 characters and nothing else: PEM bodies
/// (64 characters a line).
fn base64_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| {
            l.len() >= 48
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        })
        .map(str::to_string)
        .collect()
}
