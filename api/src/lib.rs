//! The SealedSecret resource (`bitnami.com/v1alpha1`) and the pure
//! conversions Secret -> SealedSecret -> Secret. No client, no I/O.

pub mod cluster_name;
pub mod crd;
mod error;
pub mod go_base64;
pub mod go_duration;
pub mod keys;
mod reencrypt;
mod seal;
mod template;
mod types;
mod unseal;

pub use error::{named, Error, ItemErrors};
pub use reencrypt::{reencrypt, verify};
pub use seal::{seal_secret, SealOptions};
pub use template::{GoTemplates, TemplateEngine, TEMPLATES};
pub use types::*;
pub use unseal::{unseal, UnsealOptions, Unsealed};

pub use gotemplate;
pub use k8s_openapi::api::core::v1::Secret;
pub use sealed_secrets_crypto as crypto;
