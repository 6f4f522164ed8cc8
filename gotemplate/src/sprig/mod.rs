//! sprig v3.3.0's `GenericFuncMap` minus `env`, `expandenv` and
//! `getHostByName` (the reference removes those: no environment, no network).
//! A piped value arrives as the last argument (`{{ .x | replace "a" "b" }}`).

use crate::fmt::format_value;
use crate::funcs::{insert_all, FuncMap};
use crate::value::{Heap, Value};

/// `f!(name, params, variadic, call)`: one function of the map, as a `Func`.
macro_rules! f {
    ($name:literal, $params:expr, $variadic:expr, $call:expr) => {
        Func {
            name: $name,
            params: $params,
            variadic: $variadic,
            call: $call,
        }
    };
}

// Strings, paths, regular expressions, URLs, encodings.
mod encoding;
mod paths;
mod regex;
mod regex_class;
mod regex_go;
mod regex_names;
mod strings;
mod url;
// Lists, dicts, defaults, reflection, numbers, semver.
mod defaults;
mod dicts;
mod lists;
mod numeric;
mod reflect;
mod semver;
mod semver_constraint;
// Helpers of the data functions: cast's conversions, decimals, JSON.
mod cast;
mod decimal;
mod dicts_merge;
mod gomath;
mod json;
mod json_decode;
// Hashes, keys, certificates, random values, dates.
mod certs;
mod crypto;
mod date;
mod der;
mod dsa;
mod gotime;
mod keys;
mod random;
mod timefmt;
mod timeobj;
mod timeparse;

/// Every function of the map, by name.
pub fn functions() -> FuncMap {
    let mut map = FuncMap::new();
    for funcs in [
        encoding::FUNCS,
        paths::FUNCS,
        regex::FUNCS,
        strings::FUNCS,
        url::FUNCS,
        defaults::FUNCS,
        dicts::FUNCS,
        lists::FUNCS,
        numeric::FUNCS,
        reflect::FUNCS,
        semver::FUNCS,
        crypto::FUNCS,
        certs::FUNCS,
        date::FUNCS,
        random::FUNCS,
    ] {
        insert_all(&mut map, funcs);
    }
    map
}

/// Go's check of a method's argument count, as text/template words it.
pub(crate) fn want_args(
    name: &str,
    args: &[Value],
    n: usize,
) -> Result<(), crate::funcs::FuncError> {
    if args.len() == n {
        Ok(())
    } else {
        Err(crate::funcs::FuncError::reason(format!(
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

#[cfg(test)]
pub(crate) mod testing {
    //! Calling functions directly in unit tests.
    use crate::funcs::{Budget, Env, FuncError};
    use crate::value::{Heap, Value};

    /// Calls sprig function `name` with arguments already of its parameter types.
    pub fn call(name: &str, args: &[Value]) -> Result<Value, FuncError> {
        let mut heap = Heap::default();
        call_in(&mut heap, name, args)
    }

    pub fn call_in(heap: &mut Heap, name: &str, args: &[Value]) -> Result<Value, FuncError> {
        let funcs = super::functions();
        let f = funcs
            .get(name)
            .unwrap_or_else(|| panic!("no function {name}"));
        let mut budget = Budget::new(64 << 20, None);
        let mut env = Env {
            heap,
            budget: &mut budget,
        };
        (f.call)(&mut env, args)
    }

    /// The `%v` text of a value.
    pub fn text(heap: &Heap, value: &Value) -> String {
        String::from_utf8_lossy(&crate::fmt::format_value(heap, value)).into_owned()
    }

    pub fn s(text: &str) -> Value {
        Value::str(text)
    }
}
