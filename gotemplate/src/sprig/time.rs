//! sprig's date functions (date.go). Times are `gotime::GoTime` objects;
//! `format` and `parse` are Go's Format and Parse, `duration` its Duration
//! text, `object` the methods templates call.

mod duration;
mod format;
pub(super) mod gotime;
mod layout;
mod object;
mod parse;

use crate::funcs::{Env, Func, FuncError, Type};
use crate::value::Value;
use duration::{duration_string, parse_duration};
use gotime::{as_time, load_location, time_value, GoTime, Loc};
use parse::parse;

pub(super) const FUNCS: &[Func] = &[
    Func::new("ago", &[Type::Any], ago),
    Func::new("date", &[Type::String, Type::Any], date),
    Func::new(
        "date_in_zone",
        &[Type::String, Type::Any, Type::String],
        date_in_zone,
    ),
    Func::new(
        "dateInZone",
        &[Type::String, Type::Any, Type::String],
        date_in_zone,
    ),
    Func::new("date_modify", &[Type::String, Type::Time], date_modify),
    Func::new("dateModify", &[Type::String, Type::Time], date_modify),
    Func::new(
        "must_date_modify",
        &[Type::String, Type::Time],
        must_date_modify,
    ),
    Func::new(
        "mustDateModify",
        &[Type::String, Type::Time],
        must_date_modify,
    ),
    Func::new("duration", &[Type::Any], duration),
    Func::new("durationRound", &[Type::Any], duration_round),
    Func::new("htmlDate", &[Type::Any], html_date),
    Func::new(
        "htmlDateInZone",
        &[Type::Any, Type::String],
        html_date_in_zone,
    ),
    Func::new("mustToDate", &[Type::String, Type::String], must_to_date),
    Func::new("toDate", &[Type::String, Type::String], to_date),
    Func::new("now", &[], now),
    Func::new("unixEpoch", &[Type::Time], unix_epoch),
];

fn str_arg(args: &[Value], i: usize) -> Result<&[u8], FuncError> {
    args.get(i)
        .and_then(Value::as_bytes)
        .ok_or_else(|| FuncError::reason("wrong type for value; expected string"))
}

fn time_arg(args: &[Value], i: usize) -> Result<&GoTime, FuncError> {
    args.get(i)
        .and_then(as_time)
        .ok_or_else(|| FuncError::reason("wrong type for value; expected time.Time"))
}

/// A `date interface{}` argument: a time, or Unix seconds as int, int32 or
/// int64; anything else is the current time.
fn date_of(v: Option<&Value>) -> GoTime {
    match v {
        Some(Value::Int(s) | Value::Int64(s)) => GoTime::from_unix(*s, 0, Loc::Local),
        Some(Value::Int32(s)) => GoTime::from_unix(i64::from(*s), 0, Loc::Local),
        Some(v) => as_time(v).cloned().unwrap_or_else(GoTime::now),
        None => GoTime::now(),
    }
}

fn in_zone(env: &mut Env<'_>, layout: &[u8], t: &GoTime, zone: &[u8]) -> Result<Value, FuncError> {
    env.charge(layout.len().saturating_mul(8).saturating_add(64))?;
    // sprig falls back to UTC for a zone Go cannot load.
    let loc = load_location(zone).unwrap_or(Loc::Utc);
    Ok(Value::bytes(&t.with_loc(loc).format(layout)))
}

fn date(env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let t = date_of(args.get(1));
    in_zone(env, str_arg(args, 0)?, &t, b"Local")
}

fn date_in_zone(env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let t = date_of(args.get(1));
    in_zone(env, str_arg(args, 0)?, &t, str_arg(args, 2)?)
}

fn html_date(env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let t = date_of(args.first());
    in_zone(env, b"2006-01-02", &t, b"Local")
}

fn html_date_in_zone(env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let t = date_of(args.first());
    in_zone(env, b"2006-01-02", &t, str_arg(args, 1)?)
}

