use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::ByteString;
use kube::CustomResource;
use schemars::JsonSchema;
use sealed_secrets_crypto::scope::{CLUSTER_WIDE_ANNOTATION, NAMESPACE_WIDE_ANNOTATION};
use sealed_secrets_crypto::Scope;
use serde::{Deserialize, Deserializer, Serialize};

pub use sealed_secrets_crypto::scope::{
    CLUSTER_WIDE_ANNOTATION as SCOPE_CLUSTER_WIDE_ANNOTATION,
    NAMESPACE_WIDE_ANNOTATION as SCOPE_NAMESPACE_WIDE_ANNOTATION,
};

pub const GROUP: &str = "bitnami.com";
pub const VERSION: &str = "v1alpha1";
pub const API_VERSION: &str = "bitnami.com/v1alpha1";
pub const KIND: &str = "SealedSecret";

/// An existing Secret with this annotation set to "true" may be overwritten.
pub const MANAGED_ANNOTATION: &str = "sealedsecrets.bitnami.com/managed";
/// An existing Secret with this annotation set to "true" is patched, not replaced.
pub const PATCH_ANNOTATION: &str = "sealedsecrets.bitnami.com/patch";
/// On the template: do not make the SealedSecret the Secret's owner.
pub const SKIP_SET_OWNER_REFERENCES_ANNOTATION: &str =
    "sealedsecrets.bitnami.com/skip-set-owner-references";

/// On the SealedSecret's own metadata (never the template's, so it never
/// reaches the Secret): fingerprints, comma-separated, of the keys its items
/// were sealed with, written by `kubeseal` when it seals or re-encrypts
/// through a `.sealed-secrets.yaml`. A hint to skip files already up to
/// date; the reference ignores it.
pub const SEALED_WITH_ANNOTATION: &str = "sealedsecrets.bitnami.com/sealed-with";

/// Annotations that must never be copied from a live object into a template.
pub const LAST_APPLIED_ANNOTATIONS: [&str; 2] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    "kubecfg.ksonnet.io/last-applied-configuration",
];

/// The specification of a SealedSecret: encrypted items and the shape of the
/// Secret to create from them.
// `manifests/crd.yaml` is generated from these types: see `api/tests/crd.rs`.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "bitnami.com",
    version = "v1alpha1",
    kind = "SealedSecret",
    plural = "sealedsecrets",
    singular = "sealedsecret",
    namespaced,
    doc = "A Secret sealed (encrypted) with the controller's public key, which only the controller can turn back into a Secret.",
    status = "SealedSecretStatus",
    printcolumn = r#"{"name":"Status","type":"string","jsonPath":".status.conditions[0].message"}"#,
    printcolumn = r#"{"name":"Synced","type":"string","jsonPath":".status.conditions[0].status"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = crate::types::reference_spec_schema)]
pub struct SealedSecretSpec {
    /// Template defines the structure of the Secret that will be created from this sealed secret.
    #[serde(default)]
    pub template: SecretTemplateSpec,
    /// Data is deprecated and will be removed eventually. Use per-value EncryptedData instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::types::bytes_schema")]
    pub data: Option<ByteString>,
    /// Base64 sealed values, one per Secret key.
    #[serde(default, deserialize_with = "lenient_string_map")]
    #[schemars(schema_with = "crate::types::encrypted_data_schema")]
    pub encrypted_data: BTreeMap<String, String>,
}

/// SecretTemplateSpec describes the structure a Secret should have when created from a template.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct SecretTemplateSpec {
    /// Standard object's metadata.
    #[serde(default)]
    #[schemars(schema_with = "crate::types::template_metadata_schema")]
    pub metadata: ObjectMeta,
    /// Used to facilitate programmatic handling of secret data.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// Immutable, if set to true, ensures that data stored in the Secret cannot be updated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub immutable: Option<bool>,
    /// Keys that should be templated using decrypted data. A `null` value
    /// leaves that key out of the Secret (reference v0.40).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::types::template_data_schema")]
    pub data: Option<BTreeMap<String, Option<String>>>,
}

/// The most recently observed status of the SealedSecret.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SealedSecretStatus {
    /// The generation most recently observed by the sealed-secrets controller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The latest available observations of a sealed secret's current state.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<SealedSecretCondition>,
    /// Fingerprint (`SHA256:...`) of the key that last unsealed it. An
    /// extension: optional, so the reference controller works with this CRD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_fingerprint: Option<String>,
}

