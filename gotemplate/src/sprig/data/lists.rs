//! sprig's list.go: functions on any slice type (`[]interface{}`, the
//! `[]string` of splitList, ...) through reflection, as Go does it.

use crate::funcs::{Env, Func, FuncError, Type};
use crate::value::{Elem, List, Value};

use super::defaults::empty;
use super::reflect::deep_equal;
use crate::sprig::numbers::cast::to_int;

const ANY: &[Type] = &[Type::Any];
const ANY2: &[Type] = &[Type::Any, Type::Any];

pub(in crate::sprig) const FUNCS: &[Func] = &[
    Func::variadic("list", &[], Type::Any, list),
    Func::variadic("tuple", &[], Type::Any, list),
    Func::new("append", ANY2, push),
    Func::new("push", ANY2, push),
    Func::new("mustAppend", ANY2, push),
    Func::new("mustPush", ANY2, push),
    Func::new("prepend", ANY2, prepend),
    Func::new("mustPrepend", ANY2, prepend),
    Func::new("first", ANY, first),
    Func::new("mustFirst", ANY, first),
    Func::new("rest", ANY, rest),
    Func::new("mustRest", ANY, rest),
    Func::new("last", ANY, last),
    Func::new("mustLast", ANY, last),
    Func::new("initial", ANY, initial),
    Func::new("mustInitial", ANY, initial),
    Func::new("reverse", ANY, reverse),
    Func::new("mustReverse", ANY, reverse),
    Func::new("uniq", ANY, uniq),
    Func::new("mustUniq", ANY, uniq),
    Func::variadic("without", ANY, Type::Any, without),
    Func::variadic("mustWithout", ANY, Type::Any, without),
    Func::new("has", ANY2, has),
    Func::new("mustHas", ANY2, has),
    Func::variadic("slice", ANY, Type::Any, slice),
    Func::variadic("mustSlice", ANY, Type::Any, slice),
    Func::variadic("concat", &[], Type::Any, concat),
    Func::new("chunk", &[Type::Int, Type::Any], chunk),
    Func::new("mustChunk", &[Type::Int, Type::Any], chunk),
    Func::new("compact", ANY, compact),
    Func::new("mustCompact", ANY, compact),
];

type R = Result<Value, FuncError>;

const NIL_DEREF: &str = "runtime error: invalid memory address or nil pointer dereference";

fn arg(args: &[Value], i: usize) -> &Value {
    args.get(i).unwrap_or(&Value::Nil)
}

/// The slice in `v`, or sprig's error naming the kind (`reflect.TypeOf(nil).Kind()`
/// is a nil dereference in Go).
fn slice_of<'v>(v: &'v Value, before: &str, after: &str) -> Result<&'v List, FuncError> {
    match v {
        Value::List(l) => Ok(l),
        Value::Nil | Value::Invalid => Err(FuncError::reason(NIL_DEREF)),
        other => Err(FuncError::reason(format!(
            "{before}{}{after}",
            other.kind().go_name()
        ))),
    }
}

/// A new `[]interface{}`, charged before it is built.
fn new_list(env: &mut Env<'_>, len: usize) -> Result<Vec<Value>, FuncError> {
    env.charge(len.saturating_mul(16))?;
    Ok(Vec::with_capacity(len))
}

fn any_list(items: Vec<Value>) -> Value {
    Value::list(Elem::Any, items)
}

fn list(env: &mut Env<'_>, args: &[Value]) -> R {
    let mut items = new_list(env, args.len())?;
    items.extend_from_slice(args);
    Ok(any_list(items))
}

fn push(env: &mut Env<'_>, args: &[Value]) -> R {
    let l = slice_of(arg(args, 0), "Cannot push on type ", "")?;
    let mut items = new_list(env, l.items.len() + 1)?;
    items.extend_from_slice(&l.items);
    items.push(arg(args, 1).clone());
    Ok(any_list(items))
}

fn prepend(env: &mut Env<'_>, args: &[Value]) -> R {
    let l = slice_of(arg(args, 0), "Cannot prepend on type ", "")?;
    let mut items = new_list(env, l.items.len() + 1)?;
    items.push(arg(args, 1).clone());
    items.extend_from_slice(&l.items);
    Ok(any_list(items))
}

