//! sprig's defaults.go without the JSON functions (in `json`): emptiness,
//! defaults, `ternary`, `fail`.

use crate::funcs::{Env, Func, FuncError, Type};
use crate::value::{Heap, Value};

const ANY: &[Type] = &[Type::Any];
const STR: &[Type] = &[Type::String];

pub(in crate::sprig) const FUNCS: &[Func] = &[
    Func::variadic("default", ANY, Type::Any, default),
    Func::new("fail", STR, fail),
    Func::new("empty", ANY, empty_fn),
    Func::variadic("coalesce", &[], Type::Any, coalesce),
    Func::variadic("all", &[], Type::Any, all),
    Func::variadic("any", &[], Type::Any, any),
    Func::new("ternary", &[Type::Any, Type::Any, Type::Bool], ternary),
];

type R = Result<Value, FuncError>;

fn arg(args: &[Value], i: usize) -> &Value {
    args.get(i).unwrap_or(&Value::Nil)
}

/// sprig's `empty`: nil, zero numbers, false, and empty strings, slices
/// and maps. Structs and pointers (time.Time, semver) are never empty.
pub(crate) fn empty(heap: &Heap, v: &Value) -> bool {
    !v.is_true(heap)
}

fn default(env: &mut Env<'_>, args: &[Value]) -> R {
    match args.get(1) {
        Some(given) if !empty(env.heap, given) => Ok(given.clone()),
        _ => Ok(arg(args, 0).clone()),
    }
}

fn empty_fn(env: &mut Env<'_>, args: &[Value]) -> R {
    Ok(Value::Bool(empty(env.heap, arg(args, 0))))
}

fn coalesce(env: &mut Env<'_>, args: &[Value]) -> R {
    let found = args.iter().find(|v| !empty(env.heap, v));
    Ok(found.cloned().unwrap_or(Value::Nil))
}

fn all(env: &mut Env<'_>, args: &[Value]) -> R {
    Ok(Value::Bool(args.iter().all(|v| !empty(env.heap, v))))
}

fn any(env: &mut Env<'_>, args: &[Value]) -> R {
    Ok(Value::Bool(args.iter().any(|v| !empty(env.heap, v))))
}

fn ternary(_env: &mut Env<'_>, args: &[Value]) -> R {
    match args.get(2) {
        Some(Value::Bool(true)) => Ok(arg(args, 0).clone()),
        Some(Value::Bool(false)) => Ok(arg(args, 1).clone()),
        _ => Err(FuncError::reason("wrong type for value; expected bool")),
    }
}

/// sprig's `fail`: always an error. Go's error is the message itself, which a
/// template can build from secret values (`fail .password`), so it is not shown.
fn fail(_: &mut Env<'_>, _: &[Value]) -> Result<Value, FuncError> {
    Err(FuncError::reason(
        "the template called fail (its message is not shown: it may hold a secret value)",
    ))
}

#[cfg(test)]
mod tests {
    use crate::funcs::FuncError;
    use crate::sprig::testing::{call, s};
    use crate::value::{Elem, Value};

    fn st(v: Result<Value, FuncError>) -> String {
        match v {
            Ok(Value::String(b)) => String::from_utf8(b.to_vec()).unwrap(),
            other => panic!("not a string: {other:?}"),
        }
    }
    fn b(v: Result<Value, FuncError>) -> bool {
        match v {
            Ok(Value::Bool(b)) => b,
            other => panic!("not bool: {other:?}"),
        }
    }
    fn l(items: Vec<Value>) -> Value {
        Value::list(Elem::Any, items)
    }

    #[test]
    fn emptiness_as_go() {
        for v in [
            Value::Int(0),
            s(""),
            l(vec![]),
            Value::Nil,
            Value::Bool(false),
            Value::Float64(0.0),
        ] {
            assert!(b(call("empty", std::slice::from_ref(&v))), "{v:?}");
        }
        assert!(!b(call("empty", &[Value::Float64(f64::NAN)])));
        assert_eq!(st(call("default", &[s("d"), s("")])), "d");
        assert_eq!(st(call("default", &[s("d"), s("x")])), "x");
        assert_eq!(st(call("default", &[s("d")])), "d");
        assert_eq!(st(call("coalesce", &[Value::Int(0), s(""), s("x")])), "x");
        assert!(matches!(call("coalesce", &[Value::Int(0)]), Ok(Value::Nil)));
        assert!(b(call("all", &[Value::Int(1), s("a")])));
        assert!(!b(call("all", &[Value::Int(1), s("")])));
        assert!(b(call("all", &[])));
        assert!(!b(call("any", &[Value::Int(0), s("")])));
        assert!(!b(call("any", &[])));
        assert_eq!(
            st(call("ternary", &[s("a"), s("b"), Value::Bool(true)])),
            "a"
        );
        assert_eq!(
            st(call("ternary", &[s("a"), s("b"), Value::Bool(false)])),
            "b"
        );
    }
}
