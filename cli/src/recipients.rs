//! Whom one run seals for: a target per certificate, each with its cluster's
//! name, its public key and, when writing files, its own output path
//! (`-w 'clusters/{cluster}/db.yaml'`).
//!
//! [`plan`] decides the targets from the flags alone; [`load`] then reads
//! every certificate, all of them before anything is sealed or written.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{bail, Context as _, Result};
use sealed_secrets_api::crypto::PublicKey;

use crate::cert::{self, CertSpec};

/// The only placeholder of an output path.
const CLUSTER: &str = "{cluster}";

/// An output path given on the command line, and the flag that gave it.
#[derive(Clone, Copy)]
pub(crate) struct OutputPath<'a> {
    pub(crate) flag: &'static str,
    pub(crate) path: &'a Path,
}

/// Where a target's certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CertSource {
    /// A `--cert` location (file or URL).
    Location(String),
    /// No `--cert`: the cluster's controller, through the kubeconfig.
    Controller,
}

/// A target before its certificate is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Planned {
    /// Set when the run names clusters (several certificates, `NAME=`, or
    /// `{cluster}` in the path); `None` for a plain single run.
    pub(crate) cluster: Option<String>,
    pub(crate) source: CertSource,
    /// The output path with `{cluster}` replaced; `None`: stdout.
    pub(crate) path: Option<PathBuf>,
}

/// One cluster to seal for.
pub(crate) struct Target {
    pub(crate) cluster: Option<String>,
    pub(crate) key: PublicKey,
    pub(crate) path: Option<PathBuf>,
}

impl Target {
    /// How messages name this target's file: `cluster oslo`.
    pub(crate) fn what(&self) -> String {
        match &self.cluster {
            Some(name) => format!("cluster {name}"),
            None => "the certificate given".to_owned(),
        }
    }
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
                "{CLUSTER} appears in {} but no certificate names a cluster: pass --cert NAME=FILE, once per cluster",
                o.flag
            );
        }
        return Ok(vec![Planned {
            cluster: None,
            source: CertSource::Controller,
            path: template.map(Path::to_path_buf),
        }]);
    }
    let named = certs.len() > 1 || has_placeholder || certs.iter().any(|c| c.name.is_some());
    if !named {
        // One plain --cert: exactly as a single-certificate run always was.
        return Ok(vec![Planned {
            cluster: None,
            source: CertSource::Location(certs[0].location.clone()),
            path: template.map(Path::to_path_buf),
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
    planned
        .into_iter()
        .map(|p| {
            let key = match &p.source {
                CertSource::Location(location) => {
                    cert::read(location).and_then(|pem| cert::parse_public_key(&pem, now))
                }
                CertSource::Controller => {
                    controller().and_then(|pem| cert::parse_public_key(&pem, now))
                }
            };
            let key = match (&p.cluster, &p.source) {
                (Some(name), CertSource::Location(location)) => key.with_context(|| {
                    format!("cannot use the certificate of cluster {name} ({location})")
                })?,
                _ => key?,
            };
            Ok(Target {
                cluster: p.cluster,
                key,
                path: p.path,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
