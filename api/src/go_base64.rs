//! Go's `base64.StdEncoding.DecodeString`, byte for byte: the reference
//! controller reports an item that is not valid base64 with Go's
//! `CorruptInputError` text, `illegal base64 data at input byte N`, so this
//! port decodes what Go decodes and reports the same `N` for what it rejects.
//!
//! A port of `decodeQuantum` and `Decode` from Go's
//! `src/encoding/base64/base64.go` for the standard alphabet, `'='` padding,
//! non-strict (nonzero trailing bits are accepted). `'\r'` and `'\n'` are
//! skipped anywhere, even inside the padding. Go's offsets have quirks kept
//! here on purpose (see `decode_quantum`). Go's fast paths (8 and 4 digits at
//! a time) give the same result as `decodeQuantum`, so only that is ported.
//! Linear time: every quantum consumes at least one byte.

/// Go's `base64.StdEncoding.DecodeString`: the decoded bytes, or the offset
/// Go's `CorruptInputError` reports (its text is `illegal base64 data at input byte N`).
pub fn decode_std(input: &str) -> Result<Vec<u8>, usize> {
    decode_bytes(input.as_bytes())
}

/// `decode_std` over bytes (Go strings need not be UTF-8).
fn decode_bytes(src: &[u8]) -> Result<Vec<u8>, usize> {
    let mut dst = Vec::with_capacity(src.len() / 4 * 3);
    let mut si = 0;
    while si < src.len() {
        si = decode_quantum(&mut dst, src, si)?;
    }
    Ok(dst)
}

const PAD: u8 = b'=';

/// The standard alphabet's value of a digit, or `None` (Go's `0xff`).
fn digit(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

fn is_newline(c: u8) -> bool {
    c == b'\n' || c == b'\r'
}

/// Go's `decodeQuantum`: decodes up to 4 digits starting at `si`, appends the
/// bytes to `dst`, and returns where the next quantum starts, or Go's error
/// offset. The offsets, as Go computes them:
/// - input ends after `j` (1..=3) digits of a quantum: `si - j`, which is the
///   quantum's first digit only when no newline sat between its digits;
/// - a byte that is neither a digit, a newline nor `'='`: that byte;
/// - `'='` as the first or second digit of a quantum: that `'='`;
/// - `xx=` then end of input (newlines skipped): the input's length;
/// - `xx=` then something other than `'='` (newlines skipped): the byte
///   *before* that something (the first `'='` or a newline);
/// - anything but newlines after the padding: its first such byte.
fn decode_quantum(dst: &mut Vec<u8>, src: &[u8], mut si: usize) -> Result<usize, usize> {
    let mut dbuf = [0u8; 4];
    let mut dlen = 4;
    let mut j = 0;
    while j < dbuf.len() {
        let Some(&c) = src.get(si) else {
            if j == 0 {
                return Ok(si);
            }
            return Err(si.saturating_sub(j));
        };
        si += 1;

        if let Some(d) = digit(c) {
            dbuf[j] = d;
            j += 1;
            continue;
        }
        if is_newline(c) {
            continue;
        }
        if c != PAD || j < 2 {
            // Not a digit, or incorrect padding.
            return Err(si - 1);
        }

        // Padding: `xx==` or `xxx=`, the first '=' already consumed.
        if j == 2 {
            while src.get(si).copied().is_some_and(is_newline) {
                si += 1;
            }
            match src.get(si) {
                None => return Err(src.len()),              // not enough padding
                Some(&c) if c != PAD => return Err(si - 1), // incorrect padding
                Some(_) => si += 1,
            }
        }
        while src.get(si).copied().is_some_and(is_newline) {
            si += 1;
        }
        if si < src.len() {
            // Trailing garbage (Go writes this quantum, then fails).
            return Err(si);
        }
        dlen = j;
        break;
    }

    let val = u32::from(dbuf[0]) << 18
        | u32::from(dbuf[1]) << 12
        | u32::from(dbuf[2]) << 6
        | u32::from(dbuf[3]);
    let [_, b0, b1, b2] = val.to_be_bytes();
    // dlen is 2, 3 or 4 here: 1, 2 or 3 bytes.
    dst.extend_from_slice(&[b0, b1, b2][..dlen - 1]);
    Ok(si)
}

#[cfg(test)]
mod tests;
