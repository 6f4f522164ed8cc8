use std::time::Duration;

use crate::Method;

/// Everything that can go wrong talking to a KMS plugin or wrapping a key.
///
/// Messages never include plaintext, DEKs or key material; texts that come
/// from the plugin (a refusal's message, a healthz value) are cut to a few
/// hundred bytes.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The endpoint is not `unix:///absolute/path` (or `unix:///@abstract`),
    /// the only form the API server accepts.
    #[error("invalid KMS plugin endpoint {endpoint:?}: {reason}")]
    InvalidEndpoint {
        endpoint: String,
        reason: &'static str,
    },
    /// The plugin could not be reached (no socket, connection refused or
    /// lost) or answered `Unavailable`/`DeadlineExceeded`/`Cancelled`:
    /// retry later; the same client dials again on the next call.
    #[error("KMS plugin {method} failed: the plugin is unreachable: {reason}")]
    Unreachable { method: Method, reason: String },
    /// No answer within the client's timeout: retry later.
    #[error("KMS plugin {method} failed: no answer within {timeout:?}")]
    TimedOut { method: Method, timeout: Duration },
    /// The plugin answers Status, but not with healthz `ok` (the API server's
    /// readiness fails the same way): retry later.
    #[error("KMS plugin is not healthy: its healthz is {healthz:?}, not \"ok\"")]
    Unhealthy { healthz: String },
    /// The plugin answered with an error status: it could not or would not do
    /// it (e.g. Decrypt of a ciphertext it cannot open, an unknown key_id).
    #[error("KMS plugin refused {method}: {code:?}: {message}")]
    Refused {
        method: Method,
        code: tonic::Code,
        message: String,
    },
    /// The plugin answered, but not as the KMS v2 API requires.
    #[error("invalid KMS plugin {method} response: {problem}")]
    InvalidResponse { method: Method, problem: Invalid },
    /// The private key or certificate to wrap (or the certificate to unwrap
    /// with) does not parse.
    #[error("cannot wrap or unwrap the key: {0}")]
    Key(#[source] sealed_secrets_crypto::Error),
    /// The private key to wrap is not the certificate's.
    #[error(
        "the private key does not belong to the certificate (key {key}, certificate {certificate})"
    )]
    KeyCertificateMismatch { key: String, certificate: String },
    /// The sealed key does not open with this DEK and certificate: it was
    /// altered, or belongs to another Secret or certificate.
    #[error("the sealed private key does not open: it was altered, or belongs to another certificate or DEK")]
    SealedKeyDoesNotOpen,
    /// The sealed key is too short to hold a nonce and a tag.
    #[error("the sealed private key is {0} bytes, too short for AES-256-GCM")]
    SealedKeyTooShort(usize),
    /// The system's random source or AES-GCM failed.
    #[error("cryptographic failure: {0}")]
    Crypto(&'static str),
}

/// What a caller does about an [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The plugin is down, slow or unhealthy: retry later, with the same
    /// client.
    Unavailable,
    /// The plugin said no: retrying the same request is unlikely to help.
    Refused,
    /// The plugin's answer breaks the KMS v2 rules: nothing of it is used.
    InvalidResponse,
    /// Our side: the endpoint, key, certificate or sealed key is unusable,
    /// or the randomness or AES-GCM of this machine failed.
    Local,
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Unreachable { .. } | Error::TimedOut { .. } | Error::Unhealthy { .. } => {
                ErrorKind::Unavailable
            }
            Error::Refused { .. } => ErrorKind::Refused,
            Error::InvalidResponse { .. } => ErrorKind::InvalidResponse,
            Error::InvalidEndpoint { .. }
            | Error::Key(_)
            | Error::KeyCertificateMismatch { .. }
            | Error::SealedKeyDoesNotOpen
            | Error::SealedKeyTooShort(_)
            | Error::Crypto(_) => ErrorKind::Local,
        }
    }

    /// True when the same call may succeed later ([`ErrorKind::Unavailable`]).
    pub fn is_retryable(&self) -> bool {
        self.kind() == ErrorKind::Unavailable
    }
}

/// How a plugin's answer breaks the KMS v2 API's rules (those of the API
/// server: k8s.io/apiserver `kmsv2.ValidateKeyID`,
/// `validateEncryptedDEKSource`, `validateAnnotations` and the Status check
/// of `encryptionconfig`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("version {0:?} is neither \"v2\" nor \"v2beta1\"")]
    Version(String),
    #[error("key_id is empty")]
    EmptyKeyId,
    #[error("key_id is {0} bytes, more than the 1024 allowed")]
    KeyIdTooLong(usize),
    #[error("ciphertext is empty")]
    EmptyCiphertext,
    #[error("ciphertext is {0} bytes, more than the 1024 allowed")]
    CiphertextTooLong(usize),
    #[error("annotation key {key:?} is not a fully qualified domain name: {reason}")]
    AnnotationKey { key: String, reason: &'static str },
    #[error("annotations are {0} bytes (keys and values), more than the 32768 allowed")]
    AnnotationsTooLarge(usize),
    /// Decrypt of a wrapped DEK gave a plaintext that is not a DEK.
    #[error("the unwrapped DEK is {0} bytes, not 32")]
    DekLength(usize),
}

/// At most `max` bytes of a text from the plugin, cut at a char boundary.
pub(crate) fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &text[..end], text.len())
}
