//! Go literals: `strconv.Unquote` for strings and characters, and Go's rules
//! for numeric constants (`ParseInt`/`ParseUint` with base 0, `ParseFloat`).

use super::lex::ItemKind;
use super::node::Number;

/// `strconv.Unquote`: the bytes of a quoted Go string, raw string or character.
pub fn unquote(quoted: &str) -> Option<Vec<u8>> {
    let bytes = quoted.as_bytes();
    if bytes.len() < 2 {
        return None;
    }
    let (open, close) = (bytes[0], bytes[bytes.len() - 1]);
    if open != close {
        return None;
    }
    let body = &quoted[1..quoted.len() - 1];
    match open {
        b'`' => {
            if body.contains('`') {
                return None;
            }
            Some(body.replace('\r', "").into_bytes())
        }
        b'"' | b'\'' => {
            let mut out = Vec::new();
            let mut chars = body.chars().peekable();
            let mut count = 0;
            while let Some(c) = chars.next() {
                count += 1;
                if c == open as char || c == '\n' {
                    return None;
                }
                if c != '\\' {
                    let mut buf = [0; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    continue;
                }
                let e = chars.next()?;
                match e {
                    'a' => out.push(7),
                    'b' => out.push(8),
                    'f' => out.push(12),
                    'n' => out.push(b'\n'),
                    'r' => out.push(b'\r'),
                    't' => out.push(b'\t'),
                    'v' => out.push(11),
                    '\\' => out.push(b'\\'),
                    '\'' if open == b'\'' => out.push(b'\''),
                    '"' if open == b'"' => out.push(b'"'),
                    'x' | 'u' | 'U' => {
                        let n = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let mut v: u32 = 0;
                        for _ in 0..n {
                            v = v * 16 + chars.next()?.to_digit(16)?;
                        }
                        if e == 'x' {
                            if open == b'\'' {
                                // A character constant holds a rune, not a byte.
                                push_rune(&mut out, v)?;
                            } else {
                                out.push(v as u8);
                            }
                        } else {
                            push_rune(&mut out, v)?;
                        }
                    }
                    '0'..='7' => {
                        let mut v = e.to_digit(8)?;
                        for _ in 0..2 {
                            v = v * 8 + chars.next()?.to_digit(8)?;
                        }
                        if v > 255 {
                            return None;
                        }
                        if open == b'\'' {
                            push_rune(&mut out, v)?;
                        } else {
                            out.push(v as u8);
                        }
                    }
                    _ => return None,
                }
            }
            if open == b'\'' && count != 1 {
                return None;
            }
            Some(out)
        }
        _ => None,
    }
}

fn push_rune(out: &mut Vec<u8>, v: u32) -> Option<()> {
    let c = char::from_u32(v)?;
    let mut buf = [0; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    Some(())
}

/// Go's `NumberNode` for a number, character or complex constant.
pub fn parse(text: &str, kind: ItemKind) -> Result<Number, String> {
    let mut n = Number {
        text: text.to_string(),
        int: None,
        uint: None,
        float: None,
        complex: None,
    };
    match kind {
        ItemKind::CharConstant => {
            let bytes = unquote(text).ok_or_else(|| "invalid syntax".to_string())?;
            let s = String::from_utf8(bytes).map_err(|_| "invalid syntax".to_string())?;
            let mut chars = s.chars();
            let (Some(c), None) = (chars.next(), chars.next()) else {
                return Err(format!("malformed character constant: {text}"));
            };
            n.int = Some(i64::from(u32::from(c)));
            n.uint = Some(u64::from(u32::from(c)));
            n.float = Some(f64::from(u32::from(c)));
            return Ok(n);
        }
        ItemKind::Complex => {
            let (re, im) = sscan_complex(text)?;
            return Ok(simplify_complex(n, re, im));
        }
        _ => {}
    }
    // Go parses the part before `i` with `ParseFloat` only: `0x10i` and
    // `0b1i` fall through and are refused below.
    if let Some(imaginary) = text.strip_suffix('i') {
        if let Some(im) = parse_float(imaginary) {
            return Ok(simplify_complex(n, 0.0, im));
        }
    }
    n.uint = parse_uint(text);
    n.int = parse_int(text);
    if n.int == Some(0) {
        n.uint = Some(0);
    }
    if let Some(i) = n.int {
        n.float = Some(i as f64);
    } else if let Some(u) = n.uint {
        n.float = Some(u as f64);
    } else if let Some(f) = parse_float(text) {
        if !text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Err(format!("integer overflow: {text:?}"));
        }
        n.float = Some(f);
        if f.fract() == 0.0 && (-9.223372036854776e18..9.223372036854776e18).contains(&f) {
            n.int = Some(f as i64);
        }
        if f.fract() == 0.0 && (0.0..1.8446744073709552e19).contains(&f) {
            n.uint = Some(f as u64);
        }
    }
    if n.int.is_none() && n.uint.is_none() && n.float.is_none() {
        return Err(format!("illegal number syntax: {text:?}"));
    }
    Ok(n)
}

/// Go's `simplifyComplex`: a complex constant with no imaginary part is also
/// a float, and an int when integral; it stays complex (`{{ 0i }}` prints
/// `(0+0i)`), as an argument of a numeric type it converts.
fn simplify_complex(mut n: Number, re: f64, im: f64) -> Number {
    n.complex = Some((re, im));
    if im == 0.0 {
        n.float = Some(re);
        if re.fract() == 0.0 && (-9.223372036854776e18..9.223372036854776e18).contains(&re) {
            n.int = Some(re as i64);
        }
        if re.fract() == 0.0 && (0.0..1.8446744073709552e19).contains(&re) {
            n.uint = Some(re as u64);
        }
    }
    n
}

/// `fmt.Sscan` into a `complex128`, as Go's parser reads `1+2i`: the
/// tokens of `complexTokens`, each converted with `ParseFloat`.
fn sscan_complex(text: &str) -> Result<(f64, f64), String> {
    const ERR_COMPLEX: &str = "syntax error scanning complex number";
    let b = text.as_bytes();
    let mut pos = 0;
    let accept = |pos: &mut usize, set: &[u8]| -> bool {
        match b.get(*pos) {
            Some(c) if set.contains(c) => {
                *pos += 1;
                true
            }
            _ => false,
        }
    };
    let parens = accept(&mut pos, b"(");
    let float_token = |pos: &mut usize| -> String {
        let start = *pos;
        accept(pos, b"+-");
        let (mut digits, mut exp): (&[u8], &[u8]) = (b"0123456789_", b"eEpP");
        if accept(pos, b"0") && accept(pos, b"xX") {
            digits = b"0123456789aAbBcCdDeEfF_";
            exp = b"pP";
        }
        while accept(pos, digits) {}
        if accept(pos, b".") {
            while accept(pos, digits) {}
        }
        if accept(pos, exp) {
            accept(pos, b"+-");
            while accept(pos, b"0123456789_") {}
        }
        text[start..*pos].to_string()
    };
    let real = float_token(&mut pos);
    if !matches!(b.get(pos), Some(b'+' | b'-')) {
        return Err(ERR_COMPLEX.into());
    }
    let imag = float_token(&mut pos);
    if !accept(&mut pos, b"i") || (parens && !accept(&mut pos, b")")) {
        return Err(ERR_COMPLEX.into());
    }
    let convert = |token: &str| {
        parse_float(token).ok_or_else(|| {
            let why = if parse_float_syntax_ok(token) {
                "value out of range"
            } else {
                "invalid syntax"
            };
            format!("strconv.ParseFloat: parsing {token:?}: {why}")
        })
    };
    Ok((convert(&real)?, convert(&imag)?))
}

/// Whether `ParseFloat` failed on range rather than syntax: the text is a
/// float that overflowed.
fn parse_float_syntax_ok(text: &str) -> bool {
    let clean: String = text.chars().filter(|c| *c != '_').collect();
    let unsigned = clean.trim_start_matches(['+', '-']).to_ascii_lowercase();
    if unsigned.starts_with("0x") {
        return unsigned.contains('p');
    }
    clean.parse::<f64>().is_ok_and(f64::is_infinite)
}

/// Digits and base of an integer literal in Go syntax (base 0 of `ParseUint`).
fn split_base(text: &str) -> Option<(&str, u32)> {
    let lower = text.to_ascii_lowercase();
    let (digits, base) = if lower.starts_with("0x") {
        (&text[2..], 16)
    } else if lower.starts_with("0o") {
        (&text[2..], 8)
    } else if lower.starts_with("0b") {
        (&text[2..], 2)
    } else if text.len() > 1 && text.starts_with('0') {
        (&text[1..], 8)
    } else {
        (text, 10)
    };
    let prefixed = base != 10;
    // Underscores only between digits, or right after a base prefix.
    let b = digits.as_bytes();
    if b.is_empty() && !(base == 8 && text.len() > 1 && !lower.starts_with("0o")) {
        return None;
    }
    for (i, &c) in b.iter().enumerate() {
        if c == b'_' {
            let before_ok = if i == 0 { prefixed } else { b[i - 1] != b'_' };
            let after_ok = i + 1 < b.len() && b[i + 1] != b'_';
            if !before_ok || !after_ok {
                return None;
            }
        }
    }
    Some((digits, base))
}

pub fn parse_uint(text: &str) -> Option<u64> {
    let (digits, base) = split_base(text)?;
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    if clean.is_empty() {
        return Some(0);
    }
    if !clean.chars().all(|c| c.is_digit(base)) {
        return None;
    }
    u64::from_str_radix(&clean, base).ok()
}

pub fn parse_int(text: &str) -> Option<i64> {
    let (negative, rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let u = parse_uint(rest)?;
    if negative {
        if u <= 1 << 63 {
            Some((u as i64).wrapping_neg())
        } else {
            None
        }
    } else {
        i64::try_from(u).ok()
    }
}

fn parse_float(text: &str) -> Option<f64> {
    let lower = text.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['+', '-']);
    if unsigned.starts_with("0x") {
        return parse_hex_float(text);
    }
    if text.contains('_') {
        let b = text.as_bytes();
        for (i, &c) in b.iter().enumerate() {
            if c == b'_'
                && !(i > 0
                    && b[i - 1].is_ascii_digit()
                    && i + 1 < b.len()
                    && b[i + 1].is_ascii_digit())
            {
                return None;
            }
        }
    }
    let clean: String = text.chars().filter(|c| *c != '_').collect();
    if clean.starts_with('.') && clean.len() == 1 {
        return None;
    }
    // An overflow to infinity is `ParseFloat`'s range error.
    clean
        .parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .filter(|_| !clean.contains("inf") && !clean.contains("nan") && !clean.contains("Inf"))
}

/// A hexadecimal float (`0x1.8p3`): Go requires the `p` exponent.
fn parse_hex_float(text: &str) -> Option<f64> {
    let (negative, rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let rest = rest.get(2..)?.replace('_', "");
    let (mantissa, exponent) = rest.split_once(['p', 'P'])?;
    let exponent: i32 = exponent.parse().ok()?;
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty() || int.len() + frac.len() > 30 {
        return None;
    }
    let digits = u128::from_str_radix(&format!("{int}{frac}0"), 16).ok()? >> 4;
    let scale = exponent.checked_sub(4 * i32::try_from(frac.len()).ok()?)?;
    let value = digits as f64 * 2f64.powi(scale);
    if !value.is_finite() {
        return None;
    }
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_follow_go_base_prefixes() {
        assert_eq!(parse_int("0x1F"), Some(31));
        assert_eq!(parse_int("017"), Some(15));
        assert_eq!(parse_int("0o17"), Some(15));
        assert_eq!(parse_int("0b101"), Some(5));
        assert_eq!(parse_int("1_000"), Some(1000));
        assert_eq!(parse_int("-42"), Some(-42));
        assert_eq!(parse_int("08"), None);
        assert_eq!(parse_int("1__0"), None);
        assert_eq!(parse_int("9223372036854775808"), None);
        assert_eq!(parse_uint("9223372036854775808"), Some(1 << 63));
        assert_eq!(parse_float("0x1p4"), Some(16.0));
        assert_eq!(parse_float("0x1.8p1"), Some(3.0));
        assert_eq!(parse_float("-0x10p-4"), Some(-1.0));
    }

    #[test]
    fn floats_and_complex_constants_follow_go() {
        // ParseFloat's range error and Sscan's complex syntax.
        assert_eq!(parse_float("1e400"), None);
        assert_eq!(parse_float("0x1p2000"), None);
        assert_eq!(parse_float("1e-400"), Some(0.0));
        assert!(parse("1e400", ItemKind::Number).is_err());
        assert!(parse("0x10i", ItemKind::Number).is_err());
        assert!(parse("0b1i", ItemKind::Number).is_err());
        let n = parse("017i", ItemKind::Number).unwrap();
        assert_eq!(n.complex, Some((0.0, 17.0)));
        // Zero imaginary parts stay complex, and also take the real types.
        let n = parse("0i", ItemKind::Number).unwrap();
        assert_eq!(
            (n.complex, n.int, n.float),
            (Some((0.0, 0.0)), Some(0), Some(0.0))
        );
        let n = parse("1.5-0i", ItemKind::Complex).unwrap();
        assert_eq!(
            (n.complex, n.int, n.float),
            (Some((1.5, -0.0)), None, Some(1.5))
        );
        assert_eq!(sscan_complex("010+1i"), Ok((10.0, 1.0)));
        assert_eq!(sscan_complex("1+0x1p4i"), Ok((1.0, 16.0)));
        assert_eq!(
            sscan_complex("0x10+1i"),
            Err("strconv.ParseFloat: parsing \"0x10\": invalid syntax".into())
        );
        assert_eq!(
            sscan_complex("1e400+1i"),
            Err("strconv.ParseFloat: parsing \"1e400\": value out of range".into())
        );
        assert_eq!(
            sscan_complex("0b1+1i"),
            Err("syntax error scanning complex number".into())
        );
    }

    #[test]
    fn strings_unquote_like_go() {
        assert_eq!(unquote(r#""a\tb\x41\u00e9""#).unwrap(), "a\tbAé".as_bytes());
        assert_eq!(unquote(r#""\xff""#).unwrap(), vec![0xff]);
        assert_eq!(unquote("`a\\n`").unwrap(), b"a\\n");
        assert!(unquote(r#""\q""#).is_none());
        assert_eq!(unquote("'a'").unwrap(), b"a");
        assert!(unquote("'ab'").is_none());
    }
}
