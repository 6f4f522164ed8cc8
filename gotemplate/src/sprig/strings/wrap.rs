//! goutils' byte-based `Abbreviate`, `AbbreviateFull`, `Wrap` and `WrapCustom`.

use crate::funcs::{Env, FuncError};
use crate::sprig::args::{int_arg, new_string, slice, str_arg};
use crate::value::Value;

type Res = Result<Value, FuncError>;

/// goutils `AbbreviateFull`; its errors give "" (sprig drops the error).
fn abbreviate_full(s: &[u8], offset: i64, max_width: i64) -> Result<Vec<u8>, FuncError> {
    if s.is_empty() || max_width < 4 {
        return Ok(Vec::new());
    }
    let len = s.len() as i64;
    if len <= max_width {
        return Ok(s.to_vec());
    }
    // Go's int arithmetic wraps; so does this.
    let mut offset = offset.min(len);
    let keep = max_width - 3;
    if len.wrapping_sub(offset) < keep {
        offset = len - keep;
    }
    let mut out = Vec::with_capacity(max_width as usize);
    if offset <= 4 {
        out.extend_from_slice(slice(s, 0, keep)?);
        out.extend_from_slice(b"...");
        return Ok(out);
    }
    if max_width < 7 {
        return Ok(Vec::new());
    }
    out.extend_from_slice(b"...");
    if offset.wrapping_add(keep) < len {
        out.extend(abbreviate_full(slice(s, offset, len)?, 0, keep)?);
    } else {
        out.extend_from_slice(slice(s, len - keep, len)?);
    }
    Ok(out)
}

pub(super) fn abbrev(env: &mut Env<'_>, args: &[Value]) -> Res {
    let width = int_arg(args, 0)?;
    let s = str_arg(args, 1)?;
    if width < 4 {
        return Ok(Value::String(s.clone()));
    }
    let out = abbreviate_full(s, 0, width)?;
    new_string(env, out)
}

pub(super) fn abbrevboth(env: &mut Env<'_>, args: &[Value]) -> Res {
    let left = int_arg(args, 0)?;
    let right = int_arg(args, 1)?;
    let s = str_arg(args, 2)?;
    if right < 4 || left > 0 && right < 7 {
        return Ok(Value::String(s.clone()));
    }
    let out = abbreviate_full(s, left, right)?;
    new_string(env, out)
}

/// goutils `WrapCustom`, writing its pieces to `emit`: run once to measure
/// (the separator may be long and inserted up to once per input byte), then
/// to build.
fn wrap_custom(
    env: &mut Env<'_>,
    s: &[u8],
    width: i64,
    sep: &[u8],
    long_words: bool,
    mut emit: impl FnMut(&[u8]),
) -> Result<(), FuncError> {
    if s.is_empty() {
        return Ok(());
    }
    let sep: &[u8] = if sep.is_empty() { b"\n" } else { sep };
    // The loop runs only while more than `width` bytes are left, so `width`
    // fits in usize from here on.
    let width = width.max(1);
    let len = s.len();
    let mut offset = 0usize;
    while ((len - offset) as u64) > width as u64 {
        env.check_time()?;
        let width = width as usize;
        if s[offset] == b' ' {
            offset += 1;
            continue;
        }
        let end = width + offset + 1;
        if let Some(space) = s[offset..end].iter().rposition(|&b| b == b' ') {
            let at = offset + space;
            emit(&s[offset..at]);
            emit(sep);
            offset = at + 1;
        } else if long_words {
            emit(&s[offset..offset + width]);
            emit(sep);
            offset += width;
        } else {
            let end = width + offset;
            match s[end..].iter().position(|&b| b == b' ') {
                None => {
                    emit(&s[offset..]);
                    offset = len;
                }
                Some(i) => {
                    let at = i + end;
                    emit(&s[offset..at]);
                    emit(sep);
                    offset = at + 1;
                }
            }
        }
    }
    emit(&s[offset..]);
    Ok(())
}

fn wrap_value(env: &mut Env<'_>, s: &[u8], width: i64, sep: &[u8], long: bool) -> Res {
    let mut size = 0usize;
    wrap_custom(env, s, width, sep, long, |p| {
        size = size.saturating_add(p.len())
    })?;
    env.charge(size)?;
    let mut out = Vec::with_capacity(size);
    wrap_custom(env, s, width, sep, long, |p| out.extend_from_slice(p))?;
    Ok(Value::String(out.into()))
}

/// `wrap`: goutils `Wrap(s, l)`, which never breaks long words.
pub(super) fn wrap(env: &mut Env<'_>, args: &[Value]) -> Res {
    let width = int_arg(args, 0)?;
    let s = str_arg(args, 1)?;
    wrap_value(env, s, width, b"", false)
}

/// `wrapWith`: goutils `WrapCustom(s, l, sep, true)`.
pub(super) fn wrap_with(env: &mut Env<'_>, args: &[Value]) -> Res {
    let width = int_arg(args, 0)?;
    let sep = str_arg(args, 1)?;
    let s = str_arg(args, 2)?;
    wrap_value(env, s, width, sep, true)
}

