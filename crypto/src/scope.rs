use std::fmt;
use std::str::FromStr;

use crate::Error;

/// Annotation that makes a SealedSecret decryptable under any name in its namespace.
pub const NAMESPACE_WIDE_ANNOTATION: &str = "sealedsecrets.bitnami.com/namespace-wide";
/// Annotation that makes a SealedSecret decryptable under any name and namespace.
pub const CLUSTER_WIDE_ANNOTATION: &str = "sealedsecrets.bitnami.com/cluster-wide";

/// Where a sealed value may be unsealed; it selects the RSA-OAEP label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Scope {
    /// Only under the same namespace and name (label `namespace/name`).
    #[default]
    Strict,
    /// Under any name in the same namespace (label `namespace`).
    NamespaceWide,
    /// Anywhere (empty label).
    ClusterWide,
}

impl Scope {
    /// The OAEP label that binds a ciphertext to this scope.
    pub fn label(self, namespace: &str, name: &str) -> Vec<u8> {
        match self {
            Scope::Strict => format!("{namespace}/{name}").into_bytes(),
            Scope::NamespaceWide => namespace.as_bytes().to_vec(),
            Scope::ClusterWide => Vec::new(),
        }
    }

    /// Scope selected by object annotations; cluster-wide wins over namespace-wide.
    pub fn from_annotation_values(
        cluster_wide: Option<&str>,
        namespace_wide: Option<&str>,
    ) -> Self {
        if cluster_wide == Some("true") {
            Scope::ClusterWide
        } else if namespace_wide == Some("true") {
            Scope::NamespaceWide
        } else {
            Scope::Strict
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Strict => "strict",
            Scope::NamespaceWide => "namespace-wide",
            Scope::ClusterWide => "cluster-wide",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "" | "strict" => Ok(Scope::Strict),
            "namespace-wide" => Ok(Scope::NamespaceWide),
            "cluster-wide" => Ok(Scope::ClusterWide),
            other => Err(Error::InvalidScope(other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_match_the_reference() {
        assert_eq!(Scope::Strict.label("ns", "name"), b"ns/name");
        assert_eq!(Scope::NamespaceWide.label("ns", "name"), b"ns");
        assert_eq!(Scope::ClusterWide.label("ns", "name"), b"");
    }

    #[test]
    fn cluster_wide_wins() {
        assert_eq!(
            Scope::from_annotation_values(Some("true"), Some("true")),
            Scope::ClusterWide
        );
        assert_eq!(
            Scope::from_annotation_values(None, Some("true")),
            Scope::NamespaceWide
        );
        assert_eq!(
            Scope::from_annotation_values(Some("yes"), None),
            Scope::Strict
        );
    }

    #[test]
    fn parses_and_rejects() {
        assert_eq!("".parse::<Scope>().unwrap(), Scope::Strict);
        assert_eq!("cluster-wide".parse::<Scope>().unwrap(), Scope::ClusterWide);
        assert!("global".parse::<Scope>().is_err());
    }
}
