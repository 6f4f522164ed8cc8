//! Case functions: Go's `strings.ToUpper/ToLower/Title`, goutils'
//! `Uncapitalize`, `SwapCase`, `Initials`, `DeleteWhiteSpace`, and xstrings'
//! `ToSnakeCase`, `ToPascalCase`, `ToKebabCase` (v1.5.0), rune for rune.

use super::utf8::{
    decode, is_letter, is_number, is_punct, is_space, is_upper, map_runes, push_rune, runes,
    to_lower, to_title, to_upper, RUNE_ERROR,
};
use super::{new_string, str_arg};
use crate::funcs::{Env, FuncError};
use crate::value::Value;

type Res = Result<Value, FuncError>;

pub(super) fn upper(env: &mut Env<'_>, args: &[Value]) -> Res {
    new_string(env, map_runes(str_arg(args, 0)?, to_upper))
}

pub(super) fn lower(env: &mut Env<'_>, args: &[Value]) -> Res {
    new_string(env, map_runes(str_arg(args, 0)?, to_lower))
}

/// `strings.isSeparator`, the word boundary of `strings.Title`.
fn is_separator(r: u32) -> bool {
    if r <= 0x7F {
        return !(r as u8).is_ascii_alphanumeric() && r != u32::from(b'_');
    }
    if is_letter(r) || super::utf8::is_digit(r) {
        return false;
    }
    is_space(r)
}

pub(super) fn title(env: &mut Env<'_>, args: &[Value]) -> Res {
    let mut prev = u32::from(b' ');
    let out = map_runes(str_arg(args, 0)?, |r| {
        let sep = is_separator(prev);
        prev = r;
        if sep {
            to_title(r)
        } else {
            r
        }
    });
    new_string(env, out)
}

/// goutils `Uncapitalize`: lower-cases the first rune of each space-separated word.
pub(super) fn untitle(env: &mut Env<'_>, args: &[Value]) -> Res {
    let mut next = true;
    let out = map_runes(str_arg(args, 0)?, |r| {
        if is_space(r) {
            next = true;
            r
        } else if next {
            next = false;
            to_lower(r)
        } else {
            r
        }
    });
    new_string(env, out)
}

/// goutils `SwapCase`: upper and title to lower; lower to title at a word start, else upper.
pub(super) fn swapcase(env: &mut Env<'_>, args: &[Value]) -> Res {
    let mut whitespace = true;
    let out = map_runes(str_arg(args, 0)?, |r| {
        if is_upper(r) || super::utf8::is_title(r) {
            whitespace = false;
            to_lower(r)
        } else if super::utf8::is_lower(r) {
            if whitespace {
                whitespace = false;
                to_title(r)
            } else {
                to_upper(r)
            }
        } else {
            whitespace = is_space(r);
            r
        }
    });
    new_string(env, out)
}

/// goutils `Initials`. It reads bytes, not runes, and writes each byte as the
/// rune of that value (so a non-ASCII byte comes out as two bytes), as Go does.
pub(super) fn initials(env: &mut Env<'_>, args: &[Value]) -> Res {
    let s = str_arg(args, 0)?;
    let mut out = Vec::new();
    let mut gap = true;
    for &b in s.iter() {
        if is_space(u32::from(b)) {
            gap = true;
        } else if gap {
            push_rune(&mut out, u32::from(b));
            gap = false;
        }
    }
    new_string(env, out)
}

/// goutils `DeleteWhiteSpace`: byte-wise like `initials`; unchanged input is
/// returned as it is.
pub(super) fn nospace(env: &mut Env<'_>, args: &[Value]) -> Res {
    let s = str_arg(args, 0)?;
    if !s.iter().any(|&b| is_space(u32::from(b))) {
        return Ok(Value::String(s.clone()));
    }
    let mut out = Vec::with_capacity(s.len());
    for &b in s.iter().filter(|&&b| !is_space(u32::from(b))) {
        push_rune(&mut out, u32::from(b));
    }
    new_string(env, out)
}

