//! `b64enc`, `b64dec`, `b32enc`, `b32dec`: Go's `encoding/base64` and
//! `encoding/base32` standard encodings. sprig's decoders return the error
//! text as the result on bad input (it holds only an offset).

use crate::funcs::{Env, Func, FuncError, Type};
use crate::value::Value;

pub(super) const FUNCS: &[Func] = &[
    Func::new("b64enc", &[Type::String], b64enc),
    Func::new("b64dec", &[Type::String], b64dec),
    Func::new("b32enc", &[Type::String], b32enc),
    Func::new("b32dec", &[Type::String], b32dec),
];

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const PAD: u8 = b'=';

fn arg(args: &[Value]) -> Result<&[u8], FuncError> {
    match args.first() {
        Some(Value::String(s)) => Ok(s),
        _ => Err(FuncError::reason("wrong type for value; expected string")),
    }
}

fn b64enc(env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let src = arg(args)?;
    env.charge(src.len() / 3 * 4 + 4)?;
    Ok(Value::bytes(&base64_encode(src)))
}

fn b64dec(env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let src = arg(args)?;
    env.charge(src.len())?;
    Ok(match base64_decode(src) {
        Ok(data) => Value::bytes(&data),
        Err(at) => Value::string(format!("illegal base64 data at input byte {at}")),
    })
}

fn b32enc(env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let src = arg(args)?;
    env.charge(src.len() / 5 * 8 + 8)?;
    Ok(Value::bytes(&base32_encode(src)))
}

fn b32dec(env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let src = arg(args)?;
    env.charge(src.len())?;
    Ok(match base32_decode(src) {
        Ok(data) => Value::bytes(&data),
        Err(at) => Value::string(format!("illegal base32 data at input byte {at}")),
    })
}

pub(crate) fn base64_encode(src: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(src.len().div_ceil(3) * 4);
    for chunk in src.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize]);
            } else {
                out.push(PAD);
            }
        }
    }
    out
}

fn b64_value(c: u8) -> Option<u8> {
    B64.iter().position(|&x| x == c).map(|p| p as u8)
}

/// Go's `StdEncoding.DecodeString` (not strict: `\r` and `\n` are skipped,
/// unused trailing bits ignored). `Err` holds Go's error offset.
pub(crate) fn base64_decode(src: &[u8]) -> Result<Vec<u8>, usize> {
    let mut out = Vec::with_capacity(src.len() / 4 * 3 + 3);
    let mut si = 0;
    while si < src.len() {
        // One quantum of up to four symbols, as Go's decodeQuantum reads it.
        let mut buf = [0u8; 4];
        let mut len = 4;
        let mut j = 0;
        let mut trailing_err = None;
        while j < 4 {
            let Some(&c) = src.get(si) else {
                // Only newlines were left; otherwise padding was missing.
                return if j == 0 { Ok(out) } else { Err(si - j) };
            };
            si += 1;
            if let Some(v) = b64_value(c) {
                buf[j] = v;
                j += 1;
                continue;
            }
            if c == b'\n' || c == b'\r' {
                continue;
            }
            if c != PAD || j < 2 {
                return Err(si - 1);
            }
            if j == 2 {
                // "==" ends a quantum of two symbols.
                skip_newlines(src, &mut si);
                match src.get(si) {
                    None => return Err(src.len()),
                    Some(&c) if c != PAD => return Err(si - 1),
                    Some(_) => si += 1,
                }
            }
            skip_newlines(src, &mut si);
            if si < src.len() {
                trailing_err = Some(si);
            }
            len = j;
            break;
        }
        let val = u32::from(buf[0]) << 18
            | u32::from(buf[1]) << 12
            | u32::from(buf[2]) << 6
            | u32::from(buf[3]);
        let bytes = [(val >> 16) as u8, (val >> 8) as u8, val as u8];
        out.extend_from_slice(&bytes[..len - 1]);
        if let Some(at) = trailing_err {
            return Err(at);
        }
    }
    Ok(out)
}

fn skip_newlines(src: &[u8], si: &mut usize) {
    while matches!(src.get(*si), Some(b'\n' | b'\r')) {
        *si += 1;
    }
}

pub(crate) fn base32_encode(src: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(src.len().div_ceil(5) * 8);
    for chunk in src.chunks(5) {
        let mut b = [0u8; 5];
        b[..chunk.len()].copy_from_slice(chunk);
        let n = b.iter().fold(0u64, |acc, &x| acc << 8 | u64::from(x));
        // Symbols that carry input bits: ceil(bits / 5).
        let used = (chunk.len() * 8).div_ceil(5);
        for i in 0..8 {
            if i < used {
                out.push(B32[(n >> (35 - 5 * i) & 31) as usize]);
            } else {
                out.push(PAD);
            }
        }
    }
    out
}

