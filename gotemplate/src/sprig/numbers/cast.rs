//! github.com/spf13/cast v1.7.0 as sprig uses it (`ToInt64`, `ToInt`,
//! `ToFloat64`: errors become 0), and the `strconv` parsers it relies on.

use crate::value::{Heap, Value};

/// Go's `int64(f)` on amd64: truncation, and the "integer indefinite" value
/// (math.MinInt64) for NaN and out-of-range floats.
pub(crate) fn go_f64_to_i64(f: f64) -> i64 {
    if f.is_nan() || !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
}

/// `cast.ToInt64`.
pub(crate) fn to_int64(_heap: &Heap, v: &Value) -> i64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i,
        Value::Int32(i) => i64::from(*i),
        Value::Uint8(i) => i64::from(*i),
        Value::Uint32(i) => i64::from(*i),
        Value::Uint64(i) => *i as i64,
        Value::Float64(f) => go_f64_to_i64(*f),
        Value::String(s) => parse_int(trim_zero_decimal(s)).unwrap_or(0),
        Value::Bool(b) => i64::from(*b),
        Value::Object(o) => month_or_weekday(o.as_ref()).unwrap_or(0),
        _ => 0,
    }
}

/// cast's `toInt` takes `time.Month` and `time.Weekday` (not `time.Duration`).
fn month_or_weekday(o: &dyn crate::value::Object) -> Option<i64> {
    match o.type_name() {
        "time.Month" | "time.Weekday" => o.int_value(),
        _ => None,
    }
}

/// `cast.ToInt` (Go's `int` is 64 bits here).
pub(crate) fn to_int(heap: &Heap, v: &Value) -> i64 {
    to_int64(heap, v)
}

/// `cast.ToFloat64`.
pub(crate) fn to_float64(_heap: &Heap, v: &Value) -> f64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i as f64,
        Value::Int32(i) => f64::from(*i),
        Value::Uint8(i) => f64::from(*i),
        Value::Uint32(i) => f64::from(*i),
        Value::Uint64(i) => *i as f64,
        Value::Float64(f) => *f,
        Value::String(s) => parse_float(s).unwrap_or(0.0),
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Object(o) => month_or_weekday(o.as_ref()).unwrap_or(0) as f64,
        _ => 0.0,
    }
}

/// cast's `trimZeroDecimal`: "10.00" -> "10" (a zero fraction only).
fn trim_zero_decimal(s: &[u8]) -> &[u8] {
    let mut found_zero = false;
    for i in (1..=s.len()).rev() {
        match s[i - 1] {
            b'.' if found_zero => return &s[..i - 1],
            b'.' => {}
            b'0' => found_zero = true,
            _ => return s,
        }
    }
    s
}

