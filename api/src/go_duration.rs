//! Go's `time.ParseDuration`, byte for byte: the reference's duration flags
//! (`--key-ttl`, `--key-renew-period`, `--read-timeout`, ...) are parsed by it,
//! so `1h30m`, `1.5h`, `300ms`, `1µs` and `-1h` mean here what they mean there,
//! and `1d` or a bare `5` fail here as they fail there, with Go's message.

use std::fmt;

/// A parsed Go duration: signed nanoseconds, as Go's `time.Duration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct GoDuration(pub i64);

impl GoDuration {
    /// The length, or `None` when negative (Go allows `-1h`).
    pub fn to_std(self) -> Option<std::time::Duration> {
        u64::try_from(self.0)
            .ok()
            .map(std::time::Duration::from_nanos)
    }

    /// What an HTTP server timeout of this length means in Go's net/http:
    /// zero or negative is no timeout.
    pub fn as_timeout(self) -> Option<std::time::Duration> {
        self.to_std().filter(|d| !d.is_zero())
    }
}

/// Go's own error text, e.g. `time: unknown unit "d" in duration "1d"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationError(String);

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DurationError {}

const UNITS: [(&str, u64); 8] = [
    ("ns", 1),
    ("us", 1_000),
    ("\u{b5}s", 1_000),
    ("\u{3bc}s", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

const LIMIT: u64 = 1 << 63;

/// Parses as Go's `time.ParseDuration`.
pub fn parse(orig: &str) -> Result<GoDuration, DurationError> {
    let invalid = |what: &str| DurationError(format!("time: {what} {}", quote(orig)));
    let mut s = orig.as_bytes();
    let mut neg = false;
    if let Some(&c) = s.first() {
        if c == b'-' || c == b'+' {
            neg = c == b'-';
            s = &s[1..];
        }
    }
    if s == b"0" {
        return Ok(GoDuration(0));
    }
    if s.is_empty() {
        return Err(invalid("invalid duration"));
    }
    let mut d: u64 = 0;
    while !s.is_empty() {
        if !(s[0] == b'.' || s[0].is_ascii_digit()) {
            return Err(invalid("invalid duration"));
        }
        let before = s.len();
        let (mut v, rest) = leading_int(s).ok_or_else(|| invalid("invalid duration"))?;
        s = rest;
        let pre = before != s.len();
        let mut post = false;
        let (mut f, mut scale) = (0u64, 1f64);
        if s.first() == Some(&b'.') {
            s = &s[1..];
            let before = s.len();
            (f, scale, s) = leading_fraction(s);
            post = before != s.len();
        }
        if !pre && !post {
            return Err(invalid("invalid duration"));
        }
        let i = s
            .iter()
            .position(|&c| c == b'.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        if i == 0 {
            return Err(invalid("missing unit in duration"));
        }
        let (u, rest) = s.split_at(i);
        s = rest;
        let Some(&(_, unit)) = UNITS.iter().find(|(name, _)| name.as_bytes() == u) else {
            let u = String::from_utf8_lossy(u);
            return Err(invalid(&format!("unknown unit {} in duration", quote(&u))));
        };
        if v > LIMIT / unit {
            return Err(invalid("invalid duration"));
        }
        v *= unit;
        if f > 0 {
            // As Go: float64, nanosecond-accurate for fractions of hours.
            v += (f as f64 * (unit as f64 / scale)) as u64;
            if v > LIMIT {
                return Err(invalid("invalid duration"));
            }
        }
        d += v;
        if d > LIMIT {
            return Err(invalid("invalid duration"));
        }
    }
    if neg {
        return Ok(GoDuration((-(i128::from(d))) as i64));
    }
    i64::try_from(d)
        .map(GoDuration)
        .map_err(|_| invalid("invalid duration"))
}

fn leading_int(s: &[u8]) -> Option<(u64, &[u8])> {
    let mut x: u64 = 0;
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        if x > LIMIT / 10 {
            return None;
        }
        x = x * 10 + u64::from(s[i] - b'0');
        if x > LIMIT {
            return None;
        }
        i += 1;
    }
    Some((x, &s[i..]))
}

fn leading_fraction(s: &[u8]) -> (u64, f64, &[u8]) {
    let (mut x, mut scale, mut overflow) = (0u64, 1f64, false);
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        let c = s[i];
        i += 1;
        if overflow {
            continue;
        }
        if x > (LIMIT - 1) / 10 {
            overflow = true;
            continue;
        }
        let y = x * 10 + u64::from(c - b'0');
        if y > LIMIT {
            overflow = true;
            continue;
        }
        x = y;
        scale *= 10.0;
    }
    (x, scale, &s[i..])
}

/// Go's `time.quote`: non-ASCII and control bytes as `\xNN`.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if !c.is_ascii() || c < ' ' {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        } else {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests;
