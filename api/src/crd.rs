//! The SealedSecret CustomResourceDefinition generated from the Rust types,
//! exactly as checked in at `manifests/crd.yaml` and in the Helm chart at
//! `charts/sealed-secrets/crds/bitnami.com_sealedsecrets.yaml` (the same text
//! in both; [`OUTPUTS`]). `scripts/gen-crd` writes them through
//! `api/examples/gen-crd.rs`; `api/tests/crd.rs` fails when either drifts.

use kube::CustomResourceExt;

use crate::SealedSecret;

/// Where the generated CRD is checked in, relative to the workspace root.
/// `scripts/gen-crd` writes the same list.
pub const OUTPUTS: [&str; 2] = [
    "manifests/crd.yaml",
    "charts/sealed-secrets/crds/bitnami.com_sealedsecrets.yaml",
];

/// The first lines of each output.
pub const HEADER: &str = "\
# Generated from api/src/types.rs: do not edit by hand. Regenerate with
#   scripts/gen-crd (writes manifests/crd.yaml and charts/sealed-secrets/crds/)
# (or UPDATE_CRD=1 cargo test -p sealed-secrets-api --test crd).
";

/// The whole file: the header, then the CRD as YAML.
pub fn render() -> Result<String, serde_yaml::Error> {
    Ok(format!(
        "{HEADER}{}",
        serde_yaml::to_string(&SealedSecret::crd())?
    ))
}
