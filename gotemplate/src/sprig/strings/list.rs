//! Functions between strings and lists: `quote`, `squote`, `cat`,
//! `toString`, `split`, `splitn`, `splitList`, `toStrings`, `join`, `sortAlpha`.

use std::rc::Rc;

use crate::fmt::{format_value, go_quote};
use crate::funcs::{Env, FuncError};
use crate::sprig::args::strval;
use crate::sprig::args::{int_arg, new_string, str_arg};
use crate::unicode::runes;
use crate::value::{Elem, Value};

type Res = Result<Value, FuncError>;

/// Bytes charged per list item or map entry besides its content.
const ITEM: usize = 16;

fn is_nil(v: &Value) -> bool {
    matches!(v, Value::Nil | Value::Invalid)
}

/// Joins `parts` with `sep`, charging the result first.
fn join_parts(env: &mut Env<'_>, parts: &[impl AsRef<[u8]>], sep: &[u8]) -> Res {
    let size = parts
        .iter()
        .map(|p| p.as_ref().len())
        .fold(sep.len().saturating_mul(parts.len()), usize::saturating_add);
    env.charge(size)?;
    let mut out = Vec::with_capacity(size);
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(sep);
        }
        out.extend_from_slice(p.as_ref());
    }
    Ok(Value::String(Rc::from(out)))
}

/// `quote`: `%q` of each non-nil argument's `strval`, space-separated.
pub(super) fn quote(env: &mut Env<'_>, args: &[Value]) -> Res {
    let parts: Vec<Vec<u8>> = args
        .iter()
        .filter(|v| !is_nil(v))
        .map(|v| go_quote(&strval(env.heap, v)))
        .collect();
    join_parts(env, &parts, b" ")
}

/// `squote`: `'%v'` of each non-nil argument, space-separated.
pub(super) fn squote(env: &mut Env<'_>, args: &[Value]) -> Res {
    let parts: Vec<Vec<u8>> = args
        .iter()
        .filter(|v| !is_nil(v))
        .map(|v| {
            let mut p = vec![b'\''];
            p.extend(format_value(env.heap, v));
            p.push(b'\'');
            p
        })
        .collect();
    join_parts(env, &parts, b" ")
}

/// `cat`: `%v` of each non-nil argument, space-separated.
pub(super) fn cat(env: &mut Env<'_>, args: &[Value]) -> Res {
    let parts: Vec<Vec<u8>> = args
        .iter()
        .filter(|v| !is_nil(v))
        .map(|v| format_value(env.heap, v))
        .collect();
    join_parts(env, &parts, b" ")
}

pub(super) fn to_string(env: &mut Env<'_>, args: &[Value]) -> Res {
    match args.first() {
        Some(Value::String(s)) => Ok(Value::String(s.clone())),
        Some(v) => {
            let out = strval(env.heap, v);
            new_string(env, out)
        }
        None => Err(FuncError::reason("wrong number of args: want 1")),
    }
}

/// `strings.SplitN(s, sep, n)` (`n < 0`: all pieces), charged before the
/// pieces are made.
fn split_parts<'a>(
    env: &mut Env<'_>,
    s: &'a [u8],
    sep: &[u8],
    n: i64,
) -> Result<Vec<&'a [u8]>, FuncError> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let mut parts = Vec::new();
    if sep.is_empty() {
        // `explode`: one piece per rune (an invalid byte is a rune), the
        // last piece holding the rest.
        let count = runes(s).count();
        let n = if n < 0 || n as u64 > count as u64 {
            count
        } else {
            n as usize
        };
        env.charge(n.saturating_mul(ITEM).saturating_add(s.len()))?;
        let mut rest = s;
        for _ in 1..n {
            let (_, w) = crate::unicode::decode(rest);
            parts.push(&rest[..w]);
            rest = &rest[w..];
        }
        if n > 0 {
            parts.push(rest);
        }
        return Ok(parts);
    }
    let max = if n < 0 { u64::MAX } else { n as u64 };
    let mut start = 0;
    for i in memchr::memmem::find_iter(s, sep) {
        if (parts.len() as u64) + 1 >= max {
            break;
        }
        env.check_time()?;
        env.charge(ITEM.saturating_add(i - start))?;
        parts.push(&s[start..i]);
        start = i + sep.len();
    }
    let rest = &s[start..];
    env.charge(ITEM.saturating_add(rest.len()))?;
    parts.push(rest);
    Ok(parts)
}

