//! sprig's string functions (`strings.go` and the `genericMap` entries that
//! wrap Go's `strings` package, goutils and xstrings).

use std::rc::Rc;

use crate::funcs::{Env, Func, FuncError, Type};
use crate::value::{Bytes, Value};

#[path = "strings_case.rs"]
mod case;
#[path = "strings_list.rs"]
mod list;
#[path = "strings_utf8.rs"]
pub(super) mod utf8;
#[path = "strings_wrap.rs"]
mod wrap;

use Type::{Any, Int, String as Str};

pub(super) const FUNCS: &[Func] = &[
    f("hello", &[], hello),
    f("abbrev", &[Int, Str], wrap::abbrev),
    f("abbrevboth", &[Int, Int, Str], wrap::abbrevboth),
    f("trunc", &[Int, Str], trunc),
    f("trim", &[Str], trim),
    f("upper", &[Str], case::upper),
    f("lower", &[Str], case::lower),
    f("title", &[Str], case::title),
    f("untitle", &[Str], case::untitle),
    f("substr", &[Int, Int, Str], substr),
    f("repeat", &[Int, Str], repeat),
    f("trimall", &[Str, Str], trim_all),
    f("trimAll", &[Str, Str], trim_all),
    f("trimSuffix", &[Str, Str], trim_suffix),
    f("trimPrefix", &[Str, Str], trim_prefix),
    f("nospace", &[Str], case::nospace),
    f("initials", &[Str], case::initials),
    f("swapcase", &[Str], case::swapcase),
    f("snakecase", &[Str], case::snakecase),
    f("camelcase", &[Str], case::camelcase),
    f("kebabcase", &[Str], case::kebabcase),
    f("wrap", &[Int, Str], wrap::wrap),
    f("wrapWith", &[Int, Str, Str], wrap::wrap_with),
    f("contains", &[Str, Str], contains),
    f("hasPrefix", &[Str, Str], has_prefix),
    f("hasSuffix", &[Str, Str], has_suffix),
    variadic("quote", list::quote),
    variadic("squote", list::squote),
    variadic("cat", list::cat),
    f("indent", &[Int, Str], indent),
    f("nindent", &[Int, Str], nindent),
    f("replace", &[Str, Str, Str], replace),
    f("plural", &[Str, Str, Int], plural),
    f("toString", &[Any], list::to_string),
    f("split", &[Str, Str], list::split),
    f("splitList", &[Str, Str], list::split_list),
    f("splitn", &[Str, Int, Str], list::splitn),
    f("toStrings", &[Any], list::to_strings),
    f("join", &[Str, Any], list::join),
    f("sortAlpha", &[Any], list::sort_alpha),
];

const fn f(name: &'static str, params: &'static [Type], call: crate::funcs::Native) -> Func {
    Func {
        name,
        params,
        variadic: None,
        call,
    }
}

const fn variadic(name: &'static str, call: crate::funcs::Native) -> Func {
    Func {
        name,
        params: &[],
        variadic: Some(Any),
        call,
    }
}

/// Argument `i`, which the signature makes a Go `string`.
pub(super) fn str_arg(args: &[Value], i: usize) -> Result<&Bytes, FuncError> {
    match args.get(i) {
        Some(Value::String(s)) => Ok(s),
        _ => Err(FuncError::reason("wrong type for value; expected string")),
    }
}

/// Argument `i`, which the signature makes a Go `int`.
pub(super) fn int_arg(args: &[Value], i: usize) -> Result<i64, FuncError> {
    match args.get(i) {
        Some(Value::Int(n)) => Ok(*n),
        _ => Err(FuncError::reason("wrong type for value; expected int")),
    }
}

/// A new Go string, charged to the render's memory budget.
pub(super) fn new_string(env: &mut Env<'_>, bytes: Vec<u8>) -> Result<Value, FuncError> {
    env.charge(bytes.len())?;
    Ok(Value::String(Rc::from(bytes)))
}

/// What Go panics with when a slice expression is out of range. Go's text
/// also names the bounds and the length; they are left out as they may tell
/// a secret's length.
pub(super) fn out_of_range() -> FuncError {
    FuncError::reason("runtime error: slice bounds out of range")
}

/// `s[lo:hi]` with Go's bounds check.
pub(super) fn slice(s: &[u8], lo: i64, hi: i64) -> Result<&[u8], FuncError> {
    let lo = usize::try_from(lo).map_err(|_| out_of_range())?;
    let hi = usize::try_from(hi).map_err(|_| out_of_range())?;
    s.get(lo..hi).ok_or_else(out_of_range)
}

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
        let (r, w) = utf8::decode(t);
        if w == 0 || !utf8::is_space(r) {
            break;
        }
        t = &t[w..];
    }
    loop {
        let (r, w) = utf8::decode_last(t);
        if w == 0 || !utf8::is_space(r) {
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
    let n = usize::try_from(n).map_err(|_| FuncError::Limit(crate::Limit::Memory))?;
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
        let start = s
            .iter()
            .position(|b| !cutset.contains(b))
            .unwrap_or(s.len());
        let end = s
            .iter()
            .rposition(|b| !cutset.contains(b))
            .map_or(start, |i| i + 1);
        &s[start..end.max(start)]
    } else {
        let cut: Vec<u32> = utf8::to_runes(cutset);
        let mut t: &[u8] = s;
        while !t.is_empty() {
            let (r, w) = utf8::decode(t);
            if !cut.contains(&r) {
                break;
            }
            t = &t[w..];
        }
        while !t.is_empty() {
            let (r, w) = utf8::decode_last(t);
            if !cut.contains(&r) {
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

/// `strings.Index`.
pub(super) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
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
    let matches = if old.is_empty() {
        utf8::runes(s).count() + 1
    } else {
        let mut n = 0;
        let mut rest = s;
        while let Some(i) = find(rest, old) {
            env.check_time()?;
            n += 1;
            rest = &rest[i + old.len()..];
        }
        n
    };
    let size = matches
        .checked_mul(new.len())
        .and_then(|n| n.checked_add(s.len()))
        .ok_or(FuncError::Limit(crate::Limit::Memory))?;
    env.charge(size)?;
    let mut out = Vec::with_capacity(size);
    if old.is_empty() {
        out.extend_from_slice(new);
        for (i, _, w) in utf8::runes(s) {
            out.extend_from_slice(&s[i..i + w]);
            out.extend_from_slice(new);
        }
    } else {
        let mut rest = s;
        while let Some(i) = find(rest, old) {
            env.check_time()?;
            out.extend_from_slice(&rest[..i]);
            out.extend_from_slice(new);
            rest = &rest[i + old.len()..];
        }
        out.extend_from_slice(rest);
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
