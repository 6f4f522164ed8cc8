//! The methods templates call on `time.Time`, `time.Month`, `time.Weekday`
//! and `time.Duration`, and how `fmt` and reflection see those values: the
//! named integer types are integers with a `String()` method, `time.Time`
//! is a struct of `wall`, `ext` and `loc` with `String()` and `GoString()`.

use std::rc::Rc;

use super::duration::duration_string;
use super::gotime::{as_time, time_value, GoTime, Loc, WALL_TO_INTERNAL};
use super::layout::{month_name, weekday_name};
use crate::funcs::{Env, FuncError};
use crate::sprig::args::want_args;
use crate::value::{Heap, Kind, Object, Pointer, Value};

const HOUR: i64 = 3_600_000_000_000;
const MINUTE: i64 = 60_000_000_000;
const SECOND: i64 = 1_000_000_000;

/// `time.Month`, `time.Weekday` and `time.Duration`: integers that print by name.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Named {
    Month(i64),
    Weekday(i64),
    Duration(i64),
}

impl Named {
    fn value(self) -> i64 {
        match self {
            Named::Month(v) | Named::Weekday(v) | Named::Duration(v) => v,
        }
    }

    /// The `String()` method.
    fn string(self) -> String {
        match self {
            Named::Month(m) if (1..=12).contains(&m) => month_name(m).to_string(),
            Named::Month(m) => format!("%!Month({})", m as u64),
            Named::Weekday(d) if (0..=6).contains(&d) => weekday_name(d).to_string(),
            Named::Weekday(d) => format!("%!Weekday({})", d as u64),
            Named::Duration(d) => duration_string(d),
        }
    }
}

pub(super) fn named(n: Named) -> Value {
    Value::Object(Rc::new(n))
}

/// Go's `lessThanHalf`.
fn less_than_half(x: i64, y: i64) -> bool {
    (x as u64).wrapping_add(x as u64) < y as u64
}

/// `Duration.Round`.
fn duration_round(d: i64, m: i64) -> i64 {
    if m <= 0 {
        return d;
    }
    let mut r = d % m;
    if d < 0 {
        r = -r;
        if less_than_half(r, m) {
            return d + r;
        }
        // Go's wrapping arithmetic, checked for overflow afterwards.
        let d1 = d.wrapping_sub(m).wrapping_add(r);
        return if d1 < d { d1 } else { i64::MIN };
    }
    if less_than_half(r, m) {
        return d - r;
    }
    let d1 = d.wrapping_add(m).wrapping_sub(r);
    if d1 > d {
        d1
    } else {
        i64::MAX
    }
}

/// `Duration.Hours`, `Minutes` and `Seconds`: whole units plus the fraction,
/// as Go computes them.
fn in_units(d: i64, unit: i64) -> f64 {
    (d / unit) as f64 + (d % unit) as f64 / unit as f64
}

/// A `time.Duration` argument: a Duration, or an integer constant.
fn duration_arg(name: &str, args: &[Value]) -> Result<i64, FuncError> {
    want_args(name, args, 1)?;
    match &args[0] {
        Value::Int(i) | Value::Int64(i) => Ok(*i),
        // An integral constant written as a float (`1e9`) is an integer to Go.
        Value::Float64(f)
            if f.fract() == 0.0 && (-9.223372036854776e18..9.223372036854776e18).contains(f) =>
        {
            Ok(*f as i64)
        }
        Value::Object(o) if o.type_name() == "time.Duration" => Ok(o.int_value().unwrap_or(0)),
        Value::Invalid | Value::Nil => {
            Err(FuncError::reason("invalid value; expected time.Duration"))
        }
        other => Err(FuncError::reason(format!(
            "wrong type for value; expected time.Duration; got {}",
            other.type_name(&Heap::default())
        ))),
    }
}

