//! `admin reencrypt` over a layout with no private keys: each cluster's
//! files go through its own controller's `/v1/rotate`, reached with the
//! layout's `context`, `controller_namespace` and `controller_name` (absent:
//! kubeseal's flags). First every such controller must seal with the key of
//! the layout's certificate for its cluster: the files then record
//! (`sealed-with`) a key the repository names, and a stale `certs/*.pem` is
//! caught before it seals anything. A file that already records exactly
//! that key is up to date. Break-glass clusters have no controller: their
//! copies are skipped. Everything is decided before the first write.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{anyhow, bail, Context as _, Result};
use sealed_secrets_api::crypto::{Fingerprint, PublicKey};
use sealed_secrets_api::SealedSecret;
use serde_json::Value;

use super::super::files::{describe, inspect, reseal_recorded, Contents};
use super::{certificates, Outcome, Placed, Plan};
use crate::cluster::{block_on, ClusterArgs, Controller, Verdict};
use crate::layout::Cluster;
use crate::output::{self, Format};

/// A file of a cluster with a controller, read: which documents need it.
struct Pending {
    shown: String,
    path: PathBuf,
    cluster: (usize, String),
    format: Format,
    /// Each document, and whether it goes through the controller.
    docs: Vec<(Value, SealedSecret, bool)>,
}

/// Every file's outcome, with all controllers checked and every
/// re-sealing done in memory; nothing is written here.
pub(super) fn decide_all(plan: &Plan, args: &ClusterArgs) -> Result<Vec<Outcome>> {
    let certs = certificates(plan, |c| c.copy_to.is_none())?;
    // In the order of the files: skipped ones keep their place.
    let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(plan.files.len());
    let mut pending: Vec<(usize, Pending)> = Vec::new();
    for placed in &plan.files {
        let (shown, path, layout, cluster) = match placed {
            Placed::Skip(shown, reason) => {
                outcomes.push(Some(Outcome::Skipped(shown.clone(), reason.clone())));
                continue;
            }
            Placed::File {
                shown,
                path,
                layout,
                cluster,
            } => (shown, path, *layout, cluster),
        };
        let Some(target) = certs.get(&(layout, cluster.as_str())) else {
            outcomes.push(Some(Outcome::Skipped(
                shown.clone(),
                format!(
                    "cluster {cluster} holds break-glass copies and has no controller: \
                     re-sealed offline only (admin reencrypt --recovery-private-key with its key)"
                ),
            )));
            continue;
        };
        let fail = || format!("cannot re-encrypt {shown} for cluster {cluster}");
        match inspect(path).with_context(fail)? {
            Contents::Other(reason) => outcomes.push(Some(Outcome::Skipped(shown.clone(), reason))),
            Contents::Sealed { format, docs } => {
                let docs = docs
                    .into_iter()
                    .map(|(doc, sealed)| {
                        let stale = !records_only(&sealed, target.fingerprint());
                        (doc, sealed, stale)
                    })
                    .collect();
                pending.push((
                    outcomes.len(),
                    Pending {
                        shown: shown.clone(),
                        path: path.clone(),
                        cluster: (layout, cluster.clone()),
                        format,
                        docs,
                    },
                ));
                outcomes.push(None);
            }
        }
    }

    let clusters: BTreeSet<(usize, String)> =
        pending.iter().map(|(_, p)| p.cluster.clone()).collect();
    let done = block_on(async {
        let mut controllers = BTreeMap::new();
        let mut mismatches = Vec::new();
        for key in &clusters {
            let entry = cluster_entry(plan, key)?;
            let target = &certs[&(key.0, key.1.as_str())];
            let reached = Reached::new(entry, args);
            let controller = Controller::connect(&reached.args)
                .await
                .with_context(|| format!("cannot connect to {}", reached.describe()))?;
            let serving = reached.sealing_key(&controller).await?;
            if serving != *target.fingerprint() {
                mismatches.push(reached.mismatch(&serving, target.fingerprint()));
            }
            controllers.insert(key.clone(), (reached, controller));
        }
        if !mismatches.is_empty() {
            bail!("{}\nnothing was written", mismatches.join("\n"));
        }
        let mut done = Vec::with_capacity(pending.len());
        let mut used = BTreeSet::new();
        for (slot, file) in pending {
            let key = file.cluster.clone();
            let (reached, controller) = &controllers[&key];
            let target = &certs[&(key.0, key.1.as_str())];
            if file.docs.iter().any(|(_, _, stale)| *stale) {
                used.insert(key.clone());
            }
            done.push((slot, rotate(file, reached, controller, target).await?));
        }
        // The key may have changed while the files went through: what was
        // sealed must be what the layout's certificate says.
        for key in &used {
            let (reached, controller) = &controllers[key];
            let target = &certs[&(key.0, key.1.as_str())];
            let serving = reached.sealing_key(controller).await?;
            if serving != *target.fingerprint() {
                bail!(
                    "{} changed its key to {serving} during this run; nothing was written: run again",
                    reached.describe()
                );
            }
        }
        Ok(done)
    })?;
    for (slot, outcome) in done {
        outcomes[slot] = Some(outcome);
    }
    Ok(outcomes.into_iter().flatten().collect())
}

fn cluster_entry<'a>(plan: &'a Plan, (layout, name): &(usize, String)) -> Result<&'a Cluster> {
    plan.layouts[*layout]
        .cluster(name)
        .ok_or_else(|| anyhow!("cluster {name} vanished from its layout"))
}

