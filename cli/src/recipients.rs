//! Whom one run seals for: a target per certificate, each with its cluster's
//! name, its public key and, when writing files, its own output path
//! (`-w 'clusters/{cluster}/db.yaml'`).
//!
//! [`plan`] decides the targets from the flags alone, [`plan_with_layout`]
//! also from the repository's `.sealed-secrets.yaml` ([`by_layout`]); [`load`]
//! then reads every certificate, all of them before anything is sealed or
//! written.

mod by_layout;

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{bail, Context as _, Result};
use sealed_secrets_api::crypto::PublicKey;

use crate::cert::{self, CertSpec};
use crate::layout::Cluster;

/// The only placeholder of an output path.
const CLUSTER: &str = "{cluster}";

/// An output path given on the command line, and the flag that gave it.
#[derive(Clone, Copy)]
pub(crate) struct OutputPath<'a> {
    pub(crate) flag: &'static str,
    pub(crate) path: &'a Path,
}

/// `--layout`: which `.sealed-secrets.yaml` a run may use.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LayoutFlag<'a> {
    /// Not given: the one found by walking up from the output path.
    Discover,
    /// `--layout FILE`.
    File(&'a Path),
    /// `--layout=`: none.
    Off,
}

impl<'a> LayoutFlag<'a> {
    pub(crate) fn from_flag(flag: Option<&'a str>) -> Self {
        match flag {
            None => Self::Discover,
            Some("") => Self::Off,
            Some(file) => Self::File(Path::new(file)),
        }
    }
}

/// Where a target's certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CertSource {
    /// A `--cert` location (file or URL).
    Location(String),
    /// No `--cert`: the cluster's controller, through the kubeconfig.
    Controller,
    /// No `--cert`: the layout's cluster for the output path.
    Layout(Cluster),
}

/// A target before its certificate is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Planned {
    /// Set when the run names clusters (several certificates, `NAME=`,
    /// `{cluster}` in the path, or a layout); `None` for a plain single run.
    pub(crate) cluster: Option<String>,
    pub(crate) source: CertSource,
    /// The output path with `{cluster}` replaced; `None`: stdout.
    pub(crate) path: Option<PathBuf>,
    /// A break-glass copy: the index (in the plan) of the file it copies.
    pub(crate) copy_of: Option<usize>,
    /// With `--cert`: the layout's cluster for `path` when its certificate
    /// may differ (a warning at [`load`] when it does).
    pub(crate) layout_says: Option<LayoutSays>,
}

/// What a layout says about a path a `--cert` run writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LayoutSays {
    pub(crate) file: PathBuf,
    pub(crate) relative: String,
    pub(crate) cluster: Cluster,
}

/// One cluster to seal for.
pub(crate) struct Target {
    pub(crate) cluster: Option<String>,
    pub(crate) key: PublicKey,
    pub(crate) path: Option<PathBuf>,
    /// A break-glass copy: the index of the target it copies.
    pub(crate) copy_of: Option<usize>,
    /// Chosen by a layout: the result records its key (sealed_with.rs).
    pub(crate) through_layout: bool,
    /// How messages name this target's file.
    what: String,
}

impl Target {
    /// How messages name this target's file: `cluster oslo`.
    pub(crate) fn what(&self) -> String {
        self.what.clone()
    }
}

/// [`plan`], with the repository's layout where it applies. No `--cert`
/// and an output path under a `.sealed-secrets.yaml`: its rules choose each
/// file's cluster and add the break-glass copies (`merging`: a `{cluster}`
/// expansion keeps only the files that exist). `--cert` there: as [`plan`],
/// and [`load`] warns when the layout gives a path another certificate.
/// No layout: as [`plan`].
pub(crate) fn plan_with_layout(
    certs: &[CertSpec],
    output: Option<OutputPath<'_>>,
    layout: LayoutFlag<'_>,
    merging: bool,
) -> Result<Vec<Planned>> {
    let Some(output) = output else {
        return plan(certs, None);
    };
    if certs.is_empty() {
        return match by_layout::find(layout, output.path)? {
            Some(layout) => by_layout::plan(&layout, output, merging),
            None => plan(certs, Some(output)),
        };
    }
    let mut planned = plan(certs, Some(output))?;
    // With --cert the layout only advises: one that cannot be read is said,
    // and does not stop the run.
    match by_layout::find(layout, output.path) {
        Ok(Some(layout)) => by_layout::note(&layout, &mut planned),
        Ok(None) => {}
        Err(e) => eprintln!(
            "warning: --cert is used without checking it against the layout: {}",
            crate::error::render(&e)
        ),
    }
    Ok(planned)
}

