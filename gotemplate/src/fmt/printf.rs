//! Go's `doPrintf`: flags, width, precision, `*`, argument indexes `[n]`,
//! and the error forms `%!(EXTRA ...)`, `%!d(MISSING)`, `%!d(BADINDEX)`,
//! `%!(BADWIDTH)`, `%!(BADPREC)`, `%!(NOVERB)`.

use super::format::Flags;
use super::{v, Printer, MAX_WIDTH};
use crate::strconv::quote::decode_rune;
use crate::value::Value;

fn too_large(x: i64) -> bool {
    !(-MAX_WIDTH..=MAX_WIDTH).contains(&x)
}

/// Go's `parsenum`: `(number, found, next index)`; a number growing past
/// [`MAX_WIDTH`] gives up and consumes the rest of the format.
fn parse_num(s: &[u8], start: usize, end: usize) -> (i64, bool, usize) {
    if start >= end {
        return (0, false, end);
    }
    let mut num = 0i64;
    let mut found = false;
    let mut i = start;
    while i < end && s[i].is_ascii_digit() {
        if too_large(num) {
            return (0, false, end);
        }
        num = num * 10 + i64::from(s[i] - b'0');
        found = true;
        i += 1;
    }
    (num, found, i)
}

/// Go's `intFromArg`: a `*` width or precision, `(n, ok, next arg)`.
fn int_from_arg(args: &[Value], arg_num: usize) -> (i64, bool, usize) {
    let Some(a) = args.get(arg_num) else {
        return (0, false, arg_num);
    };
    let (mut num, mut ok) = match (a.int_kind_value(), a.as_u64()) {
        (Some(n), _) => (n, true),
        (None, Some(u)) => match i64::try_from(u) {
            Ok(n) => (n, true),
            Err(_) => (0, false),
        },
        _ => (0, false),
    };
    if too_large(num) {
        num = 0;
        ok = false;
    }
    (num, ok, arg_num + 1)
}

/// Go's `parseArgNumber` on `[n]...`: `(index, bytes consumed, ok)`.
fn parse_arg_number(format: &[u8]) -> (i64, usize, bool) {
    if format.len() < 3 {
        return (0, 1, false);
    }
    for i in 1..format.len() {
        if format[i] == b']' {
            let (n, ok, newi) = parse_num(format, 1, i);
            if !ok || newi != i {
                return (0, i + 1, false);
            }
            return (n - 1, i + 1, true);
        }
    }
    (0, 1, false)
}

struct State {
    arg_num: usize,
    reordered: bool,
    good_arg_num: bool,
}

impl State {
    /// Go's `argNumber`: an optional `[n]` at `i`; `(new i, found)`.
    fn arg_number(&mut self, format: &[u8], i: usize, num_args: usize) -> (usize, bool) {
        if format.get(i) != Some(&b'[') {
            return (i, false);
        }
        self.reordered = true;
        let (index, wid, ok) = parse_arg_number(&format[i..]);
        if ok && 0 <= index && (index as usize) < num_args {
            self.arg_num = index as usize;
            return (i + wid, true);
        }
        self.good_arg_num = false;
        (i + wid, ok)
    }
}