fn is_connector(r: u32) -> bool {
    r == u32::from(b'-') || r == u32::from(b'_') || is_space(r)
}

/// xstrings `isAlphabet`: letters except the common CJK blocks.
fn is_alphabet(r: u32) -> bool {
    if !is_letter(r) {
        return false;
    }
    !(r >= 0x3400
        && ((0x4E00..=0x9FCC).contains(&r)
            || (0x3400..=0x4D85).contains(&r)
            || (0x20000..=0x2B81D).contains(&r)))
}

/// `camelcase`: xstrings `ToPascalCase`.
pub(super) fn camelcase(env: &mut Env<'_>, args: &[Value]) -> Res {
    let mut s: &[u8] = str_arg(args, 0)?;
    if s.is_empty() {
        return Ok(Value::str(""));
    }
    let mut out = Vec::with_capacity(s.len());
    let mut first_upper = false;
    let (mut r0, mut size) = (0u32, 0usize);
    while !s.is_empty() {
        (r0, size) = decode(s);
        s = &s[size..];
        if !is_connector(r0) {
            first_upper = is_upper(r0);
            r0 = to_upper(r0);
            break;
        }
        push_rune(&mut out, r0);
    }
    if s.is_empty() {
        if size != 0 {
            push_rune(&mut out, r0);
        }
        return new_string(env, out);
    }
    while !s.is_empty() {
        let r1 = r0;
        (r0, size) = decode(s);
        s = &s[size..];
        if is_connector(r0) && is_connector(r1) {
            push_rune(&mut out, r1);
            continue;
        }
        if is_connector(r1) {
            first_upper = is_upper(r0);
            r0 = to_upper(r0);
        } else {
            if first_upper {
                if is_upper(r0) {
                    r0 = to_lower(r0);
                } else {
                    first_upper = false;
                }
            }
            push_rune(&mut out, r1);
        }
    }
    push_rune(&mut out, r0);
    new_string(env, out)
}

pub(super) fn snakecase(env: &mut Env<'_>, args: &[Value]) -> Res {
    new_string(env, to_lower_case(str_arg(args, 0)?, b'_'))
}

pub(super) fn kebabcase(env: &mut Env<'_>, args: &[Value]) -> Res {
    new_string(env, to_lower_case(str_arg(args, 0)?, b'-'))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Word {
    Invalid,
    Number,
    Upper,
    Alphabet,
    Connector,
    Punct,
    Other,
}

/// xstrings `camelCaseToLowerCase`.
fn to_lower_case(s: &[u8], connector: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() + s.len() / 2);
    if s.is_empty() {
        return out;
    }
    let sep = |out: &mut Vec<u8>| out.push(connector);
    let (mut wt, mut word, mut rest) = next_word(s);
    while !rest.is_empty() {
        if wt != Word::Connector {
            lower_word(&mut out, wt, word, connector);
        }
        let (prev, last) = (wt, word);
        (wt, word, rest) = next_word(rest);
        match prev {
            Word::Number => {
                while wt == Word::Alphabet || wt == Word::Number {
                    lower_word(&mut out, wt, word, connector);
                    (wt, word, rest) = next_word(rest);
                }
                if !matches!(wt, Word::Invalid | Word::Punct | Word::Connector) {
                    sep(&mut out);
                }
            }
            Word::Connector => lower_word(&mut out, prev, last, connector),
            Word::Punct => {}
            _ => {
                if wt != Word::Number {
                    if wt != Word::Connector && wt != Word::Punct {
                        sep(&mut out);
                    }
                    continue;
                }
                if rest.is_empty() {
                    continue;
                }
                let last = word;
                (wt, word, rest) = next_word(rest);
                if wt != Word::Alphabet {
                    lower_word(&mut out, Word::Number, last, connector);
                    if wt != Word::Connector && wt != Word::Punct {
                        sep(&mut out);
                    }
                    continue;
                }
                sep(&mut out);
                lower_word(&mut out, Word::Number, last, connector);
                while wt == Word::Alphabet || wt == Word::Number {
                    lower_word(&mut out, wt, word, connector);
                    (wt, word, rest) = next_word(rest);
                }
                if !matches!(wt, Word::Invalid | Word::Connector | Word::Punct) {
                    sep(&mut out);
                }
            }
        }
    }
    lower_word(&mut out, wt, word, connector);
    out
}

