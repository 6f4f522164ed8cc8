//! sprig's string functions (`strings.go` and the `genericMap` entries that
//! wrap Go's `strings` package, goutils and xstrings).

use std::rc::Rc;

use crate::funcs::{Env, Func, FuncError, Type};
use crate::sprig::args::{int_arg, new_string, slice, str_arg};
use crate::unicode;
use crate::value::Value;

mod case;
mod list;
pub(super) mod random;
mod wrap;

use Type::{Any, Int, String as Str};

pub(super) const FUNCS: &[Func] = &[
    Func::new("hello", &[], hello),
    Func::new("abbrev", &[Int, Str], wrap::abbrev),
    Func::new("abbrevboth", &[Int, Int, Str], wrap::abbrevboth),
    Func::new("trunc", &[Int, Str], trunc),
    Func::new("trim", &[Str], trim),
    Func::new("upper", &[Str], case::upper),
    Func::new("lower", &[Str], case::lower),
    Func::new("title", &[Str], case::title),
    Func::new("untitle", &[Str], case::untitle),
    Func::new("substr", &[Int, Int, Str], substr),
    Func::new("repeat", &[Int, Str], repeat),
    Func::new("trimall", &[Str, Str], trim_all),
    Func::new("trimAll", &[Str, Str], trim_all),
    Func::new("trimSuffix", &[Str, Str], trim_suffix),
    Func::new("trimPrefix", &[Str, Str], trim_prefix),
    Func::new("nospace", &[Str], case::nospace),
    Func::new("initials", &[Str], case::initials),
    Func::new("swapcase", &[Str], case::swapcase),
    Func::new("snakecase", &[Str], case::snakecase),
    Func::new("camelcase", &[Str], case::camelcase),
    Func::new("kebabcase", &[Str], case::kebabcase),
    Func::new("wrap", &[Int, Str], wrap::wrap),
    Func::new("wrapWith", &[Int, Str, Str], wrap::wrap_with),
    Func::new("contains", &[Str, Str], contains),
    Func::new("hasPrefix", &[Str, Str], has_prefix),
    Func::new("hasSuffix", &[Str, Str], has_suffix),
    Func::variadic("quote", &[], Any, list::quote),
    Func::variadic("squote", &[], Any, list::squote),
    Func::variadic("cat", &[], Any, list::cat),
    Func::new("indent", &[Int, Str], indent),
    Func::new("nindent", &[Int, Str], nindent),
    Func::new("replace", &[Str, Str, Str], replace),
    Func::new("plural", &[Str, Str, Int], plural),
    Func::new("toString", &[Any], list::to_string),
    Func::new("split", &[Str, Str], list::split),
    Func::new("splitList", &[Str, Str], list::split_list),
    Func::new("splitn", &[Str, Int, Str], list::splitn),
    Func::new("toStrings", &[Any], list::to_strings),
    Func::new("join", &[Str, Any], list::join),
    Func::new("sortAlpha", &[Any], list::sort_alpha),
];

fn hello(_: &mut Env<'_>, _: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::str("Hello!"))
}

fn trunc(env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let c = int_arg(args, 0)?;
    let s = str_arg(args, 1)?;
    let len = s.len() as i64;
    let out = if c < 0 && len.wrapping_add(c) > 0 {
        &s[(len + c) as usize..]
    } else if c >= 0 && len > c {
        &s[..c as usize]
    } else {
        return Ok(Value::String(s.clone()));
    };
    new_string(env, out.to_vec())
}

/// `strings.TrimSpace`: trims Unicode white space, never invalid bytes.
fn trim(env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let s = str_arg(args, 0)?;
    let mut t: &[u8] = s;
    loop {
        let (r, w) = unicode::decode(t);
        if w == 0 || !unicode::is_space(r) {
            break;
        }
        t = &t[w..];
    }
    loop {
        let (r, w) = unicode::decode_last(t);
        if w == 0 || !unicode::is_space(r) {
            break;
        }
        t = &t[..t.len() - w];
    }
    new_string(env, t.to_vec())
}

