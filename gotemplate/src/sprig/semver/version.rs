//! Masterminds/semver v3.4.0's `Version`: `NewVersion`, `String`, `Compare`,
//! the `Inc*` steps and the prerelease/metadata checks.

use std::cmp::Ordering;

use crate::sprig::regex::compile;

const ERR_INVALID: &str = "invalid semantic version";
const ERR_STARTS_ZERO: &str = "version segment starts with 0";
const ERR_PRERELEASE: &str = "invalid prerelease string";
const ERR_METADATA: &str = "invalid metadata string";

const VERSION_RE: &str = r"^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?$";

/// Masterminds' `Version`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub pre: Vec<u8>,
    pub metadata: Vec<u8>,
    pub original: Vec<u8>,
}

fn parse_u64(digits: &[u8]) -> Result<u64, String> {
    digits
        .iter()
        .try_fold(0u64, |n, &d| {
            n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        })
        .ok_or_else(|| {
            "error parsing version segment: strconv.ParseUint: value out of range".to_string()
        })
}

fn only(s: &[u8], ok: impl Fn(u8) -> bool) -> bool {
    s.iter().all(|&b| ok(b))
}

fn allowed(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}

pub(super) fn validate_prerelease(p: &[u8]) -> Result<(), String> {
    for part in p.split(|&b| b == b'.') {
        if part.is_empty() {
            return Err(ERR_PRERELEASE.into());
        }
        if only(part, |b| b.is_ascii_digit()) {
            if part.len() > 1 && part[0] == b'0' {
                return Err(ERR_STARTS_ZERO.into());
            }
        } else if !only(part, allowed) {
            return Err(ERR_PRERELEASE.into());
        }
    }
    Ok(())
}

pub(super) fn validate_metadata(m: &[u8]) -> Result<(), String> {
    if m.split(|&b| b == b'.')
        .all(|p| !p.is_empty() && only(p, allowed))
    {
        Ok(())
    } else {
        Err(ERR_METADATA.into())
    }
}

impl Version {
    /// `semver.NewVersion`.
    pub(crate) fn parse(v: &[u8]) -> Result<Version, String> {
        let re = compile(VERSION_RE.as_bytes())?;
        let caps = re.regex().captures(v).ok_or(ERR_INVALID)?;
        let group = |i: usize| caps.get(i).map(|m| m.as_bytes()).unwrap_or_default();
        let segment = |i: usize| match group(i) {
            [] => Ok(0),
            g => parse_u64(g.strip_prefix(b".").unwrap_or(g)),
        };
        let version = Version {
            major: parse_u64(group(1))?,
            minor: segment(2)?,
            patch: segment(3)?,
            pre: group(5).to_vec(),
            metadata: group(8).to_vec(),
            original: v.to_vec(),
        };
        if !version.pre.is_empty() {
            validate_prerelease(&version.pre)?;
        }
        if !version.metadata.is_empty() {
            validate_metadata(&version.metadata)?;
        }
        Ok(version)
    }

    /// `Version.String`.
    pub(crate) fn string(&self) -> Vec<u8> {
        let mut out = format!("{}.{}.{}", self.major, self.minor, self.patch).into_bytes();
        if !self.pre.is_empty() {
            out.push(b'-');
            out.extend_from_slice(&self.pre);
        }
        if !self.metadata.is_empty() {
            out.push(b'+');
            out.extend_from_slice(&self.metadata);
        }
        out
    }

    /// `Version.Compare`: metadata is ignored, a prerelease sorts first.
    pub(crate) fn compare(&self, o: &Version) -> Ordering {
        let core = (self.major, self.minor, self.patch).cmp(&(o.major, o.minor, o.patch));
        if core != Ordering::Equal {
            return core;
        }
        match (self.pre.is_empty(), o.pre.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => compare_prerelease(&self.pre, &o.pre),
        }
    }

    pub(super) fn v_prefix(&self) -> &'static [u8] {
        if self.original.first() == Some(&b'v') {
            b"v"
        } else {
            b""
        }
    }

    /// The result of `IncPatch` & co: a new original with the `v` kept.
    pub(super) fn with_original(mut self, prefix: &[u8]) -> Version {
        let mut original = prefix.to_vec();
        original.extend_from_slice(&self.string());
        self.original = original;
        self
    }

    pub(super) fn inc(&self, which: &str) -> Version {
        let mut next = self.clone();
        next.metadata.clear();
        let had_pre = !next.pre.is_empty();
        next.pre.clear();
        match which {
            "IncMajor" => {
                next.major = next.major.wrapping_add(1);
                next.minor = 0;
                next.patch = 0;
            }
            "IncMinor" => {
                next.minor = next.minor.wrapping_add(1);
                next.patch = 0;
            }
            // A prerelease of x.y.z is followed by x.y.z itself.
            _ if !had_pre => next.patch = next.patch.wrapping_add(1),
            _ => {}
        }
        next.with_original(self.v_prefix())
    }
}

/// Masterminds' `comparePrerelease`: dot-separated parts, numbers below
/// words, a missing part below any part.
pub(crate) fn compare_prerelease(a: &[u8], b: &[u8]) -> Ordering {
    let (mut x, mut y) = (a.split(|&c| c == b'.'), b.split(|&c| c == b'.'));
    loop {
        let (p, q) = (x.next(), y.next());
        if p.is_none() && q.is_none() {
            return Ordering::Equal;
        }
        let d = compare_part(p.unwrap_or_default(), q.unwrap_or_default());
        if d != Ordering::Equal {
            return d;
        }
    }
}

fn compare_part(s: &[u8], o: &[u8]) -> Ordering {
    if s == o {
        return Ordering::Equal;
    }
    if s.is_empty() {
        return Ordering::Less;
    }
    if o.is_empty() {
        return Ordering::Greater;
    }
    let num = |p: &[u8]| -> Option<u64> {
        if p.is_empty() || !only(p, |b| b.is_ascii_digit()) {
            return None;
        }
        parse_u64(p).ok()
    };
    match (num(s), num(o)) {
        (None, None) => {
            if s > o {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (Some(a), Some(b)) => {
            if a > b {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
    }
}
