//! The part of github.com/shopspring/decimal v1.4.0 that sprig's `addf`,
//! `subf`, `mulf` and `divf` use: exact sums and products, quotients
//! rounded half away from zero to 16 decimal places.

use std::cmp::Ordering;

use num_bigint::{BigInt, Sign};

use crate::funcs::FuncError;

/// `decimal.DivisionPrecision`.
const DIVISION_PRECISION: i64 = 16;

/// value × 10^exp
#[derive(Clone, Debug)]
pub(crate) struct Decimal {
    value: BigInt,
    exp: i64,
}

fn pow10(n: u64) -> BigInt {
    BigInt::from(10u8).pow(n as u32)
}

/// shopspring checks its exponents fit an int32 and panics otherwise.
fn check_exp(e: i64, text: &'static str) -> Result<i64, FuncError> {
    if i32::try_from(e).is_err() {
        return Err(FuncError::reason(text));
    }
    Ok(e)
}

impl Decimal {
    fn new(value: i64, exp: i64) -> Self {
        Decimal {
            value: BigInt::from(value),
            exp,
        }
    }

    /// `decimal.NewFromFloat`: the shortest decimal that reads back as `f`.
    pub(crate) fn from_f64(f: f64) -> Result<Self, FuncError> {
        if !f.is_finite() {
            // Go: "Cannot create a Decimal from NaN" (the value left out).
            return Err(FuncError::reason(
                "Cannot create a Decimal from a NaN or infinite float",
            ));
        }
        if f == 0.0 {
            return Ok(Decimal::new(0, 0));
        }
        // Rust's `{:e}` is the shortest round-trip form, as Go's roundShortest.
        let text = format!("{f:e}");
        let (mantissa, e10) = text.split_once('e').unwrap_or((&text, "0"));
        let e10: i64 = e10.parse().unwrap_or(0);
        let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
        let frac_len = mantissa.split_once('.').map_or(0, |(_, b)| b.len()) as i64;
        let value = digits.parse::<BigInt>().unwrap_or_default();
        Ok(Decimal {
            value,
            exp: e10 - frac_len,
        })
    }

    fn rescale(&self, exp: i64) -> BigInt {
        if self.exp > exp {
            &self.value * pow10((self.exp - exp) as u64)
        } else {
            self.value.clone()
        }
    }

    fn pair(&self, other: &Decimal) -> (BigInt, BigInt, i64) {
        let exp = self.exp.min(other.exp);
        (self.rescale(exp), other.rescale(exp), exp)
    }

    pub(crate) fn add(&self, other: &Decimal) -> Decimal {
        let (a, b, exp) = self.pair(other);
        Decimal { value: a + b, exp }
    }

    pub(crate) fn sub(&self, other: &Decimal) -> Decimal {
        let (a, b, exp) = self.pair(other);
        Decimal { value: a - b, exp }
    }

    pub(crate) fn mul(&self, other: &Decimal) -> Result<Decimal, FuncError> {
        let exp = check_exp(self.exp + other.exp, "exponent overflows an int32!")?;
        Ok(Decimal {
            value: &self.value * &other.value,
            exp,
        })
    }

    fn cmp(&self, other: &Decimal) -> Ordering {
        let (a, b, _) = self.pair(other);
        a.cmp(&b)
    }

    /// `Div`, that is `DivRound(d2, 16)`.
    pub(crate) fn div(&self, other: &Decimal) -> Result<Decimal, FuncError> {
        let prec = DIVISION_PRECISION;
        if other.value.sign() == Sign::NoSign {
            return Err(FuncError::reason("decimal division by 0"));
        }
        // QuoRem(d2, prec)
        let scale = -prec;
        let e = check_exp(self.exp - other.exp - scale, "overflow in decimal QuoRem")?;
        let (aa, bb, scalerest) = if e < 0 {
            (
                self.value.clone(),
                &other.value * pow10(e.unsigned_abs()),
                self.exp,
            )
        } else {
            (
                &self.value * pow10(e as u64),
                other.value.clone(),
                scale + other.exp,
            )
        };
        // BigInt division truncates toward zero, as Go's big.Int QuoRem.
        let q = Decimal {
            value: &aa / &bb,
            exp: scale,
        };
        let r = Decimal {
            value: &aa % &bb,
            exp: scalerest,
        };
        // Round on 2·|r|·10^prec against |d2|.
        let r2 = Decimal {
            value: r.value.magnitude().clone().into(),
            exp: r.exp + prec,
        };
        let r2 = Decimal {
            value: r2.value * 2,
            exp: r2.exp,
        };
        let d2abs = Decimal {
            value: other.value.magnitude().clone().into(),
            exp: other.exp,
        };
        if r2.cmp(&d2abs) == Ordering::Less {
            return Ok(q);
        }
        let one = Decimal::new(1, -prec);
        let opposite = matches!(
            (self.value.sign(), other.value.sign()),
            (Sign::Plus, Sign::Minus) | (Sign::Minus, Sign::Plus)
        );
        Ok(if opposite { q.sub(&one) } else { q.add(&one) })
    }

    /// `Float64()`: the nearest float64 (big.Rat's rounding).
    pub(crate) fn to_f64(&self) -> f64 {
        if self.value.sign() == Sign::NoSign {
            return 0.0;
        }
        // Rust's float parser rounds correctly for any number of digits.
        format!("{}e{}", self.value, self.exp)
            .parse::<f64>()
            .unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(f: f64) -> Decimal {
        Decimal::from_f64(f).unwrap()
    }

    #[test]
    fn operations_as_shopspring() {
        // Expected values from Go (sprig addf/subf/mulf/divf).
        assert_eq!(d(1.1).add(&d(2.2)).to_f64(), 3.3);
        assert_eq!(d(1.0).sub(&d(0.9)).to_f64(), 0.1);
        assert_eq!(d(0.1).mul(&d(0.2)).unwrap().to_f64(), 0.02);
        assert_eq!(d(1.0).div(&d(3.0)).unwrap().to_f64(), 0.3333333333333333);
        assert_eq!(d(2.0).div(&d(3.0)).unwrap().to_f64(), 0.6666666666666667);
        assert_eq!(d(1.0).div(&d(7.0)).unwrap().to_f64(), 0.1428571428571429);
        assert_eq!(d(1.0).div(&d(3e10)).unwrap().to_f64(), 3.33333e-11);
        assert_eq!(d(1e-20).div(&d(3.0)).unwrap().to_f64(), 0.0);
        assert_eq!(d(-1.0).div(&d(3.0)).unwrap().to_f64(), -0.3333333333333333);
        assert_eq!(d(2.5).div(&d(-1.5)).unwrap().to_f64(), -1.6666666666666667);
        assert_eq!(d(1e20).div(&d(3.0)).unwrap().to_f64(), 3.333333333333333e19);
        assert_eq!(d(1e300).add(&d(1e-300)).to_f64(), 1e300);
        assert_eq!(d(1e200).mul(&d(1e200)).unwrap().to_f64(), f64::INFINITY);
        assert_eq!(
            d(1.0).div(&d(0.0)).unwrap_err(),
            FuncError::reason("decimal division by 0")
        );
        assert!(Decimal::from_f64(f64::NAN).is_err());
    }
}