/// Go's `underscoreOK`: underscores only between digits (or after a base prefix).
fn underscore_ok(s: &[u8]) -> bool {
    let mut saw = b'^';
    let mut s = s;
    if let Some(b'+' | b'-') = s.first() {
        s = &s[1..];
    }
    let mut i = 0;
    let mut hex = false;
    if s.len() >= 2 && s[0] == b'0' && matches!(s[1] | 0x20, b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = s[1] | 0x20 == b'x';
    }
    while i < s.len() {
        let c = s[i];
        if c.is_ascii_digit() || (hex && (c | 0x20).is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// `strconv.ParseInt(s, 0, 64)`; `None` on any error (syntax or range).
pub(crate) fn parse_int(s: &[u8]) -> Option<i64> {
    let (neg, body) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mag = parse_uint(body)?;
    if underscore_needed(body) && !underscore_ok(s) {
        return None;
    }
    if neg {
        if mag > 1u64 << 63 {
            return None;
        }
        Some((mag as i64).wrapping_neg())
    } else {
        i64::try_from(mag).ok()
    }
}

fn underscore_needed(s: &[u8]) -> bool {
    s.contains(&b'_')
}

/// `strconv.ParseUint(s, 0, 64)` without the underscore placement check.
fn parse_uint(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let (base, digits): (u64, &[u8]) = if s[0] == b'0' {
        if s.len() >= 3 && s[1] | 0x20 == b'b' {
            (2, &s[2..])
        } else if s.len() >= 3 && s[1] | 0x20 == b'o' {
            (8, &s[2..])
        } else if s.len() >= 3 && s[1] | 0x20 == b'x' {
            (16, &s[2..])
        } else {
            (8, &s[1..])
        }
    } else {
        (10, s)
    };
    let mut n: u64 = 0;
    for &c in digits {
        if c == b'_' {
            continue;
        }
        let d = match c {
            b'0'..=b'9' => u64::from(c - b'0'),
            b'a'..=b'z' => u64::from(c - b'a' + 10),
            b'A'..=b'Z' => u64::from(c - b'A' + 10),
            _ => return None,
        };
        if d >= base {
            return None;
        }
        n = n.checked_mul(base)?.checked_add(d)?;
    }
    Some(n)
}

/// `strconv.ParseFloat(s, 64)`; `None` on a syntax error or overflow.
pub(crate) fn parse_float(s: &[u8]) -> Option<f64> {
    if let Some(f) = special(s) {
        return Some(f);
    }
    let (neg, body) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if s.contains(&b'_') && !underscore_ok(s) {
        return None;
    }
    let f = if body.len() > 2 && body[0] == b'0' && body[1] | 0x20 == b'x' {
        parse_hex_float(&body[2..])?
    } else {
        parse_dec_float(body)?
    };
    if f.is_infinite() {
        return None;
    }
    Some(if neg { -f } else { f })
}

/// Go's `special`: "inf", "infinity" (any case, optional sign), "nan" (no sign).
fn special(s: &[u8]) -> Option<f64> {
    let lower: Vec<u8> = s.iter().map(|c| c.to_ascii_lowercase()).collect();
    match lower.as_slice() {
        b"nan" => Some(f64::NAN),
        b"inf" | b"+inf" | b"infinity" | b"+infinity" => Some(f64::INFINITY),
        b"-inf" | b"-infinity" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

/// Decimal mantissa, optional exponent; underscores already validated.
fn parse_dec_float(body: &[u8]) -> Option<f64> {
    let clean: Vec<u8> = body.iter().copied().filter(|&c| c != b'_').collect();
    let mut i = 0;
    let mut digits = false;
    while i < clean.len() && clean[i].is_ascii_digit() {
        i += 1;
        digits = true;
    }
    if i < clean.len() && clean[i] == b'.' {
        i += 1;
        while i < clean.len() && clean[i].is_ascii_digit() {
            i += 1;
            digits = true;
        }
    }
    if !digits {
        return None;
    }
    if i < clean.len() && clean[i] | 0x20 == b'e' {
        i += 1;
        if i < clean.len() && matches!(clean[i], b'+' | b'-') {
            i += 1;
        }
        let start = i;
        while i < clean.len() && clean[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    if i != clean.len() {
        return None;
    }
    std::str::from_utf8(&clean).ok()?.parse::<f64>().ok()
}

/// Hex mantissa with a required binary exponent (`0x1.8p1`), rounded as
/// Go's `atofHex` does (two guard bits, sticky bit, ties to even).
fn parse_hex_float(s: &[u8]) -> Option<f64> {
    let mut mant: u64 = 0;
    let mut nd_mant = 0i64;
    let mut dp = 0i64;
    let mut nd = 0i64;
    let mut sawdot = false;
    let mut sawdigits = false;
    let mut trunc = false;
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        match c {
            b'_' => {}
            b'.' if !sawdot => {
                sawdot = true;
                dp = nd;
            }
            _ if c.is_ascii_hexdigit() => {
                sawdigits = true;
                let d = u64::from((c as char).to_digit(16)?);
                if d == 0 && nd == 0 {
                    dp -= 1;
                } else {
                    nd += 1;
                    if nd_mant < 16 {
                        mant = mant * 16 + d;
                        nd_mant += 1;
                    } else if d != 0 {
                        trunc = true;
                    }
                }
            }
            _ => break,
        }
        i += 1;
    }
    if !sawdigits {
        return None;
    }
    if !sawdot {
        dp = nd;
    }
    dp *= 4;
    nd_mant *= 4;
    if i >= s.len() || s[i] | 0x20 != b'p' {
        return None;
    }
    i += 1;
    let mut esign = 1;
    match s.get(i) {
        Some(b'+') => i += 1,
        Some(b'-') => {
            i += 1;
            esign = -1;
        }
        _ => {}
    }
    if !s.get(i).is_some_and(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut e = 0i64;
    while i < s.len() && (s[i].is_ascii_digit() || s[i] == b'_') {
        if s[i] != b'_' && e < 10000 {
            e = e * 10 + i64::from(s[i] - b'0');
        }
        i += 1;
    }
    if i != s.len() {
        return None;
    }
    dp += e * esign;
    let exp = if mant != 0 { dp - nd_mant } else { 0 };
    hex_bits(mant, exp, trunc)
}

fn hex_bits(mut mant: u64, mut exp: i64, trunc: bool) -> Option<f64> {
    const MANTBITS: u32 = 52;
    const BIAS: i64 = -1023;
    let max_exp = (1i64 << 11) + BIAS - 2;
    let min_exp = BIAS + 1;
    exp += i64::from(MANTBITS);
    while mant != 0 && mant >> (MANTBITS + 2) == 0 {
        mant <<= 1;
        exp -= 1;
    }
    if trunc {
        mant |= 1;
    }
    while mant >> (1 + MANTBITS + 2) != 0 {
        mant = (mant >> 1) | (mant & 1);
        exp += 1;
    }
    while mant > 1 && exp < min_exp - 2 {
        mant = (mant >> 1) | (mant & 1);
        exp += 1;
    }
    let mut round = mant & 3;
    mant >>= 2;
    round |= mant & 1;
    exp += 2;
    if round == 3 {
        mant += 1;
        if mant == 1 << (1 + MANTBITS) {
            mant >>= 1;
            exp += 1;
        }
    }
    if mant >> MANTBITS == 0 {
        exp = BIAS;
    }
    if exp > max_exp {
        return None;
    }
    let bits = (mant & ((1 << MANTBITS) - 1)) | ((((exp - BIAS) & 0x7ff) as u64) << MANTBITS);
    Some(f64::from_bits(bits))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn i(s: &str) -> i64 {
        to_int64(&Heap::default(), &Value::str(s))
    }
    fn f(s: &str) -> f64 {
        to_float64(&Heap::default(), &Value::str(s))
    }

    #[test]
    fn int_strings_as_go() {
        // Expected values from Go (cast v1.7.0).
        let cases = [
            ("0x1F", 31),
            (" 3", 0),
            ("1.5", 0),
            ("1.0", 1),
            ("10.00", 10),
            ("1_000", 1000),
            ("0b101", 5),
            ("0o17", 15),
            ("017", 15),
            ("08", 0),
            ("-0x10", -16),
            ("+5", 5),
            ("9223372036854775808", 0),
            ("-9223372036854775808", i64::MIN),
            ("1.", 0),
            ("0.", 0),
            (".0", 0),
            ("0x_1F", 31),
            ("1__0", 0),
            ("_1", 0),
            ("0x", 0),
            ("", 0),
        ];
        for (s, want) in cases {
            assert_eq!(i(s), want, "{s}");
        }
        let h = Heap::default();
        assert_eq!(to_int64(&h, &Value::Float64(1e19)), i64::MIN);
        assert_eq!(to_int64(&h, &Value::Float64(-1e19)), i64::MIN);
        assert_eq!(to_int64(&h, &Value::Float64(-3.9)), -3);
        assert_eq!(to_int64(&h, &Value::Bool(true)), 1);
        assert_eq!(to_int64(&h, &Value::Nil), 0);
    }

    #[test]
    fn float_strings_as_go() {
        let cases = [
            ("1_000", 1000.0),
            ("0x1p-2", 0.25),
            ("+nan", 0.0),
            ("1e400", 0.0),
            (" 1", 0.0),
            ("1e", 0.0),
            (".5", 0.5),
            ("5.", 5.0),
            ("infin", 0.0),
            ("0x1.8p1", 3.0),
            ("0x10", 0.0),
            ("1_0.5", 10.5),
            ("0x_1p0", 1.0),
            ("-0x1p-1074", -5e-324),
        ];
        for (s, want) in cases {
            assert_eq!(f(s), want, "{s}");
        }
        assert_eq!(f("inf"), f64::INFINITY);
        assert_eq!(f("+Inf"), f64::INFINITY);
        assert_eq!(f("-infinity"), f64::NEG_INFINITY);
        assert!(f("NaN").is_nan());
    }
}