fn first(_env: &mut Env<'_>, args: &[Value]) -> R {
    let l = slice_of(arg(args, 0), "Cannot find first on type ", "")?;
    Ok(l.items.first().cloned().unwrap_or(Value::Nil))
}

fn last(_env: &mut Env<'_>, args: &[Value]) -> R {
    let l = slice_of(arg(args, 0), "Cannot find last on type ", "")?;
    Ok(l.items.last().cloned().unwrap_or(Value::Nil))
}

/// Go returns a nil `[]interface{}` for an empty list (we have no nil slice:
/// an empty one, which `toJson` prints as `[]` where Go prints `null`).
fn rest(env: &mut Env<'_>, args: &[Value]) -> R {
    let l = slice_of(arg(args, 0), "Cannot find rest on type ", "")?;
    let tail = l.items.get(1..).unwrap_or(&[]);
    let mut items = new_list(env, tail.len())?;
    items.extend_from_slice(tail);
    Ok(any_list(items))
}

fn initial(env: &mut Env<'_>, args: &[Value]) -> R {
    let l = slice_of(arg(args, 0), "Cannot find initial on type ", "")?;
    let head = &l.items[..l.items.len().saturating_sub(1)];
    let mut items = new_list(env, head.len())?;
    items.extend_from_slice(head);
    Ok(any_list(items))
}

fn reverse(env: &mut Env<'_>, args: &[Value]) -> R {
    let l = slice_of(arg(args, 0), "Cannot find reverse on type ", "")?;
    let mut items = new_list(env, l.items.len())?;
    items.extend(l.items.iter().rev().cloned());
    Ok(any_list(items))
}

fn compact(env: &mut Env<'_>, args: &[Value]) -> R {
    let l = slice_of(arg(args, 0), "Cannot compact on type ", "")?;
    let mut items = new_list(env, l.items.len())?;
    items.extend(l.items.iter().filter(|v| !empty(env.heap, v)).cloned());
    Ok(any_list(items))
}

fn contains(env: &mut Env<'_>, haystack: &[Value], needle: &Value) -> Result<bool, FuncError> {
    for h in haystack {
        if deep_equal(env, needle, h)? {
            return Ok(true);
        }
    }
    Ok(false)
}

fn uniq(env: &mut Env<'_>, args: &[Value]) -> R {
    let l = slice_of(arg(args, 0), "Cannot find uniq on type ", "")?;
    let mut items = new_list(env, l.items.len())?;
    for item in &l.items {
        if !contains(env, &items, item)? {
            items.push(item.clone());
        }
    }
    Ok(any_list(items))
}

fn without(env: &mut Env<'_>, args: &[Value]) -> R {
    let l = slice_of(arg(args, 0), "Cannot find without on type ", "")?;
    let omit = args.get(1..).unwrap_or(&[]);
    let mut items = new_list(env, l.items.len())?;
    for item in &l.items {
        if !contains(env, omit, item)? {
            items.push(item.clone());
        }
    }
    Ok(any_list(items))
}

fn has(env: &mut Env<'_>, args: &[Value]) -> R {
    let haystack = arg(args, 1);
    if matches!(haystack, Value::Nil | Value::Invalid) {
        return Ok(Value::Bool(false));
    }
    let l = slice_of(haystack, "Cannot find has on type ", "")?;
    Ok(Value::Bool(contains(env, &l.items, arg(args, 0))?))
}

/// `list[start:end]` of the same slice type. Go checks `end` against the
/// capacity, which can exceed the length after `append`; we check the length.
fn slice(env: &mut Env<'_>, args: &[Value]) -> R {
    let l = slice_of(
        arg(args, 0),
        "list should be type of slice or array but ",
        "",
    )?;
    let len = l.items.len();
    if len == 0 {
        return Ok(Value::Nil);
    }
    let start = args.get(1).map_or(0, |v| to_int(env.heap, v));
    let end = args.get(2).map_or(len as i64, |v| to_int(env.heap, v));
    let ok = 0 <= start && start <= end && end <= len as i64;
    if !ok {
        return Err(FuncError::reason(
            "reflect.Value.Slice: slice index out of bounds",
        ));
    }
    let part = &l.items[start as usize..end as usize];
    let mut items = new_list(env, part.len())?;
    items.extend_from_slice(part);
    Ok(Value::list(l.elem, items))
}

