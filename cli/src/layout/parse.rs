//! Reading `.sealed-secrets.yaml` and checking it whole before any use:
//! YAML errors name their line, rules name their index.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Result};
use regex::Regex;
use serde::Deserialize;

use super::{Cluster, CopyTemplate, Layout, Rule};

/// The only format version this kubeseal reads.
const VERSION: u64 = 1;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileFormat {
    #[expect(dead_code, reason = "checked before, from the bare YAML value")]
    version: u64,
    #[serde(default)]
    clusters: BTreeMap<String, ClusterFormat>,
    #[serde(default)]
    creation_rules: Vec<RuleFormat>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusterFormat {
    cert: String,
    context: Option<String>,
    controller_namespace: Option<String>,
    controller_name: Option<String>,
    copy_to: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFormat {
    path_regex: String,
    /// A name; a list is refused with the reason (see [`cluster_of`]).
    cluster: serde_yaml::Value,
}

pub(super) fn parse(text: &str, file: PathBuf, dir: PathBuf) -> Result<Layout> {
    let shown = file.display().to_string();
    // The version first: a newer format may have fields this one refuses.
    let bare: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| yaml_error(&shown, &e))?;
    match bare.get("version") {
        _ if bare.is_null() => {
            bail!("{shown} is empty: start it with `version: 1` (see docs/layout.md)")
        }
        None => bail!("{shown} has no version: start it with `version: 1`"),
        Some(v) if v.as_u64() == Some(VERSION) => {}
        Some(v) => bail!(
            "{shown}: version {} is not supported by this kubeseal ({VERSION})",
            serde_yaml::to_string(v).unwrap_or_default().trim_end()
        ),
    }
    let format: FileFormat = serde_yaml::from_str(text).map_err(|e| yaml_error(&shown, &e))?;

    let mut clusters = Vec::with_capacity(format.clusters.len());
    for (name, c) in format.clusters {
        if !sealed_secrets_api::cluster_name::is_valid(&name) {
            bail!("{shown}: invalid cluster name {name:?}: use letters, digits, '-' and '_' (it may become part of a path)");
        }
        if c.cert.trim().is_empty() {
            bail!("{shown}: cluster {name} has an empty cert: give the certificate's file (relative to {}) or URL", dir.display());
        }
        let copy_to = c
            .copy_to
            .as_deref()
            .map(|t| {
                copy_template(t)
                    .map_err(|why| anyhow!("{shown}: clusters.{name}.copy_to {t:?}: {why}"))
            })
            .transpose()?;
        clusters.push(Cluster {
            cert_location: location(&c.cert, &dir)?,
            cert: c.cert,
            context: c.context,
            controller_namespace: c.controller_namespace,
            controller_name: c.controller_name,
            copy_to,
            name,
        });
    }

    if format.creation_rules.is_empty() {
        bail!("{shown} has no creation_rules: add one per folder, e.g. {{path_regex: ^clusters/oslo/, cluster: oslo}}");
    }
    let mut rules = Vec::with_capacity(format.creation_rules.len());
    for (i, rule) in format.creation_rules.into_iter().enumerate() {
        let name = cluster_of(&rule.cluster)
            .map_err(|why| anyhow!("{shown}: creation_rules[{i}].cluster: {why}"))?;
        let Some(index) = clusters.iter().position(|c| c.name == name) else {
            bail!(
                "{shown}: creation_rules[{i}]: cluster {name:?} is not defined under clusters ({})",
                defined(&clusters)
            );
        };
        if clusters[index].copy_to.is_some() {
            bail!("{shown}: cluster {name} has copy_to: it receives copies, no rule may name it (creation_rules[{i}])");
        }
        let path_regex = Regex::new(&rule.path_regex).map_err(|e| {
            anyhow!(
                "{shown}: creation_rules[{i}].path_regex {:?}: {e}",
                rule.path_regex
            )
        })?;
        rules.push(Rule {
            path_regex,
            cluster: index,
        });
    }
    Ok(Layout {
        file,
        dir,
        clusters,
        rules,
    })
}

/// serde_yaml's message with its position as `FILE line N: ...`.
fn yaml_error(shown: &str, e: &serde_yaml::Error) -> anyhow::Error {
    let text = e.to_string();
    match e.location() {
        Some(at) => {
            // The position is said once, in front.
            let message = Regex::new(r" at line \d+ column \d+")
                .map(|position| position.replace_all(&text, "").into_owned())
                .unwrap_or(text);
            anyhow!("{shown} line {}: {message}", at.line())
        }
        None => anyhow!("{shown}: {text}"),
    }
}

/// One rule seals for one cluster: a file holds one ciphertext per item.
fn cluster_of(value: &serde_yaml::Value) -> Result<String, String> {
    match value {
        serde_yaml::Value::String(name) => Ok(name.clone()),
        serde_yaml::Value::Sequence(_) => Err(
            "one cluster per rule: a file holds one ciphertext per item, which only one cluster's key opens; give each cluster its own folder (a copy for another cluster goes through copy_to)".into(),
        ),
        _ => Err("expected a cluster name".into()),
    }
}

fn defined(clusters: &[Cluster]) -> String {
    let names: Vec<&str> = clusters
        .iter()
        .filter(|c| c.copy_to.is_none())
        .map(|c| c.name.as_str())
        .collect();
    if names.is_empty() {
        "none is".into()
    } else {
        format!("defined: {}", names.join(", "))
    }
}

/// A URL as given; a file relative to the layout's folder.
fn location(cert: &str, dir: &Path) -> Result<String> {
    if cert.contains("://") {
        return Ok(cert.to_string());
    }
    let path = dir.join(cert);
    path.to_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow!("certificate path {} is not UTF-8", path.display()))
}

fn copy_template(text: &str) -> Result<CopyTemplate, String> {
    const USE: &str = "it must be a path relative to the layout's folder holding {path} once, e.g. break-glass/{path}";
    let Some((prefix, suffix)) = text.split_once("{path}") else {
        return Err(format!("no {{path}}: {USE}"));
    };
    if suffix.contains("{path}") {
        return Err(format!("{{path}} twice: {USE}"));
    }
    if prefix.contains(['{', '}']) || suffix.contains(['{', '}']) {
        return Err(format!("only {{path}} is replaced: {USE}"));
    }
    if prefix.starts_with('/') || text.split('/').any(|part| part == "..") {
        return Err(format!("not below the layout's folder: {USE}"));
    }
    if prefix.is_empty() && suffix.is_empty() {
        return Err(format!("copies would replace the originals: {USE}"));
    }
    if !prefix.is_empty() && !prefix.ends_with('/') {
        return Err(format!("{{path}} must start a path segment: {USE}"));
    }
    Ok(CopyTemplate {
        prefix: prefix.to_string(),
        suffix: suffix.to_string(),
    })
}
