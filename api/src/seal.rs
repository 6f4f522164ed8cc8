use std::collections::BTreeMap;

use base64::Engine as _;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use sealed_secrets_crypto::{seal, PublicKey, Scope};

use crate::types::{scope_of, set_scope_annotations, LAST_APPLIED_ANNOTATIONS};
use crate::{Error, SealedSecret, SealedSecretSpec, SecretTemplateSpec};

/// How kubeseal turns one input Secret into a SealedSecret.
#[derive(Debug, Clone, Default)]
pub struct SealOptions {
    /// `--scope` when given and not strict: overrides the input's scope annotations.
    pub scope: Option<Scope>,
    /// `--name`, or the file's name with `--merge-into`.
    pub name: Option<String>,
    /// The namespace of `--merge-into`'s file: always wins.
    pub force_namespace: Option<String>,
    /// The namespace of the kubeconfig context, or `-n`.
    pub default_namespace: Option<String>,
    /// Whether `default_namespace` came from `-n`: then it must agree with the input's.
    pub namespace_explicit: bool,
    /// `--allow-empty-data`.
    pub allow_empty_data: bool,
}

/// Seals every item of `secret` (`data`, then `stringData`, which wins on a
/// shared key) for `public_key`, applying the reference kubeseal's rules.
pub fn seal_secret(
    mut secret: Secret,
    public_key: &PublicKey,
    options: &SealOptions,
) -> Result<SealedSecret, Error> {
    let has_data = secret.data.as_ref().is_some_and(|d| !d.is_empty())
        || secret.string_data.as_ref().is_some_and(|d| !d.is_empty());
    if !has_data && !options.allow_empty_data {
        return Err(Error::EmptyData);
    }
    if let Some(name) = &options.name {
        secret.metadata.name = Some(name.clone());
    }
    if secret
        .metadata
        .name
        .as_deref()
        .unwrap_or_default()
        .is_empty()
    {
        return Err(Error::MissingName);
    }
    if let Some(ns) = &options.force_namespace {
        secret.metadata.namespace = Some(ns.clone());
    }
    if let Some(scope) = options.scope.filter(|s| *s != Scope::Strict) {
        set_scope_annotations(secret.metadata.annotations.get_or_insert_default(), scope);
    }
    let scope = scope_of(&secret.metadata);
    if scope != Scope::ClusterWide {
        let declared = secret.metadata.namespace.clone().unwrap_or_default();
        let requested = options.default_namespace.clone().unwrap_or_default();
        if options.namespace_explicit && !declared.is_empty() && declared != requested {
            return Err(Error::NamespaceMismatch {
                secret: declared,
                requested,
            });
        }
        if declared.is_empty() {
            if requested.is_empty() {
                return Err(Error::MissingNamespace);
            }
            secret.metadata.namespace = Some(requested);
        }
    }

    let name = secret.metadata.name.clone().unwrap_or_default();
    let namespace = secret.metadata.namespace.clone().unwrap_or_default();
    let label = scope.label(&namespace, &name);

    let mut encrypted_data = BTreeMap::new();
    let data = secret.data.take().unwrap_or_default();
    let string_data = secret.string_data.take().unwrap_or_default();
    let items = data
        .iter()
        .map(|(k, v)| (k, v.0.as_slice()))
        .chain(string_data.iter().map(|(k, v)| (k, v.as_bytes())));
    for (key, value) in items {
        let sealed = seal(public_key, value, &label)?;
        encrypted_data.insert(
            key.clone(),
            base64::engine::general_purpose::STANDARD.encode(sealed),
        );
    }

    let mut top_annotations = BTreeMap::new();
    set_scope_annotations(&mut top_annotations, scope);
    Ok(SealedSecret {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: (!namespace.is_empty()).then_some(namespace),
            annotations: (!top_annotations.is_empty()).then_some(top_annotations),
            ..ObjectMeta::default()
        },
        spec: SealedSecretSpec {
            template: SecretTemplateSpec {
                metadata: template_metadata(secret.metadata),
                type_: secret.type_,
                immutable: secret.immutable,
                data: None,
            },
            data: None,
            encrypted_data,
        },
        status: None,
    })
}

/// The input's metadata minus everything the server owns or that would leak
/// another object's identity into Git.
fn template_metadata(meta: ObjectMeta) -> ObjectMeta {
    let annotations = meta.annotations.map(|mut a| {
        for key in LAST_APPLIED_ANNOTATIONS {
            a.remove(key);
        }
        a
    });
    ObjectMeta {
        name: meta.name,
        namespace: meta.namespace,
        labels: meta.labels.filter(|l| !l.is_empty()),
        annotations: annotations.filter(|a| !a.is_empty()),
        finalizers: meta.finalizers,
        generate_name: meta.generate_name,
        ..ObjectMeta::default()
    }
}
