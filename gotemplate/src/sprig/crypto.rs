//! sprig's hashes, password functions, AES, random bytes and UUIDs
//! (crypto.go). Keys and certificates are in `certs.rs`.

pub(super) mod certs;
mod der;
mod dsa;
mod keys;

use aws_lc_rs::{digest, hmac, rand};

use crate::funcs::{Env, Func, FuncError, Type};
use crate::sprig::args::{arg_int, arg_str};
use crate::sprig::encoding::{go_base64_decode, go_base64_encode};
use crate::value::Value;

pub(super) const FUNCS: &[Func] = &[
    Func::new("sha1sum", &[Type::String], sha1sum),
    Func::new("sha256sum", &[Type::String], sha256sum),
    Func::new("sha512sum", &[Type::String], sha512sum),
    Func::new("adler32sum", &[Type::String], adler32sum),
    Func::new("bcrypt", &[Type::String], bcrypt_fn),
    Func::new("htpasswd", &[Type::String, Type::String], htpasswd),
    Func::new(
        "derivePassword",
        &[
            Type::Uint32,
            Type::String,
            Type::String,
            Type::String,
            Type::String,
        ],
        derive_password,
    ),
    Func::new("encryptAES", &[Type::String, Type::String], encrypt_aes),
    Func::new("decryptAES", &[Type::String, Type::String], decrypt_aes),
    Func::new("randBytes", &[Type::Int], rand_bytes),
    Func::new("uuidv4", &[], uuidv4),
];

fn hex(bytes: &[u8]) -> Value {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)]);
        out.push(DIGITS[usize::from(b & 15)]);
    }
    Value::bytes(&out)
}

fn hash(
    env: &mut Env<'_>,
    args: &[Value],
    alg: &'static digest::Algorithm,
) -> Result<Value, FuncError> {
    let input = arg_str(args, 0)?;
    env.charge(256)?;
    Ok(hex(digest::digest(alg, input).as_ref()))
}

fn sha1sum(env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    hash(env, args, &digest::SHA1_FOR_LEGACY_USE_ONLY)
}

fn sha256sum(env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    hash(env, args, &digest::SHA256)
}

fn sha512sum(env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    hash(env, args, &digest::SHA512)
}

fn adler32sum(_env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    const MOD: u32 = 65521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 bytes keep the sums below 2^32 before reducing (zlib's NMAX).
    for chunk in arg_str(args, 0)?.chunks(5552) {
        for &byte in chunk {
            a += u32::from(byte);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    Ok(Value::string(((b << 16) | a).to_string()))
}

/// golang.org/x/crypto/bcrypt's `GenerateFromPassword` at the default cost 10.
fn bcrypt_hash(password: &[u8]) -> Vec<u8> {
    if password.len() > 72 {
        return b"failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes"
            .to_vec();
    }
    match bcrypt::hash_with_result(password, 10) {
        Ok(parts) => parts.format_for_version(bcrypt::Version::TwoA).into_bytes(),
        Err(_) => b"failed to encrypt string with bcrypt: bcrypt: internal error".to_vec(),
    }
}

fn bcrypt_fn(_env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::bytes(&bcrypt_hash(arg_str(args, 0)?)))
}

fn htpasswd(env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let user = arg_str(args, 0)?;
    let password = arg_str(args, 1)?;
    env.charge(user.len() + 128)?;
    let mut out = Vec::new();
    if user.contains(&b':') {
        out.extend_from_slice(b"invalid username: ");
        out.extend_from_slice(user);
    } else {
        out.extend_from_slice(user);
        out.push(b':');
        out.extend_from_slice(&bcrypt_hash(password));
    }
    Ok(Value::bytes(&out))
}

/// Master Password's templates, by password type.
fn password_templates(kind: &[u8]) -> Option<&'static [&'static [u8]]> {
    Some(match kind {
        b"maximum" => &[b"anoxxxxxxxxxxxxxxxxx", b"axxxxxxxxxxxxxxxxxno"],
        b"long" => &[
            b"CvcvnoCvcvCvcv",
            b"CvcvCvcvnoCvcv",
            b"CvcvCvcvCvcvno",
            b"CvccnoCvcvCvcv",
            b"CvccCvcvnoCvcv",
            b"CvccCvcvCvcvno",
            b"CvcvnoCvccCvcv",
            b"CvcvCvccnoCvcv",
            b"CvcvCvccCvcvno",
            b"CvcvnoCvcvCvcc",
            b"CvcvCvcvnoCvcc",
            b"CvcvCvcvCvccno",
            b"CvccnoCvccCvcv",
            b"CvccCvccnoCvcv",
            b"CvccCvccCvcvno",
            b"CvcvnoCvccCvcc",
            b"CvcvCvccnoCvcc",
            b"CvcvCvccCvccno",
            b"CvccnoCvcvCvcc",
            b"CvccCvcvnoCvcc",
            b"CvccCvcvCvccno",
        ],
        b"medium" => &[b"CvcnoCvc", b"CvcCvcno"],
        b"short" => &[b"Cvcn"],
        b"basic" => &[b"aaanaaan", b"aannaaan", b"aaannaaa"],
        b"pin" => &[b"nnnn"],
        _ => return None,
    })
}

fn template_chars(class: u8) -> &'static [u8] {
    match class {
        b'V' => b"AEIOU",
        b'C' => b"BCDFGHJKLMNPQRSTVWXYZ",
        b'v' => b"aeiou",
        b'c' => b"bcdfghjklmnpqrstvwxyz",
        b'A' => b"AEIOUBCDFGHJKLMNPQRSTVWXYZ",
        b'a' => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
        b'n' => b"0123456789",
        b'o' => b"@&%?,=[]_:-+*$#!'^~;()/.",
        _ => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
    }
}

