use thiserror::Error;

/// Everything that can go wrong in sealing, opening, and key handling.
///
/// Messages never include plaintext or key material.
#[derive(Debug, Error)]
pub enum Error {
    #[error("SealedSecret data is too short")]
    TooShort,
    #[error("no key could decrypt secret")]
    NoKeyCouldDecrypt,
    #[error("no private keys were given to decrypt with")]
    NoKeys,
    #[error("encryption failed: {0}")]
    Encrypt(&'static str),
    #[error("invalid scope {0:?}: must be one of: strict, namespace-wide, cluster-wide")]
    InvalidScope(String),
    #[error(
        "cannot generate an RSA key of {0} bits: supported sizes are 2048, 3072, 4096 and 8192"
    )]
    UnsupportedKeySize(usize),
    #[error("RSA key generation failed")]
    KeyGeneration,
    #[error("invalid private key: {0}")]
    InvalidPrivateKey(String),
    #[error("invalid public key: {0}")]
    InvalidPublicKey(String),
    #[error("invalid certificate: {0}")]
    InvalidCertificate(String),
    #[error("no PEM block found (expected {0})")]
    NoPem(&'static str),
    #[error("invalid PEM: {0}")]
    Pem(#[from] pem::PemError),
    #[error("failed to create certificate: {0}")]
    CertificateGeneration(#[from] rcgen::Error),
}
