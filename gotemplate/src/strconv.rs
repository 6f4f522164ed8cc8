//! The parts of Go's `strconv` that printing needs: `FormatFloat` (`float`),
//! `Quote`, `IsPrint` and the UTF-8 steps they take (`quote`). Below `fmt`
//! and `value`, which both print floats.

pub(crate) mod float;
mod isprint_table;
pub(crate) mod quote;

/// `strconv.FormatFloat(v, fmt, prec, 64)` for fmt in `beEfgGxX`.
pub(crate) fn format_float(v: f64, fmt: u8, prec: i64) -> Vec<u8> {
    let mut out = Vec::new();
    float::append_float(&mut out, v, fmt, prec);
    out
}
