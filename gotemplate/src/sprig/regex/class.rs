//! Pieces of Go's regexp syntax for the parser (`syntax`): escapes, literals, ranges, the Perl,
//! POSIX and Unicode classes, written in the `regex` crate's syntax.

use std::fmt::Write;

use super::error::{ERR_INVALID_ESCAPE, ERR_TRAILING_BACKSLASH, ERR_UTF8};

/// Decodes one UTF-8 character at `i`.
pub(super) fn rune_at(s: &[u8], i: usize) -> Result<(char, usize), &'static str> {
    for len in 1..=4 {
        let Some(bytes) = s.get(i..i + len) else {
            break;
        };
        if let Ok(t) = std::str::from_utf8(bytes) {
            if let Some(c) = t.chars().next() {
                return Ok((c, len));
            }
        }
    }
    Err(ERR_UTF8)
}

/// A class that matches nothing (Go allows empty classes and surrogates).
pub(super) const NOTHING: &str = r"[^\x{0}-\x{10FFFF}]";

fn lit(out: &mut String, c: u32) {
    let _ = write!(out, r"\x{{{c:X}}}");
}

/// A rune as a Rust literal; surrogates (which Go accepts but never
/// matches) become the empty class.
pub(super) fn literal_atom(c: u32, fold: bool) -> String {
    if (0xD800..0xE000).contains(&c) {
        return NOTHING.into();
    }
    let mut out = String::new();
    if fold {
        out.push_str("(?i:");
    }
    lit(&mut out, c);
    if fold {
        out.push(')');
    }
    out
}

/// A range as Rust class items, skipping the surrogates Rust cannot name.
pub(super) fn push_range(out: &mut String, lo: u32, hi: u32) {
    for (a, b) in [(lo, hi.min(0xD7FF)), (lo.max(0xE000), hi)] {
        if a <= b {
            lit(out, a);
            out.push('-');
            lit(out, b);
        }
    }
}

fn group_class(ranges: &[(u32, u32)], negate: bool) -> String {
    let mut out = String::from("[");
    if negate {
        out.push('^');
    }
    for &(a, b) in ranges {
        push_range(&mut out, a, b);
    }
    out.push(']');
    out
}

pub(super) const DIGIT: &[(u32, u32)] = &[(0x30, 0x39)];
pub(super) const SPACE: &[(u32, u32)] = &[(0x9, 0xA), (0xC, 0xD), (0x20, 0x20)];
pub(super) const WORD: &[(u32, u32)] = &[(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)];

pub(super) fn perl_group(c: u8) -> Option<String> {
    let (ranges, neg) = match c {
        b'd' => (DIGIT, false),
        b'D' => (DIGIT, true),
        b's' => (SPACE, false),
        b'S' => (SPACE, true),
        b'w' => (WORD, false),
        b'W' => (WORD, true),
        _ => return None,
    };
    Some(group_class(ranges, neg))
}

pub(super) fn posix_group(name: &[u8]) -> Option<String> {
    let (neg, name) = match name.strip_prefix(b"^") {
        Some(n) => (true, n),
        None => (false, name),
    };
    let ranges: &[(u32, u32)] = match name {
        b"alnum" => &[(0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)],
        b"alpha" => &[(0x41, 0x5A), (0x61, 0x7A)],
        b"ascii" => &[(0, 0x7F)],
        b"blank" => &[(0x9, 0x9), (0x20, 0x20)],
        b"cntrl" => &[(0, 0x1F), (0x7F, 0x7F)],
        b"digit" => DIGIT,
        b"graph" => &[(0x21, 0x7E)],
        b"lower" => &[(0x61, 0x7A)],
        b"print" => &[(0x20, 0x7E)],
        b"punct" => &[(0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)],
        b"space" => &[(0x9, 0xD), (0x20, 0x20)],
        b"upper" => &[(0x41, 0x5A)],
        b"word" => WORD,
        b"xdigit" => &[(0x30, 0x39), (0x41, 0x46), (0x61, 0x66)],
        _ => return None,
    };
    Some(group_class(ranges, neg))
}