/// Go's result is a nil `[]interface{}` when nothing was added (see `rest`).
fn concat(env: &mut Env<'_>, args: &[Value]) -> R {
    let mut total = 0usize;
    for a in args {
        total = total.saturating_add(slice_of(a, "Cannot concat type ", " as list")?.items.len());
    }
    let mut items = new_list(env, total)?;
    for a in args {
        if let Value::List(l) = a {
            items.extend_from_slice(&l.items);
        }
    }
    Ok(any_list(items))
}

const MAKESLICE: &str = "runtime error: makeslice: len out of range";

/// sprig computes the chunk count in float64, so sizes of 0 or below give
/// Go's odd results (an error, or for one item a single chunk).
fn chunk(env: &mut Env<'_>, args: &[Value]) -> R {
    let size = match args.first() {
        Some(Value::Int(n)) => *n,
        _ => return Err(FuncError::reason("wrong type for value; expected int")),
    };
    let l = slice_of(arg(args, 1), "Cannot chunk type ", "")?;
    let len = l.items.len() as i64;
    let count_f = ((len - 1) as f64 / size as f64).floor() + 1.0;
    let count = crate::sprig::numbers::cast::go_f64_to_i64(count_f);
    if count < 0 {
        return Err(FuncError::reason(MAKESLICE));
    }
    let count = count as usize;
    let mut chunks = new_list(env, count)?;
    for i in 0..count {
        env.check_time()?;
        let mut clen = size;
        if i == count - 1 {
            clen =
                crate::sprig::numbers::cast::go_f64_to_i64(((len as f64) % (size as f64)).floor());
            if clen == 0 {
                clen = size;
            }
        }
        if clen < 0 {
            return Err(FuncError::reason(MAKESLICE));
        }
        let mut items = new_list(env, clen as usize)?;
        for j in 0..clen {
            let ix = (i as i64).wrapping_mul(size).wrapping_add(j);
            let item = usize::try_from(ix).ok().and_then(|ix| l.items.get(ix));
            match item {
                Some(v) => items.push(v.clone()),
                None => return Err(FuncError::reason("reflect: slice index out of range")),
            }
        }
        chunks.push(any_list(items));
    }
    Ok(Value::list(Elem::AnyList, chunks))
}

#[cfg(test)]
mod tests {
    use crate::funcs::FuncError;
    use crate::sprig::testing::{call, s};
    use crate::value::{Elem, Value};

    use Value::Int as I;

