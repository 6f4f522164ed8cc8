//! `text/template`'s builtin escapers `html`, `js` and `urlquery`, as Go's
//! `HTMLEscape`, `JSEscape` and `url.QueryEscape` write them.

use crate::fmt::{decode_rune, is_print};

/// `template.HTMLEscape`: `"` `'` `&` `<` `>` as entities, NUL as U+FFFD.
pub fn html_escape(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    for &c in b {
        match c {
            0 => out.extend_from_slice("\u{FFFD}".as_bytes()),
            b'"' => out.extend_from_slice(b"&#34;"),
            b'\'' => out.extend_from_slice(b"&#39;"),
            b'&' => out.extend_from_slice(b"&amp;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            _ => out.push(c),
        }
    }
    out
}

/// `template.JSEscape`: quotes, backslash, `<` `>` `&` `=` and control bytes
/// escaped; non-ASCII runes kept if printable, else `\uXXXX`. An invalid
/// UTF-8 byte decodes as U+FFFD, which is printable, so it passes through.
pub fn js_escape(b: &[u8]) -> Vec<u8> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c < 0x80 {
            match c {
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\'' => out.extend_from_slice(b"\\'"),
                b'"' => out.extend_from_slice(b"\\\""),
                b'<' => out.extend_from_slice(b"\\u003C"),
                b'>' => out.extend_from_slice(b"\\u003E"),
                b'&' => out.extend_from_slice(b"\\u0026"),
                b'=' => out.extend_from_slice(b"\\u003D"),
                0..=0x1F => {
                    out.extend_from_slice(b"\\u00");
                    out.push(HEX[usize::from(c >> 4)]);
                    out.push(HEX[usize::from(c & 0xF)]);
                }
                _ => out.push(c),
            }
            i += 1;
            continue;
        }
        let (r, size) = decode_rune(&b[i..]);
        let size = size.max(1);
        if is_print(r) {
            out.extend_from_slice(&b[i..i + size]);
        } else {
            // Go's `\u%04X`: at least four hex digits.
            out.extend_from_slice(format!("\\u{r:04X}").as_bytes());
        }
        i += size;
    }
    out
}

/// `url.QueryEscape`: unreserved bytes kept, space as `+`, the rest `%XX`.
pub fn url_query_escape(b: &[u8]) -> Vec<u8> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = Vec::with_capacity(b.len());
    for &c in b {
        match c {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(c),
            b' ' => out.push(b'+'),
            _ => {
                out.push(b'%');
                out.push(HEX[usize::from(c >> 4)]);
                out.push(HEX[usize::from(c & 0xF)]);
            }
        }
    }
    out
}
