//! Whether the installed SealedSecret CRD keeps `status.keyFingerprint`,
//! which `keys list` counts and `keys prune` relies on. The reference's CRD
//! has no such field, so the API server prunes it from every status: then
//! no SealedSecret says which key opens it.

use kube::api::{Api, ApiResource, DynamicObject};
use kube::Client;
use serde_json::Value;

pub(crate) const CRD_NAME: &str = "sealedsecrets.bitnami.com";

/// What the installed CRD does with `status.keyFingerprint`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Recording {
    /// The schema keeps it (this project's CRD).
    Kept,
    /// The schema prunes it (e.g. the reference's CRD).
    Dropped,
    /// The CRD could not be read (e.g. no permission to get CRDs): why.
    Unknown(String),
}

impl Recording {
    pub(crate) fn dropped(&self) -> bool {
        *self == Self::Dropped
    }

    /// Why SealedSecrets may record no key, for messages about them.
    pub(crate) fn unknown_key_causes(&self) -> &'static str {
        match self {
            Self::Dropped => DROPPED,
            _ => "they are not yet unsealed by this controller (or changed since), are handled only by the reference \
                  controller, or the installed CRD drops status.keyFingerprint (the reference's CRD has no such field)",
        }
    }
}

/// The cause and the fix when the CRD prunes the field.
pub(crate) const DROPPED: &str = "the installed CRD drops status.keyFingerprint (the reference's CRD has no such field, so the \
     API server prunes it), so which key opens each SealedSecret is unknown. Install this project's CRD \
     (`kubectl apply -f manifests/crd.yaml`; the reference controller works with it too), then restart the controller: \
     it records the key of every SealedSecret again";

/// Reads the CRD and judges its schema.
pub(crate) async fn key_fingerprint_recording(client: &Client) -> Recording {
    let resource = ApiResource {
        group: "apiextensions.k8s.io".into(),
        version: "v1".into(),
        api_version: "apiextensions.k8s.io/v1".into(),
        kind: "CustomResourceDefinition".into(),
        plural: "customresourcedefinitions".into(),
    };
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
    match api.get(CRD_NAME).await {
        Ok(crd) => match keeps_key_fingerprint(&crd.data) {
            Some(true) => Recording::Kept,
            Some(false) => Recording::Dropped,
            None => Recording::Unknown(format!("the CRD {CRD_NAME} serves no v1alpha1 schema")),
        },
        Err(kube::Error::Api(s)) => Recording::Unknown(format!(
            "cannot read the CRD {CRD_NAME}: {} ({})",
            s.message, s.code
        )),
        Err(e) => Recording::Unknown(format!("cannot read the CRD {CRD_NAME}: {e}")),
    }
}

/// Whether the served `v1alpha1` schema of a CRD (its JSON, without
/// metadata) keeps `status.keyFingerprint`; `None` without such a schema.
pub(crate) fn keeps_key_fingerprint(crd: &Value) -> Option<bool> {
    let schema = crd["spec"]["versions"]
        .as_array()?
        .iter()
        .find(|v| v["name"] == "v1alpha1")?
        .get("schema")?
        .get("openAPIV3Schema")?;
    let preserves = |s: &Value| s["x-kubernetes-preserve-unknown-fields"] == true;
    let Some(status) = schema.get("properties").and_then(|p| p.get("status")) else {
        return Some(preserves(schema));
    };
    Some(preserves(status) || status["properties"].get("keyFingerprint").is_some())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn crd(status: Value) -> Value {
        json!({"spec": {"versions": [
            {"name": "v1alpha1", "schema": {"openAPIV3Schema": {
                "type": "object",
                "properties": {"spec": {"type": "object"}, "status": status},
            }}},
        ]}})
    }

    #[test]
    fn ours_keeps_the_field_and_the_references_drops_it() {
        let ours = json!({"type": "object", "properties": {
            "conditions": {"type": "array"}, "keyFingerprint": {"type": "string"}}});
        assert_eq!(keeps_key_fingerprint(&crd(ours)), Some(true));
        let reference = json!({"type": "object", "properties": {
            "conditions": {"type": "array"}, "observedGeneration": {"type": "integer"}}});
        assert_eq!(keeps_key_fingerprint(&crd(reference)), Some(false));
        let open = json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true});
        assert_eq!(keeps_key_fingerprint(&crd(open)), Some(true));
        assert_eq!(keeps_key_fingerprint(&json!({"spec": {}})), None);
    }

    /// The real files: ours (generated from the Rust types) keeps it.
    #[test]
    fn manifests_crd_keeps_the_field() {
        let text = include_str!("../../../manifests/crd.yaml");
        let crd: Value = serde_yaml::from_str(text).expect("manifests/crd.yaml is YAML");
        assert_eq!(keeps_key_fingerprint(&crd), Some(true));
    }
}