#[cfg(test)]
mod tests {
    use crate::funcs::{Budget, Env, FuncError};
    use crate::sprig::testing::check::{b, i, ok, run};
    use crate::value::Heap;

    #[test]
    fn matches_go() {
        run(vec![
            ("abbrev", vec![i(5), b(b"hello world")], ok(b"he...")),
            ("abbrev", vec![i(3), b(b"hello world")], ok(b"hello world")),
            ("abbrev", vec![i(4), b(b"hello world")], ok(b"h...")),
            ("abbrev", vec![i(20), b(b"hello")], ok(b"hello")),
            ("abbrev", vec![i(5), b(b"")], ok(b"")),
            (
                "abbrev",
                vec![i(6), b(b"h\xc3\xa9llo world")],
                ok(b"h\xc3\xa9..."),
            ),
            (
                "abbrevboth",
                vec![i(5), i(10), b(b"1234 5678 9123")],
                ok(b"...5678..."),
            ),
            (
                "abbrevboth",
                vec![i(0), i(4), b(b"abcdefghij")],
                ok(b"a..."),
            ),
            (
                "abbrevboth",
                vec![i(10), i(10), b(b"abcdefghijklmno")],
                ok(b"...ijklmno"),
            ),
            (
                "abbrevboth",
                vec![i(1), i(6), b(b"abcdefghijkl")],
                ok(b"abcdefghijkl"),
            ),
            (
                "abbrevboth",
                vec![i(-5), i(7), b(b"abcdefghijkl")],
                ok(b"abcd..."),
            ),
            (
                "abbrevboth",
                vec![i(4), i(7), b(b"abcdefghijklmnop")],
                ok(b"abcd..."),
            ),
            (
                "abbrevboth",
                vec![i(5), i(7), b(b"abcdefghijklmnop")],
                ok(b"...f..."),
            ),
            (
                "abbrevboth",
                vec![i(6), i(7), b(b"abcdefghijklmnop")],
                ok(b"...g..."),
            ),
            (
                "abbrevboth",
                vec![i(100), i(7), b(b"abcdefghijklmnop")],
                ok(b"...mnop"),
            ),
            (
                "abbrevboth",
                vec![i(8), i(9), b(b"abcdefghijklmnop")],
                ok(b"...ijk..."),
            ),
            (
                "abbrevboth",
                vec![i(-9223372036854775808), i(7), b(b"abcdefghijklmnop")],
                ok(b"...mnop"),
            ),
            (
                "abbrevboth",
                vec![i(9223372036854775807), i(9223372036854775807), b(b"abc")],
                ok(b"abc"),
            ),
            (
                "abbrevboth",
                vec![i(3), i(3), b(b"abcdefgh")],
                ok(b"abcdefgh"),
            ),
            (
                "abbrevboth",
                vec![i(7), i(10), b(b"abcdefghijklmnop")],
                ok(b"...hijk..."),
            ),
            (
                "wrap",
                vec![i(5), b(b"Hello World Foo")],
                ok(b"Hello\nWorld\nFoo"),
            ),
            ("wrap", vec![i(0), b(b"a b c")], ok(b"a\nb\nc")),
            ("wrap", vec![i(-3), b(b"ab cd")], ok(b"ab\ncd")),
            ("wrap", vec![i(3), b(b"abcdefgh ij")], ok(b"abcdefgh\nij")),
            ("wrap", vec![i(3), b(b"abcdefgh")], ok(b"abcdefgh")),
            ("wrap", vec![i(4), b(b"  ab   cd  ")], ok(b"ab  \ncd  ")),
            ("wrap", vec![i(10), b(b"short")], ok(b"short")),
            (
                "wrap",
                vec![i(9223372036854775807), b(b"abc def")],
                ok(b"abc def"),
            ),
            ("wrap", vec![i(2), b(b"")], ok(b"")),
            (
                "wrapWith",
                vec![i(5), b(b"<br>"), b(b"Hello World Foo")],
                ok(b"Hello<br>World<br>Foo"),
            ),
            (
                "wrapWith",
                vec![i(3), b(b"|"), b(b"abcdefgh ij")],
                ok(b"abc|def|gh|ij"),
            ),
            (
                "wrapWith",
                vec![i(2), b(b""), b(b"abcde")],
                ok(b"ab\ncd\ne"),
            ),
            ("wrapWith", vec![i(1), b(b"-"), b(b"a b")], ok(b"a-b")),
            (
                "wrapWith",
                vec![i(4), b(b"\x09"), b(b"  ab   cd  ")],
                ok(b"ab  \x09cd  "),
            ),
        ]);
    }

    #[test]
    fn long_separators_are_charged_before_building() {
        let mut heap = Heap::default();
        let mut budget = Budget::new(1 << 20, None);
        let mut env = Env {
            heap: &mut heap,
            budget: &mut budget,
        };
        let args = [i(1), b(&[b'-'; 10_000]), b(&[b'a'; 10_000])];
        let got = super::wrap_with(&mut env, &args);
        assert_eq!(
            got.map(|_| ()),
            Err(FuncError::Limit(crate::limits::Limit::Memory))
        );
    }
}