impl Object for Named {
    fn type_name(&self) -> &'static str {
        match self {
            Named::Month(_) => "time.Month",
            Named::Weekday(_) => "time.Weekday",
            Named::Duration(_) => "time.Duration",
        }
    }
    fn kind(&self) -> Kind {
        match self {
            Named::Duration(_) => Kind::Int64,
            _ => Kind::Int,
        }
    }
    fn method(
        &self,
        _env: &mut Env<'_>,
        name: &str,
        args: &[Value],
    ) -> Option<Result<Value, FuncError>> {
        let d = self.value();
        let is_duration = matches!(self, Named::Duration(_));
        let result = match name {
            "String" => Value::string(self.string()),
            "Round" | "Truncate" if is_duration => {
                return Some(duration_arg(name, args).map(|m| {
                    named(Named::Duration(if name == "Round" {
                        duration_round(d, m)
                    } else if m <= 0 {
                        d
                    } else {
                        d - d % m
                    }))
                }))
            }
            "Hours" if is_duration => Value::Float64(in_units(d, HOUR)),
            "Minutes" if is_duration => Value::Float64(in_units(d, MINUTE)),
            "Seconds" if is_duration => Value::Float64(in_units(d, SECOND)),
            "Milliseconds" if is_duration => Value::Int64(d / 1_000_000),
            "Microseconds" if is_duration => Value::Int64(d / 1_000),
            "Nanoseconds" if is_duration => Value::Int64(d),
            "Abs" if is_duration => named(Named::Duration(match d {
                i64::MIN => i64::MAX,
                d => d.abs(),
            })),
            _ => return None,
        };
        Some(want_args(name, args, 0).map(|()| result))
    }
    fn format(&self, _heap: &Heap) -> Vec<u8> {
        self.string().into_bytes()
    }
    fn int_value(&self) -> Option<i64> {
        Some(self.value())
    }
    fn with_int_value(&self, i: i64) -> Option<Value> {
        Some(named(match self {
            Named::Month(_) => Named::Month(i),
            Named::Weekday(_) => Named::Weekday(i),
            Named::Duration(_) => Named::Duration(i),
        }))
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn equals(&self, other: &dyn Object) -> bool {
        other.as_any().downcast_ref::<Named>() == Some(self)
    }
}

impl GoTime {
    /// `Time.Round` and `Time.Truncate`.
    fn round_or_truncate(&self, d: i64, round: bool) -> GoTime {
        let t = GoTime {
            mono: None,
            ..self.clone()
        };
        if d <= 0 {
            return t;
        }
        // Go's `div`: the remainder of the time since year 1 by d, in [0, d).
        let total = i128::from(t.sec) * i128::from(SECOND) + i128::from(t.nsec);
        let r = total.rem_euclid(i128::from(d)) as i64;
        if !round || less_than_half(r, d) {
            t.add(-r)
        } else {
            t.add(d - r)
        }
    }

    /// `Time.GoString`.
    fn go_string(&self) -> Vec<u8> {
        let abs = self.abs();
        let (year, month, day) = abs.date();
        let (hour, min, sec) = abs.clock();
        let month = if (1..=12).contains(&month) {
            format!("time.{}", month_name(month))
        } else {
            month.to_string()
        };
        let loc = match &self.loc {
            Loc::Utc => "time.UTC".to_string(),
            Loc::Local => "time.Local".to_string(),
            other => format!("time.Location({})", time_quote(&other.name())),
        };
        format!(
            "time.Date({year}, {month}, {day}, {hour}, {min}, {sec}, {}, {loc})",
            self.nsec
        )
        .into_bytes()
    }
}

/// The time package's own `quote`: non-ASCII and control bytes as `\xNN`.
fn time_quote(s: &[u8]) -> String {
    let mut out = String::from("\"");
    let mut i = 0;
    while i < s.len() {
        let (c, width) = crate::fmt::decode_rune(&s[i..]);
        let width = width.max(1);
        if !(0x20..0x80).contains(&c) {
            for b in &s[i..(i + width).min(s.len())] {
                out.push_str(&format!("\\x{b:02x}"));
            }
        } else {
            if c == u32::from(b'"') || c == u32::from(b'\\') {
                out.push('\\');
            }
            out.push(char::from(s[i]));
        }
        i += width;
    }
    out.push('"');
    out
}