/// Go's base32 `StdEncoding.DecodeString`: newlines are removed first, the
/// offsets count in the remaining bytes; input after the padding is ignored.
pub(crate) fn base32_decode(src: &[u8]) -> Result<Vec<u8>, usize> {
    let src: Vec<u8> = src
        .iter()
        .copied()
        .filter(|&c| c != b'\r' && c != b'\n')
        .collect();
    let olen = src.len();
    let mut rest: &[u8] = &src;
    let mut out = Vec::with_capacity(olen / 8 * 5 + 5);
    let mut end = false;
    while !rest.is_empty() && !end {
        let mut d = [0u8; 8];
        let mut len = 8;
        let mut j = 0;
        while j < 8 {
            let Some((&c, tail)) = rest.split_first() else {
                return Err(olen - j);
            };
            rest = tail;
            if c == PAD && j >= 2 && rest.len() < 8 {
                if rest.len() + j < 7 {
                    return Err(olen);
                }
                for k in 0..7 - j {
                    if rest.get(k).is_some_and(|&c| c != PAD) {
                        return Err(olen - rest.len() + k - 1);
                    }
                }
                len = j;
                end = true;
                if matches!(len, 1 | 3 | 6) {
                    return Err(olen - rest.len() - 1);
                }
                break;
            }
            match B32.iter().position(|&x| x == c) {
                Some(v) => d[j] = v as u8,
                None => return Err(olen - rest.len() - 1),
            }
            j += 1;
        }
        let bytes = [
            d[0] << 3 | d[1] >> 2,
            d[1] << 6 | d[2] << 1 | d[3] >> 4,
            d[3] << 4 | d[4] >> 1,
            d[4] << 7 | d[5] << 2 | d[6] >> 3,
            d[6] << 5 | d[7],
        ];
        let n = match len {
            8 => 5,
            7 => 4,
            5 => 3,
            4 => 2,
            2 => 1,
            _ => 0,
        };
        out.extend_from_slice(&bytes[..n]);
    }
    Ok(out)
}

