//! Go's `time.Parse` with a reference layout, byte for byte.

use super::gotime::{days_in, is_leap, GoTime, Loc};
use super::layout::{digit_at, leading_int, next_chunk, Std, LONG_DAYS, LONG_MONTHS};

fn atoi(s: &[u8]) -> Option<i64> {
    let (neg, s) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (q, rem) = leading_int(s)?;
    if !rem.is_empty() {
        return None;
    }
    let x = q as i64;
    Some(if neg { x.wrapping_neg() } else { x })
}

fn getnum(s: &[u8], fixed: bool) -> Option<(i64, &[u8])> {
    if !digit_at(s, 0) {
        return None;
    }
    if !digit_at(s, 1) {
        if fixed {
            return None;
        }
        return Some((i64::from(s[0] - b'0'), &s[1..]));
    }
    Some((
        i64::from(s[0] - b'0') * 10 + i64::from(s[1] - b'0'),
        &s[2..],
    ))
}

fn getnum3(s: &[u8], fixed: bool) -> Option<(i64, &[u8])> {
    let mut n = 0;
    let mut i = 0;
    while i < 3 && digit_at(s, i) {
        n = n * 10 + i64::from(s[i] - b'0');
        i += 1;
    }
    if i == 0 || (fixed && i != 3) {
        return None;
    }
    Some((n, &s[i..]))
}

fn cut_space(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&c| c == b' ').count();
    &s[n..]
}

fn skip<'a>(mut value: &'a [u8], mut prefix: &[u8]) -> Option<&'a [u8]> {
    while let Some(&p) = prefix.first() {
        if p == b' ' {
            if value.first().is_some_and(|&c| c != b' ') {
                return None;
            }
            prefix = cut_space(prefix);
            value = cut_space(value);
            continue;
        }
        if value.first() != Some(&p) {
            return None;
        }
        prefix = &prefix[1..];
        value = &value[1..];
    }
    Some(value)
}

fn lookup<'a>(tab: &[&str], val: &'a [u8], len: usize) -> Option<(i64, &'a [u8])> {
    for (i, name) in tab.iter().enumerate() {
        let v = &name.as_bytes()[..len.min(name.len())];
        if let Some(head) = val.get(..v.len()) {
            let same = head.iter().zip(v).all(|(&a, &b)| {
                a == b || ((a | 0x20) == (b | 0x20) && (a | 0x20).is_ascii_lowercase())
            });
            if same {
                return Some((i as i64, &val[v.len()..]));
            }
        }
    }
    None
}

fn signed_offset_len(value: &[u8]) -> usize {
    if !matches!(value.first(), Some(b'-' | b'+')) {
        return 0;
    }
    match leading_int(&value[1..]) {
        Some((x, rem)) if rem.len() != value.len() - 1 && x <= 23 => value.len() - rem.len(),
        _ => 0,
    }
}

/// Go's `parseTimeZone`: how long the zone abbreviation at the start is.
fn time_zone_len(value: &[u8]) -> Option<usize> {
    if value.len() < 3 {
        return None;
    }
    if value.starts_with(b"ChST") || value.starts_with(b"MeST") {
        return Some(4);
    }
    if value.starts_with(b"GMT") {
        return Some(
            3 + if value.len() == 3 {
                0
            } else {
                signed_offset_len(&value[3..])
            },
        );
    }
    if matches!(value[0], b'+' | b'-') {
        return Some(signed_offset_len(value)).filter(|&n| n > 0);
    }
    let upper = value
        .iter()
        .take(6)
        .take_while(|c| c.is_ascii_uppercase())
        .count();
    match upper {
        5 if value[4] == b'T' => Some(5),
        4 if value[3] == b'T' || value.starts_with(b"WITA") => Some(4),
        3 => Some(3),
        _ => None,
    }
}

/// `Err(Some(what))`: "`what` out of range"; `Err(None)`: bad syntax.
fn nanoseconds(value: &[u8], n: usize) -> Result<i64, Option<&'static str>> {
    if !matches!(value.first(), Some(b'.' | b',')) {
        return Err(None);
    }
    let n = n.min(10);
    let ns = atoi(value.get(1..n).ok_or(None)?).ok_or(None)?;
    if ns < 0 {
        return Err(Some("fractional second"));
    }
    Ok((n..10).fold(ns, |ns, _| ns.wrapping_mul(10)))
}

