//! Envelope wrapping of a sealing key: the plugin encrypts only a random
//! 32-byte DEK; the private key is sealed here with AES-256-GCM under it.
//!
//! `sealed_key` = nonce (12 bytes) || AES-256-GCM(DEK, nonce, AAD)(PKCS#1
//! DER of the key) || tag (16 bytes), with AAD = [`AAD_PREFIX`] ||
//! SHA-256(certificate DER). The AAD binds the sealed key to its certificate,
//! so a sealed key moved to a Secret of another certificate does not open.
//! Pure but for the [`KeyWrapper`] calls.

use std::future::Future;

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use aws_lc_rs::digest::{digest, SHA256};
use sealed_secrets_crypto::{Certificate, PrivateKey};
use zeroize::Zeroizing;

use crate::{Error, Invalid, KmsClient, Method, Result, Wrapped};

/// The DEK's length: AES-256.
pub const DEK_LEN: usize = 32;
/// The AES-GCM nonce's length, first in `sealed_key`.
pub const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// The start of the AAD; SHA-256 of the certificate's DER follows.
pub const AAD_PREFIX: &[u8] = b"sealed-secrets/kms-v2\0";

/// Encrypts and decrypts small secrets with a key held elsewhere: the KMS
/// plugin ([`KmsClient`]), or a stand-in in tests.
pub trait KeyWrapper {
    fn encrypt(&self, plaintext: &[u8]) -> impl Future<Output = Result<Wrapped>> + Send;
    fn decrypt(&self, wrapped: &Wrapped)
        -> impl Future<Output = Result<Zeroizing<Vec<u8>>>> + Send;
}

impl KeyWrapper for KmsClient {
    fn encrypt(&self, plaintext: &[u8]) -> impl Future<Output = Result<Wrapped>> + Send {
        KmsClient::encrypt(self, plaintext)
    }

    fn decrypt(
        &self,
        wrapped: &Wrapped,
    ) -> impl Future<Output = Result<Zeroizing<Vec<u8>>>> + Send {
        KmsClient::decrypt(self, wrapped)
    }
}

/// A private key wrapped with the KMS: both parts are needed, with the
/// certificate, to get it back. Nothing in it is secret without the plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    /// The DEK, encrypted by the plugin (with its key_id and annotations).
    pub wrapped_dek: Wrapped,
    /// The PKCS#1 DER of the private key, AES-256-GCM-sealed under the DEK.
    pub sealed_key: Vec<u8>,
}

/// Wraps an RSA private key (PKCS#1 or PKCS#8, PEM or PKCS#1 DER) that
/// belongs to `certificate` (PEM or DER): a fresh DEK, encrypted by
/// `wrapper`, seals the key's PKCS#1 DER.
pub async fn wrap_private_key<W: KeyWrapper + ?Sized>(
    wrapper: &W,
    private_key: &[u8],
    certificate: &[u8],
) -> Result<WrappedKey> {
    let key = parse_key(private_key)?;
    let certificate = parse_certificate(certificate)?;
    if key.public_key().spki_der() != certificate.public_key().spki_der() {
        return Err(Error::KeyCertificateMismatch {
            key: key.fingerprint().to_string(),
            certificate: certificate.public_key().fingerprint().to_string(),
        });
    }
    let der = key.to_pkcs1_der().map_err(Error::Key)?;

    let mut dek = Zeroizing::new([0u8; DEK_LEN]);
    aws_lc_rs::rand::fill(dek.as_mut()).map_err(|_| Error::Crypto("no randomness for a DEK"))?;
    let mut nonce = [0u8; NONCE_LEN];
    aws_lc_rs::rand::fill(&mut nonce).map_err(|_| Error::Crypto("no randomness for a nonce"))?;
    let sealed_key = seal(&dek, nonce, &der, &aad(&certificate))?;
    let wrapped_dek = wrapper.encrypt(dek.as_ref()).await?;
    Ok(WrappedKey {
        wrapped_dek,
        sealed_key,
    })
}

