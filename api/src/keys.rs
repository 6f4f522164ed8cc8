//! The controller's key Secrets, as the reference stores them: type
//! `kubernetes.io/tls`, `tls.key` PKCS#1 PEM, `tls.crt` the self-signed
//! certificate, label `sealedsecrets.bitnami.com/sealed-secrets-key=active`;
//! and the same key wrapped by a KMS ([`wrapped`]).

mod activation;
pub mod wrapped;

pub use activation::{
    activate_at_annotation, format_activate_at, next_activation, parse_activate_at, sealing_index,
    Activation, ACTIVATE_AT_ANNOTATION,
};

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::ByteString;
use sealed_secrets_crypto::{opens_session_key, Certificate, Fingerprint, PrivateKey};

use crate::{Error, SealedSecret};

/// Label that marks a Secret as a sealing key.
pub const KEY_LABEL: &str = "sealedsecrets.bitnami.com/sealed-secrets-key";
/// The label's value on a key Secret as the reference writes it.
pub const KEY_LABEL_ACTIVE: &str = "active";
/// Selector for every key Secret: plain (`active`, the reference's) and
/// KMS-wrapped ([`wrapped::LABEL_VALUE`]).
pub const KEY_LABEL_SELECTOR: &str =
    "sealedsecrets.bitnami.com/sealed-secrets-key in (active,kms-v2)";
/// Annotation that keeps a key's first creation time (RFC 3339) when its
/// Secret is written again (wrapped, unwrapped): the key keeps its rank
/// under `--key-order-priority=SecretCreationTimestamp`.
pub const KEY_CREATED_ANNOTATION: &str = "sealedsecrets.bitnami.com/key-created";
pub const TLS_KEY: &str = "tls.key";
pub const TLS_CRT: &str = "tls.crt";

/// A new key Secret named `<prefix><random>` in `namespace`; `labels` and
/// `annotations` are added to the key label.
pub fn key_secret(
    namespace: &str,
    prefix: &str,
    key: &PrivateKey,
    certificate: &Certificate,
    labels: &[(String, String)],
    annotations: &[(String, String)],
) -> Result<Secret, Error> {
    let mut all_labels: BTreeMap<String, String> = labels.iter().cloned().collect();
    all_labels.insert(KEY_LABEL.into(), KEY_LABEL_ACTIVE.into());
    let annotations: BTreeMap<String, String> = annotations.iter().cloned().collect();
    let key_pem = key.to_pkcs1_pem()?;
    Ok(Secret {
        metadata: ObjectMeta {
            generate_name: Some(prefix.to_string()),
            namespace: Some(namespace.to_string()),
            labels: Some(all_labels),
            annotations: (!annotations.is_empty()).then_some(annotations),
            ..ObjectMeta::default()
        },
        type_: Some("kubernetes.io/tls".into()),
        data: Some(BTreeMap::from([
            (
                TLS_CRT.to_string(),
                ByteString(certificate.to_pem().into_bytes()),
            ),
            (TLS_KEY.to_string(), ByteString(key_pem.as_bytes().to_vec())),
        ])),
        ..Secret::default()
    })
}

/// The key and certificate a key Secret holds, checked to belong together.
/// The error says what is wrong with it (one of the `Error::KeySecret*`),
/// for logs and reports that name the Secret.
pub fn read_key_secret(secret: &Secret) -> Result<(PrivateKey, Certificate), Error> {
    let data = secret.data.as_ref().ok_or(Error::KeySecretNoData)?;
    let get = |item: &'static str| {
        data.get(item)
            .ok_or(Error::KeySecretMissing { item })
            .map(|bytes| bytes.0.as_slice())
    };
    let (key_pem, cert_pem) = (get(TLS_KEY)?, get(TLS_CRT)?);
    let invalid = |item: &'static str| move |source| Error::KeySecretInvalid { item, source };
    let key = PrivateKey::from_pem(key_pem).map_err(invalid(TLS_KEY))?;
    let certificate = Certificate::from_pem(cert_pem).map_err(invalid(TLS_CRT))?;
    if certificate.public_key().fingerprint() != key.fingerprint() {
        return Err(Error::KeySecretMismatch);
    }
    Ok((key, certificate))
}

