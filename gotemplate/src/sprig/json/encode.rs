//! Go's `encoding/json` for template values: `Marshal`, `MarshalIndent`,
//! an Encoder without HTML escaping, and `Unmarshal` into `interface{}`.
//! Error texts never quote the input.

use std::rc::Rc;

use crate::funcs::{Env, FuncError};
use crate::value::{Elem, GoMap, MapRef, Value};

/// Deeper data is refused (Go would go on; our stack would not).
const MAX_DEPTH: usize = 1000;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// `json.Marshal`
    Compact,
    /// `json.MarshalIndent(v, "", "  ")`
    Pretty,
    /// An Encoder with `SetEscapeHTML(false)`, final newline trimmed.
    Raw,
}

struct Encoder<'e, 'a> {
    env: &'e mut Env<'a>,
    out: Vec<u8>,
    style: Style,
    /// Maps being encoded, outermost first.
    path: Vec<MapRef>,
}

pub(crate) fn encode(env: &mut Env<'_>, v: &Value, style: Style) -> Result<Vec<u8>, FuncError> {
    let mut e = Encoder {
        env,
        out: Vec::new(),
        style,
        path: Vec::new(),
    };
    e.value(v, 0)?;
    Ok(e.out)
}

impl Encoder<'_, '_> {
    fn push(&mut self, bytes: &[u8]) -> Result<(), FuncError> {
        self.env.charge(bytes.len())?;
        self.out.extend_from_slice(bytes);
        Ok(())
    }

    fn newline(&mut self, depth: usize) -> Result<(), FuncError> {
        if self.style == Style::Pretty {
            self.env.charge(1 + 2 * depth)?;
            self.out.push(b'\n');
            self.out.resize(self.out.len() + 2 * depth, b' ');
        }
        Ok(())
    }

    /// Kept small: its frame is what deep data multiplies on the stack.
    fn value(&mut self, v: &Value, depth: usize) -> Result<(), FuncError> {
        self.env.check_time()?;
        if depth > MAX_DEPTH {
            return Err(FuncError::Limit(crate::limits::Limit::Depth));
        }
        match v {
            Value::List(l) if l.elem != Elem::Uint8 => self.list(l, depth),
            Value::Map(m) => self.map(*m, depth),
            Value::Object(o) if o.type_name() == "sprig.certificate" => {
                self.certificate(o.as_ref(), depth)
            }
            _ => self.scalar(v),
        }
    }

    #[inline(never)]
    fn list(&mut self, l: &crate::value::List, depth: usize) -> Result<(), FuncError> {
        if l.items.is_empty() {
            return self.push(b"[]");
        }
        self.push(b"[")?;
        for (i, item) in l.items.iter().enumerate() {
            if i > 0 {
                self.push(b",")?;
            }
            self.newline(depth + 1)?;
            self.value(item, depth + 1)?;
        }
        self.newline(depth)?;
        self.push(b"]")
    }

    #[inline(never)]
    fn certificate(&mut self, o: &dyn crate::value::Object, depth: usize) -> Result<(), FuncError> {
        let fields = ["Cert", "Key"].map(|f| (f, o.field(f).unwrap_or(Value::str(""))));
        self.push(b"{")?;
        for (i, (name, value)) in fields.iter().enumerate() {
            if i > 0 {
                self.push(b",")?;
            }
            self.newline(depth + 1)?;
            self.string(name.as_bytes())?;
            self.push(if self.style == Style::Pretty {
                b": "
            } else {
                b":"
            })?;
            self.value(value, depth + 1)?;
        }
        self.newline(depth)?;
        self.push(b"}")
    }