impl Object for GoTime {
    fn type_name(&self) -> &'static str {
        "time.Time"
    }
    fn kind(&self) -> Kind {
        Kind::Struct
    }
    fn method(
        &self,
        env: &mut Env<'_>,
        name: &str,
        args: &[Value],
    ) -> Option<Result<Value, FuncError>> {
        let int = |i: usize| args.get(i).and_then(Value::as_i64);
        let want = |n: usize| want_args(name, args, n);
        let abs = self.abs();
        let result = (|| {
            Ok(match name {
                "Unix" => Value::Int64(self.unix()),
                "UnixNano" => Value::Int64(self.unix_nano()),
                "UnixMilli" => Value::Int64(
                    self.unix()
                        .wrapping_mul(1000)
                        .wrapping_add(i64::from(self.nsec / 1_000_000)),
                ),
                "UnixMicro" => Value::Int64(
                    self.unix()
                        .wrapping_mul(1_000_000)
                        .wrapping_add(i64::from(self.nsec / 1000)),
                ),
                "Year" => Value::Int(abs.date().0),
                "Month" => named(Named::Month(abs.date().1)),
                "Day" => Value::Int(abs.date().2),
                "YearDay" => Value::Int(abs.yday()),
                "Weekday" => named(Named::Weekday(abs.weekday())),
                "Hour" => Value::Int(abs.clock().0),
                "Minute" => Value::Int(abs.clock().1),
                "Second" => Value::Int(abs.clock().2),
                "Nanosecond" => Value::Int(i64::from(self.nsec)),
                "IsZero" => Value::Bool(self.sec == 0 && self.nsec == 0),
                "UTC" => time_value(self.with_loc(Loc::Utc)),
                "Local" => time_value(self.with_loc(Loc::Local)),
                "Add" => time_value(self.add(duration_arg(name, args)?)),
                "Round" | "Truncate" => {
                    let d = duration_arg(name, args)?;
                    time_value(self.round_or_truncate(d, name == "Round"))
                }
                "String" => Value::bytes(&self.string()),
                "GoString" => Value::bytes(&self.go_string()),
                "Location" => Value::bytes(&self.loc.name()),
                "Format" => {
                    want(1)?;
                    let layout = args[0].as_bytes().ok_or_else(|| {
                        FuncError::reason("wrong type for value; expected string")
                    })?;
                    env.charge(layout.len().saturating_mul(8).saturating_add(64))?;
                    Value::bytes(&self.format(layout))
                }
                "AddDate" => {
                    want(3)?;
                    match (int(0), int(1), int(2)) {
                        (Some(y), Some(m), Some(d)) => time_value(self.add_date(y, m, d)),
                        _ => return Err(FuncError::reason("wrong type for value; expected int")),
                    }
                }
                "Before" | "After" | "Equal" | "Sub" | "Compare" => {
                    want(1)?;
                    let other = as_time(&args[0]).ok_or_else(|| {
                        FuncError::reason("wrong type for value; expected time.Time")
                    })?;
                    let ord = (self.sec, self.nsec).cmp(&(other.sec, other.nsec));
                    match name {
                        "Before" => Value::Bool(ord.is_lt()),
                        "After" => Value::Bool(ord.is_gt()),
                        "Equal" => Value::Bool(ord.is_eq()),
                        "Compare" => Value::Int(ord as i64),
                        _ => named(Named::Duration(self.sub(other))),
                    }
                }
                _ => return Err(FuncError::reason("")),
            })
        })();
        match result {
            Err(FuncError::Reason(r)) if r.is_empty() => None,
            other => Some(other),
        }
    }
    fn format(&self, _heap: &Heap) -> Vec<u8> {
        self.string()
    }
    fn go_string(&self) -> Option<Vec<u8>> {
        Some(GoTime::go_string(self))
    }
    /// `wall`, `ext` and `loc` as Go encodes them (UTC is a nil `loc`).
    fn fields(&self) -> Option<Vec<(&'static str, Value)>> {
        let nsec = u64::from(self.nsec);
        let (wall, ext) = match self.mono {
            Some(m) => {
                let secs = self.sec.wrapping_sub(WALL_TO_INTERNAL) as u64;
                ((1 << 63) | secs << 30 | nsec, m)
            }
            None => (nsec, self.sec),
        };
        let loc = Pointer {
            type_name: "*time.Location",
            nil: matches!(self.loc, Loc::Utc),
        };
        Some(vec![
            ("wall", Value::Uint64(wall)),
            ("ext", Value::Int64(ext)),
            ("loc", Value::Object(Rc::new(loc))),
        ])
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn equals(&self, other: &dyn Object) -> bool {
        // Go's == on Time compares the wall clock, the monotonic reading and the Location pointer.
        other.as_any().downcast_ref::<GoTime>().is_some_and(|o| {
            o.sec == self.sec
                && o.nsec == self.nsec
                && o.mono == self.mono
                && matches!(o.loc, Loc::Local) == matches!(self.loc, Loc::Local)
                && o.loc.name() == self.loc.name()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_and_convert_as_go() {
        let h = HOUR;
        assert_eq!(duration_round(35 * h + 31 * MINUTE, h), 36 * h);
        assert_eq!(duration_round(35 * h + 29 * MINUTE, h), 35 * h);
        assert_eq!(duration_round(-(35 * h + 30 * MINUTE), h), -36 * h);
        assert_eq!(duration_round(i64::MAX, 2 * h), i64::MAX);
        assert_eq!(duration_round(i64::MIN, 2 * h), i64::MIN);
        assert_eq!(duration_round(7, 0), 7);
        assert_eq!(in_units(90 * MINUTE, HOUR), 1.5);
        assert_eq!(in_units(-90 * SECOND, MINUTE), -1.5);
        assert_eq!(Named::Month(0).string(), "%!Month(0)");
        assert_eq!(
            Named::Weekday(-1).string(),
            "%!Weekday(18446744073709551615)"
        );
        assert_eq!(Named::Duration(86_400 * SECOND).string(), "24h0m0s");
    }

    #[test]
    fn location_names_quote_as_the_time_package() {
        assert_eq!(time_quote(b"Europe/Berlin"), "\"Europe/Berlin\"");
        assert_eq!(
            time_quote("a\"é\u{1}".as_bytes()),
            "\"a\\\"\\xc3\\xa9\\x01\""
        );
        assert_eq!(time_quote(b"\xff"), "\"\\xff\"");
    }
}
