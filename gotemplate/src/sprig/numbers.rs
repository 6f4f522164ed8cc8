//! sprig's numbers: `cast` conversions, int64 arithmetic that wraps like Go,
//! decimal arithmetic for the `*f` functions, ranges (`until`, `seq`).

pub(super) mod cast;
mod decimal;
mod gomath;

use crate::funcs::{Env, Func, FuncError, Type};
use crate::value::{Elem, Value};

pub(crate) use cast::{to_float64, to_int, to_int64};
use decimal::Decimal;
use gomath::{go_max, go_min, go_pow10, modf_frac};

const ANY: &[Type] = &[Type::Any];
const ANY2: &[Type] = &[Type::Any, Type::Any];

pub(super) const FUNCS: &[Func] = &[
    Func::new("atoi", &[Type::String], atoi),
    Func::new("int64", ANY, int64),
    Func::new("int", ANY, int),
    Func::new("float64", ANY, float64),
    Func::new("toDecimal", ANY, to_decimal),
    Func::new("add1", ANY, add1),
    Func::variadic("add", &[], Type::Any, add),
    Func::new("sub", ANY2, sub),
    Func::new("div", ANY2, div),
    Func::new("mod", ANY2, modulo),
    Func::variadic("mul", ANY, Type::Any, mul),
    Func::new("randInt", &[Type::Int, Type::Int], rand_int),
    Func::new("add1f", ANY, add1f),
    Func::variadic("addf", &[], Type::Any, addf),
    Func::variadic("subf", ANY, Type::Any, subf),
    Func::variadic("divf", ANY, Type::Any, divf),
    Func::variadic("mulf", ANY, Type::Any, mulf),
    Func::variadic("biggest", ANY, Type::Any, max),
    Func::variadic("max", ANY, Type::Any, max),
    Func::variadic("min", ANY, Type::Any, min),
    Func::variadic("maxf", ANY, Type::Any, maxf),
    Func::variadic("minf", ANY, Type::Any, minf),
    Func::new("ceil", ANY, ceil),
    Func::new("floor", ANY, floor),
    Func::variadic("round", &[Type::Any, Type::Int], Type::Float64, round),
    Func::new("until", &[Type::Int], until),
    Func::new("untilStep", &[Type::Int, Type::Int, Type::Int], until_step),
    Func::variadic("seq", &[], Type::Int, seq),
];

type R = Result<Value, FuncError>;

fn arg(args: &[Value], i: usize) -> &Value {
    args.get(i).unwrap_or(&Value::Nil)
}

fn int_arg(args: &[Value], i: usize) -> Result<i64, FuncError> {
    match args.get(i) {
        Some(Value::Int(n)) => Ok(*n),
        _ => Err(FuncError::reason("wrong type for value; expected int")),
    }
}

fn i64_of(env: &Env<'_>, v: &Value) -> i64 {
    to_int64(env.heap, v)
}

fn f64_of(env: &Env<'_>, v: &Value) -> f64 {
    to_float64(env.heap, v)
}

/// `strconv.Atoi` with the error dropped: out-of-range values clamp.
fn atoi(_env: &mut Env<'_>, args: &[Value]) -> R {
    let s = arg(args, 0).as_bytes().unwrap_or(b"");
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Ok(Value::Int(0));
    }
    let mut n: i128 = 0;
    for &c in digits {
        n = (n * 10 + i128::from(c - b'0')).min(1 << 64);
    }
    let n = if neg { -n } else { n };
    Ok(Value::Int(
        n.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64,
    ))
}

fn int64(env: &mut Env<'_>, args: &[Value]) -> R {
    Ok(Value::Int64(i64_of(env, arg(args, 0))))
}

fn int(env: &mut Env<'_>, args: &[Value]) -> R {
    Ok(Value::Int(to_int(env.heap, arg(args, 0))))
}

fn float64(env: &mut Env<'_>, args: &[Value]) -> R {
    Ok(Value::Float64(f64_of(env, arg(args, 0))))
}

/// `strconv.ParseInt(fmt.Sprint(v), 8, 64)`, 0 on error.
fn to_decimal(env: &mut Env<'_>, args: &[Value]) -> R {
    let text = crate::sprig::args::strval(env.heap, arg(args, 0));
    let (neg, digits) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, &text[..]),
    };
    if digits.is_empty() || !digits.iter().all(|c| (b'0'..=b'7').contains(c)) {
        return Ok(Value::Int64(0));
    }
    // Octal digits only, so a leading sign is all parse_int needs to see.
    let mut n: u64 = 0;
    for &c in digits {
        match n
            .checked_mul(8)
            .and_then(|n| n.checked_add(u64::from(c - b'0')))
        {
            Some(v) => n = v,
            None => return Ok(Value::Int64(0)),
        }
    }
    let v = if neg {
        if n > 1 << 63 {
            0
        } else {
            (n as i64).wrapping_neg()
        }
    } else {
        i64::try_from(n).unwrap_or(0)
    };
    Ok(Value::Int64(v))
}

