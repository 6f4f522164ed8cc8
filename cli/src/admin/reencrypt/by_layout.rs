//! `admin reencrypt` over a tree with a `.sealed-secrets.yaml`: each file
//! is re-sealed for the cluster its folder maps to, and only when it needs
//! it. With private keys, here with that cluster's certificate, when some
//! item is sealed with another of the keys given; without, through that
//! cluster's own controller ([`through_controllers`]). Every file is decided
//! in memory before the first one is written.

mod through_controllers;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{anyhow, bail, Context as _, Result};
use sealed_secrets_api::crypto::{KeyRing, PublicKey};

use super::files::{describe, inspect, reseal_recorded, Contents, Found};
use super::freshness::{freshness, Freshness};
use crate::cluster::ClusterArgs;
use crate::layout::Layout;
use crate::output;

/// How a run goes.
pub(super) enum Route {
    /// No layout applies: one certificate (or the controller) for all files.
    Single,
    Layout(Plan),
}

/// The files of a layout run, each placed in its cluster.
pub(super) struct Plan {
    layouts: Vec<Layout>,
    files: Vec<Placed>,
}

enum Placed {
    Skip(String, String),
    File {
        shown: String,
        path: PathBuf,
        layout: usize,
        cluster: String,
    },
}

/// The layouts of a run: `--layout FILE` for every file, or each file's own
/// (found by walking up), each read once.
struct Layouts {
    explicit: bool,
    loaded: Vec<Layout>,
    by_file: BTreeMap<PathBuf, usize>,
}

impl Layouts {
    fn new(flag: Option<&str>) -> Result<Self> {
        let mut layouts = Layouts {
            explicit: false,
            loaded: Vec::new(),
            by_file: BTreeMap::new(),
        };
        if let Some(file) = flag {
            layouts
                .loaded
                .push(Layout::load(Path::new(file)).with_context(|| format!("--layout {file}"))?);
            layouts.explicit = true;
        }
        Ok(layouts)
    }

    fn of(&mut self, path: &Path) -> Result<Option<usize>> {
        if self.explicit {
            return Ok(Some(0));
        }
        let Some(file) = Layout::discover(path)? else {
            return Ok(None);
        };
        if let Some(index) = self.by_file.get(&file) {
            return Ok(Some(*index));
        }
        self.loaded.push(Layout::load(&file)?);
        self.by_file.insert(file, self.loaded.len() - 1);
        Ok(Some(self.loaded.len() - 1))
    }
}