fn date_modify(_env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let t = time_arg(args, 1)?;
    Ok(time_value(match parse_duration(str_arg(args, 0)?) {
        Ok(d) => t.add(d),
        Err(_) => t.clone(),
    }))
}

fn must_date_modify(_env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let t = time_arg(args, 1)?;
    let d = parse_duration(str_arg(args, 0)?).map_err(FuncError::reason)?;
    Ok(time_value(t.add(d)))
}

fn ago(env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    // Unlike `date`, `ago` takes no int32.
    let t = match args.first() {
        Some(Value::Int32(_)) => GoTime::now(),
        v => date_of(v),
    };
    let d = round_second(GoTime::now().sub(&t));
    env.charge(32)?;
    Ok(Value::string(duration_string(d)))
}

/// Go's `Duration.Round(time.Second)`, saturating.
fn round_second(d: i64) -> i64 {
    const M: i64 = 1_000_000_000;
    let r = (d % M).abs();
    let half = |r: i64| (r as u64) + (r as u64) < M as u64;
    if d < 0 {
        if half(r) {
            return d + r;
        }
        d.checked_sub(M - r).unwrap_or(i64::MIN)
    } else {
        if half(r) {
            return d - r;
        }
        d.checked_add(M - r).unwrap_or(i64::MAX)
    }
}

/// Go's `strconv.ParseInt(s, 10, 64)` where sprig ignores the error: 0 for
/// bad syntax, the nearest bound when out of range.
fn parse_int_lenient(s: &[u8]) -> i64 {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return 0;
    }
    let mut n: i128 = 0;
    for &c in digits {
        n = (n * 10 + i128::from(c - b'0')).min(i128::from(u64::MAX));
    }
    let n = if neg { -n } else { n };
    n.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

fn duration(env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let n = match args.first() {
        Some(Value::String(s)) => parse_int_lenient(s),
        Some(Value::Int64(n)) => *n,
        _ => 0,
    };
    env.charge(32)?;
    Ok(Value::string(duration_string(
        n.wrapping_mul(1_000_000_000),
    )))
}

fn duration_round(env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let d = match args.first() {
        Some(Value::String(s)) => parse_duration(s).unwrap_or(0),
        Some(Value::Int64(n)) => *n,
        Some(v) => as_time(v).map_or(0, |t| GoTime::now().sub(t)),
        None => 0,
    };
    let u = d.unsigned_abs();
    const SECOND: u64 = 1_000_000_000;
    const HOUR: u64 = 3600 * SECOND;
    let text = [
        (HOUR * 24 * 365, "y"),
        (HOUR * 24 * 30, "mo"),
        (HOUR * 24, "d"),
        (HOUR, "h"),
        (60 * SECOND, "m"),
        (SECOND, "s"),
    ]
    .iter()
    .find(|(unit, _)| u > *unit)
    .map_or_else(
        || "0s".to_string(),
        |(unit, name)| format!("{}{name}", u / unit),
    );
    env.charge(32)?;
    Ok(Value::string(text))
}

fn to_date(_env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let t = parse(str_arg(args, 0)?, str_arg(args, 1)?)
        .unwrap_or_else(|_| GoTime::from_unix(-UNIX_TO_YEAR_ONE, 0, Loc::Utc));
    Ok(time_value(t))
}

/// Unix seconds of January 1, year 1: Go's zero Time.
const UNIX_TO_YEAR_ONE: i64 = 62_135_596_800;

fn must_to_date(_env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let t = parse(str_arg(args, 0)?, str_arg(args, 1)?).map_err(FuncError::reason)?;
    Ok(time_value(t))
}

fn now(_env: &mut Env<'_>, _args: &[Value]) -> Result<Value, FuncError> {
    Ok(time_value(GoTime::now()))
}

