//! The key of a KMS-wrapped key Secret (`sealed_secrets_api::keys::wrapped`):
//! wrapped for one, and opened from one. The controller and `kubeseal admin`
//! both go through here.

use sealed_secrets_api::keys::wrapped::WrappedKey;
use sealed_secrets_crypto::{Certificate, PrivateKey};

use crate::envelope::{unwrap_private_key, wrap_private_key, KeyWrapper};
use crate::{Error, Result, Wrapped};

/// `key` (of `certificate`) wrapped with the plugin's current key, as a
/// wrapped key Secret holds it.
pub async fn wrap_key<W: KeyWrapper + ?Sized>(
    wrapper: &W,
    key: &PrivateKey,
    certificate: &Certificate,
) -> Result<WrappedKey> {
    let der = key.to_pkcs1_der().map_err(Error::Key)?;
    let wrapped = wrap_private_key(wrapper, &der, certificate.der()).await?;
    Ok(WrappedKey {
        certificate: certificate.clone(),
        key_id: wrapped.wrapped_dek.key_id,
        wrapped_dek: wrapped.wrapped_dek.ciphertext,
        annotations: wrapped.wrapped_dek.annotations,
        sealed_key: wrapped.sealed_key,
    })
}

/// The private key a wrapped key Secret holds, checked to be its
/// certificate's. A Secret that is to blame (altered, planted) is an error
/// of [`crate::ErrorKind::Local`]; the plugin's own failures keep theirs.
pub async fn unwrap_key<W: KeyWrapper + ?Sized>(
    wrapper: &W,
    key: &WrappedKey,
) -> Result<PrivateKey> {
    let envelope = crate::WrappedKey {
        wrapped_dek: Wrapped {
            ciphertext: key.wrapped_dek.clone(),
            key_id: key.key_id.clone(),
            annotations: key.annotations.clone(),
        },
        sealed_key: key.sealed_key.clone(),
    };
    let der = unwrap_private_key(wrapper, &envelope, key.certificate.der()).await?;
    let private = PrivateKey::from_pkcs1_der(&der).map_err(|_| Error::SealedKeyDoesNotOpen)?;
    let certificate = key.certificate.public_key().fingerprint();
    if private.fingerprint() != certificate {
        return Err(Error::KeyCertificateMismatch {
            key: private.fingerprint().to_string(),
            certificate: certificate.to_string(),
        });
    }
    Ok(private)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::future::Future;

    use sealed_secrets_crypto::CertificateParams;
    use zeroize::Zeroizing;

    use super::*;

    /// Hands the data key back as its own "ciphertext": the envelope, not
    /// the plugin, is under test.
    struct Clear;

    impl KeyWrapper for Clear {
        fn encrypt(&self, plaintext: &[u8]) -> impl Future<Output = Result<Wrapped>> + Send {
            let wrapped = Wrapped {
                ciphertext: plaintext.to_vec(),
                key_id: "kek-1".into(),
                annotations: BTreeMap::new(),
            };
            async move { Ok(wrapped) }
        }

        fn decrypt(
            &self,
            wrapped: &Wrapped,
        ) -> impl Future<Output = Result<Zeroizing<Vec<u8>>>> + Send {
            let plain = Zeroizing::new(wrapped.ciphertext.clone());
            async move { Ok(plain) }
        }
    }

    #[tokio::test]
    async fn a_key_opens_only_with_its_own_certificate() {
        let a = PrivateKey::generate(2048).expect("keygen");
        let b = PrivateKey::generate(2048).expect("keygen");
        let cert_a = Certificate::self_signed(&a, &CertificateParams::default()).expect("cert");
        let cert_b = Certificate::self_signed(&b, &CertificateParams::default()).expect("cert");
        let wrapped = wrap_key(&Clear, &a, &cert_a).await.expect("wrapped");
        assert_eq!(wrapped.key_id, "kek-1");
        let opened = unwrap_key(&Clear, &wrapped).await.expect("opened");
        assert_eq!(opened.fingerprint(), a.fingerprint());
        assert!(
            wrap_key(&Clear, &b, &cert_a).await.is_err(),
            "not its certificate"
        );
        let mut moved = wrapped;
        moved.certificate = cert_b;
        let e = unwrap_key(&Clear, &moved).await.unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Local, "{e}");
    }
}
