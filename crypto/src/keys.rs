use std::fmt;
use std::sync::Arc;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{
    KeySize, OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey,
    PublicEncryptingKey,
};
use base64::Engine as _;
use pkcs8::der::{Decode, Encode};
use sha2::{Digest, Sha256};
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey as ParsedPublicKey;
use x509_parser::x509::SubjectPublicKeyInfo;
use zeroize::Zeroizing;

use crate::{Error, Result};

/// Key size the reference controller generates by default.
pub const DEFAULT_KEY_BITS: usize = 4096;

const PEM_RSA_PRIVATE_KEY: &str = "RSA PRIVATE KEY";
const PEM_PRIVATE_KEY: &str = "PRIVATE KEY";
const PEM_PUBLIC_KEY: &str = "PUBLIC KEY";

/// The OpenSSH-style `SHA256:...` fingerprint of an RSA public key; the
/// reference uses it to name keys in logs and key maps.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fingerprint(String);

impl Fingerprint {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An RSA public key able to seal values.
#[derive(Clone)]
pub struct PublicKey {
    oaep: Arc<OaepPublicEncryptingKey>,
    spki_der: Vec<u8>,
    fingerprint: Fingerprint,
}

impl PublicKey {
    /// From X.509 `SubjectPublicKeyInfo` DER.
    pub fn from_spki_der(der: &[u8]) -> Result<Self> {
        let (modulus, exponent) = rsa_components(der)?;
        let key = PublicEncryptingKey::from_der(der)
            .map_err(|e| Error::InvalidPublicKey(format!("not a usable RSA key: {e}")))?;
        let oaep = OaepPublicEncryptingKey::new(key)
            .map_err(|_| Error::InvalidPublicKey("not usable for RSA-OAEP".into()))?;
        Ok(Self {
            oaep: Arc::new(oaep),
            spki_der: der.to_vec(),
            fingerprint: ssh_fingerprint(&modulus, &exponent),
        })
    }

    /// From a `PUBLIC KEY` PEM block.
    pub fn from_pem(pem_text: &[u8]) -> Result<Self> {
        let block = pem::parse_many(pem_text)?
            .into_iter()
            .find(|b| b.tag() == PEM_PUBLIC_KEY)
            .ok_or(Error::NoPem("a PUBLIC KEY block"))?;
        Self::from_spki_der(block.contents())
    }

    pub fn to_pem(&self) -> String {
        crate::encode_pem(PEM_PUBLIC_KEY, self.spki_der.clone())
    }

    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    pub fn fingerprint(&self) -> &Fingerprint {
        &self.fingerprint
    }

    pub fn bits(&self) -> usize {
        self.oaep.key_size_bits()
    }

    pub(crate) fn oaep(&self) -> &OaepPublicEncryptingKey {
        &self.oaep
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("bits", &self.bits())
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}

/// An RSA private key able to open values. Its encoding is wiped on drop and
/// `Debug` shows only the fingerprint.
#[derive(Clone)]
pub struct PrivateKey {
    oaep: Arc<OaepPrivateDecryptingKey>,
    pkcs8_der: Zeroizing<Vec<u8>>,
    public: PublicKey,
}

impl PrivateKey {
    /// A fresh random key; the reference uses 4096 bits.
    pub fn generate(bits: usize) -> Result<Self> {
        let size = match bits {
            2048 => KeySize::Rsa2048,
            3072 => KeySize::Rsa3072,
            4096 => KeySize::Rsa4096,
            8192 => KeySize::Rsa8192,
            other => return Err(Error::UnsupportedKeySize(other)),
        };
        let key = PrivateDecryptingKey::generate(size).map_err(|_| Error::KeyGeneration)?;
        let der = key.as_der().map_err(|_| Error::KeyGeneration)?;
        Self::from_pkcs8_der(der.as_ref())
    }

    /// From PKCS#8 `PrivateKeyInfo` DER.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        let key = PrivateDecryptingKey::from_pkcs8(der)
            .map_err(|e| Error::InvalidPrivateKey(format!("not a usable RSA key: {e}")))?;
        let spki = key
            .public_key()
            .as_der()
            .map_err(|_| Error::InvalidPrivateKey("cannot derive its public key".into()))?;
        let public = PublicKey::from_spki_der(spki.as_ref())?;
        let oaep = OaepPrivateDecryptingKey::new(key)
            .map_err(|_| Error::InvalidPrivateKey("not usable for RSA-OAEP".into()))?;
        Ok(Self {
            oaep: Arc::new(oaep),
            pkcs8_der: Zeroizing::new(der.to_vec()),
            public,
        })
    }

