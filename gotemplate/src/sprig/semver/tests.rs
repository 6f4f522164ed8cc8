//! Tests of `semver`: expected values from Go 1.26 + sprig v3.3.0 + semver v3.4.0.

use crate::funcs::{Budget, Env, FuncError};
use crate::sprig::testing::{call, s};
use crate::value::{Heap, Kind, Value};

fn version(text: &str) -> Value {
    call("semver", &[s(text)]).expect("valid version")
}

/// Calls a method, as `{{ $v.Name args }}` does.
fn method(v: &Value, name: &str, args: &[Value]) -> Option<Result<Value, FuncError>> {
    let Value::Object(o) = v else {
        panic!("not an object")
    };
    let mut heap = Heap::default();
    let mut budget = Budget::new(1 << 20, None);
    let mut env = Env {
        heap: &mut heap,
        budget: &mut budget,
    };
    o.method(&mut env, name, args)
}

fn text(v: &Value) -> String {
    match v {
        Value::String(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Object(o) => String::from_utf8_lossy(&o.format(&Heap::default())).into_owned(),
        other => format!("{other:?}"),
    }
}

fn ok(v: &Value, name: &str, args: &[Value]) -> Value {
    method(v, name, args).expect("method").expect("no error")
}

// Expected values from Go 1.26 + sprig v3.3.0 + semver v3.4.0.
#[test]
fn version_object() {
    let v = version("v1.2.3-beta.1+b5");
    assert_eq!(text(&v), "1.2.3-beta.1+b5");
    let Value::Object(o) = &v else { panic!() };
    assert_eq!((o.type_name(), o.kind()), ("*semver.Version", Kind::Ptr));
    assert!(matches!(ok(&v, "Major", &[]), Value::Uint64(1)));
    assert_eq!(text(&ok(&v, "Original", &[])), "v1.2.3-beta.1+b5");
    assert_eq!(text(&ok(&v, "Prerelease", &[])), "beta.1");
    assert_eq!(text(&ok(&v, "Metadata", &[])), "b5");
    let major = ok(&v, "IncMajor", &[]);
    assert_eq!(text(&major), "2.0.0");
    let Value::Object(m) = &major else { panic!() };
    assert_eq!((m.type_name(), m.kind()), ("semver.Version", Kind::Struct));
    // A method of *Version is not in the method set of a Version value.
    assert!(method(&major, "Original", &[]).is_none());
    assert_eq!(text(&ok(&v, "IncPatch", &[])), "1.2.3");
    assert_eq!(text(&ok(&v, "IncMinor", &[])), "1.3.0");
}

#[test]
fn comparisons() {
    let v = version("1.2");
    assert_eq!(text(&v), "1.2.0");
    assert!(matches!(
        ok(&v, "Compare", &[version("1.2.0")]),
        Value::Int(0)
    ));
    assert!(matches!(
        ok(&v, "Compare", &[version("1.2.0-a")]),
        Value::Int(1)
    ));
    assert!(matches!(
        ok(&v, "LessThan", &[version("1.3")]),
        Value::Bool(true)
    ));
    assert!(matches!(ok(&v, "Equal", &[Value::Nil]), Value::Bool(false)));
    assert!(matches!(
        ok(&v, "Equal", std::slice::from_ref(&v)),
        Value::Bool(true)
    ));
    assert_eq!(
        method(&v, "Compare", &[Value::Nil]).expect("method").err(),
        Some(FuncError::reason(
            "runtime error: invalid memory address or nil pointer dereference"
        ))
    );
    let (Value::Object(a), Value::Object(b)) = (&v, &version("1.2")) else {
        panic!()
    };
    assert!(a.equals(a.as_ref()));
    assert!(!a.equals(b.as_ref()));
}

#[test]
fn setters_and_scan() {
    let v = version("1.2");
    assert_eq!(
        method(&v, "SetPrerelease", &[s("01")])
            .expect("method")
            .err(),
        Some(FuncError::reason("version segment starts with 0"))
    );
    assert_eq!(text(&ok(&v, "SetPrerelease", &[s("rc.1")])), "1.2.0-rc.1");
    // v3.4.0 refuses empty dot-separated parts.
    for (name, part, want) in [
        ("SetPrerelease", "bad..x", "invalid prerelease string"),
        ("SetPrerelease", ".", "invalid prerelease string"),
        ("SetMetadata", "a..b", "invalid metadata string"),
        ("SetMetadata", "a.", "invalid metadata string"),
    ] {
        let got = method(&v, name, &[s(part)]).expect("method").err();
        assert_eq!(got, Some(FuncError::reason(want)), "{name} {part}");
    }
    assert_eq!(text(&ok(&v, "SetMetadata", &[s("")])), "1.2.0");
    assert_eq!(text(&ok(&v, "Value", &[])), "1.2.0");
    let Value::List(json) = ok(&v, "MarshalJSON", &[]) else {
        panic!()
    };
    let bytes: Vec<u8> = json
        .items
        .iter()
        .map(|b| match b {
            Value::Uint8(b) => *b,
            _ => panic!(),
        })
        .collect();
    assert_eq!(bytes, b"\"1.2.0\"");
    assert_eq!(
        text(&ok(&v, "Scan", &[Value::Int(3)])),
        "invalid semantic version"
    );
    assert_eq!(text(&v), "1.2.0");
    assert!(matches!(ok(&v, "Scan", &[s("2.0.0")]), Value::Nil));
    assert_eq!(text(&v), "2.0.0");
}

#[test]
fn parse_errors() {
    let err = |t: &str| call("semver", &[s(t)]).err();
    assert_eq!(
        err("99999999999999999999.0.0"),
        Some(FuncError::reason(
            "error parsing version segment: strconv.ParseUint: value out of range"
        ))
    );
    assert_eq!(
        err("1.2.3.4"),
        Some(FuncError::reason("invalid semantic version"))
    );
    assert_eq!(
        err("1.2.3-01"),
        Some(FuncError::reason("version segment starts with 0"))
    );
    assert_eq!(text(&version("1.02.3")), "1.2.3");
}