/// sprig's `substring`: Go slicing, so bad bounds are a runtime error.
fn substr(env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let start = int_arg(args, 0)?;
    let end = int_arg(args, 1)?;
    let s = str_arg(args, 2)?;
    let len = s.len() as i64;
    let out = if start < 0 {
        slice(s, 0, end)?
    } else if end < 0 || end > len {
        slice(s, start, len)?
    } else {
        slice(s, start, end)?
    };
    new_string(env, out.to_vec())
}

/// `strings.Repeat(s, count)`, with its panics as errors.
pub(super) fn go_repeat(env: &mut Env<'_>, s: &[u8], count: i64) -> Result<Vec<u8>, FuncError> {
    if count == 0 {
        return Ok(Vec::new());
    }
    if count < 0 {
        return Err(FuncError::reason("strings: negative Repeat count"));
    }
    let n = (s.len() as u64)
        .checked_mul(count as u64)
        .filter(|&n| n <= i64::MAX as u64)
        .ok_or_else(|| FuncError::reason("strings: Repeat output length overflow"))?;
    let n = usize::try_from(n).map_err(|_| FuncError::Limit(crate::limits::Limit::Memory))?;
    env.charge(n)?;
    Ok(s.repeat(count as usize))
}

fn repeat(env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let count = int_arg(args, 0)?;
    let s = str_arg(args, 1)?;
    if count == 1 {
        return Ok(Value::String(s.clone()));
    }
    let out = go_repeat(env, s, count)?;
    Ok(Value::String(Rc::from(out)))
}

/// `strings.Trim(s, cutset)`: a rune is cut if `cutset` holds it; U+FFFD in
/// the cutset also cuts invalid bytes, as Go's `ContainsRune` does.
fn trim_all(env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let cutset = str_arg(args, 0)?;
    let s = str_arg(args, 1)?;
    if s.is_empty() || cutset.is_empty() {
        return Ok(Value::String(s.clone()));
    }
    let t = if cutset.is_ascii() {
        let mut set = [false; 128];
        for &b in cutset.iter() {
            set[usize::from(b & 0x7F)] = true;
        }
        let cut = |b: &u8| b.is_ascii() && set[usize::from(*b)];
        let start = s.iter().position(|b| !cut(b)).unwrap_or(s.len());
        let end = s.iter().rposition(|b| !cut(b)).map_or(start, |i| i + 1);
        &s[start..end.max(start)]
    } else {
        // Sorted, so each lookup is a binary search however long the cutset.
        let mut cut: Vec<u32> = unicode::to_runes(cutset);
        cut.sort_unstable();
        cut.dedup();
        let cut = |r: u32| cut.binary_search(&r).is_ok();
        let mut t: &[u8] = s;
        while !t.is_empty() {
            let (r, w) = unicode::decode(t);
            if !cut(r) {
                break;
            }
            t = &t[w..];
        }
        while !t.is_empty() {
            let (r, w) = unicode::decode_last(t);
            if !cut(r) {
                break;
            }
            t = &t[..t.len() - w];
        }
        t
    };
    new_string(env, t.to_vec())
}

fn trim_suffix(env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let suffix = str_arg(args, 0)?;
    let s = str_arg(args, 1)?;
    match s.strip_suffix(&suffix[..]) {
        Some(t) => new_string(env, t.to_vec()),
        None => Ok(Value::String(s.clone())),
    }
}

fn trim_prefix(env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let prefix = str_arg(args, 0)?;
    let s = str_arg(args, 1)?;
    match s.strip_prefix(&prefix[..]) {
        Some(t) => new_string(env, t.to_vec()),
        None => Ok(Value::String(s.clone())),
    }
}

/// `strings.Index`, in linear time.
pub(super) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

fn contains(_: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let sub = str_arg(args, 0)?;
    let s = str_arg(args, 1)?;
    Ok(Value::Bool(find(s, sub).is_some()))
}

fn has_prefix(_: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let prefix = str_arg(args, 0)?;
    Ok(Value::Bool(str_arg(args, 1)?.starts_with(prefix)))
}

