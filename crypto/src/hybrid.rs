use std::sync::atomic::{AtomicU64, Ordering};

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::rsa::OAEP_SHA256_MGF1SHA256;
use zeroize::Zeroizing;

use crate::{Error, Fingerprint, Plaintext, PrivateKey, PublicKey, Result};

const SESSION_KEY_LEN: usize = 32;
const LEN_PREFIX: usize = 2;

/// Seals `plaintext` for `public_key` under an OAEP `label` (see [`crate::Scope::label`]).
pub fn seal(public_key: &PublicKey, plaintext: &[u8], label: &[u8]) -> Result<Vec<u8>> {
    let mut session_key = Zeroizing::new([0u8; SESSION_KEY_LEN]);
    SystemRandom::new()
        .fill(session_key.as_mut())
        .map_err(|_| Error::Encrypt("no randomness for the session key"))?;

    let oaep = public_key.oaep();
    let mut rsa_ct = vec![0u8; oaep.ciphertext_size()];
    let rsa_len = oaep
        .encrypt(
            &OAEP_SHA256_MGF1SHA256,
            session_key.as_ref(),
            &mut rsa_ct,
            Some(label),
        )
        .map_err(|_| Error::Encrypt("RSA-OAEP failed"))?
        .len();
    rsa_ct.truncate(rsa_len);
    let prefix = u16::try_from(rsa_len).map_err(|_| Error::Encrypt("RSA key too large"))?;

    let mut out = Vec::with_capacity(LEN_PREFIX + rsa_len + plaintext.len() + 16);
    out.extend_from_slice(&prefix.to_be_bytes());
    out.extend_from_slice(&rsa_ct);
    let body_start = out.len();
    out.extend_from_slice(plaintext);

    let key = session_cipher(session_key.as_ref())?;
    let mut body = out.split_off(body_start);
    key.seal_in_place_append_tag(zero_nonce(), Aad::empty(), &mut body)
        .map_err(|_| Error::Encrypt("AES-GCM failed"))?;
    out.extend_from_slice(&body);
    Ok(out)
}

/// RSA private-key operations (OAEP decryptions) this process has done: the
/// expensive step, counted so a controller can show it does none needlessly.
static RSA_DECRYPTIONS: AtomicU64 = AtomicU64::new(0);

/// How many RSA private-key operations this process has done so far.
pub fn rsa_decryptions() -> u64 {
    RSA_DECRYPTIONS.load(Ordering::Relaxed)
}

/// Opens a sealed value with one key.
pub fn open(private_key: &PrivateKey, ciphertext: &[u8], label: &[u8]) -> Result<Plaintext> {
    let (rsa_ct, aes_ct) = split(ciphertext)?;
    let oaep = private_key.oaep();
    RSA_DECRYPTIONS.fetch_add(1, Ordering::Relaxed);
    let mut session_key = Zeroizing::new(vec![0u8; oaep.min_output_size()]);
    let key_len = oaep
        .decrypt(
            &OAEP_SHA256_MGF1SHA256,
            rsa_ct,
            &mut session_key,
            Some(label),
        )
        .map_err(|_| Error::NoKeyCouldDecrypt)?
        .len();
    if key_len != SESSION_KEY_LEN {
        return Err(Error::NoKeyCouldDecrypt);
    }
    let key = session_cipher(&session_key[..SESSION_KEY_LEN])?;
    let mut buf = Zeroizing::new(aes_ct.to_vec());
    let plain_len = key
        .open_in_place(zero_nonce(), Aad::empty(), &mut buf)
        .map_err(|_| Error::NoKeyCouldDecrypt)?
        .len();
    buf.truncate(plain_len);
    Ok(buf)
}

/// Whether `private_key` opens the RSA part of a sealed value (the session
/// key) under `label`: which key a value needs, without decrypting the value
/// itself. The session key is wiped at once.
pub fn opens_session_key(private_key: &PrivateKey, ciphertext: &[u8], label: &[u8]) -> bool {
    let Ok((rsa_ct, _)) = split(ciphertext) else {
        return false;
    };
    let oaep = private_key.oaep();
    let mut session_key = Zeroizing::new(vec![0u8; oaep.min_output_size()]);
    RSA_DECRYPTIONS.fetch_add(1, Ordering::Relaxed);
    oaep.decrypt(
        &OAEP_SHA256_MGF1SHA256,
        rsa_ct,
        &mut session_key,
        Some(label),
    )
    .is_ok_and(|key| key.len() == SESSION_KEY_LEN)
}

fn split(ciphertext: &[u8]) -> Result<(&[u8], &[u8])> {
    let [hi, lo, rest @ ..] = ciphertext else {
        return Err(Error::TooShort);
    };
    let rsa_len = usize::from(u16::from_be_bytes([*hi, *lo]));
    if rest.len() < rsa_len {
        return Err(Error::TooShort);
    }
    Ok(rest.split_at(rsa_len))
}

fn session_cipher(key: &[u8]) -> Result<LessSafeKey> {
    let unbound =
        UnboundKey::new(&AES_256_GCM, key).map_err(|_| Error::Encrypt("bad AES key length"))?;
    Ok(LessSafeKey::new(unbound))
}

// The session key is fresh for every value, so a fixed nonce never repeats under one key.
fn zero_nonce() -> Nonce {
    Nonce::assume_unique_for_key([0u8; NONCE_LEN])
}

/// What [`KeyRing::open`] returns: the plaintext and which key opened it.
#[derive(Debug)]
pub struct Opened<'a> {
    pub plaintext: Plaintext,
    pub fingerprint: &'a Fingerprint,
}

/// Every key a controller holds, newest first. Opening tries a preferred key
/// (the one that worked last time) first, then newest to oldest, so a long
/// history of rotated keys costs one RSA operation in the common case.
#[derive(Debug, Clone, Default)]
pub struct KeyRing {
    keys: Vec<PrivateKey>,
}

impl KeyRing {
    /// `keys` in any order of preference: newest first is what sealing expects.
    pub fn new(keys: Vec<PrivateKey>) -> Self {
        let mut ring = Self {
            keys: Vec::with_capacity(keys.len()),
        };
        for key in keys {
            ring.push(key);
        }
        ring
    }

    /// Adds a key at the end (oldest); duplicates are ignored.
    pub fn push(&mut self, key: PrivateKey) {
        if !self
            .keys
            .iter()
            .any(|k| k.fingerprint() == key.fingerprint())
        {
            self.keys.push(key);
        }
    }

    pub fn keys(&self) -> &[PrivateKey] {
        &self.keys
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn get(&self, fingerprint: &Fingerprint) -> Option<&PrivateKey> {
        self.keys.iter().find(|k| k.fingerprint() == fingerprint)
    }

    /// Opens with the preferred key first, then every key in ring order.
    pub fn open(
        &self,
        ciphertext: &[u8],
        label: &[u8],
        preferred: Option<&Fingerprint>,
    ) -> Result<Opened<'_>> {
        if self.keys.is_empty() {
            return Err(Error::NoKeys);
        }
        split(ciphertext)?;
        let first = preferred.and_then(|fp| self.get(fp));
        let rest = self
            .keys
            .iter()
            .filter(|k| Some(k.fingerprint()) != first.map(PrivateKey::fingerprint));
        for key in first.into_iter().chain(rest) {
            if let Ok(plaintext) = open(key, ciphertext, label) {
                return Ok(Opened {
                    plaintext,
                    fingerprint: key.fingerprint(),
                });
            }
        }
        Err(Error::NoKeyCouldDecrypt)
    }
}
