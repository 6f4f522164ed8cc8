//! Go's `fmt` as templates use it: `print`, `printf`, `println`, and `%v` for
//! printing a value in an action. A port of Go 1.26's `fmt/print.go` over
//! [`Value`], byte for byte, plus bounds Go lacks: an output limit (Go's
//! widths go up to 9,999,999 per verb, and repeat over list elements) and a
//! nesting limit (Go overflows its stack on a map that contains itself).

mod format;
#[cfg(test)]
mod tests;

use crate::strconv::quote;
// sprig-time's date layouts decode runes as fmt does.
#[cfg_attr(not(feature = "sprig-time"), allow(unused_imports))]
pub(crate) use crate::strconv::quote::decode_rune;
use format::{Flags, LDIGITS, UDIGITS};

use crate::limits::Limit;
use crate::value::{Elem, Heap, Value};

/// Go's `tooLarge`: a width or precision from a `*` argument beyond this is
/// `%!(BADWIDTH)`/`%!(BADPREC)`. (Literal widths may reach 9,999,999: Go only
/// checks before appending each digit.)
pub const MAX_WIDTH: i64 = 1_000_000;
/// The output limit of the functions without a `limit` parameter.
#[cfg_attr(not(feature = "sprig"), allow(dead_code))]
pub const DEFAULT_LIMIT: usize = 64 << 20;
/// Lists and maps nested deeper than this stop printing with [`Limit::Depth`].
pub const MAX_DEPTH: usize = 1000;

/// `fmt.Sprint(v)`: the `%v` form of one value. Stops at [`DEFAULT_LIMIT`]
/// bytes or [`MAX_DEPTH`] (output cut short there); see [`try_format_value`].
#[cfg_attr(not(feature = "sprig"), allow(dead_code))] // sprig's toString, join...
pub fn format_value(heap: &Heap, value: &Value) -> Vec<u8> {
    run(heap, DEFAULT_LIMIT, |p| p.print_arg(value, v(b'v'))).0
}

#[cfg(test)]
/// `fmt.Sprint(args...)`: spaces between operands when neither side is a string.
pub fn sprint(heap: &Heap, args: &[Value]) -> Vec<u8> {
    run(heap, DEFAULT_LIMIT, |p| p.do_print(args)).0
}

#[cfg(test)]
/// `fmt.Sprintln(args...)`: spaces between all operands, and a newline.
pub fn sprintln(heap: &Heap, args: &[Value]) -> Vec<u8> {
    run(heap, DEFAULT_LIMIT, |p| p.do_println(args)).0
}

#[cfg(test)]
/// `fmt.Sprintf(format, args...)`.
pub fn sprintf(heap: &Heap, format: &[u8], args: &[Value]) -> Vec<u8> {
    run(heap, DEFAULT_LIMIT, |p| p.do_printf(format, args)).0
}

/// [`format_value`] that fails once the output would pass `limit` bytes
/// ([`Limit::Memory`]) or values nest deeper than [`MAX_DEPTH`] ([`Limit::Depth`]).
pub fn try_format_value(heap: &Heap, value: &Value, limit: usize) -> Result<Vec<u8>, Limit> {
    checked(run(heap, limit, |p| p.print_arg(value, v(b'v'))))
}

/// [`sprint`] with an output limit.
pub fn try_sprint(heap: &Heap, args: &[Value], limit: usize) -> Result<Vec<u8>, Limit> {
    checked(run(heap, limit, |p| p.do_print(args)))
}

/// [`sprintln`] with an output limit.
pub fn try_sprintln(heap: &Heap, args: &[Value], limit: usize) -> Result<Vec<u8>, Limit> {
    checked(run(heap, limit, |p| p.do_println(args)))
}

/// [`sprintf`] with an output limit.
pub fn try_sprintf(
    heap: &Heap,
    format: &[u8],
    args: &[Value],
    limit: usize,
) -> Result<Vec<u8>, Limit> {
    checked(run(heap, limit, |p| p.do_printf(format, args)))
}

