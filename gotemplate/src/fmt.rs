//! Go's `fmt` as templates use it: `print`, `printf`, `println`, and `%v` for
//! printing a value in an action.

use crate::value::{Heap, Value};

/// `fmt.Sprint(v)`: the `%v` form of one value.
pub fn format_value(heap: &Heap, value: &Value) -> Vec<u8> {
    let _ = heap;
    match value {
        Value::String(s) => s.to_vec(),
        other => format!("{other:?}").into_bytes(),
    }
}

/// `fmt.Sprint(args...)`: spaces between operands when neither side is a string.
pub fn sprint(heap: &Heap, args: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, a) in args.iter().enumerate() {
        let is_string = matches!(a, Value::String(_));
        if i > 0 && !is_string && !matches!(args[i - 1], Value::String(_)) {
            out.push(b' ');
        }
        out.extend(format_value(heap, a));
    }
    out
}

/// `fmt.Sprintln(args...)`: spaces between all operands, and a newline.
pub fn sprintln(heap: &Heap, args: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend(format_value(heap, a));
    }
    out.push(b'\n');
    out
}

/// `fmt.Sprintf(format, args...)`.
pub fn sprintf(heap: &Heap, format: &[u8], args: &[Value]) -> Vec<u8> {
    let mut out = format.to_vec();
    out.extend(sprint(heap, args));
    out
}

/// `strconv.Quote`: a double-quoted Go string literal (what `%q` prints for a string).
pub fn go_quote(s: &[u8]) -> Vec<u8> {
    let mut out = vec![b'"'];
    out.extend(String::from_utf8_lossy(s).escape_default().to_string().bytes());
    out.push(b'"');
    out
}
