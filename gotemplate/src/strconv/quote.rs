//! `unicode/utf8` decoding and `strconv`'s quoting, as Go does them on bytes
//! that may not be UTF-8.

use super::isprint_table::PRINT_RANGES;

/// `utf8.RuneError`.
pub const RUNE_ERROR: u32 = 0xFFFD;
/// `utf8.MaxRune`.
pub const MAX_RUNE: u32 = 0x10FFFF;

const LOWER_HEX: &[u8; 16] = b"0123456789abcdef";

/// `utf8.DecodeRune`: the first rune and its width; an invalid or short
/// sequence is `(RUNE_ERROR, 1)`, and empty input is `(RUNE_ERROR, 0)`.
pub fn decode_rune(b: &[u8]) -> (u32, usize) {
    let Some(&first) = b.first() else {
        return (RUNE_ERROR, 0);
    };
    let width = match first {
        0x00..=0x7F => return (u32::from(first), 1),
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return (RUNE_ERROR, 1),
    };
    // Rust's UTF-8 validity (no surrogates, no overlongs, <= U+10FFFF) is Go's.
    match b.get(..width).map(std::str::from_utf8) {
        Some(Ok(s)) => match s.chars().next() {
            Some(c) => (u32::from(c), width),
            None => (RUNE_ERROR, 1),
        },
        _ => (RUNE_ERROR, 1),
    }
}

/// Iterates `(rune, width)` over bytes like Go's `for range string`.
pub fn runes(mut b: &[u8]) -> impl Iterator<Item = (u32, usize)> + '_ {
    std::iter::from_fn(move || {
        if b.is_empty() {
            return None;
        }
        let (r, w) = decode_rune(b);
        b = b.get(w..).unwrap_or_default();
        Some((r, w))
    })
}

/// `utf8.RuneCount`.
pub fn rune_count(b: &[u8]) -> usize {
    runes(b).count()
}

/// `utf8.ValidRune`.
pub fn valid_rune(r: u32) -> bool {
    r <= MAX_RUNE && !(0xD800..=0xDFFF).contains(&r)
}

/// `utf8.AppendRune`: invalid runes become U+FFFD.
pub fn append_rune(out: &mut Vec<u8>, r: u32) {
    let c = char::from_u32(r).unwrap_or('\u{FFFD}');
    let mut tmp = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
}

/// `unicode.IsPrint` (and `strconv.IsPrint`, the same set): letters, marks,
/// numbers, punctuation, symbols and the ASCII space, per Go's Unicode tables.
pub fn is_print(r: u32) -> bool {
    let i = PRINT_RANGES.partition_point(|&(_, hi)| hi < r);
    matches!(PRINT_RANGES.get(i), Some(&(lo, _)) if lo <= r)
}

/// `strconv.Quote`.
pub fn quote(s: &[u8]) -> Vec<u8> {
    quote_with(s, b'"', false)
}

/// `strconv.QuoteToASCII`.
pub fn quote_ascii(s: &[u8]) -> Vec<u8> {
    quote_with(s, b'"', true)
}

fn quote_with(s: &[u8], q: u8, ascii_only: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() + 2);
    out.push(q);
    let mut rest = s;
    while let Some(&b0) = rest.first() {
        let (r, w) = decode_rune(rest);
        if w == 1 && r == RUNE_ERROR {
            out.extend_from_slice(b"\\x");
            out.push(LOWER_HEX[usize::from(b0 >> 4)]);
            out.push(LOWER_HEX[usize::from(b0 & 0xF)]);
        } else {
            escaped_rune(&mut out, r, q, ascii_only);
        }
        rest = rest.get(w.max(1)..).unwrap_or_default();
    }
    out.push(q);
    out
}

/// `strconv.QuoteRune` (`ascii_only`: `QuoteRuneToASCII`); `r` is any
/// integer, invalid ones quote as U+FFFD.
pub fn quote_rune(r: u32, ascii_only: bool) -> Vec<u8> {
    let r = if valid_rune(r) { r } else { RUNE_ERROR };
    let mut out = vec![b'\''];
    escaped_rune(&mut out, r, b'\'', ascii_only);
    out.push(b'\'');
    out
}

fn escaped_rune(out: &mut Vec<u8>, r: u32, q: u8, ascii_only: bool) {
    if r == u32::from(q) || r == u32::from(b'\\') {
        out.push(b'\\');
        out.push(r as u8);
        return;
    }
    if ascii_only {
        if r < 0x80 && is_print(r) {
            out.push(r as u8);
            return;
        }
    } else if is_print(r) {
        append_rune(out, r);
        return;
    }
    let short: &[u8] = match r {
        0x07 => b"\\a",
        0x08 => b"\\b",
        0x0C => b"\\f",
        0x0A => b"\\n",
        0x0D => b"\\r",
        0x09 => b"\\t",
        0x0B => b"\\v",
        _ => b"",
    };
    if !short.is_empty() {
        out.extend_from_slice(short);
        return;
    }
    let (prefix, digits, r): (&[u8], u32, u32) = if r < 0x20 || r == 0x7F {
        (b"\\x", 2, r)
    } else if !valid_rune(r) {
        (b"\\u", 4, RUNE_ERROR)
    } else if r < 0x10000 {
        (b"\\u", 4, r)
    } else {
        (b"\\U", 8, r)
    };
    out.extend_from_slice(prefix);
    for i in (0..digits).rev() {
        out.push(LOWER_HEX[((r >> (4 * i)) & 0xF) as usize]);
    }
}

/// `strconv.CanBackquote`: whether `%#q` may print the string between backquotes.
pub fn can_backquote(s: &[u8]) -> bool {
    runes(s).all(|(r, w)| {
        if w > 1 {
            return r != 0xFEFF;
        }
        r != RUNE_ERROR && !(r < 0x20 && r != u32::from(b'\t')) && r != 0x60 && r != 0x7F
    })
}
