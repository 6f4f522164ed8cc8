//! sprig's functions against tables of Go's own results: the regex functions,
//! `semverCompare`, `urlParse` and `urlJoin`. The tables (`tests/data/*/cases.rs`)
//! are written by the Go programs beside them (`tests/data/*/gen/`), which run
//! the templates through Go 1.26 with sprig v3.3.0 (semver v3.4.0); rerun them
//! with scripts/regen-gotemplate-tables (see tests/data/README.md). Every
//! function here is sprig's: without the `sprig` feature there is nothing to
//! test.
#![cfg(feature = "sprig")]

use go_text_template::{FuncError, Heap, Value};

/// Calls sprig function `name` with arguments already of its parameter types.
fn call_in(heap: &mut Heap, name: &str, args: &[Value]) -> Result<Value, FuncError> {
    let funcs = go_text_template::sprig();
    let f = funcs
        .get(name)
        .unwrap_or_else(|| panic!("no function {name}"));
    f.call(heap, args)
}

#[cfg(feature = "sprig-regex")]
fn call(name: &str, args: &[Value]) -> Result<Value, FuncError> {
    call_in(&mut Heap::default(), name, args)
}

fn s(text: &str) -> Value {
    Value::str(text)
}

#[cfg(feature = "sprig-regex")]
mod regex_functions {
    use super::call;
    use go_text_template::{FuncError, Value};

    mod cases {
        use super::A::{self, I, T};
        include!("data/regex/cases.rs");
    }

    #[derive(Debug)]
    pub(super) enum A {
        T(&'static str),
        I(i64),
    }

    fn render(v: &Value) -> String {
        match v {
            Value::Bool(b) => b.to_string(),
            Value::String(s) => String::from_utf8_lossy(s).into_owned(),
            Value::List(l) => {
                let items: Vec<String> = l.items.iter().map(render).collect();
                format!("[{}]", items.join(" "))
            }
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn matches_go() {
        let mut bad = Vec::new();
        for (f, args, want) in cases::CASES {
            let args: Vec<Value> = args
                .iter()
                .map(|a| match a {
                    A::T(s) => Value::str(s),
                    A::I(n) => Value::Int(*n),
                })
                .collect();
            let got = match call(f, &args) {
                Ok(v) => render(&v),
                Err(FuncError::Reason(r)) => match r.split_once("error parsing regexp: ") {
                    Some((_, code)) => format!("E:{code}"),
                    None => format!("E:{r}"),
                },
                Err(e) => format!("E:{e}"),
            };
            if got != *want {
                bad.push(format!("{f} {args:?}: got {got:?}, Go {want:?}"));
            }
        }
        assert!(
            bad.is_empty(),
            "{} mismatches:\n{}",
            bad.len(),
            bad.join("\n")
        );
    }
}

#[cfg(feature = "sprig-regex")]
mod semver_compare {
    use super::{call, s};
    use go_text_template::{FuncError, Value};

    include!("data/semver/cases.rs");

    #[test]
    fn semver_compare_matches_go() {
        let mut bad = Vec::new();
        for (c, v, want) in CASES {
            let got = match call("semverCompare", &[s(c), s(v)]) {
                Ok(Value::Bool(b)) => b.to_string(),
                Ok(other) => format!("{other:?}"),
                Err(FuncError::Reason(r)) => format!("E:{r}"),
                Err(e) => format!("E:{e}"),
            };
            if got != *want {
                bad.push(format!("{c:?} {v:?}: got {got}, Go {want}"));
            }
        }
        assert!(
            bad.is_empty(),
            "{} mismatches:\n{}",
            bad.len(),
            bad.join("\n")
        );
    }
}

mod url_functions {
    use std::collections::BTreeMap;

    use super::{call_in, s};
    use go_text_template::{Elem, FuncError, GoMap, Heap, Value};

    include!("data/url/cases.rs");

    fn err_text(e: FuncError) -> String {
        format!("E:{e}")
    }

    #[test]
    fn url_parse_matches_go() {
        let keys = [
            "scheme", "host", "hostname", "path", "query", "opaque", "fragment", "userinfo",
        ];
        let mut bad = Vec::new();
        for (raw, want) in PARSE {
            let mut heap = Heap::default();
            let got = match call_in(&mut heap, "urlParse", &[s(raw)]) {
                Ok(Value::Map(m)) => {
                    let map = heap.get(m);
                    let fields: Vec<String> = keys
                        .iter()
                        .map(|k| match map.entries.get(k.as_bytes()) {
                            Some(Value::String(v)) => String::from_utf8_lossy(v).into_owned(),
                            other => format!("{other:?}"),
                        })
                        .collect();
                    fields.join("\u{1f}")
                }
                Ok(other) => format!("{other:?}"),
                Err(e) => err_text(e),
            };
            if got != *want {
                bad.push(format!("{raw:?}: got {got:?}, Go {want:?}"));
            }
        }
        assert!(
            bad.is_empty(),
            "{} mismatches:\n{}",
            bad.len(),
            bad.join("\n")
        );
    }

    fn join(heap: &mut Heap, entries: Vec<(&str, Value)>) -> String {
        let map = heap.alloc(GoMap {
            elem: Elem::Any,
            entries: entries
                .into_iter()
                .map(|(k, v)| (k.as_bytes().into(), v))
                .collect::<BTreeMap<_, _>>(),
        });
        match call_in(heap, "urlJoin", &[map]) {
            Ok(Value::String(v)) => String::from_utf8_lossy(&v).into_owned(),
            Ok(other) => format!("{other:?}"),
            Err(e) => err_text(e),
        }
    }

    #[test]
    fn url_join_matches_go() {
        let mut bad = Vec::new();
        for (parts, want) in JOIN {
            let mut heap = Heap::default();
            let got = join(&mut heap, parts.iter().map(|(k, v)| (*k, s(v))).collect());
            if got != *want {
                bad.push(format!("{parts:?}: got {got:?}, Go {want:?}"));
            }
        }
        assert!(
            bad.is_empty(),
            "{} mismatches:\n{}",
            bad.len(),
            bad.join("\n")
        );
        let mut heap = Heap::default();
        assert_eq!(
            join(&mut heap, vec![("scheme", Value::Int(1))]),
            "E:unable to parse scheme key, must be of type string, but int found"
        );
        assert_eq!(
            join(&mut heap, vec![("scheme", Value::Nil)]),
            "E:runtime error: invalid memory address or nil pointer dereference"
        );
    }
}
