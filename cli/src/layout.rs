//! The repository layout file, `.sealed-secrets.yaml`: which cluster's
//! certificate seals which folder (rules as SOPS's `creation_rules`, first
//! match wins), and where break-glass copies go. Format: docs/layout.md.
//!
//! Found by walking up from the file being written ([`Layout::find_for`]);
//! a path is looked up relative to the layout's folder ([`Layout::resolve`]).

mod find;
mod parse;
#[cfg(test)]
mod tests;

use std::path::{Component, Path, PathBuf};
use std::time::SystemTime;

use anyhow::{anyhow, bail, Context as _, Result};
use regex::Regex;
use sealed_secrets_api::crypto::PublicKey;

pub(crate) use find::FILE_NAME;

/// A parsed and checked `.sealed-secrets.yaml`.
#[derive(Debug)]
pub(crate) struct Layout {
    /// The file, canonical.
    file: PathBuf,
    /// Its folder, canonical: paths are matched relative to it.
    dir: PathBuf,
    /// By name, sorted.
    clusters: Vec<Cluster>,
    rules: Vec<Rule>,
}

/// One cluster of the layout: its certificate and how to reach its controller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cluster {
    pub(crate) name: String,
    /// As written in the layout file, for messages.
    pub(crate) cert: String,
    /// What `cert::read` takes: a URL, or the file's path made absolute
    /// from the layout's folder.
    pub(crate) cert_location: String,
    pub(crate) context: Option<String>,
    pub(crate) controller_namespace: Option<String>,
    pub(crate) controller_name: Option<String>,
    /// A break-glass cluster: receives a copy of every file sealed through a
    /// rule at this template (`{path}` replaced); no rule names it.
    pub(crate) copy_to: Option<CopyTemplate>,
}

/// `copy_to`: `prefix{path}suffix`, relative to the layout's folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CopyTemplate {
    prefix: String,
    suffix: String,
}

#[derive(Debug)]
struct Rule {
    path_regex: Regex,
    cluster: usize,
}

/// Where a path belongs.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Resolved<'a> {
    pub(crate) cluster: &'a Cluster,
    /// The path relative to the layout's folder, `/`-separated (as matched).
    pub(crate) relative: String,
    /// Break-glass copies a file sealed here also gets (none for a file that
    /// is itself a copy).
    pub(crate) copies: Vec<Copy<'a>>,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Copy<'a> {
    pub(crate) cluster: &'a Cluster,
    pub(crate) path: PathBuf,
}

impl Layout {
    /// The layout that governs `path` (a file to write, or a folder), if
    /// any: see [`find::discover`] for where it is looked for.
    pub(crate) fn find_for(path: &Path) -> Result<Option<Layout>> {
        match find::discover(path)? {
            Some(file) => Layout::load(&file).map(Some),
            None => Ok(None),
        }
    }

    /// Where the layout of `path` is, without reading it (to share one
    /// loaded layout between many files).
    pub(crate) fn discover(path: &Path) -> Result<Option<PathBuf>> {
        find::discover(path)
    }

    /// Reads and checks the layout file at `file` (as `--layout FILE`).
    pub(crate) fn load(file: &Path) -> Result<Layout> {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read layout file {}", file.display()))?;
        let file = std::fs::canonicalize(file)
            .with_context(|| format!("cannot resolve layout file {}", file.display()))?;
        let dir = file
            .parent()
            .ok_or_else(|| anyhow!("layout file {} has no folder", file.display()))?
            .to_path_buf();
        parse::parse(&text, file, dir)
    }

    pub(crate) fn file(&self) -> &Path {
        &self.file
    }

    #[cfg(test)]
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The clusters rules seal for (not the break-glass ones), by name: what
    /// `{cluster}` expands to.
    pub(crate) fn clusters(&self) -> impl Iterator<Item = &Cluster> {
        self.clusters.iter().filter(|c| c.copy_to.is_none())
    }

    pub(crate) fn cluster(&self, name: &str) -> Option<&Cluster> {
        self.clusters.iter().find(|c| c.name == name)
    }

    /// The cluster of `path` and its copies, or `None` when no rule matches.
    /// A path in a `copy_to` area belongs to that break-glass cluster.
    pub(crate) fn lookup(&self, path: &Path) -> Result<Option<Resolved<'_>>> {
        let relative = self.relative(path)?;
        if let Some(cluster) = self
            .clusters
            .iter()
            .find(|c| c.copy_to.as_ref().is_some_and(|t| t.holds(&relative)))
        {
            return Ok(Some(Resolved {
                cluster,
                relative,
                copies: Vec::new(),
            }));
        }
        let Some(rule) = self.rules.iter().find(|r| r.path_regex.is_match(&relative)) else {
            return Ok(None);
        };
        let copies = self
            .clusters
            .iter()
            .filter_map(|c| {
                let template = c.copy_to.as_ref()?;
                Some(Copy {
                    cluster: c,
                    path: self.dir.join(template.expand(&relative)),
                })
            })
            .collect();
        Ok(Some(Resolved {
            cluster: &self.clusters[rule.cluster],
            relative,
            copies,
        }))
    }

    /// As [`Layout::lookup`], with no match an error that says what to do:
    /// an unknown folder never falls back to some default certificate.
    pub(crate) fn resolve(&self, path: &Path) -> Result<Resolved<'_>> {
        match self.lookup(path)? {
            Some(resolved) => Ok(resolved),
            None => Err(self.no_rule(path)),
        }
    }

    /// The refusal for a path no rule matches.
    pub(crate) fn no_rule(&self, path: &Path) -> anyhow::Error {
        let shown = self
            .relative(path)
            .unwrap_or_else(|_| path.display().to_string());
        anyhow!(
            "no rule of {} matches {shown}: add a creation_rules entry (path_regex, cluster) for it, or pass --cert",
            self.file.display()
        )
    }

    /// `path` relative to the layout's folder with `/` separators. The
    /// nearest existing ancestor of its parent is resolved (links, `..`),
    /// so the file itself need not exist yet.
    pub(crate) fn relative(&self, path: &Path) -> Result<String> {
        let absolute = find::absolute(path)?;
        let inside = absolute.strip_prefix(&self.dir).map_err(|_| {
            anyhow!(
                "{} is outside {}, the folder of {}: a layout file only covers the folders below it",
                path.display(),
                self.dir.display(),
                self.file.display()
            )
        })?;
        let mut parts = Vec::new();
        for part in inside.components() {
            match part {
                Component::Normal(name) => parts.push(name.to_str().ok_or_else(|| {
                    anyhow!(
                        "{} is not a UTF-8 path: rules cannot match it",
                        path.display()
                    )
                })?),
                _ => bail!("cannot place {} in the layout", path.display()),
            }
        }
        Ok(parts.join("/"))
    }
}

impl Cluster {
    /// Its certificate's public key (read or fetched now), or an error that
    /// names the cluster.
    pub(crate) fn public_key(&self, now: SystemTime) -> Result<PublicKey> {
        crate::cert::read(&self.cert_location)
            .and_then(|pem| crate::cert::parse_public_key(&pem, now))
            .with_context(|| {
                format!(
                    "cannot use the certificate of cluster {} ({})",
                    self.name, self.cert
                )
            })
    }
}

impl CopyTemplate {
    /// True when `relative` is a path this template produces.
    fn holds(&self, relative: &str) -> bool {
        relative.len() > self.prefix.len() + self.suffix.len()
            && relative.starts_with(&self.prefix)
            && relative.ends_with(&self.suffix)
    }

    fn expand(&self, relative: &str) -> String {
        format!("{}{relative}{}", self.prefix, self.suffix)
    }
}