    fn l(items: Vec<Value>) -> Value {
        Value::list(Elem::Any, items)
    }
    fn strs(items: &[&str]) -> Value {
        Value::list(Elem::String, items.iter().map(|t| s(t)).collect())
    }
    /// A compact picture of a value for comparisons.
    fn show(v: &Value) -> String {
        match v {
            Value::Nil => "nil".into(),
            Value::Int(i) => i.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::String(b) => format!("{:?}", String::from_utf8_lossy(b)),
            Value::List(list) => {
                let inner: Vec<String> = list.items.iter().map(show).collect();
                format!(
                    "{}[{}]",
                    if list.elem == Elem::String { "s" } else { "" },
                    inner.join(" ")
                )
            }
            other => format!("{other:?}"),
        }
    }
    fn ok(name: &str, args: &[Value]) -> String {
        show(&call(name, args).unwrap())
    }
    fn err(name: &str, args: &[Value]) -> String {
        match call(name, args).unwrap_err() {
            FuncError::Reason(r) => r.into_owned(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn lists_as_go() {
        // Expected values from Go with sprig v3.3.0.
        let ab = strs(&["a", "b"]);
        assert_eq!(ok("push", &[ab.clone(), s("c")]), r#"["a" "b" "c"]"#);
        assert_eq!(ok("prepend", &[ab.clone(), s("c")]), r#"["c" "a" "b"]"#);
        assert_eq!(ok("first", &[l(vec![])]), "nil");
        assert_eq!(ok("last", &[l(vec![I(1), I(2)])]), "2");
        assert_eq!(ok("initial", &[l(vec![I(1), I(2), I(3)])]), "[1 2]");
        assert_eq!(ok("rest", &[l(vec![I(1), I(2), I(3)])]), "[2 3]");
        assert_eq!(ok("reverse", &[l(vec![I(1), I(2), I(3)])]), "[3 2 1]");
        let mixed = l(vec![I(1), I(1), s("1"), I(2), l(vec![I(1)]), l(vec![I(1)])]);
        assert_eq!(ok("uniq", &[mixed]), r#"[1 "1" 2 [1]]"#);
        let nums = l(vec![I(1), I(2), I(3), I(1)]);
        assert_eq!(ok("without", &[nums, I(1), I(3)]), "[2]");
        assert_eq!(ok("has", &[I(1), l(vec![I(1), I(2)])]), "true");
        assert_eq!(ok("has", &[s("1"), l(vec![I(1)])]), "false");
        assert_eq!(ok("has", &[I(1), Value::Nil]), "false");
        let c = l(vec![
            I(0),
            s(""),
            I(1),
            Value::Nil,
            Value::Bool(false),
            l(vec![]),
            s("a"),
        ]);
        assert_eq!(ok("compact", &[c]), r#"[1 "a"]"#);
        let four = l(vec![I(1), I(2), I(3), I(4)]);
        assert_eq!(ok("slice", &[four.clone(), I(1), I(3)]), "[2 3]");
        assert_eq!(ok("slice", &[four.clone(), s("1"), s("2")]), "[2]");
        assert_eq!(ok("slice", &[l(vec![]), I(1), I(9)]), "nil");
        assert_eq!(
            ok("slice", &[strs(&["a", "b", "c"]), I(1)]),
            r#"s["b" "c"]"#
        );
        assert_eq!(
            ok("concat", &[l(vec![I(1)]), ab, l(vec![])]),
            r#"[1 "a" "b"]"#
        );
        assert_eq!(ok("list", &[I(1), Value::Nil]), "[1 nil]");
    }

    #[test]
    fn chunks_as_go() {
        let n = |k: i64| l((1..=k).map(I).collect());
        assert_eq!(ok("chunk", &[I(2), n(5)]), "[[1 2] [3 4] [5]]");
        assert_eq!(ok("chunk", &[I(2), n(0)]), "[]");
        assert_eq!(ok("chunk", &[I(3), n(3)]), "[[1 2 3]]");
        assert_eq!(ok("chunk", &[I(-5), n(1)]), "[[1]]");
        assert_eq!(ok("chunk", &[I(-5), n(2)]), "[]");
        let makeslice = "runtime error: makeslice: len out of range";
        for (size, len) in [(0, 2), (-1, 3), (-2, 0), (0, 0)] {
            assert_eq!(err("chunk", &[I(size), n(len)]), makeslice, "{size} {len}");
        }
    }

    #[test]
    fn errors_name_types_only() {
        let nil = "runtime error: invalid memory address or nil pointer dereference";
        assert_eq!(err("push", &[Value::Nil, I(1)]), nil);
        assert_eq!(
            err("push", &[s("secret"), I(1)]),
            "Cannot push on type string"
        );
        assert_eq!(err("append", &[I(3), I(1)]), "Cannot push on type int");
        assert_eq!(
            err("has", &[I(1), s("abc")]),
            "Cannot find has on type string"
        );
        assert_eq!(
            err("first", &[s("abc")]),
            "Cannot find first on type string"
        );
        assert_eq!(
            err("mustReverse", &[I(5)]),
            "Cannot find reverse on type int"
        );
        assert_eq!(
            err("slice", &[s("abc"), I(1)]),
            "list should be type of slice or array but string"
        );
        let three = l(vec![I(1), I(2), I(3)]);
        let oob = "reflect.Value.Slice: slice index out of bounds";
        assert_eq!(err("slice", &[three.clone(), I(2), I(1)]), oob);
        assert_eq!(err("slice", &[three.clone(), I(0), I(4)]), oob);
        assert_eq!(
            err("concat", &[three, I(2)]),
            "Cannot concat type int as list"
        );
        assert_eq!(err("concat", &[Value::Nil]), nil);
    }
}
