//! The parts of Go's `math` package whose results differ from Rust's
//! (special cases of Max/Min, Pow by repeated squaring).

/// Go's `math.Max`: +Inf wins, then NaN, and +0 over -0.
pub(crate) fn go_max(x: f64, y: f64) -> f64 {
    if x == f64::INFINITY || y == f64::INFINITY {
        f64::INFINITY
    } else if x.is_nan() || y.is_nan() {
        f64::NAN
    } else if x == 0.0 && x == y {
        if x.is_sign_negative() {
            y
        } else {
            x
        }
    } else if x > y {
        x
    } else {
        y
    }
}

/// Go's `math.Min`: -Inf wins, then NaN, and -0 over +0.
pub(crate) fn go_min(x: f64, y: f64) -> f64 {
    if x == f64::NEG_INFINITY || y == f64::NEG_INFINITY {
        f64::NEG_INFINITY
    } else if x.is_nan() || y.is_nan() {
        f64::NAN
    } else if x == 0.0 && x == y {
        if x.is_sign_negative() {
            x
        } else {
            y
        }
    } else if x < y {
        x
    } else {
        y
    }
}

/// Go's `math.Modf` fractional part (NaN for infinities, sign kept).
pub(crate) fn modf_frac(f: f64) -> f64 {
    if f == 0.0 {
        return f;
    }
    f - f.trunc()
}

/// Go's `math.Frexp`: `f = frac × 2^exp` with frac in [0.5, 1).
pub(crate) fn frexp(f: f64) -> (f64, i64) {
    if f == 0.0 || !f.is_finite() {
        return (f, 0);
    }
    let (mut f, mut exp) = (f, 0i64);
    if f.abs() < f64::MIN_POSITIVE {
        f *= (1u64 << 52) as f64;
        exp = -52;
    }
    let bits = f.to_bits();
    exp += ((bits >> 52) & 0x7ff) as i64 - 1022;
    let bits = (bits & !(0x7ff << 52)) | (1022 << 52);
    (f64::from_bits(bits), exp)
}

/// Go's `math.Ldexp`, rounding into the subnormal range as Go does.
pub(crate) fn ldexp(frac: f64, exp: i64) -> f64 {
    if frac == 0.0 || !frac.is_finite() {
        return frac;
    }
    let (frac, e) = frexp(frac);
    // frexp's frac is in [0.5, 1): its biased exponent is 1022.
    let exp = exp + e - 1;
    if exp < -1075 {
        return 0.0f64.copysign(frac);
    }
    if exp > 1023 {
        return if frac < 0.0 {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
    }
    let mut m = 1.0;
    let mut exp = exp;
    if exp < -1022 {
        exp += 53;
        m = 1.0 / (1u64 << 53) as f64;
    }
    let bits = (frac * 2.0).to_bits() & !(0x7ff << 52);
    m * f64::from_bits(bits | (((exp + 1023) as u64) << 52))
}

/// Go's `math.Pow(10, y)` for an integral y: repeated squaring, then Ldexp,
/// which can differ from a correctly rounded pow in the last bit.
pub(crate) fn go_pow10(y: f64) -> f64 {
    if y == 0.0 {
        return 1.0;
    }
    if y == 1.0 {
        return 10.0;
    }
    let yi = y.abs().trunc();
    if yi >= 9.223_372_036_854_776e18 {
        return if y > 0.0 { f64::INFINITY } else { 0.0 };
    }
    let (mut a1, mut ae) = (1.0f64, 0i64);
    let (mut x1, mut xe) = frexp(10.0);
    let mut i = yi as i64;
    while i != 0 {
        if !(-(1 << 12)..=(1 << 12)).contains(&xe) {
            ae += xe;
            break;
        }
        if i & 1 == 1 {
            a1 *= x1;
            ae += xe;
        }
        x1 *= x1;
        xe <<= 1;
        if x1 < 0.5 {
            x1 += x1;
            xe -= 1;
        }
        i >>= 1;
    }
    if y < 0.0 {
        a1 = 1.0 / a1;
        ae = -ae;
    }
    ldexp(a1, ae)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pow10_as_go() {
        assert_eq!(go_pow10(-3.0), 0.001);
        assert_eq!(go_pow10(2.0), 100.0);
        assert_eq!(go_pow10(400.0), f64::INFINITY);
        assert_eq!(go_pow10(-400.0), 0.0);
        assert_eq!(ldexp(0.5, -1074), 0.0);
        assert_eq!(ldexp(1.0, -1074), 5e-324);
        assert_eq!(frexp(10.0), (0.625, 4));
    }
}
