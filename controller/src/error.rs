use thiserror::Error;

/// Controller failures. Messages carry names and causes, never secret values.
#[derive(Debug, Error)]
pub enum Error {
    #[error("cannot list key Secrets: {0}")]
    KeyLoad(#[source] kube::Error),
    #[error("cannot store the new key Secret: {0}")]
    KeyStore(#[source] kube::Error),
    #[error("cannot generate a key: {0}")]
    KeyGeneration(#[source] sealed_secrets_api::crypto::Error),
    #[error("cannot write the new key as a Secret: {0}")]
    KeySecret(#[source] sealed_secrets_api::Error),
    /// A key Secret that holds no usable key (what is wrong with "it").
    #[error("{0}")]
    KeySecretUnreadable(#[source] sealed_secrets_api::Error),
    /// The KMS plugin is away or refused: the keys it wraps cannot be
    /// opened or made now (never a reason to make another key).
    #[error("the KMS plugin: {0}")]
    Kms(#[source] sealed_secrets_kms::Error),
    /// A wrapped key Secret that does not open with the KMS: altered, or
    /// written by someone without it.
    #[error("its private key does not open with the KMS: {0}")]
    KeyNotOpened(#[source] sealed_secrets_kms::Error),
    #[error("cannot write key Secret {secret:?} wrapped under the KMS's new key: {source}")]
    KeyRewrap {
        secret: String,
        #[source]
        source: kube::Error,
    },
    /// A key Secret wrapped by a KMS, and no `--kms-endpoint`.
    #[error("key Secret {secret:?} is wrapped by a KMS: start the controller with --kms-endpoint (the plugin's socket), or unwrap the keys first with `kubeseal admin keys unwrap`")]
    KmsNotConfigured { secret: String },
    #[error("SealedSecret has no namespace")]
    NoNamespace,
    #[error("the RSA worker pool is closed")]
    PoolClosed,
    #[error("a worker thread failed: {0}")]
    Worker(#[from] tokio::task::JoinError),
    /// A flag whose value cannot be used; `reason` names the value and what
    /// is expected instead.
    #[error("--{flag}: {reason}")]
    Flag { flag: &'static str, reason: String },
    // A `/v1/verify` or `/v1/rotate` body that cannot be worked on: the
    // text is the HTTP answer's body (a sealed body holds no plaintext).
    #[error("Multistream YAML not supported: send one SealedSecret")]
    MultiDocumentBody,
    #[error("the body is not valid JSON: {0}")]
    BodyNotJson(#[source] serde_json::Error),
    #[error("the body is not valid YAML or JSON: {0}")]
    BodyNotYaml(#[source] serde_yaml::Error),
    #[error("Object 'Kind' or 'apiVersion' is missing: send a bitnami.com/v1alpha1 SealedSecret")]
    BodyKindMissing,
    #[error("unexpected resource type {api_version}, Kind={kind}: send a bitnami.com/v1alpha1 SealedSecret")]
    BodyKindUnexpected { api_version: String, kind: String },
    #[error("not a valid SealedSecret: {0}")]
    BodyNotSealedSecret(#[source] serde_json::Error),
    /// Begins with [`crate::http::ROTATE_CANNOT_DECRYPT`], as the reference's.
    #[error("error decrypting secret: the deprecated 'data' field is not accepted (--accept-deprecated-v1-data=false)")]
    V1DataRefused,
    #[error("no sealing key is loaded yet")]
    NoSealingKey,
    /// Begins with [`crate::http::ROTATE_CANNOT_DECRYPT`], as the reference's.
    #[error("error decrypting secret: {0}")]
    CannotReseal(#[source] sealed_secrets_api::Error),
    #[error("cannot encode the SealedSecret: {0}")]
    EncodeSealedSecret(#[source] serde_json::Error),
}

impl Error {
    /// The request failed for want of the API server, not because it was refused.
    pub fn api_away(&self) -> bool {
        match self {
            Self::KeyLoad(e) | Self::KeyStore(e) => api_away(e),
            _ => false,
        }
    }

    /// Worth waiting for and trying again: the API server or the KMS plugin
    /// is away, or the plugin refused (it may be given the permission).
    pub fn waits(&self) -> bool {
        self.api_away() || matches!(self, Self::Kms(_))
    }
}

/// Whether a failed request says the API server was away (unreachable,
/// timed out, overloaded, failing), as opposed to refusing this request.
pub(crate) fn api_away(error: &kube::Error) -> bool {
    match error {
        kube::Error::Api(status) => status.code >= 500 || status.code == 429,
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_absent_or_failing_api_server_counts_as_away() {
        let status = |code: u16| {
            kube::Error::Api(
                kube::core::Status::failure("m", "r")
                    .with_code(code)
                    .boxed(),
            )
        };
        assert!(api_away(&status(500)));
        assert!(api_away(&status(503)));
        assert!(api_away(&status(429)));
        assert!(!api_away(&status(403)));
        assert!(!api_away(&status(409)));
        assert!(!api_away(&status(422)));
    }
}