impl Printer<'_> {
    pub(super) fn do_printf(&mut self, format: &[u8], a: &[Value]) {
        let end = format.len();
        let mut st = State {
            arg_num: 0,
            reordered: false,
            good_arg_num: true,
        };
        let mut after_index;
        let mut i = 0;
        'format: while i < end {
            if self.failed.is_some() {
                return;
            }
            st.good_arg_num = true;
            let last = i;
            while i < end && format[i] != b'%' {
                i += 1;
            }
            if i > last {
                self.write(&format[last..i]);
            }
            if i >= end {
                break;
            }
            i += 1; // the '%'
            self.f = Flags::default();
            while i < end {
                let c = format[i];
                match c {
                    b'#' => self.f.sharp = true,
                    b'0' => self.f.zero = true,
                    b'+' => self.f.plus = true,
                    b'-' => self.f.minus = true,
                    b' ' => self.f.space = true,
                    _ => {
                        // Fast path for a simple verb with no width or precision.
                        if c.is_ascii_lowercase() && st.arg_num < a.len() {
                            if c == b'v' || c == b'w' {
                                self.set_v_flags();
                            }
                            self.print_arg(&a[st.arg_num], u32::from(c));
                            st.arg_num += 1;
                            i += 1;
                            continue 'format;
                        }
                        break;
                    }
                }
                i += 1;
            }

            (i, after_index) = st.arg_number(format, i, a.len());

            if i < end && format[i] == b'*' {
                i += 1;
                let (w, ok, next) = int_from_arg(a, st.arg_num);
                (self.f.wid, self.f.wid_present, st.arg_num) = (w, ok, next);
                if !ok {
                    self.write_str("%!(BADWIDTH)");
                }
                if self.f.wid < 0 {
                    self.f.wid = -self.f.wid;
                    self.f.minus = true;
                    self.f.zero = false; // no zero padding on the right
                }
                after_index = false;
            } else {
                let (w, ok, next) = parse_num(format, i, end);
                (self.f.wid, self.f.wid_present, i) = (w, ok, next);
                if after_index && ok {
                    st.good_arg_num = false; // "%[3]2d"
                }
            }

            if i + 1 < end && format[i] == b'.' {
                i += 1;
                if after_index {
                    st.good_arg_num = false; // "%[3].2d"
                }
                (i, after_index) = st.arg_number(format, i, a.len());
                if i < end && format[i] == b'*' {
                    i += 1;
                    let (p, ok, next) = int_from_arg(a, st.arg_num);
                    (self.f.prec, self.f.prec_present, st.arg_num) = (p, ok, next);
                    // A negative precision means none.
                    if self.f.prec < 0 {
                        self.f.prec = 0;
                        self.f.prec_present = false;
                    }
                    if !self.f.prec_present {
                        self.write_str("%!(BADPREC)");
                    }
                    after_index = false;
                } else {
                    let (p, ok, next) = parse_num(format, i, end);
                    (self.f.prec, self.f.prec_present, i) = (p, ok, next);
                    if !ok {
                        self.f.prec = 0;
                        self.f.prec_present = true;
                    }
                }
            }

            if !after_index {
                (i, _) = st.arg_number(format, i, a.len());
            }

            if i >= end {
                self.write_str("%!(NOVERB)");
                break;
            }

            let (verb, size) = decode_rune(&format[i..]);
            i += size.max(1);

            if verb == v(b'%') {
                // Takes no operand and ignores width and precision.
                self.write_str("%");
            } else if !st.good_arg_num {
                self.write_str("%!");
                self.write_rune(verb);
                self.write_str("(BADINDEX)");
            } else if st.arg_num >= a.len() {
                self.write_str("%!");
                self.write_rune(verb);
                self.write_str("(MISSING)");
            } else {
                if verb == v(b'v') || verb == v(b'w') {
                    self.set_v_flags();
                }
                self.print_arg(&a[st.arg_num], verb);
                st.arg_num += 1;
            }
        }

        if !st.reordered && st.arg_num < a.len() {
            self.f = Flags::default();
            self.write_str("%!(EXTRA ");
            for (k, arg) in a[st.arg_num..].iter().enumerate() {
                if k > 0 {
                    self.write_str(", ");
                }
                if matches!(arg, Value::Nil | Value::Invalid) {
                    self.write_str("<nil>");
                } else {
                    let t = arg.type_name(self.heap);
                    self.write_str(&t);
                    self.write_str("=");
                    self.print_arg(arg, v(b'v'));
                }
            }
            self.write_str(")");
        }
    }

    /// `%#v` and `%+v` are their own modes, not the `#` and `+` flags.
    fn set_v_flags(&mut self) {
        self.f.sharp_v = self.f.sharp;
        self.f.sharp = false;
        self.f.plus_v = self.f.plus;
        self.f.plus = false;
    }
}
