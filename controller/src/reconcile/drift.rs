//! Secrets edited behind the controller's back (`kubectl edit`, a script):
//! GitOps promises that the cluster says what Git says, so the data the
//! SealedSecret defines is put back.
//!
//! The metadata watch of Secrets ([`crate::reconcile::secret_index`]) sees each
//! managed Secret's resourceVersion, and the index remembers the one known
//! to hold what the SealedSecret says: the version the controller wrote or
//! checked, or, for Secrets already there when it started, the version of
//! the first list (it cannot know what happened while no controller ran;
//! the next change of the SealedSecret writes the Secret anyway). A Secret
//! whose version moved on is read once and compared with digests of what was
//! written: keyed 64-bit SipHash digests of each key and value, random per
//! process, never the values. Only if they differ (or were never recorded,
//! after a restart) is the SealedSecret unsealed again, so edits of labels,
//! of keys others added in `patch` mode, or loops of edits that change
//! nothing cost a read, not an RSA operation.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, RandomState};

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::ByteString;
use kube::core::PartialObjectMeta;
use sealed_secrets_api::{named, SealedSecret, MANAGED_ANNOTATION, PATCH_ANNOTATION};

/// The SealedSecret annotation that turns reverting off for that object.
pub const REVERT_DRIFT_ANNOTATION: &str = "sealedsecrets.bitnami.com/revert-drift";

/// Whether hand edits of this SealedSecret's Secret are put back.
pub fn reverts(sealed: &SealedSecret, globally: bool) -> bool {
    globally
        && sealed
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(REVERT_DRIFT_ANNOTATION))
            .is_none_or(|v| v != "false")
}

/// Whether a Secret, as the metadata watch sees it, may be written by the
/// controller: owned by a SealedSecret, or annotated `managed` or `patch`.
pub fn may_be_managed(secret: &PartialObjectMeta<Secret>) -> bool {
    let meta = &secret.metadata;
    let owned = meta.owner_references.iter().flatten().any(|o| {
        o.kind == sealed_secrets_api::KIND && o.api_version == sealed_secrets_api::API_VERSION
    });
    let annotated = meta.annotations.as_ref().is_some_and(|a| {
        [MANAGED_ANNOTATION, PATCH_ANNOTATION]
            .iter()
            .any(|k| a.get(*k).is_some_and(|v| v == "true"))
    });
    owned || annotated
}

/// Digests of the keys and values a SealedSecret defines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests(Box<[(u64, u64)]>);

/// Makes and compares [`Digests`] under one random key.
#[derive(Default)]
pub struct Digester(RandomState);

impl Digester {
    pub fn digests(&self, data: Option<&BTreeMap<String, ByteString>>) -> Digests {
        let mut pairs: Vec<(u64, u64)> = data
            .into_iter()
            .flatten()
            .map(|(k, v)| (self.0.hash_one(k), self.0.hash_one(&v.0)))
            .collect();
        pairs.sort_unstable();
        Digests(pairs.into_boxed_slice())
    }

    /// Whether `data` holds every recorded key with its recorded value, and
    /// no other key unless in `patch` mode (keys others added stay).
    pub fn holds(
        &self,
        recorded: &Digests,
        data: Option<&BTreeMap<String, ByteString>>,
        patch: bool,
    ) -> bool {
        let current: HashMap<u64, u64> = data
            .into_iter()
            .flatten()
            .map(|(k, v)| (self.0.hash_one(k), self.0.hash_one(&v.0)))
            .collect();
        (patch || current.len() == recorded.0.len())
            && recorded
                .0
                .iter()
                .all(|(k, v)| current.get(k).is_some_and(|now| now == v))
    }
}

