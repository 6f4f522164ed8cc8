//! sprig's random strings (goutils' `CryptoRandom*`) and `shuffle`
//! (xstrings), from a cryptographically secure generator.

use std::rc::Rc;

use rand::seq::SliceRandom;
use rand::Rng;

use crate::funcs::{Env, Func, FuncError, Type};
use crate::sprig::args::{int_arg, new_string, str_arg};
use crate::unicode::{from_runes, to_runes};
use crate::value::Value;

type Res = Result<Value, FuncError>;

pub(in crate::sprig) const FUNCS: &[Func] = &[
    Func::new("randAlphaNum", &[Type::Int], rand_alpha_num),
    Func::new("randAlpha", &[Type::Int], rand_alpha),
    Func::new("randAscii", &[Type::Int], rand_ascii),
    Func::new("randNumeric", &[Type::Int], rand_numeric),
    Func::new("shuffle", &[Type::String], shuffle),
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
    let count =
        usize::try_from(count).map_err(|_| FuncError::Limit(crate::limits::Limit::Memory))?;
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

#[cfg(test)]
mod tests {
    use crate::funcs::{Budget, Env, FuncError};
    use crate::sprig::testing::{call, s};
    use crate::value::{Heap, Value};

    fn text(name: &str, args: &[Value]) -> Vec<u8> {
        call(name, args).unwrap().as_bytes().unwrap().to_vec()
    }

    #[test]
    fn lengths_and_alphabets() {
        type Class = fn(&u8) -> bool;
        let classes: [(&str, Class); 4] = [
            ("randAlphaNum", u8::is_ascii_alphanumeric),
            ("randAlpha", u8::is_ascii_alphabetic),
            ("randNumeric", u8::is_ascii_digit),
            ("randAscii", |b| (b' '..=b'~').contains(b)),
        ];
        for (name, class) in classes {
            for n in [-5, 0, 1, 100] {
                let out = text(name, &[Value::Int(n)]);
                assert_eq!(out.len() as i64, n.max(0), "{name} {n}");
                assert!(out.iter().all(class), "{name}");
            }
        }
    }

    #[test]
    fn uniform_over_the_alphabet() {
        let out = text("randNumeric", &[Value::Int(100_000)]);
        for d in b'0'..=b'9' {
            let n = out.iter().filter(|&&b| b == d).count();
            assert!((9_000..11_000).contains(&n), "{} {n}", d as char);
        }
        let out = text("randAscii", &[Value::Int(95_000)]);
        assert!(out.contains(&b' ') && out.contains(&b'~'));
        let out = text("randAlphaNum", &[Value::Int(62_000)]);
        for c in [b'0', b'9', b'A', b'Z', b'a', b'z'] {
            let n = out.iter().filter(|&&b| b == c).count();
            assert!((700..1300).contains(&n), "{} {n}", c as char);
        }
    }

    #[test]
    fn huge_counts_hit_the_memory_limit() {
        let mut heap = Heap::default();
        let mut budget = Budget::new(1 << 20, None);
        let mut env = Env {
            heap: &mut heap,
            budget: &mut budget,
        };
        let got = super::rand_alpha(&mut env, &[Value::Int(1_000_000_000)]);
        assert_eq!(
            got.map(|_| ()),
            Err(FuncError::Limit(crate::limits::Limit::Memory))
        );
    }

    #[test]
    fn shuffle_keeps_the_runes() {
        assert_eq!(text("shuffle", &[s("")]), b"");
        let out = String::from_utf8(text("shuffle", &[s("aé€😀b")])).unwrap();
        let mut got: Vec<char> = out.chars().collect();
        got.sort_unstable();
        assert_eq!(got, vec!['a', 'b', 'é', '€', '😀']);
        // Invalid bytes are runes U+FFFD, as `[]rune(s)` makes them.
        assert_eq!(
            text("shuffle", &[Value::bytes(b"\xff")]),
            "\u{FFFD}".as_bytes()
        );
        let long = "abcdefghijklmnopqrstuvwxyz".repeat(4);
        assert_ne!(text("shuffle", &[s(&long)]), long.as_bytes());
    }
}
