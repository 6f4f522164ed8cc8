use base64::Engine as _;
use sealed_secrets_crypto::{seal, Fingerprint, KeyRing, PublicKey};

use crate::unseal::open_item;
use crate::{Error, ItemErrors, SealedSecret};

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
    // Items of one object are usually sealed with one key: try it first.
    let mut preferred: Option<&Fingerprint> = None;
    for (key, value) in out.spec.encrypted_data.iter_mut() {
        let result = open_item(keys, value, &label, preferred).and_then(|opened| {
            preferred = Some(opened.fingerprint);
            seal(newest, &opened.plaintext, &label).map_err(Error::from)
        });
        match result {
            Ok(resealed) => *value = base64::engine::general_purpose::STANDARD.encode(resealed),
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
/// Stops at the first item that does not open: the answer is known, and the
/// rest would only cost RSA work (an unauthenticated caller chooses them).
/// As the reference, `data` and `encryptedData` together never verify.
pub fn verify(sealed: &SealedSecret, keys: &KeyRing) -> Result<(), Error> {
    let label = sealed.label();
    if let Some(blob) = &sealed.spec.data {
        if !sealed.spec.encrypted_data.is_empty() {
            return Err(Error::BothDataFields);
        }
        keys.open(&blob.0, &label, None)?;
        return Ok(());
    }
    let mut preferred: Option<&Fingerprint> = None;
    for (key, value) in &sealed.spec.encrypted_data {
        match open_item(keys, value, &label, preferred) {
            Ok(opened) => preferred = Some(opened.fingerprint),
            Err(e) => {
                let mut errors = ItemErrors::default();
                errors.push(key, e);
                return Err(errors.into());
            }
        }
    }
    Ok(())
}