/// Go's `time.ParseInLocation(layout, value, time.Local)` with Local = UTC.
/// The error is Go's reason without the layout or value in it.
pub(super) fn parse(mut layout: &[u8], mut value: &[u8]) -> Result<GoTime, String> {
    const BAD: &str = "parsing time: cannot parse";
    let (mut year, mut month, mut day, mut yday) = (0i64, -1i64, -1i64, -1i64);
    let (mut hour, mut min, mut sec, mut nsec) = (0i64, 0i64, 0i64, 0i64);
    let (mut am, mut pm) = (false, false);
    let mut utc = false;
    let mut zone_offset: Option<i64> = None;
    let mut zone_name: Option<&[u8]> = None;
    loop {
        let (prefix, chunk) = next_chunk(layout);
        value = skip(value, prefix).ok_or(BAD)?;
        let Some((std, rest)) = chunk else {
            if !value.is_empty() {
                return Err("parsing time: extra text".into());
            }
            break;
        };
        layout = rest;
        let mut range: Option<&'static str> = None;
        let v = value;
        let step: Option<&[u8]> = (|| {
            Some(match std {
                Std::Year => {
                    let y = atoi(v.get(..2)?)?;
                    year = if y >= 69 { y + 1900 } else { y + 2000 };
                    &v[2..]
                }
                Std::LongYear => {
                    if !digit_at(v, 0) {
                        return None;
                    }
                    year = atoi(v.get(..4)?)?;
                    &v[4..]
                }
                Std::Month | Std::LongMonth => {
                    let n = if std == Std::Month { 3 } else { 9 };
                    let (m, r) = lookup(&LONG_MONTHS, v, n)?;
                    month = m + 1;
                    r
                }
                Std::NumMonth | Std::ZeroMonth => {
                    let (m, r) = getnum(v, std == Std::ZeroMonth)?;
                    month = m;
                    if !(1..=12).contains(&m) {
                        range = Some("month");
                    }
                    r
                }
                Std::WeekDay => lookup(&LONG_DAYS, v, 3)?.1,
                Std::LongWeekDay => lookup(&LONG_DAYS, v, 9)?.1,
                Std::Day | Std::UnderDay | Std::ZeroDay => {
                    let v = if std == Std::UnderDay && v.first() == Some(&b' ') {
                        &v[1..]
                    } else {
                        v
                    };
                    let (d, r) = getnum(v, std == Std::ZeroDay)?;
                    day = d;
                    r
                }
                Std::UnderYearDay | Std::ZeroYearDay => {
                    let mut v = v;
                    for _ in 0..2 {
                        if std == Std::UnderYearDay && v.first() == Some(&b' ') {
                            v = &v[1..];
                        }
                    }
                    let (d, r) = getnum3(v, std == Std::ZeroYearDay)?;
                    yday = d;
                    r
                }
                Std::Hour => {
                    let (h, r) = getnum(v, false)?;
                    hour = h;
                    if !(0..24).contains(&h) {
                        range = Some("hour");
                    }
                    r
                }
                Std::Hour12 | Std::ZeroHour12 => {
                    let (h, r) = getnum(v, std == Std::ZeroHour12)?;
                    hour = h;
                    if !(0..=12).contains(&h) {
                        range = Some("hour");
                    }
                    r
                }
                Std::Minute | Std::ZeroMinute => {
                    let (m, r) = getnum(v, std == Std::ZeroMinute)?;
                    min = m;
                    if !(0..60).contains(&m) {
                        range = Some("minute");
                    }
                    r
                }
                Std::Second | Std::ZeroSecond => {
                    let (s, mut r) = getnum(v, std == Std::ZeroSecond)?;
                    sec = s;
                    if !(0..60).contains(&s) {
                        range = Some("second");
                        return Some(r);
                    }
                    // A fraction in the value that the layout does not name.
                    if r.len() >= 2 && matches!(r[0], b'.' | b',') && digit_at(r, 1) {
                        let next = next_chunk(layout).1.map(|c| c.0);
                        if !matches!(next, Some(Std::Frac0(..) | Std::Frac9(..))) {
                            let mut n = 2;
                            while digit_at(r, n) {
                                n += 1;
                            }
                            match nanoseconds(r, n) {
                                Ok(ns) => nsec = ns,
                                Err(Some(what)) => range = Some(what),
                                Err(None) => return None,
                            }
                            r = &r[n..];
                        }
                    }
                    r
                }
                Std::PM | Std::Pm => {
                    let p = v.get(..2)?;
                    let (up, low) = if std == Std::PM {
                        (b"PM", b"AM")
                    } else {
                        (b"pm", b"am")
                    };
                    if p == up {
                        pm = true;
                    } else if p == low {
                        am = true;
                    } else {
                        return None;
                    }
                    &v[2..]
                }
                Std::Tz => {
                    if v.starts_with(b"UTC") {
                        utc = true;
                        return Some(&v[3..]);
                    }
                    let n = time_zone_len(v)?;
                    zone_name = Some(&v[..n]);
                    &v[n..]
                }
                Std::Frac0(n, _) => {
                    let n = n + 1;
                    if v.len() < n {
                        return None;
                    }
                    match nanoseconds(v, n) {
                        Ok(ns) => nsec = ns,
                        Err(Some(what)) => range = Some(what),
                        Err(None) => return None,
                    }
                    &v[n..]
                }
                Std::Frac9(..) => {
                    if v.len() < 2 || !matches!(v[0], b'.' | b',') || !v[1].is_ascii_digit() {
                        return Some(v);
                    }
                    let mut i = 0;
                    while digit_at(v, i + 1) {
                        i += 1;
                    }
                    match nanoseconds(v, i + 1) {
                        Ok(ns) => nsec = ns,
                        Err(Some(what)) => range = Some(what),
                        Err(None) => return None,
                    }
                    &v[i + 1..]
                }
                _ => {
                    if std_is_iso(std) && v.first() == Some(&b'Z') {
                        utc = true;
                        return Some(&v[1..]);
                    }
                    let (off, r, what) = parse_offset(std, v)?;
                    if what.is_some() {
                        range = what;
                    }
                    zone_offset = Some(off);
                    r
                }
            })
        })();
        if let Some(what) = range {
            return Err(format!("parsing time: {what} out of range"));
        }
        value = step.ok_or(BAD)?;
    }
    if pm && hour < 12 {
        hour += 12;
    } else if am && hour == 12 {
        hour = 0;
    }
    if yday >= 0 {
        let (mut m, mut d) = (0, 0);
        if is_leap(year) {
            if yday == 31 + 29 {
                m = 2;
                d = 29;
            } else if yday > 31 + 29 {
                yday -= 1;
            }
        }
        if !(1..=365).contains(&yday) {
            return Err("parsing time: day-of-year out of range".into());
        }
        if m == 0 {
            m = (yday - 1) / 31 + 1;
            if days_before(m + 1) < yday {
                m += 1;
            }
            d = yday - days_before(m);
        }
        if month >= 0 && month != m {
            return Err("parsing time: day-of-year does not match month".into());
        }
        month = m;
        if day >= 0 && day != d {
            return Err("parsing time: day-of-year does not match day".into());
        }
        day = d;
    } else {
        if month < 0 {
            month = 1;
        }
        if day < 0 {
            day = 1;
        }
    }
    if day < 1 || day > days_in(month, year) {
        return Err("parsing time: day out of range".into());
    }
    let date = |loc: Loc| GoTime::date(year, month, day, hour, min, sec, nsec, loc);
    if utc {
        return Ok(date(Loc::Utc));
    }
    // Local is UTC: an offset of 0 named "" or "UTC" is Local, others fixed zones.
    if let Some(off) = zone_offset {
        let mut t = date(Loc::Utc);
        t.add_sec(-off);
        let name = zone_name.unwrap_or(b"");
        t.loc = if off == 0 && (name.is_empty() || name == b"UTC") {
            Loc::Local
        } else {
            Loc::fixed(name, off)
        };
        return Ok(t);
    }
    if let Some(name) = zone_name {
        let off = match name.strip_prefix(b"GMT") {
            Some(rest) if !rest.is_empty() => atoi(rest).unwrap_or(0).wrapping_mul(3600),
            _ => 0,
        };
        let mut t = date(Loc::Utc);
        t.loc = Loc::fixed(name, off);
        return Ok(t);
    }
    Ok(date(Loc::Local))
}