fn has_suffix(_: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let suffix = str_arg(args, 0)?;
    Ok(Value::Bool(str_arg(args, 1)?.ends_with(suffix)))
}

/// `strings.Replace(s, old, new, -1)`. The size is charged before building:
/// many matches times a long replacement could be huge.
pub(super) fn replace_all(
    env: &mut Env<'_>,
    s: &[u8],
    old: &[u8],
    new: &[u8],
) -> Result<Vec<u8>, FuncError> {
    if old == new {
        return Ok(s.to_vec());
    }
    let finder = memchr::memmem::Finder::new(old);
    let matches = if old.is_empty() {
        unicode::runes(s).count() + 1
    } else {
        // Non-overlapping matches, as Go counts them.
        let mut n = 0;
        for _ in finder.find_iter(s) {
            env.check_time()?;
            n += 1;
        }
        n
    };
    let size = matches
        .checked_mul(new.len())
        .and_then(|n| n.checked_add(s.len()))
        .ok_or(FuncError::Limit(crate::limits::Limit::Memory))?;
    env.charge(size)?;
    let mut out = Vec::with_capacity(size);
    if old.is_empty() {
        out.extend_from_slice(new);
        for (i, _, w) in unicode::runes(s) {
            out.extend_from_slice(&s[i..i + w]);
            out.extend_from_slice(new);
        }
    } else {
        let mut start = 0;
        for i in finder.find_iter(s) {
            env.check_time()?;
            out.extend_from_slice(&s[start..i]);
            out.extend_from_slice(new);
            start = i + old.len();
        }
        out.extend_from_slice(&s[start..]);
    }
    Ok(out)
}

fn replace(env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let old = str_arg(args, 0)?;
    let new = str_arg(args, 1)?;
    let s = str_arg(args, 2)?;
    let out = replace_all(env, s, old, new)?;
    Ok(Value::String(Rc::from(out)))
}

/// sprig's `indent`: the padding before the text and after every newline.
fn indent_bytes(
    env: &mut Env<'_>,
    spaces: i64,
    v: &[u8],
    newline: bool,
) -> Result<Value, FuncError> {
    let pad = go_repeat(env, b" ", spaces)?;
    let mut nl = b"\n".to_vec();
    nl.extend_from_slice(&pad);
    let body = replace_all(env, v, b"\n", &nl)?;
    let mut out = Vec::with_capacity(body.len() + pad.len() + 1);
    if newline {
        out.push(b'\n');
    }
    out.extend_from_slice(&pad);
    out.extend_from_slice(&body);
    new_string(env, out)
}

fn indent(env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    indent_bytes(env, int_arg(args, 0)?, str_arg(args, 1)?, false)
}

fn nindent(env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    indent_bytes(env, int_arg(args, 0)?, str_arg(args, 1)?, true)
}

fn plural(_: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let one = str_arg(args, 0)?;
    let many = str_arg(args, 1)?;
    let chosen = if int_arg(args, 2)? == 1 { one } else { many };
    Ok(Value::String(chosen.clone()))
}

#[cfg(test)]
mod tests {
    use crate::funcs::{Budget, Env, FuncError};
    use crate::limits::Limit;
    use crate::sprig::testing::check::{b, err, i, ok, run};
    use crate::value::{Heap, Value};

