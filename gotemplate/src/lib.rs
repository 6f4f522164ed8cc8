//! Go's `text/template`, with sprig's functions, for Rust: the same output
//! byte for byte as Go 1.26 with sprig v3.3.0, and bounded in time, memory,
//! output and depth so that hostile templates cannot hang or exhaust the
//! process. Sealed Secrets renders `spec.template.data` with it; any tool
//! that reads Helm-, Hugo- or consul-template-style files can too.
//!
//! ```
//! # if !cfg!(feature = "sprig") { return Ok(()); }
//! use go_text_template::Template;
//! use serde::Serialize;
//!
//! #[derive(Serialize)]
//! struct Item { name: &'static str, price: f64 }
//!
//! let t = Template::new("list")
//!     .with_sprig()
//!     .parse("{{ range . }}{{ .name | title }}: {{ printf \"%.2f\" .price }}\n{{ end }}")?;
//! let mut out = Vec::new();
//! t.execute(&mut out, &[Item { name: "tea", price: 3.5 }, Item { name: "cake", price: 4.0 }])?;
//! assert_eq!(String::from_utf8_lossy(&out), "Tea: 3.50\nCake: 4.00\n");
//! # Ok::<(), go_text_template::Error>(())
//! ```
//!
//! # Data
//!
//! [`Template::execute`] takes anything [`serde::Serialize`] and shows it
//! to the template as the Go values `encoding/json` would decode it into,
//! except for numbers:
//!
//! | Rust (serde)                      | Go value in the template             |
//! |-----------------------------------|--------------------------------------|
//! | struct, map                       | `map[string]interface {}`, keys are the serde names (so `.field`, not Go's `.Field`); integer, bool and char keys become their text |
//! | `Vec`, slice, tuple               | `[]interface {}`                     |
//! | `i8` … `i64`, `u8` … `u64`        | `int` (Go's 64-bit int, which `index`, `slice` and sprig's functions take); a `u64` above `i64::MAX` is `uint64` |
//! | `f32`, `f64`                      | `float64`                            |
//! | `bool`                            | `bool`                               |
//! | `String`, `&str`, `char`, bytes   | `string` (Go strings are any bytes)  |
//! | `None`, `()`                      | `nil`                                |
//! | enum                              | the variant's name, or `{variant: value}` |
//!
//! For exact Go types (`int64`, `map[string]string`, ...) build the dot from
//! [`Value`]s with [`Template::execute_with`].
//!
//! # Functions
//!
//! A [`Func`] declares Go's parameter types ([`Type`]); the executor checks
//! and converts arguments as Go's does and then calls the Rust closure with
//! [`Value`]s and an [`Env`] (the execution's maps and bounds). Errors are
//! [`FuncError`]s. Maps live in the execution's [`Heap`] because Go maps
//! are references (`set` changes the map every holder sees).
//!
//! # Errors
//!
//! [`Error`] tells a text that does not parse, an execution error, a
//! function's error, a bound that was reached ([`Limits`]), and a failed
//! write apart; its `Display` is Go's text. With
//! [`Template::value_free_errors`] no error text holds a value from the data
//! (what Sealed Secrets needs: its errors go to Kubernetes status and events).
//!
//! # Differences from Go
//!
//! * Executions are bounded ([`Limits`]); Go has no bounds.
//! * `DefinedTemplates` lists names sorted (Go's order is random).
//! * A template is a value: the builder methods change a copy, so a
//!   template from [`Template::lookup`] does not see later changes.
//! * sprig's `env`, `expandenv` and `getHostByName` are left out (no
//!   environment, no network).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod builtins;
mod data;
mod error;
mod escape;
mod exec;
mod fmt;
mod funcs;
mod limits;
mod parse;
mod set;
mod sprig;
mod strconv;
mod template;
// Only part of it is used without sprig's string functions.
#[cfg_attr(not(feature = "sprig"), allow(dead_code))]
mod unicode;
mod value;

use std::sync::OnceLock;

pub use error::{Error, ExecError};
pub use funcs::{Env, Func, FuncError, FuncMap, Type};
pub use limits::{Limit, Limits};
pub use parse::ParseError;
pub use set::MissingKey;
pub use template::Template;
pub use value::{Bytes, Elem, GoMap, Heap, Kind, List, MapRef, Object, Value};

/// sprig v3.3.0's `GenericFuncMap` minus `env`, `expandenv` and
/// `getHostByName`, built once (cloning is cheap).
///
/// ```
/// # if !cfg!(feature = "sprig-crypto") { return Ok(()); }
/// use go_text_template::Template;
/// let t = Template::new("t").funcs(go_text_template::sprig()).parse("{{ sha256sum \"\" | trunc 8 }}")?;
/// let mut out = Vec::new();
/// t.execute(&mut out, &())?;
/// assert_eq!(out, b"e3b0c442");
/// # Ok::<(), go_text_template::Error>(())
/// ```
pub fn sprig() -> FuncMap {
    static FUNCS: OnceLock<FuncMap> = OnceLock::new();
    FUNCS.get_or_init(sprig::functions).clone()
}

/// The README's examples, run as doc-tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
