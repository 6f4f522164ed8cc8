use std::collections::BTreeMap;

use base64::Engine as _;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use k8s_openapi::ByteString;
use sealed_secrets_crypto::{Fingerprint, KeyRing, Opened};

use crate::types::SKIP_SET_OWNER_REFERENCES_ANNOTATION;
use crate::{Error, ItemErrors, SealedSecret, TemplateEngine, API_VERSION, KIND};

/// How to turn a SealedSecret back into a Secret.
pub struct UnsealOptions<'a> {
    /// Accept the deprecated `spec.data` blob (`--accept-deprecated-v1-data`).
    pub accept_deprecated_v1_data: bool,
    /// Renders `spec.template.data`.
    pub templates: &'a dyn TemplateEngine,
    /// The key that opened this object last time: tried first.
    pub preferred_key: Option<&'a Fingerprint>,
}

/// The Secret, and which key opened it (the last one used when several did).
#[derive(Debug)]
pub struct Unsealed {
    pub secret: Secret,
    pub key: Option<Fingerprint>,
}

/// Decrypts every item and builds the Secret the controller writes: the
/// template's metadata, type and immutability, the SealedSecret's own name and
/// namespace, and an owner reference to it unless the template opts out.
pub fn unseal(
    sealed: &SealedSecret,
    keys: &KeyRing,
    options: &UnsealOptions<'_>,
) -> Result<Unsealed, Error> {
    let label = sealed.label();
    let (mut secret, key) = match &sealed.spec.data {
        None => unseal_items(sealed, keys, &label, options)?,
        Some(_) if !options.accept_deprecated_v1_data => return Err(Error::DeprecatedData),
        Some(_) if !sealed.spec.encrypted_data.is_empty() => return Err(Error::BothDataFields),
        Some(blob) => {
            let opened = keys.open(&blob.0, &label, options.preferred_key)?;
            let secret: Secret = serde_json::from_slice(&opened.plaintext)
                .map_err(|e| Error::DeprecatedDataNotASecret(e.to_string()))?;
            (secret, Some(opened.fingerprint.clone()))
        }
    };

    secret.metadata.name = sealed.metadata.name.clone();
    secret.metadata.namespace = sealed.metadata.namespace.clone();
    let skip_owner = sealed
        .spec
        .template
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(SKIP_SET_OWNER_REFERENCES_ANNOTATION))
        .is_some_and(|v| v == "true");
    if !skip_owner {
        secret.metadata.owner_references = Some(vec![owner_reference(sealed)]);
    }
    Ok(Unsealed { secret, key })
}

/// The owner reference the reference controller sets on the Secrets it makes.
pub fn owner_reference(sealed: &SealedSecret) -> OwnerReference {
    OwnerReference {
        api_version: API_VERSION.to_string(),
        kind: KIND.to_string(),
        name: sealed.metadata.name.clone().unwrap_or_default(),
        uid: sealed.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: None,
    }
}

/// Opens one base64 item, trying `preferred` first; on failure, the message
/// the status and `ItemErrors` show for that item.
pub(crate) fn open_item<'k>(
    keys: &'k KeyRing,
    value: &str,
    label: &[u8],
    preferred: Option<&Fingerprint>,
) -> Result<Opened<'k>, String> {
    let ciphertext = base64::engine::general_purpose::STANDARD
        .decode(value)
        .map_err(|e| format!("invalid base64: {e}"))?;
    keys.open(&ciphertext, label, preferred)
        .map_err(|e| e.to_string())
}

fn unseal_items(
    sealed: &SealedSecret,
    keys: &KeyRing,
    label: &[u8],
    options: &UnsealOptions<'_>,
) -> Result<(Secret, Option<Fingerprint>), Error> {
    let template = &sealed.spec.template;
    let mut errors = ItemErrors::default();
    let mut data = BTreeMap::new();
    let mut context = BTreeMap::new();
    let mut preferred = options.preferred_key.cloned();

    for (key, value) in &sealed.spec.encrypted_data {
        match open_item(keys, value, label, preferred.as_ref()) {
            Ok(opened) => {
                preferred = Some(opened.fingerprint.clone());
                context.insert(
                    key.clone(),
                    String::from_utf8_lossy(&opened.plaintext).into_owned(),
                );
                data.insert(key.clone(), ByteString(opened.plaintext.to_vec()));
            }
            Err(e) => errors.push(key, e),
        }
    }
    if errors.is_empty() {
        for (key, text) in template.data.iter().flatten() {
            match options.templates.render(key, text, &context) {
                Ok(rendered) => {
                    data.insert(key.clone(), ByteString(rendered.into_bytes()));
                }
                Err(e) => errors.push(key, e),
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors.into());
    }

    let secret = Secret {
        metadata: template.metadata.clone(),
        type_: template.type_.clone(),
        immutable: template.immutable,
        data: Some(data),
        ..Secret::default()
    };
    let used = if sealed.spec.encrypted_data.is_empty() {
        None
    } else {
        preferred
    };
    Ok((secret, used))
}
