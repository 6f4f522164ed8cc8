//! text/template's own functions: and, or, not, len, index, slice, print,
//! printf, println, html, js, urlquery, call and the comparisons.

use crate::funcs::{Budget, FuncError, Type};
use crate::parse::node::Arg;
use crate::value::{Elem, Heap, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    And,
    Or,
    Not,
    Len,
    Index,
    Slice,
    Print,
    Printf,
    Println,
    Html,
    Js,
    Urlquery,
    Call,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

pub fn lookup(name: &str) -> Option<Builtin> {
    use Builtin::*;
    Some(match name {
        "and" => And,
        "or" => Or,
        "not" => Not,
        "len" => Len,
        "index" => Index,
        "slice" => Slice,
        "print" => Print,
        "printf" => Printf,
        "println" => Println,
        "html" => Html,
        "js" => Js,
        "urlquery" => Urlquery,
        "call" => Call,
        "eq" => Eq,
        "ne" => Ne,
        "lt" => Lt,
        "le" => Le,
        "gt" => Gt,
        "ge" => Ge,
        _ => return None,
    })
}

pub fn is_builtin(name: &str) -> bool {
    lookup(name).is_some()
}

impl Builtin {
    pub fn params(self) -> &'static [Type] {
        use Builtin::*;
        match self {
            And | Or | Not | Len | Index | Slice | Call | Eq => &[Type::Value],
            Printf => &[Type::String],
            Print | Println | Html | Js | Urlquery => &[],
            Ne | Lt | Le | Gt | Ge => &[Type::Value, Type::Value],
        }
    }

    pub fn variadic(self) -> Option<Type> {
        use Builtin::*;
        match self {
            And | Or | Index | Slice | Call | Eq => Some(Type::Value),
            Print | Printf | Println | Html | Js | Urlquery => Some(Type::Any),
            Not | Len | Ne | Lt | Le | Gt | Ge => None,
        }
    }
}

fn reason(text: impl Into<std::borrow::Cow<'static, str>>) -> FuncError {
    FuncError::reason(text)
}

pub fn call(
    b: Builtin,
    heap: &mut Heap,
    budget: &mut Budget,
    args: &[Arg],
    argv: &[Value],
) -> Result<Value, FuncError> {
    use Builtin::*;
    // Printing stops at what the budget has left, then charges what it made.
    let text = |made: Result<Vec<u8>, crate::limits::Limit>, budget: &mut Budget| {
        let bytes = made.map_err(FuncError::Limit)?;
        budget.charge(bytes.len())?;
        Ok(Value::String(bytes.into()))
    };
    let room = budget.left();
    match b {
        // Evaluated lazily by the executor.
        And | Or => Ok(argv.last().cloned().unwrap_or(Value::Invalid)),
        Not => Ok(Value::Bool(!argv[0].is_true(heap))),
        Len => len(heap, &argv[0]),
        Index => index(heap, &argv[0], &argv[1..], budget.values_in_errors),
        Slice => slice(heap, &argv[0], &argv[1..], budget.values_in_errors),
        Print => text(crate::fmt::try_sprint(heap, argv, room), budget),
        Println => text(crate::fmt::try_sprintln(heap, argv, room), budget),
        Printf => {
            let format = argv[0].as_bytes().unwrap_or_default().to_vec();
            text(
                crate::fmt::try_sprintf(heap, &format, &argv[1..], room),
                budget,
            )
        }
        Html | Js | Urlquery => {
            let s = escape_args(heap, argv, room).map_err(FuncError::Limit)?;
            let escaped = match b {
                Html => crate::escape::html_escape(&s),
                Js => crate::escape::js_escape(&s),
                _ => crate::escape::url_query_escape(&s),
            };
            text(Ok(escaped), budget)
        }
        Call => match &argv[0] {
            Value::Invalid | Value::Nil => Err(reason("call of nil")),
            v => Err(reason(format!(
                "non-function {} of type {}",
                args.first().map(|a| a.to_string()).unwrap_or_default(),
                v.type_name(heap)
            ))),
        },
        Eq => eq(heap, &argv[0], &argv[1..], budget.values_in_errors).map(Value::Bool),
        Ne => eq(heap, &argv[0], &argv[1..2], budget.values_in_errors).map(|t| Value::Bool(!t)),
        Lt => lt(heap, &argv[0], &argv[1]).map(Value::Bool),
        Le => le(heap, &argv[0], &argv[1]).map(Value::Bool),
        Gt => le(heap, &argv[0], &argv[1]).map(|t| Value::Bool(!t)),
        Ge => lt(heap, &argv[0], &argv[1]).map(|t| Value::Bool(!t)),
    }
}

/// html, js and urlquery print their arguments first (Go's `evalArgs`).
fn escape_args(heap: &Heap, argv: &[Value], room: usize) -> Result<Vec<u8>, crate::limits::Limit> {
    if let [Value::String(s)] = argv {
        return Ok(s.to_vec());
    }
    let printable: Vec<Value> = argv
        .iter()
        .map(|v| match v {
            Value::Invalid | Value::Nil => Value::str("<no value>"),
            v => v.clone(),
        })
        .collect();
    crate::fmt::try_sprint(heap, &printable, room)
}