    #[test]
    fn matches_go() {
        run(vec![
            ("hello", vec![], ok(b"Hello!")),
            ("trunc", vec![i(3), b(b"hello")], ok(b"hel")),
            ("trunc", vec![i(-3), b(b"hello")], ok(b"llo")),
            ("trunc", vec![i(10), b(b"hello")], ok(b"hello")),
            ("trunc", vec![i(-10), b(b"hello")], ok(b"hello")),
            ("trunc", vec![i(0), b(b"hello")], ok(b"")),
            ("trunc", vec![i(-5), b(b"hello")], ok(b"hello")),
            ("trunc", vec![i(2), b(b"h\xc3\xa9llo")], ok(b"h\xc3")),
            ("trim", vec![b(b"  \x09 hi \n ")], ok(b"hi")),
            (
                "trim",
                vec![b(b"\xc2\xa0\xe3\x80\x80x\xe2\x80\x8b \xc2\x85")],
                ok(b"x\xe2\x80\x8b"),
            ),
            ("trim", vec![b(b"\xff  ")], ok(b"\xff")),
            ("trim", vec![b(b" \x85x\x85 ")], ok(b"\x85x\x85")),
            ("trim", vec![b(b"")], ok(b"")),
            ("substr", vec![i(1), i(3), b(b"hello")], ok(b"el")),
            ("substr", vec![i(-1), i(3), b(b"hello")], ok(b"hel")),
            ("substr", vec![i(2), i(-1), b(b"hello")], ok(b"llo")),
            ("substr", vec![i(2), i(99), b(b"hello")], ok(b"llo")),
            (
                "substr",
                vec![i(6), i(99), b(b"hello")],
                err("runtime error: slice bounds out of range"),
            ),
            (
                "substr",
                vec![i(-1), i(9), b(b"hello")],
                err("runtime error: slice bounds out of range"),
            ),
            (
                "substr",
                vec![i(3), i(1), b(b"hello")],
                err("runtime error: slice bounds out of range"),
            ),
            (
                "substr",
                vec![i(-1), i(-1), b(b"hello")],
                err("runtime error: slice bounds out of range"),
            ),
            ("repeat", vec![i(3), b(b"ab")], ok(b"ababab")),
            ("repeat", vec![i(0), b(b"ab")], ok(b"")),
            (
                "repeat",
                vec![i(-1), b(b"ab")],
                err("strings: negative Repeat count"),
            ),
            ("repeat", vec![i(1), b(b"ab")], ok(b"ab")),
            (
                "repeat",
                vec![i(-1), b(b"")],
                err("strings: negative Repeat count"),
            ),
            ("repeat", vec![i(0), b(b"x")], ok(b"")),
            (
                "repeat",
                vec![i(9223372036854775807), b(b"ab")],
                err("strings: Repeat output length overflow"),
            ),
            ("repeat", vec![i(9223372036854775807), b(b"")], ok(b"")),
            ("trimAll", vec![b(b"$"), b(b"$$5.00$")], ok(b"5.00")),
            ("trimall", vec![b(b"ab"), b(b"abcba")], ok(b"c")),
            ("trimAll", vec![b(b""), b(b"aa")], ok(b"aa")),
            (
                "trimAll",
                vec![b(b"\xc3\xa9"), b(b"\xc3\xa9\xc3\xa9x\xc3\xa9\xc3\xa9")],
                ok(b"x"),
            ),
            (
                "trimAll",
                vec![b(b"\xc3\xa9a"), b(b"a\xffxa\xc3\xa9")],
                ok(b"\xffx"),
            ),
            (
                "trimAll",
                vec![b(b"\xff"), b(b"\xfex\xef\xbf\xbd")],
                ok(b"x"),
            ),
            (
                "trimAll",
                vec![b(b"a\xef\xbf\xbd"), b(b"\xfe\xc3x\xfe")],
                ok(b"x"),
            ),
            ("trimAll", vec![b(b"abc"), b(b"\xffa")], ok(b"\xff")),
            ("trimSuffix", vec![b(b"-"), b(b"hello-")], ok(b"hello")),
            ("trimSuffix", vec![b(b"x"), b(b"hello")], ok(b"hello")),
            ("trimPrefix", vec![b(b"-"), b(b"-hello")], ok(b"hello")),
            ("trimPrefix", vec![b(b""), b(b"hello")], ok(b"hello")),
            ("contains", vec![b(b"cat"), b(b"catch")], ok(b"true")),
            ("contains", vec![b(b""), b(b"")], ok(b"true")),
            ("contains", vec![b(b"dog"), b(b"catch")], ok(b"false")),
            ("hasPrefix", vec![b(b"ca"), b(b"cat")], ok(b"true")),
            ("hasPrefix", vec![b(b"at"), b(b"cat")], ok(b"false")),
            ("hasSuffix", vec![b(b"at"), b(b"cat")], ok(b"true")),
            ("hasSuffix", vec![b(b""), b(b"cat")], ok(b"true")),
            ("indent", vec![i(2), b(b"a\nb\n")], ok(b"  a\n  b\n  ")),
            ("indent", vec![i(0), b(b"a\nb")], ok(b"a\nb")),
            (
                "indent",
                vec![i(-1), b(b"a")],
                err("strings: negative Repeat count"),
            ),
            ("nindent", vec![i(3), b(b"a\nb")], ok(b"\n   a\n   b")),
            ("nindent", vec![i(1), b(b"")], ok(b"\n ")),
            (
                "replace",
                vec![b(b"a"), b(b"bb"), b(b"banana")],
                ok(b"bbbnbbnbb"),
            ),
            (
                "replace",
                vec![b(b""), b(b"-"), b(b"a\xe2\x82\xacb\xff")],
                ok(b"-a-\xe2\x82\xac-b-\xff-"),
            ),
            ("replace", vec![b(b"x"), b(b"y"), b(b"abc")], ok(b"abc")),
            ("replace", vec![b(b"an"), b(b""), b(b"banana")], ok(b"ba")),
            ("replace", vec![b(b""), b(b""), b(b"ab")], ok(b"ab")),
            ("replace", vec![b(b""), b(b"x"), b(b"")], ok(b"x")),
            ("replace", vec![b(b"aa"), b(b"b"), b(b"aaaaa")], ok(b"bba")),
            ("plural", vec![b(b"one"), b(b"many"), i(1)], ok(b"one")),
            ("plural", vec![b(b"one"), b(b"many"), i(2)], ok(b"many")),
            ("plural", vec![b(b"one"), b(b"many"), i(0)], ok(b"many")),
            ("plural", vec![b(b"one"), b(b"many"), i(-1)], ok(b"many")),
        ]);
    }

