use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use rcgen::{
    BasicConstraints, DnType, IsCa, KeyPair, KeyUsagePurpose, SerialNumber, PKCS_RSA_SHA256,
};
use rustls_pki_types::PrivatePkcs8KeyDer;
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::{Error, PrivateKey, PublicKey, Result};

const PEM_CERTIFICATE: &str = "CERTIFICATE";

/// What the controller puts in the self-signed certificate of a new key.
#[derive(Debug, Clone)]
pub struct CertificateParams {
    /// Subject and issuer CN (`--my-cn`; empty by default in the reference).
    pub common_name: String,
    pub not_before: SystemTime,
    /// `--key-ttl`, 10 years by default.
    pub valid_for: Duration,
}

impl Default for CertificateParams {
    fn default() -> Self {
        Self {
            common_name: String::new(),
            not_before: SystemTime::now(),
            valid_for: Duration::from_secs(10 * 365 * 24 * 3600),
        }
    }
}

/// An X.509 certificate carrying an RSA sealing key.
#[derive(Debug, Clone)]
pub struct Certificate {
    der: Vec<u8>,
    public_key: PublicKey,
    not_before: SystemTime,
    not_after: SystemTime,
}

impl Certificate {
    /// The self-signed certificate the reference controller makes for a key:
    /// CN on subject and issuer, CA, key usage encipher-only, 128-bit random serial.
    pub fn self_signed(key: &PrivateKey, params: &CertificateParams) -> Result<Self> {
        let pkcs8 = PrivatePkcs8KeyDer::from(key.pkcs8_der());
        let key_pair = KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, &PKCS_RSA_SHA256)?;

        let mut cert_params = rcgen::CertificateParams::default();
        cert_params.distinguished_name = rcgen::DistinguishedName::new();
        cert_params
            .distinguished_name
            .push(DnType::CommonName, params.common_name.as_str());
        cert_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        cert_params.key_usages = vec![KeyUsagePurpose::EncipherOnly];
        cert_params.not_before = to_offset(params.not_before)?;
        cert_params.not_after = to_offset(params.not_before + params.valid_for)?;
        let mut serial = [0u8; 16];
        SystemRandom::new()
            .fill(&mut serial)
            .map_err(|_| Error::InvalidCertificate("no randomness for the serial".into()))?;
        serial[0] &= 0x7f; // DER INTEGER must stay positive
        cert_params.serial_number = Some(SerialNumber::from_slice(&serial));

        let cert = cert_params.self_signed(&key_pair)?;
        Self::from_der(cert.der())
    }

    pub fn from_der(der: &[u8]) -> Result<Self> {
        let (_, cert) = X509Certificate::from_der(der)
            .map_err(|e| Error::InvalidCertificate(format!("malformed X.509: {e}")))?;
        let public_key = PublicKey::from_spki_der(cert.public_key().raw)?;
        let validity = cert.validity();
        Ok(Self {
            der: der.to_vec(),
            public_key,
            not_before: to_system_time(validity.not_before.timestamp()),
            not_after: to_system_time(validity.not_after.timestamp()),
        })
    }

    /// Every `CERTIFICATE` block in a PEM text, in order.
    pub fn all_from_pem(pem_text: &[u8]) -> Result<Vec<Self>> {
        pem::parse_many(pem_text)?
            .iter()
            .filter(|b| b.tag() == PEM_CERTIFICATE)
            .map(|b| Self::from_der(b.contents()))
            .collect()
    }

    /// The first `CERTIFICATE` block in a PEM text.
    pub fn from_pem(pem_text: &[u8]) -> Result<Self> {
        Self::all_from_pem(pem_text)?
            .into_iter()
            .next()
            .ok_or(Error::NoPem("a CERTIFICATE block"))
    }

    pub fn to_pem(&self) -> String {
        crate::encode_pem(PEM_CERTIFICATE, self.der.clone())
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    pub fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    pub fn not_before(&self) -> SystemTime {
        self.not_before
    }

    pub fn not_after(&self) -> SystemTime {
        self.not_after
    }

    pub fn is_expired_at(&self, now: SystemTime) -> bool {
        now > self.not_after
    }
}

fn to_offset(t: SystemTime) -> Result<OffsetDateTime> {
    let secs = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    };
    OffsetDateTime::from_unix_timestamp(secs)
        .map_err(|e| Error::InvalidCertificate(format!("validity out of range: {e}")))
}

fn to_system_time(unix_secs: i64) -> SystemTime {
    match u64::try_from(unix_secs) {
        Ok(secs) => UNIX_EPOCH + Duration::from_secs(secs),
        Err(_) => UNIX_EPOCH - Duration::from_secs(unix_secs.unsigned_abs()),
    }
}