/// xstrings `nextValidRune`: skips invalid runes (and U+FFFD), counting their
/// bytes; `prev` if only invalid ones are left.
fn next_valid_rune(s: &[u8], prev: u32) -> (u32, usize) {
    let mut size = 0;
    let mut s = s;
    while !s.is_empty() {
        let (r, w) = decode(s);
        size += w;
        if r != RUNE_ERROR {
            return (r, size);
        }
        s = &s[w..];
    }
    (prev, size)
}

/// Consumes runes while `keep` holds for them; returns the bytes consumed.
fn take_while(rest: &mut &[u8], r: &mut u32, keep: impl Fn(u32) -> bool) -> usize {
    let mut taken = 0;
    while !rest.is_empty() {
        let size;
        (*r, size) = next_valid_rune(rest, *r);
        if !keep(*r) {
            break;
        }
        taken += size;
        *rest = &rest[size..];
    }
    taken
}

/// xstrings `nextWord`: the type and bytes of the next word, and the rest.
fn next_word(s: &[u8]) -> (Word, &[u8], &[u8]) {
    if s.is_empty() {
        return (Word::Invalid, s, s);
    }
    let (mut r, size) = next_valid_rune(s, RUNE_ERROR);
    let mut offset = size;
    if r == RUNE_ERROR {
        return (Word::Invalid, &s[..offset], &s[offset..]);
    }
    let mut rest = &s[size..];
    let wt;
    if is_connector(r) {
        wt = Word::Connector;
        offset += take_while(&mut rest, &mut r, is_connector);
    } else if is_punct(r) {
        wt = Word::Punct;
        offset += take_while(&mut rest, &mut r, is_punct);
    } else if is_upper(r) {
        wt = Word::Upper;
        if !rest.is_empty() {
            let (r2, size) = next_valid_rune(rest, r);
            r = r2;
            if is_upper(r) {
                // A run of capitals; the last one starts the next word when
                // a lower-case letter follows ("HTTPServer" -> "HTTP", "Server").
                let mut prev_size = size;
                offset += size;
                rest = &rest[size..];
                while !rest.is_empty() {
                    let size;
                    (r, size) = next_valid_rune(rest, r);
                    if !is_upper(r) {
                        break;
                    }
                    prev_size = size;
                    offset += size;
                    rest = &rest[size..];
                }
                if !rest.is_empty() && is_alphabet(r) {
                    offset -= prev_size;
                    rest = &s[offset..];
                }
            } else if is_alphabet(r) {
                offset += size;
                rest = &rest[size..];
                offset += take_while(&mut rest, &mut r, |r| is_alphabet(r) && !is_upper(r));
            }
        }
    } else if is_alphabet(r) {
        wt = Word::Alphabet;
        offset += take_while(&mut rest, &mut r, |r| is_alphabet(r) && !is_upper(r));
    } else if is_number(r) {
        wt = Word::Number;
        offset += take_while(&mut rest, &mut r, is_number);
    } else {
        wt = Word::Other;
        offset += take_while(&mut rest, &mut r, |r| {
            !(is_connector(r) || is_alphabet(r) || is_number(r) || is_punct(r))
        });
    }
    (wt, &s[..offset], rest)
}

/// xstrings `toLower`: upper-case and connector words are lowered rune by
/// rune, connectors replaced; other words are copied.
fn lower_word(out: &mut Vec<u8>, wt: Word, word: &[u8], connector: u8) {
    if wt != Word::Upper && wt != Word::Connector {
        out.extend_from_slice(word);
        return;
    }
    for (_, r, _) in runes(word) {
        if is_connector(r) {
            out.push(connector);
        } else if is_upper(r) {
            push_rune(out, to_lower(r));
        } else {
            push_rune(out, r);
        }
    }
}
