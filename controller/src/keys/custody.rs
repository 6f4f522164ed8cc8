//! Who keeps the private keys: the key Secrets themselves (plain, as the
//! reference), or a KMS v2 plugin (`--kms-endpoint`) that wraps each key
//! before it is written, so that a key Secret, etcd or a backup holds no
//! usable private key. Keys are unwrapped once, when their Secret is first
//! seen; the plaintext stays in memory only.

use sealed_secrets_api::keys::wrapped::WrappedKey;
use sealed_secrets_crypto::{Certificate, PrivateKey};
use sealed_secrets_kms::{ErrorKind, KmsClient};

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
    sealed_secrets_kms::wrap_key(client, key, certificate)
        .await
        .map_err(Error::Kms)
}

/// The private key in a wrapped key Secret. [`Error::Kms`] when the plugin
/// is away or refuses (the key may be fine: never a reason to make another);
/// [`Error::KeyNotOpened`] when the Secret itself is to blame (altered, or
/// planted by someone without the KMS).
pub async fn unwrap(client: &KmsClient, key: &WrappedKey) -> Result<PrivateKey, Error> {
    sealed_secrets_kms::unwrap_key(client, key)
        .await
        .map_err(|e| match e.kind() {
            ErrorKind::Local => Error::KeyNotOpened(e),
            _ => Error::Kms(e),
        })
}
