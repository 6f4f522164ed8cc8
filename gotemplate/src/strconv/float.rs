//! `strconv.FormatFloat(v, fmt, prec, 64)` for the formats `fmt` uses:
//! 'b', 'e', 'E', 'f', 'g', 'G', 'x', 'X'; `prec < 0` is the shortest form.
//! Decimal digits come from Rust's formatter, which like Go gives the
//! shortest round-tripping digits, or the exact value rounded half to even.

/// Decimal digits without trailing zeros, and the decimal point position:
/// the value is `0.d1d2d3... * 10^dp`.
struct Digits {
    d: Vec<u8>,
    dp: i64,
}

impl Digits {
    /// Parses Rust's `{:e}` output of a positive finite value: `d.ddde-5`.
    fn from_exp(s: &str) -> Digits {
        let (mant, exp) = s.split_once('e').unwrap_or((s, "0"));
        let exp: i64 = exp.parse().unwrap_or(0);
        let mut d: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
        trim_zeros(&mut d);
        Digits { d, dp: exp + 1 }
    }

    /// The fewest digits that read back as `v`, and of those the closest to
    /// `v`. Rust may break an exact tie upwards where Go takes the even
    /// digit, so the correctly rounded value of that length wins if it reads back.
    fn shortest(v: f64) -> Digits {
        let short = format!("{v:e}");
        let n = short.split_once('e').map_or(short.len(), |(m, _)| m.len());
        let n = if n > 1 { n - 1 } else { n }; // digits, not counting the point
        let nearest = format!("{:.*e}", n - 1, v);
        if nearest != short && nearest.parse::<f64>() == Ok(v) {
            return Digits::from_exp(&nearest);
        }
        Digits::from_exp(&short)
    }

    /// `n >= 1` significant digits, rounded.
    fn significant(v: f64, n: usize) -> Digits {
        Digits::from_exp(&format!("{:.*e}", n - 1, v))
    }

    /// Rounded at `prec` places after the point; no digits if that rounds to zero.
    fn fixed(v: f64, prec: usize) -> Digits {
        let s = format!("{v:.prec$}");
        let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
        let mut d: Vec<u8> = int.bytes().chain(frac.bytes()).collect();
        let mut dp = int.len() as i64;
        let lead = d.iter().take_while(|&&c| c == b'0').count();
        d.drain(..lead);
        dp -= lead as i64;
        trim_zeros(&mut d);
        if d.is_empty() {
            dp = 0;
        }
        Digits { d, dp }
    }

    fn nd(&self) -> i64 {
        self.d.len() as i64
    }

    fn at(&self, i: i64) -> u8 {
        usize::try_from(i)
            .ok()
            .and_then(|i| self.d.get(i).copied())
            .unwrap_or(b'0')
    }
}

fn trim_zeros(d: &mut Vec<u8>) {
    while d.last() == Some(&b'0') {
        d.pop();
    }
}

/// `strconv.AppendFloat(dst, v, fmt, prec, 64)`.
pub fn append_float(dst: &mut Vec<u8>, v: f64, fmt: u8, prec: i64) {
    let bits = v.to_bits();
    let neg = bits >> 63 != 0;
    let raw_exp = ((bits >> 52) & 0x7FF) as i64;
    let mut mant = bits & ((1u64 << 52) - 1);
    if raw_exp == 0x7FF {
        dst.extend_from_slice(match (mant != 0, neg) {
            (true, _) => b"NaN",
            (false, true) => b"-Inf",
            (false, false) => b"+Inf",
        });
        return;
    }
    let mut exp = raw_exp;
    if raw_exp == 0 {
        exp += 1;
    } else {
        mant |= 1u64 << 52;
    }
    exp -= 1023;
    match fmt {
        b'b' => return fmt_b(dst, neg, mant, exp),
        b'x' | b'X' => return fmt_x(dst, prec, fmt, neg, mant, exp),
        _ => {}
    }
    let a = v.abs();
    let shortest = prec < 0;
    let (digs, prec) = if mant == 0 {
        (
            Digits {
                d: Vec::new(),
                dp: 0,
            },
            prec,
        )
    } else if shortest {
        let digs = Digits::shortest(a);
        let prec = match fmt {
            b'e' | b'E' => (digs.nd() - 1).max(0),
            b'f' => (digs.nd() - digs.dp).max(0),
            _ => digs.nd(),
        };
        (digs, prec)
    } else {
        let p = usize::try_from(prec).unwrap_or(0);
        match fmt {
            b'e' | b'E' => (Digits::significant(a, p + 1), prec),
            b'f' => (Digits::fixed(a, p), prec),
            _ => (Digits::significant(a, p.max(1)), prec.max(1)),
        }
    };
    format_digits(dst, shortest, neg, &digs, prec, fmt);
}

