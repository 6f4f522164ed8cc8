//! What sprig's functions do with their arguments: read one of the type the
//! signature promised, Go's method arity check, sprig's `strval`, a new string
//! charged to the render's memory budget, and Go's slice bounds check.
//! Two readers per type exist, as before they were gathered here:
//! `str_arg`/`int_arg` (strings.go's: shared `Bytes`, only `int`) and
//! `arg_str`/`arg_int` (crypto.go's: bytes, any integer kind).

use std::rc::Rc;

use crate::fmt::format_value;
use crate::funcs::{Env, FuncError};
use crate::value::{Bytes, Heap, Value};

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

#[cfg(feature = "sprig-crypto")]
pub(super) fn arg_str(args: &[Value], i: usize) -> Result<&[u8], FuncError> {
    match args.get(i) {
        Some(Value::String(s)) => Ok(s),
        _ => Err(FuncError::reason("wrong type for value; expected string")),
    }
}

#[cfg(feature = "sprig-crypto")]
pub(super) fn arg_int(args: &[Value], i: usize) -> Result<i64, FuncError> {
    args.get(i)
        .and_then(Value::as_i64)
        .ok_or_else(|| FuncError::reason("wrong type for value; expected int"))
}

#[cfg(any(feature = "sprig-regex", feature = "sprig-time"))]
/// Go's check of a method's argument count, as text/template words it.
pub(crate) fn want_args(name: &str, args: &[Value], n: usize) -> Result<(), FuncError> {
    if args.len() == n {
        Ok(())
    } else {
        Err(FuncError::reason(format!(
            "wrong number of args for {name}: want {n} got {}",
            args.len()
        )))
    }
}

/// sprig's `strval`: strings as they are, anything else as `fmt`'s `%v`
/// (which uses a type's `String()` method).
#[allow(dead_code)] // used by the function modules
pub(crate) fn strval(heap: &Heap, value: &Value) -> Vec<u8> {
    format_value(heap, value)
}
