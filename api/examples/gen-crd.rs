//! Prints the SealedSecret CustomResourceDefinition generated from the Rust
//! types (`sealed_secrets_api::crd`):
//!
//! ```sh
//! scripts/gen-crd     # writes manifests/crd.yaml and the Helm chart's copy
//! cargo run -q -p sealed-secrets-api --example gen-crd > manifests/crd.yaml
//! ```

fn main() -> Result<(), serde_yaml::Error> {
    print!("{}", sealed_secrets_api::crd::render()?);
    Ok(())
}