#[cfg(feature = "sprig-crypto")]
/// Go's `base64.StdEncoding.EncodeToString`.
pub(super) fn go_base64_encode(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

#[cfg(feature = "sprig-crypto")]
/// Go's `base64.StdEncoding.DecodeString`, with its error offsets: padding
/// required, `\r` and `\n` skipped, trailing bits ignored.
pub(super) fn go_base64_decode(src: &[u8]) -> Result<Vec<u8>, FuncError> {
    let corrupt = |at: usize| FuncError::reason(format!("illegal base64 data at input byte {at}"));
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let is_nl = |c: u8| c == b'\n' || c == b'\r';
    let mut out = Vec::with_capacity(src.len() / 4 * 3);
    let mut si = 0;
    while si < src.len() {
        let mut quad = [0u32; 4];
        let mut len = 4;
        let mut j = 0;
        let mut trailing = None;
        while j < 4 {
            let Some(&c) = src.get(si) else {
                if j == 0 {
                    return Ok(out);
                }
                return Err(corrupt(si - j));
            };
            si += 1;
            if let Some(v) = value(c) {
                quad[j] = v;
                j += 1;
                continue;
            }
            if is_nl(c) {
                continue;
            }
            if c != b'=' || j < 2 {
                return Err(corrupt(si - 1));
            }
            if j == 2 {
                while src.get(si).is_some_and(|&c| is_nl(c)) {
                    si += 1;
                }
                match src.get(si) {
                    None => return Err(corrupt(src.len())),
                    Some(b'=') => si += 1,
                    Some(_) => return Err(corrupt(si - 1)),
                }
            }
            while src.get(si).is_some_and(|&c| is_nl(c)) {
                si += 1;
            }
            if si < src.len() {
                trailing = Some(si);
            }
            len = j;
            break;
        }
        let v = quad[0] << 18 | quad[1] << 12 | quad[2] << 6 | quad[3];
        out.extend_from_slice(&[(v >> 16) as u8, (v >> 8) as u8, v as u8][..len - 1]);
        if let Some(at) = trailing {
            return Err(corrupt(at));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[cfg(feature = "sprig-crypto")]
    use super::go_base64_decode;
    use crate::sprig::testing::call;
    use crate::value::Value;

    fn str_of(name: &str, arg: &[u8]) -> Vec<u8> {
        match call(name, &[Value::bytes(arg)]) {
            Ok(Value::String(b)) => b.to_vec(),
            other => panic!("{name}: {other:?}"),
        }
    }

    // Expected values from Go 1.26 + sprig v3.3.0.
    #[test]
    fn base64() {
        let cases: &[(&str, &[u8], &[u8])] = &[
            ("b64enc", b"", b""),
            ("b64enc", b"a", b"YQ=="),
            ("b64enc", b"ab", b"YWI="),
            ("b64enc", b"abc", b"YWJj"),
            ("b64enc", b"\xff\xfe\xfd\xfc", b"//79/A=="),
        ];
        for (f, i, o) in cases {
            assert_eq!(str_of(f, i), o.to_vec(), "{f} {i:?}");
        }
    }

    #[test]
    fn base64_decode() {
        for (i, o) in GO_B64DEC {
            assert_eq!(
                String::from_utf8_lossy(&str_of("b64dec", i.as_bytes())),
                *o,
                "{i:?}"
            );
        }
    }

    #[test]
    fn base32() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"", b""),
            (b"a", b"ME======"),
            (b"ab", b"MFRA===="),
            (b"abc", b"MFRGG==="),
            (b"abcd", b"MFRGGZA="),
            (b"abcde", b"MFRGGZDF"),
            (b"abcdef", b"MFRGGZDFMY======"),
        ];
        for (i, o) in cases {
            assert_eq!(str_of("b32enc", i), o.to_vec(), "{i:?}");
        }
        for (i, o) in GO_B32DEC {
            assert_eq!(
                String::from_utf8_lossy(&str_of("b32dec", i.as_bytes())),
                *o,
                "{i:?}"
            );
        }
    }

    const GO_B64DEC: &[(&str, &str)] = &[
        ("", ""),
        ("YQ==", "a"),
        ("YWI=", "ab"),
        ("YWJj", "abc"),
        ("YWJj\n", "abc"),
        ("Y\nWJj", "abc"),
        ("YWJjZA==", "abcd"),
        ("YWJjZA=", "illegal base64 data at input byte 7"),
        ("YWJjZA", "illegal base64 data at input byte 4"),
        ("YWJjZ", "illegal base64 data at input byte 4"),
        ("YWJ$", "illegal base64 data at input byte 3"),
        ("YQ==YQ==", "illegal base64 data at input byte 4"),
        ("YQ==\n\r", "a"),
        ("YQ=\n=", "a"),
        ("YQ=x", "illegal base64 data at input byte 2"),
        ("Y===", "illegal base64 data at input byte 1"),
        ("====", "illegal base64 data at input byte 0"),
        ("=", "illegal base64 data at input byte 0"),
        ("YQ", "illegal base64 data at input byte 0"),
        ("YR==", "a"),
        ("YWJjZGVmZ2hpamtsbW5vcA==", "abcdefghijklmnop"),
        (
            "YWJjZGVmZ2hpamtsbW5vcA=\n",
            "illegal base64 data at input byte 24",
        ),
        ("\n\n", ""),
        ("YWI=\nx", "illegal base64 data at input byte 5"),
        ("YWJj\nYQ", "illegal base64 data at input byte 5"),
        ("//79/A==", "\u{fffd}\u{fffd}\u{fffd}\u{fffd}"),
        (
            "YWJjZGVmZ2hp$mtsbW5vcA==",
            "illegal base64 data at input byte 12",
        ),
    ];
    const GO_B32DEC: &[(&str, &str)] = &[
        ("", ""),
        ("ME======", "a"),
        ("MFRA====", "ab"),
        ("MFRGG===", "abc"),
        ("MFRGGZA=", "abcd"),
        ("MFRGGZDF", "abcde"),
        ("MFRGGZDFMY======", "abcdef"),
        ("MFRGG===x", "abc"),
        ("MFRGG==", "illegal base32 data at input byte 7"),
        ("MFRGG=", "illegal base32 data at input byte 6"),
        ("M=======", "illegal base32 data at input byte 1"),
        ("MFR=====", "illegal base32 data at input byte 3"),
        ("MFRGGZ==", "illegal base32 data at input byte 6"),
        ("ME=====", "illegal base32 data at input byte 7"),
        ("ME======ME======", "illegal base32 data at input byte 2"),
        ("me======", "illegal base32 data at input byte 0"),
        ("MFRGGZDF\nMFRGGZDF", "abcdeabcde"),
        ("1FRGGZDF", "illegal base32 data at input byte 0"),
        ("MFRGG=x=", "illegal base32 data at input byte 5"),
        ("MFRGGZD", "illegal base32 data at input byte 0"),
        ("\n", ""),
        ("MFRGGZDFM", "illegal base32 data at input byte 8"),
        ("ME======\n", "a"),
    ];

    // The decoder the crypto functions use (b64dec has its own).
    #[cfg(feature = "sprig-crypto")]
    #[test]
    fn base64_errors_like_go() {
        let e = |t: &str| go_base64_decode(t.as_bytes()).map_err(|e| e.to_string());
        assert_eq!(e("YQ==").unwrap(), b"a");
        assert_eq!(e("YW\nJj").unwrap(), b"abc");
        assert_eq!(e("YQ=").unwrap_err(), "illegal base64 data at input byte 3");
        assert_eq!(
            e("YQ==YQ==").unwrap_err(),
            "illegal base64 data at input byte 4"
        );
        assert_eq!(e("Y").unwrap_err(), "illegal base64 data at input byte 0");
        assert_eq!(e("Y!").unwrap_err(), "illegal base64 data at input byte 1");
    }
}