    /// Values with nothing nested: numbers, strings, []byte, time, semver.
    #[inline(never)]
    fn scalar(&mut self, v: &Value) -> Result<(), FuncError> {
        match v {
            Value::Bool(b) => self.push(if *b { b"true" } else { b"false" }),
            Value::Int(i) | Value::Int64(i) => self.push(i.to_string().as_bytes()),
            Value::Int32(i) => self.push(i.to_string().as_bytes()),
            Value::Uint8(i) => self.push(i.to_string().as_bytes()),
            Value::Uint32(i) => self.push(i.to_string().as_bytes()),
            Value::Uint64(i) => self.push(i.to_string().as_bytes()),
            Value::Float64(f) => {
                // Go: "json: unsupported value: NaN" (the value left out).
                let text = format_float(*f).ok_or(FuncError::reason("json: unsupported value"))?;
                self.push(text.as_bytes())
            }
            Value::String(s) => self.string(s),
            Value::List(l) => {
                // []byte marshals as base64.
                let bytes: Vec<u8> = l
                    .items
                    .iter()
                    .map(|i| i.as_u64().unwrap_or(0) as u8)
                    .collect();
                self.env.charge(bytes.len() * 4 / 3 + 4)?;
                let text = base64(&bytes);
                self.push(b"\"")?;
                self.push(text.as_bytes())?;
                self.push(b"\"")
            }
            Value::Object(o) if o.type_name() == "time.Time" => {
                let layout = Value::str("2006-01-02T15:04:05.999999999Z07:00");
                let text = match o.method(self.env, "Format", &[layout]) {
                    Some(Ok(Value::String(s))) => s,
                    Some(Err(e)) => return Err(e),
                    _ => return Err(FuncError::reason("json: error calling MarshalJSON")),
                };
                let year_ok =
                    text.get(4) == Some(&b'-') && text[..4].iter().all(u8::is_ascii_digit);
                if !year_ok {
                    return Err(FuncError::reason(
                        "json: error calling MarshalJSON for type time.Time: Time.MarshalJSON: year outside of range [0,9999]",
                    ));
                }
                self.string(&text)
            }
            Value::Object(o) if o.kind() == crate::value::Kind::Complex128 => Err(
                FuncError::reason(format!("json: unsupported type: {}", o.type_name())),
            ),
            // Named integer types (`time.Month`) marshal as numbers.
            Value::Object(o) if o.int_value().is_some() => {
                self.push(o.int_value().unwrap_or(0).to_string().as_bytes())
            }
            // A struct with only unexported fields.
            Value::Object(o) if o.type_name() == "*errors.errorString" => self.push(b"{}"),
            // *semver.Version marshals its String().
            Value::Object(o) => {
                let text = o.format(self.env.heap);
                self.string(&text)
            }
            _ => self.push(b"null"),
        }
    }

    #[inline(never)]
    fn map(&mut self, m: MapRef, depth: usize) -> Result<(), FuncError> {
        // Go looks for cycles only below 1000 nested maps; a cycle is an
        // error either way, so it is looked for at once.
        if self.path.contains(&m) {
            return Err(FuncError::reason(format!(
                "json: unsupported value: encountered a cycle via map[string]{}",
                self.env.heap.get(m).elem.go_name()
            )));
        }
        // Entries are copied out: encoding needs the Env mutably.
        let entries: Vec<(Rc<[u8]>, Value)> = {
            let map: &GoMap = self.env.heap.get(m);
            map.entries
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        if entries.is_empty() {
            return self.push(b"{}");
        }
        self.env.charge(entries.len() * 16)?;
        self.path.push(m);
        self.push(b"{")?;
        for (i, (k, v)) in entries.iter().enumerate() {
            if i > 0 {
                self.push(b",")?;
            }
            self.newline(depth + 1)?;
            self.string(k)?;
            self.push(if self.style == Style::Pretty {
                b": "
            } else {
                b":"
            })?;
            self.value(v, depth + 1)?;
        }
        self.newline(depth)?;
        self.path.pop();
        self.push(b"}")
    }

    /// Go's `appendString`: invalid UTF-8 bytes become \ufffd, U+2028 and
    /// U+2029 are escaped, and <, >, & too unless the style is Raw.
    fn string(&mut self, s: &[u8]) -> Result<(), FuncError> {
        self.env.charge(s.len() + 2)?;
        let html = self.style != Style::Raw;
        let out = &mut self.out;
        let start = out.len();
        out.push(b'"');
        for chunk in s.utf8_chunks() {
            for c in chunk.valid().chars() {
                match c {
                    '"' => out.extend_from_slice(b"\\\""),
                    '\\' => out.extend_from_slice(b"\\\\"),
                    '\u{8}' => out.extend_from_slice(b"\\b"),
                    '\u{c}' => out.extend_from_slice(b"\\f"),
                    '\n' => out.extend_from_slice(b"\\n"),
                    '\r' => out.extend_from_slice(b"\\r"),
                    '\t' => out.extend_from_slice(b"\\t"),
                    '<' | '>' | '&' if html => {
                        out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
                    }
                    c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                        out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
                    }
                    c => {
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    }
                }
            }
            // Go replaces each invalid byte on its own.
            for _ in chunk.invalid() {
                out.extend_from_slice(b"\\ufffd");
            }
        }
        out.push(b'"');
        // Escapes make the text up to 6 times longer than charged above.
        let written = out.len() - start;
        self.env.charge(written.saturating_sub(s.len() + 2))
    }
}

/// encoding/json's float format: like ES6, shortest digits, exponent form
/// below 1e-6 and from 1e21 on. `None` for NaN and infinities.
pub(crate) fn format_float(f: f64) -> Option<String> {
    if !f.is_finite() {
        return None;
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let text = format!("{f:e}");
        let (mant, exp) = text.split_once('e')?;
        let (sign, digits) = match exp.strip_prefix('-') {
            Some(d) => ("-", d),
            None => ("+", exp),
        };
        // strconv pads the exponent to two digits; encoding/json then
        // strips the pad of a negative one (e-07 -> e-7).
        let digits = if digits.len() < 2 && sign == "+" {
            format!("0{digits}")
        } else {
            digits.to_string()
        };
        Some(format!("{mant}e{sign}{digits}"))
    } else {
        Some(format!("{f}"))
    }
}

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
