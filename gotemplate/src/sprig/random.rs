//! sprig's random strings (goutils' `CryptoRandom*`) and `shuffle`
//! (xstrings), from a cryptographically secure generator.

use std::rc::Rc;

use rand::seq::SliceRandom;
use rand::Rng;

use super::strings::utf8::{from_runes, to_runes};
use super::strings::{int_arg, new_string, str_arg};
use crate::funcs::{Env, Func, FuncError, Type};
use crate::value::Value;

type Res = Result<Value, FuncError>;

const fn f(name: &'static str, params: &'static [Type], call: crate::funcs::Native) -> Func {
    Func {
        name,
        params,
        variadic: None,
        call,
    }
}

pub(super) const FUNCS: &[Func] = &[
    f("randAlphaNum", &[Type::Int], rand_alpha_num),
    f("randAlpha", &[Type::Int], rand_alpha),
    f("randAscii", &[Type::Int], rand_ascii),
    f("randNumeric", &[Type::Int], rand_numeric),
    f("shuffle", &[Type::String], shuffle),
];

const DIGITS: &[u8] = b"0123456789";
const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const ALPHANUMERIC: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `count` characters drawn uniformly from `alphabet`. goutils draws from a
/// range and rejects what is not in the class, which is uniform over the
/// class too. A count below 1 is "" (goutils' error for a negative count is
/// dropped by sprig).
fn random_string(env: &mut Env<'_>, count: i64, alphabet: &[u8]) -> Res {
    if count <= 0 {
        return Ok(Value::String(Rc::from(&b""[..])));
    }
    let count = usize::try_from(count).map_err(|_| FuncError::Limit(crate::Limit::Memory))?;
    env.charge(count)?;
    let mut rng = rand::rng();
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        env.check_time()?;
        let i = rng.random_range(0..alphabet.len());
        out.push(alphabet.get(i).copied().unwrap_or(b'0'));
    }
    Ok(Value::String(Rc::from(out)))
}

fn rand_alpha_num(env: &mut Env<'_>, args: &[Value]) -> Res {
    random_string(env, int_arg(args, 0)?, ALPHANUMERIC)
}

fn rand_alpha(env: &mut Env<'_>, args: &[Value]) -> Res {
    random_string(env, int_arg(args, 0)?, LETTERS)
}

fn rand_numeric(env: &mut Env<'_>, args: &[Value]) -> Res {
    random_string(env, int_arg(args, 0)?, DIGITS)
}

/// `randAscii`: printable ASCII, ' ' to '~'.
fn rand_ascii(env: &mut Env<'_>, args: &[Value]) -> Res {
    const PRINTABLE: [u8; 95] = {
        let mut a = [0u8; 95];
        let mut i = 0;
        while i < 95 {
            a[i] = b' ' + i as u8;
            i += 1;
        }
        a
    };
    random_string(env, int_arg(args, 0)?, &PRINTABLE)
}

/// xstrings `Shuffle`: the runes in random order (invalid bytes become U+FFFD).
fn shuffle(env: &mut Env<'_>, args: &[Value]) -> Res {
    let s = str_arg(args, 0)?;
    if s.is_empty() {
        return Ok(Value::String(s.clone()));
    }
    env.charge(s.len().saturating_mul(4))?;
    let mut runes = to_runes(s);
    runes.shuffle(&mut rand::rng());
    new_string(env, from_runes(&runes))
}
