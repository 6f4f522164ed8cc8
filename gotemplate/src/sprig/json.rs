//! sprig's JSON functions (defaults.go): `toJson`, `toPrettyJson`,
//! `toRawJson`, `fromJson` and their `must` forms, over Go's encoding/json
//! (`encode`) and `json.Unmarshal` into `interface{}` (`decode`).

mod decode;
mod encode;

use decode::decode;
use encode::{encode, Style};

use crate::funcs::{Env, Func, FuncError, Type};
use crate::value::Value;

const ANY: &[Type] = &[Type::Any];
const STR: &[Type] = &[Type::String];

pub(super) const FUNCS: &[Func] = &[
    Func::new("fromJson", STR, from_json),
    Func::new("mustFromJson", STR, must_from_json),
    Func::new("toJson", ANY, to_json),
    Func::new("mustToJson", ANY, must_to_json),
    Func::new("toPrettyJson", ANY, to_pretty_json),
    Func::new("mustToPrettyJson", ANY, must_to_pretty_json),
    Func::new("toRawJson", ANY, to_raw_json),
    Func::new("mustToRawJson", ANY, to_raw_json),
];

type R = Result<Value, FuncError>;

fn arg(args: &[Value], i: usize) -> &Value {
    args.get(i).unwrap_or(&Value::Nil)
}

fn input(args: &[Value]) -> &[u8] {
    arg(args, 0).as_bytes().unwrap_or(b"")
}

/// Errors ignored: the value (nil after a syntax error) as it is.
fn from_json(env: &mut Env<'_>, args: &[Value]) -> R {
    let (v, err) = decode(env, input(args));
    match err {
        Some(FuncError::Limit(l)) => Err(FuncError::Limit(l)),
        _ => Ok(v),
    }
}

fn must_from_json(env: &mut Env<'_>, args: &[Value]) -> R {
    match decode(env, input(args)) {
        (_, Some(e)) => Err(e),
        (v, None) => Ok(v),
    }
}

/// A failed encoding gives "" in the non-must forms (but render bounds
/// still stop the render).
fn swallow(r: Result<Vec<u8>, FuncError>) -> R {
    match r {
        Ok(b) => Ok(Value::bytes(&b)),
        Err(FuncError::Limit(l)) => Err(FuncError::Limit(l)),
        Err(_) => Ok(Value::str("")),
    }
}

fn to_json(env: &mut Env<'_>, args: &[Value]) -> R {
    swallow(encode(env, arg(args, 0), Style::Compact))
}

fn must_to_json(env: &mut Env<'_>, args: &[Value]) -> R {
    Ok(Value::bytes(&encode(env, arg(args, 0), Style::Compact)?))
}

fn to_pretty_json(env: &mut Env<'_>, args: &[Value]) -> R {
    swallow(encode(env, arg(args, 0), Style::Pretty))
}

fn must_to_pretty_json(env: &mut Env<'_>, args: &[Value]) -> R {
    Ok(Value::bytes(&encode(env, arg(args, 0), Style::Pretty)?))
}

/// sprig's toRawJson panics on an error rather than returning "".
fn to_raw_json(env: &mut Env<'_>, args: &[Value]) -> R {
    Ok(Value::bytes(&encode(env, arg(args, 0), Style::Raw)?))
}

#[cfg(test)]
mod tests {
    use crate::funcs::FuncError;
    use crate::sprig::testing::{call, call_in, s};
    use crate::value::{Elem, Heap, Value};

    fn st(v: Result<Value, FuncError>) -> String {
        match v {
            Ok(Value::String(b)) => String::from_utf8(b.to_vec()).unwrap(),
            other => panic!("not a string: {other:?}"),
        }
    }
    fn l(items: Vec<Value>) -> Value {
        Value::list(Elem::Any, items)
    }

