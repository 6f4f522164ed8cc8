//! Pure decisions: how the desired Secret meets the one in the cluster, and
//! what the Synced condition becomes. No I/O, so every rule is unit-tested.

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use sealed_secrets_api::{
    SealedSecret, SealedSecretCondition, SealedSecretStatus, MANAGED_ANNOTATION, PATCH_ANNOTATION,
};

/// What to do with the Secret.
#[derive(Debug, PartialEq)]
pub enum SecretWrite {
    Create(Secret),
    Replace(Secret),
    Unchanged,
}

/// The existing Secret belongs to someone else.
#[derive(Debug, PartialEq)]
pub struct Unmanaged(pub String);

impl std::fmt::Display for Unmanaged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Resource {:?} already exists and is not managed by SealedSecret",
            self.0
        )
    }
}

fn annotated(secret: &Secret, key: &str) -> bool {
    secret
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(key))
        .is_some_and(|v| v == "true")
}

fn controlled_by(secret: &Secret, owner: &SealedSecret) -> bool {
    let uid = owner.metadata.uid.as_deref().unwrap_or_default();
    secret
        .metadata
        .owner_references
        .iter()
        .flatten()
        .any(|r| r.controller == Some(true) && r.uid == uid && !uid.is_empty())
}

/// As the reference: create when missing; refuse a Secret that is neither
/// ours nor annotated `managed`/`patch`; `patch` merges data, labels and
/// annotations; otherwise data, labels, annotations and owners are replaced.
pub fn plan_secret(
    existing: Option<Secret>,
    desired: Secret,
    owner: &SealedSecret,
) -> Result<SecretWrite, Unmanaged> {
    let Some(existing) = existing else {
        return Ok(SecretWrite::Create(desired));
    };
    let patch = annotated(&existing, PATCH_ANNOTATION);
    let managed = annotated(&existing, MANAGED_ANNOTATION);
    if !controlled_by(&existing, owner) && !managed && !patch {
        return Err(Unmanaged(
            existing.metadata.name.clone().unwrap_or_default(),
        ));
    }
    let mut updated = existing.clone();
    if patch {
        updated
            .data
            .get_or_insert_default()
            .extend(desired.data.unwrap_or_default());
        updated
            .metadata
            .labels
            .get_or_insert_default()
            .extend(desired.metadata.labels.unwrap_or_default());
        updated
            .metadata
            .annotations
            .get_or_insert_default()
            .extend(desired.metadata.annotations.unwrap_or_default());
        if managed {
            updated.metadata.owner_references = desired.metadata.owner_references;
        }
    } else {
        updated.data = desired.data;
        updated.metadata.annotations = desired.metadata.annotations;
        updated.metadata.labels = desired.metadata.labels;
        updated.metadata.owner_references = desired.metadata.owner_references;
    }
    updated.type_ = desired.type_.or(existing.type_.clone());
    if normalized(updated.clone()) == normalized(existing) {
        Ok(SecretWrite::Unchanged)
    } else {
        Ok(SecretWrite::Replace(updated))
    }
}

// Empty and absent maps mean the same to the API server.
fn normalized(mut s: Secret) -> Secret {
    for map in [&mut s.metadata.labels, &mut s.metadata.annotations] {
        if map.as_ref().is_some_and(|m| m.is_empty()) {
            *map = None;
        }
    }
    if s.data.as_ref().is_some_and(|d| d.is_empty()) {
        s.data = None;
    }
    if s.metadata
        .owner_references
        .as_ref()
        .is_some_and(|o| o.is_empty())
    {
        s.metadata.owner_references = None;
    }
    s
}

/// The most a Secret's values may hold together (the API server's
/// `MaxSecretSize`).
pub const MAX_SECRET_BYTES: usize = 1 << 20;

/// Why the API server would refuse `secret`, said so that the owner of the
/// SealedSecret knows what to change; `None` when it is fine. Names keys,
/// never values; a few keys at most, however many are wrong.
pub fn unwritable(secret: &Secret) -> Option<String> {
    let data = secret.data.as_ref()?;
    let bad: Vec<String> = data
        .keys()
        .filter(|k| !valid_secret_key(k))
        .map(|k| format!("{:?}", shorten(k)))
        .collect();
    if !bad.is_empty() {
        let more = bad.len().saturating_sub(5);
        let mut shown = bad[..bad.len().min(5)].join(", ");
        if more > 0 {
            shown.push_str(&format!(" and {more} more"));
        }
        return Some(format!(
            "{} cannot be Secret keys: {shown}. A key is 1 to 253 letters, digits, '-', '_' or '.' (not '.' or '..', nor starting with '..'): \
             rename the items and seal them again",
            if bad.len() == 1 { "this item's key" } else { "these items' keys" }
        ));
    }
    let size: usize = data.values().map(|v| v.0.len()).sum();
    (size > MAX_SECRET_BYTES).then(|| {
        format!(
            "the Secret would hold {size} bytes of values, more than the {MAX_SECRET_BYTES} (1 MiB) a Secret can hold: \
             split the items across several SealedSecrets"
        )
    })
}