    /// From PKCS#1 `RSAPrivateKey` DER (the reference's `tls.key` encoding).
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self> {
        pkcs1::RsaPrivateKey::from_der(der)
            .map_err(|e| Error::InvalidPrivateKey(format!("not a PKCS#1 RSA key: {e}")))?;
        let info = pkcs8::PrivateKeyInfo::new(pkcs1::ALGORITHM_ID, der);
        let pkcs8_der = Zeroizing::new(
            info.to_der()
                .map_err(|e| Error::InvalidPrivateKey(format!("cannot re-encode: {e}")))?,
        );
        Self::from_pkcs8_der(&pkcs8_der)
    }

    /// Every RSA private key in a PEM text (`RSA PRIVATE KEY` or `PRIVATE KEY`
    /// blocks). Other blocks, such as certificates, are skipped.
    pub fn all_from_pem(pem_text: &[u8]) -> Result<Vec<Self>> {
        let blocks = pem::parse_many(pem_text)?;
        let keys = blocks
            .iter()
            .filter_map(|b| match b.tag() {
                PEM_RSA_PRIVATE_KEY => Some(Self::from_pkcs1_der(b.contents())),
                PEM_PRIVATE_KEY => Some(Self::from_pkcs8_der(b.contents())),
                _ => None,
            })
            .collect::<Result<Vec<_>>>()?;
        if keys.is_empty() {
            return Err(Error::NoPem("an RSA PRIVATE KEY or PRIVATE KEY block"));
        }
        Ok(keys)
    }

    /// The first RSA private key in a PEM text.
    pub fn from_pem(pem_text: &[u8]) -> Result<Self> {
        Self::all_from_pem(pem_text)?
            .into_iter()
            .next()
            .ok_or(Error::NoPem("an RSA PRIVATE KEY or PRIVATE KEY block"))
    }

    /// PKCS#1 DER, as the reference stores keys.
    pub fn to_pkcs1_der(&self) -> Result<Zeroizing<Vec<u8>>> {
        let info = pkcs8::PrivateKeyInfo::from_der(&self.pkcs8_der)
            .map_err(|e| Error::InvalidPrivateKey(format!("cannot decode PKCS#8: {e}")))?;
        Ok(Zeroizing::new(info.private_key.to_vec()))
    }

    /// `-----BEGIN RSA PRIVATE KEY-----` PEM, as in the reference's `tls.key`.
    pub fn to_pkcs1_pem(&self) -> Result<Zeroizing<String>> {
        let der = self.to_pkcs1_der()?;
        Ok(Zeroizing::new(crate::encode_pem(
            PEM_RSA_PRIVATE_KEY,
            der.to_vec(),
        )))
    }

    /// `-----BEGIN PRIVATE KEY-----` PEM.
    pub fn to_pkcs8_pem(&self) -> Zeroizing<String> {
        Zeroizing::new(crate::encode_pem(PEM_PRIVATE_KEY, self.pkcs8_der.to_vec()))
    }

    pub(crate) fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8_der
    }

    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    pub fn fingerprint(&self) -> &Fingerprint {
        self.public.fingerprint()
    }

    pub(crate) fn oaep(&self) -> &OaepPrivateDecryptingKey {
        &self.oaep
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("bits", &self.public.bits())
            .field("fingerprint", self.fingerprint())
            .finish_non_exhaustive()
    }
}

fn rsa_components(spki_der: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
    let (_, spki) = SubjectPublicKeyInfo::from_der(spki_der)
        .map_err(|e| Error::InvalidPublicKey(format!("malformed SubjectPublicKeyInfo: {e}")))?;
    match spki.parsed() {
        Ok(ParsedPublicKey::RSA(rsa)) => Ok((rsa.modulus.to_vec(), rsa.exponent.to_vec())),
        Ok(_) => Err(Error::InvalidPublicKey(
            "expected an RSA public key; Sealed Secrets only uses RSA".into(),
        )),
        Err(e) => Err(Error::InvalidPublicKey(format!("malformed RSA key: {e}"))),
    }
}

/// SHA-256 over the SSH wire encoding `string "ssh-rsa", mpint e, mpint n`.
fn ssh_fingerprint(modulus: &[u8], exponent: &[u8]) -> Fingerprint {
    fn put_string(out: &mut Vec<u8>, bytes: &[u8]) {
        // Lengths here are bounded by the RSA key size, far below u32::MAX.
        out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        out.extend_from_slice(bytes);
    }
    fn put_mpint(out: &mut Vec<u8>, magnitude: &[u8]) {
        let start = magnitude
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(magnitude.len());
        let trimmed = &magnitude[start..];
        if trimmed.first().is_some_and(|&b| b & 0x80 != 0) {
            let mut padded = Vec::with_capacity(trimmed.len() + 1);
            padded.push(0);
            padded.extend_from_slice(trimmed);
            put_string(out, &padded);
        } else {
            put_string(out, trimmed);
        }
    }
    let mut wire = Vec::with_capacity(modulus.len() + 32);
    put_string(&mut wire, b"ssh-rsa");
    put_mpint(&mut wire, exponent);
    put_mpint(&mut wire, modulus);
    let digest = Sha256::digest(&wire);
    Fingerprint(format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest)
    ))
}