    #[test]
    fn to_json_as_go() {
        let mut heap = Heap::default();
        let m = heap.new_map(Elem::Any);
        let Value::Map(r) = m else { unreachable!() };
        let entries = &mut heap.get_mut(r).entries;
        entries.insert(
            b"b".as_slice().into(),
            l(vec![Value::Int(1), Value::Float64(1e21), Value::Nil]),
        );
        entries.insert(b"a<".as_slice().into(), s("x&y\u{2028}\x01\n\u{e9}"));
        entries.insert(b"c".as_slice().into(), Value::bytes(b"\xff\xe2\x82"));
        entries.insert(b"d".as_slice().into(), l(vec![]));
        let empty = heap.new_map(Elem::Any);
        let Value::Map(r) = m else { unreachable!() };
        heap.get_mut(r)
            .entries
            .insert(b"e".as_slice().into(), empty);
        // Expected texts from Go's encoding/json.
        assert_eq!(
            st(call_in(&mut heap, "toJson", std::slice::from_ref(&m))),
            r#"{"a\u003c":"x\u0026y\u2028\u0001\n\u00e9","b":[1,1e+21,null],"c":"\ufffd\ufffd\ufffd","d":[],"e":{}}"#
                .replace("\\u00e9", "\u{e9}")
        );
        assert_eq!(
            st(call_in(&mut heap, "toRawJson", std::slice::from_ref(&m))),
            "{\"a<\":\"x&y\\u2028\\u0001\\n\u{e9}\",\"b\":[1,1e+21,null],\"c\":\"\\ufffd\\ufffd\\ufffd\",\"d\":[],\"e\":{}}"
        );
        assert_eq!(
            st(call_in(&mut heap, "toPrettyJson", &[m])),
            "{\n  \"a\\u003c\": \"x\\u0026y\\u2028\\u0001\\n\u{e9}\",\n  \"b\": [\n    1,\n    1e+21,\n    null\n  ],\n  \"c\": \"\\ufffd\\ufffd\\ufffd\",\n  \"d\": [],\n  \"e\": {}\n}"
        );
        let floats = [
            (0.000001, "0.000001"),
            (1e-7, "1e-7"),
            (1.5e-10, "1.5e-10"),
            (123456789.0, "123456789"),
            (1e20, "100000000000000000000"),
            (-0.0, "-0"),
            (0.1, "0.1"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
        ];
        for (f, want) in floats {
            assert_eq!(st(call("toJson", &[Value::Float64(f)])), want);
        }
        assert_eq!(st(call("toJson", &[Value::Float64(f64::NAN)])), "");
        assert!(call("mustToJson", &[Value::Float64(f64::NAN)]).is_err());
        assert!(call("toRawJson", &[Value::Float64(f64::INFINITY)]).is_err());
        assert_eq!(st(call("toJson", &[Value::Nil])), "null");
        let bytes = Value::list(Elem::Uint8, vec![Value::Uint8(1), Value::Uint8(2)]);
        assert_eq!(st(call("toJson", &[bytes])), "\"AQI=\"");
    }

    #[test]
    fn to_json_cycle_is_an_error() {
        let mut heap = Heap::default();
        let m = heap.new_map(Elem::Any);
        let Value::Map(r) = m else { unreachable!() };
        heap.get_mut(r)
            .entries
            .insert(b"a".as_slice().into(), m.clone());
        assert_eq!(
            st(call_in(&mut heap, "toJson", std::slice::from_ref(&m))),
            ""
        );
        assert_eq!(
            call_in(&mut heap, "mustToJson", &[m]).unwrap_err(),
            FuncError::reason(
                "json: unsupported value: encountered a cycle via map[string]interface {}"
            )
        );
    }

    #[test]
    fn deep_json_round_trip_within_bounds() {
        let depth = 1000;
        let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let mut heap = Heap::default();
        let v = call_in(&mut heap, "mustFromJson", &[s(&text)]).unwrap();
        let pretty = st(call_in(
            &mut heap,
            "mustToPrettyJson",
            std::slice::from_ref(&v),
        ));
        assert!(pretty.len() > text.len());
        assert_eq!(st(call_in(&mut heap, "toJson", &[v])), text);
        let text = format!("{}{}", "{\"a\":".repeat(depth), "}".repeat(depth));
        let text = text.replacen("{\"a\":}", "{}", 1);
        let v = call_in(&mut heap, "mustFromJson", &[s(&text)]).unwrap();
        assert_eq!(
            st(call_in(
                &mut heap,
                "mustToPrettyJson",
                std::slice::from_ref(&v)
            ))
            .matches('{')
            .count(),
            depth
        );
        assert_eq!(st(call_in(&mut heap, "mustToJson", &[v])), text);
    }

    #[test]
    fn from_json_as_go() {
        let mut heap = Heap::default();
        let v = call_in(
            &mut heap,
            "fromJson",
            &[s(
                r#" {"a": [1, "x\u00e9\ud83d\ude00\ud800", null, true], "a": {"b": -0.5e1}} "#,
            )],
        )
        .unwrap();
        let Value::Map(r) = v else { panic!("{v:?}") };
        let inner = heap.get(r).entries.get(b"a".as_slice()).cloned().unwrap();
        let Value::Map(r2) = inner else {
            panic!("{inner:?}")
        };
        assert!(
            matches!(heap.get(r2).entries.get(b"b".as_slice()), Some(Value::Float64(f)) if *f == -5.0)
        );
        let v = call(
            "fromJson",
            &[s(r#"[1, "x\u00e9\ud83d\ude00\ud800\n", null, true]"#)],
        )
        .unwrap();
        let Value::List(list) = v else {
            panic!("{v:?}")
        };
        assert!(matches!(list.items[0], Value::Float64(f) if f == 1.0));
        assert_eq!(
            list.items[1].as_bytes().unwrap(),
            "x\u{e9}\u{1f600}\u{fffd}\n".as_bytes()
        );
        assert!(matches!(list.items[2], Value::Nil));
        // Invalid UTF-8: one U+FFFD per byte.
        let v = call("fromJson", &[Value::bytes(b"\"\xe2\x82a\"")]).unwrap();
        assert_eq!(v.as_bytes().unwrap(), "\u{fffd}\u{fffd}a".as_bytes());
        assert!(matches!(call("fromJson", &[s("5")]), Ok(Value::Float64(f)) if f == 5.0));
        assert!(matches!(call("fromJson", &[s("{")]), Ok(Value::Nil)));
        let err = |t: &str| call("mustFromJson", &[s(t)]).unwrap_err();
        assert_eq!(err(""), FuncError::reason("unexpected end of JSON input"));
        assert_eq!(
            err("{\"secret\" x"),
            FuncError::reason("invalid character after object key")
        );
        assert_eq!(
            err("1 2"),
            FuncError::reason("invalid character after top-level value")
        );
        assert_eq!(
            err("01"),
            FuncError::reason("invalid character after top-level value")
        );
        assert_eq!(
            err("[1e400]"),
            FuncError::reason("json: cannot unmarshal number into Go value of type float64")
        );
        // fromJson keeps the rest, with nil for the number.
        let v = call("fromJson", &[s("[1e400, 2]")]).unwrap();
        let Value::List(list) = v else {
            panic!("{v:?}")
        };
        assert!(matches!(list.items[0], Value::Nil));
        let deep = "[".repeat(100_000);
        assert_eq!(err(&deep), FuncError::reason("exceeded max depth"));
    }
}
