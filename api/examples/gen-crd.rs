//! Prints the SealedSecret CustomResourceDefinition generated from the Rust
//! types, exactly as checked in at `manifests/crd.yaml`:
//!
//! ```sh
//! cargo run -q -p sealed-secrets-api --example gen-crd > manifests/crd.yaml
//! ```
//!
//! `api/tests/crd.rs` fails when the checked-in file drifts from this output.

use kube::CustomResourceExt;
use sealed_secrets_api::SealedSecret;

/// The first lines of `manifests/crd.yaml`.
pub const HEADER: &str = "\
# Generated from api/src/types.rs: do not edit by hand. Regenerate with
#   cargo run -q -p sealed-secrets-api --example gen-crd > manifests/crd.yaml
# (or scripts/gen-crd, or UPDATE_CRD=1 cargo test -p sealed-secrets-api --test crd).
";

/// The whole file: the header, then the CRD as YAML.
pub fn render() -> Result<String, serde_yaml::Error> {
    Ok(format!(
        "{HEADER}{}",
        serde_yaml::to_string(&SealedSecret::crd())?
    ))
}

fn main() -> Result<(), serde_yaml::Error> {
    print!("{}", render()?);
    Ok(())
}
