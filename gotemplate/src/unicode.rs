//! Go's `unicode/utf8` decoding and `unicode` classes and case mappings, so
//! string functions treat runes, invalid bytes and case exactly as Go does
//! (Rust's `char` methods use another Unicode version and full case mappings).

#[rustfmt::skip]
mod tables;

/// `utf8.RuneError`, U+FFFD: what Go decodes an invalid byte to.
pub(crate) const RUNE_ERROR: u32 = 0xFFFD;

/// `utf8.DecodeRune`: the first rune and its width. Any invalid or truncated
/// sequence is `(RUNE_ERROR, 1)`; an empty slice is `(RUNE_ERROR, 0)`.
pub(crate) fn decode(s: &[u8]) -> (u32, usize) {
    let Some(&b0) = s.first() else {
        return (RUNE_ERROR, 0);
    };
    if b0 < 0x80 {
        return (u32::from(b0), 1);
    }
    // Length and the range of the second byte, as Go's `first`/`acceptRanges`.
    let (len, lo, hi) = match b0 {
        0xC2..=0xDF => (2, 0x80, 0xBF),
        0xE0 => (3, 0xA0, 0xBF),
        0xE1..=0xEC | 0xEE..=0xEF => (3, 0x80, 0xBF),
        0xED => (3, 0x80, 0x9F),
        0xF0 => (4, 0x90, 0xBF),
        0xF1..=0xF3 => (4, 0x80, 0xBF),
        0xF4 => (4, 0x80, 0x8F),
        _ => return (RUNE_ERROR, 1),
    };
    if s.len() < len {
        return (RUNE_ERROR, 1);
    }
    let b1 = s[1];
    if b1 < lo || b1 > hi {
        return (RUNE_ERROR, 1);
    }
    if s[2..len].iter().any(|&b| !(0x80..=0xBF).contains(&b)) {
        return (RUNE_ERROR, 1);
    }
    let mut r = u32::from(b0) & (0xFF >> (len + 1));
    for &b in &s[1..len] {
        r = (r << 6) | (u32::from(b) & 0x3F);
    }
    (r, len)
}

/// `utf8.DecodeLastRune`: the last rune and its width, with Go's rules for
/// invalid sequences.
pub(crate) fn decode_last(s: &[u8]) -> (u32, usize) {
    let end = s.len();
    let Some(&last) = s.last() else {
        return (RUNE_ERROR, 0);
    };
    if last < 0x80 {
        return (u32::from(last), 1);
    }
    let lim = end.saturating_sub(4);
    let mut start = end - 1;
    while start > lim {
        start -= 1;
        if s[start] & 0xC0 != 0x80 {
            break;
        }
    }
    let (r, size) = decode(&s[start..]);
    if start + size != end {
        return (RUNE_ERROR, 1);
    }
    (r, size)
}

/// Runes of `s` as Go's `for i, r := range s` visits them: `(index, rune, width)`.
pub(crate) fn runes(s: &[u8]) -> impl Iterator<Item = (usize, u32, usize)> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        let rest = s.get(i..).filter(|r| !r.is_empty())?;
        let (r, w) = decode(rest);
        let at = i;
        i += w;
        Some((at, r, w))
    })
}

/// `[]rune(s)`.
pub(crate) fn to_runes(s: &[u8]) -> Vec<u32> {
    runes(s).map(|(_, r, _)| r).collect()
}