fn len(heap: &Heap, item: &Value) -> Result<Value, FuncError> {
    let n = match item {
        Value::String(s) => s.len(),
        Value::List(l) => l.items.len(),
        Value::Map(m) => heap.get(*m).entries.len(),
        Value::Invalid => return Err(reason("reflect: call of reflect.Value.Type on zero Value")),
        Value::Nil => return Err(reason("len of nil pointer")),
        other => return Err(reason(format!("len of type {}", other.type_name(heap)))),
    };
    Ok(Value::Int(n as i64))
}

/// Go's `indexArg`; `show` puts the index into the error text, as Go does.
fn index_arg(heap: &Heap, index: &Value, cap: usize, show: bool) -> Result<usize, FuncError> {
    let x: i128 = match index {
        v if v.int_kind_value().is_some() => i128::from(v.int_kind_value().unwrap_or(0)),
        v if v.as_u64().is_some() => i128::from(v.as_u64().unwrap_or(0)),
        Value::Invalid | Value::Nil => return Err(reason("cannot index slice/array with nil")),
        other => {
            return Err(reason(format!(
                "cannot index slice/array with type {}",
                other.type_name(heap)
            )))
        }
    };
    if x < 0 || x > cap as i128 {
        return Err(match show {
            // Go prints the index as an int64.
            true => reason(format!("index out of range: {}", x as i64)),
            false => reason("index out of range"),
        });
    }
    Ok(x as usize)
}

fn index(heap: &Heap, item: &Value, indexes: &[Value], show: bool) -> Result<Value, FuncError> {
    let mut item = item.clone();
    if matches!(item, Value::Invalid | Value::Nil) {
        return Err(reason("index of untyped nil"));
    }
    for index in indexes {
        item = match &item {
            Value::Nil => return Err(reason("index of nil pointer")),
            Value::List(l) => {
                let x = index_arg(heap, index, l.items.len(), show)?;
                match l.items.get(x) {
                    Some(v) => v.clone(),
                    None => return Err(reason("reflect: slice index out of range")),
                }
            }
            Value::String(s) => {
                let x = index_arg(heap, index, s.len(), show)?;
                match s.get(x) {
                    Some(b) => Value::Uint8(*b),
                    None => return Err(reason("reflect: string index out of range")),
                }
            }
            Value::Map(m) => {
                let map = heap.get(*m);
                let key = match index {
                    Value::String(k) => k.clone(),
                    Value::Invalid | Value::Nil => {
                        return Err(reason("value is nil; should be of type string"))
                    }
                    other => {
                        return Err(reason(format!(
                            "value has type {}; should be string",
                            other.type_name(heap)
                        )))
                    }
                };
                match map.entries.get(&key) {
                    Some(v) => v.clone(),
                    None if map.elem == Elem::String => Value::str(""),
                    None => Value::Nil,
                }
            }
            other => {
                return Err(reason(format!(
                    "can't index item of type {}",
                    other.type_name(heap)
                )))
            }
        };
    }
    Ok(item)
}