const MASTER_PASSWORD_SEED: &[u8] = b"com.lyndir.masterpassword";

/// The Master Password algorithm: scrypt(N=32768, r=8, p=2) of the password
/// salted with the user, then HMAC-SHA256 of the site picks the characters.
fn derive_password(env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let counter = match args.first() {
        Some(Value::Uint32(c)) => *c,
        _ => return Err(FuncError::reason("wrong type for value; expected uint32")),
    };
    let kind = arg_str(args, 1)?;
    let password = arg_str(args, 2)?;
    let user = arg_str(args, 3)?;
    let site = arg_str(args, 4)?;
    let Some(templates) = password_templates(kind) else {
        env.charge(kind.len() + 64)?;
        let mut out = b"cannot find password template ".to_vec();
        out.extend_from_slice(kind);
        return Ok(Value::bytes(&out));
    };
    // scrypt's 32 MiB of working memory is fixed and freed on return: not charged
    // to the budget of values (time bounds repeated calls).
    env.charge(64)?;
    let mut salt = MASTER_PASSWORD_SEED.to_vec();
    // Go writes uint32(len): lengths past 4 GiB wrap the same way.
    salt.extend_from_slice(&(user.len() as u32).to_be_bytes());
    salt.extend_from_slice(user);
    let mut key = [0u8; 64];
    let params = scrypt::Params::new(15, 8, 2, 64)
        .map_err(|_| FuncError::reason("failed to derive password"))?;
    scrypt::scrypt(password, &salt, &params, &mut key)
        .map_err(|_| FuncError::reason("failed to derive password"))?;

    let mut message = MASTER_PASSWORD_SEED.to_vec();
    message.extend_from_slice(&(site.len() as u32).to_be_bytes());
    message.extend_from_slice(site);
    message.extend_from_slice(&counter.to_be_bytes());
    let seed = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &key), &message);
    let seed = seed.as_ref();
    let pick = |i: usize| usize::from(seed.get(i).copied().unwrap_or(0));
    let template = templates[pick(0) % templates.len()];
    let out: Vec<u8> = template
        .iter()
        .enumerate()
        .map(|(i, &class)| {
            let chars = template_chars(class);
            chars[pick(i + 1) % chars.len()]
        })
        .collect();
    Ok(Value::bytes(&out))
}

/// sprig's AES key: the password's first 32 bytes, zero-padded (AES-256).
fn aes_key(password: &[u8]) -> aes::Aes256 {
    use aes::cipher::KeyInit;
    let mut key = [0u8; 32];
    let n = password.len().min(32);
    key[..n].copy_from_slice(&password[..n]);
    aes::Aes256::new(&key.into())
}

