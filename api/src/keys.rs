//! The controller's key Secrets, as the reference stores them: type
//! `kubernetes.io/tls`, `tls.key` PKCS#1 PEM, `tls.crt` the self-signed
//! certificate, label `sealedsecrets.bitnami.com/sealed-secrets-key=active`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::ByteString;
use sealed_secrets_crypto::{Certificate, PrivateKey};

use crate::Error;

/// Label that marks a Secret as a sealing key.
pub const KEY_LABEL: &str = "sealedsecrets.bitnami.com/sealed-secrets-key";
/// Selector for every active key Secret.
pub const KEY_LABEL_SELECTOR: &str = "sealedsecrets.bitnami.com/sealed-secrets-key=active";
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
    all_labels.insert(KEY_LABEL.into(), "active".into());
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
/// The error says what is wrong with it, for logs and reports.
pub fn read_key_secret(secret: &Secret) -> Result<(PrivateKey, Certificate), String> {
    let data = secret.data.as_ref().ok_or("it has no data")?;
    let key_pem = data.get(TLS_KEY).ok_or("it has no tls.key")?;
    let cert_pem = data.get(TLS_CRT).ok_or("it has no tls.crt")?;
    let key = PrivateKey::from_pem(&key_pem.0).map_err(|e| format!("tls.key: {e}"))?;
    let certificate = Certificate::from_pem(&cert_pem.0).map_err(|e| format!("tls.crt: {e}"))?;
    if certificate.public_key().fingerprint() != key.fingerprint() {
        return Err("its tls.crt does not belong to its tls.key".into());
    }
    Ok((key, certificate))
}