/// A `map[string]string` with keys `_0`, `_1`, ...
fn parts_map(env: &mut Env<'_>, parts: Vec<&[u8]>) -> Res {
    let map = env.heap.new_map(Elem::String);
    let Value::Map(m) = map else {
        return Err(FuncError::reason("internal error: new map is not a map"));
    };
    env.charge(parts.len().saturating_mul(ITEM))?;
    let entries = &mut env.heap.get_mut(m).entries;
    for (i, p) in parts.into_iter().enumerate() {
        entries.insert(Rc::from(format!("_{i}").as_bytes()), Value::bytes(p));
    }
    Ok(map)
}

pub(super) fn split(env: &mut Env<'_>, args: &[Value]) -> Res {
    let sep = str_arg(args, 0)?;
    let s = str_arg(args, 1)?;
    let parts = split_parts(env, s, sep, -1)?;
    parts_map(env, parts)
}

pub(super) fn splitn(env: &mut Env<'_>, args: &[Value]) -> Res {
    let sep = str_arg(args, 0)?;
    let n = int_arg(args, 1)?;
    let s = str_arg(args, 2)?;
    let parts = split_parts(env, s, sep, n)?;
    parts_map(env, parts)
}

pub(super) fn split_list(env: &mut Env<'_>, args: &[Value]) -> Res {
    let sep = str_arg(args, 0)?;
    let s = str_arg(args, 1)?;
    let parts = split_parts(env, s, sep, -1)?;
    let items = parts.into_iter().map(Value::bytes).collect();
    Ok(Value::list(Elem::String, items))
}

/// sprig's `strslice`: a `[]string` as it is; other lists' non-nil items
/// through `strval`; nil as no strings; anything else as one string.
fn strslice(env: &mut Env<'_>, v: &Value) -> Result<Vec<Value>, FuncError> {
    let out: Vec<Value> = match v {
        Value::List(l) if l.elem == Elem::String => l.items.clone(),
        Value::List(l) => {
            let mut out = Vec::with_capacity(l.items.len());
            for item in l.items.iter().filter(|v| !is_nil(v)) {
                env.check_time()?;
                match item {
                    Value::String(s) => out.push(Value::String(s.clone())),
                    other => {
                        let text = strval(env.heap, other);
                        env.charge(text.len())?;
                        out.push(Value::String(Rc::from(text)));
                    }
                }
            }
            out
        }
        v if is_nil(v) => Vec::new(),
        Value::String(s) => vec![Value::String(s.clone())],
        other => {
            let text = strval(env.heap, other);
            env.charge(text.len())?;
            vec![Value::String(Rc::from(text))]
        }
    };
    env.charge(out.len().saturating_mul(ITEM))?;
    Ok(out)
}

pub(super) fn to_strings(env: &mut Env<'_>, args: &[Value]) -> Res {
    let v = args.first().unwrap_or(&Value::Nil);
    let items = strslice(env, v)?;
    Ok(Value::list(Elem::String, items))
}

pub(super) fn join(env: &mut Env<'_>, args: &[Value]) -> Res {
    let sep = str_arg(args, 0)?;
    let v = args.get(1).unwrap_or(&Value::Nil);
    let items = strslice(env, v)?;
    let parts: Vec<&[u8]> = items.iter().filter_map(Value::as_bytes).collect();
    join_parts(env, &parts, sep)
}

/// `sortAlpha`: lists sorted bytewise as strings; anything else (nil
/// included) as a one-string list of its `strval`.
pub(super) fn sort_alpha(env: &mut Env<'_>, args: &[Value]) -> Res {
    let v = args.first().unwrap_or(&Value::Nil);
    let mut items = match v {
        Value::List(_) => strslice(env, v)?,
        other => {
            let text = strval(env.heap, other);
            env.charge(ITEM.saturating_add(text.len()))?;
            vec![Value::String(Rc::from(text))]
        }
    };
    items.sort_by(|a, b| a.as_bytes().cmp(&b.as_bytes()));
    Ok(Value::list(Elem::String, items))
}

#[cfg(test)]
mod tests {
    use crate::sprig::testing::check::{b, i};
    use crate::sprig::testing::{call, call_in, s};
    use crate::value::{Elem, Heap, Value};

    fn strings(v: &Value) -> Vec<Vec<u8>> {
        match v {
            Value::List(l) => {
                assert_eq!(l.elem, Elem::String);
                l.items
                    .iter()
                    .map(|v| v.as_bytes().unwrap().to_vec())
                    .collect()
            }
            other => panic!("not a list: {other:?}"),
        }
    }

