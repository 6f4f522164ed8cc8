//! sprig's dict.go. Maps are references in the render's heap: `set` and
//! `unset` change the map every holder sees, `merge` changes its first map.

use crate::funcs::{Env, Func, FuncError, Type};
use crate::value::{Bytes, Elem, MapRef, Value};

use super::merge::{deep_copy, deep_merge, MergeError};

const MAP: &[Type] = &[Type::Map];
const MAP_STR: &[Type] = &[Type::Map, Type::String];

pub(in crate::sprig) const FUNCS: &[Func] = &[
    Func::variadic("dict", &[], Type::Any, dict),
    Func::new("get", MAP_STR, get),
    Func::new("set", &[Type::Map, Type::String, Type::Any], set),
    Func::new("unset", MAP_STR, unset),
    Func::new("hasKey", MAP_STR, has_key),
    Func::variadic("pluck", &[Type::String], Type::Map, pluck),
    Func::variadic("keys", &[], Type::Map, keys),
    Func::variadic("pick", MAP, Type::String, pick),
    Func::variadic("omit", MAP, Type::String, omit),
    Func::variadic("merge", MAP, Type::Map, merge),
    Func::variadic("mustMerge", MAP, Type::Map, must_merge),
    Func::variadic("mergeOverwrite", MAP, Type::Map, merge_overwrite),
    Func::variadic("mustMergeOverwrite", MAP, Type::Map, must_merge_overwrite),
    Func::new("values", MAP, values),
    Func::variadic("dig", &[], Type::Any, dig),
    Func::new("deepCopy", &[Type::Any], must_deep_copy),
    Func::new("mustDeepCopy", &[Type::Any], must_deep_copy),
];

type R = Result<Value, FuncError>;

fn map_arg(args: &[Value], i: usize) -> Result<MapRef, FuncError> {
    match args.get(i) {
        Some(Value::Map(m)) => Ok(*m),
        _ => Err(FuncError::reason(
            "wrong type for value; expected map[string]interface {}",
        )),
    }
}

fn key_arg(args: &[Value], i: usize) -> Bytes {
    match args.get(i) {
        Some(Value::String(s)) => s.clone(),
        _ => Bytes::from(&b""[..]),
    }
}

fn new_map(env: &mut Env<'_>) -> (Value, MapRef) {
    let v = env.heap.new_map(Elem::Any);
    let r = match v {
        Value::Map(r) => r,
        _ => MapRef(usize::MAX),
    };
    (v, r)
}

fn insert(env: &mut Env<'_>, map: MapRef, key: Bytes, v: Value) -> Result<(), FuncError> {
    env.charge(key.len() + 48)?;
    env.heap.get_mut(map).entries.insert(key, v);
    Ok(())
}

/// Keys through `strval`; a key without a value gets "".
fn dict(env: &mut Env<'_>, args: &[Value]) -> R {
    let (out, r) = new_map(env);
    for pair in args.chunks(2) {
        let key: Bytes = crate::sprig::args::strval(env.heap, &pair[0]).into();
        let v = pair.get(1).cloned().unwrap_or_else(|| Value::str(""));
        insert(env, r, key, v)?;
    }
    Ok(out)
}

fn get(env: &mut Env<'_>, args: &[Value]) -> R {
    let m = map_arg(args, 0)?;
    let found = env.heap.get(m).entries.get(&key_arg(args, 1)).cloned();
    Ok(found.unwrap_or_else(|| Value::str("")))
}

fn set(env: &mut Env<'_>, args: &[Value]) -> R {
    let m = map_arg(args, 0)?;
    let v = args.get(2).cloned().unwrap_or(Value::Nil);
    if env.heap.get(m).elem == Elem::String && !matches!(v, Value::String(_)) {
        return Err(FuncError::reason("wrong type for value; expected string"));
    }
    insert(env, m, key_arg(args, 1), v)?;
    Ok(Value::Map(m))
}

fn unset(env: &mut Env<'_>, args: &[Value]) -> R {
    let m = map_arg(args, 0)?;
    env.heap.get_mut(m).entries.remove(&key_arg(args, 1));
    Ok(Value::Map(m))
}

fn has_key(env: &mut Env<'_>, args: &[Value]) -> R {
    let m = map_arg(args, 0)?;
    Ok(Value::Bool(
        env.heap.get(m).entries.contains_key(&key_arg(args, 1)),
    ))
}

fn pluck(env: &mut Env<'_>, args: &[Value]) -> R {
    let key = key_arg(args, 0);
    env.charge(args.len().saturating_mul(16))?;
    let mut items = Vec::new();
    for i in 1..args.len() {
        let m = map_arg(args, i)?;
        if let Some(v) = env.heap.get(m).entries.get(&key) {
            items.push(v.clone());
        }
    }
    Ok(Value::list(Elem::Any, items))
}

