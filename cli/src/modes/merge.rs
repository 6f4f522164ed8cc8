//! `--merge-into FILE`: new items sealed into an existing SealedSecret file,
//! its other items untouched. With several certificates
//! (`--merge-into 'clusters/{cluster}/db.yaml'`) each cluster's file gets the
//! items sealed with that cluster's key, and all files are written together.

use std::path::Path;

use anyhow::{bail, Context as _, Result};
use sealed_secrets_api::{SealOptions, SealedSecret};

use super::Run;
use crate::input;
use crate::output::{self, Format};
use crate::recipients::{self, OutputPath};

/// A file to merge into, as read.
struct Original {
    sealed: SealedSecret,
    /// Kept unless `-o` says otherwise.
    format: Format,
}

impl Run {
    pub(super) fn merge_into(&self, template: &Path) -> Result<()> {
        let planned = recipients::plan(
            &self.certs,
            Some(OutputPath {
                flag: "--merge-into",
                path: template,
            }),
        )?;
        let mut originals = Vec::with_capacity(planned.len());
        for p in &planned {
            let path = p.path.as_deref().unwrap_or(template);
            originals.push(read_original(path, p.cluster.as_deref())?);
        }
        let text = self.read_input("secret")?;
        let targets = recipients::load(planned, || self.controller_cert())?;
        let options = self.seal_options()?;
        let mut rendered = Vec::with_capacity(targets.len());
        for (target, original) in targets.into_iter().zip(originals) {
            let Original {
                sealed: mut merged,
                format,
            } = original;
            let options = SealOptions {
                name: merged.metadata.name.clone(),
                force_namespace: merged.metadata.namespace.clone(),
                ..options.clone()
            };
            for update in self.seal_all(&text, &target.key, &options)? {
                merge(&mut merged, update);
            }
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
