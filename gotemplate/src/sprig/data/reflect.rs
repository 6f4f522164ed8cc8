//! sprig's reflection functions and Go's `reflect.DeepEqual`.

use std::collections::HashSet;
use std::rc::Rc;

use crate::funcs::{Env, Func, FuncError, Type};
use crate::value::{Heap, Value};

const ANY: &[Type] = &[Type::Any];
const STR_ANY: &[Type] = &[Type::String, Type::Any];

pub(in crate::sprig) const FUNCS: &[Func] = &[
    Func::new("typeOf", ANY, type_of),
    Func::new("typeIs", STR_ANY, type_is),
    Func::new("typeIsLike", STR_ANY, type_is_like),
    Func::new("kindOf", ANY, kind_of),
    Func::new("kindIs", STR_ANY, kind_is),
    Func::new("deepEqual", &[Type::Any, Type::Any], deep_equal_fn),
];

type R = Result<Value, FuncError>;

fn arg(args: &[Value], i: usize) -> &Value {
    args.get(i).unwrap_or(&Value::Nil)
}

fn target(args: &[Value]) -> &[u8] {
    arg(args, 0).as_bytes().unwrap_or(b"")
}

fn type_of(env: &mut Env<'_>, args: &[Value]) -> R {
    Ok(Value::string(arg(args, 0).type_name(env.heap)))
}

fn type_is(env: &mut Env<'_>, args: &[Value]) -> R {
    let t = arg(args, 1).type_name(env.heap);
    Ok(Value::Bool(target(args) == t.as_bytes()))
}

fn type_is_like(env: &mut Env<'_>, args: &[Value]) -> R {
    let t = arg(args, 1).type_name(env.heap);
    let want = target(args);
    let ptr = t.as_bytes().strip_prefix(b"*");
    Ok(Value::Bool(want == t.as_bytes() || ptr == Some(want)))
}

fn kind_of(_env: &mut Env<'_>, args: &[Value]) -> R {
    Ok(Value::str(arg(args, 0).kind().go_name()))
}

fn kind_is(_env: &mut Env<'_>, args: &[Value]) -> R {
    Ok(Value::Bool(
        target(args) == arg(args, 1).kind().go_name().as_bytes(),
    ))
}

fn deep_equal_fn(env: &mut Env<'_>, args: &[Value]) -> R {
    Ok(Value::Bool(deep_equal(env, arg(args, 0), arg(args, 1))?))
}

/// `reflect.DeepEqual`: same Go types and deeply equal contents. Walks
/// with an explicit stack (no recursion on deep data); a pair of maps seen
/// before counts as equal, as Go's cycle check does.
pub(crate) fn deep_equal(env: &mut Env<'_>, a: &Value, b: &Value) -> Result<bool, FuncError> {
    let mut seen = HashSet::new();
    let mut todo: Vec<(Value, Value)> = vec![(a.clone(), b.clone())];
    while let Some((a, b)) = todo.pop() {
        env.check_time()?;
        if !shallow_equal(env.heap, &a, &b, &mut seen, &mut todo) {
            return Ok(false);
        }
    }
    Ok(true)
}