/// The targets of `certs` writing to `output`, checked before any work.
///
/// Without `--cert` the single target's certificate is the controller's.
/// This is where a repository layout (a file mapping output folders to
/// certificates) would supply the certificate for `output` instead.
pub(crate) fn plan(certs: &[CertSpec], output: Option<OutputPath<'_>>) -> Result<Vec<Planned>> {
    let template = output.map(|o| o.path);
    let has_placeholder = template.is_some_and(|p| p.to_string_lossy().contains(CLUSTER));
    if certs.is_empty() {
        if let (true, Some(o)) = (has_placeholder, output) {
            bail!(
                "{CLUSTER} appears in {} but no certificate names a cluster: pass --cert NAME=FILE, once per cluster, or write below a {} that lists the clusters",
                o.flag,
                crate::layout::FILE_NAME
            );
        }
        return Ok(vec![Planned {
            cluster: None,
            source: CertSource::Controller,
            path: template.map(Path::to_path_buf),
            copy_of: None,
            layout_says: None,
        }]);
    }
    let named = certs.len() > 1 || has_placeholder || certs.iter().any(|c| c.name.is_some());
    if !named {
        // One plain --cert: exactly as a single-certificate run always was.
        return Ok(vec![Planned {
            cluster: None,
            source: CertSource::Location(certs[0].location.clone()),
            path: template.map(Path::to_path_buf),
            copy_of: None,
            layout_says: None,
        }]);
    }
    let names = cluster_names(certs)?;
    let paths: Vec<Option<PathBuf>> = match output {
        None => vec![None; certs.len()],
        Some(o) => {
            let text = template_text(o)?;
            if !has_placeholder && certs.len() > 1 {
                bail!(
                    "{} {} names one file but {} certificates were given ({}): put {CLUSTER} in the path, e.g. {} '{}'",
                    o.flag,
                    o.path.display(),
                    certs.len(),
                    names.join(", "),
                    o.flag,
                    example(o.path)
                );
            }
            names
                .iter()
                .map(|name| Some(PathBuf::from(text.replace(CLUSTER, name))))
                .collect()
        }
    };
    Ok(certs
        .iter()
        .zip(names)
        .zip(paths)
        .map(|((spec, name), path)| Planned {
            cluster: Some(name),
            source: CertSource::Location(spec.location.clone()),
            path,
            copy_of: None,
            layout_says: None,
        })
        .collect())
}

/// Each certificate's cluster name, valid and unique.
fn cluster_names(certs: &[CertSpec]) -> Result<Vec<String>> {
    let names = certs
        .iter()
        .map(CertSpec::cluster_name)
        .collect::<Result<Vec<_>>>()?;
    for (i, name) in names.iter().enumerate() {
        let same: Vec<&str> = certs
            .iter()
            .zip(&names)
            .filter(|(_, n)| *n == name)
            .map(|(c, _)| c.location.as_str())
            .collect();
        if same.len() > 1 && names[..i].iter().all(|n| n != name) {
            bail!(
                "{} certificates are named {name:?} ({}): name them, e.g. --cert oslo={}",
                same.len(),
                same.join(", "),
                same[0]
            );
        }
    }
    Ok(names)
}

/// The path as text, with no placeholder but `{cluster}`.
fn template_text(output: OutputPath<'_>) -> Result<String> {
    let Some(text) = output.path.to_str() else {
        bail!(
            "{} {} is not UTF-8: {CLUSTER} cannot be replaced in it; choose a UTF-8 path",
            output.flag,
            output.path.display()
        );
    };
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let after = &rest[start..];
        let Some(end) = after.find('}') else {
            break;
        };
        let placeholder = &after[..=end];
        if placeholder != CLUSTER {
            bail!(
                "unknown placeholder {placeholder} in {} {text}: only {CLUSTER} is replaced",
                output.flag
            );
        }
        rest = &after[end + 1..];
    }
    Ok(text.to_owned())
}

/// `dir/{cluster}/file`, to show how a one-file path becomes a template.
fn example(path: &Path) -> String {
    let file = path.file_name().map(|f| f.to_string_lossy().into_owned());
    let file = file.unwrap_or_else(|| "db.yaml".to_owned());
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(dir) => format!("{}/{CLUSTER}/{file}", dir.display()),
        None => format!("{CLUSTER}/{file}"),
    }
}

/// Reads and parses every target's certificate, in order, before any
/// sealing; `controller` fetches the cluster's when no `--cert` was given.
/// An error names the cluster whose certificate failed.
pub(crate) fn load(
    planned: Vec<Planned>,
    controller: impl Fn() -> Result<Vec<u8>>,
) -> Result<Vec<Target>> {
    let now = SystemTime::now();
    let mut targets: Vec<Target> = Vec::with_capacity(planned.len());
    for p in planned {
        let key = match &p.source {
            CertSource::Location(location) => {
                let key = cert::read(location).and_then(|pem| cert::parse_public_key(&pem, now));
                match &p.cluster {
                    Some(name) => key.with_context(|| {
                        format!("cannot use the certificate of cluster {name} ({location})")
                    })?,
                    None => key?,
                }
            }
            CertSource::Controller => {
                controller().and_then(|pem| cert::parse_public_key(&pem, now))?
            }
            CertSource::Layout(cluster) => cluster.public_key(now)?,
        };
        if let (Some(says), CertSource::Location(location)) = (&p.layout_says, &p.source) {
            by_layout::warn_if_other(says, location, &key, now);
        }
        let what = match (&p.cluster, p.copy_of) {
            (Some(name), Some(original)) => format!(
                "break-glass copy for cluster {name} of {}",
                targets
                    .get(original)
                    .and_then(|t| t.path.as_deref())
                    .unwrap_or(Path::new("-"))
                    .display()
            ),
            (Some(name), None) => format!("cluster {name}"),
            (None, _) => "the certificate given".to_owned(),
        };
        targets.push(Target {
            cluster: p.cluster,
            key,
            path: p.path,
            copy_of: p.copy_of,
            through_layout: matches!(p.source, CertSource::Layout(_)),
            what,
        });
    }
    Ok(targets)
}

#[cfg(test)]
mod tests;