    fn call_with_budget(name: &str, args: &[Value], budget: usize) -> Result<Value, FuncError> {
        let mut heap = Heap::default();
        let mut budget = Budget::new(budget, None);
        let mut env = Env {
            heap: &mut heap,
            budget: &mut budget,
        };
        let f = super::FUNCS.iter().find(|f| f.name == name).unwrap();
        f.run(&mut env, args)
    }

    #[test]
    fn hostile_searches_stay_linear() {
        let mut hay = vec![b'a'; 400_000];
        let mut needle = vec![b'a'; 200_000];
        needle.push(b'b');
        let got = crate::sprig::testing::call("contains", &[b(&needle), b(&hay)]);
        assert!(matches!(got, Ok(Value::Bool(false))));
        hay.push(b'b');
        let got = crate::sprig::testing::call("replace", &[b(&needle), b(b""), b(&hay)]);
        assert_eq!(got.unwrap().as_bytes().unwrap().len(), 200_000);
        let cutset = "é€".repeat(50_000);
        let s = "€".repeat(100_000) + "x";
        let got = crate::sprig::testing::call("trimAll", &[b(cutset.as_bytes()), b(s.as_bytes())]);
        assert_eq!(got.unwrap().as_bytes().unwrap(), b"x");
    }

    #[test]
    fn big_results_hit_the_memory_limit_first() {
        let limit = Err(FuncError::Limit(Limit::Memory));
        let huge = [
            ("repeat", vec![i(1_000_000_000), b(b"x")]),
            ("repeat", vec![i(i64::MAX / 2), b(b"x")]),
            ("indent", vec![i(1_000_000_000), b(b"a")]),
            ("nindent", vec![i(1000), b(&[b'\n'; 100_000])]),
            (
                "replace",
                vec![b(b"a"), b(&[b'b'; 100_000]), b(&[b'a'; 100_000])],
            ),
            (
                "replace",
                vec![b(b""), b(&[b'b'; 100_000]), b(&[b'a'; 100_000])],
            ),
        ];
        for (name, args) in huge {
            let got = call_with_budget(name, &args, 1 << 20);
            assert_eq!(got.map(|_| ()), limit, "{name}");
        }
    }
}