/// How the controller picks the key that seals (`--key-order-priority`):
/// the newest by certificate NotBefore (the default) or by the key Secret's
/// creation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyOrder {
    #[default]
    CertNotBefore,
    SecretCreationTimestamp,
}

impl KeyOrder {
    /// As the reference: any other text means `CertNotBefore`.
    pub fn parse(text: &str) -> Self {
        match text {
            "SecretCreationTimestamp" => Self::SecretCreationTimestamp,
            _ => Self::CertNotBefore,
        }
    }
}

/// Where one key stands among others: the time `order` names first, the
/// other time second, then the Secret's name. Both times have one-second
/// resolution, so ties happen (two keys made in the same second); every
/// tool that orders keys uses this, so the controller and
/// `kubeseal admin keys` always agree on the key that seals.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct KeyRank {
    time: SystemTime,
    then: SystemTime,
    name: String,
}

impl KeyRank {
    /// The rank of a key Secret holding `certificate`. Its creation time is
    /// the [`KEY_CREATED_ANNOTATION`] when it has one (the key's Secret was
    /// written again), else the Secret's; a Secret without either (not read
    /// from the API server) counts as created at its certificate's NotBefore.
    pub fn of(order: KeyOrder, secret: &Secret, certificate: &Certificate) -> Self {
        let not_before = certificate.not_before();
        let created = key_created(secret)
            .map(|secs| {
                SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap_or(0))
            })
            .unwrap_or(not_before);
        let (time, then) = match order {
            KeyOrder::CertNotBefore => (not_before, created),
            KeyOrder::SecretCreationTimestamp => (created, not_before),
        };
        Self {
            time,
            then,
            name: secret.metadata.name.clone().unwrap_or_default(),
        }
    }

    /// The time the order is by: a key is renewed when this gets old.
    pub fn time(&self) -> SystemTime {
        self.time
    }

    /// The later of its two times: a key whose certificate starts and whose
    /// Secret is made after this second ranks above it under either order.
    pub fn made_by(&self) -> SystemTime {
        self.time.max(self.then)
    }
}

/// The longest [`wait_to_rank_above`] waits: a newest key further ahead
/// than this means a clock is wrong, which waiting does not mend.
pub const MAX_RANK_WAIT: Duration = Duration::from_secs(2);

/// How long to wait before making a key that must rank above every key of
/// `ranks`. Certificates and creation times have one-second resolution and
/// a tie goes by the Secret's random name, so a key made within the second
/// of the newest one could rank below it and never seal (a rotation right
/// after the controller made its first key). Zero once `now` is past that
/// second, and when the newest lies more than [`MAX_RANK_WAIT`] ahead.
pub fn wait_to_rank_above<'a>(
    ranks: impl IntoIterator<Item = &'a KeyRank>,
    now: SystemTime,
) -> Duration {
    let Some(newest) = ranks.into_iter().map(KeyRank::made_by).max() else {
        return Duration::ZERO;
    };
    let whole_seconds = newest
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let next_second = SystemTime::UNIX_EPOCH + Duration::from_secs(whole_seconds + 1);
    match next_second.duration_since(now) {
        Ok(wait) if wait <= MAX_RANK_WAIT => wait,
        _ => Duration::ZERO,
    }
}

/// When the key in `secret` was first stored, in seconds since the epoch.
fn key_created(secret: &Secret) -> Option<i64> {
    let annotated = secret
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(KEY_CREATED_ANNOTATION))
        .and_then(|text| text.parse::<k8s_openapi::jiff::Timestamp>().ok());
    annotated
        .or_else(|| secret.metadata.creation_timestamp.as_ref().map(|t| t.0))
        .map(|t| t.as_second())
}

/// The [`KEY_CREATED_ANNOTATION`] for a Secret that takes over the key of
/// `secret`: its first creation time, kept through any number of rewrites.
pub fn key_created_annotation(secret: &Secret) -> Option<(String, String)> {
    let secs = key_created(secret)?;
    let time = k8s_openapi::jiff::Timestamp::from_second(secs).ok()?;
    Some((KEY_CREATED_ANNOTATION.to_string(), time.to_string()))
}

