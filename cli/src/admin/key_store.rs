//! The controller's key Secrets, read and written as the controller does:
//! they live in the controller's namespace, labelled
//! `sealedsecrets.bitnami.com/sealed-secrets-key=active` (plus a legacy
//! unlabelled one named exactly like the prefix), type `kubernetes.io/tls`
//! with `tls.crt` (PEM certificate) and `tls.key` (PKCS#1 PEM); or
//! KMS-wrapped, labelled `kms-v2`, the certificate in the clear and the
//! private key only through the KMS. The newest active one seals, ordered
//! as the controller orders them (`--key-order-priority`) and chosen by the
//! same function (a key with a future `activate-at` waits).
//! Shared by every `kubeseal admin keys` subcommand.

use std::time::SystemTime;

use anyhow::{anyhow, Context as _, Result};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ListParams};
use kube::Client;
use sealed_secrets_api::crypto::{Certificate, PrivateKey};
use sealed_secrets_api::keys::wrapped::{is_wrapped, read_wrapped_key_secret, WrappedKey};
use sealed_secrets_api::keys::{
    newest_first, read_key_secret, sealing_index, Activation, KeyOrder, KeyRank, KEY_LABEL_SELECTOR,
};

use crate::cluster::{api_error, client, ClusterArgs, Place};

pub(super) const DEFAULT_PREFIX: &str = "sealed-secrets-key";

/// What every `keys` command needs.
pub(super) struct Context<'a> {
    pub(super) cluster: &'a ClusterArgs,
    pub(super) namespace: String,
    pub(super) prefix: String,
    /// The controller's `--key-order-priority`.
    pub(super) order: KeyOrder,
}

impl Context<'_> {
    pub(super) fn place(&self) -> Place<'_> {
        Place::Namespace(&self.namespace)
    }
}

/// One key Secret, readable or not.
pub(super) struct KeySecret {
    pub(super) name: String,
    pub(super) secret: Secret,
    pub(super) key: Result<Key, String>,
}

/// What a readable key Secret holds.
pub(super) struct Key {
    pub(super) fingerprint: String,
    pub(super) not_before: SystemTime,
    pub(super) not_after: SystemTime,
    pub(super) certificate: Certificate,
    pub(super) rank: KeyRank,
    pub(super) custody: Custody,
    /// When it may seal (`activate-at`).
    pub(super) activation: Activation,
}

/// Who holds a key's private half.
pub(super) enum Custody {
    /// In the Secret, in the clear (`tls.key`).
    Plain(PrivateKey),
    /// Wrapped by a KMS: only the plugin holding its `key_id` opens it.
    Kms(WrappedKey),
}

impl Key {
    /// The private key when the Secret holds it in the clear.
    pub(super) fn plain(&self) -> Option<&PrivateKey> {
        match &self.custody {
            Custody::Plain(key) => Some(key),
            Custody::Kms(_) => None,
        }
    }

    pub(super) fn wrapped(&self) -> Option<&WrappedKey> {
        match &self.custody {
            Custody::Plain(_) => None,
            Custody::Kms(wrapped) => Some(wrapped),
        }
    }

    /// `plain`, or `kms` and the KMS key_id, for people.
    pub(super) fn custody_text(&self) -> String {
        match &self.custody {
            Custody::Plain(_) => "plain".into(),
            Custody::Kms(wrapped) => format!("kms:{}", wrapped.key_id),
        }
    }
}

pub(super) fn parse_key(secret: &Secret, order: KeyOrder) -> Result<Key, String> {
    let (certificate, custody) = if is_wrapped(secret) {
        let wrapped = read_wrapped_key_secret(secret).map_err(|e| e.to_string())?;
        (wrapped.certificate.clone(), Custody::Kms(wrapped))
    } else {
        let (key, certificate) = read_key_secret(secret).map_err(|e| e.to_string())?;
        (certificate, Custody::Plain(key))
    };
    Ok(Key {
        rank: KeyRank::of(order, secret, &certificate),
        // The key's fingerprint: read_key_secret checked that they match.
        fingerprint: certificate.public_key().fingerprint().to_string(),
        not_before: certificate.not_before(),
        not_after: certificate.not_after(),
        certificate,
        custody,
        activation: Activation::of(secret),
    })
}

pub(super) fn secret_name(secret: &Secret) -> String {
    secret
        .metadata
        .name
        .clone()
        .unwrap_or_else(|| "<unnamed>".into())
}