fn add1(env: &mut Env<'_>, args: &[Value]) -> R {
    Ok(Value::Int64(i64_of(env, arg(args, 0)).wrapping_add(1)))
}

fn add(env: &mut Env<'_>, args: &[Value]) -> R {
    let mut sum: i64 = 0;
    for a in args {
        sum = sum.wrapping_add(i64_of(env, a));
    }
    Ok(Value::Int64(sum))
}

fn sub(env: &mut Env<'_>, args: &[Value]) -> R {
    let (a, b) = (i64_of(env, arg(args, 0)), i64_of(env, arg(args, 1)));
    Ok(Value::Int64(a.wrapping_sub(b)))
}

const DIVIDE_BY_ZERO: &str = "runtime error: integer divide by zero";

fn div(env: &mut Env<'_>, args: &[Value]) -> R {
    let (a, b) = (i64_of(env, arg(args, 0)), i64_of(env, arg(args, 1)));
    if b == 0 {
        return Err(FuncError::reason(DIVIDE_BY_ZERO));
    }
    Ok(Value::Int64(a.wrapping_div(b)))
}

fn modulo(env: &mut Env<'_>, args: &[Value]) -> R {
    let (a, b) = (i64_of(env, arg(args, 0)), i64_of(env, arg(args, 1)));
    if b == 0 {
        return Err(FuncError::reason(DIVIDE_BY_ZERO));
    }
    Ok(Value::Int64(a.wrapping_rem(b)))
}

fn mul(env: &mut Env<'_>, args: &[Value]) -> R {
    let mut v = i64_of(env, arg(args, 0));
    for b in args.iter().skip(1) {
        v = v.wrapping_mul(i64_of(env, b));
    }
    Ok(Value::Int64(v))
}

/// A pseudo-random u64 (Go's math/rand is not a secure source either).
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.finish()
}

/// `rand.Intn(max-min) + min`; Intn panics unless its argument is positive.
fn rand_int(_env: &mut Env<'_>, args: &[Value]) -> R {
    let (lo, hi) = (int_arg(args, 0)?, int_arg(args, 1)?);
    let n = hi.wrapping_sub(lo);
    if n <= 0 {
        return Err(FuncError::reason("invalid argument to Intn"));
    }
    let n = n as u64;
    // Rejection sampling for a uniform value below n.
    let zone = u64::MAX - (u64::MAX % n);
    let mut r = random_u64();
    while r >= zone {
        r = random_u64();
    }
    Ok(Value::Int(((r % n) as i64).wrapping_add(lo)))
}

type DecOp = fn(&Decimal, &Decimal) -> Result<Decimal, FuncError>;

/// sprig's `execDecimalOp`: each operand through float64 into a decimal.
fn decimal_op(env: &mut Env<'_>, first: f64, rest: &[Value], op: DecOp) -> R {
    let mut acc = Decimal::from_f64(first)?;
    for x in rest {
        env.check_time()?;
        let d = Decimal::from_f64(f64_of(env, x))?;
        acc = op(&acc, &d)?;
    }
    Ok(Value::Float64(acc.to_f64()))
}

fn dec_add(a: &Decimal, b: &Decimal) -> Result<Decimal, FuncError> {
    Ok(a.add(b))
}
fn dec_sub(a: &Decimal, b: &Decimal) -> Result<Decimal, FuncError> {
    Ok(a.sub(b))
}

fn add1f(env: &mut Env<'_>, args: &[Value]) -> R {
    let first = f64_of(env, arg(args, 0));
    decimal_op(env, first, &[Value::Int(1)], dec_add)
}

fn addf(env: &mut Env<'_>, args: &[Value]) -> R {
    decimal_op(env, 0.0, args, dec_add)
}

fn subf(env: &mut Env<'_>, args: &[Value]) -> R {
    let first = f64_of(env, arg(args, 0));
    decimal_op(env, first, args.get(1..).unwrap_or(&[]), dec_sub)
}

fn divf(env: &mut Env<'_>, args: &[Value]) -> R {
    let first = f64_of(env, arg(args, 0));
    decimal_op(env, first, args.get(1..).unwrap_or(&[]), Decimal::div)
}

