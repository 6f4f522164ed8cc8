use base64::Engine as _;
use sealed_secrets_crypto::{seal, KeyRing, PublicKey};

use crate::{Error, ItemErrors, SealedSecret};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Re-seals every item under `newest` with the same scope, leaving the rest of
/// the object as it was. Templates are never rendered, so this cannot be
/// used to read values out through `spec.template.data`.
pub fn reencrypt(
    sealed: &SealedSecret,
    keys: &KeyRing,
    newest: &PublicKey,
) -> Result<SealedSecret, Error> {
    let label = sealed.label();
    let mut out = sealed.clone();
    if let Some(blob) = &sealed.spec.data {
        let opened = keys.open(&blob.0, &label, None)?;
        out.spec.data = Some(k8s_openapi::ByteString(seal(
            newest,
            &opened.plaintext,
            &label,
        )?));
    }
    let mut errors = ItemErrors::default();
    for (key, value) in out.spec.encrypted_data.iter_mut() {
        let result = B64
            .decode(value.as_bytes())
            .map_err(|e| format!("invalid base64: {e}"))
            .and_then(|ct| keys.open(&ct, &label, None).map_err(|e| e.to_string()))
            .and_then(|opened| seal(newest, &opened.plaintext, &label).map_err(|e| e.to_string()));
        match result {
            Ok(resealed) => *value = B64.encode(resealed),
            Err(e) => errors.push(key, e),
        }
    }
    if !errors.is_empty() {
        return Err(errors.into());
    }
    out.status = None;
    Ok(out)
}

/// True when every item opens; templates are not rendered (see [`reencrypt`]).
pub fn verify(sealed: &SealedSecret, keys: &KeyRing) -> Result<(), Error> {
    let label = sealed.label();
    if let Some(blob) = &sealed.spec.data {
        keys.open(&blob.0, &label, None)?;
    }
    let mut errors = ItemErrors::default();
    for (key, value) in &sealed.spec.encrypted_data {
        let result = B64
            .decode(value.as_bytes())
            .map_err(|e| format!("invalid base64: {e}"))
            .and_then(|ct| {
                keys.open(&ct, &label, None)
                    .map(drop)
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = result {
            errors.push(key, e);
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.into())
    }
}
