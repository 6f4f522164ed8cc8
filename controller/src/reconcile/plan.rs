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

/// Whether the Secret is in `patch` mode: keys others added to it stay.
pub fn patched(secret: &Secret) -> bool {
    annotated(secret, PATCH_ANNOTATION)
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
        .map(|k| format!("{:?}", shorten(k, 40)))
        .collect();
    if !bad.is_empty() {
        let more = bad.len().saturating_sub(5);
        let mut shown = bad[..bad.len().min(5)].join(", ");
        if more > 0 {
            shown.push_str(&format!(" and {more} more"));
        }
        return Some(format!(
            "{}: {shown}. A key is 1 to 253 letters, digits, '-', '_' or '.' (not '.' or '..', nor starting with '..'): \
             rename the items and seal them again",
            if bad.len() == 1 {
                "This item's key cannot be a Secret key"
            } else {
                "These items' keys cannot be Secret keys"
            }
        ));
    }
    let size: usize = data.values().map(|v| v.0.len()).sum();
    (size > MAX_SECRET_BYTES).then(|| {
        format!(
            "The Secret would hold {size} bytes of values, more than the {MAX_SECRET_BYTES} (1 MiB) a Secret can hold: \
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

/// `text` as shown in a message: its first `max` characters (a key, or
/// the API server's message, which names every invalid key).
pub fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_string(),
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

/// Why a SealedSecret is not unsealed, as its status says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure<'a> {
    /// CamelCase, the `reason` of `Ready` (and `Stalled` or `Reconciling`).
    pub reason: &'a str,
    pub message: &'a str,
    /// Whether it goes away without a change (`Reconciling`), or not (`Stalled`).
    pub retrying: bool,
}

/// The reason `Ready` gives when the Secret is as the SealedSecret says.
pub const READY_REASON: &str = "Unsealed";

/// The status after processing, or `None` when nothing changed. `Synced`
/// stays the reference's (first: the CRD's printer columns read
/// `conditions[0]`, Argo CD reads `Synced`). With `kstatus`, `Ready` says
/// the same with a reason, `Stalled` is there while a failure needs a change
/// to go away and `Reconciling` while one is retried; without, those three
/// are removed (the reference never clears them).
pub fn next_status(
    sealed: &SealedSecret,
    failure: Option<Failure<'_>>,
    key: Option<&str>,
    now: Time,
    kstatus: bool,
) -> Option<SealedSecretStatus> {
    let old = sealed.status.clone().unwrap_or_default();
    let mut status = old.clone();
    if key.is_some() {
        status.key_fingerprint = key.map(str::to_string);
    }
    let generation = sealed.metadata.generation;
    let condition_status = |ok: bool| if ok { "True" } else { "False" };
    let message = failure
        .map(|f| f.message.to_string())
        .filter(|m| !m.is_empty());

    let mut synced =
        take(&mut status.conditions, "Synced").unwrap_or_else(|| SealedSecretCondition {
            type_: "Synced".into(),
            ..Default::default()
        });
    // The reference's: status and message, no reason, no generation.
    let wanted = condition_status(failure.is_none());
    if synced.status != wanted || synced.message != message {
        if synced.status != wanted {
            synced.last_transition_time = Some(now.clone());
        }
        synced.status = wanted.into();
        synced.message = message.clone();
        synced.last_update_time = Some(now.clone());
    }
    status.conditions.insert(0, synced);

    let ready = SealedSecretCondition {
        type_: "Ready".into(),
        status: condition_status(failure.is_none()).into(),
        reason: Some(failure.map_or(READY_REASON, |f| f.reason).to_string()),
        message: message.clone(),
        observed_generation: generation,
        ..Default::default()
    };
    let pending = |retrying: bool, type_: &str| {
        failure
            .filter(|f| f.retrying == retrying)
            .map(|f| SealedSecretCondition {
                type_: type_.into(),
                status: "True".into(),
                reason: Some(f.reason.to_string()),
                message: message.clone(),
                observed_generation: generation,
                ..Default::default()
            })
    };
    let stalled = pending(false, "Stalled");
    let reconciling = pending(true, "Reconciling");
    for (type_, wanted) in [
        ("Ready", Some(ready)),
        ("Stalled", stalled),
        ("Reconciling", reconciling),
    ] {
        let current = take(&mut status.conditions, type_);
        let wanted = wanted.filter(|_| kstatus);
        if let Some(next) = merge(current, wanted, &now) {
            status.conditions.push(next);
        }
    }
    status.observed_generation = generation;
    (status != old).then_some(status)
}

/// Removes the condition of `type_` from `conditions`.
fn take(conditions: &mut Vec<SealedSecretCondition>, type_: &str) -> Option<SealedSecretCondition> {
    let index = conditions.iter().position(|c| c.type_ == type_)?;
    Some(conditions.remove(index))
}

/// `wanted`, keeping the times of `current` when it says the same.
fn merge(
    current: Option<SealedSecretCondition>,
    wanted: Option<SealedSecretCondition>,
    now: &Time,
) -> Option<SealedSecretCondition> {
    let mut wanted = wanted?;
    let Some(current) = current else {
        wanted.last_transition_time = Some(now.clone());
        wanted.last_update_time = Some(now.clone());
        return Some(wanted);
    };
    fn said(c: &SealedSecretCondition) -> (&str, Option<&str>, Option<&str>, Option<i64>) {
        (
            &c.status,
            c.reason.as_deref(),
            c.message.as_deref(),
            c.observed_generation,
        )
    }
    if said(&current) == said(&wanted) {
        return Some(current);
    }
    wanted.last_transition_time = if current.status == wanted.status {
        current.last_transition_time
    } else {
        Some(now.clone())
    };
    wanted.last_update_time = Some(now.clone());
    Some(wanted)
}

#[cfg(test)]
mod tests {
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

    fn at(second: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(second).unwrap())
    }

    fn condition<'a>(
        status: &'a SealedSecretStatus,
        type_: &str,
    ) -> Option<&'a SealedSecretCondition> {
        status.conditions.iter().find(|c| c.type_ == type_)
    }

    const NO_KEY: Failure<'static> = Failure {
        reason: "DecryptFailed",
        message: "no key could decrypt secret (password)",
        retrying: false,
    };
    const AWAY: Failure<'static> = Failure {
        reason: "APIUnavailable",
        message: "the API server is away",
        retrying: true,
    };

    #[test]
    fn status_changes_only_when_something_changed() {
        let mut sealed = owner();
        let status =
            next_status(&sealed, None, Some("SHA256:k"), at(1000), true).expect("first status");
        assert_eq!(status.observed_generation, Some(2));
        assert_eq!(status.conditions[0].type_, "Synced");
        assert_eq!(status.conditions[0].status, "True");
        assert_eq!(status.conditions[0].message, None);
        assert_eq!(
            status.conditions[0].reason, None,
            "the reference's Synced has none"
        );
        assert_eq!(status.key_fingerprint.as_deref(), Some("SHA256:k"));
        sealed.status = Some(status);
        assert_eq!(
            next_status(&sealed, None, Some("SHA256:k"), at(2000), true),
            None
        );
        let failed = next_status(&sealed, Some(NO_KEY), None, at(3000), true).expect("failure");
        assert_eq!(failed.conditions[0].status, "False");
        assert_eq!(
            failed.conditions[0].message.as_deref(),
            Some(NO_KEY.message)
        );
        sealed.status = Some(failed);
        let other = Failure {
            message: "other",
            ..NO_KEY
        };
        let other =
            next_status(&sealed, Some(other), None, at(4000), true).expect("message change");
        assert_eq!(other.conditions.len(), 3, "Synced, Ready, Stalled");
    }

    /// What kstatus reads: Ready always, Stalled for a failure that needs a
    /// change, Reconciling for one being retried; each at the generation.
    #[test]
    fn kstatus_conditions_follow_the_outcome() {
        let mut sealed = owner();
        let types = |s: &SealedSecretStatus| {
            s.conditions
                .iter()
                .map(|c| c.type_.clone())
                .collect::<Vec<_>>()
        };
        for (failure, expected, ready_reason) in [
            (None, vec!["Synced", "Ready"], "Unsealed"),
            (
                Some(NO_KEY),
                vec!["Synced", "Ready", "Stalled"],
                "DecryptFailed",
            ),
            (
                Some(AWAY),
                vec!["Synced", "Ready", "Reconciling"],
                "APIUnavailable",
            ),
            (None, vec!["Synced", "Ready"], "Unsealed"),
        ] {
            let status = next_status(&sealed, failure, None, at(1000), true).expect("changed");
            assert_eq!(types(&status), expected, "{failure:?}");
            let ready = condition(&status, "Ready").expect("Ready");
            assert_eq!(ready.reason.as_deref(), Some(ready_reason));
            assert_eq!(
                ready.status,
                if failure.is_some() { "False" } else { "True" }
            );
            for c in &status.conditions[1..] {
                assert_eq!(c.observed_generation, Some(2), "{c:?}");
                assert!(c.last_transition_time.is_some(), "{c:?}");
                assert_eq!(c.message.as_deref(), failure.map(|f| f.message), "{c:?}");
            }
            sealed.status = Some(status);
        }
        // Without them (the way back to the reference): removed, Synced stays.
        let plain = next_status(&sealed, None, None, at(2000), false).expect("removed");
        assert_eq!(types(&plain), ["Synced"]);
        sealed.status = Some(plain);
        assert_eq!(next_status(&sealed, None, None, at(3000), false), None);
    }

    #[test]
    fn transition_times_move_only_when_the_status_does() {
        let mut sealed = owner();
        sealed.status = next_status(&sealed, Some(NO_KEY), None, at(1000), true);
        let other = Failure {
            message: "no key could decrypt secret (password, user)",
            ..NO_KEY
        };
        let status = next_status(&sealed, Some(other), None, at(2000), true).expect("message");
        let ready = condition(&status, "Ready").expect("Ready");
        assert_eq!(ready.last_transition_time, Some(at(1000)), "still False");
        assert_eq!(ready.last_update_time, Some(at(2000)));
        assert_eq!(
            condition(&status, "Stalled").and_then(|c| c.last_transition_time.clone()),
            Some(at(1000))
        );
        sealed.status = Some(status);
        let fixed = next_status(&sealed, None, None, at(3000), true).expect("fixed");
        assert_eq!(
            condition(&fixed, "Ready").and_then(|c| c.last_transition_time.clone()),
            Some(at(3000))
        );
        assert_eq!(fixed.conditions[0].last_transition_time, Some(at(3000)));
        // A new generation moves observedGeneration of each condition.
        sealed.status = Some(fixed);
        sealed.metadata.generation = Some(3);
        let next = next_status(&sealed, None, None, at(4000), true).expect("generation");
        assert_eq!(next.observed_generation, Some(3));
        assert_eq!(
            condition(&next, "Ready").and_then(|c| c.observed_generation),
            Some(3)
        );
        assert_eq!(
            condition(&next, "Ready").and_then(|c| c.last_transition_time.clone()),
            Some(at(3000))
        );
    }

    #[test]
    fn synced_moves_first_and_others_conditions_stay() {
        let mut sealed = owner();
        sealed.status = Some(SealedSecretStatus {
            conditions: vec![
                SealedSecretCondition {
                    type_: "SomeoneElses".into(),
                    status: "True".into(),
                    ..Default::default()
                },
                SealedSecretCondition {
                    type_: "Synced".into(),
                    status: "True".into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        });
        let status = next_status(&sealed, None, None, at(1000), true).expect("changed");
        let types: Vec<&str> = status.conditions.iter().map(|c| c.type_.as_str()).collect();
        assert_eq!(types, ["Synced", "SomeoneElses", "Ready"]);
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
                "These items' keys cannot be Secret keys: \"\", \"../x\", \"a b\", \"kkkk"
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
