//! Who keeps the private keys: the key Secrets themselves (plain, as the
//! reference), or a KMS v2 plugin (`--kms-endpoint`) that wraps each key
//! before it is written, so that a key Secret, etcd or a backup holds no
//! usable private key. Keys are unwrapped once, when their Secret is first
//! seen; the plaintext stays in memory only.

use sealed_secrets_api::keys::wrapped::WrappedKey;
use sealed_secrets_crypto::{Certificate, PrivateKey};
use sealed_secrets_kms::{unwrap_private_key, wrap_private_key, ErrorKind, KmsClient};

use crate::Error;

/// Where the private keys are kept.
#[derive(Clone)]
pub enum Custody {
    /// In the key Secrets, as `tls.key` (the reference's way).
    Plain,
    /// Wrapped by the KMS plugin behind this client.
    Kms(Box<KmsClient>),
}

impl Custody {
    /// Whether a key may seal: with a KMS only a key it wrapped may, so a
    /// plain key Secret planted in the namespace never becomes the key that
    /// seals (it still opens what it sealed).
    pub fn may_seal(&self, protected: bool) -> bool {
        protected || matches!(self, Custody::Plain)
    }
}

/// `key` wrapped by the plugin, as a wrapped key Secret holds it.
pub async fn wrap(
    client: &KmsClient,
    key: &PrivateKey,
    certificate: &Certificate,
) -> Result<WrappedKey, Error> {
    let der = key.to_pkcs1_der().map_err(Error::KeyGeneration)?;
    let wrapped = wrap_private_key(client, &der, certificate.der())
        .await
        .map_err(Error::Kms)?;
    Ok(WrappedKey {
        certificate: certificate.clone(),
        key_id: wrapped.wrapped_dek.key_id,
        wrapped_dek: wrapped.wrapped_dek.ciphertext,
        annotations: wrapped.wrapped_dek.annotations,
        sealed_key: wrapped.sealed_key,
    })
}

/// The private key in a wrapped key Secret. [`Error::Kms`] when the plugin
/// is away or refuses (the key may be fine: never a reason to make another);
/// [`Error::KeyNotOpened`] when the Secret itself is to blame (altered, or
/// planted by someone without the KMS).
pub async fn unwrap(client: &KmsClient, key: &WrappedKey) -> Result<PrivateKey, Error> {
    let envelope = sealed_secrets_kms::WrappedKey {
        wrapped_dek: sealed_secrets_kms::Wrapped {
            ciphertext: key.wrapped_dek.clone(),
            key_id: key.key_id.clone(),
            annotations: key.annotations.clone(),
        },
        sealed_key: key.sealed_key.clone(),
    };
    let der = unwrap_private_key(client, &envelope, key.certificate.der())
        .await
        .map_err(|e| match e.kind() {
            ErrorKind::Local => Error::KeyNotOpened(e),
            _ => Error::Kms(e),
        })?;
    let private = PrivateKey::from_pkcs1_der(&der)
        .map_err(|_| Error::KeyNotOpened(sealed_secrets_kms::Error::SealedKeyDoesNotOpen))?;
    if private.fingerprint() != key.certificate.public_key().fingerprint() {
        return Err(Error::KeyNotOpened(
            sealed_secrets_kms::Error::SealedKeyDoesNotOpen,
        ));
    }
    Ok(private)
}
