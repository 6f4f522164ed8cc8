//! Tests of `regex`: the bounds (Go's results on many patterns are in tests/go_tables.rs).

use super::compile;
use super::names::{ALIASES, CATEGORIES, SCRIPTS};

#[test]
fn every_go_class_name_compiles() {
    let names = CATEGORIES
        .iter()
        .chain(SCRIPTS)
        .chain(ALIASES.iter().map(|(a, _)| a))
        .chain(&["Any", "Assigned", "ascii", "LC", "lc"]);
    for name in names {
        for p in [format!(r"\p{{{name}}}"), format!(r"(?i)[^\P{{{name}}}]")] {
            match compile(p.as_bytes()) {
                Ok(_) => {}
                Err(e) => assert!(e.ends_with("invalid character class range"), "{p}: {e}"),
            }
        }
    }
}

#[test]
fn invalid_utf8_input_does_not_panic() {
    use crate::sprig::testing::call;
    use crate::value::Value;
    let bin = Value::bytes(b"\xffa\xe2\x82");
    for p in [".", "", "a*", r"\B", "(?s).*"] {
        let pat = Value::str(p);
        call(
            "regexReplaceAll",
            &[pat.clone(), bin.clone(), Value::str("<$0>")],
        )
        .unwrap();
        call("regexSplit", &[pat.clone(), bin.clone(), Value::Int(-1)]).unwrap();
        call("regexFindAll", &[pat, bin.clone(), Value::Int(-1)]).unwrap();
    }
    let got = call("regexReplaceAll", &[Value::str("a"), bin, Value::str("b")]).unwrap();
    assert!(matches!(got, Value::String(s) if &*s == b"\xffb\xe2\x82"));
}

#[test]
fn invalid_utf8_bytes_match_as_go_replacement_characters() {
    use crate::sprig::testing::call;
    use crate::value::Value;
    let text = |v: Value| match v {
        Value::String(s) => s.to_vec(),
        other => panic!("not a string: {other:?}"),
    };
    // Go decodes each bad byte alone, even a truncated sequence.
    let bin = Value::bytes(b"\xff\xe2\x82A\xef\xbf\xbd\x80");
    let got = call(
        "regexReplaceAll",
        &[Value::str("."), bin.clone(), Value::str("x")],
    );
    assert_eq!(text(got.unwrap()), b"xxxxxx");
    let got = call(
        "regexReplaceAll",
        &[Value::str("\\x{FFFD}"), bin.clone(), Value::str("<$0>")],
    );
    assert_eq!(
        text(got.unwrap()),
        b"<\xff><\xe2><\x82>A<\xef\xbf\xbd><\x80>"
    );
    let got = call(
        "regexFindAll",
        &[Value::str("[^A]"), bin.clone(), Value::Int(-1)],
    );
    let Ok(Value::List(l)) = got else {
        panic!("not a list")
    };
    let parts: Vec<Vec<u8>> = l.items.iter().cloned().map(text).collect();
    let want: Vec<&[u8]> = vec![b"\xff", b"\xe2", b"\x82", b"\xef\xbf\xbd", b"\x80"];
    assert_eq!(parts, want);
    let got = call(
        "regexSplit",
        &[Value::str("A"), bin.clone(), Value::Int(-1)],
    );
    let Ok(Value::List(l)) = got else {
        panic!("not a list")
    };
    let parts: Vec<Vec<u8>> = l.items.iter().cloned().map(text).collect();
    let want: Vec<&[u8]> = vec![b"\xff\xe2\x82", b"\xef\xbf\xbd\x80"];
    assert_eq!(parts, want);
    let got = call("regexFind", &[Value::str("A.+"), bin.clone()]);
    assert_eq!(text(got.unwrap()), b"A\xef\xbf\xbd\x80");
    let got = call("regexMatch", &[Value::str("^\\xff"), bin]);
    assert!(matches!(got, Ok(Value::Bool(false))));
}

#[test]
fn hostile_patterns_are_bounded() {
    let deep = format!("{}a{}", "(".repeat(200), ")".repeat(200));
    assert!(compile(deep.as_bytes()).is_ok());
    // Go allows 1000 levels; we stop earlier (see NEST_LIMIT).
    let deep = format!("{}a{}", "(".repeat(990), ")".repeat(990));
    assert_eq!(
        compile(deep.as_bytes()).err().as_deref(),
        Some("error parsing regexp: expression nests too deeply")
    );
    let deeper = format!("{}a{}", "(".repeat(5000), ")".repeat(5000));
    assert_eq!(
        compile(deeper.as_bytes()).err().as_deref(),
        Some("error parsing regexp: expression nests too deeply")
    );
    let big = r"((\pL{1000}){1000})";
    assert!(compile(big.as_bytes()).is_err());
    let big = r"(\pL{1000}\pL{1000}\pL{1000}\pL{1000}\pL{1000}\pL{1000})*";
    // Go accepts this one; the regex crate's size limit may not.
    let _ = compile(big.as_bytes());
    assert_eq!(
        compile(b"a\xff").err().as_deref(),
        Some("error parsing regexp: invalid UTF-8")
    );
}