fn unix_epoch(_env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::string(time_arg(args, 0)?.unix().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sprig::testing::{call, s};
    use crate::value::Heap;

    /// Strings as they are, objects as `%v` prints them.
    fn show(v: Result<Value, FuncError>) -> String {
        match v {
            Ok(Value::String(b)) => String::from_utf8_lossy(&b).into_owned(),
            Ok(Value::Object(o)) => {
                String::from_utf8_lossy(&o.format(&Heap::default())).into_owned()
            }
            Ok(Value::Int(i) | Value::Int64(i)) => i.to_string(),
            other => panic!("{other:?}"),
        }
    }

    fn go(name: &str, args: &[Value]) -> String {
        show(call(name, args))
    }

    fn err(name: &str, args: &[Value]) -> String {
        match call(name, args) {
            Err(FuncError::Reason(r)) => r.into_owned(),
            other => panic!("{other:?}"),
        }
    }

    fn to_date(layout: &str, value: &str) -> Value {
        call("toDate", &[s(layout), s(value)]).unwrap()
    }

    fn method(v: &Value, name: &str, args: &[Value]) -> String {
        let Value::Object(o) = v else { panic!() };
        let mut heap = Heap::default();
        let mut budget = crate::funcs::Budget::new(1 << 20, None);
        let mut env = Env {
            heap: &mut heap,
            budget: &mut budget,
        };
        show(o.method(&mut env, name, args).unwrap())
    }

    fn int(i: i64) -> Value {
        Value::Int(i)
    }

    #[test]
    fn formats_like_go() {
        let all = "2006-01-02 15:04:05.000 Mon Jan MST -0700 Z07:00 PM pm 3 03 _2 __2 002 .999";
        assert_eq!(
            go("date", &[s(all), int(1_700_000_000)]),
            "2023-11-14 22:13:20.000 Tue Nov UTC +0000 Z PM pm 10 10 14 318 318 "
        );
        let more = "Monday January 2 06 1 01 4 04 5 05 ,000000 .9 -07 -07:00:00 Z070000";
        assert_eq!(
            go("date", &[s(more), int(0)]),
            "Thursday January 1 70 1 01 0 00 0 00 ,000000  +00 +00:00:00 Z"
        );
        assert_eq!(
            go(
                "date",
                &[
                    s("Jan Janx January Mon Monx MST Z07 2 _2 __2"),
                    int(1_700_000_000)
                ]
            ),
            "Nov Janx November Tue Monx UTC Z 14 14 318"
        );
        assert_eq!(
            go(
                "date",
                &[s("2006-01-02T15:04:05Z07:00"), int(-62_135_596_800)]
            ),
            "0001-01-01T00:00:00Z"
        );
        assert_eq!(go("date", &[s("2006"), int(-62_135_596_801)]), "0000");
        assert_eq!(
            go("date", &[s("2006-01-02"), Value::Int64(-99_999_999_999)]),
            "-1199-02-15"
        );
        assert_eq!(go("htmlDate", &[Value::Int32(1_700_000_000)]), "2023-11-14");
        assert_eq!(go("htmlDate", &[s("x")]).len(), 10);
    }

    #[test]
    fn zones_like_go() {
        let z = |t: i64, layout: &str, zone: &str| go("dateInZone", &[s(layout), int(t), s(zone)]);
        let l = "2006-01-02 15:04:05 MST -0700";
        assert_eq!(
            z(1_700_000_000, l, "America/New_York"),
            "2023-11-14 17:13:20 EST -0500"
        );
        assert_eq!(
            z(1_690_000_000, l, "America/New_York"),
            "2023-07-22 00:26:40 EDT -0400"
        );
        assert_eq!(
            z(
                1_700_000_000,
                "2006-01-02 15:04:05 MST Z07:00",
                "Asia/Kolkata"
            ),
            "2023-11-15 03:43:20 IST +05:30"
        );
        let l = "2006-01-02 15:04:05 MST";
        for bad in [
            "Nope/Zone",
            "america/new_york",
            "Local",
            "../etc/passwd",
            "",
        ] {
            assert_eq!(z(1_700_000_000, l, bad), "2023-11-14 22:13:20 UTC");
        }
        assert_eq!(
            z(4_102_444_800, l, "Europe/London"),
            "2100-01-01 00:00:00 GMT"
        );
        assert_eq!(
            z(4_118_083_200, l, "Europe/London"),
            "2100-07-01 01:00:00 BST"
        );
        assert_eq!(
            z(1_700_000_000, "2006-01-02 MST", "Asia/Riyadh"),
            "2023-11-15 +03"
        );
        assert_eq!(
            go(
                "htmlDateInZone",
                &[int(1_700_000_000), s("Pacific/Kiritimati")]
            ),
            "2023-11-15"
        );
    }

    #[test]
    fn parses_like_go() {
        let t = |l: &str, v: &str| show(Ok(to_date(l, v)));
        assert_eq!(
            t("2006-01-02", "2024-02-29"),
            "2024-02-29 00:00:00 +0000 UTC"
        );
        assert_eq!(
            t(
                "2006-01-02 15:04:05.000 -0700",
                "2024-02-29 13:14:15.123 +0530"
            ),
            "2024-02-29 13:14:15.123 +0530 +0530"
        );
        assert_eq!(
            t("2006-01-02 15:04:05 MST", "2024-02-29 13:14:15 PST"),
            "2024-02-29 13:14:15 +0000 PST"
        );
        assert_eq!(
            t("2006-01-02 15:04:05 MST", "2024-02-29 13:14:15 GMT+3"),
            "2024-02-29 16:14:15 +0300 GMT+3"
        );
        assert_eq!(
            t("2006-01-02 15:04:05 Z07:00", "2024-02-29 13:14:15 Z"),
            "2024-02-29 13:14:15 +0000 UTC"
        );
        assert_eq!(
            t("2006-01-02 15:04:05 -07:00", "2024-02-29 13:14:15 +00:00"),
            "2024-02-29 13:14:15 +0000 UTC"
        );
        assert_eq!(
            t("2006-01-02 15:04:05", "2024-02-29 13:14:15.987654321"),
            "2024-02-29 13:14:15.987654321 +0000 UTC"
        );
        assert_eq!(
            t("2006-01-02", "2023-02-29"),
            "0001-01-01 00:00:00 +0000 UTC"
        );
        assert_eq!(
            t("Jan _2 2006 3:04PM", "feb  3 2021 12:30AM"),
            "2021-02-03 00:30:00 +0000 UTC"
        );
        assert_eq!(t("2006 002", "2024 060"), "2024-02-29 00:00:00 +0000 UTC");
        assert_eq!(t("2006 MST", "2020 CEST"), "2020-01-01 00:00:00 +0000 CEST");
        assert_eq!(t("2006 -07", "2020 -00"), "2020-01-01 00:00:00 +0000 UTC");
        assert_eq!(t("x", "y"), "0001-01-01 00:00:00 +0000 UTC");
        assert_eq!(go("date", &[s("2006"), to_date("x", "y")]), "0001");

        let e = |v: &str| err("mustToDate", &[s("2006-01-02"), s(v)]);
        assert_eq!(e("2023-13-01"), "parsing time: month out of range");
        assert_eq!(e("2023-02-30"), "parsing time: day out of range");
        assert_eq!(e("2023-02-01x"), "parsing time: extra text");
        assert_eq!(e("20x"), "parsing time: cannot parse");
    }

    #[test]
    fn methods() {
        let t = to_date("2006-01-02", "2024-02-29");
        assert_eq!(method(&t, "Month", &[]), "February");
        assert_eq!(method(&t, "Weekday", &[]), "Thursday");
        assert_eq!(
            method(&to_date("2006-01-02", "2024-03-01"), "YearDay", &[]),
            "61"
        );
        assert_eq!(method(&t, "Unix", &[]), "1709164800");
        assert_eq!(method(&t, "Format", &[s("Jan 2, 2006")]), "Feb 29, 2024");
        let later = call("dateModify", &[s("25h"), t.clone()]).unwrap();
        assert_eq!(method(&later, "Day", &[]), "1");
        assert_eq!(method(&later, "Hour", &[]), "1");
        assert_eq!(
            method(&t, "AddDate", &[int(0), int(12), int(0)]),
            "2025-03-01 00:00:00 +0000 UTC"
        );
    }

    #[test]
    fn modify_and_durations() {
        let t = to_date("2006-01-02", "2024-02-29");
        assert_eq!(go("unixEpoch", std::slice::from_ref(&t)), "1709164800");
        assert_eq!(
            go("dateModify", &[s("1h30m"), t.clone()]),
            "2024-02-29 01:30:00 +0000 UTC"
        );
        assert_eq!(
            go("dateModify", &[s("bad"), t.clone()]),
            "2024-02-29 00:00:00 +0000 UTC"
        );
        let back = call("dateModify", &[s("-1.5h"), t.clone()]).unwrap();
        assert_eq!(
            go("date", &[s("2006-01-02 15:04"), back]),
            "2024-02-28 22:30"
        );
        assert_eq!(
            err("mustDateModify", &[s("1x"), t.clone()]),
            "time: unknown unit in duration"
        );
        assert_eq!(
            err("mustDateModify", &[s(""), t.clone()]),
            "time: invalid duration"
        );
        assert_eq!(
            err("mustDateModify", &[s("5"), t.clone()]),
            "time: missing unit in duration"
        );
        let y = to_date("2006", "2020");
        assert_eq!(
            go("dateModify", &[s("1.5µs"), y.clone()]),
            "2020-01-01 00:00:00.0000015 +0000 UTC"
        );
        assert_eq!(
            go("dateModify", &[s("1.000000001s"), y]),
            "2020-01-01 00:00:01.000000001 +0000 UTC"
        );

        let d = |v: Value| go("duration", &[v]);
        assert_eq!(d(s("3661")), "1h1m1s");
        assert_eq!(d(int(60)), "0s");
        assert_eq!(d(s("x")), "0s");
        assert_eq!(d(s("-1")), "-1s");
        assert_eq!(d(s("99999999999999999999")), "-1s");
        assert_eq!(d(Value::Int64(90061)), "25h1m1s");

        let r = |v: Value| go("durationRound", &[v]);
        assert_eq!(r(s("2h10m")), "2h");
        assert_eq!(r(s("-3h")), "3h");
        assert_eq!(r(Value::Int64(1_000_000_000)), "0s");
        assert_eq!(r(s("400d")), "0s");
        assert_eq!(r(s("800h")), "1mo");
        assert_eq!(r(s("x")), "0s");
        assert_eq!(r(s("1.5s")), "1s");
    }

    #[test]
    fn now_and_ago() {
        let n = go("now", &[]);
        assert!(n.contains(" +0000 UTC m=+"), "{n}");
        // Hours since 1970, then minutes and seconds: "493020h4m5s".
        let since_epoch = go("ago", &[int(0)]);
        let hours = since_epoch.split('h').next().unwrap_or_default();
        assert!(
            hours.parse::<u64>().is_ok_and(|h| h > 400_000),
            "{since_epoch}"
        );
        assert!(since_epoch.ends_with('s'), "{since_epoch}");
        let earlier = call("dateModify", &[s("-90s"), call("now", &[]).unwrap()]).unwrap();
        assert_eq!(go("ago", &[earlier]), "1m30s");
        let later = call("dateModify", &[s("1h"), call("now", &[]).unwrap()]).unwrap();
        assert!(go("unixEpoch", &[later]).len() >= 10);
    }
}
