//! The KMS v2 plugin that protects KMS-wrapped key Secrets
//! (`--kms-endpoint`, `--kms-timeout`): `kubeseal --recovery-unseal` and
//! `kubeseal admin` reach it only when they need the private key of a
//! wrapped key Secret, or wrap one. The certificate of a wrapped key is in
//! the clear, so everything else works without it.

use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use sealed_secrets_api::crypto::{Certificate, KeyRing, PrivateKey};
use sealed_secrets_api::keys::wrapped::WrappedKey;
use sealed_secrets_kms::KmsClient;

use crate::cluster::block_on;
use crate::recovery::RecoveryKey;

/// The KMS flags: global, so they work before or after `admin ...`
/// subcommands, and with `--recovery-unseal`.
#[derive(Debug, clap::Args)]
pub(crate) struct KmsArgs {
    /// KMS v2 plugin socket (unix:///PATH) that protects KMS-wrapped key Secrets, as the controller's --kms-endpoint. Needed to use their private keys: --recovery-unseal with a backup of wrapped keys, admin keys wrap, unwrap, and prune of a wrapped key
    #[arg(
        global = true,
        long,
        env = "SEALED_SECRETS_KMS_ENDPOINT",
        value_name = "unix:///PATH"
    )]
    pub(crate) kms_endpoint: Option<String>,
    /// How long each call to the KMS plugin may take (e.g. 3s, 500ms)
    #[arg(
        global = true,
        long,
        env = "SEALED_SECRETS_KMS_TIMEOUT",
        default_value = "3s",
        value_parser = parse_timeout,
        value_name = "DURATION"
    )]
    pub(crate) kms_timeout: Duration,
}

fn parse_timeout(text: &str) -> Result<Duration, String> {
    match humantime::parse_duration(text.trim()) {
        Ok(d) if !d.is_zero() => Ok(d),
        Ok(_) => Err("must be longer than 0".into()),
        Err(e) => Err(format!("{e}; use e.g. 3s or 500ms")),
    }
}

impl KmsArgs {
    pub(crate) fn endpoint(&self) -> Option<&str> {
        self.kms_endpoint.as_deref().filter(|e| !e.is_empty())
    }

    /// The plugin, once its Status says it is healthy. Without
    /// `--kms-endpoint` the error starts with `why` (what needs the KMS) and
    /// names the flag.
    pub(crate) async fn connect(&self, why: &str) -> Result<Kms> {
        let Some(endpoint) = self.endpoint() else {
            bail!(
                "{why}: pass --kms-endpoint unix:///PATH, the socket of the KMS v2 plugin that wrapped them \
                 (as the controller's --kms-endpoint; or SEALED_SECRETS_KMS_ENDPOINT)"
            );
        };
        let client = KmsClient::connect(endpoint, self.kms_timeout).await?;
        let status = client
            .status()
            .await
            .with_context(|| format!("the KMS plugin at {endpoint} is not usable"))?;
        Ok(Kms {
            client,
            key_id: status.key_id,
        })
    }
}

/// A KMS plugin that answered Status healthy.
pub(crate) struct Kms {
    client: KmsClient,
    key_id: String,
}

impl Kms {
    /// The plugin's current key, which wraps new keys.
    pub(crate) fn key_id(&self) -> &str {
        &self.key_id
    }

    pub(crate) fn endpoint(&self) -> &str {
        self.client.endpoint()
    }

    /// `key` (of `certificate`) wrapped with the plugin's current key.
    pub(crate) async fn wrap(
        &self,
        key: &PrivateKey,
        certificate: &Certificate,
    ) -> Result<WrappedKey> {
        sealed_secrets_kms::wrap_key(&self.client, key, certificate)
            .await
            .with_context(|| format!("the KMS plugin at {} cannot wrap it", self.endpoint()))
    }

    /// The private key `wrapped` holds, checked to be its certificate's.
    pub(crate) async fn unwrap(&self, wrapped: &WrappedKey) -> Result<PrivateKey> {
        sealed_secrets_kms::unwrap_key(&self.client, wrapped)
            .await
            .with_context(|| {
                format!(
                    "cannot unwrap it with the KMS plugin at {} (KMS key_id {})",
                    self.endpoint(),
                    wrapped.key_id
                )
            })
    }
}

/// Whether two private keys are the same key, compared in full (PKCS#1 DER).
pub(crate) fn same_key(a: &PrivateKey, b: &PrivateKey) -> Result<bool> {
    let a = a.to_pkcs1_der().context("cannot encode a private key")?;
    let b = b.to_pkcs1_der().context("cannot encode a private key")?;
    Ok(*a == *b)
}

/// The keys of `--recovery-private-key`, the KMS-wrapped ones unwrapped with
/// `--kms-endpoint` (the KMS is reached only when there are some).
pub(crate) fn key_ring(keys: Vec<RecoveryKey>, kms: &KmsArgs) -> Result<KeyRing> {
    let mut ring = KeyRing::default();
    let mut wrapped = Vec::new();
    for key in keys {
        match key {
            RecoveryKey::Plain(key) => ring.push(key),
            RecoveryKey::Wrapped { secret, key } => wrapped.push((secret, key)),
        }
    }
    if wrapped.is_empty() {
        return Ok(ring);
    }
    let key_ids: std::collections::BTreeSet<&str> =
        wrapped.iter().map(|(_, k)| k.key_id.as_str()).collect();
    let why = format!(
        "{} of the keys given {} KMS-wrapped (secret {}; KMS key_id {}): opening {} needs the KMS",
        wrapped.len(),
        if wrapped.len() == 1 { "is" } else { "are" },
        wrapped
            .iter()
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        key_ids.into_iter().collect::<Vec<_>>().join(", "),
        if wrapped.len() == 1 { "it" } else { "them" },
    );
    block_on(async {
        let kms = kms.connect(&why).await?;
        for (secret, key) in &wrapped {
            let key = kms
                .unwrap(key)
                .await
                .with_context(|| format!("cannot use KMS-wrapped key secret {secret:?}"))?;
            ring.push(key);
        }
        Ok(())
    })?;
    Ok(ring)
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn timeouts_are_durations_longer_than_zero() {
        assert_eq!(parse_timeout("3s"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_timeout(" 500ms "), Ok(Duration::from_millis(500)));
        assert!(parse_timeout("0s").is_err());
        assert!(parse_timeout("soon").unwrap_err().contains("3s"));
    }

    #[test]
    fn without_an_endpoint_the_error_names_the_flag() {
        let args = KmsArgs {
            kms_endpoint: Some(String::new()),
            kms_timeout: Duration::from_secs(3),
        };
        assert_eq!(args.endpoint(), None);
        let err = crate::cluster::block_on(async {
            args.connect("2 keys are KMS-wrapped").await.map(|_| ())
        })
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("2 keys are KMS-wrapped: pass --kms-endpoint unix:///PATH"),
            "{text}"
        );
    }

    #[test]
    fn a_key_is_the_same_only_as_itself() {
        let a = PrivateKey::generate(2048).expect("keygen");
        let b = PrivateKey::generate(2048).expect("keygen");
        let again = PrivateKey::from_pkcs1_der(&a.to_pkcs1_der().expect("der")).expect("parse");
        assert!(same_key(&a, &again).expect("compare"));
        assert!(!same_key(&a, &b).expect("compare"));
    }
}
