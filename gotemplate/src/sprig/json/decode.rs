//! `json.Unmarshal(data, &v)` with `v interface{}`: objects become
//! `map[string]interface{}`, arrays `[]interface{}`, numbers `float64`.
//! Syntax errors yield no value; a number out of float64's range yields nil
//! in its place and an error, as Go does.

use std::rc::Rc;

use crate::funcs::{Env, FuncError};
use crate::value::{Elem, Value};

/// Nesting that `fromJson` accepts (Go's decoder allows 10000).
const MAX_DEPTH: usize = 1000;

const EOF: &str = "unexpected end of JSON input";

/// The decoded value (nil after a syntax error) and the first error.
pub(crate) fn decode(env: &mut Env<'_>, data: &[u8]) -> (Value, Option<FuncError>) {
    let mut d = Decoder {
        env,
        data,
        pos: 0,
        number_error: None,
    };
    let result = d.skip_ws().and_then(|()| d.value()).and_then(|v| {
        d.skip_ws()?;
        if d.pos < d.data.len() {
            return Err(syntax("after top-level value"));
        }
        Ok(v)
    });
    match result {
        Ok(v) => (v, d.number_error),
        Err(e) => (Value::Nil, Some(e)),
    }
}

/// Go: "invalid character 'x' <where>", without the character.
fn syntax(place: &str) -> FuncError {
    FuncError::reason(format!("invalid character {place}"))
}

struct Decoder<'d, 'a> {
    env: &'d mut Env<'a>,
    data: &'d [u8],
    pos: usize,
    number_error: Option<FuncError>,
}

impl Decoder<'_, '_> {
    fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    fn skip_ws(&mut self) -> Result<(), FuncError> {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
        Ok(())
    }

