//! Go's reference-layout formatting (`time.Format`) and `time.Duration`'s text form, byte for byte.

use super::gotime::GoTime;
use super::timeparse::leading_int;

/// One element of a layout ("2006", "Jan", ".000", "Z07:00", ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Std {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    PM,
    Pm,
    Tz,
    Iso8601Tz,
    Iso8601SecondsTz,
    Iso8601ShortTz,
    Iso8601ColonTz,
    Iso8601ColonSecondsTz,
    NumTz,
    NumSecondsTz,
    NumShortTz,
    NumColonTz,
    NumColonSecondsTz,
    /// `.000` (digits, separator `.` or `,`): exactly that many digits.
    Frac0(usize, u8),
    /// `.999`: trailing zeros dropped.
    Frac9(usize, u8),
}

pub(super) const LONG_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
pub(super) const LONG_DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

pub(super) fn month_name(m: i64) -> &'static str {
    usize::try_from(m - 1)
        .ok()
        .and_then(|i| LONG_MONTHS.get(i))
        .copied()
        .unwrap_or("%!Month")
}

pub(super) fn weekday_name(d: i64) -> &'static str {
    usize::try_from(d)
        .ok()
        .and_then(|i| LONG_DAYS.get(i))
        .copied()
        .unwrap_or("%!Weekday")
}

pub(super) fn digit_at(s: &[u8], i: usize) -> bool {
    s.get(i).is_some_and(u8::is_ascii_digit)
}

/// Go's `nextStdChunk`: the literal prefix, the element, the rest.
pub(super) fn next_chunk(layout: &[u8]) -> (&[u8], Option<(Std, &[u8])>) {
    let at = |i: usize, s: &str| layout.get(i..i + s.len()) == Some(s.as_bytes());
    for i in 0..layout.len() {
        let rest = |n: usize| &layout[i + n..];
        let hit = |std: Std, n: usize| (&layout[..i], Some((std, &layout[i + n..])));
        let lower_next = |n: usize| layout.get(i + n).is_some_and(u8::is_ascii_lowercase);
        match layout[i] {
            b'J' if at(i, "Jan") => {
                if at(i, "January") {
                    return hit(Std::LongMonth, 7);
                }
                if !lower_next(3) {
                    return hit(Std::Month, 3);
                }
            }
            b'M' => {
                if at(i, "Mon") {
                    if at(i, "Monday") {
                        return hit(Std::LongWeekDay, 6);
                    }
                    if !lower_next(3) {
                        return hit(Std::WeekDay, 3);
                    }
                }
                if at(i, "MST") {
                    return hit(Std::Tz, 3);
                }
            }
            b'0' => {
                if let Some(c @ b'1'..=b'6') = layout.get(i + 1) {
                    let std = [
                        Std::ZeroMonth,
                        Std::ZeroDay,
                        Std::ZeroHour12,
                        Std::ZeroMinute,
                        Std::ZeroSecond,
                        Std::Year,
                    ][usize::from(c - b'1')];
                    return hit(std, 2);
                }
                if at(i, "002") {
                    return hit(Std::ZeroYearDay, 3);
                }
            }
            b'1' => {
                if at(i, "15") {
                    return hit(Std::Hour, 2);
                }
                return hit(Std::NumMonth, 1);
            }
            b'2' => {
                if at(i, "2006") {
                    return hit(Std::LongYear, 4);
                }
                return hit(Std::Day, 1);
            }
            b'_' => {
                if at(i, "_2") {
                    // "_2006" is a literal "_" then the year.
                    if at(i + 1, "2006") {
                        return (&layout[..i + 1], Some((Std::LongYear, rest(5))));
                    }
                    return hit(Std::UnderDay, 2);
                }
                if at(i, "__2") {
                    return hit(Std::UnderYearDay, 3);
                }
            }
            b'3' => return hit(Std::Hour12, 1),
            b'4' => return hit(Std::Minute, 1),
            b'5' => return hit(Std::Second, 1),
            b'P' if at(i, "PM") => return hit(Std::PM, 2),
            b'p' if at(i, "pm") => return hit(Std::Pm, 2),
            b'-' => {
                for (s, std) in [
                    ("-070000", Std::NumSecondsTz),
                    ("-07:00:00", Std::NumColonSecondsTz),
                    ("-0700", Std::NumTz),
                    ("-07:00", Std::NumColonTz),
                    ("-07", Std::NumShortTz),
                ] {
                    if at(i, s) {
                        return hit(std, s.len());
                    }
                }
            }
            b'Z' => {
                for (s, std) in [
                    ("Z070000", Std::Iso8601SecondsTz),
                    ("Z07:00:00", Std::Iso8601ColonSecondsTz),
                    ("Z0700", Std::Iso8601Tz),
                    ("Z07:00", Std::Iso8601ColonTz),
                    ("Z07", Std::Iso8601ShortTz),
                ] {
                    if at(i, s) {
                        return hit(std, s.len());
                    }
                }
            }
            sep @ (b'.' | b',') => {
                if let Some(&ch @ (b'0' | b'9')) = layout.get(i + 1) {
                    let mut j = i + 1;
                    while layout.get(j) == Some(&ch) {
                        j += 1;
                    }
                    if !digit_at(layout, j) {
                        // Go keeps the count in 12 bits.
                        let n = (j - i - 1) & 0xfff;
                        let std = if ch == b'0' {
                            Std::Frac0(n, sep)
                        } else {
                            Std::Frac9(n, sep)
                        };
                        return (&layout[..i], Some((std, &layout[j..])));
                    }
                }
            }
            _ => {}
        }
    }
    (layout, None)
}