/// The PKCS#1 DER of a key [`wrap_private_key`] wrapped for `certificate`
/// (PEM or DER); wiped on drop.
pub async fn unwrap_private_key<W: KeyWrapper + ?Sized>(
    wrapper: &W,
    wrapped: &WrappedKey,
    certificate: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    let certificate = parse_certificate(certificate)?;
    if wrapped.sealed_key.len() < NONCE_LEN + TAG_LEN {
        return Err(Error::SealedKeyTooShort(wrapped.sealed_key.len()));
    }
    let dek = wrapper.decrypt(&wrapped.wrapped_dek).await?;
    let dek: Zeroizing<[u8; DEK_LEN]> = Zeroizing::new(dek.as_slice().try_into().map_err(
        |_| Error::InvalidResponse {
            method: Method::Decrypt,
            problem: Invalid::DekLength(dek.len()),
        },
    )?);
    open(&dek, &wrapped.sealed_key, &aad(&certificate))
}

fn parse_key(input: &[u8]) -> Result<PrivateKey> {
    if is_pem(input) {
        PrivateKey::from_pem(input)
    } else {
        PrivateKey::from_pkcs1_der(input)
    }
    .map_err(Error::Key)
}

fn parse_certificate(input: &[u8]) -> Result<Certificate> {
    if is_pem(input) {
        Certificate::from_pem(input)
    } else {
        Certificate::from_der(input)
    }
    .map_err(Error::Key)
}

fn is_pem(input: &[u8]) -> bool {
    input.trim_ascii_start().starts_with(b"-----BEGIN ")
}

fn aad(certificate: &Certificate) -> Vec<u8> {
    let mut aad = AAD_PREFIX.to_vec();
    aad.extend_from_slice(digest(&SHA256, certificate.der()).as_ref());
    aad
}

fn gcm_key(dek: &[u8; DEK_LEN]) -> Result<LessSafeKey> {
    let key = UnboundKey::new(&AES_256_GCM, dek).map_err(|_| Error::Crypto("AES-256-GCM key"))?;
    Ok(LessSafeKey::new(key))
}

/// nonce || ciphertext || tag.
fn seal(
    dek: &[u8; DEK_LEN],
    nonce: [u8; NONCE_LEN],
    plaintext: &[u8],
    aad: &[u8],
) -> Result<Vec<u8>> {
    let key = gcm_key(dek)?;
    // Holds the plaintext until it is sealed in place: wiped if sealing fails.
    let mut out = Zeroizing::new(Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_LEN));
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut out[NONCE_LEN..],
        )
        .map_err(|_| Error::Crypto("AES-256-GCM sealing failed"))?;
    out.extend_from_slice(tag.as_ref());
    Ok(std::mem::take(&mut *out))
}

