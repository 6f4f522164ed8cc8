//! Go's `text/template` with sprig's `GenericFuncMap`, as the reference
//! Sealed Secrets controller renders `spec.template.data`: the same output
//! byte for byte, but bounded in time, memory and depth, and with error texts
//! that never hold a value from the data.
//!
//! Modules follow Go's layout: `parse` (lexer and parser), `exec` (the
//! executor), `builtins` (text/template's own functions), `fmt` (Go's
//! printing) over `strconv`, `unicode` (Go's tables), `sprig` (the function
//! map). `value` and `funcs` refer to each other on purpose: a `Value` may be
//! an `Object`, whose methods take the `Env` that holds the render's `Heap` of
//! `Value`s.

mod builtins;
mod error;
pub mod escape;
mod exec;
pub mod fmt;
mod funcs;
mod limits;
mod parse;
pub mod sprig;
mod strconv;
// Only part of it is used without sprig's string functions.
#[cfg_attr(not(feature = "sprig"), allow(dead_code))]
mod unicode;
pub mod value;

use std::collections::BTreeMap;
use std::sync::OnceLock;

pub use error::Error;
pub use funcs::{Budget, Env, Func, FuncError, FuncMap, Native, Type};
pub use limits::{Limit, Limits};
pub use parse::ParseError;
pub use value::{Bytes, Elem, GoMap, Heap, Kind, List, MapRef, Object, Pointer, Value};

/// sprig's function map, built once.
pub fn sprig_functions() -> &'static FuncMap {
    static FUNCS: OnceLock<FuncMap> = OnceLock::new();
    FUNCS.get_or_init(sprig::functions)
}

/// A parsed template: `template.New(name).Funcs(sprig).Parse(text)`.
#[derive(Debug)]
pub struct Template {
    name: String,
    text: String,
    trees: parse::Trees,
}

impl Template {
    /// Parses `text` as template `name` with sprig's functions.
    pub fn parse(name: &str, text: &str) -> Result<Template, Error> {
        let funcs = sprig_functions();
        let defined = |f: &str| funcs.contains_key(f) || builtins::is_builtin(f);
        let trees = parse::parse(name, text, &defined)?;
        Ok(Template {
            name: name.to_string(),
            text: text.to_string(),
            trees,
        })
    }

    /// Executes with a `map[string]string` as dot, as Sealed Secrets does.
    pub fn execute_strings(
        &self,
        data: &BTreeMap<String, Vec<u8>>,
        limits: &Limits,
    ) -> Result<Vec<u8>, Error> {
        self.execute_with(limits, |heap| {
            let map = heap.new_map(Elem::String);
            if let Value::Map(m) = map {
                let entries = &mut heap.get_mut(m).entries;
                for (k, v) in data {
                    entries.insert(k.as_bytes().into(), Value::bytes(v));
                }
            }
            map
        })
    }

    /// Executes with the dot that `make_dot` builds in the render's heap.
    pub fn execute_with(
        &self,
        limits: &Limits,
        make_dot: impl FnOnce(&mut Heap) -> Value,
    ) -> Result<Vec<u8>, Error> {
        exec::execute(
            &self.name,
            &self.text,
            &self.trees,
            sprig_functions(),
            limits,
            make_dot,
        )
    }
}
