//! Private keys as sprig handles them: Go's `parsePrivateKeyPEM` and
//! `pemBlockForKey`, with aws-lc doing the key operations.

use aws_lc_rs::encoding::{AsBigEndian, AsDer};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};

use super::der::{self, bit_string, oid, pem_decode, pem_encode, seq, tlv};
use crate::funcs::FuncError;

const RSA_ENCRYPTION: &[u64] = &[1, 2, 840, 113_549, 1, 1, 1];
const EC_PUBLIC_KEY: &[u64] = &[1, 2, 840, 10_045, 2, 1];
const ED25519: &[u64] = &[1, 3, 101, 112];
const NULL: &[u8] = &[5, 0];

/// A private key as sprig holds it after `parsePrivateKeyPEM`.
pub(super) enum Key {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair, Curve),
    Ed25519(Ed25519KeyPair, [u8; 32]),
    /// DSA keys parse, but Go's x509 can neither sign with nor certify them.
    Dsa,
}

#[derive(Clone, Copy, PartialEq)]
pub(super) enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    fn oid(self) -> Vec<u8> {
        match self {
            Curve::P256 => oid(&[1, 2, 840, 10_045, 3, 1, 7]),
            Curve::P384 => oid(&[1, 3, 132, 0, 34]),
            Curve::P521 => oid(&[1, 3, 132, 0, 35]),
        }
    }
    fn from_oid(der: &[u8]) -> Option<Curve> {
        [Curve::P256, Curve::P384, Curve::P521]
            .into_iter()
            .find(|c| c.oid() == der)
    }
    pub(super) fn signing(self) -> &'static signature::EcdsaSigningAlgorithm {
        match self {
            Curve::P256 => &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            Curve::P384 => &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
            Curve::P521 => &signature::ECDSA_P521_SHA512_ASN1_SIGNING,
        }
    }
    fn size(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
            Curve::P521 => 66,
        }
    }
    /// Go signs with the hash that matches the curve.
    fn sig_oid(self) -> Vec<u8> {
        let last = match self {
            Curve::P256 => 2,
            Curve::P384 => 3,
            Curve::P521 => 4,
        };
        seq(&[&oid(&[1, 2, 840, 10_045, 4, 3, last])])
    }
}

pub(super) fn fail(text: &'static str) -> FuncError {
    FuncError::reason(text)
}

impl Key {
    pub(super) fn generate_rsa(bits: aws_lc_rs::rsa::KeySize) -> Result<Key, FuncError> {
        RsaKeyPair::generate(bits)
            .map(Key::Rsa)
            .map_err(|_| fail("error generating rsa key"))
    }

    /// Go's `pemBlockForKey`.
    pub(super) fn to_pem(&self) -> Result<String, FuncError> {
        Ok(match self {
            Key::Rsa(kp) => pem_encode("RSA PRIVATE KEY", &rsa_pkcs1(kp)?),
            Key::Ec(kp, curve) => pem_encode("EC PRIVATE KEY", &ec_sec1(kp, *curve)?),
            Key::Ed25519(_, seed) => pem_encode("PRIVATE KEY", &ed25519_pkcs8(seed)),
            Key::Dsa => return Err(fail("error pem-encoding key")),
        })
    }

    /// SubjectPublicKeyInfo and the key bytes inside its BIT STRING.
    pub(super) fn spki(&self) -> Result<(Vec<u8>, Vec<u8>), FuncError> {
        let (alg, key) =
            match self {
                Key::Rsa(kp) => (
                    seq(&[&oid(RSA_ENCRYPTION), NULL]),
                    kp.public_key().as_ref().to_vec(),
                ),
                Key::Ec(kp, curve) => (
                    seq(&[&oid(EC_PUBLIC_KEY), &curve.oid()]),
                    kp.public_key().as_ref().to_vec(),
                ),
                Key::Ed25519(kp, _) => (seq(&[&oid(ED25519)]), kp.public_key().as_ref().to_vec()),
                Key::Dsa => return Err(fail(
                    "error creating certificate: x509: unsupported public key type: *dsa.PublicKey",
                )),
            };
        Ok((seq(&[&alg, &bit_string(&key)]), key))
    }

    pub(super) fn sig_alg(&self) -> Result<Vec<u8>, FuncError> {
        Ok(match self {
            Key::Rsa(_) => seq(&[&oid(&[1, 2, 840, 113_549, 1, 1, 11]), NULL]),
            Key::Ec(_, curve) => curve.sig_oid(),
            Key::Ed25519(..) => seq(&[&oid(ED25519)]),
            Key::Dsa => {
                return Err(fail(
                    "error creating certificate: x509: certificate private key does not implement crypto.Signer",
                ))
            }
        })
    }

    pub(super) fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, FuncError> {
        let rng = SystemRandom::new();
        let err = |_| fail("error creating certificate: signing failed");
        Ok(match self {
            Key::Rsa(kp) => {
                let mut sig = vec![0; kp.public_modulus_len()];
                kp.sign(&signature::RSA_PKCS1_SHA256, &rng, msg, &mut sig)
                    .map_err(err)?;
                sig
            }
            Key::Ec(kp, _) => kp.sign(&rng, msg).map_err(err)?.as_ref().to_vec(),
            Key::Ed25519(kp, _) => kp.sign(msg).as_ref().to_vec(),
            Key::Dsa => return Err(fail("error creating certificate")),
        })
    }
}