    fn literal(&mut self, word: &[u8], v: Value) -> Result<Value, FuncError> {
        for &c in word {
            match self.peek() {
                Some(b) if b == c => self.pos += 1,
                // Go reports the end of input here as an invalid character.
                _ => return Err(syntax("in literal")),
            }
        }
        Ok(v)
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// Digits that must be there; Go's scanner reports the end of input
    /// here as an invalid character too.
    fn need_digit(&mut self, place: &str) -> Result<(), FuncError> {
        match self.peek() {
            Some(c) if c.is_ascii_digit() => {
                self.digits();
                Ok(())
            }
            _ => Err(syntax(place)),
        }
    }

    fn number(&mut self) -> Result<Value, FuncError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            _ => self.need_digit("in numeric literal")?,
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.need_digit("after decimal point in numeric literal")?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.need_digit("in exponent of numeric literal")?;
        }
        let text = std::str::from_utf8(&self.data[start..self.pos]).unwrap_or("");
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Value::Float64(f)),
            _ => {
                if self.number_error.is_none() {
                    self.number_error = Some(FuncError::reason(
                        "json: cannot unmarshal number into Go value of type float64",
                    ));
                }
                Ok(Value::Nil)
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, FuncError> {
        let mut n = 0;
        for _ in 0..4 {
            let c = self.peek().ok_or(FuncError::reason(EOF))?;
            let d = (c as char)
                .to_digit(16)
                .ok_or_else(|| syntax("in \\u hexadecimal character escape"))?;
            n = n * 16 + d;
            self.pos += 1;
        }
        Ok(n)
    }

    /// A `\uXXXX` low surrogate right here, if there is one (not consumed).
    fn low_surrogate_ahead(&self) -> Option<u32> {
        let rest = self.data.get(self.pos..self.pos + 6)?;
        if &rest[..2] != b"\\u" {
            return None;
        }
        let n = u32::from_str_radix(std::str::from_utf8(&rest[2..]).ok()?, 16).ok()?;
        (0xDC00..0xE000).contains(&n).then_some(n)
    }

    fn string(&mut self) -> Result<Vec<u8>, FuncError> {
        self.pos += 1; // the opening quote
        let mut out = Vec::new();
        loop {
            if out.len() % 4096 == 0 {
                self.env.check_time()?;
            }
            let c = self.peek().ok_or(FuncError::reason(EOF))?;
            match c {
                b'"' => {
                    self.pos += 1;
                    break;
                }
                b'\\' => {
                    self.pos += 1;
                    let e = self.peek().ok_or(FuncError::reason(EOF))?;
                    self.pos += 1;
                    let simple = match e {
                        b'"' | b'\\' | b'/' => Some(e),
                        b'b' => Some(8),
                        b'f' => Some(12),
                        b'n' => Some(b'\n'),
                        b'r' => Some(b'\r'),
                        b't' => Some(b'\t'),
                        b'u' => None,
                        _ => return Err(syntax("in string escape code")),
                    };
                    if let Some(b) = simple {
                        out.push(b);
                        continue;
                    }
                    let mut r = self.hex4()?;
                    if (0xD800..0xE000).contains(&r) {
                        r = match self.low_surrogate_ahead() {
                            Some(lo) if r < 0xDC00 => {
                                self.pos += 6;
                                0x10000 + ((r - 0xD800) << 10) + (lo - 0xDC00)
                            }
                            _ => 0xFFFD,
                        };
                    }
                    let ch = char::from_u32(r).unwrap_or('\u{FFFD}');
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                0..0x20 => return Err(syntax("in string literal")),
                0x20..0x80 => {
                    out.push(c);
                    self.pos += 1;
                }
                _ => {
                    // Multi-byte: valid sequences are kept, each invalid byte
                    // becomes U+FFFD (Go's unquote).
                    let end = (self.pos + 4).min(self.data.len());
                    let chunk = &self.data[self.pos..end];
                    let valid = match std::str::from_utf8(chunk) {
                        Ok(s) => s,
                        Err(e) => std::str::from_utf8(&chunk[..e.valid_up_to()]).unwrap_or(""),
                    };
                    match valid.chars().next() {
                        Some(ch) => {
                            let n = ch.len_utf8();
                            out.extend_from_slice(&self.data[self.pos..self.pos + n]);
                            self.pos += n;
                        }
                        None => {
                            out.extend_from_slice("\u{FFFD}".as_bytes());
                            self.pos += 1;
                        }
                    }
                }
            }
        }
        self.env.charge(out.len())?;
        Ok(out)
    }

    /// One value with everything nested in it, walked with an explicit
    /// stack so that deep input cannot exhaust the thread's stack.
    fn value(&mut self) -> Result<Value, FuncError> {
        let mut stack: Vec<Open> = Vec::new();
        loop {
            // A value starts here: a scalar, or a container opens.
            self.env.check_time()?;
            self.env.charge(16)?;
            self.skip_ws()?;
            let mut done = match self.peek() {
                None => return Err(FuncError::reason(EOF)),
                Some(b'{' | b'[') if stack.len() >= MAX_DEPTH => {
                    return Err(FuncError::reason("exceeded max depth"))
                }
                Some(b'[') => {
                    self.pos += 1;
                    self.skip_ws()?;
                    if self.peek() == Some(b']') {
                        self.pos += 1;
                        Value::list(Elem::Any, Vec::new())
                    } else {
                        stack.push(Open::Array(Vec::new()));
                        continue;
                    }
                }
                Some(b'{') => {
                    self.pos += 1;
                    let map = self.env.heap.new_map(Elem::Any);
                    self.skip_ws()?;
                    if self.peek() == Some(b'}') {
                        self.pos += 1;
                        map
                    } else {
                        let key = self.key()?;
                        stack.push(Open::Object(map, key));
                        continue;
                    }
                }
                Some(b'"') => Value::bytes(&self.string()?),
                Some(b't') => self.literal(b"true", Value::Bool(true))?,
                Some(b'f') => self.literal(b"false", Value::Bool(false))?,
                Some(b'n') => self.literal(b"null", Value::Nil)?,
                Some(b'-' | b'0'..=b'9') => self.number()?,
                Some(_) => return Err(syntax("looking for beginning of value")),
            };
            // Put the finished value into its container; close containers
            // that end here.
            loop {
                self.skip_ws()?;
                match stack.last_mut() {
                    None => return Ok(done),
                    Some(Open::Array(items)) => {
                        items.push(done);
                        match self.peek() {
                            None => return Err(FuncError::reason(EOF)),
                            Some(b',') => {
                                self.pos += 1;
                                break;
                            }
                            Some(b']') => self.pos += 1,
                            Some(_) => return Err(syntax("after array element")),
                        }
                    }
                    Some(Open::Object(map, key)) => {
                        if let Value::Map(r) = map {
                            // A repeated key: the last value wins.
                            let k = std::mem::replace(key, Rc::from(&b""[..]));
                            self.env.heap.get_mut(*r).entries.insert(k, done);
                        }
                        match self.peek() {
                            None => return Err(FuncError::reason(EOF)),
                            Some(b',') => {
                                self.pos += 1;
                                self.skip_ws()?;
                                *key = self.key()?;
                                break;
                            }
                            Some(b'}') => self.pos += 1,
                            Some(_) => return Err(syntax("after object key:value pair")),
                        }
                    }
                }
                done = match stack.pop() {
                    Some(Open::Array(items)) => Value::list(Elem::Any, items),
                    Some(Open::Object(map, _)) => map,
                    None => return Err(FuncError::reason("json: internal error")),
                };
            }
        }
    }

    /// An object key and its colon.
    fn key(&mut self) -> Result<Rc<[u8]>, FuncError> {
        match self.peek() {
            None => return Err(FuncError::reason(EOF)),
            Some(b'"') => {}
            Some(_) => return Err(syntax("looking for beginning of object key string")),
        }
        let key: Rc<[u8]> = self.string()?.into();
        self.skip_ws()?;
        match self.peek() {
            None => Err(FuncError::reason(EOF)),
            Some(b':') => {
                self.pos += 1;
                Ok(key)
            }
            Some(_) => Err(syntax("after object key")),
        }
    }
}

/// A container being read: the items so far, or the map and pending key.
enum Open {
    Array(Vec<Value>),
    Object(Value, Rc<[u8]>),
}
