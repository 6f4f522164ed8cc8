//! Go's `time.Time` as a template value: the calendar arithmetic of Go's
//! time package (same results for any year, wrapping where Go wraps),
//! locations, and the methods templates call (`.Year`, `.Format`, ...).
//!
//! `time.Local` is UTC: the reference controller runs with TZ unset and no
//! /etc/localtime, where Go's Local is UTC (named "UTC"). Its name follows
//! Go's `initLocal` (see [`local_name`]). The methods are in `object`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::value::Value;

const SECONDS_PER_DAY: i64 = 86_400;
/// Seconds from year 1 (Go's internal epoch) to 1970.
const UNIX_TO_INTERNAL: i64 = (1969 * 365 + 1969 / 4 - 1969 / 100 + 1969 / 400) * SECONDS_PER_DAY;
const ABSOLUTE_YEARS: u64 = 292_277_022_400;
const MARCH_THRU_DECEMBER: u64 = 31 + 30 + 31 + 30 + 31 + 31 + 30 + 31 + 30 + 31;
/// Go's absolute epoch: March 1 of year -292277022399.
const INTERNAL_TO_ABSOLUTE: i64 =
    ((ABSOLUTE_YEARS * 3_652_425 / 10_000) as i64 + MARCH_THRU_DECEMBER as i64) * SECONDS_PER_DAY;
/// Go keeps a monotonic reading only for wall times in 1885..2157.
pub(in crate::sprig) const WALL_TO_INTERNAL: i64 =
    (1884 * 365 + 1884 / 4 - 1884 / 100 + 1884 / 400) * SECONDS_PER_DAY;

/// A time zone as `Time` carries it.
#[derive(Clone, Debug)]
pub(in crate::sprig) enum Loc {
    Utc,
    /// `time.Local`: UTC here, see the module comment.
    Local,
    Fixed(Rc<[u8]>, i64),
    Zone(Rc<Zone>),
}

#[derive(Debug)]
pub(in crate::sprig) struct Zone {
    name: Vec<u8>,
    tz: jiff::tz::TimeZone,
}

impl Loc {
    pub(in crate::sprig) fn fixed(name: &[u8], offset: i64) -> Loc {
        Loc::Fixed(Rc::from(name), offset)
    }

    /// Zone abbreviation and offset in seconds at a Unix time.
    pub(in crate::sprig) fn lookup(&self, unix: i64) -> (String, i64) {
        match self {
            Loc::Utc | Loc::Local => ("UTC".into(), 0),
            Loc::Fixed(name, off) => (String::from_utf8_lossy(name).into_owned(), *off),
            Loc::Zone(z) => {
                let (lo, hi) = (
                    jiff::Timestamp::MIN.as_second(),
                    jiff::Timestamp::MAX.as_second(),
                );
                let ts = jiff::Timestamp::from_second(unix.clamp(lo, hi))
                    .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
                let info = z.tz.to_offset_info(ts);
                (
                    info.abbreviation().to_string(),
                    i64::from(info.offset().seconds()),
                )
            }
        }
    }

    pub(in crate::sprig) fn name(&self) -> Vec<u8> {
        match self {
            Loc::Utc => b"UTC".to_vec(),
            Loc::Local => local_name().to_vec(),
            Loc::Fixed(name, _) => name.to_vec(),
            Loc::Zone(z) => z.name.clone(),
        }
    }
}

/// The name of Go's `time.Local`, as `initLocal` sets it: with TZ unset,
/// "Local" if /etc/localtime loads; with TZ set to a zone that loads, that
/// zone ("Local" for the path /etc/localtime); otherwise (TZ empty, "UTC",
/// or a zone that does not load) "UTC". The offsets of Local stay UTC's.
pub(in crate::sprig) fn local_name() -> &'static [u8] {
    static NAME: OnceLock<Vec<u8>> = OnceLock::new();
    NAME.get_or_init(|| {
        use std::os::unix::ffi::OsStrExt;
        let loads = |path: &str| -> bool {
            use std::io::Read;
            let Ok(file) = std::fs::File::open(path) else {
                return false;
            };
            let mut data = Vec::new();
            file.take(10 << 20).read_to_end(&mut data).is_ok()
                && jiff::tz::TimeZone::tzif(path, &data).is_ok()
        };
        let Some(tz) = std::env::var_os("TZ") else {
            return if loads("/etc/localtime") {
                b"Local".to_vec()
            } else {
                b"UTC".to_vec()
            };
        };
        let tz = tz.as_bytes();
        let tz = tz.strip_prefix(b":").unwrap_or(tz);
        let Ok(text) = std::str::from_utf8(tz) else {
            return b"UTC".to_vec();
        };
        if text.starts_with('/') {
            if loads(text) {
                return if text == "/etc/localtime" {
                    b"Local".to_vec()
                } else {
                    tz.to_vec()
                };
            }
        } else if !text.is_empty() && text != "UTC" {
            let dot_dot = text.split('/').any(|part| part == "..");
            let found = [
                "/usr/share/zoneinfo/",
                "/usr/share/lib/zoneinfo/",
                "/usr/lib/locale/TZ/",
                "/etc/zoneinfo/",
            ]
            .iter()
            .any(|dir| !dot_dot && loads(&format!("{dir}{text}")));
            if found {
                return tz.to_vec();
            }
        }
        b"UTC".to_vec()
    })
}

