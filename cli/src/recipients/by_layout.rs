//! Targets from a `.sealed-secrets.yaml`: the output path's folder names its
//! cluster (no silent fallback: a path no rule matches is an error), a
//! `{cluster}` path expands over the layout's clusters, and every file
//! sealed through a rule gets its break-glass copies.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{bail, Context as _, Result};
use sealed_secrets_api::crypto::PublicKey;

use super::{template_text, CertSource, LayoutFlag, LayoutSays, OutputPath, Planned, CLUSTER};
use crate::layout::{Layout, Resolved};

/// The layout for a run writing `output`: `--layout FILE`, else the one
/// found by walking up from it.
pub(super) fn find(flag: LayoutFlag<'_>, output: &Path) -> Result<Option<Layout>> {
    match flag {
        LayoutFlag::Off => Ok(None),
        LayoutFlag::File(file) => Layout::load(file)
            .with_context(|| format!("--layout {}", file.display()))
            .map(Some),
        LayoutFlag::Discover => Layout::find_for(output),
    }
}

/// The targets of a run with no `--cert` writing `output` under `layout`.
pub(super) fn plan(layout: &Layout, output: OutputPath<'_>, merging: bool) -> Result<Vec<Planned>> {
    let mut planned = Vec::new();
    if !output.path.to_string_lossy().contains(CLUSTER) {
        let resolved = layout.resolve(output.path)?;
        push(&mut planned, &resolved, output.path.to_path_buf());
        return Ok(planned);
    }
    let text = template_text(output)?;
    let mut expanded = Vec::new();
    for cluster in layout.clusters() {
        let path = PathBuf::from(text.replace(CLUSTER, &cluster.name));
        let resolved = layout.lookup(&path)?;
        match &resolved {
            Some(r) if r.cluster.name == cluster.name => {}
            other => bail!(
                "{} {text} for cluster {} is {}, which {} gives to {}: {CLUSTER} must name each cluster's own folder",
                output.flag,
                cluster.name,
                path.display(),
                layout.file().display(),
                match other {
                    Some(r) => format!("cluster {}", r.cluster.name),
                    None => "no cluster (no rule matches it)".to_owned(),
                }
            ),
        }
        expanded.push((path, resolved));
    }
    if expanded.is_empty() {
        bail!(
            "{} {text}: {} defines no cluster to expand {CLUSTER} to",
            output.flag,
            layout.file().display()
        );
    }
    if merging {
        let (present, absent): (Vec<_>, Vec<_>) =
            expanded.into_iter().partition(|(path, _)| path.exists());
        let list = |files: &[(PathBuf, Option<Resolved<'_>>)]| {
            files
                .iter()
                .filter_map(|(path, r)| {
                    let r = r.as_ref()?;
                    Some(format!("{} (cluster {})", path.display(), r.cluster.name))
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        if present.is_empty() {
            bail!(
                "{} {text}: none of the files of the clusters of {} exists ({}): seal it first with -w",
                output.flag,
                layout.file().display(),
                list(&absent)
            );
        }
        eprintln!("merging into {}", list(&present));
        if !absent.is_empty() {
            eprintln!("not merging into {}: no such file", list(&absent));
        }
        expanded = present;
    }
    for (path, resolved) in expanded {
        if let Some(resolved) = resolved {
            push(&mut planned, &resolved, path);
        }
    }
    Ok(planned)
}

/// `path` for its cluster, then its break-glass copies.
fn push(planned: &mut Vec<Planned>, resolved: &Resolved<'_>, path: PathBuf) {
    let original = planned.len();
    planned.push(Planned {
        cluster: Some(resolved.cluster.name.clone()),
        source: CertSource::Layout(resolved.cluster.clone()),
        path: Some(path),
        copy_of: None,
        layout_says: None,
    });
    for copy in &resolved.copies {
        planned.push(Planned {
            cluster: Some(copy.cluster.name.clone()),
            source: CertSource::Layout(copy.cluster.clone()),
            path: Some(copy.path.clone()),
            copy_of: Some(original),
            layout_says: None,
        });
    }
}

/// With `--cert`: notes, for each path the layout gives a cluster, that
/// cluster, to compare certificates once they are read.
pub(super) fn note(layout: &Layout, planned: &mut [Planned]) {
    for p in planned {
        let Some(path) = &p.path else { continue };
        // A path the layout does not cover is simply not checked: --cert decides.
        if let Ok(Some(resolved)) = layout.lookup(path) {
            p.layout_says = Some(LayoutSays {
                file: layout.file().to_path_buf(),
                relative: resolved.relative,
                cluster: resolved.cluster.clone(),
            });
        }
    }
}

/// `--cert` wins over the layout; a different certificate is said.
pub(super) fn warn_if_other(says: &LayoutSays, location: &str, key: &PublicKey, now: SystemTime) {
    let cluster = &says.cluster;
    match cluster.public_key(now) {
        Ok(theirs) if theirs.fingerprint() == key.fingerprint() => {}
        Ok(theirs) => eprintln!(
            "warning: {} gives {} to cluster {} ({}, {}); sealing with --cert {location} ({}) as asked",
            says.file.display(),
            says.relative,
            cluster.name,
            cluster.cert,
            theirs.fingerprint(),
            key.fingerprint()
        ),
        Err(e) => eprintln!(
            "warning: {} gives {} to cluster {}, whose certificate cannot be compared with --cert {location}: {}",
            says.file.display(),
            says.relative,
            cluster.name,
            crate::error::render(&e)
        ),
    }
}
