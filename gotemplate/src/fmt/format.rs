//! The padding and number formatting of Go's `fmt/format.go`: one verb's
//! operand under the current flags, width and precision.

use super::Printer;
use crate::strconv::float::append_float;
use crate::strconv::quote::{
    append_rune, can_backquote, decode_rune, is_print, quote, quote_ascii, quote_rune, rune_count,
    MAX_RUNE, RUNE_ERROR,
};

pub(super) const LDIGITS: &[u8; 17] = b"0123456789abcdefx";
pub(super) const UDIGITS: &[u8; 17] = b"0123456789ABCDEFX";

/// The flags, width and precision of the verb being printed.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Flags {
    pub wid_present: bool,
    pub prec_present: bool,
    pub minus: bool,
    pub plus: bool,
    pub sharp: bool,
    pub space: bool,
    pub zero: bool,
    /// `%+v`
    pub plus_v: bool,
    /// `%#v`
    pub sharp_v: bool,
    pub wid: i64,
    pub prec: i64,
}

impl Printer<'_> {
    /// Appends unless that would pass the output limit (then printing stops).
    pub(super) fn write(&mut self, b: &[u8]) {
        if self.room(b.len()) {
            self.buf.extend_from_slice(b);
        }
    }

    /// Whether `n` more bytes fit; if not, records the failure.
    pub(super) fn room(&mut self, n: usize) -> bool {
        if self.failed.is_some() {
            return false;
        }
        if self.buf.len().saturating_add(n) > self.limit {
            self.failed = Some(crate::limits::Limit::Memory);
            return false;
        }
        true
    }

    fn write_padding(&mut self, n: i64) {
        let Ok(n) = usize::try_from(n) else { return };
        if n == 0 || !self.room(n) {
            return;
        }
        let c = if self.f.zero && !self.f.minus {
            b'0'
        } else {
            b' '
        };
        self.buf.resize(self.buf.len() + n, c);
    }

    /// Writes `b` padded to the width, counting runes as Go does.
    pub(super) fn pad(&mut self, b: &[u8]) {
        if !self.f.wid_present || self.f.wid == 0 {
            self.write(b);
            return;
        }
        let width = self.f.wid - rune_count(b) as i64;
        if !self.f.minus {
            self.write_padding(width);
            self.write(b);
        } else {
            self.write(b);
            self.write_padding(width);
        }
    }

    /// `pad` with the zero flag off (Go's integer and unicode forms pad zeros themselves).
    fn pad_no_zero(&mut self, b: &[u8]) {
        let zero = self.f.zero;
        self.f.zero = false;
        self.pad(b);
        self.f.zero = zero;
    }

    pub(super) fn fmt_boolean(&mut self, v: bool) {
        self.pad(if v { b"true" } else { b"false" });
    }

    /// `%U`: `U+0041`, and with `#` also the quoted rune if printable.
    pub(super) fn fmt_unicode(&mut self, u: u64) {
        let mut prec = 4;
        if self.f.prec_present && self.f.prec > 4 {
            prec = self.f.prec;
            if !self.room(prec as usize) {
                return;
            }
        }
        let mut hex = Vec::new();
        let mut v = u;
        loop {
            hex.push(UDIGITS[(v & 0xF) as usize]);
            v >>= 4;
            if v == 0 {
                break;
            }
        }
        let mut out = b"U+".to_vec();
        out.resize(out.len() + (prec - hex.len() as i64).max(0) as usize, b'0');
        out.extend(hex.iter().rev());
        if self.f.sharp && u <= u64::from(MAX_RUNE) && is_print(u as u32) {
            out.extend_from_slice(b" '");
            append_rune(&mut out, u as u32);
            out.push(b'\'');
        }
        self.pad_no_zero(&out);
    }

    /// Go's `fmt.fmtInteger`: sign, base prefix with `#`, precision and zero padding.
    pub(super) fn fmt_integer(
        &mut self,
        u: u64,
        base: u64,
        signed: bool,
        verb: u8,
        digits: &[u8; 17],
    ) {
        let negative = signed && (u as i64) < 0;
        let u = if negative { u.wrapping_neg() } else { u };
        let mut prec = 0i64;
        if self.f.prec_present {
            prec = self.f.prec;
            // Precision 0 and value 0 print nothing but the padding.
            if prec == 0 && u == 0 {
                let zero = self.f.zero;
                self.f.zero = false;
                self.write_padding(self.f.wid);
                self.f.zero = zero;
                return;
            }
        } else if self.f.zero && !self.f.minus && self.f.wid_present {
            prec = self.f.wid;
            if negative || self.f.plus || self.f.space {
                prec -= 1; // room for the sign
            }
        }
        if !self.room(prec.max(0) as usize) {
            return;
        }
        // Built backwards, as Go does.
        let mut rev = Vec::with_capacity(prec.max(0) as usize + 70);
        let mut v = u;
        loop {
            rev.push(digits[(v % base) as usize]);
            v /= base;
            if v == 0 {
                break;
            }
        }
        while (rev.len() as i64) < prec {
            rev.push(b'0');
        }
        if self.f.sharp {
            match base {
                2 => rev.extend_from_slice(b"b0"),
                8 if rev.last() != Some(&b'0') => rev.push(b'0'),
                16 => {
                    rev.push(digits[16]);
                    rev.push(b'0');
                }
                _ => {}
            }
        }
        if verb == b'O' {
            rev.extend_from_slice(b"o0");
        }
        if negative {
            rev.push(b'-');
        } else if self.f.plus {
            rev.push(b'+');
        } else if self.f.space {
            rev.push(b' ');
        }
        rev.reverse();
        self.pad_no_zero(&rev);
    }

    /// The precision limits the number of runes.
    fn truncate<'b>(&self, b: &'b [u8]) -> &'b [u8] {
        if self.f.prec_present {
            let mut n = self.f.prec;
            let mut i = 0;
            while i < b.len() {
                n -= 1;
                if n < 0 {
                    return &b[..i];
                }
                i += decode_rune(&b[i..]).1.max(1);
            }
        }
        b
    }

    /// `%s` of a string or byte slice.
    pub(super) fn fmt_s(&mut self, b: &[u8]) {
        let b = self.truncate(b);
        self.pad(b);
    }

    /// `%x`/`%X` of a string or byte slice; `' '` separates bytes, `#` adds 0x.
    pub(super) fn fmt_sbx(&mut self, b: &[u8], digits: &[u8; 17]) {
        let mut length = b.len() as i64;
        if self.f.prec_present && self.f.prec < length {
            length = self.f.prec;
        }
        let mut width = 2 * length;
        if width > 0 {
            if self.f.space {
                if self.f.sharp {
                    width *= 2;
                }
                width += length - 1;
            } else if self.f.sharp {
                width += 2;
            }
        } else {
            if self.f.wid_present {
                self.write_padding(self.f.wid);
            }
            return;
        }
        if self.f.wid_present && self.f.wid > width && !self.f.minus {
            self.write_padding(self.f.wid - width);
        }
        if !self.room(width as usize) {
            return;
        }
        if self.f.sharp {
            self.buf.extend_from_slice(&[b'0', digits[16]]);
        }
        for (i, &c) in b.iter().take(length as usize).enumerate() {
            if self.f.space && i > 0 {
                self.buf.push(b' ');
                if self.f.sharp {
                    self.buf.extend_from_slice(&[b'0', digits[16]]);
                }
            }
            self.buf.push(digits[usize::from(c >> 4)]);
            self.buf.push(digits[usize::from(c & 0xF)]);
        }
        if self.f.wid_present && self.f.wid > width && self.f.minus {
            self.write_padding(self.f.wid - width);
        }
    }

    /// `%q` of a string: Go syntax, backquoted with `#` when possible, ASCII with `+`.
    pub(super) fn fmt_q(&mut self, b: &[u8]) {
        let b = self.truncate(b);
        if self.f.sharp && can_backquote(b) {
            let mut out = Vec::with_capacity(b.len() + 2);
            out.push(b'`');
            out.extend_from_slice(b);
            out.push(b'`');
            self.pad(&out);
            return;
        }
        let q = if self.f.plus {
            quote_ascii(b)
        } else {
            quote(b)
        };
        self.pad(&q);
    }

    /// `%c`: the rune, U+FFFD if out of range.
    pub(super) fn fmt_c(&mut self, c: u64) {
        let r = if c > u64::from(MAX_RUNE) {
            RUNE_ERROR
        } else {
            c as u32
        };
        let mut out = Vec::with_capacity(4);
        append_rune(&mut out, r);
        self.pad(&out);
    }

    /// `%q` of an integer: a quoted rune.
    pub(super) fn fmt_qc(&mut self, c: u64) {
        let r = if c > u64::from(MAX_RUNE) {
            RUNE_ERROR
        } else {
            c as u32
        };
        let q = quote_rune(r, self.f.plus);
        self.pad(&q);
    }

    /// Go's `fmt.fmtFloat`: strconv's form, then sign, `#` and zero padding.
    pub(super) fn fmt_float(&mut self, v: f64, verb: u8, prec: i64) {
        let prec = if self.f.prec_present {
            self.f.prec
        } else {
            prec
        };
        if !self.room(prec.max(0) as usize) {
            return;
        }
        // num[0] is the sign slot.
        let mut num = vec![b'+'];
        append_float(&mut num, v, verb, prec);
        if num.get(1).is_some_and(|&c| c == b'-' || c == b'+') {
            num.remove(0);
        }
        if self.f.space && num[0] == b'+' && !self.f.plus {
            num[0] = b' ';
        }
        // Infinities and NaN are never zero padded.
        if matches!(num.get(1), Some(b'I' | b'N')) {
            let zero = self.f.zero;
            self.f.zero = false;
            if num[1] == b'N' && !self.f.space && !self.f.plus {
                num.remove(0);
            }
            self.pad(&num);
            self.f.zero = zero;
            return;
        }
        if self.f.sharp && verb != b'b' {
            sharp_float(&mut num, verb, prec);
        }
        if self.f.plus || num[0] != b'+' {
            // Zero padding goes after the sign.
            if self.f.zero && !self.f.minus && self.f.wid_present && self.f.wid > num.len() as i64 {
                self.write(&num[..1]);
                self.write_padding(self.f.wid - num.len() as i64);
                self.write(&num[1..]);
                return;
            }
            self.pad(&num);
            return;
        }
        self.pad(&num[1..]);
    }
}

