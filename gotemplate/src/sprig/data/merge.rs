//! `merge`/`mergeOverwrite` as dario.cat/mergo v1.0.1 does them on
//! `map[string]interface{}`, and `deepCopy` as mitchellh/copystructure.

use crate::funcs::{Env, FuncError};
use crate::value::{Bytes, Elem, GoMap, Kind, MapRef, Value};

/// Nested maps merged or copied at most (Go has no bound: a cycle made with
/// `set` overflows its stack).
const MAX_DEPTH: usize = 500;

pub(crate) enum MergeError {
    /// An error mergo returns: `merge` swallows it, `mustMerge` returns it.
    Returned(FuncError),
    /// A Go panic (or a render bound): an error for both.
    Panic(FuncError),
}

impl From<FuncError> for MergeError {
    fn from(e: FuncError) -> Self {
        MergeError::Panic(e)
    }
}

/// mergo's `isEmptyValue` (pointers and interfaces looked through).
fn is_empty_value(env: &Env<'_>, v: &Value) -> bool {
    match v {
        Value::Object(_) => false,
        other => !other.is_true(env.heap),
    }
}

fn set_entry(env: &mut Env<'_>, map: MapRef, key: Bytes, v: Value) -> Result<(), MergeError> {
    let m = env.heap.get_mut(map);
    if m.elem == Elem::String && !matches!(v, Value::String(_)) {
        let text = format!(
            "reflect.Value.SetMapIndex: value of type {} is not assignable to type string",
            v.type_name(env.heap)
        );
        return Err(MergeError::Panic(FuncError::reason(text)));
    }
    env.charge(key.len() + 32)?;
    env.heap.get_mut(map).entries.insert(key, v);
    Ok(())
}

fn different_types() -> MergeError {
    MergeError::Returned(FuncError::reason("src and dst must be of same type"))
}

fn field_panic(src: &Value) -> MergeError {
    let kind = match src.kind() {
        Kind::Ptr => "ptr",
        _ => "map",
    };
    MergeError::Panic(FuncError::reason(format!(
        "reflect: call of reflect.Value.Field on {kind} Value"
    )))
}

/// What mergo's deepMerge does to a destination element `dst` (not
/// settable: it came out of a map) for a source map or struct/pointer.
fn merge_into_element(
    env: &mut Env<'_>,
    dst: Option<&Value>,
    src: &Value,
    overwrite: bool,
    depth: usize,
) -> Result<(), MergeError> {
    let Some(dst) = dst else { return Ok(()) };
    match (dst, src) {
        (Value::Map(d), Value::Map(s)) => deep_merge(env, *d, *s, overwrite, depth + 1),
        (Value::Object(d), _) if d.kind() == Kind::Ptr => {
            // A pointer destination with a source of another type.
            let same = matches!(src, Value::Object(s) if s.kind() == Kind::Ptr);
            if !same && !overwrite {
                return Err(different_types());
            }
            Ok(())
        }
        (Value::Object(d), _) if d.kind() == Kind::Struct && d.type_name() != "time.Time" => {
            // Structs with exported fields are merged field by field, and
            // asking a map or pointer for a field panics.
            match src {
                Value::Object(s) if s.kind() == Kind::Struct => Ok(()),
                _ => Err(field_panic(src)),
            }
        }
        _ => Ok(()),
    }
}

/// mergo's deepMerge of map `src` into map `dst`.
pub(crate) fn deep_merge(
    env: &mut Env<'_>,
    dst: MapRef,
    src: MapRef,
    overwrite: bool,
    depth: usize,
) -> Result<(), MergeError> {
    if depth > MAX_DEPTH {
        return Err(MergeError::Panic(FuncError::Limit(
            crate::limits::Limit::Depth,
        )));
    }
    let entries: Vec<(Bytes, Value)> = env
        .heap
        .get(src)
        .entries
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (key, s_el) in entries {
        env.check_time()?;
        let d_el = env.heap.get(dst).entries.get(&key).cloned();
        match &s_el {
            Value::Nil | Value::Invalid => {
                if overwrite {
                    set_entry(env, dst, key, Value::Nil)?;
                }
                continue;
            }
            Value::Map(_) | Value::Object(_) => {
                merge_into_element(env, d_el.as_ref(), &s_el, overwrite, depth)?;
            }
            Value::List(sl) => {
                let dst_empty = env.heap.get(dst).entries.is_empty();
                let v = if overwrite || dst_empty {
                    s_el.clone()
                } else {
                    match &d_el {
                        None | Some(Value::Nil) => Value::list(sl.elem, Vec::new()),
                        Some(d) => d.clone(),
                    }
                };
                set_entry(env, dst, key.clone(), v)?;
            }
            _ => {}
        }
        if let Some(d) = &d_el {
            if !is_empty_value(env, d) {
                if matches!(s_el, Value::List(_)) {
                    continue;
                }
                if matches!((&s_el, d), (Value::Map(_), Value::Map(_))) {
                    continue;
                }
            }
        }
        let dst_unset = match &d_el {
            None => true,
            Some(d) => is_empty_value(env, d),
        };
        if overwrite || dst_unset {
            set_entry(env, dst, key, s_el)?;
        }
    }
    Ok(())
}

/// copystructure.Copy: maps and slices copied all the way down (new maps
/// in the heap); strings, numbers and objects shared (they are immutable).
pub(crate) fn deep_copy(env: &mut Env<'_>, v: &Value, depth: usize) -> Result<Value, FuncError> {
    if depth > MAX_DEPTH {
        return Err(FuncError::Limit(crate::limits::Limit::Depth));
    }
    env.check_time()?;
    match v {
        Value::List(l) => {
            env.charge(l.items.len().saturating_mul(16))?;
            let mut items = Vec::with_capacity(l.items.len());
            for item in &l.items {
                items.push(deep_copy(env, item, depth + 1)?);
            }
            Ok(Value::list(l.elem, items))
        }
        Value::Map(m) => {
            let (elem, entries): (Elem, Vec<(Bytes, Value)>) = {
                let map = env.heap.get(*m);
                let entries = map
                    .entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                (map.elem, entries)
            };
            env.charge(entries.len().saturating_mul(48))?;
            let mut copy = GoMap {
                elem,
                entries: Default::default(),
            };
            for (k, v) in entries {
                let v = deep_copy(env, &v, depth + 1)?;
                copy.entries.insert(k, v);
            }
            Ok(env.heap.alloc(copy))
        }
        other => Ok(other.clone()),
    }
}