/// SealedSecretCondition describes the state of a sealed secret at a certain point.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SealedSecretCondition {
    /// Type of condition: "Synced" (always first), and "Ready", "Stalled"
    /// and "Reconciling" (kstatus' conditions).
    #[serde(rename = "type")]
    pub type_: String,
    /// Status of the condition: "True", "False", or "Unknown".
    pub status: String,
    /// The last time this condition was updated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_time: Option<Time>,
    /// Last time the condition transitioned from one status to another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<Time>,
    /// The reason for the condition's last transition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A human readable message indicating details about the transition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The generation this condition describes (`Ready`, `Stalled` and
    /// `Reconciling`, the conditions kstatus, Flux and Fleet read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

impl SealedSecret {
    /// The scope this object was sealed for, from its own top-level annotations
    /// (never from the template, which the sealer does not bind).
    pub fn scope(&self) -> Scope {
        scope_of(&self.metadata)
    }

    /// The OAEP label its values must have been sealed under.
    pub fn label(&self) -> Vec<u8> {
        self.scope().label(
            self.metadata.namespace.as_deref().unwrap_or_default(),
            self.metadata.name.as_deref().unwrap_or_default(),
        )
    }
}

/// The scope selected by an object's annotations; cluster-wide wins.
pub fn scope_of(meta: &ObjectMeta) -> Scope {
    let get = |key: &str| {
        meta.annotations
            .as_ref()
            .and_then(|a| a.get(key))
            .map(String::as_str)
    };
    Scope::from_annotation_values(get(CLUSTER_WIDE_ANNOTATION), get(NAMESPACE_WIDE_ANNOTATION))
}

/// Replaces any scope annotation with the one for `scope` (none for strict).
pub fn set_scope_annotations(annotations: &mut BTreeMap<String, String>, scope: Scope) {
    annotations.remove(NAMESPACE_WIDE_ANNOTATION);
    annotations.remove(CLUSTER_WIDE_ANNOTATION);
    match scope {
        Scope::Strict => {}
        Scope::NamespaceWide => {
            annotations.insert(NAMESPACE_WIDE_ANNOTATION.into(), "true".into());
        }
        Scope::ClusterWide => {
            annotations.insert(CLUSTER_WIDE_ANNOTATION.into(), "true".into());
        }
    }
}

// The reference ignores a malformed encryptedData rather than failing the whole
// object, so one broken SealedSecret cannot stop a watch; do the same.
fn lenient_string_map<'de, D>(deserializer: D) -> Result<BTreeMap<String, String>, D::Error>
where
    D: Deserializer<'de>,
{
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(serde_json::from_value(value).unwrap_or_default())
}

/// Shapes the spec schema like the reference CRD: `encryptedData` is required
/// and no `default` is published. The serde defaults only let us read
/// incomplete objects; as schema defaults the API server would write them into
/// every stored object, which the reference never does.
fn reference_spec_schema(schema: &mut schemars::Schema) {
    strip_defaults(schema.as_object_mut());
    if let Some(object) = schema.as_object_mut() {
        let required = object
            .entry("required")
            .or_insert_with(|| serde_json::Value::Array(Vec::new()));
        if let Some(list) = required.as_array_mut() {
            if !list.iter().any(|v| v == "encryptedData") {
                list.push("encryptedData".into());
            }
        }
    }
}

/// Removes `default` from a schema and every schema nested in it.
fn strip_defaults(schema: Option<&mut serde_json::Map<String, serde_json::Value>>) {
    let Some(schema) = schema else { return };
    schema.remove("default");
    if let Some(properties) = schema.get_mut("properties").and_then(|p| p.as_object_mut()) {
        for property in properties.values_mut() {
            strip_defaults(property.as_object_mut());
        }
    }
    for key in ["items", "additionalProperties"] {
        strip_defaults(schema.get_mut(key).and_then(|s| s.as_object_mut()));
    }
}

fn encrypted_data_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "additionalProperties": {"type": "string"},
        "x-kubernetes-preserve-unknown-fields": true
    })
}

fn template_metadata_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "description": "Standard object's metadata.",
        "nullable": true,
        "type": "object",
        "properties": {
            "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
            "finalizers": {"type": "array", "items": {"type": "string"}},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "name": {"type": "string"},
            "namespace": {"type": "string"}
        },
        "x-kubernetes-preserve-unknown-fields": true
    })
}

fn template_data_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "description": "Keys that should be templated using decrypted data.",
        "nullable": true,
        "type": "object",
        "additionalProperties": {"type": "string"}
    })
}

fn bytes_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "description": "Data is deprecated and will be removed eventually. Use per-value EncryptedData instead.",
        "type": "string",
        "format": "byte"
    })
}