    fn map_of(name: &str, args: &[Value]) -> Vec<(String, String)> {
        let mut heap = Heap::default();
        let Value::Map(m) = call_in(&mut heap, name, args).unwrap() else {
            panic!("not a map")
        };
        let map = heap.get(m);
        assert_eq!(map.elem, Elem::String);
        let text = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
        map.entries
            .iter()
            .map(|(k, v)| (text(k), text(v.as_bytes().unwrap())))
            .collect()
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn text(v: Value) -> Vec<u8> {
        v.as_bytes().unwrap().to_vec()
    }

    #[test]
    fn split_like_go() {
        let got = map_of("split", &[s(","), s("a,b,,c")]);
        assert_eq!(
            got,
            pairs(&[("_0", "a"), ("_1", "b"), ("_2", ""), ("_3", "c")])
        );
        let got = map_of("split", &[s(""), s("ab€")]);
        assert_eq!(got, pairs(&[("_0", "a"), ("_1", "b"), ("_2", "€")]));
        let got = map_of("splitn", &[s(","), i(2), s("a,b,c")]);
        assert_eq!(got, pairs(&[("_0", "a"), ("_1", "b,c")]));
        assert_eq!(map_of("splitn", &[s(","), i(0), s("a,b,c")]), pairs(&[]));
        assert_eq!(map_of("splitn", &[s(","), i(-1), s("a,b,c")]).len(), 3);
        let got = map_of("splitn", &[s(""), i(2), s("abc")]);
        assert_eq!(got, pairs(&[("_0", "a"), ("_1", "bc")]));
        assert_eq!(map_of("splitn", &[s(""), i(9), s("abc")]).len(), 3);

        let list = call("splitList", &[s("aa"), s("aaaaa")]).unwrap();
        assert_eq!(strings(&list), vec![b"".to_vec(), b"".into(), b"a".into()]);
        let list = call("splitList", &[s(","), s("")]).unwrap();
        assert_eq!(strings(&list), vec![b"".to_vec()]);
        assert!(strings(&call("splitList", &[s(""), s("")]).unwrap()).is_empty());
        let list = call("splitList", &[s(""), b(b"a\xff\xe2\x82\xac")]).unwrap();
        assert_eq!(
            strings(&list),
            vec![b"a".to_vec(), b"\xff".to_vec(), "€".into()]
        );
    }

    #[test]
    fn quote_squote_cat_skip_nil() {
        let args = [s("a"), Value::Nil, s("b")];
        assert_eq!(text(call("quote", &args).unwrap()), b"\"a\" \"b\"");
        assert_eq!(text(call("squote", &args).unwrap()), b"'a' 'b'");
        assert_eq!(text(call("cat", &args).unwrap()), b"a b");
        assert_eq!(text(call("cat", &[]).unwrap()), b"");
        assert_eq!(text(call("quote", &[]).unwrap()), b"");
    }

    #[test]
    fn string_lists_like_strslice() {
        let strs = Value::list(Elem::String, vec![s("b"), s("a"), s("c")]);
        let any = Value::list(Elem::Any, vec![s("b"), Value::Nil, s("a")]);
        assert_eq!(
            text(call("join", &[s("-"), strs.clone()]).unwrap()),
            b"b-a-c"
        );
        assert_eq!(text(call("join", &[s("-"), any.clone()]).unwrap()), b"b-a");
        assert_eq!(text(call("join", &[s("-"), s("abc")]).unwrap()), b"abc");
        assert_eq!(text(call("join", &[s("-"), Value::Nil]).unwrap()), b"");
        let sorted = call("sortAlpha", &[strs]).unwrap();
        assert_eq!(
            strings(&sorted),
            vec![b"a".to_vec(), b"b".into(), b"c".into()]
        );
        assert_eq!(
            strings(&call("sortAlpha", std::slice::from_ref(&any)).unwrap()).len(),
            2
        );
        assert_eq!(
            strings(&call("sortAlpha", &[s("x")]).unwrap()),
            vec![b"x".to_vec()]
        );
        assert_eq!(strings(&call("sortAlpha", &[Value::Nil]).unwrap()).len(), 1);
        assert!(strings(&call("toStrings", &[Value::Nil]).unwrap()).is_empty());
        assert_eq!(strings(&call("toStrings", &[any]).unwrap()).len(), 2);
        assert_eq!(
            strings(&call("toStrings", &[s("s")]).unwrap()),
            vec![b"s".to_vec()]
        );
        assert_eq!(text(call("toString", &[s("s")]).unwrap()), b"s");
    }
}