fn mulf(env: &mut Env<'_>, args: &[Value]) -> R {
    let first = f64_of(env, arg(args, 0));
    decimal_op(env, first, args.get(1..).unwrap_or(&[]), Decimal::mul)
}

fn max(env: &mut Env<'_>, args: &[Value]) -> R {
    let mut a = i64_of(env, arg(args, 0));
    for b in args.iter().skip(1) {
        a = a.max(i64_of(env, b));
    }
    Ok(Value::Int64(a))
}

fn min(env: &mut Env<'_>, args: &[Value]) -> R {
    let mut a = i64_of(env, arg(args, 0));
    for b in args.iter().skip(1) {
        a = a.min(i64_of(env, b));
    }
    Ok(Value::Int64(a))
}

fn maxf(env: &mut Env<'_>, args: &[Value]) -> R {
    let mut a = f64_of(env, arg(args, 0));
    for b in args.iter().skip(1) {
        a = go_max(a, f64_of(env, b));
    }
    Ok(Value::Float64(a))
}

fn minf(env: &mut Env<'_>, args: &[Value]) -> R {
    let mut a = f64_of(env, arg(args, 0));
    for b in args.iter().skip(1) {
        a = go_min(a, f64_of(env, b));
    }
    Ok(Value::Float64(a))
}

fn ceil(env: &mut Env<'_>, args: &[Value]) -> R {
    Ok(Value::Float64(f64_of(env, arg(args, 0)).ceil()))
}

fn floor(env: &mut Env<'_>, args: &[Value]) -> R {
    Ok(Value::Float64(f64_of(env, arg(args, 0)).floor()))
}

fn round(env: &mut Env<'_>, args: &[Value]) -> R {
    let val = f64_of(env, arg(args, 0));
    let places = int_arg(args, 1)? as f64;
    let round_on = match args.get(2) {
        Some(Value::Float64(f)) => *f,
        _ => 0.5,
    };
    let pow = go_pow10(places);
    let digit = pow * val;
    let frac = modf_frac(digit);
    let r = if frac >= round_on {
        digit.ceil()
    } else {
        digit.floor()
    };
    Ok(Value::Float64(r / pow))
}

/// The length of sprig's `untilStep` result, or `None` when Go's loop
/// counter would wrap around (Go then loops until memory runs out).
fn until_len(start: i64, stop: i64, step: i64) -> Option<u64> {
    let (start, stop, step) = (i128::from(start), i128::from(stop), i128::from(step));
    let n = if stop < start {
        if step >= 0 {
            return Some(0);
        }
        (start - stop + (-step) - 1) / (-step)
    } else {
        if step <= 0 {
            return Some(0);
        }
        (stop - start + step - 1) / step
    };
    let next = start + n * step;
    if next > i128::from(i64::MAX) || next < i128::from(i64::MIN) {
        return None;
    }
    u64::try_from(n).ok()
}

fn until_items(env: &mut Env<'_>, start: i64, stop: i64, step: i64) -> Result<Vec<i64>, FuncError> {
    let n = until_len(start, stop, step).unwrap_or(u64::MAX);
    env.charge(usize::try_from(n).unwrap_or(usize::MAX).saturating_mul(16))?;
    let mut items = Vec::with_capacity(n as usize);
    let mut i = start;
    for _ in 0..n {
        items.push(i);
        i = i.wrapping_add(step);
    }
    Ok(items)
}

fn int_list(items: Vec<i64>) -> Value {
    Value::list(Elem::Int, items.into_iter().map(Value::Int).collect())
}

fn until(env: &mut Env<'_>, args: &[Value]) -> R {
    let count = int_arg(args, 0)?;
    let step = if count < 0 { -1 } else { 1 };
    Ok(int_list(until_items(env, 0, count, step)?))
}

fn until_step(env: &mut Env<'_>, args: &[Value]) -> R {
    let (start, stop, step) = (int_arg(args, 0)?, int_arg(args, 1)?, int_arg(args, 2)?);
    Ok(int_list(until_items(env, start, stop, step)?))
}