/// Go's `appendInt`: sign, then zero-padded to `width` digits.
fn push_int(b: &mut Vec<u8>, x: i64, width: usize) {
    if x < 0 {
        b.push(b'-');
    }
    let digits = x.unsigned_abs().to_string();
    for _ in digits.len()..width {
        b.push(b'0');
    }
    b.extend_from_slice(digits.as_bytes());
}

impl GoTime {
    /// Go's `Time.Format`.
    pub(super) fn format(&self, mut layout: &[u8]) -> Vec<u8> {
        let (name, offset, abs) = self.locabs();
        let (year, month, day) = abs.date();
        let yday = abs.yday();
        let (hour, min, sec) = abs.clock();
        let mut b = Vec::with_capacity(layout.len() + 16);
        loop {
            let (prefix, chunk) = next_chunk(layout);
            b.extend_from_slice(prefix);
            let Some((std, rest)) = chunk else { break };
            layout = rest;
            match std {
                Std::Year => push_int(&mut b, (year % 100).abs(), 2),
                Std::LongYear => push_int(&mut b, year, 4),
                Std::Month => b.extend_from_slice(&month_name(month).as_bytes()[..3]),
                Std::LongMonth => b.extend_from_slice(month_name(month).as_bytes()),
                Std::NumMonth => push_int(&mut b, month, 0),
                Std::ZeroMonth => push_int(&mut b, month, 2),
                Std::WeekDay => b.extend_from_slice(&weekday_name(abs.weekday()).as_bytes()[..3]),
                Std::LongWeekDay => b.extend_from_slice(weekday_name(abs.weekday()).as_bytes()),
                Std::Day => push_int(&mut b, day, 0),
                Std::UnderDay => {
                    if day < 10 {
                        b.push(b' ');
                    }
                    push_int(&mut b, day, 0);
                }
                Std::ZeroDay => push_int(&mut b, day, 2),
                Std::UnderYearDay => {
                    if yday < 100 {
                        b.push(b' ');
                        if yday < 10 {
                            b.push(b' ');
                        }
                    }
                    push_int(&mut b, yday, 0);
                }
                Std::ZeroYearDay => push_int(&mut b, yday, 3),
                Std::Hour => push_int(&mut b, hour, 2),
                Std::Hour12 | Std::ZeroHour12 => {
                    let hr = match hour % 12 {
                        0 => 12,
                        h => h,
                    };
                    push_int(&mut b, hr, if std == Std::Hour12 { 0 } else { 2 });
                }
                Std::Minute => push_int(&mut b, min, 0),
                Std::ZeroMinute => push_int(&mut b, min, 2),
                Std::Second => push_int(&mut b, sec, 0),
                Std::ZeroSecond => push_int(&mut b, sec, 2),
                Std::PM => b.extend_from_slice(if hour >= 12 { b"PM" } else { b"AM" }),
                Std::Pm => b.extend_from_slice(if hour >= 12 { b"pm" } else { b"am" }),
                Std::Tz => {
                    if !name.is_empty() {
                        b.extend_from_slice(name.as_bytes());
                    } else {
                        let zone = offset / 60;
                        b.push(if zone < 0 { b'-' } else { b'+' });
                        push_int(&mut b, zone.abs() / 60, 2);
                        push_int(&mut b, zone.abs() % 60, 2);
                    }
                }
                Std::Frac0(n, sep) | Std::Frac9(n, sep) => {
                    let trim = matches!(std, Std::Frac9(..));
                    let nsec = self.nsec;
                    if trim && (n == 0 || nsec == 0) {
                        continue;
                    }
                    let mut digits = format!("{nsec:09}").into_bytes();
                    digits.truncate(n.min(9));
                    if trim {
                        while digits.last() == Some(&b'0') {
                            digits.pop();
                        }
                        if digits.is_empty() {
                            continue;
                        }
                    }
                    b.push(sep);
                    b.extend_from_slice(&digits);
                }
                _ => format_offset(&mut b, std, offset),
            }
        }
        b
    }
}

