//! sprig v3.3.0's `GenericFuncMap` minus `env`, `expandenv` and
//! `getHostByName` (the reference removes those: no environment, no network).
//! A piped value arrives as the last argument (`{{ .x | replace "a" "b" }}`).

use crate::funcs::{insert_all, FuncMap};

mod args;
#[cfg(test)]
pub(crate) mod testing;

// The concepts: strings (with random strings), paths, url, regex, encoding
// (base64/32), json, data (lists, dicts, defaults, reflection), numbers,
// semver, crypto (hashes, keys, certificates), time. `args` and `testing` are
// helpers.
mod crypto;
mod data;
mod encoding;
mod json;
mod numbers;
mod paths;
mod regex;
mod semver;
mod strings;
mod time;
mod url;

/// Every function of the map, by name.
pub fn functions() -> FuncMap {
    let mut map = FuncMap::new();
    for funcs in [
        strings::FUNCS,
        strings::random::FUNCS,
        paths::FUNCS,
        url::FUNCS,
        regex::FUNCS,
        encoding::FUNCS,
        json::FUNCS,
        data::defaults::FUNCS,
        data::dicts::FUNCS,
        data::lists::FUNCS,
        data::reflect::FUNCS,
        numbers::FUNCS,
        semver::FUNCS,
        crypto::FUNCS,
        crypto::certs::FUNCS,
        time::FUNCS,
    ] {
        insert_all(&mut map, funcs);
    }
    map
}
