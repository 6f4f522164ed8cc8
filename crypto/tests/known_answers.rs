//! Values sealed by the reference kubeseal (see fixtures/regenerate.sh) must
//! open with our code, and ours must open with the same keys.

use base64::Engine as _;
use sealed_secrets_crypto::{open, seal, Certificate, KeyRing, PrivateKey, PublicKey, Scope};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading fixture {path}: {e}"))
}

fn key(bits: u32) -> PrivateKey {
    PrivateKey::from_pem(&fixture(&format!("key-{bits}.pem"))).expect("fixture key parses")
}

#[derive(serde::Deserialize)]
struct ReferenceValue {
    key_bits: u32,
    scope: String,
    namespace: String,
    name: String,
    plaintext: String,
    ciphertext: String,
}

fn reference_values() -> Vec<ReferenceValue> {
    serde_json::from_slice(&fixture("reference-values.json")).expect("fixture json")
}

#[test]
fn opens_every_value_the_reference_sealed() {
    let values = reference_values();
    assert_eq!(values.len(), 18);
    for v in values {
        let scope: Scope = v.scope.parse().expect("scope");
        let label = scope.label(&v.namespace, &v.name);
        let ct = B64.decode(&v.ciphertext).expect("base64");
        let plain = open(&key(v.key_bits), &ct, &label).expect("reference value opens");
        assert_eq!(
            plain.as_slice(),
            v.plaintext.as_bytes(),
            "{} {}",
            v.key_bits,
            v.scope
        );
        if v.key_bits == 4096 {
            assert!(
                v.ciphertext.starts_with("Ag"),
                "4096-bit values start with Ag"
            );
        }
    }
}

#[test]
fn reference_values_fail_under_another_scope_or_name() {
    for v in reference_values()
        .into_iter()
        .filter(|v| v.scope == "strict")
    {
        let ct = B64.decode(&v.ciphertext).expect("base64");
        let k = key(v.key_bits);
        assert!(open(&k, &ct, &Scope::Strict.label(&v.namespace, "other")).is_err());
        assert!(open(&k, &ct, &Scope::NamespaceWide.label(&v.namespace, &v.name)).is_err());
        assert!(open(&k, &ct, b"").is_err());
    }
}

#[test]
fn key_ring_finds_the_right_key_among_many() {
    let ring = KeyRing::new(vec![key(2048), key(4096)]);
    for v in reference_values() {
        let scope: Scope = v.scope.parse().expect("scope");
        let ct = B64.decode(&v.ciphertext).expect("base64");
        let opened = ring
            .open(&ct, &scope.label(&v.namespace, &v.name), None)
            .expect("ring opens");
        assert_eq!(opened.plaintext.as_slice(), v.plaintext.as_bytes());
        assert_eq!(opened.fingerprint, key(v.key_bits).fingerprint());
    }
}

#[test]
fn fingerprints_match_ssh_keygen() {
    for bits in [2048, 4096] {
        let expected = String::from_utf8(fixture(&format!("fingerprint-{bits}.txt"))).unwrap();
        assert_eq!(key(bits).fingerprint().as_str(), expected.trim());
        let public = PublicKey::from_pem(&fixture(&format!("pub-{bits}.pem"))).unwrap();
        assert_eq!(public.fingerprint().as_str(), expected.trim());
        let cert = Certificate::from_pem(&fixture(&format!("cert-{bits}.pem"))).unwrap();
        assert_eq!(cert.public_key().fingerprint().as_str(), expected.trim());
    }
}

#[test]
fn pkcs1_and_pkcs8_encodings_are_the_same_key() {
    let pkcs1 = key(2048);
    let pkcs8 = PrivateKey::from_pem(&fixture("key-2048-pkcs8.pem")).unwrap();
    assert_eq!(pkcs1.fingerprint(), pkcs8.fingerprint());
    let pem = pkcs1.to_pkcs1_pem().unwrap();
    assert!(pem.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    assert_eq!(
        String::from_utf8(fixture("key-2048.pem")).unwrap().trim(),
        pem.trim()
    );
}

#[test]
fn our_values_open_with_the_fixture_key() {
    let cert = Certificate::from_pem(&fixture("cert-4096.pem")).unwrap();
    let label = Scope::Strict.label("fixture-ns", "fixture-name");
    let ct = seal(cert.public_key(), b"from rust", &label).unwrap();
    assert_eq!(&B64.encode(&ct)[..2], "Ag");
    assert_eq!(
        open(&key(4096), &ct, &label).unwrap().as_slice(),
        b"from rust"
    );
}
