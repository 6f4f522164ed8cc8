//! Case functions: Go's `strings.ToUpper/ToLower/Title`, goutils'
//! `Uncapitalize`, `SwapCase`, `Initials`, `DeleteWhiteSpace`, and xstrings'
//! `ToSnakeCase`, `ToPascalCase`, `ToKebabCase` (v1.5.0), rune for rune.

use crate::funcs::{Env, FuncError};
use crate::sprig::args::{new_string, str_arg};
use crate::unicode::{
    decode, is_letter, is_number, is_punct, is_space, is_upper, map_runes, push_rune, runes,
    to_lower, to_title, to_upper, RUNE_ERROR,
};
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
    if is_letter(r) || crate::unicode::is_digit(r) {
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
        if is_upper(r) || crate::unicode::is_title(r) {
            whitespace = false;
            to_lower(r)
        } else if crate::unicode::is_lower(r) {
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

#[cfg(test)]
mod tests {
    use crate::sprig::testing::check::{b, ok, run};

    #[test]
    fn matches_go() {
        run(vec![
            ("upper", vec![b(b"hello World")], ok(b"HELLO WORLD")),
            (
                "upper",
                vec![b(b"stra\xc3\x9fe \xc7\x86 \xef\xac\x83")],
                ok(b"STRA\xc3\x9fE \xc7\x84 \xef\xac\x83"),
            ),
            (
                "upper",
                vec![b(b"a\xffb\xe2\x82")],
                ok(b"A\xef\xbf\xbdB\xef\xbf\xbd\xef\xbf\xbd"),
            ),
            ("upper", vec![b(b"")], ok(b"")),
            (
                "lower",
                vec![b(b"HELLO \xc4\xb0 \xce\xa3")],
                ok(b"hello i \xcf\x83"),
            ),
            ("lower", vec![b(b"A\xc0B")], ok(b"a\xef\xbf\xbdb")),
            ("lower", vec![b(b"\xc7\x85")], ok(b"\xc7\x86")),
            (
                "title",
                vec![b(b"hello world-foo_bar baz.qux")],
                ok(b"Hello World-Foo_bar Baz.Qux"),
            ),
            (
                "title",
                vec![b(b"\xc7\x86emal \xc3\xb6z 1st x\xe3\x80\x80y")],
                ok(b"\xc7\x85emal \xc3\x96z 1st X\xe3\x80\x80Y"),
            ),
            ("title", vec![b(b"a\xffb c")], ok(b"A\xef\xbf\xbdb C")),
            (
                "title",
                vec![b(b"\xc3\xa9lan\xc2\xabvital\xc2\xbb")],
                ok(b"\xc3\x89lan\xc2\xabvital\xc2\xbb"),
            ),
            ("title", vec![b(b"")], ok(b"")),
            ("untitle", vec![b(b"Hello World")], ok(b"hello world")),
            (
                "untitle",
                vec![b(b"HELLO\xe3\x80\x80WORLD")],
                ok(b"hELLO\xe3\x80\x80wORLD"),
            ),
            ("untitle", vec![b(b"\xffA B")], ok(b"\xef\xbf\xbdA b")),
            ("untitle", vec![b(b"")], ok(b"")),
            ("untitle", vec![b(b"\xc7\x84 x")], ok(b"\xc7\x86 x")),
            ("swapcase", vec![b(b"Hello World")], ok(b"hELLO wORLD")),
            (
                "swapcase",
                vec![b(b"hello wORLD \xc7\x85x")],
                ok(b"HELLO World \xc7\x86X"),
            ),
            (
                "swapcase",
                vec![b(b"\xc7\x86 \xc7\x86")],
                ok(b"\xc7\x85 \xc7\x85"),
            ),
            ("swapcase", vec![b(b"a\xffB")], ok(b"A\xef\xbf\xbdb")),
            ("swapcase", vec![b(b"1a b\x09c")], ok(b"1A B\x09C")),
            ("swapcase", vec![b(b"")], ok(b"")),
            ("initials", vec![b(b"John Doe Foo")], ok(b"JDF")),
            ("initials", vec![b(b" hello  world ")], ok(b"hw")),
            ("initials", vec![b(b"\xc3\xa9mile zola")], ok(b"\xc3\x83z")),
            ("initials", vec![b(b"a\xa0b\x85c")], ok(b"abc")),
            ("initials", vec![b(b"")], ok(b"")),
            ("nospace", vec![b(b"a b\x09c\nd")], ok(b"abcd")),
            ("nospace", vec![b(b"abc")], ok(b"abc")),
            ("nospace", vec![b(b"\xc3\xa9 b")], ok(b"\xc3\x83\xc2\xa9b")),
            ("nospace", vec![b(b"\xc3\xa9")], ok(b"\xc3\xa9")),
            ("nospace", vec![b(b"\xc2\xa0x y")], ok(b"\xc3\x82xy")),
            ("nospace", vec![b(b"")], ok(b"")),
            ("snakecase", vec![b(b"FirstName")], ok(b"first_name")),
            ("snakecase", vec![b(b"HTTPServer")], ok(b"http_server")),
            ("snakecase", vec![b(b"firstName")], ok(b"first_name")),
            ("snakecase", vec![b(b"first_name")], ok(b"first_name")),
            (
                "snakecase",
                vec![b(b"first-name foo")],
                ok(b"first_name_foo"),
            ),
            ("snakecase", vec![b(b"SomeID2")], ok(b"some_id2")),
            ("snakecase", vec![b(b"ID2Go")], ok(b"id2_go")),
            ("snakecase", vec![b(b"abc123def")], ok(b"abc_123def")),
            ("snakecase", vec![b(b"abc 123")], ok(b"abc_123")),
            ("snakecase", vec![b(b"123abc")], ok(b"123abc")),
            ("snakecase", vec![b(b"A1B2")], ok(b"a1_b2")),
            ("snakecase", vec![b(b"foo.bar")], ok(b"foo.bar")),
            ("snakecase", vec![b(b"__foo__")], ok(b"__foo__")),
            ("snakecase", vec![b(b"Foo  Bar")], ok(b"foo__bar")),
            (
                "snakecase",
                vec![b(b"\xc3\x80\xc3\x89\xc3\x8e")],
                ok(b"\xc3\xa0\xc3\xa9\xc3\xae"),
            ),
            (
                "snakecase",
                vec![b(b"\xe4\xb8\xad\xe6\x96\x87Abc")],
                ok(b"\xe4\xb8\xad\xe6\x96\x87_abc"),
            ),
            ("snakecase", vec![b(b"a1")], ok(b"a1")),
            ("snakecase", vec![b(b"Ab1c")], ok(b"ab_1c")),
            ("snakecase", vec![b(b"a\xffB")], ok(b"a_\xef\xbf\xbdb")),
            ("snakecase", vec![b(b"\xff")], ok(b"\xff")),
            ("snakecase", vec![b(b"AB\xffC")], ok(b"ab\xef\xbf\xbdc")),
            ("snakecase", vec![b(b"- \xff")], ok(b"__\xef\xbf\xbd")),
            ("snakecase", vec![b(b"x+y=z")], ok(b"x_+_y_=_z")),
            ("snakecase", vec![b(b"v1.2.3")], ok(b"v1.2.3")),
            (
                "snakecase",
                vec![b(b"already_snake_case")],
                ok(b"already_snake_case"),
            ),
            ("snakecase", vec![b(b"JSONData")], ok(b"json_data")),
            ("snakecase", vec![b(b"A")], ok(b"a")),
            ("snakecase", vec![b(b"aB")], ok(b"a_b")),
            ("snakecase", vec![b(b"1")], ok(b"1")),
            ("snakecase", vec![b(b"12 34")], ok(b"12_34")),
            ("snakecase", vec![b(b"a12b")], ok(b"a_12b")),
            ("snakecase", vec![b(b"A12B")], ok(b"a12_b")),
            ("snakecase", vec![b(b"ab12CD")], ok(b"ab12_cd")),
            ("snakecase", vec![b(b"\xc7\x85x")], ok(b"\xc7\x85x")),
            (
                "snakecase",
                vec![b(b"\xc3\x84\xc3\x96\xc3\x9c\xc3\xa4\xc3\xb6\xc3\xbc")],
                ok(b"\xc3\xa4\xc3\xb6_\xc3\xbc\xc3\xa4\xc3\xb6\xc3\xbc"),
            ),
            ("snakecase", vec![b(b"a\xc2\xa0b")], ok(b"a_b")),
            (
                "snakecase",
                vec![b(b"Hello\xe2\x80\xa8World")],
                ok(b"hello_world"),
            ),
            ("snakecase", vec![b(b"a!!b")], ok(b"a!!b")),
            (
                "snakecase",
                vec![b(b"\xf0\x9f\x98\x80Smile")],
                ok(b"\xf0\x9f\x98\x80_smile"),
            ),
            (
                "snakecase",
                vec![b(b"Ab\xf0\x9f\x98\x80")],
                ok(b"ab_\xf0\x9f\x98\x80"),
            ),
            ("kebabcase", vec![b(b"FirstName")], ok(b"first-name")),
            ("kebabcase", vec![b(b"HTTPServer_x")], ok(b"http-server-x")),
            ("kebabcase", vec![b(b"some ID2 x")], ok(b"some-id2-x")),
            ("kebabcase", vec![b(b"a_b-c d")], ok(b"a-b-c-d")),
            ("camelcase", vec![b(b"http_server")], ok(b"HttpServer")),
            (
                "camelcase",
                vec![b(b"_complex__case_")],
                ok(b"_Complex_Case_"),
            ),
            ("camelcase", vec![b(b"_")], ok(b"__")),
            ("camelcase", vec![b(b"__")], ok(b"___")),
            ("camelcase", vec![b(b"a")], ok(b"A")),
            ("camelcase", vec![b(b"HELLO_WORLD")], ok(b"HelloWorld")),
            ("camelcase", vec![b(b"hello world")], ok(b"HelloWorld")),
            ("camelcase", vec![b(b"ABC")], ok(b"Abc")),
            ("camelcase", vec![b(b"AbCd_eF")], ok(b"AbCdEF")),
            ("camelcase", vec![b(b"x-y z")], ok(b"XYZ")),
            ("camelcase", vec![b(b"a\xffb")], ok(b"A\xef\xbf\xbdb")),
            ("camelcase", vec![b(b"\xff")], ok(b"\xef\xbf\xbd")),
            (
                "camelcase",
                vec![b(b"\xc7\x86x_\xc7\x86")],
                ok(b"\xc7\x84x\xc7\x84"),
            ),
            (
                "camelcase",
                vec![b(b"already CamelCase")],
                ok(b"AlreadyCamelCase"),
            ),
            ("camelcase", vec![b(b"no_CAPS_here")], ok(b"NoCapsHere")),
            ("camelcase", vec![b(b" ")], ok(b"  ")),
            ("camelcase", vec![b(b"a_")], ok(b"A_")),
        ]);
    }
}
