use std::collections::BTreeMap;
use std::time::Instant;

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
            // The reference's one reason for a blob no key opens.
            let opened = keys
                .open(&blob.0, &label, options.preferred_key)
                .map_err(|_| sealed_secrets_crypto::Error::NoKeyCouldDecrypt)?;
            // Where and what kind of error only: serde's message would quote
            // the decrypted blob.
            let secret: Secret = serde_json::from_slice(&opened.plaintext).map_err(|e| {
                Error::DeprecatedDataNotASecret {
                    category: match e.classify() {
                        serde_json::error::Category::Io => "read",
                        serde_json::error::Category::Syntax => "syntax",
                        serde_json::error::Category::Data => "type",
                        serde_json::error::Category::Eof => "truncation",
                    },
                    line: e.line(),
                    column: e.column(),
                }
            })?;
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

/// Opens one base64 item, trying `preferred` first; on failure, the error
/// the status and `ItemErrors` show for that item.
pub(crate) fn open_item<'k>(
    keys: &'k KeyRing,
    value: &str,
    label: &[u8],
    preferred: Option<&Fingerprint>,
) -> Result<Opened<'k>, Error> {
    // The reference's words: Go's base64 error, and one reason for any
    // value no key opens (too short, no keys, wrong key or label).
    let ciphertext =
        crate::go_base64::decode_std(value).map_err(|at| Error::IllegalBase64 { at })?;
    keys.open(&ciphertext, label, preferred)
        .map_err(|_| sealed_secrets_crypto::Error::NoKeyCouldDecrypt.into())
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
    let mut context: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut preferred = options.preferred_key.cloned();

    for (key, value) in &sealed.spec.encrypted_data {
        match open_item(keys, value, label, preferred.as_ref()) {
            Ok(opened) => {
                preferred = Some(opened.fingerprint.clone());
                context.insert(key.clone(), opened.plaintext.to_vec());
                data.insert(key.clone(), ByteString(opened.plaintext.to_vec()));
            }
            Err(e) => {
                errors.push(key, e);
                // As the reference: an item that did not open is an empty
                // value to the templates, which render all the same, so the
                // message lists their failures too.
                context.insert(key.clone(), Vec::new());
            }
        }
    }
    render_templates(sealed, options, &mut context, &mut data, &mut errors);
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

/// The most a Secret's data can hold.
const SECRET_MAX_BYTES: usize = 1 << 20;

/// Renders `spec.template.data` as the reference v0.40 does: plain template
/// values are in the context too, an encrypted value wins over a template of
/// the same key (in the context and in the Secret), and `null` removes a key.
fn render_templates(
    sealed: &SealedSecret,
    options: &UnsealOptions<'_>,
    context: &mut BTreeMap<String, Vec<u8>>,
    data: &mut BTreeMap<String, ByteString>,
    errors: &mut ItemErrors,
) {
    let Some(templates) = &sealed.spec.template.data else {
        return;
    };
    for (key, text) in templates {
        if let Some(text) = text {
            context
                .entry(key.clone())
                .or_insert_with(|| text.as_bytes().to_vec());
        }
    }
    let deadline = Instant::now() + options.templates.time_limit();
    let mut printed = 0usize;
    for (key, text) in templates {
        let Some(text) = text else {
            data.remove(key);
            continue;
        };
        match options.templates.render(key, text, context, deadline) {
            Ok(rendered) => {
                printed += rendered.len();
                if printed > SECRET_MAX_BYTES {
                    errors.push_template(key, Error::TemplatesTooLarge);
                    return;
                }
                if !sealed.spec.encrypted_data.contains_key(key) {
                    data.insert(key.clone(), ByteString(rendered));
                }
            }
            Err(reason) => errors.push_template(key, reason),
        }
    }
}