fn shallow_equal(
    heap: &Heap,
    a: &Value,
    b: &Value,
    seen: &mut HashSet<(usize, usize)>,
    todo: &mut Vec<(Value, Value)>,
) -> bool {
    use Value as V;
    match (a, b) {
        (V::Nil | V::Invalid, V::Nil | V::Invalid) => true,
        (V::Bool(x), V::Bool(y)) => x == y,
        (V::Int(x), V::Int(y)) | (V::Int64(x), V::Int64(y)) => x == y,
        (V::Int32(x), V::Int32(y)) => x == y,
        (V::Uint8(x), V::Uint8(y)) => x == y,
        (V::Uint32(x), V::Uint32(y)) => x == y,
        (V::Uint64(x), V::Uint64(y)) => x == y,
        (V::Float64(x), V::Float64(y)) => x == y,
        (V::String(x), V::String(y)) => x == y,
        (V::List(x), V::List(y)) => {
            if x.elem != y.elem || x.items.len() != y.items.len() {
                return false;
            }
            // Go: the same backing array is equal without looking.
            if !Rc::ptr_eq(x, y) {
                todo.extend(x.items.iter().cloned().zip(y.items.iter().cloned()));
            }
            true
        }
        (V::Map(x), V::Map(y)) => {
            if x == y || !seen.insert((x.0, y.0)) {
                return true;
            }
            let (mx, my) = (heap.get(*x), heap.get(*y));
            if mx.elem != my.elem || mx.entries.len() != my.entries.len() {
                return false;
            }
            for (k, v) in &mx.entries {
                match my.entries.get(k) {
                    Some(w) => todo.push((v.clone(), w.clone())),
                    None => return false,
                }
            }
            true
        }
        (V::Object(x), V::Object(y)) => x.type_name() == y.type_name() && x.equals(y.as_ref()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::funcs::FuncError;
    use crate::sprig::testing::{call, call_in, s};
    use crate::value::{Elem, Heap, Value};

    fn b(v: Result<Value, FuncError>) -> bool {
        match v {
            Ok(Value::Bool(b)) => b,
            other => panic!("not bool: {other:?}"),
        }
    }
    fn st(v: Result<Value, FuncError>) -> String {
        match v {
            Ok(Value::String(b)) => String::from_utf8(b.to_vec()).unwrap(),
            other => panic!("not a string: {other:?}"),
        }
    }

    #[test]
    fn types_and_kinds_as_go() {
        assert_eq!(st(call("typeOf", &[Value::Int(1)])), "int");
        assert_eq!(st(call("typeOf", &[Value::Nil])), "<nil>");
        assert_eq!(st(call("kindOf", &[Value::Nil])), "invalid");
        assert_eq!(
            st(call("kindOf", &[Value::list(Elem::Any, vec![])])),
            "slice"
        );
        let strings = Value::list(Elem::String, vec![]);
        assert_eq!(
            st(call("typeOf", std::slice::from_ref(&strings))),
            "[]string"
        );
        assert!(b(call("kindIs", &[s("slice"), strings])));
        assert!(b(call("typeIs", &[s("int"), Value::Int(1)])));
        assert!(!b(call("typeIs", &[s("int"), Value::Int64(1)])));
        assert!(b(call("typeIsLike", &[s("int"), Value::Int(1)])));
        let mut heap = Heap::default();
        let m = heap.new_map(Elem::String);
        assert_eq!(st(call_in(&mut heap, "typeOf", &[m])), "map[string]string");
    }

    #[test]
    fn deep_equal_as_go() {
        let l = |items: Vec<Value>| Value::list(Elem::Any, items);
        let eq = |x: Value, y: Value| b(call("deepEqual", &[x, y]));
        assert!(eq(
            l(vec![Value::Int(1), Value::Int(2)]),
            l(vec![Value::Int(1), Value::Int(2)])
        ));
        assert!(!eq(
            l(vec![s("1")]),
            Value::list(Elem::String, vec![s("1")])
        ));
        assert!(!eq(Value::Int(1), Value::Int64(1)));
        assert!(eq(Value::Nil, Value::Nil));
        assert!(!eq(Value::Float64(f64::NAN), Value::Float64(f64::NAN)));

        let mut heap = Heap::default();
        let (m1, m2) = (heap.new_map(Elem::Any), heap.new_map(Elem::Any));
        // Two maps that hold themselves: equal, and no endless walk.
        for m in [&m1, &m2] {
            if let Value::Map(r) = m {
                heap.get_mut(*r)
                    .entries
                    .insert(b"self".as_slice().into(), m.clone());
            }
        }
        assert!(b(call_in(&mut heap, "deepEqual", &[m1.clone(), m2])));
        let m3 = heap.new_map(Elem::Any);
        assert!(!b(call_in(&mut heap, "deepEqual", &[m1, m3])));
    }
}