fn std_is_iso(std: Std) -> bool {
    matches!(
        std,
        Std::Iso8601Tz
            | Std::Iso8601ShortTz
            | Std::Iso8601ColonTz
            | Std::Iso8601SecondsTz
            | Std::Iso8601ColonSecondsTz
    )
}

/// A numeric zone offset such as "-07:00": seconds, rest, range error.
fn parse_offset(std: Std, v: &[u8]) -> Option<(i64, &[u8], Option<&'static str>)> {
    use Std::*;
    let (sign, hh, mm, ss, rest): (u8, &[u8], &[u8], &[u8], &[u8]) = match std {
        Iso8601ColonTz | NumColonTz => {
            if v.len() < 6 || v[3] != b':' {
                return None;
            }
            (v[0], &v[1..3], &v[4..6], b"00", &v[6..])
        }
        NumShortTz | Iso8601ShortTz => {
            if v.len() < 3 {
                return None;
            }
            (v[0], &v[1..3], b"00", b"00", &v[3..])
        }
        Iso8601ColonSecondsTz | NumColonSecondsTz => {
            if v.len() < 9 || v[3] != b':' || v[6] != b':' {
                return None;
            }
            (v[0], &v[1..3], &v[4..6], &v[7..9], &v[9..])
        }
        Iso8601SecondsTz | NumSecondsTz => {
            if v.len() < 7 {
                return None;
            }
            (v[0], &v[1..3], &v[3..5], &v[5..7], &v[7..])
        }
        _ => {
            if v.len() < 5 {
                return None;
            }
            (v[0], &v[1..3], &v[3..5], b"00", &v[5..])
        }
    };
    let hr = getnum(hh, true)?.0;
    let mi = getnum(mm, true)?.0;
    let se = getnum(ss, true)?.0;
    let mut what = None;
    if hr > 24 {
        what = Some("time zone offset hour");
    }
    if mi > 60 {
        what = Some("time zone offset minute");
    }
    if se > 60 {
        what = Some("time zone offset second");
    }
    let off = (hr * 60 + mi) * 60 + se;
    let off = match sign {
        b'+' => off,
        b'-' => -off,
        _ => return None,
    };
    Some((off, rest, what))
}

fn days_before(m: i64) -> i64 {
    const BEFORE: [i64; 13] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];
    usize::try_from(m - 1)
        .ok()
        .and_then(|i| BEFORE.get(i))
        .copied()
        .unwrap_or(365)
}