fn format_offset(b: &mut Vec<u8>, std: Std, offset: i64) {
    use Std::*;
    let iso = matches!(
        std,
        Iso8601Tz | Iso8601ColonTz | Iso8601SecondsTz | Iso8601ShortTz | Iso8601ColonSecondsTz
    );
    if offset == 0 && iso {
        b.push(b'Z');
        return;
    }
    let zone = offset / 60;
    b.push(if zone < 0 { b'-' } else { b'+' });
    let (zone, abs_offset) = (zone.abs(), offset.abs());
    push_int(b, zone / 60, 2);
    let colon = matches!(
        std,
        Iso8601ColonTz | NumColonTz | Iso8601ColonSecondsTz | NumColonSecondsTz
    );
    if colon {
        b.push(b':');
    }
    if !matches!(std, NumShortTz | Iso8601ShortTz) {
        push_int(b, zone % 60, 2);
    }
    if matches!(
        std,
        Iso8601SecondsTz | NumSecondsTz | NumColonSecondsTz | Iso8601ColonSecondsTz
    ) {
        if matches!(std, NumColonSecondsTz | Iso8601ColonSecondsTz) {
            b.push(b':');
        }
        push_int(b, abs_offset % 60, 2);
    }
}

/// Go's `Duration.String()`.
pub(super) fn duration_string(d: i64) -> String {
    let mut u = d.unsigned_abs();
    let mut out: Vec<u8> = Vec::with_capacity(24);
    // Built backwards, as Go does.
    let frac = |out: &mut Vec<u8>, v: &mut u64, prec: usize| {
        let mut print = false;
        for _ in 0..prec {
            let digit = *v % 10;
            print = print || digit != 0;
            if print {
                out.push(b'0' + digit as u8);
            }
            *v /= 10;
        }
        if print {
            out.push(b'.');
        }
    };
    let int = |out: &mut Vec<u8>, v: u64| {
        out.extend(v.to_string().bytes().rev());
    };
    if u < 1_000_000_000 {
        out.push(b's');
        let prec = match u {
            0 => return "0s".into(),
            1..=999 => {
                out.push(b'n');
                0
            }
            1000..=999_999 => {
                out.extend_from_slice(&[0xb5, 0xc2]);
                3
            }
            _ => {
                out.push(b'm');
                6
            }
        };
        frac(&mut out, &mut u, prec);
        int(&mut out, u);
    } else {
        out.push(b's');
        frac(&mut out, &mut u, 9);
        int(&mut out, u % 60);
        u /= 60;
        if u > 0 {
            out.push(b'm');
            int(&mut out, u % 60);
            u /= 60;
            if u > 0 {
                out.push(b'h');
                int(&mut out, u);
            }
        }
    }
    if d < 0 {
        out.push(b'-');
    }
    out.reverse();
    String::from_utf8_lossy(&out).into_owned()
}

/// Go's `time.ParseDuration`; the error is Go's reason without the input.
pub(super) fn parse_duration(s: &[u8]) -> Result<i64, &'static str> {
    const INVALID: &str = "time: invalid duration";
    let (neg, mut s) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if s == b"0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(INVALID);
    }
    let mut d: u64 = 0;
    while let Some(&c) = s.first() {
        if !(c == b'.' || c.is_ascii_digit()) {
            return Err(INVALID);
        }
        let before = s.len();
        let (mut v, rest) = leading_int(s).ok_or(INVALID)?;
        s = rest;
        let pre = before != s.len();
        let (mut f, mut scale, mut post) = (0u64, 1f64, false);
        if s.first() == Some(&b'.') {
            s = &s[1..];
            let before = s.len();
            let mut overflow = false;
            let mut i = 0;
            while let Some(&c) = s.get(i).filter(|c| c.is_ascii_digit()) {
                i += 1;
                if overflow {
                    continue;
                }
                if f > (i64::MAX as u64) / 10 {
                    overflow = true;
                    continue;
                }
                let y = f * 10 + u64::from(c - b'0');
                if y > 1 << 63 {
                    overflow = true;
                    continue;
                }
                f = y;
                scale *= 10.0;
            }
            s = &s[i..];
            post = before != s.len();
        }
        if !pre && !post {
            return Err(INVALID);
        }
        let i = s
            .iter()
            .position(|&c| c == b'.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        if i == 0 {
            return Err("time: missing unit in duration");
        }
        let unit: u64 = match &s[..i] {
            b"ns" => 1,
            b"us" | b"\xc2\xb5s" | b"\xce\xbcs" => 1_000,
            b"ms" => 1_000_000,
            b"s" => 1_000_000_000,
            b"m" => 60_000_000_000,
            b"h" => 3_600_000_000_000,
            _ => return Err("time: unknown unit in duration"),
        };
        s = &s[i..];
        if v > (1 << 63) / unit {
            return Err(INVALID);
        }
        v *= unit;
        if f > 0 {
            // Go converts the float to uint64, saturating.
            v = v.wrapping_add((f as f64 * (unit as f64 / scale)) as u64);
            if v > 1 << 63 {
                return Err(INVALID);
            }
        }
        d = d.wrapping_add(v);
        if d > 1 << 63 {
            return Err(INVALID);
        }
    }
    if neg {
        return Ok((d as i64).wrapping_neg());
    }
    i64::try_from(d).map_err(|_| INVALID)
}