/// Places every file in its layout's cluster, and refuses what a layout
/// makes ambiguous, before any key or certificate is read.
pub(super) fn route(
    found: &[Found],
    layout_flag: Option<&str>,
    cert: Option<&str>,
) -> Result<Route> {
    if layout_flag == Some("") {
        return Ok(Route::Single);
    }
    let mut layouts = Layouts::new(layout_flag)?;
    let mut files = Vec::with_capacity(found.len());
    // A file that no layout or rule covers: an error when named directly.
    let mut unplaced: Option<anyhow::Error> = None;
    for item in found {
        let (shown, path, named) = match item {
            Found::Skip(path, reason) => {
                files.push(Placed::Skip(path.display().to_string(), reason.to_string()));
                continue;
            }
            Found::File { shown, path, named } => (shown, path, *named),
        };
        let Some(index) = layouts.of(shown)? else {
            if named && unplaced.is_none() {
                unplaced = Some(anyhow!(
                    "{} is under no {} (looked for up to its repository's root): pass --cert with the certificate to seal it to",
                    shown.display(),
                    crate::layout::FILE_NAME
                ));
            }
            files.push(Placed::Skip(
                shown.display().to_string(),
                format!("under no {}", crate::layout::FILE_NAME),
            ));
            continue;
        };
        let layout = &layouts.loaded[index];
        match layout.lookup(shown)? {
            Some(resolved) => files.push(Placed::File {
                shown: shown.display().to_string(),
                path: path.clone(),
                layout: index,
                cluster: resolved.cluster.name.clone(),
            }),
            None => {
                if named && unplaced.is_none() {
                    unplaced = Some(layout.no_rule(shown));
                }
                files.push(Placed::Skip(
                    shown.display().to_string(),
                    format!("no rule of {} matches it", layout.file().display()),
                ));
            }
        }
    }
    if layouts.loaded.is_empty() {
        return Ok(Route::Single);
    }
    let clusters: BTreeSet<(usize, &str)> = files
        .iter()
        .filter_map(|f| match f {
            Placed::File {
                layout, cluster, ..
            } => Some((*layout, cluster.as_str())),
            Placed::Skip(..) => None,
        })
        .collect();
    let names = || {
        clusters
            .iter()
            .map(|(_, name)| *name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let files_of = || {
        let mut shown: Vec<String> = layouts
            .loaded
            .iter()
            .map(|l| l.file().display().to_string())
            .collect();
        shown.dedup();
        shown.join(", ")
    };
    if cert.is_some() {
        if clusters.len() >= 2 {
            bail!(
                "{} gives these files to {} clusters ({}); --cert would seal them all with one certificate: name one cluster's folder, or pass --layout= to ignore the layout",
                files_of(),
                clusters.len(),
                names()
            );
        }
        return Ok(Route::Single);
    }
    if let Some(err) = unplaced {
        return Err(err);
    }
    Ok(Route::Layout(Plan {
        layouts: layouts.loaded,
        files,
    }))
}

/// What becomes of one file.
enum Outcome {
    Skipped(String, String),
    UpToDate {
        shown: String,
        cluster: String,
        note: &'static str,
    },
    Rewrite {
        shown: String,
        path: PathBuf,
        cluster: String,
        bytes: String,
        count: usize,
    },
}

/// The certificates of the clusters that `wanted` keeps among those holding
/// files, read (or fetched) now: all of them before any work starts.
fn certificates(
    plan: &Plan,
    wanted: impl Fn(&crate::layout::Cluster) -> bool,
) -> Result<BTreeMap<(usize, &str), PublicKey>> {
    let now = SystemTime::now();
    let mut certs = BTreeMap::new();
    for placed in &plan.files {
        if let Placed::File {
            layout, cluster, ..
        } = placed
        {
            let key = (*layout, cluster.as_str());
            if certs.contains_key(&key) {
                continue;
            }
            let entry = plan.layouts[*layout]
                .cluster(cluster)
                .ok_or_else(|| anyhow!("cluster {cluster} vanished from its layout"))?;
            if wanted(entry) {
                certs.insert(key, entry.public_key(now)?);
            }
        }
    }
    Ok(certs)
}

/// Re-seals what needs it here with `keys`, then writes (unless `dry_run`)
/// and says one line per file.
pub(super) fn run_offline(plan: Plan, keys: &KeyRing, dry_run: bool) -> Result<()> {
    let certs = certificates(&plan, |_| true)?;
    let mut outcomes = Vec::with_capacity(plan.files.len());
    for placed in &plan.files {
        let (shown, path, layout, cluster) = match placed {
            Placed::Skip(shown, reason) => {
                outcomes.push(Outcome::Skipped(shown.clone(), reason.clone()));
                continue;
            }
            Placed::File {
                shown,
                path,
                layout,
                cluster,
            } => (shown, path, *layout, cluster),
        };
        let target = &certs[&(layout, cluster.as_str())];
        outcomes.push(decide(shown, path, cluster, target, keys)?);
    }
    finish(outcomes, dry_run)
}

/// Re-seals what needs it through each cluster's controller (see
/// [`through_controllers`]), then writes as [`run_offline`].
pub(super) fn run_through_controllers(
    plan: Plan,
    cluster_args: &ClusterArgs,
    dry_run: bool,
) -> Result<()> {
    let outcomes = through_controllers::decide_all(&plan, cluster_args)?;
    finish(outcomes, dry_run)
}

/// Writes what was decided (unless `dry_run`), one line per file, and a
/// summary per cluster.
fn finish(outcomes: Vec<Outcome>, dry_run: bool) -> Result<()> {
    let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for outcome in outcomes {
        match outcome {
            Outcome::Skipped(shown, reason) => println!("skipped {shown}: {reason}"),
            Outcome::UpToDate {
                shown,
                cluster,
                note,
            } => {
                println!("up to date {shown} (cluster {cluster}{note})");
                counts.entry(cluster).or_default().1 += 1;
            }
            Outcome::Rewrite {
                shown,
                path,
                cluster,
                bytes,
                count,
            } => {
                if !dry_run {
                    output::write_atomically(&path, bytes.as_bytes())
                        .with_context(|| format!("cannot re-encrypt {shown}"))?;
                }
                println!(
                    "{} {shown} (cluster {cluster}, {count} SealedSecret{})",
                    if dry_run {
                        "would reencrypt"
                    } else {
                        "reencrypted"
                    },
                    if count == 1 { "" } else { "s" }
                );
                counts.entry(cluster).or_default().0 += 1;
            }
        }
    }
    if counts.is_empty() {
        eprintln!("no SealedSecret files found under a rule of the layout");
    }
    for (cluster, (rewritten, current)) in counts {
        eprintln!(
            "cluster {cluster}: {rewritten} {}, {current} up to date",
            if dry_run {
                "to re-encrypt"
            } else {
                "re-encrypted"
            }
        );
    }
    if dry_run {
        eprintln!("dry run: nothing was written");
    }
    Ok(())
}

/// One file, in memory: up to date, or its new text.
fn decide(
    shown: &str,
    path: &Path,
    cluster: &str,
    target: &PublicKey,
    keys: &KeyRing,
) -> Result<Outcome> {
    let fail = || format!("cannot re-encrypt {shown} for cluster {cluster}");
    let (format, docs) = match inspect(path).with_context(fail)? {
        Contents::Other(reason) => return Ok(Outcome::Skipped(shown.to_string(), reason)),
        Contents::Sealed { format, docs } => (format, docs),
    };
    let mut decided = Vec::with_capacity(docs.len());
    for (doc, sealed) in docs {
        let state = freshness(&sealed, keys, target.fingerprint()).map_err(|why| {
            anyhow!(
                "{}: SealedSecret {}: {why}; nothing was written",
                fail(),
                describe(&sealed)
            )
        })?;
        decided.push((doc, sealed, state));
    }
    let count = decided
        .iter()
        .filter(|(_, _, state)| *state == Freshness::Stale)
        .count();
    if count == 0 {
        let verified = decided
            .iter()
            .all(|(_, _, state)| *state == Freshness::Current);
        return Ok(Outcome::UpToDate {
            shown: shown.to_string(),
            cluster: cluster.to_string(),
            note: if verified {
                ""
            } else {
                "; sealed with none of the keys given"
            },
        });
    }
    let mut bytes = String::new();
    for (mut doc, sealed, state) in decided {
        if state == Freshness::Stale {
            let what = describe(&sealed);
            let rotated = sealed_secrets_api::reencrypt(&sealed, keys, target)
                .with_context(|| format!("{}: SealedSecret {what}; nothing was written", fail()))?;
            doc = reseal_recorded(doc, &rotated, target.fingerprint())
                .with_context(|| format!("{}: SealedSecret {what}", fail()))?;
        }
        output::render(&mut bytes, &doc, format)?;
    }
    Ok(Outcome::Rewrite {
        shown: shown.to_string(),
        path: path.to_path_buf(),
        cluster: cluster.to_string(),
        bytes,
        count,
    })
}