/// `strconv.Quote`: a double-quoted Go string literal (what `%q` prints for a string).
pub fn go_quote(s: &[u8]) -> Vec<u8> {
    quote::quote(s)
}

#[cfg(test)]
/// `strconv.QuoteToASCII` (what `%+q` prints for a string).
pub fn go_quote_ascii(s: &[u8]) -> Vec<u8> {
    quote::quote_ascii(s)
}

#[cfg(test)]
/// `strconv.FormatFloat(v, fmt, prec, 64)` for fmt in `beEfgGxX`.
pub fn format_float(v: f64, fmt: u8, prec: i64) -> Vec<u8> {
    crate::strconv::format_float(v, fmt, prec)
}

/// The output, cut short if a bound was reached, and that bound.
fn run(heap: &Heap, limit: usize, body: impl FnOnce(&mut Printer<'_>)) -> (Vec<u8>, Option<Limit>) {
    let mut p = Printer {
        heap,
        buf: Vec::new(),
        limit,
        failed: None,
        f: Flags::default(),
        erroring: false,
    };
    body(&mut p);
    (p.buf, p.failed)
}

fn checked((out, failed): (Vec<u8>, Option<Limit>)) -> Result<Vec<u8>, Limit> {
    match failed {
        None => Ok(out),
        Some(l) => Err(l),
    }
}

/// Go's `pp`: the output and the state of the verb being printed.
pub(crate) struct Printer<'h> {
    heap: &'h Heap,
    buf: Vec<u8>,
    limit: usize,
    failed: Option<Limit>,
    f: Flags,
    /// Printing a `%!verb(type=value)`: no `String()` methods then.
    erroring: bool,
}

const fn v(c: u8) -> u32 {
    c as u32
}