fn open(dek: &[u8; DEK_LEN], sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let key = gcm_key(dek)?;
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce)
        .map_err(|_| Error::SealedKeyTooShort(sealed.len()))?;
    let mut buf = Zeroizing::new(ciphertext.to_vec());
    let len = key
        .open_in_place(nonce, Aad::from(aad), &mut buf)
        .map_err(|_| Error::SealedKeyDoesNotOpen)?
        .len();
    buf.truncate(len);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};

    use sealed_secrets_crypto::CertificateParams;

    use super::*;

    /// A stand-in plugin: "encrypts" by XOR with a per-key_id byte, and
    /// records what it was asked.
    #[derive(Default, Clone)]
    struct FakeKms {
        key_id: Arc<Mutex<String>>,
        plaintexts: Arc<Mutex<Vec<Vec<u8>>>>,
        refuse_decrypt: bool,
    }

    fn pad(key_id: &str) -> u8 {
        key_id.bytes().fold(0x5a, |a, b| a ^ b)
    }

    impl KeyWrapper for FakeKms {
        async fn encrypt(&self, plaintext: &[u8]) -> Result<Wrapped> {
            self.plaintexts.lock().unwrap().push(plaintext.to_vec());
            let key_id = self.key_id.lock().unwrap().clone();
            let p = pad(&key_id);
            Ok(Wrapped {
                ciphertext: plaintext.iter().map(|b| b ^ p).collect(),
                annotations: BTreeMap::from([("version.fake.example.com".into(), b"1".to_vec())]),
                key_id,
            })
        }

        async fn decrypt(&self, wrapped: &Wrapped) -> Result<Zeroizing<Vec<u8>>> {
            if self.refuse_decrypt {
                return Err(Error::Refused {
                    method: Method::Decrypt,
                    code: tonic::Code::Unknown,
                    message: "no".into(),
                });
            }
            let p = pad(&wrapped.key_id);
            Ok(Zeroizing::new(
                wrapped.ciphertext.iter().map(|b| b ^ p).collect(),
            ))
        }
    }

    fn fake(key_id: &str) -> FakeKms {
        let kms = FakeKms::default();
        *kms.key_id.lock().unwrap() = key_id.into();
        kms
    }

    /// A 2048-bit key (quicker than the reference's 4096) and its certificate.
    fn key_and_cert() -> (PrivateKey, Certificate) {
        let key = PrivateKey::generate(2048).unwrap();
        let cert = Certificate::self_signed(&key, &CertificateParams::default()).unwrap();
        (key, cert)
    }

    #[tokio::test]
    async fn round_trip_pem_and_der() {
        let kms = fake("kek-1");
        let (key, cert) = key_and_cert();
        let pem = key.to_pkcs1_pem().unwrap();
        let der = key.to_pkcs1_der().unwrap();

        let wrapped = wrap_private_key(&kms, pem.as_bytes(), cert.to_pem().as_bytes())
            .await
            .unwrap();
        assert_eq!(wrapped.wrapped_dek.key_id, "kek-1");
        // Only the 32-byte DEK went to the plugin.
        let sent = kms.plaintexts.lock().unwrap().clone();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].len(), DEK_LEN);
        // nonce || PKCS#1 DER sealed || tag; the key is not in it.
        assert_eq!(wrapped.sealed_key.len(), NONCE_LEN + der.len() + TAG_LEN);
        assert!(!wrapped.sealed_key.windows(32).any(|w| w == &der[100..132]));

        // Certificate as DER or PEM: the same binding.
        let back = unwrap_private_key(&kms, &wrapped, cert.der())
            .await
            .unwrap();
        assert_eq!(*back, *der);
        let back = unwrap_private_key(&kms, &wrapped, cert.to_pem().as_bytes())
            .await
            .unwrap();
        assert_eq!(*back, *der);

        // Wrapping PKCS#1 DER, or PKCS#8 PEM, seals the same PKCS#1 DER.
        for input in [der.to_vec(), key.to_pkcs8_pem().as_bytes().to_vec()] {
            let wrapped = wrap_private_key(&kms, &input, cert.der()).await.unwrap();
            let back = unwrap_private_key(&kms, &wrapped, cert.der())
                .await
                .unwrap();
            assert_eq!(*back, *der);
            PrivateKey::from_pkcs1_der(&back).unwrap();
        }
    }

    #[tokio::test]
    async fn fresh_dek_and_nonce_each_time() {
        let kms = fake("kek-1");
        let (key, cert) = key_and_cert();
        let der = key.to_pkcs1_der().unwrap();
        let a = wrap_private_key(&kms, &der, cert.der()).await.unwrap();
        let b = wrap_private_key(&kms, &der, cert.der()).await.unwrap();
        assert_ne!(a.wrapped_dek.ciphertext, b.wrapped_dek.ciphertext);
        assert_ne!(a.sealed_key[..NONCE_LEN], b.sealed_key[..NONCE_LEN]);
        assert_ne!(a.sealed_key, b.sealed_key);
    }

    #[tokio::test]
    async fn another_certificate_or_a_moved_sealed_key_does_not_open() {
        let kms = fake("kek-1");
        let (key1, cert1) = key_and_cert();
        let (key2, cert2) = key_and_cert();
        let w1 = wrap_private_key(&kms, &key1.to_pkcs1_der().unwrap(), cert1.der())
            .await
            .unwrap();
        let w2 = wrap_private_key(&kms, &key2.to_pkcs1_der().unwrap(), cert2.der())
            .await
            .unwrap();

        let err = unwrap_private_key(&kms, &w1, cert2.der())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::SealedKeyDoesNotOpen), "{err:?}");
        // Sealed key of one Secret with the DEK (and certificate) of another.
        let swapped = WrappedKey {
            wrapped_dek: w2.wrapped_dek.clone(),
            sealed_key: w1.sealed_key.clone(),
        };
        for cert in [cert1.der(), cert2.der()] {
            let err = unwrap_private_key(&kms, &swapped, cert).await.unwrap_err();
            assert!(matches!(err, Error::SealedKeyDoesNotOpen), "{err:?}");
        }
        // A certificate re-issued for the same key is another certificate.
        let reissued = Certificate::self_signed(&key1, &CertificateParams::default()).unwrap();
        assert_ne!(reissued.der(), cert1.der());
        let err = unwrap_private_key(&kms, &w1, reissued.der())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::SealedKeyDoesNotOpen), "{err:?}");
    }

    #[tokio::test]
    async fn every_altered_byte_is_refused() {
        let kms = fake("kek-1");
        let (key, cert) = key_and_cert();
        let w = wrap_private_key(&kms, &key.to_pkcs1_der().unwrap(), cert.der())
            .await
            .unwrap();
        let n = w.sealed_key.len();
        for i in [
            0,
            NONCE_LEN - 1,
            NONCE_LEN,
            n / 2,
            n - TAG_LEN - 1,
            n - TAG_LEN,
            n - 1,
        ] {
            let mut bad = w.clone();
            bad.sealed_key[i] ^= 0x01;
            let err = unwrap_private_key(&kms, &bad, cert.der())
                .await
                .unwrap_err();
            assert!(
                matches!(err, Error::SealedKeyDoesNotOpen),
                "byte {i}: {err:?}"
            );
        }
        let mut cut = w.clone();
        cut.sealed_key.truncate(n - 1);
        assert!(matches!(
            unwrap_private_key(&kms, &cut, cert.der())
                .await
                .unwrap_err(),
            Error::SealedKeyDoesNotOpen
        ));
        cut.sealed_key.truncate(NONCE_LEN + TAG_LEN - 1);
        assert!(matches!(
            unwrap_private_key(&kms, &cut, cert.der())
                .await
                .unwrap_err(),
            Error::SealedKeyTooShort(27)
        ));
        // Another DEK (the fake's "decryption" under the wrong key_id).
        let mut other = w.clone();
        other.wrapped_dek.key_id = "kek-2".into();
        assert!(matches!(
            unwrap_private_key(&kms, &other, cert.der())
                .await
                .unwrap_err(),
            Error::SealedKeyDoesNotOpen
        ));
    }

    #[tokio::test]
    async fn rotation_old_keys_still_unwrap() {
        let kms = fake("kek-1");
        let (key, cert) = key_and_cert();
        let der = key.to_pkcs1_der().unwrap();
        let old = wrap_private_key(&kms, &der, cert.der()).await.unwrap();
        *kms.key_id.lock().unwrap() = "kek-2".into();
        let new = wrap_private_key(&kms, &der, cert.der()).await.unwrap();
        assert_eq!(old.wrapped_dek.key_id, "kek-1");
        assert_eq!(new.wrapped_dek.key_id, "kek-2");
        for w in [&old, &new] {
            assert_eq!(
                *unwrap_private_key(&kms, w, cert.der()).await.unwrap(),
                *der
            );
        }
    }

    #[tokio::test]
    async fn a_wrong_key_or_certificate_is_refused_before_the_plugin() {
        let kms = fake("kek-1");
        let (key1, _) = key_and_cert();
        let (_, cert2) = key_and_cert();
        let err = wrap_private_key(&kms, &key1.to_pkcs1_der().unwrap(), cert2.der())
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::KeyCertificateMismatch { .. }),
            "{err:?}"
        );
        assert!(
            err.to_string().contains(key1.fingerprint().as_str()),
            "{err}"
        );
        let err = wrap_private_key(&kms, b"not a key", cert2.der())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Key(_)), "{err:?}");
        let err = wrap_private_key(
            &kms,
            &key1.to_pkcs1_der().unwrap(),
            b"-----BEGIN CERTIFICATE-----\n",
        )
        .await
        .unwrap_err();
        assert!(matches!(err, Error::Key(_)), "{err:?}");
        assert!(kms.plaintexts.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn errors_of_the_plugin_and_bad_deks_pass_through() {
        let (key, cert) = key_and_cert();
        let der = key.to_pkcs1_der().unwrap();
        let w = wrap_private_key(&fake("kek-1"), &der, cert.der())
            .await
            .unwrap();
        let refusing = FakeKms {
            refuse_decrypt: true,
            ..fake("kek-1")
        };
        let err = unwrap_private_key(&refusing, &w, cert.der())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Refused { .. }), "{err:?}");
        // A plugin that hands back something that is not a DEK.
        let mut short = w.clone();
        short.wrapped_dek.ciphertext.pop();
        let err = unwrap_private_key(&fake("kek-1"), &short, cert.der())
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidResponse {
                    method: Method::Decrypt,
                    problem: Invalid::DekLength(31)
                }
            ),
            "{err:?}"
        );
        assert!(!err.to_string().contains("PRIVATE"), "{err}");
    }
}
