//! `time.Duration`'s text form (`Duration.String`) and `time.ParseDuration`, byte for byte.

use super::layout::leading_int;

/// Go's `Duration.String()`.
pub(super) fn duration_string(d: i64) -> String {
    let mut u = d.unsigned_abs();
    let mut out: Vec<u8> = Vec::with_capacity(24);
    // Built backwards, as Go does.
    let frac = |out: &mut Vec<u8>, v: &mut u64, prec: usize| {
        let mut print = false;
        for _ in 0..prec {
            let digit = *v % 10;
            print = print || digit != 0;
            if print {
                out.push(b'0' + digit as u8);
            }
            *v /= 10;
        }
        if print {
            out.push(b'.');
        }
    };
    let int = |out: &mut Vec<u8>, v: u64| {
        out.extend(v.to_string().bytes().rev());
    };
    if u < 1_000_000_000 {
        out.push(b's');
        let prec = match u {
            0 => return "0s".into(),
            1..=999 => {
                out.push(b'n');
                0
            }
            1000..=999_999 => {
                out.extend_from_slice(&[0xb5, 0xc2]);
                3
            }
            _ => {
                out.push(b'm');
                6
            }
        };
        frac(&mut out, &mut u, prec);
        int(&mut out, u);
    } else {
        out.push(b's');
        frac(&mut out, &mut u, 9);
        int(&mut out, u % 60);
        u /= 60;
        if u > 0 {
            out.push(b'm');
            int(&mut out, u % 60);
            u /= 60;
            if u > 0 {
                out.push(b'h');
                int(&mut out, u);
            }
        }
    }
    if d < 0 {
        out.push(b'-');
    }
    out.reverse();
    String::from_utf8_lossy(&out).into_owned()
}

/// Go's `time.ParseDuration`; the error is Go's reason without the input.
pub(super) fn parse_duration(s: &[u8]) -> Result<i64, &'static str> {
    const INVALID: &str = "time: invalid duration";
    let (neg, mut s) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if s == b"0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(INVALID);
    }
    let mut d: u64 = 0;
    while let Some(&c) = s.first() {
        if !(c == b'.' || c.is_ascii_digit()) {
            return Err(INVALID);
        }
        let before = s.len();
        let (mut v, rest) = leading_int(s).ok_or(INVALID)?;
        s = rest;
        let pre = before != s.len();
        let (mut f, mut scale, mut post) = (0u64, 1f64, false);
        if s.first() == Some(&b'.') {
            s = &s[1..];
            let before = s.len();
            let mut overflow = false;
            let mut i = 0;
            while let Some(&c) = s.get(i).filter(|c| c.is_ascii_digit()) {
                i += 1;
                if overflow {
                    continue;
                }
                if f > (i64::MAX as u64) / 10 {
                    overflow = true;
                    continue;
                }
                let y = f * 10 + u64::from(c - b'0');
                if y > 1 << 63 {
                    overflow = true;
                    continue;
                }
                f = y;
                scale *= 10.0;
            }
            s = &s[i..];
            post = before != s.len();
        }
        if !pre && !post {
            return Err(INVALID);
        }
        let i = s
            .iter()
            .position(|&c| c == b'.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        if i == 0 {
            return Err("time: missing unit in duration");
        }
        let unit: u64 = match &s[..i] {
            b"ns" => 1,
            b"us" | b"\xc2\xb5s" | b"\xce\xbcs" => 1_000,
            b"ms" => 1_000_000,
            b"s" => 1_000_000_000,
            b"m" => 60_000_000_000,
            b"h" => 3_600_000_000_000,
            _ => return Err("time: unknown unit in duration"),
        };
        s = &s[i..];
        if v > (1 << 63) / unit {
            return Err(INVALID);
        }
        v *= unit;
        if f > 0 {
            // Go converts the float to uint64, saturating.
            v = v.wrapping_add((f as f64 * (unit as f64 / scale)) as u64);
            if v > 1 << 63 {
                return Err(INVALID);
            }
        }
        d = d.wrapping_add(v);
        if d > 1 << 63 {
            return Err(INVALID);
        }
    }
    if neg {
        return Ok((d as i64).wrapping_neg());
    }
    i64::try_from(d).map_err(|_| INVALID)
}