/// The PKCS#1 RSAPrivateKey inside aws-lc's PKCS#8.
fn rsa_pkcs1(kp: &RsaKeyPair) -> Result<Vec<u8>, FuncError> {
    let pkcs8 = kp.as_der().map_err(|_| fail("error pem-encoding key"))?;
    pkcs8_inner(pkcs8.as_ref())
        .map(|(_, inner)| inner.to_vec())
        .ok_or_else(|| fail("error pem-encoding key"))
}

/// Go's `MarshalECPrivateKey`: version 1, padded scalar, curve, public point.
fn ec_sec1(kp: &EcdsaKeyPair, curve: Curve) -> Result<Vec<u8>, FuncError> {
    let scalar = kp
        .private_key()
        .as_be_bytes()
        .map_err(|_| fail("error pem-encoding key"))?;
    let scalar = scalar.as_ref();
    let mut padded = vec![0u8; curve.size().saturating_sub(scalar.len())];
    padded.extend_from_slice(scalar);
    Ok(seq(&[
        &[2, 1, 1],
        &tlv(der::OCTETS, &padded),
        &tlv(0xa0, &curve.oid()),
        &tlv(0xa1, &bit_string(kp.public_key().as_ref())),
    ]))
}

/// Go's PKCS#8 for Ed25519: version 0, the algorithm, the seed.
fn ed25519_pkcs8(seed: &[u8; 32]) -> Vec<u8> {
    seq(&[
        &[2, 1, 0],
        &seq(&[&oid(ED25519)]),
        &tlv(der::OCTETS, &tlv(der::OCTETS, seed)),
    ])
}

/// An algorithm's OID (whole TLV) and parameters.
type AlgId = (Vec<u8>, Vec<u8>);

/// A PKCS#8 PrivateKeyInfo's algorithm and key.
fn pkcs8_inner(data: &[u8]) -> Option<(AlgId, &[u8])> {
    let (_, content, _, _) = der::read(data)?;
    let items = der::items(content)?;
    let (_, alg) = items.get(1)?;
    let (_, key) = items.get(2).filter(|(tag, _)| *tag == der::OCTETS)?;
    let (_, alg_oid, whole_oid, params) = der::read(alg)?;
    let _ = alg_oid;
    Some(((whole_oid.to_vec(), params.to_vec()), key))
}

fn ec_from_sec1(sec1: &[u8], default: Option<Curve>) -> Option<Key> {
    let (_, content, _, _) = der::read(sec1)?;
    let curve = der::items(content)?
        .iter()
        .find(|(tag, _)| *tag == 0xa0)
        .and_then(|(_, c)| Curve::from_oid(c))
        .or(default)?;
    let kp = EcdsaKeyPair::from_private_key_der(curve.signing(), sec1).ok()?;
    Some(Key::Ec(kp, curve))
}

/// sprig's `parsePrivateKeyPEM`, with Go's error texts (never any key bytes).
pub(super) fn parse_private_key_pem(text: &[u8]) -> Result<Key, String> {
    let (kind, der) = pem_decode(text).ok_or("no PEM data in input")?;
    if kind == "PRIVATE KEY" {
        let bad = || "decoding PEM as PKCS#8: x509: failed to parse private key".to_string();
        let ((alg, params), inner) = pkcs8_inner(&der).ok_or_else(bad)?;
        return if alg == oid(RSA_ENCRYPTION) {
            RsaKeyPair::from_pkcs8(&der)
                .map(Key::Rsa)
                .map_err(|_| bad())
        } else if alg == oid(EC_PUBLIC_KEY) {
            ec_from_sec1(inner, Curve::from_oid(&params)).ok_or_else(bad)
        } else if alg == oid(ED25519) {
            let seed: [u8; 32] = der::read(inner)
                .and_then(|(_, s, _, _)| s.try_into().ok())
                .ok_or_else(bad)?;
            let kp = Ed25519KeyPair::from_seed_unchecked(&seed).map_err(|_| bad())?;
            Ok(Key::Ed25519(kp, seed))
        } else {
            Err("decoding PEM as PKCS#8: x509: PKCS#8 wrapping contained private key with unknown algorithm".into())
        };
    }
    let Some(prefix) = kind.strip_suffix(" PRIVATE KEY") else {
        return Err(format!(
            "no private key data in PEM block of type {}",
            safe_type(&kind)
        ));
    };
    match prefix {
        "RSA" => RsaKeyPair::from_der(&der)
            .map(Key::Rsa)
            .map_err(|_| "parsing RSA private key from PEM: x509: invalid RSA private key".into()),
        "EC" => ec_from_sec1(&der, None).ok_or_else(|| {
            "parsing EC private key from PEM: x509: failed to parse EC private key".into()
        }),
        "DSA" => super::dsa::parse(&der)
            .map(|()| Key::Dsa)
            .ok_or_else(|| "parsing DSA private key from PEM: asn1: structure error".into()),
        _ => Err(format!("invalid private key type {}", safe_type(&kind))),
    }
}

/// A PEM block type is part of the argument: only well-known ones are echoed.
fn safe_type(kind: &str) -> &str {
    const KNOWN: &[&str] = &[
        "CERTIFICATE",
        "PUBLIC KEY",
        "RSA PUBLIC KEY",
        "CERTIFICATE REQUEST",
        "ENCRYPTED PRIVATE KEY",
        "OPENSSH PRIVATE KEY",
        "X509 CRL",
    ];
    KNOWN
        .iter()
        .find(|k| **k == kind)
        .copied()
        .unwrap_or("(other)")
}
