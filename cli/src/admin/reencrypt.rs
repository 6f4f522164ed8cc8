//! `kubeseal admin reencrypt PATH...`: rewrites SealedSecret files in place
//! with the controller's newest key, through its `/v1/rotate` endpoint; or,
//! with `--recovery-private-key KEYS --cert NEW`, here without a cluster.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::{anyhow, bail, Context as _, Result};
use sealed_secrets_api::crypto::{KeyRing, PublicKey};
use sealed_secrets_api::SealedSecret;
use serde::Deserialize as _;
use serde_json::Value;

use crate::cluster::{block_on, ClusterArgs, Controller, Verdict};
use crate::input;
use crate::kms::KmsArgs;
use crate::output::{self, Format};

#[derive(Debug, clap::Args)]
pub(crate) struct ReencryptArgs {
    /// SealedSecret files, or directories to walk for *.yaml, *.yml and *.json
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<PathBuf>,
    /// Re-seal here, with no cluster: the private keys that open the files (PEM files, or a backup of the key Secrets; KMS-wrapped ones with --kms-endpoint). Needs --cert
    #[arg(long, value_delimiter = ',', value_name = "FILE")]
    recovery_private_key: Vec<PathBuf>,
    /// With --recovery-private-key: the certificate to seal to (file or URL)
    #[arg(long, value_name = "FILE|URL")]
    cert: Option<String>,
}

/// Where the new ciphertexts come from.
enum Resealer {
    /// The controller's `/v1/rotate` (its newest key), connected on first use.
    Controller(Option<Controller>),
    /// Here: opened with these keys, sealed to this certificate's key.
    Offline(KeyRing, PublicKey),
}

impl Resealer {
    fn new(args: &ReencryptArgs, kms: &KmsArgs) -> Result<Self> {
        match (&args.cert, args.recovery_private_key.is_empty()) {
            (None, true) => Ok(Self::Controller(None)),
            (Some(cert), false) => {
                let public = crate::cert::parse_public_key(&crate::cert::read(cert)?, SystemTime::now())?;
                let keys = crate::recovery::load_keys(&args.recovery_private_key)?;
                Ok(Self::Offline(crate::kms::key_ring(keys, kms)?, public))
            }
            (None, false) => bail!(
                "--recovery-private-key re-seals without the controller: pass --cert with the certificate to seal to (file or URL)"
            ),
            (Some(_), true) => bail!(
                "--cert is the certificate to seal to without the controller: pass the keys that open the files with --recovery-private-key (without both, the controller's newest key seals)"
            ),
        }
    }
}

const EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// A file to look at, or one to report as skipped without reading it.
enum Found {
    /// As named (for messages), and the file to rewrite (a link's target).
    File(PathBuf, PathBuf),
    Skip(PathBuf, &'static str),
}

/// Files named directly are always read; directories are walked in name order.
fn collect(paths: &[PathBuf]) -> Result<Vec<Found>> {
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
                found.push(Found::File(path.clone(), target));
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
            found.push(Found::File(path.clone(), path));
        }
    }
    Ok(())
}

/// What a file holds, decided before any request.
enum Contents {
    Sealed {
        format: Format,
        docs: Vec<(Value, SealedSecret)>,
    },
    Other(String),
}

fn inspect(path: &Path) -> Result<Contents> {
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
fn replace_ciphertexts(mut doc: Value, rotated: &SealedSecret) -> Result<Value> {
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

fn describe(sealed: &SealedSecret) -> String {
    match (&sealed.metadata.namespace, &sealed.metadata.name) {
        (Some(ns), Some(name)) => format!("{ns}/{name}"),
        (None, Some(name)) => name.clone(),
        _ => "<unnamed>".into(),
    }
}

pub(crate) fn run(args: &ReencryptArgs, cluster: &ClusterArgs, kms: &KmsArgs) -> Result<ExitCode> {
    let found = collect(&args.paths)?;
    let mut resealer = Resealer::new(args, kms)?;
    block_on(async {
        let (mut rewritten, mut skipped) = (0usize, 0usize);
        for item in found {
            let (shown, path) = match item {
                Found::File(shown, path) => (shown.display().to_string(), path),
                Found::Skip(path, reason) => {
                    println!("skipped {}: {reason}", path.display());
                    skipped += 1;
                    continue;
                }
            };
            let (format, docs) =
                match inspect(&path).with_context(|| format!("cannot re-encrypt {shown}"))? {
                    Contents::Other(reason) => {
                        println!("skipped {shown}: {reason}");
                        skipped += 1;
                        continue;
                    }
                    Contents::Sealed { format, docs } => (format, docs),
                };
            let mut out = String::new();
            let count = docs.len();
            for (doc, sealed) in docs {
                let what = describe(&sealed);
                let rotated = match &mut resealer {
                    Resealer::Offline(keys, public) => {
                        match sealed_secrets_api::reencrypt(&sealed, keys, public) {
                            Ok(rotated) => rotated,
                            Err(e) if e.is_key_failure() => bail!(
                                "cannot re-encrypt {shown}: none of the keys given (--recovery-private-key) opens SealedSecret {what}; the file was left as it was"
                            ),
                            Err(e) => {
                                return Err(anyhow::Error::new(e).context(format!(
                                    "cannot re-encrypt {shown}: SealedSecret {what}"
                                )))
                            }
                        }
                    }
                    Resealer::Controller(controller) => {
                        let controller = match controller {
                            Some(c) => c,
                            empty => empty.insert(Controller::connect(cluster).await.context(
                                "cannot connect to the cluster to reach the controller",
                            )?),
                        };
                        match controller.rotate(&sealed).await.with_context(|| {
                            format!("cannot re-encrypt {shown}: SealedSecret {what}")
                        })? {
                            Verdict::Ok(rotated) => rotated,
                            Verdict::CannotDecrypt => bail!(
                                "cannot re-encrypt {shown}: no key of the controller opens SealedSecret {what} \
                                 (sealed for another cluster or controller, or renamed/moved since it was sealed); the file was left as it was"
                            ),
                        }
                    }
                };
                let doc = replace_ciphertexts(doc, &rotated)
                    .with_context(|| format!("cannot re-encrypt {shown}: SealedSecret {what}"))?;
                output::render(&mut out, &doc, format)?;
            }
            output::write_atomically(&path, out.as_bytes())
                .with_context(|| format!("cannot re-encrypt {shown}"))?;
            println!(
                "reencrypted {shown} ({count} SealedSecret{})",
                if count == 1 { "" } else { "s" }
            );
            rewritten += 1;
        }
        if rewritten == 0 {
            eprintln!("no SealedSecret files found ({skipped} skipped)");
        }
        Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
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