/// AES-256-CBC with a random IV in front and PKCS#7 padding, in base64.
fn encrypt_aes(env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    use aes::cipher::BlockEncrypt;
    let password = arg_str(args, 0)?;
    let plain = arg_str(args, 1)?;
    if plain.is_empty() {
        return Ok(Value::str(""));
    }
    env.charge(plain.len().saturating_mul(3).saturating_add(64))?;
    let cipher = aes_key(password);
    let pad = 16 - plain.len() % 16;
    let mut data = vec![0u8; 16];
    rand::fill(&mut data).map_err(|_| FuncError::reason("crypto/rand: read failed"))?;
    data.extend_from_slice(plain);
    data.extend(std::iter::repeat_n(pad as u8, pad));
    let mut prev = [0u8; 16];
    prev.copy_from_slice(&data[..16]);
    for block in data[16..].chunks_exact_mut(16) {
        for (b, p) in block.iter_mut().zip(prev) {
            *b ^= p;
        }
        cipher.encrypt_block(block.into());
        prev.copy_from_slice(block);
    }
    Ok(Value::string(go_base64_encode(&data)))
}

fn decrypt_aes(env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    use aes::cipher::BlockDecrypt;
    let password = arg_str(args, 0)?;
    let text = arg_str(args, 1)?;
    if text.is_empty() {
        return Ok(Value::str(""));
    }
    env.charge(text.len().saturating_mul(2))?;
    let data = go_base64_decode(text)?;
    let cipher = aes_key(password);
    if data.len() < 16 {
        return Err(FuncError::reason(format!(
            "runtime error: slice bounds out of range [:16] with capacity {}",
            data.len()
        )));
    }
    let (iv, body) = data.split_at(16);
    if body.len() % 16 != 0 {
        return Err(FuncError::reason("crypto/cipher: input not full blocks"));
    }
    let mut out = body.to_vec();
    let mut prev: &[u8] = iv;
    for (block, orig) in out.chunks_exact_mut(16).zip(body.chunks_exact(16)) {
        cipher.decrypt_block(block.into());
        for (b, p) in block.iter_mut().zip(prev) {
            *b ^= p;
        }
        prev = orig;
    }
    let Some(&last) = out.last() else {
        return Err(FuncError::reason("runtime error: index out of range [-1]"));
    };
    // sprig trusts the padding byte; Go panics when it exceeds the length.
    // The bound Go prints derives from the plaintext, so it is left out.
    let Some(keep) = out.len().checked_sub(usize::from(last)) else {
        return Err(FuncError::reason(
            "runtime error: slice bounds out of range",
        ));
    };
    out.truncate(keep);
    Ok(Value::bytes(&out))
}

fn rand_bytes(env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let count = arg_int(args, 0)?;
    let Ok(count) = usize::try_from(count) else {
        return Err(FuncError::reason(
            "runtime error: makeslice: len out of range",
        ));
    };
    env.charge(count.saturating_mul(3))?;
    let mut buf = vec![0u8; count];
    rand::fill(&mut buf).map_err(|_| FuncError::reason("crypto/rand: read failed"))?;
    Ok(Value::string(go_base64_encode(&buf)))
}