/// As the API server's `IsConfigMapKey`.
fn valid_secret_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 253
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && key != "."
        && !key.starts_with("..")
}

/// A key as shown in a message: its first 40 characters.
fn shorten(key: &str) -> String {
    match key.char_indices().nth(40) {
        Some((cut, _)) => format!("{}...", &key[..cut]),
        None => key.to_string(),
    }
}

/// The API server's answer when a write would change a Secret marked
/// `immutable: true` ("data: Forbidden: field is immutable when `immutable`
/// is set"). Other 422s that mention immutability (changing a Secret's
/// `type`, say) are not this case: the reference tells them apart by the
/// same suffix (here also when it ends a list of several errors).
pub fn immutable_secret_error(code: u16, message: &str) -> bool {
    code == 422
        && message
            .trim_end()
            .trim_end_matches(']')
            .ends_with("field is immutable when `immutable` is set")
}

/// The status after processing, or `None` when nothing changed: the
/// condition's status or message, or the observed generation.
pub fn next_status(
    sealed: &SealedSecret,
    error: Option<&str>,
    key: Option<&str>,
    now: Time,
) -> Option<SealedSecretStatus> {
    let mut status = sealed.status.clone().unwrap_or_default();
    let key_changed = key.is_some() && status.key_fingerprint.as_deref() != key;
    if key_changed {
        status.key_fingerprint = key.map(str::to_string);
    }
    let generation = sealed.metadata.generation;
    let wanted = if error.is_none() { "True" } else { "False" };
    let message = error.map(str::to_string).filter(|m| !m.is_empty());
    let index = match status.conditions.iter().position(|c| c.type_ == "Synced") {
        Some(i) => i,
        None => {
            status.conditions.push(SealedSecretCondition {
                type_: "Synced".into(),
                ..Default::default()
            });
            status.conditions.len() - 1
        }
    };
    let condition = &mut status.conditions[index];
    let changed = key_changed
        || condition.status != wanted
        || condition.message != message
        || status.observed_generation != generation;
    if !changed {
        return None;
    }
    if condition.status != wanted {
        condition.last_transition_time = Some(now.clone());
    }
    condition.status = wanted.into();
    condition.message = message;
    condition.last_update_time = Some(now);
    status.observed_generation = generation;
    Some(status)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
    use k8s_openapi::ByteString;

    use super::*;

    fn owner() -> SealedSecret {
        let mut s = SealedSecret::new("app", Default::default());
        s.metadata.uid = Some("uid-1".into());
        s.metadata.generation = Some(2);
        s
    }

    fn owner_ref(uid: &str) -> OwnerReference {
        OwnerReference {
            api_version: "bitnami.com/v1alpha1".into(),
            kind: "SealedSecret".into(),
            name: "app".into(),
            uid: uid.into(),
            controller: Some(true),
            block_owner_deletion: None,
        }
    }

    fn secret(
        data: &[(&str, &str)],
        annotations: &[(&str, &str)],
        owner_uid: Option<&str>,
    ) -> Secret {
        Secret {
            metadata: ObjectMeta {
                name: Some("app".into()),
                annotations: (!annotations.is_empty()).then(|| {
                    annotations
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect()
                }),
                owner_references: owner_uid.map(|u| vec![owner_ref(u)]),
                ..Default::default()
            },
            data: Some(
                data.iter()
                    .map(|(k, v)| (k.to_string(), ByteString(v.as_bytes().to_vec())))
                    .collect(),
            ),
            ..Default::default()
        }
    }

    #[test]
    fn creates_when_missing() {
        let desired = secret(&[("k", "v")], &[], Some("uid-1"));
        assert_eq!(
            plan_secret(None, desired.clone(), &owner()),
            Ok(SecretWrite::Create(desired))
        );
    }

    #[test]
    fn refuses_foreign_secrets() {
        let existing = secret(&[("k", "old")], &[], None);
        let err = plan_secret(
            Some(existing),
            secret(&[("k", "v")], &[], Some("uid-1")),
            &owner(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Resource \"app\" already exists and is not managed by SealedSecret"
        );
        let other_owner = secret(&[("k", "old")], &[], Some("uid-2"));
        assert!(plan_secret(Some(other_owner), secret(&[], &[], Some("uid-1")), &owner()).is_err());
    }

    #[test]
    fn replaces_owned_and_managed_and_skips_equal() {
        let desired = secret(&[("k", "v")], &[], Some("uid-1"));
        let owned = secret(&[("k", "old")], &[], Some("uid-1"));
        assert!(
            matches!(plan_secret(Some(owned), desired.clone(), &owner()), Ok(SecretWrite::Replace(s)) if s.data == desired.data)
        );
        let managed = secret(
            &[("k", "old"), ("extra", "x")],
            &[(MANAGED_ANNOTATION, "true")],
            None,
        );
        let Ok(SecretWrite::Replace(s)) = plan_secret(Some(managed), desired.clone(), &owner())
        else {
            panic!("replace")
        };
        assert_eq!(s.data, desired.data, "extra key dropped");
        assert_eq!(
            s.metadata.owner_references,
            desired.metadata.owner_references
        );
        assert_eq!(
            plan_secret(Some(desired.clone()), desired, &owner()),
            Ok(SecretWrite::Unchanged)
        );
    }

    #[test]
    fn patch_merges_and_keeps_foreign_keys() {
        let existing = secret(
            &[("keep", "1"), ("k", "old")],
            &[(PATCH_ANNOTATION, "true")],
            None,
        );
        let Ok(SecretWrite::Replace(s)) = plan_secret(
            Some(existing),
            secret(&[("k", "new")], &[("a", "b")], Some("uid-1")),
            &owner(),
        ) else {
            panic!("replace")
        };
        let data = s.data.unwrap();
        assert_eq!(data["keep"], ByteString(b"1".to_vec()));
        assert_eq!(data["k"], ByteString(b"new".to_vec()));
        let annotations = s.metadata.annotations.unwrap();
        assert_eq!(annotations[PATCH_ANNOTATION], "true");
        assert_eq!(annotations["a"], "b");
        assert_eq!(
            s.metadata.owner_references, None,
            "patch alone does not take ownership"
        );
    }

    #[test]
    fn status_changes_only_when_something_changed() {
        let now = Time(k8s_openapi::jiff::Timestamp::from_second(1000).unwrap());
        let mut sealed = owner();
        let status =
            next_status(&sealed, None, Some("SHA256:k"), now.clone()).expect("first status");
        assert_eq!(status.observed_generation, Some(2));
        assert_eq!(status.conditions[0].status, "True");
        assert_eq!(status.conditions[0].message, None);
        assert_eq!(status.key_fingerprint.as_deref(), Some("SHA256:k"));
        sealed.status = Some(status);
        assert_eq!(
            next_status(&sealed, None, Some("SHA256:k"), now.clone()),
            None
        );
        let failed = next_status(&sealed, Some("boom"), None, now.clone()).expect("failure");
        assert_eq!(failed.conditions[0].status, "False");
        assert_eq!(failed.conditions[0].message.as_deref(), Some("boom"));
        sealed.status = Some(failed);
        let other = next_status(&sealed, Some("other"), None, now).expect("message change");
        assert_eq!(other.conditions.len(), 1);
        let _ = BTreeMap::<String, String>::new();
    }

    #[test]
    fn secrets_the_api_server_refuses_are_explained() {
        use k8s_openapi::ByteString;
        let with = |items: &[(&str, usize)]| Secret {
            data: Some(
                items
                    .iter()
                    .map(|(k, n)| (k.to_string(), ByteString(vec![b'x'; *n])))
                    .collect(),
            ),
            ..Secret::default()
        };
        let long = "k".repeat(254);
        assert_eq!(
            unwritable(&with(&[("a.b_C-9", 1), (&long[..253], 1)])),
            None
        );
        assert_eq!(unwritable(&with(&[("v", MAX_SECRET_BYTES)])), None);
        let bad = unwritable(&with(&[
            ("a b", 1),
            ("../x", 1),
            ("", 1),
            (&long, 1),
            ("ü", 1),
        ]))
        .expect("refused");
        assert!(
            bad.starts_with(
                "these items' keys cannot be Secret keys: \"\", \"../x\", \"a b\", \"kkkk"
            ),
            "{bad}"
        );
        assert!(bad.contains("...\", \"ü\". A key is 1 to 253"), "{bad}");
        assert!(
            bad.ends_with("rename the items and seal them again"),
            "{bad}"
        );
        for key in [".", "..", "..a", "a/b", "a:b"] {
            assert!(unwritable(&with(&[(key, 1)])).is_some(), "{key}");
        }
        let many: Vec<(String, usize)> = (0..10_000).map(|i| (format!("bad key {i}"), 1)).collect();
        let many: Vec<(&str, usize)> = many.iter().map(|(k, n)| (k.as_str(), *n)).collect();
        let bad = unwritable(&with(&many)).expect("refused");
        assert!(bad.contains(" and 9995 more."), "{bad}");
        assert!(bad.len() < 400, "{bad}");
        let big = unwritable(&with(&[("a", MAX_SECRET_BYTES), ("b", 1)])).expect("refused");
        assert!(big.contains("1048577 bytes"), "{big}");
        assert!(
            big.contains("split the items across several SealedSecrets"),
            "{big}"
        );
    }

    #[test]
    fn only_an_immutable_secret_is_reported_as_immutable() {
        // What the API server says when data of an immutable Secret would change.
        let immutable =
            "Secret \"db\" is invalid: data: Forbidden: field is immutable when `immutable` is set";
        assert!(immutable_secret_error(422, immutable));
        assert!(immutable_secret_error(
            422,
            "Secret \"db\" is invalid: [data: Forbidden: x, immutable: Forbidden: field is immutable when `immutable` is set]"
        ));
        // Changing the type of a Secret: immutable field, mutable Secret.
        assert!(!immutable_secret_error(
            422,
            "Secret \"db\" is invalid: type: Invalid value: \"kubernetes.io/tls\": field is immutable"
        ));
        assert!(!immutable_secret_error(
            422,
            "admission webhook denied: labels are immutable in this namespace"
        ));
        assert!(!immutable_secret_error(409, immutable));
    }
}