fn seq(env: &mut Env<'_>, args: &[Value]) -> R {
    let p: Vec<i64> = (0..args.len())
        .map(|i| int_arg(args, i))
        .collect::<Result<_, _>>()?;
    let (start, stop, step) = match p.as_slice() {
        [end] => {
            let inc = if *end < 1 { -1 } else { 1 };
            (1, end.wrapping_add(inc), inc)
        }
        [start, end] => {
            let inc = if end < start { -1 } else { 1 };
            (*start, end.wrapping_add(inc), inc)
        }
        [start, step, end] => {
            let mut inc = 1;
            if end < start {
                inc = -1;
                if *step > 0 {
                    return Ok(Value::str(""));
                }
            }
            (*start, end.wrapping_add(inc), *step)
        }
        _ => return Ok(Value::str("")),
    };
    let items = until_items(env, start, stop, step)?;
    env.charge(items.len().saturating_mul(21))?;
    let text: Vec<String> = items.iter().map(i64::to_string).collect();
    Ok(Value::string(text.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sprig::testing::{call, s};

    fn i64v(v: Result<Value, FuncError>) -> i64 {
        match v {
            Ok(Value::Int64(i)) => i,
            other => panic!("not int64: {other:?}"),
        }
    }
    fn f64v(v: Result<Value, FuncError>) -> f64 {
        match v {
            Ok(Value::Float64(f)) => f,
            other => panic!("not float64: {other:?}"),
        }
    }
    fn str_of(v: Result<Value, FuncError>) -> String {
        match v {
            Ok(Value::String(b)) => String::from_utf8(b.to_vec()).unwrap(),
            other => panic!("not a string: {other:?}"),
        }
    }
    fn ints(v: Result<Value, FuncError>) -> Vec<i64> {
        match v {
            Ok(Value::List(l)) => {
                assert_eq!(l.elem, Elem::Int);
                l.items.iter().map(|i| i.as_i64().unwrap()).collect()
            }
            other => panic!("not a list: {other:?}"),
        }
    }
    use Value::{Float64 as F, Int as I};

    #[test]
    fn integer_arithmetic_as_go() {
        assert_eq!(i64v(call("add1", &[s("3")])), 4);
        assert_eq!(i64v(call("add", &[I(1), s("2"), F(3.7)])), 6);
        assert_eq!(i64v(call("add", &[])), 0);
        assert_eq!(i64v(call("sub", &[I(1), I(5)])), -4);
        assert_eq!(i64v(call("div", &[I(7), I(-2)])), -3);
        assert_eq!(i64v(call("mod", &[I(-7), I(2)])), -1);
        assert_eq!(i64v(call("mul", &[I(2), I(3), I(4)])), 24);
        assert_eq!(i64v(call("div", &[I(i64::MIN), I(-1)])), i64::MIN);
        assert_eq!(i64v(call("mod", &[I(i64::MIN), I(-1)])), 0);
        assert_eq!(i64v(call("mul", &[I(i64::MAX), I(2)])), -2);
        assert_eq!(i64v(call("add", &[I(i64::MAX), I(1)])), i64::MIN);
        for f in ["div", "mod"] {
            assert_eq!(
                call(f, &[I(1), I(0)]).unwrap_err(),
                FuncError::reason("runtime error: integer divide by zero")
            );
        }
        assert_eq!(i64v(call("biggest", &[I(1), s("5"), F(3.2)])), 5);
        assert_eq!(i64v(call("min", &[I(5), s("2"), I(3)])), 2);
    }

    #[test]
    fn conversions_as_go() {
        let atoi = |t: &str| match call("atoi", &[s(t)]) {
            Ok(I(i)) => i,
            other => panic!("{other:?}"),
        };
        assert_eq!(atoi(" 1"), 0);
        assert_eq!(atoi("+1"), 1);
        assert_eq!(atoi("0x1"), 0);
        assert_eq!(atoi("1_0"), 0);
        assert_eq!(atoi("99999999999999999999"), i64::MAX);
        assert_eq!(atoi("-99999999999999999999"), i64::MIN);
        assert!(matches!(call("int", &[s("0x1F")]), Ok(I(31))));
        assert_eq!(i64v(call("int64", &[F(1e19)])), i64::MIN);
        assert_eq!(f64v(call("float64", &[s("1_000")])), 1000.0);
        assert_eq!(i64v(call("toDecimal", &[s("777")])), 511);
        assert_eq!(i64v(call("toDecimal", &[s("-10")])), -8);
        for bad in ["0o777", "9", "1_0", ""] {
            assert_eq!(i64v(call("toDecimal", &[s(bad)])), 0, "{bad}");
        }
    }

    #[test]
    fn float_functions_as_go() {
        assert_eq!(f64v(call("add1f", &[F(1.1)])), 2.1);
        assert_eq!(f64v(call("addf", &[F(1.1), F(2.2)])), 3.3);
        assert_eq!(f64v(call("addf", &[])), 0.0);
        assert_eq!(f64v(call("subf", &[I(1), F(0.9)])), 0.1);
        assert_eq!(
            f64v(call("divf", &[I(22), I(7), F(0.001)])),
            3142.857142857143
        );
        assert_eq!(f64v(call("divf", &[I(5)])), 5.0);
        assert_eq!(f64v(call("mulf", &[F(1.1), I(3)])), 3.3);
        assert_eq!(
            call("divf", &[I(1), I(0)]).unwrap_err(),
            FuncError::reason("decimal division by 0")
        );
        assert_eq!(f64v(call("maxf", &[I(1), F(2.5), s("3.5")])), 3.5);
        assert!(f64v(call("maxf", &[I(1), F(f64::NAN)])).is_nan());
        let m = f64v(call("minf", &[F(-0.0), I(0)]));
        assert!(m == 0.0 && m.is_sign_negative());
        assert_eq!(f64v(call("ceil", &[s("2.1")])), 3.0);
        assert_eq!(f64v(call("floor", &[F(-1.2)])), -2.0);
        assert_eq!(f64v(call("round", &[F(1.23456), I(2)])), 1.23);
        assert_eq!(f64v(call("round", &[F(2.5), I(0)])), 3.0);
        assert_eq!(f64v(call("round", &[F(-2.5), I(0)])), -3.0);
        assert_eq!(f64v(call("round", &[F(1.23456), I(3), F(0.7)])), 1.234);
        assert_eq!(f64v(call("round", &[F(123.5), I(-1)])), 120.0);
        assert_eq!(f64v(call("round", &[F(2.675), I(2)])), 2.68);
        assert_eq!(
            f64v(call("round", &[F(1e300), I(5)])),
            1.0000000000000002e300
        );
        assert!(f64v(call("round", &[F(0.5), I(400)])).is_nan());
        assert_eq!(f64v(call("addf", &[F(1e308), F(1e308)])), f64::INFINITY);
        assert!(call("mulf", &[I(2), F(f64::INFINITY)]).is_err());
    }

    #[test]
    fn ranges_as_go() {
        assert_eq!(ints(call("until", &[I(5)])), [0, 1, 2, 3, 4]);
        assert_eq!(ints(call("until", &[I(-3)])), [0, -1, -2]);
        assert!(ints(call("until", &[I(0)])).is_empty());
        assert_eq!(ints(call("untilStep", &[I(0), I(10), I(3)])), [0, 3, 6, 9]);
        assert_eq!(
            ints(call("untilStep", &[I(10), I(0), I(-3)])),
            [10, 7, 4, 1]
        );
        assert!(ints(call("untilStep", &[I(0), I(10), I(0)])).is_empty());
        assert!(ints(call("untilStep", &[I(10), I(0), I(3)])).is_empty());
        let seqs: [(&[i64], &str); 12] = [
            (&[5], "1 2 3 4 5"),
            (&[-3], "1 0 -1 -2 -3"),
            (&[0], "1 0"),
            (&[2, 5], "2 3 4 5"),
            (&[5, 2], "5 4 3 2"),
            (&[0, 2, 10], "0 2 4 6 8 10"),
            (&[10, -2, 0], "10 8 6 4 2 0"),
            (&[10, 2, 0], ""),
            (&[], ""),
            (&[1, 2, 3, 4], ""),
            (&[1, 1], "1"),
            (&[1, 0, 1], ""),
        ];
        for (p, want) in seqs {
            let args: Vec<Value> = p.iter().map(|i| I(*i)).collect();
            assert_eq!(str_of(call("seq", &args)), want, "{p:?}");
        }
    }

    #[test]
    fn huge_ranges_hit_the_memory_bound() {
        let err = call("until", &[I(1_000_000_000)]).unwrap_err();
        assert!(matches!(
            err,
            FuncError::Limit(crate::limits::Limit::Memory)
        ));
        // Go's counter would wrap and loop forever.
        let err = call("untilStep", &[I(0), I(i64::MAX), I(1 << 62)]).unwrap_err();
        assert!(matches!(
            err,
            FuncError::Limit(crate::limits::Limit::Memory)
        ));
        assert!(call("seq", &[I(0), I(1 << 40)]).is_err());
        // Go's end+1 wraps: an empty range.
        assert_eq!(str_of(call("seq", &[I(i64::MIN), I(i64::MAX)])), "");
    }

    #[test]
    fn rand_int_in_range() {
        for _ in 0..100 {
            match call("randInt", &[I(-3), I(4)]) {
                Ok(I(v)) => assert!((-3..4).contains(&v)),
                other => panic!("{other:?}"),
            }
        }
        assert!(matches!(call("randInt", &[I(5), I(6)]), Ok(I(5))));
        assert_eq!(
            call("randInt", &[I(5), I(5)]).unwrap_err(),
            FuncError::reason("invalid argument to Intn")
        );
    }
}
