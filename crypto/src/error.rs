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
    /// Why a PEM text did not parse, in words of our own: the `pem` crate's
    /// texts quote the input, which may be the key itself.
    #[error("invalid PEM: {0}")]
    Pem(String),
    #[error("failed to create certificate: {0}")]
    CertificateGeneration(#[from] rcgen::Error),
}

impl From<pem::PemError> for Error {
    fn from(e: pem::PemError) -> Self {
        use pem::PemError as P;
        // A label such as `RSA PRIVATE KEY` is worth showing; anything else
        // in its place (a damaged BEGIN line makes the whole body the
        // "label") is not.
        let label = |t: &str| {
            t.len() <= 40
                && t.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' ')
        };
        Error::Pem(match e {
            P::MismatchedTags(begin, end) if label(&begin) && label(&end) => {
                format!("its BEGIN line ({begin}) and END line ({end}) do not match")
            }
            P::MismatchedTags(..) => "its BEGIN and END lines do not match".into(),
            P::MalformedFraming => "malformed BEGIN or END line".into(),
            P::MissingBeginTag => "no BEGIN line".into(),
            P::MissingEndTag => "no END line".into(),
            P::MissingData => "no data between the BEGIN and END lines".into(),
            P::InvalidData(_) => "the data between the BEGIN and END lines is not base64".into(),
            P::InvalidHeader(_) => "a malformed header line".into(),
            P::NotUtf8(_) => "not UTF-8 text".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_errors_never_quote_the_input() {
        // A key whose BEGIN line lost its dashes, in a bundle: the pem crate
        // takes the body for the label and quoted it (found by fuzz/ pem).
        let body = "MIIEogIBAAKCAQEAlNb/VFztBDJIP22giXbzfDx1VYeJ8LZfg4LeA52lMX1nnDsb";
        let end = "-----END RSA PRIVATE KEY-----\n";
        let text = format!("-----BEGIN RSA PRIVATE KEY-\n{body}\n{end}{end}");
        let err = crate::PrivateKey::from_pem(text.as_bytes()).expect_err("damaged");
        assert!(!err.to_string().contains(body), "{err}");
        assert!(err.to_string().contains("do not match"), "{err}");
        let err = Error::from(pem::PemError::MismatchedTags(
            "RSA PRIVATE KEY".into(),
            "PRIVATE KEY".into(),
        ));
        assert_eq!(
            err.to_string(),
            "invalid PEM: its BEGIN line (RSA PRIVATE KEY) and END line (PRIVATE KEY) do not match"
        );
        let err = Error::from(pem::PemError::InvalidHeader("Proc-Type: material".into()));
        assert!(!err.to_string().contains("material"), "{err}");
    }
}