fn slice(heap: &Heap, item: &Value, indexes: &[Value], show: bool) -> Result<Value, FuncError> {
    if matches!(item, Value::Invalid | Value::Nil) {
        return Err(reason("slice of untyped nil"));
    }
    if indexes.len() > 3 {
        return Err(reason(format!("too many slice indexes: {}", indexes.len())));
    }
    let len = match item {
        Value::String(s) => {
            if indexes.len() == 3 {
                return Err(reason("cannot 3-index slice a string"));
            }
            s.len()
        }
        Value::List(l) => l.items.len(),
        other => {
            return Err(reason(format!(
                "can't slice item of type {}",
                other.type_name(heap)
            )))
        }
    };
    let mut idx = [0, len, len];
    for (i, index) in indexes.iter().enumerate() {
        idx[i] = index_arg(heap, index, len, show)?;
    }
    let bad = match (idx[0] > idx[1], indexes.len() == 3 && idx[1] > idx[2]) {
        (true, _) => Some((idx[0], idx[1])),
        (false, true) => Some((idx[1], idx[2])),
        (false, false) => None,
    };
    if let Some((low, high)) = bad {
        return Err(match show {
            true => reason(format!("invalid slice index: {low} > {high}")),
            false => reason("invalid slice index"),
        });
    }
    Ok(match item {
        Value::String(s) => Value::bytes(&s[idx[0]..idx[1]]),
        Value::List(l) => Value::list(l.elem, l.items[idx[0]..idx[1]].to_vec()),
        _ => Value::Invalid,
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BasicKind {
    Bool,
    Int,
    Uint,
    Float,
    String,
}

fn basic_kind(v: &Value) -> Option<BasicKind> {
    Some(match v {
        Value::Bool(_) => BasicKind::Bool,
        Value::Int(_) | Value::Int64(_) | Value::Int32(_) => BasicKind::Int,
        Value::Uint8(_) | Value::Uint32(_) | Value::Uint64(_) => BasicKind::Uint,
        Value::Float64(_) => BasicKind::Float,
        Value::String(_) => BasicKind::String,
        Value::Object(o) if o.int_value().is_some() => BasicKind::Int,
        _ => return None,
    })
}

fn is_nil(v: &Value) -> bool {
    matches!(v, Value::Invalid | Value::Nil)
}

fn incompatible(heap: &Heap, a: &Value, b: &Value) -> FuncError {
    reason(format!(
        "incompatible types for comparison: {} and {}",
        a.type_name(heap),
        b.type_name(heap)
    ))
}

fn eq(heap: &Heap, a: &Value, others: &[Value], show: bool) -> Result<bool, FuncError> {
    if others.is_empty() {
        return Err(reason("missing argument for comparison"));
    }
    let k1 = basic_kind(a);
    for b in others {
        let k2 = basic_kind(b);
        let truth = if k1 != k2 {
            match (k1, k2) {
                (Some(BasicKind::Int), Some(BasicKind::Uint)) => {
                    let i = a.int_kind_value().unwrap_or(0);
                    i >= 0 && i as u64 == b.as_u64().unwrap_or(0)
                }
                (Some(BasicKind::Uint), Some(BasicKind::Int)) => {
                    let i = b.int_kind_value().unwrap_or(0);
                    i >= 0 && a.as_u64().unwrap_or(0) == i as u64
                }
                _ if !is_nil(a) && !is_nil(b) => return Err(incompatible(heap, a, b)),
                _ => false,
            }
        } else {
            match (a, b) {
                (Value::Bool(x), Value::Bool(y)) => x == y,
                (Value::Float64(x), Value::Float64(y)) => x == y,
                (Value::String(x), Value::String(y)) => x == y,
                _ if k1 == Some(BasicKind::Int) => a.int_kind_value() == b.int_kind_value(),
                _ if k1 == Some(BasicKind::Uint) => a.as_u64() == b.as_u64(),
                _ => {
                    if !is_nil(a) && !is_nil(b) && a.kind() != b.kind() {
                        return Err(reason(format!(
                            "non-comparable types {} and {}",
                            a.type_name(heap),
                            b.type_name(heap)
                        )));
                    }
                    if is_nil(a) || is_nil(b) {
                        is_nil(a) == is_nil(b)
                    } else {
                        match (a, b) {
                            (Value::Object(x), Value::Object(y)) => x.equals(y.as_ref()),
                            // Go's text formats the value with %s.
                            _ if show => {
                                let typ = Value::string(b.type_name(heap));
                                let format = b"non-comparable type %s: %v";
                                if let Ok(text) = crate::fmt::try_sprintf(
                                    heap,
                                    format,
                                    &[b.clone(), typ],
                                    1 << 16,
                                ) {
                                    return Err(reason(
                                        String::from_utf8_lossy(&text).into_owned(),
                                    ));
                                }
                                return Err(reason(format!(
                                    "non-comparable type {}",
                                    b.type_name(heap)
                                )));
                            }
                            _ => {
                                return Err(reason(format!(
                                    "non-comparable type {}",
                                    b.type_name(heap)
                                )))
                            }
                        }
                    }
                }
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

fn lt(heap: &Heap, a: &Value, b: &Value) -> Result<bool, FuncError> {
    let bad = || reason("invalid type for comparison");
    let k1 = basic_kind(a).ok_or_else(bad)?;
    let k2 = basic_kind(b).ok_or_else(bad)?;
    if k1 != k2 {
        return match (k1, k2) {
            (BasicKind::Int, BasicKind::Uint) => {
                let i = a.int_kind_value().unwrap_or(0);
                Ok(i < 0 || (i as u64) < b.as_u64().unwrap_or(0))
            }
            (BasicKind::Uint, BasicKind::Int) => {
                let i = b.int_kind_value().unwrap_or(0);
                Ok(i >= 0 && a.as_u64().unwrap_or(0) < i as u64)
            }
            _ => Err(incompatible(heap, a, b)),
        };
    }
    Ok(match (a, b) {
        (Value::Float64(x), Value::Float64(y)) => x < y,
        (Value::String(x), Value::String(y)) => x < y,
        _ if k1 == BasicKind::Int => a.int_kind_value() < b.int_kind_value(),
        _ if k1 == BasicKind::Uint => a.as_u64() < b.as_u64(),
        _ => return Err(bad()),
    })
}

fn le(heap: &Heap, a: &Value, b: &Value) -> Result<bool, FuncError> {
    if lt(heap, a, b)? {
        return Ok(true);
    }
    // lt refused what eq could not compare.
    eq(heap, a, std::slice::from_ref(b), false)
}
