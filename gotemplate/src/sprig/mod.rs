//! sprig v3.3.0's `GenericFuncMap` minus `env`, `expandenv` and
//! `getHostByName` (the reference removes those: no environment, no network).
//! A piped value arrives as the last argument (`{{ .x | replace "a" "b" }}`).

use crate::funcs::{insert_all, FuncMap};

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

mod args;
#[cfg(test)]
pub(crate) mod testing;

// Strings, paths, regular expressions, URLs, encodings.
mod encoding;
mod paths;
mod regex;
mod strings;
mod url;
// Lists, dicts, defaults, reflection, numbers, semver.
mod data;
mod numbers;
mod semver;
// Helpers of the data functions: cast's conversions, decimals, JSON.
mod json;
// Hashes, keys, certificates, random values, dates.
mod crypto;
mod time;

/// Every function of the map, by name.
pub fn functions() -> FuncMap {
    let mut map = FuncMap::new();
    for funcs in [
        encoding::FUNCS,
        paths::FUNCS,
        regex::FUNCS,
        strings::FUNCS,
        url::FUNCS,
        data::defaults::FUNCS,
        json::FUNCS,
        data::dicts::FUNCS,
        data::lists::FUNCS,
        numbers::FUNCS,
        data::reflect::FUNCS,
        semver::FUNCS,
        crypto::FUNCS,
        crypto::certs::FUNCS,
        time::FUNCS,
        strings::random::FUNCS,
    ] {
        insert_all(&mut map, funcs);
    }
    map
}