fn format_digits(dst: &mut Vec<u8>, shortest: bool, neg: bool, digs: &Digits, prec: i64, fmt: u8) {
    match fmt {
        b'e' | b'E' => fmt_e(dst, neg, digs, prec, fmt),
        b'f' => fmt_f(dst, neg, digs, prec),
        b'g' | b'G' => {
            let mut eprec = prec;
            if eprec > digs.nd() && digs.nd() >= digs.dp {
                eprec = digs.nd();
            }
            // The shortest form switches to an exponent as if the precision were 6.
            if shortest {
                eprec = 6;
            }
            let exp = digs.dp - 1;
            if exp < -4 || exp >= eprec {
                let prec = prec.min(digs.nd());
                fmt_e(dst, neg, digs, prec - 1, fmt + b'e' - b'g');
            } else {
                let prec = if prec > digs.dp { digs.nd() } else { prec };
                fmt_f(dst, neg, digs, (prec - digs.dp).max(0));
            }
        }
        _ => {
            dst.push(b'%');
            dst.push(fmt);
        }
    }
}

fn fmt_e(dst: &mut Vec<u8>, neg: bool, d: &Digits, prec: i64, fmt: u8) {
    if neg {
        dst.push(b'-');
    }
    dst.push(d.d.first().copied().unwrap_or(b'0'));
    if prec > 0 {
        dst.push(b'.');
        for i in 1..=prec {
            dst.push(d.at(i));
        }
    }
    dst.push(fmt);
    let exp = if d.d.is_empty() { 0 } else { d.dp - 1 };
    push_exponent(dst, exp);
}

fn fmt_f(dst: &mut Vec<u8>, neg: bool, d: &Digits, prec: i64) {
    if neg {
        dst.push(b'-');
    }
    if d.dp > 0 {
        for i in 0..d.dp {
            dst.push(d.at(i));
        }
    } else {
        dst.push(b'0');
    }
    if prec > 0 {
        dst.push(b'.');
        for i in 0..prec {
            dst.push(d.at(d.dp + i));
        }
    }
}

/// `%b`: decimal mantissa and binary exponent, `4503599627370496p-52`.
fn fmt_b(dst: &mut Vec<u8>, neg: bool, mant: u64, exp: i64) {
    if neg {
        dst.push(b'-');
    }
    let exp = exp - 52;
    let sign = if exp >= 0 { "+" } else { "" };
    dst.extend_from_slice(format!("{mant}p{sign}{exp}").as_bytes());
}

/// `%x`: hexadecimal mantissa and binary exponent, `0x1.8p+01`.
fn fmt_x(dst: &mut Vec<u8>, prec: i64, fmt: u8, neg: bool, mut mant: u64, mut exp: i64) {
    if mant == 0 {
        exp = 0;
    }
    // Shift the leading 1 to bit 60.
    mant <<= 60 - 52;
    while mant != 0 && mant & (1 << 60) == 0 {
        mant <<= 1;
        exp -= 1;
    }
    if (0..15).contains(&prec) {
        // Round to `prec` hex digits, half to even.
        let shift = (prec * 4) as u32;
        let extra = (mant << shift) & ((1 << 60) - 1);
        mant >>= 60 - shift;
        if extra | (mant & 1) > 1 << 59 {
            mant += 1;
        }
        mant <<= 60 - shift;
        if mant & (1 << 61) != 0 {
            mant >>= 1;
            exp += 1;
        }
    }
    let hex: &[u8; 16] = if fmt == b'X' {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    if neg {
        dst.push(b'-');
    }
    dst.extend_from_slice(&[b'0', fmt, b'0' + ((mant >> 60) & 1) as u8]);
    mant <<= 4;
    if prec < 0 && mant != 0 {
        dst.push(b'.');
        while mant != 0 {
            dst.push(hex[((mant >> 60) & 15) as usize]);
            mant <<= 4;
        }
    } else if prec > 0 {
        dst.push(b'.');
        for _ in 0..prec {
            dst.push(hex[((mant >> 60) & 15) as usize]);
            mant <<= 4;
        }
    }
    dst.push(if fmt == b'X' { b'P' } else { b'p' });
    push_exponent(dst, exp);
}

/// An exponent as Go writes it: a sign and at least two digits.
fn push_exponent(dst: &mut Vec<u8>, exp: i64) {
    dst.push(if exp < 0 { b'-' } else { b'+' });
    let exp = exp.unsigned_abs();
    if exp < 10 {
        dst.push(b'0');
    }
    dst.extend_from_slice(exp.to_string().as_bytes());
}
