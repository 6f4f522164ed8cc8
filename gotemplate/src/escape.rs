//! `text/template`'s builtin escapers `html`, `js` and `urlquery`, as Go's
//! `HTMLEscape`, `JSEscape` and `url.QueryEscape` write them.

use crate::strconv::quote::{decode_rune, is_print};

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

#[cfg(test)]
mod tests {
    use super::*;

    /// Input, then Go's `HTMLEscapeString`, `JSEscapeString`, `url.QueryEscape`.
    type Case = (&'static [u8], &'static [u8], &'static [u8], &'static [u8]);

    #[rustfmt::skip]
    const CASES: &[Case] = &[
        (b"", b"", b"", b""),
        (b"plain", b"plain", b"plain", b"plain"),
        (b"<a href=\"x\">'&'</a>", b"&lt;a href=&#34;x&#34;&gt;&#39;&amp;&#39;&lt;/a&gt;", b"\\u003Ca href\\u003D\\\"x\\\"\\u003E\\'\\u0026\\'\\u003C/a\\u003E", b"%3Ca+href%3D%22x%22%3E%27%26%27%3C%2Fa%3E"),
        (b"nul\x00x", b"nul\xef\xbf\xbdx", b"nul\\u0000x", b"nul%00x"),
        (b"tab\x09nl\x0a\x01\x1f\x7f", b"tab\x09nl\x0a\x01\x1f\x7f", b"tab\\u0009nl\\u000A\\u0001\\u001F\x7f", b"tab%09nl%0A%01%1F%7F"),
        (b"a=b\\c", b"a=b\\c", b"a\\u003Db\\\\c", b"a%3Db%5Cc"),
        (b"\xc3\xa9\xc2\xad\xe2\x80\x8b\xf0\x9f\x98\x80\xf3\xa0\x80\x81\xef\xbb\xbf", b"\xc3\xa9\xc2\xad\xe2\x80\x8b\xf0\x9f\x98\x80\xf3\xa0\x80\x81\xef\xbb\xbf", b"\xc3\xa9\\u00AD\\u200B\xf0\x9f\x98\x80\\uE0001\\uFEFF", b"%C3%A9%C2%AD%E2%80%8B%F0%9F%98%80%F3%A0%80%81%EF%BB%BF"),
        (b"\xff\xfe", b"\xff\xfe", b"\xff\xfe", b"%FF%FE"),
        (b"a b+c/d?e=f&g~h_i.j-k%", b"a b+c/d?e=f&amp;g~h_i.j-k%", b"a b+c/d?e\\u003Df\\u0026g~h_i.j-k%", b"a+b%2Bc%2Fd%3Fe%3Df%26g~h_i.j-k%25"),
        (b"\xe2\x80\xa8\xe2\x80\xa9", b"\xe2\x80\xa8\xe2\x80\xa9", b"\\u2028\\u2029", b"%E2%80%A8%E2%80%A9"),
    ];

    #[test]
    fn like_go() {
        for &(input, html, js, url) in CASES {
            assert_eq!(html_escape(input), html, "html {input:?}");
            assert_eq!(js_escape(input), js, "js {input:?}");
            assert_eq!(url_query_escape(input), url, "url {input:?}");
        }
    }

    #[test]
    fn every_byte_alone() {
        // No panic and one output piece per input byte on truncated sequences.
        for b in 0..=255u8 {
            let _ = js_escape(&[b]);
            let _ = js_escape(&[0xF0, 0x9F, b]);
            assert!(!url_query_escape(&[b]).is_empty());
        }
    }
}