thread_local! {
    static ZONES: RefCell<HashMap<Vec<u8>, Option<Rc<Zone>>>> = RefCell::new(HashMap::new());
}

/// Go's `time.LoadLocation` on Linux: "" and "UTC" are UTC, "Local" is
/// Local, others are read from /usr/share/zoneinfo (case-sensitive, as the
/// file system is). `None` where Go returns an error.
pub(in crate::sprig) fn load_location(name: &[u8]) -> Option<Loc> {
    match name {
        b"" | b"UTC" => return Some(Loc::Utc),
        b"Local" => return Some(Loc::Local),
        _ => {}
    }
    let dot_dot = name.split(|&c| c == b'/').any(|part| part == b"..");
    if dot_dot || name[0] == b'/' || name[0] == b'\\' || name.contains(&0) {
        return None;
    }
    if let Some(hit) = ZONES.with(|z| z.borrow().get(name).cloned()) {
        return hit.map(Loc::Zone);
    }
    let zone = read_zone(name).map(Rc::new);
    ZONES.with(|z| z.borrow_mut().insert(name.to_vec(), zone.clone()));
    zone.map(Loc::Zone)
}

fn read_zone(name: &[u8]) -> Option<Zone> {
    use std::io::Read;
    let text = std::str::from_utf8(name).ok()?;
    let file = std::fs::File::open(format!("/usr/share/zoneinfo/{text}")).ok()?;
    // Go refuses zone files over 10 MB.
    let mut data = Vec::new();
    file.take(10 << 20).read_to_end(&mut data).ok()?;
    let tz = jiff::tz::TimeZone::tzif(text, &data).ok()?;
    Some(Zone {
        name: name.to_vec(),
        tz,
    })
}

/// Seconds since Go's absolute epoch, adjusted to a zone.
#[derive(Clone, Copy)]
pub(in crate::sprig) struct Abs(u64);

impl Abs {
    fn days(self) -> u64 {
        self.0 / SECONDS_PER_DAY as u64
    }

    /// (century, year in century, day in March-based year)
    fn split(self) -> (u64, u64, u64) {
        let d = 4u64.wrapping_mul(self.days()).wrapping_add(3);
        let century = d / 146_097;
        let cd = (d % 146_097) | 3;
        let prod = 2_939_745u64 * cd;
        (century, prod >> 32, (prod & 0xffff_ffff) / 2_939_745 / 4)
    }

    fn year_of(century: u64, cyear: u64, jan_feb: u64) -> i64 {
        (century.wrapping_mul(100).wrapping_sub(ABSOLUTE_YEARS) as i64)
            .wrapping_add(cyear as i64)
            .wrapping_add(jan_feb as i64)
    }

    pub(in crate::sprig) fn date(self) -> (i64, i64, i64) {
        let (century, cyear, ayday) = self.split();
        let d = 2141 * ayday + 197_913;
        let (amonth, mday) = (d >> 16, 1 + (d & 0xffff) / 2141);
        let jan_feb = u64::from(ayday >= MARCH_THRU_DECEMBER);
        let month = amonth as i64 - 12 * jan_feb as i64;
        (Self::year_of(century, cyear, jan_feb), month, mday as i64)
    }

    /// Day of the year, 1-based.
    pub(in crate::sprig) fn yday(self) -> i64 {
        let (century, cyear, ayday) = self.split();
        let jan_feb = i64::from(ayday >= MARCH_THRU_DECEMBER);
        let leap = i64::from(cyear % 4 == 0 && (cyear != 0 || century % 4 == 0));
        ayday as i64 + (1 + 31 + 28) + (leap & !jan_feb) - 365 * jan_feb
    }

