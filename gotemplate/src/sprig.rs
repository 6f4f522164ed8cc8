//! sprig v3.3.0's `GenericFuncMap` minus `env`, `expandenv` and
//! `getHostByName` (the reference removes those: no environment, no network).
//! A piped value arrives as the last argument (`{{ .x | replace "a" "b" }}`).
//!
//! Cargo features choose the families: `sprig` (the map itself, and its
//! pure functions), `sprig-regex` (the regex functions and semver, which
//! parses with regexps), `sprig-time` (dates and durations), `sprig-crypto`
//! (hashes, keys, certificates; brings `sprig-time`). A function whose
//! feature is off is not in the map: a template naming it fails to parse
//! (`function "X" not defined`), as in Go. Without `sprig` the map is empty.

#[cfg(feature = "sprig")]
use crate::funcs::insert_all;
use crate::funcs::FuncMap;

#[cfg(feature = "sprig")]
mod args;
#[cfg(all(test, feature = "sprig"))]
pub(crate) mod testing;

// The concepts: strings (with random strings), paths, url, regex, encoding
// (base64/32), json, data (lists, dicts, defaults, reflection), numbers,
// semver, crypto (hashes, keys, certificates), time. `args` and `testing` are
// helpers.
#[cfg(feature = "sprig-crypto")]
mod crypto;
#[cfg(feature = "sprig")]
mod data;
#[cfg(feature = "sprig")]
mod encoding;
#[cfg(feature = "sprig")]
mod json;
#[cfg(feature = "sprig")]
mod numbers;
#[cfg(feature = "sprig")]
mod paths;
#[cfg(feature = "sprig-regex")]
mod regex;
#[cfg(feature = "sprig-regex")]
mod semver;
#[cfg(feature = "sprig")]
mod strings;
#[cfg(feature = "sprig-time")]
mod time;
#[cfg(feature = "sprig")]
mod url;

/// Every function of the map, by name: those of the features that are on.
pub fn functions() -> FuncMap {
    #[cfg_attr(not(feature = "sprig"), allow(unused_mut))]
    let mut map = FuncMap::new();
    #[cfg(feature = "sprig")]
    for funcs in [
        strings::FUNCS,
        strings::random::FUNCS,
        paths::FUNCS,
        url::FUNCS,
        encoding::FUNCS,
        json::FUNCS,
        data::defaults::FUNCS,
        data::dicts::FUNCS,
        data::lists::FUNCS,
        data::reflect::FUNCS,
        numbers::FUNCS,
    ] {
        insert_all(&mut map, funcs);
    }
    #[cfg(feature = "sprig-regex")]
    for funcs in [regex::FUNCS, semver::FUNCS] {
        insert_all(&mut map, funcs);
    }
    #[cfg(feature = "sprig-crypto")]
    for funcs in [crypto::FUNCS, crypto::certs::FUNCS] {
        insert_all(&mut map, funcs);
    }
    #[cfg(feature = "sprig-time")]
    insert_all(&mut map, time::FUNCS);
    map
}
