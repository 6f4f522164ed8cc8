//! Private keys for `--recovery-unseal`: PEM files, or backups of the
//! controller's key Secrets (one Secret, several documents, or a `v1.List`),
//! plain or KMS-wrapped (those need the KMS to be used: the binary unwraps
//! them with `--kms-endpoint`).

use std::path::Path;

use anyhow::{bail, Context as _, Result};
use k8s_openapi::api::core::v1::Secret;
use sealed_secrets_api::crypto::PrivateKey;
use sealed_secrets_api::keys::wrapped::{is_wrapped, read_wrapped_key_secret, WrappedKey};
use serde_json::Value;

use crate::input;

/// A key found in a `--recovery-private-key` file.
#[derive(Debug)]
pub enum RecoveryKey {
    Plain(PrivateKey),
    /// A KMS-wrapped key Secret, named: only the KMS opens it.
    Wrapped {
        secret: String,
        key: WrappedKey,
    },
}

/// Every key in `files`, in order.
pub fn load_keys(files: &[impl AsRef<Path>]) -> Result<Vec<RecoveryKey>> {
    if files.is_empty() {
        bail!("--recovery-unseal needs the controller's private keys: pass --recovery-private-key FILE (PEM keys or a backup of the key Secrets)");
    }
    let mut keys = Vec::new();
    for file in files {
        let file = file.as_ref();
        keys.extend(
            keys_in_file(file)
                .with_context(|| format!("cannot load private keys from {}", file.display()))?,
        );
    }
    Ok(keys)
}

fn keys_in_file(path: &Path) -> Result<Vec<RecoveryKey>> {
    let bytes = std::fs::read(path).context("cannot read the file")?;
    keys_in(bytes)
}

/// The keys in a file's bytes: PEM keys, or a JSON/YAML backup of the
/// controller's key Secrets (each Secret's `tls.key`, or its wrapped key).
pub fn keys_in(bytes: Vec<u8>) -> Result<Vec<RecoveryKey>> {
    if let Ok(keys) = PrivateKey::all_from_pem(&bytes) {
        return Ok(keys.into_iter().map(RecoveryKey::Plain).collect());
    }
    let text = String::from_utf8(bytes)
        .context("neither a PEM private key nor a JSON/YAML backup of key Secrets")?;
    let secrets = secrets_in(&text)
        .context("neither a PEM private key nor a JSON/YAML backup of key Secrets")?;
    if secrets.is_empty() {
        bail!("no key Secret found: expected a PEM private key, a Secret, or a v1.List of Secrets");
    }
    secrets
        .iter()
        .map(|secret| {
            let name = secret.metadata.name.as_deref().unwrap_or("<unnamed>");
            if is_wrapped(secret) {
                let key = read_wrapped_key_secret(secret)
                    .with_context(|| format!("KMS-wrapped key secret {name:?}"))?;
                return Ok(RecoveryKey::Wrapped {
                    secret: name.to_string(),
                    key,
                });
            }
            let pem = secret
                .data
                .as_ref()
                .and_then(|d| d.get("tls.key"))
                .with_context(|| format!("secret {name:?} has no tls.key: is this a backup of the sealed-secrets key Secrets?"))?;
            PrivateKey::from_pem(&pem.0)
                .map(RecoveryKey::Plain)
                .with_context(|| format!("tls.key of secret {name:?}"))
        })
        .collect()
}

/// Secrets in a backup: `List`/`SecretList` items, or Secret documents.
pub fn secrets_in(text: &str) -> Result<Vec<Secret>> {
    fn collect(doc: Value, place: &str, out: &mut Vec<Secret>) -> Result<()> {
        match doc.get("kind").and_then(Value::as_str).unwrap_or("Secret") {
            "List" | "SecretList" => {
                let items = doc
                    .get("items")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                for (i, item) in items.into_iter().enumerate() {
                    collect(item, &format!("{place}, item {}", i + 1), out)?;
                }
            }
            "Secret" => out.push(
                input::from_value(doc).with_context(|| format!("{place}: not a valid Secret"))?,
            ),
            other => bail!(
                "{place} is a {}: expected key Secrets",
                input::shown_kind(other)
            ),
        }
        Ok(())
    }
    let mut out = Vec::new();
    for (i, doc) in input::documents(text)?.into_iter().enumerate() {
        collect(doc, &format!("document {}", i + 1), &mut out)?;
    }
    Ok(out)
}
