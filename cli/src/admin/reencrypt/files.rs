//! The files `admin reencrypt` works on: found (named, or by walking
//! folders), read as SealedSecrets, and rebuilt with only their
//! ciphertexts replaced.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context as _, Result};
use sealed_secrets_api::SealedSecret;
use serde::Deserialize as _;
use serde_json::Value;

use crate::input;
use crate::output::Format;

const EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// A file to look at, or one to report as skipped without reading it.
pub(super) enum Found {
    File {
        /// As named or found (for messages and the layout's rules).
        shown: PathBuf,
        /// The file to rewrite (a link's target).
        path: PathBuf,
        /// Named on the command line rather than found in a folder: a file
        /// that cannot be done is then an error, not a skip.
        named: bool,
    },
    Skip(PathBuf, &'static str),
}

/// Files named directly are always read; directories are walked in name order.
pub(super) fn collect(paths: &[PathBuf]) -> Result<Vec<Found>> {
    let mut found = Vec::new();
    let mut seen = BTreeSet::new();
    for path in paths {
        let meta =
            std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        if meta.is_dir() {
            walk(path, &mut found, &mut seen)?;
        } else {
            // A link named directly: rewrite what it points at, keeping the link.
            let target = std::fs::canonicalize(path)
                .with_context(|| format!("cannot resolve {}", path.display()))?;
            if seen.insert(target.clone()) {
                found.push(Found::File {
                    shown: path.clone(),
                    path: target,
                    named: true,
                });
            }
        }
    }
    Ok(found)
}

fn walk(dir: &Path, found: &mut Vec<Found>, seen: &mut BTreeSet<PathBuf>) -> Result<()> {
    let mut entries = std::fs::read_dir(dir)
        .and_then(|entries| entries.collect::<std::io::Result<Vec<_>>>())
        .with_context(|| format!("cannot list directory {}", dir.display()))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        let kind = entry
            .file_type()
            .with_context(|| format!("cannot read {}", path.display()))?;
        let wanted = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.iter().any(|x| e.eq_ignore_ascii_case(x)));
        if kind.is_dir() {
            if !hidden {
                walk(&path, found, seen)?;
            }
        } else if !wanted || hidden {
            continue;
        } else if kind.is_symlink() {
            found.push(Found::Skip(
                path,
                "symbolic link (name its target to re-encrypt it)",
            ));
        } else if seen.insert(std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone())) {
            found.push(Found::File {
                shown: path.clone(),
                path,
                named: false,
            });
        }
    }
    Ok(())
}

/// What a file holds, decided before any request.
pub(super) enum Contents {
    Sealed {
        format: Format,
        docs: Vec<(Value, SealedSecret)>,
    },
    Other(String),
}

pub(super) fn inspect(path: &Path) -> Result<Contents> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let Ok(text) = String::from_utf8(bytes) else {
        return Ok(Contents::Other("not UTF-8 text".into()));
    };
    let docs = match input::documents(&text) {
        Ok(docs) => docs,
        Err(e) => {
            return Ok(Contents::Other(format!(
                "not YAML or JSON ({})",
                crate::error::render(&e)
            )))
        }
    };
    if docs.is_empty() {
        return Ok(Contents::Other("no documents".into()));
    }
    for (i, doc) in docs.iter().enumerate() {
        match doc.get("kind").and_then(Value::as_str) {
            Some("SealedSecret") => {}
            Some(kind) => {
                return Ok(Contents::Other(format!(
                    "document {} is a {kind}, not a SealedSecret",
                    i + 1
                )))
            }
            None => {
                return Ok(Contents::Other(format!(
                    "document {} is not a Kubernetes object",
                    i + 1
                )))
            }
        }
    }
    let docs = docs
        .into_iter()
        .enumerate()
        .map(|(i, doc)| {
            let sealed = SealedSecret::deserialize(&doc)
                .with_context(|| format!("document {} is not a valid SealedSecret", i + 1))?;
            Ok((doc, sealed))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Contents::Sealed {
        format: Format::of_text(&text),
        docs,
    })
}

/// The original document with only its ciphertexts replaced, so everything
/// else in the file (template, annotations, ...) stays as it was.
pub(super) fn replace_ciphertexts(mut doc: Value, rotated: &SealedSecret) -> Result<Value> {
    let spec = doc
        .get_mut("spec")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| anyhow!("it has no spec"))?;
    spec.insert(
        "encryptedData".into(),
        serde_json::to_value(&rotated.spec.encrypted_data)
            .context("cannot encode encryptedData")?,
    );
    match &rotated.spec.data {
        Some(data) => {
            spec.insert(
                "data".into(),
                serde_json::to_value(data).context("cannot encode data")?,
            );
        }
        None => {
            spec.remove("data");
        }
    }
    Ok(doc)
}

/// [`replace_ciphertexts`], then the record of the key it is sealed with
/// now (`sealed-with`): how a layout's files are rewritten.
pub(super) fn reseal_recorded(
    doc: Value,
    rotated: &SealedSecret,
    sealed_with: &sealed_secrets_api::crypto::Fingerprint,
) -> Result<Value> {
    let mut doc = replace_ciphertexts(doc, rotated)?;
    crate::sealed_with::record_in_document(&mut doc, sealed_with)?;
    Ok(doc)
}

pub(super) fn describe(sealed: &SealedSecret) -> String {
    match (&sealed.metadata.namespace, &sealed.metadata.name) {
        (Some(ns), Some(name)) => format!("{ns}/{name}"),
        (None, Some(name)) => name.clone(),
        _ => "<unnamed>".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_ciphertexts_change() {
        let doc = json!({
            "apiVersion": "bitnami.com/v1alpha1",
            "kind": "SealedSecret",
            "metadata": {"name": "s", "namespace": "n", "annotations": {"team": "a"}},
            "spec": {"encryptedData": {"k": "old"}, "data": "bGVnYWN5", "template": {"type": "Opaque"}},
        });
        let mut rotated: SealedSecret = serde_json::from_value(doc.clone()).expect("sealed");
        rotated.spec.encrypted_data = [("k".to_string(), "new".to_string())].into();
        rotated.spec.data = None;
        let out = replace_ciphertexts(doc.clone(), &rotated).expect("replaced");
        assert_eq!(out["spec"]["encryptedData"], json!({"k": "new"}));
        assert!(out["spec"].get("data").is_none());
        assert_eq!(out["spec"]["template"], doc["spec"]["template"]);
        assert_eq!(out["metadata"], doc["metadata"]);
    }
}