/// Go visits map keys in random order; ours are in key order.
fn keys(env: &mut Env<'_>, args: &[Value]) -> R {
    let mut items = Vec::new();
    for i in 0..args.len() {
        let m = map_arg(args, i)?;
        let n = env.heap.get(m).entries.len();
        env.charge(n.saturating_mul(16))?;
        items.extend(
            env.heap
                .get(m)
                .entries
                .keys()
                .map(|k| Value::String(k.clone())),
        );
    }
    Ok(Value::list(Elem::String, items))
}

fn pick(env: &mut Env<'_>, args: &[Value]) -> R {
    let src = map_arg(args, 0)?;
    let (out, r) = new_map(env);
    for i in 1..args.len() {
        let key = key_arg(args, i);
        if let Some(v) = env.heap.get(src).entries.get(&key).cloned() {
            insert(env, r, key, v)?;
        }
    }
    Ok(out)
}

fn omit(env: &mut Env<'_>, args: &[Value]) -> R {
    let src = map_arg(args, 0)?;
    let drop: Vec<Bytes> = (1..args.len()).map(|i| key_arg(args, i)).collect();
    let kept: Vec<(Bytes, Value)> = env
        .heap
        .get(src)
        .entries
        .iter()
        .filter(|(k, _)| !drop.contains(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let (out, r) = new_map(env);
    for (k, v) in kept {
        insert(env, r, k, v)?;
    }
    Ok(out)
}

/// Go visits map values in random order; ours are in key order.
fn values(env: &mut Env<'_>, args: &[Value]) -> R {
    let m = map_arg(args, 0)?;
    let n = env.heap.get(m).entries.len();
    env.charge(n.saturating_mul(16))?;
    let items = env.heap.get(m).entries.values().cloned().collect();
    Ok(Value::list(Elem::Any, items))
}

fn merge_all(env: &mut Env<'_>, args: &[Value], overwrite: bool) -> Result<Value, MergeError> {
    let dst = map_arg(args, 0)?;
    for i in 1..args.len() {
        let src = map_arg(args, i)?;
        deep_merge(env, dst, src, overwrite, 0)?;
    }
    Ok(Value::Map(dst))
}

/// An error mergo returns makes the result "" (sprig swallows it).
fn swallowed(r: Result<Value, MergeError>) -> R {
    match r {
        Ok(v) => Ok(v),
        Err(MergeError::Returned(_)) => Ok(Value::str("")),
        Err(MergeError::Panic(e)) => Err(e),
    }
}

fn returned(r: Result<Value, MergeError>) -> R {
    r.map_err(|(MergeError::Returned(e) | MergeError::Panic(e))| e)
}

fn merge(env: &mut Env<'_>, args: &[Value]) -> R {
    swallowed(merge_all(env, args, false))
}

fn must_merge(env: &mut Env<'_>, args: &[Value]) -> R {
    returned(merge_all(env, args, false))
}

fn merge_overwrite(env: &mut Env<'_>, args: &[Value]) -> R {
    swallowed(merge_all(env, args, true))
}

fn must_merge_overwrite(env: &mut Env<'_>, args: &[Value]) -> R {
    returned(merge_all(env, args, true))
}

/// Go's type-assertion panic text.
fn conversion(env: &Env<'_>, v: &Value, want: &str) -> FuncError {
    let text = match v {
        Value::Nil | Value::Invalid => {
            format!("interface conversion: interface is nil, not {want}")
        }
        other => format!(
            "interface conversion: interface {{}} is {}, not {want}",
            other.type_name(env.heap)
        ),
    };
    FuncError::reason(text)
}

const MAP_TYPE: &str = "map[string]interface {}";

fn as_any_map(env: &Env<'_>, v: &Value) -> Result<MapRef, FuncError> {
    match v {
        Value::Map(m) if env.heap.get(*m).elem == Elem::Any => Ok(*m),
        other => Err(conversion(env, other, MAP_TYPE)),
    }
}

/// `dig "a" "b" default $dict`: the value at the key path, or the default
/// where a key is missing.
fn dig(env: &mut Env<'_>, args: &[Value]) -> R {
    let n = args.len();
    if n < 3 {
        return Err(FuncError::reason("dig needs at least three arguments"));
    }
    let mut map = as_any_map(env, &args[n - 1])?;
    let default = &args[n - 2];
    let mut path = Vec::with_capacity(n - 2);
    for k in &args[..n - 2] {
        match k {
            Value::String(s) => path.push(s.clone()),
            other => return Err(conversion(env, other, "string")),
        }
    }
    for (i, key) in path.iter().enumerate() {
        let step = match env.heap.get(map).entries.get(key) {
            Some(v) => v.clone(),
            None => return Ok(default.clone()),
        };
        if i + 1 == path.len() {
            return Ok(step);
        }
        map = as_any_map(env, &step)?;
    }
    Ok(default.clone())
}

/// copystructure itself panics on nil, so deepCopy and mustDeepCopy fail alike.
fn must_deep_copy(env: &mut Env<'_>, args: &[Value]) -> R {
    match args.first() {
        None | Some(Value::Nil | Value::Invalid) => Err(FuncError::reason(
            "reflect: call of reflect.Value.Type on zero Value",
        )),
        Some(v) => deep_copy(env, v, 0),
    }
}

#[cfg(test)]
mod tests {
    use crate::funcs::FuncError;
    use crate::sprig::testing::{call_in, s};
    use crate::value::{Heap, Value};

    use Value::Int as I;

    /// A compact picture of a value (maps as Go's %v prints them).
    fn show(heap: &Heap, v: &Value) -> String {
        match v {
            Value::Nil => "<nil>".into(),
            Value::Int(i) => i.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::String(b) => String::from_utf8_lossy(b).into_owned(),
            Value::List(list) => {
                let inner: Vec<String> = list.items.iter().map(|i| show(heap, i)).collect();
                format!("[{}]", inner.join(" "))
            }
            Value::Map(m) => {
                let inner: Vec<String> = heap
                    .get(*m)
                    .entries
                    .iter()
                    .map(|(k, v)| format!("{}:{}", String::from_utf8_lossy(k), show(heap, v)))
                    .collect();
                format!("map[{}]", inner.join(" "))
            }
            other => format!("{other:?}"),
        }
    }

    struct T(Heap);
    impl T {
        fn v(&mut self, name: &str, args: &[Value]) -> Value {
            call_in(&mut self.0, name, args).unwrap()
        }
        fn ok(&mut self, name: &str, args: &[Value]) -> String {
            let v = self.v(name, args);
            show(&self.0, &v)
        }
        fn err(&mut self, name: &str, args: &[Value]) -> String {
            match call_in(&mut self.0, name, args).unwrap_err() {
                FuncError::Reason(r) => r.into_owned(),
                other => panic!("{other:?}"),
            }
        }
        fn list(&mut self, items: Vec<Value>) -> Value {
            self.v("list", &items)
        }
    }

    #[test]
    fn dicts_as_go() {
        // Expected values from Go with sprig v3.3.0.
        let mut t = T(Heap::default());
        assert_eq!(t.ok("dict", &[s("a"), I(1), s("b")]), "map[a:1 b:]");
        let d = t.v("dict", &[s("a"), I(1)]);
        assert_eq!(t.ok("get", &[d.clone(), s("b")]), "");
        assert!(matches!(t.v("get", &[d.clone(), s("b")]), Value::String(_)));
        assert_eq!(t.ok("hasKey", &[d.clone(), s("a")]), "true");
        // set changes the map itself.
        t.v("set", &[d.clone(), s("b"), I(2)]);
        assert_eq!(t.ok("get", &[d.clone(), s("b")]), "2");
        assert_eq!(t.ok("unset", &[d.clone(), s("a")]), "map[b:2]");
        assert_eq!(show(&t.0, &d), "map[b:2]");
        let (a1, b2, a3) = (
            t.v("dict", &[s("a"), I(1)]),
            t.v("dict", &[s("b"), I(2)]),
            t.v("dict", &[s("a"), I(3)]),
        );
        assert_eq!(t.ok("pluck", &[s("a"), a1, b2.clone(), a3]), "[1 3]");
        let ab = t.v("dict", &[s("a"), I(1), s("b"), I(2)]);
        assert_eq!(t.ok("keys", &[ab.clone(), b2]), "[a b b]");
        assert_eq!(t.ok("pick", &[ab.clone(), s("a"), s("c")]), "map[a:1]");
        assert_eq!(t.ok("omit", &[ab.clone(), s("a")]), "map[b:2]");
        assert_eq!(t.ok("values", &[ab]), "[1 2]");
    }

    #[test]
    fn dig_as_go() {
        let mut t = T(Heap::default());
        let inner = t.v("dict", &[s("b"), I(5)]);
        let d = t.v("dict", &[s("a"), inner]);
        assert_eq!(t.ok("dig", &[s("a"), s("b"), s("def"), d.clone()]), "5");
        assert_eq!(t.ok("dig", &[s("a"), s("x"), s("def"), d.clone()]), "def");
        let flat = t.v("dict", &[s("a"), I(1)]);
        assert_eq!(t.ok("dig", &[s("a"), s("def"), flat.clone()]), "1");
        assert_eq!(
            t.err("dig", &[s("a"), s("b"), s("def"), flat.clone()]),
            "interface conversion: interface {} is int, not map[string]interface {}"
        );
        assert_eq!(
            t.err("dig", &[s("a"), flat.clone()]),
            "dig needs at least three arguments"
        );
        assert_eq!(
            t.err("dig", &[I(1), s("d"), flat]),
            "interface conversion: interface {} is int, not string"
        );
    }

    #[test]
    fn merge_as_mergo() {
        let mut t = T(Heap::default());
        let pair = |t: &mut T, f: &str| {
            let n1 = t.v("dict", &[s("x"), I(1)]);
            let dst = t.v("dict", &[s("a"), I(1), s("n"), n1]);
            let n2 = t.v("dict", &[s("x"), I(2), s("y"), I(3)]);
            let src = t.v("dict", &[s("a"), I(2), s("b"), I(3), s("n"), n2]);
            t.ok(f, &[dst, src])
        };
        assert_eq!(pair(&mut t, "merge"), "map[a:1 b:3 n:map[x:1 y:3]]");
        assert_eq!(
            pair(&mut t, "mergeOverwrite"),
            "map[a:2 b:3 n:map[x:2 y:3]]"
        );

        let (empty_list, one) = (t.list(vec![]), t.list(vec![I(1)]));
        let dst = t.v(
            "dict",
            &[s("a"), s(""), s("b"), I(0), s("c"), empty_list.clone()],
        );
        let src = t.v("dict", &[s("a"), s("x"), s("b"), I(5), s("c"), one.clone()]);
        assert_eq!(t.ok("merge", &[dst, src]), "map[a:x b:5 c:[1]]");
        let two = t.list(vec![I(2)]);
        let dst = t.v("dict", &[s("a"), s("x"), s("c"), two.clone()]);
        let src = t.v("dict", &[s("a"), Value::Nil, s("c"), one]);
        assert_eq!(t.ok("merge", &[dst, src]), "map[a:x c:[2]]");
        let dst = t.v("dict", &[s("a"), s("x"), s("c"), two]);
        let src = t.v("dict", &[s("a"), Value::Nil, s("c"), empty_list]);
        assert_eq!(t.ok("mergeOverwrite", &[dst, src]), "map[a:<nil> c:[]]");

        for (f, dst_map, want) in [
            ("merge", false, "map[a:s]"),
            ("mergeOverwrite", false, "map[a:map[x:1]]"),
            ("merge", true, "map[a:map[x:1]]"),
            ("mergeOverwrite", true, "map[a:s]"),
        ] {
            let m = t.v("dict", &[s("x"), I(1)]);
            let (d, sv) = if dst_map { (m, s("s")) } else { (s("s"), m) };
            let dst = t.v("dict", &[s("a"), d]);
            let src = t.v("dict", &[s("a"), sv]);
            assert_eq!(t.ok(f, &[dst, src]), want, "{f} {dst_map}");
        }

        // An empty nested map is filled in place, then replaced by src's.
        let e = t.v("dict", &[]);
        let dst = t.v("dict", &[s("n"), e.clone()]);
        let z = t.v("dict", &[s("z"), I(1)]);
        let src = t.v("dict", &[s("n"), z]);
        assert_eq!(t.ok("merge", &[dst, src]), "map[n:map[z:1]]");
        assert_eq!(show(&t.0, &e), "map[z:1]");
    }

    #[test]
    fn cycles_hit_the_depth_bound() {
        let mut t = T(Heap::default());
        let d = t.v("dict", &[]);
        t.v("set", &[d.clone(), s("a"), d.clone()]);
        let e = t.v("dict", &[]);
        t.v("set", &[e.clone(), s("a"), e.clone()]);
        let limit = FuncError::Limit(crate::limits::Limit::Depth);
        assert_eq!(
            call_in(&mut t.0, "merge", &[d.clone(), e]).unwrap_err(),
            limit
        );
        assert_eq!(call_in(&mut t.0, "deepCopy", &[d]).unwrap_err(), limit);
    }

    #[test]
    fn deep_copy_as_go() {
        let mut t = T(Heap::default());
        let b = t.v("dict", &[s("b"), I(2)]);
        let l = t.list(vec![I(1), b.clone()]);
        let d = t.v("dict", &[s("a"), l]);
        let c = t.v("deepCopy", std::slice::from_ref(&d));
        assert_eq!(show(&t.0, &c), "map[a:[1 map[b:2]]]");
        t.v("set", &[c.clone(), s("x"), I(1)]);
        t.v("set", &[b, s("y"), I(1)]);
        assert_eq!(show(&t.0, &d), "map[a:[1 map[b:2 y:1]]]");
        assert_eq!(show(&t.0, &c), "map[a:[1 map[b:2]] x:1]");
        assert_eq!(t.ok("deepCopy", &[I(5)]), "5");
        assert_eq!(
            t.err("mustDeepCopy", &[Value::Nil]),
            "reflect: call of reflect.Value.Type on zero Value"
        );
    }
}