impl Printer<'_> {
    fn write_str(&mut self, s: &str) {
        self.write(s.as_bytes());
    }

    fn write_rune(&mut self, r: u32) {
        let mut b = Vec::with_capacity(4);
        quote::append_rune(&mut b, r);
        self.write(&b);
    }

    /// `%!verb(type=value)`, or `%!verb(<nil>)`.
    fn bad_verb(&mut self, verb: u32, value: Option<&Value>) {
        self.erroring = true;
        self.write_str("%!");
        self.write_rune(verb);
        self.write_str("(");
        match value {
            Some(val) if !matches!(val, Value::Nil | Value::Invalid) => {
                let t = val.type_name(self.heap);
                self.write_str(&t);
                self.write_str("=");
                self.print_arg(val, v(b'v'));
            }
            _ => self.write_str("<nil>"),
        }
        self.write_str(")");
        self.erroring = false;
    }

    fn fmt_bool(&mut self, b: bool, verb: u32, val: &Value) {
        match verb {
            0x74 | 0x76 => self.fmt_boolean(b), // t v
            _ => self.bad_verb(verb, Some(val)),
        }
    }

    /// `%#x` without changing the sharp flag for good.
    fn fmt_0x64(&mut self, u: u64, leading_0x: bool) {
        let sharp = self.f.sharp;
        self.f.sharp = leading_0x;
        self.fmt_integer(u, 16, false, b'v', LDIGITS);
        self.f.sharp = sharp;
    }

    fn fmt_int_verb(&mut self, u: u64, signed: bool, verb: u32, val: &Value) {
        match char::from_u32(verb).unwrap_or('\u{FFFD}') {
            'v' if self.f.sharp_v && !signed => self.fmt_0x64(u, true),
            'v' | 'd' => self.fmt_integer(u, 10, signed, b'v', LDIGITS),
            'b' => self.fmt_integer(u, 2, signed, b'b', LDIGITS),
            'o' => self.fmt_integer(u, 8, signed, b'o', LDIGITS),
            'O' => self.fmt_integer(u, 8, signed, b'O', LDIGITS),
            'x' => self.fmt_integer(u, 16, signed, b'x', LDIGITS),
            'X' => self.fmt_integer(u, 16, signed, b'X', UDIGITS),
            'c' => self.fmt_c(u),
            'q' => self.fmt_qc(u),
            'U' => self.fmt_unicode(u),
            _ => self.bad_verb(verb, Some(val)),
        }
    }

    fn fmt_float_verb(&mut self, x: f64, verb: u32, val: &Value) {
        match char::from_u32(verb).unwrap_or('\u{FFFD}') {
            'v' => self.fmt_float(x, b'g', -1),
            c @ ('b' | 'g' | 'G' | 'x' | 'X') => self.fmt_float(x, c as u8, -1),
            c @ ('f' | 'e' | 'E') => self.fmt_float(x, c as u8, 6),
            'F' => self.fmt_float(x, b'f', 6),
            _ => self.bad_verb(verb, Some(val)),
        }
    }

    fn fmt_string(&mut self, s: &[u8], verb: u32, val: Option<&Value>) {
        match char::from_u32(verb).unwrap_or('\u{FFFD}') {
            'v' if self.f.sharp_v => self.fmt_q(s),
            'v' | 's' => self.fmt_s(s),
            'x' => self.fmt_sbx(s, LDIGITS),
            'X' => self.fmt_sbx(s, UDIGITS),
            'q' => self.fmt_q(s),
            _ => match val {
                Some(val) => self.bad_verb(verb, Some(val)),
                None => {
                    let owned = Value::bytes(s);
                    self.bad_verb(verb, Some(&owned))
                }
            },
        }
    }

    /// Go's `fmtBytes` for a `[]byte`: `type_name` is `[]byte` for an operand,
    /// `[]uint8` inside another value.
    fn fmt_bytes(&mut self, list: &Value, bytes: &[u8], verb: u32, type_name: &str, depth: usize) {
        match char::from_u32(verb).unwrap_or('\u{FFFD}') {
            'v' | 'd' => {
                if self.f.sharp_v {
                    self.write_str(type_name);
                    self.write_str("{");
                    for (i, &c) in bytes.iter().enumerate() {
                        if i > 0 {
                            self.write_str(", ");
                        }
                        self.fmt_0x64(u64::from(c), true);
                    }
                    self.write_str("}");
                } else {
                    self.write_str("[");
                    for (i, &c) in bytes.iter().enumerate() {
                        if i > 0 {
                            self.write_str(" ");
                        }
                        self.fmt_integer(u64::from(c), 10, false, verb as u8, LDIGITS);
                    }
                    self.write_str("]");
                }
            }
            's' => self.fmt_s(bytes),
            'x' => self.fmt_sbx(bytes, LDIGITS),
            'X' => self.fmt_sbx(bytes, UDIGITS),
            'q' => self.fmt_q(bytes),
            _ => self.print_slice(list, verb, depth),
        }
    }

    /// `%p` (and `%v` of a pointer). Go prints the address; addresses are not
    /// reproducible, so maps and lists get a fixed stand-in.
    fn fmt_pointer(&mut self, val: &Value, verb: u32) {
        let u: u64 = match val {
            Value::Map(m) => 0xc000100000 + 0x30 * m.0 as u64,
            Value::List(_) => 0xc000010000,
            Value::Object(o) if o.kind() == crate::value::Kind::Ptr && o.is_nil() => 0,
            Value::Object(o) if o.kind() == crate::value::Kind::Ptr => 0xc000020000,
            _ => return self.bad_verb(verb, Some(val)),
        };
        match char::from_u32(verb).unwrap_or('\u{FFFD}') {
            'v' if self.f.sharp_v => {
                let t = val.type_name(self.heap);
                self.write_str("(");
                self.write_str(&t);
                self.write_str(")(");
                if u == 0 {
                    self.write_str("nil");
                } else {
                    self.fmt_0x64(u, true);
                }
                self.write_str(")");
            }
            'v' if u == 0 => self.pad(b"<nil>"),
            'v' | 'p' => self.fmt_0x64(u, !self.f.sharp),
            'b' | 'o' | 'd' | 'x' | 'X' => self.fmt_int_verb(u, false, verb, val),
            _ => self.bad_verb(verb, Some(val)),
        }
    }

    /// Go's `printArg`: one operand of `Sprint`/`Sprintf`.
    fn print_arg(&mut self, val: &Value, verb: u32) {
        if self.failed.is_some() {
            return;
        }
        if matches!(val, Value::Nil | Value::Invalid) {
            match verb {
                0x54 | 0x76 => self.pad(b"<nil>"), // T v
                _ => self.bad_verb(verb, None),
            }
            return;
        }
        if verb == v(b'T') {
            let t = val.type_name(self.heap);
            self.fmt_s(t.as_bytes());
            return;
        }
        if verb == v(b'p') {
            self.fmt_pointer(val, verb);
            return;
        }
        match val {
            // `%w` (Errorf's verb) is a bad verb for any operand of `Sprintf`;
            // Go sees it in `handleMethods`, before printing the elements.
            Value::List(l) if verb == v(b'w') && l.elem != Elem::Uint8 => {
                self.bad_verb(verb, Some(val))
            }
            Value::Map(_) if verb == v(b'w') => self.bad_verb(verb, Some(val)),
            Value::List(l) if l.elem == Elem::Uint8 => {
                let bytes = byte_items(&l.items);
                self.fmt_bytes(val, &bytes, verb, "[]byte", 0);
            }
            _ => self.print_value(val, verb, 0),
        }
    }

    /// Go's `printValue`: a value at some depth inside the operand.
    fn print_value(&mut self, val: &Value, verb: u32, depth: usize) {
        if self.failed.is_some() {
            return;
        }
        if depth > MAX_DEPTH {
            self.failed = Some(Limit::Depth);
            return;
        }
        match val {
            // Nested: a nil element of a `[]interface {}` or `map[string]interface {}`.
            Value::Nil | Value::Invalid => {
                if depth == 0 {
                    self.print_arg(val, verb);
                } else if self.f.sharp_v {
                    self.write_str("interface {}(nil)");
                } else {
                    self.write_str("<nil>");
                }
            }
            Value::Bool(b) => self.fmt_bool(*b, verb, val),
            Value::Int(i) | Value::Int64(i) => self.fmt_int_verb(*i as u64, true, verb, val),
            Value::Int32(i) => self.fmt_int_verb(i64::from(*i) as u64, true, verb, val),
            Value::Uint8(u) => self.fmt_int_verb(u64::from(*u), false, verb, val),
            Value::Uint32(u) => self.fmt_int_verb(u64::from(*u), false, verb, val),
            Value::Uint64(u) => self.fmt_int_verb(*u, false, verb, val),
            Value::Float64(x) => self.fmt_float_verb(*x, verb, val),
            Value::String(s) => self.fmt_string(s, verb, Some(val)),
            Value::List(l) => {
                let is_text_verb = matches!(verb, 0x73 | 0x71 | 0x78 | 0x58); // s q x X
                if is_text_verb && l.elem == Elem::Uint8 {
                    let bytes = byte_items(&l.items);
                    self.fmt_bytes(val, &bytes, verb, "[]uint8", depth);
                } else {
                    self.print_slice(val, verb, depth);
                }
            }
            Value::Map(m) => {
                let map = self.heap.get(*m);
                if self.f.sharp_v {
                    let t = val.type_name(self.heap);
                    self.write_str(&t);
                    self.write_str("{");
                } else {
                    self.write_str("map[");
                }
                for (i, (k, item)) in map.entries.iter().enumerate() {
                    if self.failed.is_some() {
                        return;
                    }
                    if i > 0 {
                        self.write_str(if self.f.sharp_v { ", " } else { " " });
                    }
                    self.fmt_string(k, verb, None);
                    self.write_str(":");
                    self.print_value(item, verb, depth + 1);
                }
                self.write_str(if self.f.sharp_v { "}" } else { "]" });
            }
            Value::Object(o) => self.print_object(val, o.as_ref(), verb, depth, true),
        }
    }

    /// A struct, pointer or named type: Go's `handleMethods` (when `methods`:
    /// not for unexported fields), then `printValue` by kind.
    fn print_object(
        &mut self,
        val: &Value,
        o: &dyn crate::value::Object,
        verb: u32,
        depth: usize,
        methods: bool,
    ) {
        if methods && !self.erroring {
            if self.f.sharp_v {
                if let Some(text) = o.go_string() {
                    return self.fmt_s(&text);
                }
            } else if o.has_string_method() && matches!(verb, 0x76 | 0x73 | 0x78 | 0x58 | 0x71) {
                // v s x X q: `String()` (or `Error()`); `format` is that method.
                let text = o.format(self.heap);
                return self.fmt_string(&text, verb, Some(val));
            }
        }
        if let Some(i) = o.int_value() {
            return self.fmt_int_verb(i as u64, true, verb, val);
        }
        let is_ptr = o.kind() == crate::value::Kind::Ptr;
        if let Some(fields) = o.fields() {
            // A pointer to a struct prints as `&{...}` only as the operand.
            let mut depth = depth;
            if is_ptr {
                if depth > 0 {
                    return self.fmt_pointer(val, verb);
                }
                self.write_str("&");
                depth += 1;
            }
            if self.f.sharp_v {
                self.write_str(o.type_name().trim_start_matches('*'));
            }
            self.write_str("{");
            for (i, (name, field)) in fields.iter().enumerate() {
                if self.failed.is_some() {
                    return;
                }
                if i > 0 {
                    self.write_str(if self.f.sharp_v { ", " } else { " " });
                }
                if self.f.plus_v || self.f.sharp_v {
                    self.write_str(name);
                    self.write_str(":");
                }
                match field {
                    // Unexported: no methods.
                    Value::Object(fo) => {
                        self.print_object(field, fo.as_ref(), verb, depth + 1, false)
                    }
                    _ => self.print_value(field, verb, depth + 1),
                }
            }
            self.write_str("}");
            return;
        }
        if is_ptr && !o.has_string_method() {
            return self.fmt_pointer(val, verb);
        }
        let text = o.format(self.heap);
        if self.erroring || self.f.sharp_v {
            self.fmt_s(&text);
        } else if matches!(verb, 0x76 | 0x73 | 0x78 | 0x58 | 0x71) {
            self.fmt_string(&text, verb, Some(val));
        } else {
            self.bad_verb(verb, Some(val));
        }
    }

    /// A slice's elements, `[a b]` or with `%#v` `[]T{a, b}`.
    fn print_slice(&mut self, val: &Value, verb: u32, depth: usize) {
        let Value::List(l) = val else { return };
        if self.f.sharp_v {
            let t = val.type_name(self.heap);
            self.write_str(&t);
            self.write_str("{");
        } else {
            self.write_str("[");
        }
        for (i, item) in l.items.iter().enumerate() {
            if self.failed.is_some() {
                return;
            }
            if i > 0 {
                self.write_str(if self.f.sharp_v { ", " } else { " " });
            }
            self.print_value(item, verb, depth + 1);
        }
        self.write_str(if self.f.sharp_v { "}" } else { "]" });
    }

    fn do_print(&mut self, args: &[Value]) {
        let mut prev_string = false;
        for (i, arg) in args.iter().enumerate() {
            let is_string = matches!(arg, Value::String(_));
            if i > 0 && !is_string && !prev_string {
                self.write_str(" ");
            }
            self.print_arg(arg, v(b'v'));
            prev_string = is_string;
        }
    }

    fn do_println(&mut self, args: &[Value]) {
        for (i, arg) in args.iter().enumerate() {
            if i > 0 {
                self.write_str(" ");
            }
            self.print_arg(arg, v(b'v'));
        }
        self.write_str("\n");
    }
}

/// The bytes of a `[]uint8` list.
fn byte_items(items: &[Value]) -> Vec<u8> {
    items
        .iter()
        .map(|i| i.as_u64().unwrap_or(0) as u8)
        .collect()
}

mod printf;