/// Sorts newest (the key that seals) first.
pub fn newest_first(a: &KeyRank, b: &KeyRank) -> Ordering {
    b.cmp(a)
}

/// Which of `keys` the items of a SealedSecret need. Items of one object
/// may be sealed with different keys (`kubeseal --merge-into` or `--raw`
/// across a rotation), so each is looked at: only the RSA part that holds
/// its session key is decrypted, never the value.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct KeysNeeded {
    /// Fingerprints of the keys that open at least one item.
    pub keys: BTreeSet<Fingerprint>,
    /// Items no key among those given opens (sealed for another
    /// controller, or not valid): they need none of them.
    pub unopened: Vec<String>,
}

/// The keys each item of `sealed` needs; `keys` are tried in order, so put
/// the likeliest (the recorded `status.keyFingerprint`) first.
pub fn keys_needed(sealed: &SealedSecret, keys: &[&PrivateKey]) -> KeysNeeded {
    let label = sealed.label();
    let mut needed = KeysNeeded::default();
    let blob = sealed
        .spec
        .data
        .as_ref()
        .map(|b| ("data".to_string(), Some(b.0.clone())));
    let items = sealed.spec.encrypted_data.iter().map(|(item, value)| {
        let bytes = base64::engine::general_purpose::STANDARD.decode(value).ok();
        (item.clone(), bytes)
    });
    for (item, bytes) in items.chain(blob) {
        // Keys already needed first: items of one object mostly share one.
        let key = bytes.and_then(|bytes| {
            let (known, others): (Vec<&PrivateKey>, Vec<&PrivateKey>) = keys
                .iter()
                .partition(|k| needed.keys.contains(k.fingerprint()));
            known
                .into_iter()
                .chain(others)
                .find(|k| opens_session_key(k, &bytes, &label))
        });
        match key {
            Some(k) => {
                needed.keys.insert(k.fingerprint().clone());
            }
            None => needed.unopened.push(item),
        }
    }
    needed
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use sealed_secrets_crypto::CertificateParams;

    use super::*;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn certificate(not_before: u64) -> Certificate {
        let key = PrivateKey::generate(2048).expect("keygen");
        let params = CertificateParams {
            not_before: at(not_before),
            ..CertificateParams::default()
        };
        Certificate::self_signed(&key, &params).expect("certificate")
    }

    fn secret(name: &str, created: Option<u64>) -> Secret {
        let mut secret = Secret::default();
        secret.metadata.name = Some(name.into());
        secret.metadata.creation_timestamp = created
            .map(|s| Time(k8s_openapi::jiff::Timestamp::from_second(s as i64).expect("time")));
        secret
    }

    fn order(order: KeyOrder, keys: &[(&str, Option<u64>, &Certificate)]) -> Vec<String> {
        let mut ranks: Vec<KeyRank> = keys
            .iter()
            .map(|(name, created, cert)| KeyRank::of(order, &secret(name, *created), cert))
            .collect();
        ranks.sort_by(newest_first);
        ranks.into_iter().map(|r| r.name).collect()
    }

    #[test]
    fn priorities_pick_by_their_own_time_first() {
        let (old, new) = (certificate(1_000), certificate(2_000));
        // a: old certificate in a new Secret (a restored backup); b: the opposite.
        let keys = [("a", Some(3_000), &old), ("b", Some(2_500), &new)];
        assert_eq!(order(KeyOrder::CertNotBefore, &keys), ["b", "a"]);
        assert_eq!(order(KeyOrder::SecretCreationTimestamp, &keys), ["a", "b"]);
        // No creation time: the certificate's NotBefore stands in.
        let keys = [("a", None, &old), ("b", Some(1_500), &old)];
        assert_eq!(order(KeyOrder::SecretCreationTimestamp, &keys), ["b", "a"]);
    }

    #[test]
    fn a_key_made_after_the_wait_ranks_above_under_either_order() {
        let cert = certificate(1_000);
        // Created a second after its certificate started, as the controller's are.
        let existing = KeyRank::of(KeyOrder::CertNotBefore, &secret("z", Some(1_001)), &cert);
        let ranks = [existing];
        let millis = |ms: u64| SystemTime::UNIX_EPOCH + Duration::from_millis(ms);
        assert_eq!(
            wait_to_rank_above(&ranks, millis(1_000_300)),
            Duration::from_millis(1_700)
        );
        assert_eq!(
            wait_to_rank_above(&ranks, millis(1_001_999)),
            Duration::from_millis(1)
        );
        assert_eq!(wait_to_rank_above(&ranks, at(1_002)), Duration::ZERO);
        assert_eq!(wait_to_rank_above(&ranks, at(5_000)), Duration::ZERO);
        assert_eq!(wait_to_rank_above([], at(1_000)), Duration::ZERO);
        // Too far ahead: a wrong clock, not a tie.
        assert_eq!(wait_to_rank_above(&ranks, at(990)), Duration::ZERO);

        // Made when the wait ends ("a" loses every tie on the name), the new key seals.
        let now = millis(1_000_300) + wait_to_rank_above(&ranks, millis(1_000_300));
        let secs = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs();
        let new = certificate(secs);
        for key_order in [KeyOrder::CertNotBefore, KeyOrder::SecretCreationTimestamp] {
            let keys = [("z", Some(1_001), &cert), ("a", Some(secs), &new)];
            assert_eq!(order(key_order, &keys), ["a", "z"], "{key_order:?}");
        }
    }

    #[test]
    fn ties_fall_to_the_other_time_then_the_name() {
        let (c1, c2, c3) = (certificate(1_000), certificate(1_000), certificate(1_000));
        // Same NotBefore second: the Secret created later seals.
        let keys = [
            ("x", Some(1_001), &c1),
            ("a", Some(1_002), &c2),
            ("m", Some(1_001), &c3),
        ];
        assert_eq!(order(KeyOrder::CertNotBefore, &keys), ["a", "x", "m"]);
        // Same creation second: the later certificate, then the name.
        let (d1, d2) = (certificate(900), certificate(950));
        let keys = [
            ("p", Some(1_000), &d1),
            ("q", Some(1_000), &d2),
            ("r", Some(1_000), &d1),
        ];
        assert_eq!(
            order(KeyOrder::SecretCreationTimestamp, &keys),
            ["q", "r", "p"]
        );
        // Whatever order they come in.
        let reversed = [keys[2], keys[1], keys[0]];
        assert_eq!(
            order(KeyOrder::SecretCreationTimestamp, &reversed),
            ["q", "r", "p"]
        );
    }

    #[test]
    fn a_broken_key_secret_says_what_is_wrong() {
        let key = PrivateKey::generate(2048).expect("keygen");
        let cert = Certificate::self_signed(&key, &CertificateParams::default()).expect("cert");
        let other = certificate(1_000);
        let with = |items: &[(&str, Vec<u8>)]| {
            let mut secret = secret("k", None);
            secret.data = Some(
                items
                    .iter()
                    .map(|(k, v)| (k.to_string(), ByteString(v.clone())))
                    .collect(),
            );
            secret
        };
        let key_pem = key.to_pkcs1_pem().expect("pem").as_bytes().to_vec();
        let cert_pem = cert.to_pem().into_bytes();
        let error = |secret: &Secret| read_key_secret(secret).map(|_| ()).unwrap_err();

        let e = error(&secret("k", None));
        assert!(matches!(e, Error::KeySecretNoData), "{e:?}");
        assert_eq!(e.to_string(), "it has no data");
        let e = error(&with(&[(TLS_CRT, cert_pem.clone())]));
        assert!(
            matches!(e, Error::KeySecretMissing { item: TLS_KEY }),
            "{e:?}"
        );
        assert_eq!(e.to_string(), "it has no tls.key");
        let e = error(&with(&[(TLS_KEY, key_pem.clone())]));
        assert_eq!(e.to_string(), "it has no tls.crt");
        let e = error(&with(&[
            (TLS_KEY, cert_pem.clone()),
            (TLS_CRT, cert_pem.clone()),
        ]));
        assert!(
            matches!(
                &e,
                Error::KeySecretInvalid {
                    item: TLS_KEY,
                    source: sealed_secrets_crypto::Error::NoPem(_)
                }
            ),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "tls.key: no PEM block found (expected an RSA PRIVATE KEY or PRIVATE KEY block)"
        );
        let e = error(&with(&[
            (TLS_KEY, key_pem.clone()),
            (TLS_CRT, key_pem.clone()),
        ]));
        assert!(
            matches!(e, Error::KeySecretInvalid { item: TLS_CRT, .. }),
            "{e:?}"
        );
        assert!(std::error::Error::source(&e).is_some());
        let e = error(&with(&[
            (TLS_KEY, key_pem.clone()),
            (TLS_CRT, other.to_pem().into_bytes()),
        ]));
        assert!(matches!(e, Error::KeySecretMismatch), "{e:?}");
        assert_eq!(e.to_string(), "its tls.crt does not belong to its tls.key");
        let (read, _) = read_key_secret(&with(&[(TLS_KEY, key_pem), (TLS_CRT, cert_pem)]))
            .expect("a whole key Secret reads");
        assert_eq!(read.fingerprint(), key.fingerprint());
    }

    #[test]
    fn a_rewritten_key_secret_keeps_its_first_creation_time() {
        let cert = certificate(1_000);
        let original = secret("first", Some(5_000));
        let (name, value) = key_created_annotation(&original).expect("annotation");
        assert_eq!(name, KEY_CREATED_ANNOTATION);
        // Written again later (wrapped by a KMS): it ranks as the original.
        let mut rewritten = secret("second", Some(9_000));
        rewritten.metadata.annotations = Some(BTreeMap::from([(name, value)]));
        let rank = KeyRank::of(KeyOrder::SecretCreationTimestamp, &rewritten, &cert);
        assert_eq!(rank.time(), at(5_000));
        let again = key_created_annotation(&rewritten).expect("annotation");
        assert_eq!(again.1, "1970-01-01T01:23:20Z");
    }

    #[test]
    fn unknown_priorities_fall_back_as_the_reference() {
        assert_eq!(
            KeyOrder::parse("SecretCreationTimestamp"),
            KeyOrder::SecretCreationTimestamp
        );
        assert_eq!(KeyOrder::parse("CertNotBefore"), KeyOrder::CertNotBefore);
        assert_eq!(
            KeyOrder::parse("secretcreationtimestamp"),
            KeyOrder::CertNotBefore
        );
        assert_eq!(KeyOrder::parse(""), KeyOrder::CertNotBefore);
    }

    #[test]
    fn every_item_names_the_key_it_needs() {
        use crate::{seal_secret, SealOptions};
        let (old, new, foreign) = (
            PrivateKey::generate(2048).expect("keygen"),
            PrivateKey::generate(2048).expect("keygen"),
            PrivateKey::generate(2048).expect("keygen"),
        );
        let plain = |k: &str| {
            let mut secret = Secret::default();
            secret.metadata.name = Some("db".into());
            secret.metadata.namespace = Some("apps".into());
            secret.data = Some(BTreeMap::from([(
                k.to_string(),
                ByteString(b"hunter2".to_vec()),
            )]));
            secret
        };
        let sealed_with = |key: &PrivateKey, item: &str| {
            seal_secret(plain(item), key.public_key(), &SealOptions::default()).expect("seal")
        };
        // One object, items sealed with two keys (--merge-into across a rotation).
        let mut sealed = sealed_with(&old, "a");
        let later = sealed_with(&new, "b");
        sealed.spec.encrypted_data.extend(later.spec.encrypted_data);
        let other = sealed_with(&foreign, "c");
        sealed.spec.encrypted_data.extend(other.spec.encrypted_data);
        sealed
            .spec
            .encrypted_data
            .insert("d".into(), "not base64!".into());
        let needed = keys_needed(&sealed, &[&new, &old]);
        assert_eq!(
            needed.keys,
            BTreeSet::from([old.fingerprint().clone(), new.fingerprint().clone()])
        );
        assert_eq!(needed.unopened, ["c", "d"]);
        assert_eq!(keys_needed(&sealed, &[&new]).keys.len(), 1);
        assert!(keys_needed(&sealed, &[]).keys.is_empty());
    }
}
