use super::*;
use crate::strconv::quote::{is_print, rune_count};
use crate::value::{Elem, GoMap, Heap, Value};

/// A map for the generated cases.
pub(super) fn map(h: &mut Heap, elem: Elem, entries: Vec<(&[u8], Value)>) -> Value {
    let entries = entries
        .into_iter()
        .map(|(k, v)| (crate::value::Bytes::from(k), v))
        .collect();
    h.alloc(GoMap { elem, entries })
}

/// Go's output for fmt.Sprintf/Sprint/Sprintln of the same Go values,
/// written by tests/data/fmt_printf/gen with Go 1.26 (rerun it with
/// scripts/regen-gotemplate-tables; see tests/data/README.md).
mod printf_cases {
    use super::map;
    use crate::value::{Elem, Heap, Value};
    include!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/fmt_printf/cases.rs"
    ));
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(&quote::quote(b)).into_owned()
}

#[test]
fn go_cases() {
    let mut h = Heap::default();
    let cases = printf_cases::cases(&mut h);
    let mut failures = Vec::new();
    for (kind, format, args, want) in &cases {
        let got = match kind {
            b'f' => sprintf(&h, format, args),
            b'p' => sprint(&h, args),
            _ => sprintln(&h, args),
        };
        if got != *want {
            failures.push(format!(
                "{} {}: got {} want {}",
                *kind as char,
                show(format),
                show(&got),
                show(want)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[derive(Debug)]
struct Stamp;

impl crate::value::Object for Stamp {
    fn type_name(&self) -> &'static str {
        "time.Time"
    }
    fn kind(&self) -> crate::value::Kind {
        crate::value::Kind::Struct
    }
    fn format(&self, _heap: &Heap) -> Vec<u8> {
        b"2009-11-10 23:00:00 +0000 UTC".to_vec()
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn equals(&self, _other: &dyn crate::value::Object) -> bool {
        false
    }
}

fn f(h: &Heap, format: &str, args: &[Value]) -> String {
    String::from_utf8_lossy(&sprintf(h, format.as_bytes(), args)).into_owned()
}

#[test]
fn objects_print_their_string_method() {
    let h = Heap::default();
    let t = Value::Object(std::rc::Rc::new(Stamp));
    let text = "2009-11-10 23:00:00 +0000 UTC";
    assert_eq!(
        String::from_utf8_lossy(&format_value(&h, &t)).into_owned(),
        text
    );
    assert_eq!(
        f(&h, "%s|%v|%T", &[t.clone(), t.clone(), t.clone()]),
        format!("{text}|{text}|time.Time")
    );
    assert_eq!(
        f(&h, "%.4s|%q", &[t.clone(), t.clone()]),
        format!("2009|\"{text}\"")
    );
    assert_eq!(
        f(&h, "%x", std::slice::from_ref(&t)),
        text.bytes().map(|b| format!("{b:02x}")).collect::<String>()
    );
    assert_eq!(
        f(
            &h,
            "%v",
            &[Value::list(Elem::Any, vec![t.clone(), Value::Int(1)])]
        ),
        format!("[{text} 1]")
    );
    // Go would print the struct's fields here; we print the bad-verb form.
    assert_eq!(
        f(&h, "%d", std::slice::from_ref(&t)),
        format!("%!d(time.Time={text})")
    );
    assert_eq!(f(&h, "%p", &[t]), format!("%!p(time.Time={text})"));
}

#[test]
fn nil_and_missing_values() {
    let h = Heap::default();
    assert_eq!(format_value(&h, &Value::Invalid), b"<nil>");
    assert_eq!(format_value(&h, &Value::Nil), b"<nil>");
    assert_eq!(
        f(
            &h,
            "%d|%v|%5v|%T",
            &[Value::Invalid, Value::Nil, Value::Nil, Value::Invalid]
        ),
        "%!d(<nil>)|<nil>|<nil>|<nil>"
    );
}

#[test]
fn go_widths_and_the_output_limit() {
    let h = Heap::default();
    let one = [Value::Int(1)];
    // Go accepts literal widths while the number read so far is <= 1e6.
    assert_eq!(sprintf(&h, b"%10000000d", &one).len(), 10_000_000);
    assert_eq!(f(&h, "%12345678d", &one), "%!(NOVERB)%!(EXTRA int=1)");
    assert_eq!(
        f(&h, "%*d", &[Value::Int(1_000_001), Value::Int(1)]),
        "%!(BADWIDTH)1"
    );
    assert_eq!(
        sprintf(&h, b"%*d", &[Value::Int(1_000_000), Value::Int(1)]).len(),
        1_000_000
    );
    assert_eq!(sprintf(&h, b"%.1234567d|", &one).len(), 1_234_568);
    assert_eq!(
        try_sprintf(&h, b"%1000000d", &one, 1000),
        Err(Limit::Memory)
    );
    assert_eq!(
        try_sprintf(&h, b"%.1000000f", &[Value::Float64(1.5)], 1000),
        Err(Limit::Memory)
    );
    assert_eq!(
        try_sprintf(&h, b"%1000000x", &[Value::str("ab")], 1000),
        Err(Limit::Memory)
    );
    assert_eq!(try_sprintf(&h, b"ab%d", &one, 3), Ok(b"ab1".to_vec()));
    assert_eq!(try_sprintf(&h, b"ab%d", &one, 2), Err(Limit::Memory));
    // Widths repeat over elements: a million elements at a million bytes each
    // stop at the limit, quickly.
    let big = Value::list(Elem::Int, vec![Value::Int(7); 1_000_000]);
    let start = std::time::Instant::now();
    assert_eq!(
        try_sprintf(&h, b"%999999d", std::slice::from_ref(&big), 1 << 20),
        Err(Limit::Memory)
    );
    let cut = sprintf(&h, b"%9999999d", &[big]);
    assert!(cut.len() <= DEFAULT_LIMIT);
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn deep_and_cyclic_values_stop() {
    // In a thread with a small stack: the nesting bound keeps recursion shallow.
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let mut h = Heap::default();
            let mut deep = Value::Int(1);
            for _ in 0..MAX_DEPTH + 5 {
                deep = Value::list(Elem::Any, vec![deep]);
            }
            let m = h.new_map(Elem::Any);
            let Value::Map(r) = m else { unreachable!() };
            let key = crate::value::Bytes::from(&b"self"[..]);
            h.get_mut(r).entries.insert(key, m.clone());
            assert_eq!(
                try_format_value(&h, &deep, DEFAULT_LIMIT),
                Err(Limit::Depth)
            );
            assert_eq!(try_format_value(&h, &m, DEFAULT_LIMIT), Err(Limit::Depth));
            assert!(format_value(&h, &m).starts_with(b"map[self:map[self:"));
            let two = [Value::Int(1), Value::Int(2)];
            assert_eq!(try_sprint(&h, &two, 10), Ok(b"1 2".to_vec()));
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn quote_like_strconv() {
    assert_eq!(go_quote(b""), b"\"\"");
    assert_eq!(
        go_quote(b"tab\tnl\n\x01\x1f\x7f"),
        b"\"tab\\tnl\\n\\x01\\x1f\\x7f\""
    );
    assert_eq!(
        go_quote(b"\x07\x08\x0c\x0d\x0b\\\""),
        b"\"\\a\\b\\f\\r\\v\\\\\\\"\""
    );
    assert_eq!(
        go_quote("é\u{ad}\u{200b}\u{1F600}\u{E0001}\u{feff}".as_bytes()),
        "\"é\\u00ad\\u200b\u{1F600}\\U000e0001\\ufeff\"".as_bytes()
    );
    assert_eq!(go_quote(b"\xff\xfe\xc3"), b"\"\\xff\\xfe\\xc3\"");
    assert_eq!(
        go_quote_ascii("é\u{1F600}".as_bytes()),
        b"\"\\u00e9\\U0001f600\""
    );
    assert!(is_print(0x20) && is_print(0x1F600) && is_print(0xFFFD));
    assert!(!is_print(0xAD) && !is_print(0x7F) && !is_print(0x10FFFF) && !is_print(0x110000));
    assert_eq!(decode_rune(b"\xed\xa0\x80"), (0xFFFD, 1)); // surrogate
    assert_eq!(decode_rune(b"\xc0\xaf"), (0xFFFD, 1)); // overlong
    assert_eq!(decode_rune("é".as_bytes()), (0xE9, 2));
    assert_eq!(decode_rune(b""), (0xFFFD, 0));
    assert_eq!(rune_count(b"a\xff\xc3\xa9"), 3);
}

#[test]
fn format_float_like_strconv() {
    assert_eq!(format_float(1e21, b'g', -1), b"1e+21");
    assert_eq!(format_float(1.5e-5, b'g', -1), b"1.5e-05");
    assert_eq!(format_float(100.0, b'f', -1), b"100");
    assert_eq!(format_float(0.1, b'e', -1), b"1e-01");
    assert_eq!(format_float(f64::NAN, b'f', 2), b"NaN");
    assert_eq!(format_float(-0.0, b'g', -1), b"-0");
}
