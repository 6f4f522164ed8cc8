//! The `sealed-with` annotation ([`SEALED_WITH_ANNOTATION`]): on a
//! SealedSecret's own metadata (never the template's, so it never reaches
//! the Secret), the fingerprints of the keys its items are sealed with.
//!
//! Written when sealing through a `.sealed-secrets.yaml`; kept true when a
//! file that already has it is re-sealed or merged into. A plain run never
//! adds it, so its output stays as the reference's.

use std::collections::BTreeSet;

use anyhow::{anyhow, Result};
use sealed_secrets_api::crypto::Fingerprint;
use sealed_secrets_api::{SealedSecret, SEALED_WITH_ANNOTATION};
use serde_json::Value;

/// The fingerprints `sealed` records, if it records any.
pub(crate) fn recorded(sealed: &SealedSecret) -> Option<BTreeSet<String>> {
    let value = sealed
        .metadata
        .annotations
        .as_ref()?
        .get(SEALED_WITH_ANNOTATION)?;
    Some(
        value
            .split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(str::to_string)
            .collect(),
    )
}

/// Every item of `sealed` was just sealed (or re-sealed) with `fingerprint`.
pub(crate) fn after_sealing(sealed: &mut SealedSecret, fingerprint: &Fingerprint, layout: bool) {
    if layout || recorded(sealed).is_some() {
        write(sealed, &BTreeSet::from([fingerprint.to_string()]));
    }
}

/// `merged` got items sealed with `fingerprint`; `before` is what the file
/// recorded, `replaced_all` whether the new items replaced every old one.
/// A file that recorded nothing gets a record only when it is then exact.
pub(crate) fn after_merging(
    merged: &mut SealedSecret,
    before: Option<BTreeSet<String>>,
    replaced_all: bool,
    fingerprint: &Fingerprint,
    layout: bool,
) {
    let now = match before {
        Some(_) if replaced_all => BTreeSet::from([fingerprint.to_string()]),
        Some(mut set) => {
            set.insert(fingerprint.to_string());
            set
        }
        None if layout && replaced_all => BTreeSet::from([fingerprint.to_string()]),
        None => return,
    };
    write(merged, &now);
}

/// The record dropped: the key that now seals `sealed` is not known here
/// (re-sealed by a controller).
pub(crate) fn forget(sealed: &mut SealedSecret) {
    if let Some(annotations) = &mut sealed.metadata.annotations {
        annotations.remove(SEALED_WITH_ANNOTATION);
        if annotations.is_empty() {
            sealed.metadata.annotations = None;
        }
    }
}

fn write(sealed: &mut SealedSecret, fingerprints: &BTreeSet<String>) {
    let joined = fingerprints.iter().cloned().collect::<Vec<_>>().join(",");
    sealed
        .metadata
        .annotations
        .get_or_insert_default()
        .insert(SEALED_WITH_ANNOTATION.to_string(), joined);
}

/// As [`after_sealing`] through a layout, on a file's document as read
/// (`admin reencrypt` keeps everything else in it as it was).
pub(crate) fn record_in_document(doc: &mut Value, fingerprint: &Fingerprint) -> Result<()> {
    let metadata = doc
        .get_mut("metadata")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| anyhow!("it has no metadata"))?;
    let annotations = metadata
        .entry("annotations")
        .or_insert_with(|| Value::Object(Default::default()));
    if annotations.is_null() {
        *annotations = Value::Object(Default::default());
    }
    annotations
        .as_object_mut()
        .ok_or_else(|| anyhow!("its metadata.annotations is not a map"))?
        .insert(
            SEALED_WITH_ANNOTATION.into(),
            Value::String(fingerprint.to_string()),
        );
    Ok(())
}

/// As [`forget`], on a file's document as read.
pub(crate) fn forget_in_document(doc: &mut Value) {
    let Some(metadata) = doc.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    if let Some(annotations) = metadata
        .get_mut("annotations")
        .and_then(Value::as_object_mut)
    {
        annotations.remove(SEALED_WITH_ANNOTATION);
        if annotations.is_empty() {
            metadata.remove("annotations");
        }
    }
}

#[cfg(test)]
mod tests;
