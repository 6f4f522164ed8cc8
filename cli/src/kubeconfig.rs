//! Just enough kubeconfig reading to know the default namespace offline.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use serde::Deserialize;

/// The namespace to seal into when the Secret names none, and whether the
/// user chose it with `-n` (then it must agree with the Secret's own).
#[derive(Debug, Clone, Default)]
pub(crate) struct NamespaceChoice {
    pub(crate) namespace: Option<String>,
    pub(crate) explicit: bool,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct Kubeconfig {
    #[serde(default)]
    current_context: Option<String>,
    #[serde(default)]
    contexts: Vec<NamedContext>,
}

#[derive(Deserialize)]
struct NamedContext {
    name: String,
    #[serde(default)]
    context: Option<ContextBody>,
}

#[derive(Deserialize)]
struct ContextBody {
    #[serde(default)]
    namespace: Option<String>,
}

/// `-n` wins; else the kubeconfig context's namespace, `default` when the
/// context has none; nothing when there is no kubeconfig at all.
pub(crate) fn namespace(
    flag: Option<&str>,
    kubeconfig: Option<&Path>,
    context: Option<&str>,
) -> Result<NamespaceChoice> {
    if let Some(ns) = flag.filter(|ns| !ns.is_empty()) {
        return Ok(NamespaceChoice {
            namespace: Some(ns.to_string()),
            explicit: true,
        });
    }
    let files = kubeconfig_files(kubeconfig);
    let mut found_any = false;
    let mut current = context.map(str::to_string);
    let mut contexts: Vec<NamedContext> = Vec::new();
    for file in &files {
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && kubeconfig.is_none() => continue,
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read kubeconfig {}", file.display()))
            }
        };
        found_any = true;
        let parsed: Kubeconfig = serde_yaml::from_str(&text)
            .with_context(|| format!("cannot parse kubeconfig {}", file.display()))?;
        // As kubectl merges files: the first value set wins.
        if current.is_none() {
            current = parsed.current_context.filter(|c| !c.is_empty());
        }
        contexts.extend(parsed.contexts);
    }
    if !found_any {
        return Ok(NamespaceChoice {
            namespace: in_cluster_namespace(),
            explicit: false,
        });
    }
    let namespace = current
        .and_then(|name| contexts.into_iter().find(|c| c.name == name))
        .and_then(|c| c.context)
        .and_then(|c| c.namespace)
        .filter(|ns| !ns.is_empty())
        .unwrap_or_else(|| "default".to_string());
    Ok(NamespaceChoice {
        namespace: Some(namespace),
        explicit: false,
    })
}

fn kubeconfig_files(flag: Option<&Path>) -> Vec<PathBuf> {
    if let Some(path) = flag {
        return vec![path.to_path_buf()];
    }
    if let Some(list) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        return std::env::split_paths(&list)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
    }
    std::env::var_os("HOME")
        .map(|home| vec![PathBuf::from(home).join(".kube").join("config")])
        .unwrap_or_default()
}

fn in_cluster_namespace() -> Option<String> {
    std::fs::read_to_string("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
        .ok()
        .map(|ns| ns.trim().to_string())
        .filter(|ns| !ns.is_empty())
}