    pub(in crate::sprig) fn weekday(self) -> i64 {
        // March 1 of the absolute epoch was a Wednesday (3).
        (self.days().wrapping_add(3) % 7) as i64
    }

    pub(in crate::sprig) fn clock(self) -> (i64, i64, i64) {
        let s = (self.0 % SECONDS_PER_DAY as u64) as i64;
        (s / 3600, s % 3600 / 60, s % 60)
    }
}

pub(in crate::sprig) fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

pub(in crate::sprig) fn days_in(month: i64, year: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn date_to_abs_days(year: i64, month: i64, day: i64) -> u64 {
    let jan_feb = u64::from(month < 3);
    let amonth = month as u64 + 12 * jan_feb;
    let y = (year as u64)
        .wrapping_sub(jan_feb)
        .wrapping_add(ABSOLUTE_YEARS);
    let ayday = (979u64.wrapping_mul(amonth).wrapping_sub(2919)) >> 5 & 0xffff_ffff;
    let century = y / 100;
    let cyear = y % 100;
    let cday = 1461 * cyear / 4;
    let centurydays = 146_097u64.wrapping_mul(century) / 4;
    centurydays.wrapping_add(((cday + ayday) as i64).wrapping_add(day).wrapping_sub(1) as u64)
}

/// Go's `norm`: moves whole `base`s from `lo` into `hi`.
fn norm(hi: i64, lo: i64, base: i64) -> (i64, i64) {
    let (mut hi, mut lo) = (hi, lo);
    if lo < 0 {
        let n = (lo.wrapping_neg().wrapping_sub(1)) / base + 1;
        hi = hi.wrapping_sub(n);
        lo = lo.wrapping_add(n.wrapping_mul(base));
    }
    if lo >= base {
        let n = lo / base;
        hi = hi.wrapping_add(n);
        lo = lo.wrapping_sub(n.wrapping_mul(base));
    }
    (hi, lo)
}

fn process_start() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

/// A Go `time.Time`.
#[derive(Clone, Debug)]
pub struct GoTime {
    /// Seconds since January 1, year 1 UTC (Go's internal clock).
    pub(in crate::sprig) sec: i64,
    pub(in crate::sprig) nsec: u32,
    pub(in crate::sprig) loc: Loc,
    /// The monotonic reading `time.Now` attaches (ns since process start).
    pub(in crate::sprig) mono: Option<i64>,
}

impl GoTime {
    pub(in crate::sprig) fn from_unix(unix: i64, nsec: u32, loc: Loc) -> GoTime {
        GoTime {
            sec: unix.wrapping_add(UNIX_TO_INTERNAL),
            nsec,
            loc,
            mono: None,
        }
    }

    /// `time.Now()`, in Local, with a monotonic reading.
    pub(in crate::sprig) fn now() -> GoTime {
        let start = process_start();
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let mut t = GoTime::from_unix(
            since_epoch.as_secs() as i64,
            since_epoch.subsec_nanos(),
            Loc::Local,
        );
        t.mono = Some(start.elapsed().as_nanos() as i64 + 1);
        t
    }

    pub(in crate::sprig) fn unix(&self) -> i64 {
        self.sec.wrapping_sub(UNIX_TO_INTERNAL)
    }

    pub(in crate::sprig) fn unix_nano(&self) -> i64 {
        self.unix()
            .wrapping_mul(1_000_000_000)
            .wrapping_add(i64::from(self.nsec))
    }

    /// Zone name, offset and zone-adjusted absolute seconds.
    pub(in crate::sprig) fn locabs(&self) -> (String, i64, Abs) {
        let (name, offset) = self.loc.lookup(self.unix());
        let abs = self
            .unix()
            .wrapping_add(offset)
            .wrapping_add(UNIX_TO_INTERNAL)
            .wrapping_add(INTERNAL_TO_ABSOLUTE);
        (name, offset, Abs(abs as u64))
    }

    pub(in crate::sprig) fn abs(&self) -> Abs {
        self.locabs().2
    }

    /// Go's `time.Date`, normalizing out-of-range fields.
    #[allow(clippy::too_many_arguments)]
    pub(in crate::sprig) fn date(
        year: i64,
        month: i64,
        day: i64,
        hour: i64,
        min: i64,
        sec: i64,
        nsec: i64,
        loc: Loc,
    ) -> GoTime {
        let (year, m) = norm(year, month.wrapping_sub(1), 12);
        let (sec, nsec) = norm(sec, nsec, 1_000_000_000);
        let (min, sec) = norm(min, sec, 60);
        let (hour, min) = norm(hour, min, 60);
        let (day, hour) = norm(day, hour, 24);
        let days = date_to_abs_days(year, m + 1, day);
        let mut unix = (days as i64)
            .wrapping_mul(SECONDS_PER_DAY)
            .wrapping_add(
                hour.wrapping_mul(3600)
                    .wrapping_add(min * 60)
                    .wrapping_add(sec),
            )
            .wrapping_sub(INTERNAL_TO_ABSOLUTE)
            .wrapping_sub(UNIX_TO_INTERNAL);
        let (_, offset) = loc.lookup(unix);
        if offset != 0 {
            let (_, offset) = loc.lookup(unix.wrapping_sub(offset));
            unix = unix.wrapping_sub(offset);
        }
        GoTime::from_unix(unix, nsec as u32, loc)
    }

    /// Go's `addSec`: saturating, dropping the monotonic reading outside 1885..2157.
    pub(in crate::sprig) fn add_sec(&mut self, d: i64) {
        if self.mono.is_some() {
            let wall = self.sec.wrapping_sub(WALL_TO_INTERNAL).wrapping_add(d);
            if (0..1 << 33).contains(&wall) {
                self.sec = self.sec.wrapping_add(d);
                return;
            }
            self.mono = None;
        }
        self.sec = self
            .sec
            .checked_add(d)
            .unwrap_or(if d > 0 { i64::MAX } else { -i64::MAX });
    }

    /// Go's `Time.Add`.
    pub(in crate::sprig) fn add(&self, d: i64) -> GoTime {
        let mut t = self.clone();
        let mut dsec = d / 1_000_000_000;
        let mut nsec = i64::from(t.nsec) + d % 1_000_000_000;
        if nsec >= 1_000_000_000 {
            dsec += 1;
            nsec -= 1_000_000_000;
        } else if nsec < 0 {
            dsec -= 1;
            nsec += 1_000_000_000;
        }
        t.nsec = nsec as u32;
        t.add_sec(dsec);
        if let Some(m) = t.mono {
            t.mono = m.checked_add(d);
        }
        t
    }

    /// Go's `Time.Sub`, saturating.
    pub(in crate::sprig) fn sub(&self, u: &GoTime) -> i64 {
        if let (Some(a), Some(b)) = (self.mono, u.mono) {
            return a.saturating_sub(b);
        }
        let secs = i128::from(self.sec) - i128::from(u.sec);
        let d = secs * 1_000_000_000 + i128::from(self.nsec) - i128::from(u.nsec);
        d.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }

    pub(in crate::sprig) fn with_loc(&self, loc: Loc) -> GoTime {
        GoTime {
            loc,
            mono: None,
            ..self.clone()
        }
    }

    /// Go's `Time.String()`.
    pub(in crate::sprig) fn string(&self) -> Vec<u8> {
        let mut s = self.format(b"2006-01-02 15:04:05.999999999 -0700 MST");
        if let Some(m) = self.mono {
            let (sign, m) = (if m < 0 { '-' } else { '+' }, m.unsigned_abs());
            let (secs, frac) = (m / 1_000_000_000, m % 1_000_000_000);
            s.extend_from_slice(format!(" m={sign}{secs}.{frac:09}").as_bytes());
        }
        s
    }

    pub(in crate::sprig) fn add_date(&self, years: i64, months: i64, days: i64) -> GoTime {
        let abs = self.abs();
        let (y, m, d) = abs.date();
        let (hh, mm, ss) = abs.clock();
        GoTime::date(
            y.wrapping_add(years),
            m.wrapping_add(months),
            d.wrapping_add(days),
            hh,
            mm,
            ss,
            i64::from(self.nsec),
            self.loc.clone(),
        )
    }
}

pub(in crate::sprig) fn time_value(t: GoTime) -> Value {
    Value::Object(Rc::new(t))
}

/// The `time.Time` inside a value, if it is one.
pub(in crate::sprig) fn as_time(v: &Value) -> Option<&GoTime> {
    match v {
        Value::Object(o) => o.as_any().downcast_ref::<GoTime>(),
        _ => None,
    }
}
