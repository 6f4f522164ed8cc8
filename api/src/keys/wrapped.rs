//! A key Secret whose private key a KMS protects (the controller's
//! `--kms-endpoint`): the certificate in the clear, the KMS plugin's
//! ciphertext of a data key with the `key_id` and annotations the plugin
//! returned, and the private key sealed under that data key (AES-256-GCM,
//! bound to the certificate). Without the KMS nothing in it opens a
//! SealedSecret.
//!
//! It is neither type `kubernetes.io/tls` (which demands `tls.key`) nor
//! labelled `active`: the reference controller lists `=active` and stops on
//! a key Secret without `tls.key`; it ignores these.

use std::collections::BTreeMap;

use base64::Engine as _;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::ByteString;
use sealed_secrets_crypto::Certificate;

use super::{KEY_LABEL, TLS_CRT};
use crate::Error;

/// The key label's value on a wrapped key Secret.
pub const LABEL_VALUE: &str = "kms-v2";
/// The Secret type of a wrapped key Secret.
pub const SECRET_TYPE: &str = "sealedsecrets.bitnami.com/kms-wrapped-key";
/// The KEK's `key_id`, for people (`kubectl get secret -o yaml`); the data
/// item [`KEY_ID`] is the one read.
pub const KEY_ID_ANNOTATION: &str = "sealedsecrets.bitnami.com/kms-key-id";
/// The plugin's `key_id`, as it returned it.
pub const KEY_ID: &str = "kms.key-id";
/// The plugin's ciphertext of the data key.
pub const WRAPPED_DEK: &str = "kms.wrapped-dek";
/// The plugin's annotations: a JSON map of name to base64 value.
pub const ANNOTATIONS: &str = "kms.annotations";
/// The private key (PKCS#1 DER) sealed under the data key.
pub const SEALED_KEY: &str = "kms.sealed-key";

/// What a wrapped key Secret holds.
#[derive(Debug, Clone)]
pub struct WrappedKey {
    pub certificate: Certificate,
    pub key_id: String,
    pub wrapped_dek: Vec<u8>,
    pub annotations: BTreeMap<String, Vec<u8>>,
    pub sealed_key: Vec<u8>,
}

/// A new wrapped key Secret named `<prefix><random>` in `namespace`;
/// `labels` and `annotations` are added to the key label and the `key_id`.
pub fn wrapped_key_secret(
    namespace: &str,
    prefix: &str,
    key: &WrappedKey,
    labels: &[(String, String)],
    annotations: &[(String, String)],
) -> Secret {
    let mut all_labels: BTreeMap<String, String> = labels.iter().cloned().collect();
    all_labels.insert(KEY_LABEL.into(), LABEL_VALUE.into());
    let mut all_annotations: BTreeMap<String, String> = annotations.iter().cloned().collect();
    all_annotations.insert(KEY_ID_ANNOTATION.into(), key.key_id.clone());
    let plugin_annotations: BTreeMap<&str, String> = key
        .annotations
        .iter()
        .map(|(name, value)| {
            (
                name.as_str(),
                base64::engine::general_purpose::STANDARD.encode(value),
            )
        })
        .collect();
    // A map of strings always serializes.
    let plugin_annotations = serde_json::to_vec(&plugin_annotations).unwrap_or_default();
    let bytes = |b: &[u8]| ByteString(b.to_vec());
    Secret {
        metadata: ObjectMeta {
            generate_name: Some(prefix.to_string()),
            namespace: Some(namespace.to_string()),
            labels: Some(all_labels),
            annotations: Some(all_annotations),
            ..ObjectMeta::default()
        },
        type_: Some(SECRET_TYPE.into()),
        data: Some(BTreeMap::from([
            (
                TLS_CRT.to_string(),
                bytes(key.certificate.to_pem().as_bytes()),
            ),
            (KEY_ID.to_string(), bytes(key.key_id.as_bytes())),
            (WRAPPED_DEK.to_string(), bytes(&key.wrapped_dek)),
            (ANNOTATIONS.to_string(), ByteString(plugin_annotations)),
            (SEALED_KEY.to_string(), bytes(&key.sealed_key)),
        ])),
        ..Secret::default()
    }
}

/// Whether `secret` holds a wrapped key (it has a sealed key item), whatever
/// its label or type say.
pub fn is_wrapped(secret: &Secret) -> bool {
    secret
        .data
        .as_ref()
        .is_some_and(|data| data.contains_key(SEALED_KEY))
}

