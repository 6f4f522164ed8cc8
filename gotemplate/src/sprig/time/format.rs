//! Go's reference-layout formatting (`time.Format`), byte for byte.

use super::gotime::GoTime;
use super::layout::{month_name, next_chunk, weekday_name, Std};

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
    pub(in crate::sprig) fn format(&self, mut layout: &[u8]) -> Vec<u8> {
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