/// The `#` flag on floats: always a decimal point, and `%g` keeps its trailing zeros.
fn sharp_float(num: &mut Vec<u8>, verb: u8, prec: i64) {
    let mut digits = match verb {
        b'v' | b'g' | b'G' | b'x' => {
            if prec == -1 {
                6
            } else {
                prec
            }
        }
        _ => 0,
    };
    let mut tail = Vec::new();
    let mut has_point = false;
    let mut saw_nonzero = false;
    let mut i = 1;
    while i < num.len() {
        match num[i] {
            b'.' => has_point = true,
            b'p' | b'P' => {
                tail.extend_from_slice(&num[i..]);
                num.truncate(i);
                break;
            }
            b'e' | b'E' if verb != b'x' && verb != b'X' => {
                tail.extend_from_slice(&num[i..]);
                num.truncate(i);
                break;
            }
            c => {
                if c != b'0' {
                    saw_nonzero = true;
                }
                if saw_nonzero {
                    digits -= 1;
                }
            }
        }
        i += 1;
    }
    if !has_point {
        // A lone 0 counts as a digit.
        if num.len() == 2 && num[1] == b'0' {
            digits -= 1;
        }
        num.push(b'.');
    }
    while digits > 0 {
        num.push(b'0');
        digits -= 1;
    }
    num.extend_from_slice(&tail);
}
