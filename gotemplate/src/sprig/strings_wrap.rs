//! goutils' byte-based `Abbreviate`, `AbbreviateFull`, `Wrap` and `WrapCustom`.

use super::{int_arg, new_string, slice, str_arg};
use crate::funcs::{Env, FuncError};
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
