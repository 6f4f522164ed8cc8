//! The Sealed Secrets hybrid encryption scheme, byte-compatible with Bitnami
//! Sealed Secrets, on `aws-lc-rs` (constant-time RSA, no Marvin timing leak).
//!
//! A sealed value is `u16 BE len(rsa) || RSA-OAEP(SHA-256, label)(session key)
//! || AES-256-GCM(session key, zero nonce)(plaintext) || tag`. Pure: no I/O.

mod cert;
mod error;
mod hybrid;
mod keys;
pub mod scope;

pub use cert::{Certificate, CertificateParams};
pub use error::Error;
pub use hybrid::{open, opens_session_key, rsa_decryptions, seal, KeyRing, Opened};
pub use keys::{Fingerprint, PrivateKey, PublicKey, DEFAULT_KEY_BITS};
pub use scope::Scope;
pub use zeroize::Zeroizing;

/// Decrypted bytes: wiped from memory when dropped, never printed by `Debug`.
pub type Plaintext = Zeroizing<Vec<u8>>;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// PEM with `\n` line endings, as Go's encoding/pem writes (the `pem` crate
/// defaults to `\r\n`).
pub(crate) fn encode_pem(tag: &str, der: Vec<u8>) -> String {
    pem::encode_config(
        &pem::Pem::new(tag, der),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}
