//! Go's layout elements (`nextStdChunk` and the std constants), month and
//! day names, and `leadingInt`: what `Format`, `Parse` and `ParseDuration`
//! share.

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

/// Go's `leadingInt`: digits as u64, failing past 2^63.
pub(super) fn leading_int(s: &[u8]) -> Option<(u64, &[u8])> {
    let mut x: u64 = 0;
    let mut i = 0;
    while let Some(&c) = s.get(i).filter(|c| c.is_ascii_digit()) {
        if x > (1 << 63) / 10 {
            return None;
        }
        x = x * 10 + u64::from(c - b'0');
        if x > 1 << 63 {
            return None;
        }
        i += 1;
    }
    Some((x, &s[i..]))
}
