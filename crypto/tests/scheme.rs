use std::time::{Duration, SystemTime};

use sealed_secrets_crypto::{
    open, seal, Certificate, CertificateParams, Error, KeyRing, PrivateKey, Scope,
};
use x509_parser::prelude::{FromDer, X509Certificate};

fn small_key() -> PrivateKey {
    PrivateKey::generate(2048).expect("keygen")
}

#[test]
fn round_trip_and_layout() {
    let key = small_key();
    let label = Scope::Strict.label("ns", "name");
    let ct = seal(key.public_key(), b"value", &label).unwrap();
    let rsa_len = usize::from(u16::from_be_bytes([ct[0], ct[1]]));
    assert_eq!(rsa_len, 256);
    assert_eq!(
        ct.len(),
        2 + 256 + 5 + 16,
        "prefix + RSA block + plaintext + GCM tag"
    );
    assert_eq!(open(&key, &ct, &label).unwrap().as_slice(), b"value");
    // Fresh session key per value: the same input never seals the same twice.
    assert_ne!(ct, seal(key.public_key(), b"value", &label).unwrap());
}

#[test]
fn rejects_tampering_truncation_and_wrong_keys() {
    let key = small_key();
    let other = small_key();
    let ct = seal(key.public_key(), b"value", b"ns").unwrap();
    assert!(matches!(open(&key, &ct[..1], b"ns"), Err(Error::TooShort)));
    assert!(matches!(
        open(&key, &ct[..100], b"ns"),
        Err(Error::TooShort)
    ));
    assert!(open(&key, &ct[..ct.len() - 1], b"ns").is_err());
    let mut flipped = ct.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    assert!(open(&key, &flipped, b"ns").is_err());
    assert!(matches!(
        open(&other, &ct, b"ns"),
        Err(Error::NoKeyCouldDecrypt)
    ));
    assert!(matches!(
        KeyRing::default().open(&ct, b"ns", None),
        Err(Error::NoKeys)
    ));
}

#[test]
fn key_ring_prefers_the_hinted_key_and_ignores_duplicates() {
    let old = small_key();
    let new = small_key();
    let ring = KeyRing::new(vec![new.clone(), old.clone(), new.clone()]);
    assert_eq!(ring.len(), 2);
    let ct = seal(old.public_key(), b"x", b"").unwrap();
    let opened = ring.open(&ct, b"", Some(old.fingerprint())).unwrap();
    assert_eq!(opened.fingerprint, old.fingerprint());
    let opened = ring.open(&ct, b"", Some(new.fingerprint())).unwrap();
    assert_eq!(opened.fingerprint, old.fingerprint());
}

#[test]
fn self_signed_certificate_matches_the_reference_shape() {
    let key = small_key();
    let not_before = SystemTime::now();
    let cert = Certificate::self_signed(
        &key,
        &CertificateParams {
            common_name: "my-cn".into(),
            not_before,
            valid_for: Duration::from_secs(3600),
        },
    )
    .unwrap();
    assert_eq!(cert.public_key().fingerprint(), key.fingerprint());
    assert!(!cert.is_expired_at(SystemTime::now()));
    assert!(cert.is_expired_at(not_before + Duration::from_secs(7200)));

    let (_, x509) = X509Certificate::from_der(cert.der()).unwrap();
    assert_eq!(x509.subject().to_string(), "CN=my-cn");
    assert_eq!(x509.issuer().to_string(), "CN=my-cn");
    assert!(x509.is_ca());
    let usage = x509.key_usage().unwrap().unwrap().value;
    assert!(usage.encipher_only());
    assert!(!usage.digital_signature() && !usage.key_cert_sign());
    assert!(x509.raw_serial().len() <= 16 && !x509.raw_serial().is_empty());
    let reparsed = Certificate::from_pem(cert.to_pem().as_bytes()).unwrap();
    assert_eq!(reparsed.der(), cert.der());
}

#[test]
fn debug_output_never_shows_key_material() {
    let key = small_key();
    let debug = format!("{key:?}");
    assert!(debug.contains("SHA256:"));
    let pem = key.to_pkcs1_pem().unwrap();
    let body_line = pem.lines().nth(1).unwrap();
    assert!(!debug.contains(body_line));
}

#[test]
fn unsupported_key_sizes_are_refused() {
    assert!(matches!(
        PrivateKey::generate(1024),
        Err(Error::UnsupportedKeySize(1024))
    ));
}

#[test]
fn garbage_pem_is_a_clear_error() {
    let err = PrivateKey::from_pem(b"not pem").unwrap_err();
    assert!(err.to_string().contains("RSA PRIVATE KEY"), "{err}");
    assert!(Certificate::from_pem(b"").is_err());
}

#[test]
fn pem_output_uses_lf_like_go() {
    let key = small_key();
    let cert = Certificate::self_signed(&key, &CertificateParams::default()).unwrap();
    for pem in [
        cert.to_pem(),
        key.public_key().to_pem(),
        key.to_pkcs1_pem().unwrap().to_string(),
    ] {
        assert!(!pem.contains('\r'), "{pem}");
        assert!(pem.ends_with("-----\n"));
    }
}

#[test]
fn the_session_key_tells_which_key_a_value_needs() {
    let (key, other) = (small_key(), small_key());
    let label = Scope::Strict.label("ns", "name");
    let ct = seal(key.public_key(), b"value", &label).unwrap();
    assert!(sealed_secrets_crypto::opens_session_key(&key, &ct, &label));
    assert!(!sealed_secrets_crypto::opens_session_key(
        &other, &ct, &label
    ));
    // Another scope's label, a truncated value, garbage: no key opens them.
    assert!(!sealed_secrets_crypto::opens_session_key(&key, &ct, b"ns"));
    assert!(!sealed_secrets_crypto::opens_session_key(
        &key,
        &ct[..100],
        &label
    ));
    assert!(!sealed_secrets_crypto::opens_session_key(&key, &[], &label));
    // Only the RSA part counts: a damaged body still names its key.
    let mut body_damaged = ct.clone();
    let last = body_damaged.len() - 1;
    body_damaged[last] ^= 1;
    assert!(sealed_secrets_crypto::opens_session_key(
        &key,
        &body_damaged,
        &label
    ));
}