/// `utf8.AppendRune` / `WriteRune`: invalid code points become U+FFFD.
pub(crate) fn push_rune(out: &mut Vec<u8>, r: u32) {
    let c = char::from_u32(r).unwrap_or('\u{FFFD}');
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

/// `string(runes)`.
pub(crate) fn from_runes(runes: &[u32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(runes.len());
    for &r in runes {
        push_rune(&mut out, r);
    }
    out
}

fn in_table(table: &[(u32, u32, u32)], r: u32) -> bool {
    let i = table.partition_point(|&(_, hi, _)| hi < r);
    match table.get(i) {
        Some(&(lo, _, stride)) if lo <= r => (r - lo).is_multiple_of(stride),
        _ => false,
    }
}

pub(crate) fn is_upper(r: u32) -> bool {
    in_table(tables::UPPER, r)
}
pub(crate) fn is_lower(r: u32) -> bool {
    in_table(tables::LOWER, r)
}
pub(crate) fn is_title(r: u32) -> bool {
    in_table(tables::TITLE, r)
}
pub(crate) fn is_letter(r: u32) -> bool {
    in_table(tables::LETTER, r)
}
pub(crate) fn is_digit(r: u32) -> bool {
    in_table(tables::DIGIT, r)
}
pub(crate) fn is_number(r: u32) -> bool {
    in_table(tables::NUMBER, r)
}
pub(crate) fn is_punct(r: u32) -> bool {
    in_table(tables::PUNCT, r)
}

/// `unicode.IsSpace`.
pub(crate) fn is_space(r: u32) -> bool {
    match r {
        0x09..=0x0D | 0x20 | 0x85 | 0xA0 => true,
        0..=0xFF => false,
        _ => in_table(tables::WHITE_SPACE, r),
    }
}

/// Go's `unicode.To`: `case` 0 is upper, 1 lower, 2 title.
fn to_case(case: usize, r: u32) -> u32 {
    let i = tables::CASE_RANGES.partition_point(|&(_, hi, _)| hi < r);
    match tables::CASE_RANGES.get(i) {
        Some(&(lo, _, deltas)) if lo <= r => {
            let delta = deltas[case];
            if delta == tables::UPPER_LOWER {
                // Alternating pairs: even offsets are upper, odd lower.
                lo + (((r - lo) & !1) | (case as u32 & 1))
            } else {
                r.wrapping_add_signed(delta)
            }
        }
        _ => r,
    }
}

pub(crate) fn to_upper(r: u32) -> u32 {
    if r < 0x80 {
        return u32::from((r as u8).to_ascii_uppercase());
    }
    to_case(0, r)
}
pub(crate) fn to_lower(r: u32) -> u32 {
    if r < 0x80 {
        return u32::from((r as u8).to_ascii_lowercase());
    }
    to_case(1, r)
}
pub(crate) fn to_title(r: u32) -> u32 {
    if r < 0x80 {
        return u32::from((r as u8).to_ascii_uppercase());
    }
    to_case(2, r)
}

/// `strings.Map` with a mapping that never drops runes: invalid bytes come
/// out as U+FFFD, as in Go.
pub(crate) fn map_runes(s: &[u8], mut f: impl FnMut(u32) -> u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for (_, r, _) in runes(s) {
        push_rune(&mut out, f(r));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_like_go() {
        assert_eq!(decode(b""), (RUNE_ERROR, 0));
        assert_eq!(decode("é".as_bytes()), (0xE9, 2));
        assert_eq!(decode(b"\xE2\x82"), (RUNE_ERROR, 1));
        assert_eq!(decode(b"\xED\xA0\x80"), (RUNE_ERROR, 1)); // surrogate
        assert_eq!(decode(b"\xF4\x90\x80\x80"), (RUNE_ERROR, 1)); // > U+10FFFF
        assert_eq!(decode("😀".as_bytes()), (0x1F600, 4));
        assert_eq!(decode_last("a€".as_bytes()), (0x20AC, 3));
        assert_eq!(decode_last(b"a\xE2\x82"), (RUNE_ERROR, 1));
        assert_eq!(decode_last(b"\x80\x80\x80\x80\x80"), (RUNE_ERROR, 1));
        assert_eq!(
            map_runes(b"a\xE2\x82", |r| r),
            "a\u{FFFD}\u{FFFD}".as_bytes()
        );
    }

    #[test]
    fn classes_and_cases() {
        assert!(is_upper('Σ' as u32) && is_lower('ß' as u32) && is_title('ǅ' as u32));
        assert!(is_space(0x85) && is_space(0x3000) && !is_space(0x200B));
        assert_eq!(to_upper('ß' as u32), 'ß' as u32); // simple mapping only
        assert_eq!(to_upper('ǆ' as u32), 'Ǆ' as u32);
        assert_eq!(to_title('ǆ' as u32), 'ǅ' as u32);
        assert_eq!(to_lower('Ā' as u32), 'ā' as u32);
        assert_eq!(to_upper('ā' as u32), 'Ā' as u32);
        assert_eq!(to_upper(RUNE_ERROR), RUNE_ERROR);
    }
}