/// What a wrapped key Secret holds; opening it needs the KMS.
pub fn read_wrapped_key_secret(secret: &Secret) -> Result<WrappedKey, Error> {
    let data = secret.data.as_ref().ok_or(Error::KeySecretNoData)?;
    let get = |item: &'static str| {
        data.get(item)
            .map(|bytes| bytes.0.as_slice())
            .ok_or(Error::KeySecretMissing { item })
    };
    let certificate =
        Certificate::from_pem(get(TLS_CRT)?).map_err(|source| Error::KeySecretInvalid {
            item: TLS_CRT,
            source,
        })?;
    let key_id =
        String::from_utf8(get(KEY_ID)?.to_vec()).map_err(|_| Error::KeySecretMalformed {
            item: KEY_ID,
            reason: "not UTF-8",
        })?;
    let malformed = || Error::KeySecretMalformed {
        item: ANNOTATIONS,
        reason: "not a JSON object of base64 values",
    };
    let encoded: BTreeMap<String, String> =
        serde_json::from_slice(get(ANNOTATIONS)?).map_err(|_| malformed())?;
    let annotations = encoded
        .into_iter()
        .map(|(name, value)| {
            base64::engine::general_purpose::STANDARD
                .decode(value)
                .map(|value| (name, value))
        })
        .collect::<Result<_, _>>()
        .map_err(|_| malformed())?;
    Ok(WrappedKey {
        certificate,
        key_id,
        wrapped_dek: get(WRAPPED_DEK)?.to_vec(),
        annotations,
        sealed_key: get(SEALED_KEY)?.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use sealed_secrets_crypto::{CertificateParams, PrivateKey};

    use super::*;

    fn wrapped() -> WrappedKey {
        let key = PrivateKey::generate(2048).expect("keygen");
        WrappedKey {
            certificate: Certificate::self_signed(&key, &CertificateParams::default())
                .expect("certificate"),
            key_id: "kek-1".into(),
            wrapped_dek: vec![1, 2, 3],
            annotations: BTreeMap::from([(
                "version.kms.example.com".to_string(),
                vec![0, 255, b'1'],
            )]),
            sealed_key: vec![9; 40],
        }
    }

    #[test]
    fn a_wrapped_key_secret_reads_back_and_holds_no_private_key() {
        let key = wrapped();
        let secret = wrapped_key_secret(
            "kube-system",
            "sealed-secrets-key",
            &key,
            &[("team".into(), "a".into())],
            &[],
        );
        assert!(is_wrapped(&secret));
        assert_eq!(secret.type_.as_deref(), Some(SECRET_TYPE));
        let labels = secret.metadata.labels.clone().unwrap_or_default();
        assert_eq!(labels.get(KEY_LABEL).map(String::as_str), Some("kms-v2"));
        assert_eq!(labels.get("team").map(String::as_str), Some("a"));
        let data = secret.data.clone().unwrap_or_default();
        assert!(!data.contains_key(super::super::TLS_KEY));
        for (item, value) in &data {
            let text = String::from_utf8_lossy(&value.0);
            assert!(!text.contains("PRIVATE KEY"), "{item}");
        }
        let read = read_wrapped_key_secret(&secret).expect("reads back");
        assert_eq!(read.key_id, "kek-1");
        assert_eq!(read.wrapped_dek, key.wrapped_dek);
        assert_eq!(read.annotations, key.annotations);
        assert_eq!(read.sealed_key, key.sealed_key);
        assert_eq!(read.certificate.to_pem(), key.certificate.to_pem());
    }

    #[test]
    fn a_broken_wrapped_key_secret_says_which_item() {
        let mut secret = wrapped_key_secret("ns", "k", &wrapped(), &[], &[]);
        let data = secret.data.as_mut().expect("data");
        data.insert(ANNOTATIONS.into(), ByteString(b"{\"a\": \"%%\"}".to_vec()));
        let e = read_wrapped_key_secret(&secret).unwrap_err();
        assert!(
            matches!(
                e,
                Error::KeySecretMalformed {
                    item: ANNOTATIONS,
                    ..
                }
            ),
            "{e:?}"
        );
        let data = secret.data.as_mut().expect("data");
        data.remove(WRAPPED_DEK);
        data.insert(ANNOTATIONS.into(), ByteString(b"{}".to_vec()));
        let e = read_wrapped_key_secret(&secret).unwrap_err();
        assert_eq!(e.to_string(), "it has no kms.wrapped-dek");
        let plain = Secret::default();
        assert!(!is_wrapped(&plain));
    }
}