/// google/uuid's `New().String()`: random, version 4, RFC 4122 variant.
fn uuidv4(env: &mut Env<'_>, _args: &[Value]) -> Result<Value, FuncError> {
    env.charge(64)?;
    let mut b = [0u8; 16];
    rand::fill(&mut b).map_err(|_| FuncError::reason("crypto/rand: read failed"))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut out = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push_str(&format!("{byte:02x}"));
    }
    Ok(Value::string(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sprig::testing::{call, s};

    fn out(name: &str, args: &[Value]) -> String {
        match call(name, args) {
            Ok(Value::String(b)) => String::from_utf8_lossy(&b).into_owned(),
            other => panic!("{name}: {other:?}"),
        }
    }

    fn err(name: &str, args: &[Value]) -> String {
        match call(name, args) {
            Err(FuncError::Reason(r)) => r.into_owned(),
            other => panic!("{name}: {other:?}"),
        }
    }

    #[test]
    fn hashes() {
        assert_eq!(
            out("sha1sum", &[s("")]),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
        assert_eq!(
            out("sha256sum", &[s("abc")]),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(out("sha512sum", &[s("abc")]), "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
        assert_eq!(out("adler32sum", &[s("")]), "1");
        assert_eq!(out("adler32sum", &[s("Wikipedia")]), "300286872");
        assert_eq!(out("adler32sum", &[s("hello world héllo")]), "1155794840");
    }

    // scrypt is slow without optimizations: a few cases only (more were checked
    // against Go: basic "" "" "" -> tLA7wHk7, pin 7 a b c -> 0786, short 2 a b c -> Fuz6).
    #[test]
    fn derive_password_matches_go() {
        let d = |c: u32, k: &str, p: &str, u: &str, site: &str| {
            out(
                "derivePassword",
                &[Value::Uint32(c), s(k), s(p), s(u), s(site)],
            )
        };
        assert_eq!(
            d(1, "long", "password", "user", "example.com"),
            "ZedaFaxcZaso9*"
        );
        assert_eq!(
            d(1, "maximum", "password", "user", "example.com"),
            "pf4zS1LjCg&LjhsZ7T2~"
        );
        assert_eq!(d(3, "medium", "pw", "üser", "site"), "Sac3:Siw");
        assert_eq!(
            d(1, "nope", "a", "b", "c"),
            "cannot find password template nope"
        );
    }

    #[test]
    fn bcrypt_and_htpasswd() {
        let h = out("bcrypt", &[s("")]);
        assert_eq!(h.len(), 60);
        assert!(h.starts_with("$2a$10$"));
        assert!(bcrypt::verify("", &h).unwrap());
        assert_eq!(
            out("bcrypt", &[s(&"0".repeat(73))]),
            "failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes"
        );
        assert_eq!(
            out("htpasswd", &[s("a:b"), s("x")]),
            "invalid username: a:b"
        );
        let h = out("htpasswd", &[s("me"), s("x")]);
        assert!(h.starts_with("me:$2a$10$") && h.len() == 63);
    }

    #[test]
    fn aes() {
        assert_eq!(out("decryptAES", &[s("k"), s("")]), "");
        assert_eq!(out("encryptAES", &[s("k"), s("")]), "");
        // Made by Go.
        assert_eq!(
            out(
                "decryptAES",
                &[
                    s("mykey"),
                    s("tiXSPG6I6OX05w6yXWhQ41pumpCTiLzLjrNQlMlCAqI=")
                ]
            ),
            "hello world"
        );
        let long = "0123456789012345678901234567890123456789";
        let c = out("encryptAES", &[s(long), s("exactly sixteen!")]);
        assert_eq!(go_base64_decode(c.as_bytes()).unwrap().len(), 48);
        assert_eq!(out("decryptAES", &[s(long), s(&c)]), "exactly sixteen!");
        assert_eq!(
            err("decryptAES", &[s("k"), s("abc")]),
            "illegal base64 data at input byte 0"
        );
        assert_eq!(
            err("decryptAES", &[s("k"), s("YWJj")]),
            "runtime error: slice bounds out of range [:16] with capacity 3"
        );
        assert_eq!(
            err("decryptAES", &[s("k"), s("MDEyMzQ1Njc4OWFiY2RlZg==")]),
            "runtime error: index out of range [-1]"
        );
        assert_eq!(
            err(
                "decryptAES",
                &[s("k"), s("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")]
            ),
            "runtime error: slice bounds out of range"
        );
        assert_eq!(
            err(
                "decryptAES",
                &[s("k"), s("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYw")]
            ),
            "crypto/cipher: input not full blocks"
        );
    }

    #[test]
    fn random() {
        assert_eq!(out("randBytes", &[Value::Int(0)]), "");
        assert_eq!(out("randBytes", &[Value::Int(5)]).len(), 8);
        assert_eq!(
            err("randBytes", &[Value::Int(-1)]),
            "runtime error: makeslice: len out of range"
        );
        let u = out("uuidv4", &[]);
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
    }
}