/// Whether `sealed` records being sealed with `fingerprint` and no other key.
fn records_only(sealed: &SealedSecret, fingerprint: &Fingerprint) -> bool {
    crate::sealed_with::recorded(sealed)
        .is_some_and(|set| set == BTreeSet::from([fingerprint.to_string()]))
}

/// One file through its controller: its stale documents re-sealed, the
/// record set to the key checked.
async fn rotate(
    file: Pending,
    reached: &Reached,
    controller: &Controller,
    target: &PublicKey,
) -> Result<Outcome> {
    let Pending {
        shown,
        path,
        cluster: (_, cluster),
        format,
        docs,
    } = file;
    let count = docs.iter().filter(|(_, _, stale)| *stale).count();
    if count == 0 {
        return Ok(Outcome::UpToDate {
            shown,
            cluster,
            note: "; sealed-with records its certificate",
        });
    }
    let fail = || format!("cannot re-encrypt {shown} for cluster {cluster}");
    let mut bytes = String::new();
    for (mut doc, sealed, stale) in docs {
        if stale {
            let what = describe(&sealed);
            let rotated = match controller
                .rotate(&sealed)
                .await
                .with_context(|| format!("{}: SealedSecret {what}", fail()))?
            {
                Verdict::Ok(rotated) => rotated,
                Verdict::CannotDecrypt => bail!(
                    "{}: no key of {} opens SealedSecret {what} (sealed for another cluster, or renamed/moved since it was sealed); nothing was written",
                    fail(),
                    reached.describe()
                ),
            };
            doc = reseal_recorded(doc, &rotated, target.fingerprint())
                .with_context(|| format!("{}: SealedSecret {what}", fail()))?;
        }
        output::render(&mut bytes, &doc, format)?;
    }
    Ok(Outcome::Rewrite {
        shown,
        path,
        cluster,
        bytes,
        count,
    })
}

/// How one cluster's controller is reached: kubeseal's flags with the
/// layout's `context`, `controller_namespace` and `controller_name` over them.
struct Reached {
    cluster: String,
    /// The certificate as the layout names it, and where it is.
    cert: String,
    cert_location: String,
    args: ClusterArgs,
}

impl Reached {
    fn new(cluster: &Cluster, flags: &ClusterArgs) -> Self {
        let mut args = flags.clone();
        if let Some(context) = &cluster.context {
            args.context = Some(context.clone());
        }
        if let Some(namespace) = &cluster.controller_namespace {
            args.controller_namespace = namespace.clone();
        }
        if let Some(name) = &cluster.controller_name {
            args.controller_name = name.clone();
        }
        Self {
            cluster: cluster.name.clone(),
            cert: cluster.cert.clone(),
            cert_location: cluster.cert_location.clone(),
            args,
        }
    }

    /// `the controller of cluster oslo (context oslo-admin, kube-system/sealed-secrets-controller)`.
    fn describe(&self) -> String {
        let context = match &self.args.context {
            Some(context) => format!("context {context}"),
            None => "the current context".to_string(),
        };
        format!(
            "the controller of cluster {} ({context}, {}/{})",
            self.cluster, self.args.controller_namespace, self.args.controller_name
        )
    }

    /// The fingerprint of the key the controller seals with now.
    async fn sealing_key(&self, controller: &Controller) -> Result<Fingerprint> {
        let pem = controller
            .cert()
            .await
            .with_context(|| format!("cannot check {}", self.describe()))?;
        let key = crate::cert::parse_public_key(&pem, SystemTime::now()).with_context(|| {
            format!(
                "{} serves a certificate that cannot be used",
                self.describe()
            )
        })?;
        Ok(key.fingerprint().clone())
    }

    /// The refusal when the controller seals with another key than the
    /// layout's certificate: how to update the certificate.
    fn mismatch(&self, serving: &Fingerprint, layout: &Fingerprint) -> String {
        let update = if self.cert_location.contains("://") {
            format!("update what {} serves", self.cert)
        } else {
            format!("update it ({})", self.fetch_command())
        };
        format!(
            "{} seals with {serving}, but {} is {layout}: {update} and run again",
            self.describe(),
            self.cert
        )
    }

    /// `kubeseal --context oslo-admin --fetch-cert -w certs/oslo.pem`, with
    /// the controller's namespace and name when they are not the defaults,
    /// and the certificate's path as seen from the current folder.
    fn fetch_command(&self) -> String {
        let mut command = vec!["kubeseal".to_string()];
        if let Some(context) = &self.args.context {
            command.push(format!("--context {}", quoted(context)));
        }
        if self.args.controller_namespace != "kube-system" {
            command.push(format!(
                "--controller-namespace {}",
                quoted(&self.args.controller_namespace)
            ));
        }
        if self.args.controller_name != "sealed-secrets-controller" {
            command.push(format!(
                "--controller-name {}",
                quoted(&self.args.controller_name)
            ));
        }
        command.push("--fetch-cert -w".to_string());
        command.push(quoted(&shown_from_here(Path::new(&self.cert_location))));
        command.join(" ")
    }
}

/// `path` relative to the current folder when it is below it, else as is.
fn shown_from_here(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|here| std::fs::canonicalize(here).ok())
        .and_then(|here| path.strip_prefix(here).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

/// A word for a shell command line, quoted when it needs it.
fn quoted(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests;