/// Every key Secret in the controller's namespace: readable ones newest
/// first (the first seals), then the unreadable ones.
pub(super) async fn load(api: &Api<Secret>, ctx: &Context<'_>) -> Result<Vec<KeySecret>> {
    let mut secrets = api
        .list(&ListParams::default().labels(KEY_LABEL_SELECTOR))
        .await
        .map_err(|e| api_error(e, "list", "secrets", ctx.place()))?
        .items;
    if !secrets
        .iter()
        .any(|s| s.metadata.name.as_deref() == Some(ctx.prefix.as_str()))
    {
        let legacy = api
            .get_opt(&ctx.prefix)
            .await
            .map_err(|e| api_error(e, "get", "secrets", ctx.place()))?;
        secrets.extend(legacy);
    }
    let mut keys: Vec<KeySecret> = secrets
        .into_iter()
        .map(|secret| KeySecret {
            name: secret_name(&secret),
            key: parse_key(&secret, ctx.order),
            secret,
        })
        .collect();
    keys.sort_by(|a, b| match (&a.key, &b.key) {
        (Ok(x), Ok(y)) => newest_first(&x.rank, &y.rank),
        (Ok(_), Err(_)) => std::cmp::Ordering::Less,
        (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
        (Err(_), Err(_)) => a.name.cmp(&b.name),
    });
    Ok(keys)
}

/// The key that seals at `now`, as the controller picks it: the newest
/// active one (`keys` as [`load`] orders them).
pub(super) fn sealing(keys: &[KeySecret], now: SystemTime) -> Option<&Key> {
    let index = sealing_index(
        keys.iter()
            .map(|k| k.key.as_ref().ok().map(|key| &key.activation)),
        now,
    )?;
    keys.get(index).and_then(|k| k.key.as_ref().ok())
}

/// The newest key, active or not.
pub(super) fn latest(keys: &[KeySecret]) -> Option<&Key> {
    keys.iter().find_map(|k| k.key.as_ref().ok())
}

pub(super) fn no_keys(ctx: &Context<'_>) -> anyhow::Error {
    anyhow!(
        "no sealing keys found in namespace {:?}: wrong --controller-namespace? The controller keeps its keys in its own namespace \
         (kube-system unless installed elsewhere), as Secrets labelled {KEY_LABEL_SELECTOR}",
        ctx.namespace
    )
}

pub(super) async fn connect(ctx: &Context<'_>) -> Result<(Client, Api<Secret>)> {
    let client = client(ctx.cluster).await?;
    let api = Api::namespaced(client.clone(), &ctx.namespace);
    Ok((client, api))
}

pub(super) fn rfc3339(t: SystemTime) -> String {
    time::OffsetDateTime::from(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "?".into())
}

/// A key Secret shaped as the controller makes them.
pub(super) fn new_key_secret(
    ctx: &Context<'_>,
    key: &PrivateKey,
    cert: &Certificate,
    annotations: &[(String, String)],
) -> Result<Secret> {
    sealed_secrets_api::keys::key_secret(&ctx.namespace, &ctx.prefix, key, cert, &[], annotations)
        .context("cannot encode the new private key")
}

/// Where a key stands at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    /// The key `/v1/cert.pem` serves.
    Sealing,
    /// Opens SealedSecrets; seals only once the newer ones are gone.
    Active,
    /// Opens SealedSecrets; may seal from this time on.
    Pending(SystemTime),
}

impl State {
    pub(super) fn of(key: &Key, sealing: Option<&Key>, now: SystemTime) -> Self {
        if let Some(at) = key.activation.pending_until(now) {
            Self::Pending(at)
        } else if sealing.is_some_and(|s| s.fingerprint == key.fingerprint) {
            Self::Sealing
        } else {
            Self::Active
        }
    }

    /// `sealing`, `active` or `pending` (JSON).
    pub(super) fn word(self) -> &'static str {
        match self {
            Self::Sealing => "sealing",
            Self::Active => "active",
            Self::Pending(_) => "pending",
        }
    }

    /// For people: `pending until 2025-07-01T12:00:00Z (in 2d4h)`, and an
    /// activation time that is not one is pointed out.
    pub(super) fn text(self, key: &Key, now: SystemTime) -> String {
        let mut text = match self {
            Self::Pending(at) => format!(
                "pending until {} (in {})",
                rfc3339(at),
                short_duration(at.duration_since(now).unwrap_or_default())
            ),
            other => other.word().to_string(),
        };
        if let Activation::Invalid(value) = &key.activation {
            text.push_str(&format!(" (invalid activate-at {value:?})"));
        }
        text
    }
}

/// `2d4h`, `3h5m`, `12m30s`, `20s`: the two largest units.
pub(super) fn short_duration(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    let units = [
        (secs / 86_400, "d"),
        (secs / 3_600 % 24, "h"),
        (secs / 60 % 60, "m"),
        (secs % 60, "s"),
    ];
    let first = units.iter().position(|(n, _)| *n > 0).unwrap_or(3);
    units[first..]
        .iter()
        .take(2)
        .filter(|(n, _)| *n > 0 || first == 3)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::short_duration;

    #[test]
    fn waits_read_in_their_two_largest_units() {
        let d = Duration::from_secs;
        assert_eq!(short_duration(d(2 * 86_400 + 4 * 3_600 + 59)), "2d4h");
        assert_eq!(short_duration(d(3 * 3_600 + 5 * 60)), "3h5m");
        assert_eq!(short_duration(d(3_600)), "1h");
        assert_eq!(short_duration(d(12 * 60 + 30)), "12m30s");
        assert_eq!(short_duration(d(20)), "20s");
        assert_eq!(short_duration(d(0)), "0s");
    }
}
