//! Whether a SealedSecret is already sealed for its cluster, decided with
//! the private keys given: each item is tried against them (only the RSA
//! part holding its session key is opened, never the value).

use std::collections::BTreeSet;

use sealed_secrets_api::crypto::{Fingerprint, KeyRing};
use sealed_secrets_api::keys::keys_needed;
use sealed_secrets_api::{SealedSecret, SEALED_WITH_ANNOTATION};

#[derive(Debug, PartialEq, Eq)]
pub(super) enum Freshness {
    /// Every item opens with the cluster's own key, among those given.
    Current,
    /// No key given opens any item, and the file does not record another
    /// key: nothing in it is sealed with a key being replaced.
    Unopened,
    /// Some item opens with a key given other than the cluster's: re-seal.
    Stale,
}

/// `target` is the key of the file's cluster; `keys` the ones given. A file
/// that cannot be brought to `target` with them is an error saying which
/// key is missing.
pub(super) fn freshness(
    sealed: &SealedSecret,
    keys: &KeyRing,
    target: &Fingerprint,
) -> Result<Freshness, String> {
    let ring: Vec<_> = keys.keys().iter().collect();
    let needed = keys_needed(sealed, &ring);
    let others: Vec<String> = needed
        .keys
        .iter()
        .filter(|f| *f != target)
        .map(ToString::to_string)
        .collect();
    let unopened = || {
        needed
            .unopened
            .iter()
            .map(|i| format!("{i:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if needed.unopened.is_empty() {
        return Ok(if others.is_empty() {
            Freshness::Current
        } else {
            Freshness::Stale
        });
    }
    if !others.is_empty() {
        return Err(format!(
            "items {} open with none of the keys given while others are sealed with {}: pass the key that opens them too (or re-seal those items)",
            unopened(),
            others.join(", ")
        ));
    }
    if keys.get(target).is_some() {
        return Err(format!(
            "items {} open with none of the keys given, not even the cluster's own key {target}: sealed for another cluster, or renamed/moved since it was sealed; pass the key that opens them",
            unopened()
        ));
    }
    match crate::sealed_with::recorded(sealed) {
        Some(recorded) if recorded != BTreeSet::from([target.to_string()]) => Err(format!(
            "it records being sealed with {} ({SEALED_WITH_ANNOTATION}), and none of the keys given opens it: pass that key",
            recorded.into_iter().collect::<Vec<_>>().join(", ")
        )),
        _ => Ok(Freshness::Unopened),
    }
}

#[cfg(test)]
mod tests {
    use sealed_secrets_api::crypto::{seal, PrivateKey};
    use sealed_secrets_api::SealedSecretSpec;

    use super::*;

    /// A SealedSecret whose items are sealed with `keys` in turn.
    fn sealed_with(keys: &[&PrivateKey], recorded: Option<&str>) -> SealedSecret {
        let mut sealed = SealedSecret::new("db", SealedSecretSpec::default());
        sealed.metadata.namespace = Some("team".into());
        if let Some(fp) = recorded {
            sealed.metadata.annotations =
                Some([(SEALED_WITH_ANNOTATION.to_string(), fp.to_string())].into());
        }
        let label = sealed.label();
        for (i, key) in keys.iter().enumerate() {
            let ciphertext = seal(key.public_key(), b"value", &label).expect("sealed");
            sealed.spec.encrypted_data.insert(
                format!("item{i}"),
                base64::Engine::encode(&base64::engine::general_purpose::STANDARD, ciphertext),
            );
        }
        sealed
    }

    #[test]
    fn decided_exactly_with_the_keys_given() {
        let [old, new, other] = [(); 3].map(|_| PrivateKey::generate(2048).expect("keygen"));
        let target = new.fingerprint();
        let ring = |keys: &[&PrivateKey]| KeyRing::new(keys.iter().map(|k| (*k).clone()).collect());
        let fp = |k: &PrivateKey| k.fingerprint().to_string();
        let cases: Vec<(&str, SealedSecret, KeyRing, Result<Freshness, &str>)> = vec![
            (
                "sealed with the old key",
                sealed_with(&[&old], None),
                ring(&[&old]),
                Ok(Freshness::Stale),
            ),
            (
                "half old, half new",
                sealed_with(&[&old, &new], None),
                ring(&[&old, &new]),
                Ok(Freshness::Stale),
            ),
            (
                "new, new key given",
                sealed_with(&[&new], None),
                ring(&[&old, &new]),
                Ok(Freshness::Current),
            ),
            (
                "new, only old key given",
                sealed_with(&[&new], None),
                ring(&[&old]),
                Ok(Freshness::Unopened),
            ),
            (
                "another cluster's, old key given",
                sealed_with(&[&other], None),
                ring(&[&old]),
                Ok(Freshness::Unopened),
            ),
            (
                "recorded as new",
                sealed_with(&[&new], Some(&fp(&new))),
                ring(&[&old]),
                Ok(Freshness::Unopened),
            ),
            (
                "recorded as another",
                sealed_with(&[&other], Some(&fp(&other))),
                ring(&[&old]),
                Err("records being sealed with"),
            ),
            (
                "another, target key given",
                sealed_with(&[&other], None),
                ring(&[&new]),
                Err("not even the cluster's own key"),
            ),
            (
                "old and unknown",
                sealed_with(&[&old, &other], None),
                ring(&[&old]),
                Err("open with none of the keys given while others are sealed with"),
            ),
        ];
        for (what, sealed, keys, want) in cases {
            let got = freshness(&sealed, &keys, target);
            match (got, want) {
                (Ok(got), Ok(want)) => assert_eq!(got, want, "{what}"),
                (Err(got), Err(want)) => assert!(got.contains(want), "{what}: {got}"),
                (got, want) => panic!("{what}: got {got:?}, want {want:?}"),
            }
        }
    }
}
