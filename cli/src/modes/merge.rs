//! `--merge-into FILE`: new items sealed into an existing SealedSecret file,
//! its other items untouched. With several certificates
//! (`--merge-into 'clusters/{cluster}/db.yaml'`) each cluster's file gets the
//! items sealed with that cluster's key, and all files are written together.

use std::path::Path;

use anyhow::{bail, Context as _, Result};
use sealed_secrets_api::{SealOptions, SealedSecret};

use super::Run;
use crate::output::{self, Format};
use crate::recipients::{self, OutputPath};
use crate::{input, sealed_with};

/// A file to merge into, as read.
struct Original {
    sealed: SealedSecret,
    /// Kept unless `-o` says otherwise.
    format: Format,
}

impl Run {
    pub(super) fn merge_into(&self, template: &Path) -> Result<()> {
        let planned = recipients::plan_with_layout(
            &self.certs,
            Some(OutputPath {
                flag: "--merge-into",
                path: template,
            }),
            self.layout(),
            true,
        )?;
        // Every file is read before anything is sealed. A break-glass copy
        // that does not exist yet starts from its original, emptied.
        let mut originals: Vec<Original> = Vec::with_capacity(planned.len());
        for p in &planned {
            let path = p.path.as_deref().unwrap_or(template);
            let original = match p.copy_of {
                Some(index) if !path.exists() => {
                    let Some(of) = originals.get(index) else {
                        bail!(
                            "break-glass copy {} planned before its original",
                            path.display()
                        );
                    };
                    eprintln!(
                        "warning: break-glass copy {} did not exist: it is created with only the items merged now; \
                         to copy the whole file, re-seal it (kubeseal --re-encrypt --recovery-private-key KEY -f {})",
                        path.display(),
                        planned[index].path.as_deref().unwrap_or(template).display()
                    );
                    Original::emptied(of)
                }
                _ => read_original(path, p.cluster.as_deref())?,
            };
            originals.push(original);
        }
        let text = self.read_input("secret")?;
        let targets = recipients::load(planned, || self.controller_cert())?;
        let options = self.seal_options()?;
        let mut rendered = Vec::with_capacity(targets.len());
        // A copy is sealed for the name and namespace of its original.
        let mut forced: Vec<(Option<String>, Option<String>)> = Vec::with_capacity(targets.len());
        for (target, original) in targets.into_iter().zip(originals) {
            let Original {
                sealed: mut merged,
                format,
            } = original;
            let (name, namespace) = match target.copy_of.and_then(|i| forced.get(i)) {
                Some(of) => of.clone(),
                None => (
                    merged.metadata.name.clone(),
                    merged.metadata.namespace.clone(),
                ),
            };
            forced.push((name.clone(), namespace.clone()));
            let options = SealOptions {
                name,
                force_namespace: namespace,
                ..options.clone()
            };
            let before = sealed_with::recorded(&merged);
            let updates = self.seal_all(&text, &target.key, &options)?;
            // Every old item replaced by one sealed now: the record can be exact.
            let replaced_all = merged.spec.data.is_none()
                && merged.spec.encrypted_data.keys().all(|item| {
                    updates
                        .iter()
                        .any(|u| u.spec.encrypted_data.contains_key(item))
                });
            for update in updates {
                merge(&mut merged, update);
            }
            sealed_with::after_merging(
                &mut merged,
                before,
                replaced_all,
                target.key.fingerprint(),
                target.through_layout,
            );
            let format = if self.format_explicit {
                self.format
            } else {
                format
            };
            let mut out = String::new();
            output::render(&mut out, &merged, format)?;
            rendered.push((target, out.into_bytes()));
        }
        self.deliver(rendered)
    }
}

impl Original {
    /// `of` with no items and no record of keys: the start of a new copy.
    fn emptied(of: &Original) -> Original {
        let mut sealed = of.sealed.clone();
        sealed.spec.encrypted_data.clear();
        sealed.spec.data = None;
        sealed_with::forget(&mut sealed);
        Original {
            sealed,
            format: of.format,
        }
    }
}

/// The one SealedSecret of a `--merge-into` file; `cluster` when the run
/// names clusters.
fn read_original(file: &Path, cluster: Option<&str>) -> Result<Original> {
    let of_cluster = cluster
        .map(|c| format!(" (cluster {c})"))
        .unwrap_or_default();
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && cluster.is_some() => bail!(
            "--merge-into: {} does not exist{of_cluster}: seal it first with -w",
            file.display()
        ),
        Err(e) => {
            return Err(e).with_context(|| {
                format!(
                    "cannot read --merge-into file {}{of_cluster}",
                    file.display()
                )
            })
        }
    };
    let mut found: Vec<SealedSecret> =
        input::objects(&text, "SealedSecret").with_context(|| {
            format!(
                "--merge-into file {}{of_cluster} is not a SealedSecret",
                file.display()
            )
        })?;
    if found.len() != 1 {
        bail!(
            "--merge-into file {}{of_cluster} must hold exactly one SealedSecret, found {}",
            file.display(),
            found.len()
        );
    }
    Ok(Original {
        sealed: found.remove(0),
        format: Format::of_text(&text),
    })
}

/// Adds (or replaces) `update`'s items, template labels, annotations and
/// data in `into`.
fn merge(into: &mut SealedSecret, update: SealedSecret) {
    into.spec.encrypted_data.extend(update.spec.encrypted_data);
    let (into, from) = (&mut into.spec.template, update.spec.template);
    if let Some(a) = from.metadata.annotations {
        into.metadata.annotations.get_or_insert_default().extend(a);
    }
    if let Some(l) = from.metadata.labels {
        into.metadata.labels.get_or_insert_default().extend(l);
    }
    if let Some(d) = from.data {
        into.data.get_or_insert_default().extend(d);
    }
}
