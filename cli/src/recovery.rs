//! Private keys for `--recovery-unseal`: PEM files, or backups of the
//! controller's key Secrets (one Secret, several documents, or a `v1.List`).

use std::path::Path;

use anyhow::{bail, Context as _, Result};
use k8s_openapi::api::core::v1::Secret;
use sealed_secrets_api::crypto::{KeyRing, PrivateKey};
use serde_json::Value;

use crate::input;

pub fn load_keys(files: &[impl AsRef<Path>]) -> Result<KeyRing> {
    if files.is_empty() {
        bail!("--recovery-unseal needs the controller's private keys: pass --recovery-private-key FILE (PEM keys or a backup of the key Secrets)");
    }
    let mut ring = KeyRing::default();
    for file in files {
        let file = file.as_ref();
        for key in keys_in_file(file)
            .with_context(|| format!("cannot load private keys from {}", file.display()))?
        {
            ring.push(key);
        }
    }
    Ok(ring)
}

fn keys_in_file(path: &Path) -> Result<Vec<PrivateKey>> {
    let bytes = std::fs::read(path).context("cannot read the file")?;
    if let Ok(keys) = PrivateKey::all_from_pem(&bytes) {
        return Ok(keys);
    }
    let text = String::from_utf8(bytes)
        .context("neither a PEM private key nor a JSON/YAML backup of key Secrets")?;
    let mut secrets = Vec::new();
    for doc in input::documents(&text)
        .context("neither a PEM private key nor a JSON/YAML backup of key Secrets")?
    {
        collect_secrets(doc, &mut secrets)?;
    }
    if secrets.is_empty() {
        bail!("no key Secret found: expected a PEM private key, a Secret, or a v1.List of Secrets");
    }
    secrets
        .iter()
        .map(|secret| {
            let name = secret.metadata.name.as_deref().unwrap_or("<unnamed>");
            let pem = secret
                .data
                .as_ref()
                .and_then(|d| d.get("tls.key"))
                .with_context(|| format!("secret {name:?} has no tls.key: is this a backup of the sealed-secrets key Secrets?"))?;
            PrivateKey::from_pem(&pem.0).with_context(|| format!("tls.key of secret {name:?}"))
        })
        .collect()
}

fn collect_secrets(doc: Value, out: &mut Vec<Secret>) -> Result<()> {
    let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("Secret");
    match kind {
        "List" | "SecretList" => {
            let items = doc
                .get("items")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for item in items {
                collect_secrets(item, out)?;
            }
        }
        "Secret" => out.push(serde_json::from_value(doc).context("not a valid Secret")?),
        other => bail!("found a {other}, expected Secrets holding tls.key"),
    }
    Ok(())
}