/// What putting back `desired` over `found` changes: the keys of `desired`
/// `found` does not hold as desired, and (unless in `patch` mode) the keys
/// it holds that `desired` has not. Names only, a few at most; empty when
/// nothing.
pub fn restored_keys(
    found: Option<&BTreeMap<String, ByteString>>,
    desired: Option<&BTreeMap<String, ByteString>>,
    patch: bool,
) -> String {
    let put_back: Vec<&str> = desired
        .into_iter()
        .flatten()
        .filter(|(k, v)| found.and_then(|f| f.get(*k)) != Some(*v))
        .map(|(k, _)| k.as_str())
        .collect();
    let removed: Vec<&str> = found
        .into_iter()
        .flatten()
        .filter(|_| !patch)
        .filter(|(k, _)| desired.is_none_or(|d| !d.contains_key(*k)))
        .map(|(k, _)| k.as_str())
        .collect();
    let mut parts = Vec::new();
    if !put_back.is_empty() {
        parts.push(format!("put back {}", named(&put_back)));
    }
    if !removed.is_empty() {
        parts.push(format!("removed {}", named(&removed)));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

    use super::*;

    fn data(items: &[(&str, &str)]) -> BTreeMap<String, ByteString> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), ByteString(v.as_bytes().to_vec())))
            .collect()
    }

    #[test]
    fn only_the_recorded_keys_and_values_count() {
        let digester = Digester::default();
        let ours = data(&[("user", "app"), ("password", "s3cret")]);
        let with_extra = data(&[("password", "s3cret"), ("user", "app"), ("extra", "x")]);
        let written = digester.digests(Some(&ours));
        for patch in [false, true] {
            let holds =
                |found: &BTreeMap<String, ByteString>| digester.holds(&written, Some(found), patch);
            assert!(holds(&data(&[("password", "s3cret"), ("user", "app")])));
            assert_eq!(
                holds(&with_extra),
                patch,
                "a key someone added stays only in patch mode"
            );
            assert!(!holds(&data(&[("password", "edited"), ("user", "app")])));
            assert!(!holds(&data(&[("user", "app")])), "a removed key");
            assert!(!digester.holds(&written, None, patch));
        }
        assert!(digester.holds(&digester.digests(None), Some(&data(&[])), false));
        // Another process's digests never match: the key is random.
        let other = Digester::default();
        assert_ne!(
            other.digests(Some(&data(&[("user", "app")]))),
            digester.digests(Some(&data(&[("user", "app")])))
        );
    }

    #[test]
    fn restored_keys_are_named_not_shown() {
        let desired = data(&[("a", "1"), ("b", "2"), ("c", "3")]);
        let found = data(&[("a", "1"), ("b", "edited"), ("z", "theirs")]);
        assert_eq!(
            restored_keys(Some(&found), Some(&desired), false),
            "put back b, c; removed z"
        );
        assert_eq!(
            restored_keys(Some(&found), Some(&desired), true),
            "put back b, c"
        );
        assert_eq!(restored_keys(Some(&desired), Some(&desired), false), "");
        let many: BTreeMap<String, ByteString> = (0..50)
            .map(|i| (format!("k{i:02}"), ByteString(vec![1])))
            .collect();
        let text = restored_keys(None, Some(&many), false);
        assert!(text.ends_with("k09 and 40 more"), "{text}");
        assert!(!text.contains("theirs") && !text.contains("edited"));
    }

    #[test]
    fn managed_secrets_are_owned_or_annotated() {
        let mut secret = PartialObjectMeta::<Secret> {
            types: None,
            metadata: ObjectMeta::default(),
            _phantom: std::marker::PhantomData,
        };
        assert!(!may_be_managed(&secret));
        secret.metadata.owner_references = Some(vec![OwnerReference {
            api_version: sealed_secrets_api::API_VERSION.into(),
            kind: sealed_secrets_api::KIND.into(),
            name: "db".into(),
            uid: "u".into(),
            ..Default::default()
        }]);
        assert!(may_be_managed(&secret));
        secret.metadata.owner_references = None;
        secret.metadata.annotations = Some(BTreeMap::from([(
            PATCH_ANNOTATION.to_string(),
            "true".to_string(),
        )]));
        assert!(may_be_managed(&secret));
    }

    #[test]
    fn the_annotation_or_the_flag_turns_it_off() {
        let mut sealed = SealedSecret::new("db", Default::default());
        assert!(reverts(&sealed, true));
        assert!(!reverts(&sealed, false));
        sealed.metadata.annotations = Some(BTreeMap::from([(
            REVERT_DRIFT_ANNOTATION.to_string(),
            "false".to_string(),
        )]));
        assert!(!reverts(&sealed, true));
    }
}