/// Go's `canonicalName`: separators dropped, first letter upper, rest lower.
pub(super) fn canonical_name(name: &[u8]) -> String {
    let mut out = String::new();
    let mut first = true;
    for &c in name {
        if matches!(c, b'_' | b'-' | b' ') {
            continue;
        }
        let c = if first {
            first = false;
            c.to_ascii_uppercase()
        } else {
            c.to_ascii_lowercase()
        };
        out.push(char::from(c));
    }
    out
}

/// Go's `unicodeTable` lookup: the Rust name of the class, and whether
/// Go inverts it.
pub(super) fn unicode_table(name: &[u8]) -> Option<(String, bool)> {
    let c = canonical_name(name);
    let direct = match c.as_str() {
        "Any" => Some("Any"),
        "Assigned" => return Some(("Cn".into(), true)),
        "Ascii" => Some("ASCII"),
        "Lc" => Some("LC"),
        _ => None,
    };
    if let Some(d) = direct {
        return Some((d.into(), false));
    }
    // Go looks the canonical name up verbatim, so multi-word script names
    // ("Old_Italic" -> "Olditalic") are not found in Go 1.26 either.
    if super::names::CATEGORIES.contains(&c.as_str()) || super::names::SCRIPTS.contains(&c.as_str())
    {
        return Some((c, false));
    }
    super::names::ALIASES
        .iter()
        .find(|(alias, _)| canonical_name(alias.as_bytes()) == c)
        .map(|(_, actual)| ((*actual).into(), false))
}

/// Parses a Go escape (at a backslash) to the rune it denotes.
pub(super) fn escape(s: &[u8], i: &mut usize) -> Result<u32, &'static str> {
    *i += 1;
    if *i >= s.len() {
        return Err(ERR_TRAILING_BACKSLASH);
    }
    let (c, w) = rune_at(s, *i)?;
    *i += w;
    let is_octal = |b: Option<u8>| matches!(b, Some(b'0'..=b'7'));
    match c {
        '1'..='7' if !is_octal(s.get(*i).copied()) => Err(ERR_INVALID_ESCAPE),
        '0'..='7' => {
            let mut r = c as u32 - '0' as u32;
            for _ in 1..3 {
                match s.get(*i).copied() {
                    Some(d @ b'0'..=b'7') => {
                        r = r * 8 + u32::from(d - b'0');
                        *i += 1;
                    }
                    _ => break,
                }
            }
            Ok(r)
        }
        'x' => hex_escape(s, i),
        'a' => Ok(7),
        'f' => Ok(12),
        'n' => Ok(10),
        'r' => Ok(13),
        't' => Ok(9),
        'v' => Ok(11),
        c if c.is_ascii() && !c.is_ascii_alphanumeric() => Ok(c as u32),
        _ => Err(ERR_INVALID_ESCAPE),
    }
}

fn hex_escape(s: &[u8], i: &mut usize) -> Result<u32, &'static str> {
    let unhex = |c: char| c.to_digit(16);
    if *i >= s.len() {
        return Err(ERR_INVALID_ESCAPE);
    }
    let (c, w) = rune_at(s, *i)?;
    *i += w;
    if c == '{' {
        let mut r: u32 = 0;
        let mut n = 0;
        loop {
            if *i >= s.len() {
                return Err(ERR_INVALID_ESCAPE);
            }
            let (c, w) = rune_at(s, *i)?;
            *i += w;
            if c == '}' {
                break;
            }
            let v = unhex(c).ok_or(ERR_INVALID_ESCAPE)?;
            r = r * 16 + v;
            if r > 0x10FFFF {
                return Err(ERR_INVALID_ESCAPE);
            }
            n += 1;
        }
        return if n == 0 {
            Err(ERR_INVALID_ESCAPE)
        } else {
            Ok(r)
        };
    }
    let x = unhex(c);
    if *i >= s.len() {
        return Err(ERR_INVALID_ESCAPE);
    }
    let (c2, w) = rune_at(s, *i)?;
    *i += w;
    match (x, unhex(c2)) {
        (Some(x), Some(y)) => Ok(x * 16 + y),
        _ => Err(ERR_INVALID_ESCAPE),
    }
}
