//! Masterminds/semver v3.4.0 constraints (`semverCompare`'s first argument):
//! `||` alternatives of comma- or space-separated comparisons, `a - b`
//! ranges, `^`, `~`, `x`/`*` wildcards and the prerelease rules. Parsed with
//! the library's own regular expressions (Go syntax, via `regex`), so its
//! quirks carry over.

use std::cmp::Ordering;

use super::version::{compare_prerelease, Version};
use crate::sprig::regex::compile;

const CV: &str = r"v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?";
const OPS: &str = r"=||!=|>|<|>=|=>|<=|=<|~|~>|\^";

fn constraint_re() -> String {
    format!(r"^\s*({OPS})\s*({CV})\s*$")
}
fn range_re() -> String {
    format!(r"\s*({CV})\s+-\s+({CV})\s*")
}
fn find_re() -> String {
    format!(r"({OPS})\s*({CV})")
}
fn valid_re() -> String {
    format!(r"^(\s*({OPS})\s*({CV})\s*)((?:\s+|,\s*)({OPS})\s*({CV})\s*)*$")
}

const IMPROPER: &str = "improper constraint";

#[derive(Debug)]
struct Constraint {
    con: Version,
    op: Vec<u8>,
    minor_dirty: bool,
    patch_dirty: bool,
    dirty: bool,
}

/// Parsed constraints: any of the groups, all of a group's comparisons.
#[derive(Debug)]
pub(crate) struct Constraints(Vec<Vec<Constraint>>);

fn is_x(s: &[u8]) -> bool {
    matches!(s, b"x" | b"X" | b"*")
}

/// `rewriteRange`: `a - b` becomes `>= a, <= b `.
fn rewrite_range(c: &[u8]) -> Result<Vec<u8>, String> {
    let re = compile(range_re().as_bytes())?;
    let mut out = c.to_vec();
    for caps in re.regex().captures_iter(c) {
        let g = |i: usize| caps.get(i).map(|m| m.as_bytes()).unwrap_or_default();
        let mut with = b">= ".to_vec();
        with.extend_from_slice(g(1));
        with.extend_from_slice(b", <= ");
        with.extend_from_slice(g(11));
        with.push(b' ');
        // strings.Replace(o, whole, with, 1): the first occurrence.
        let whole = g(0);
        if let Some(at) = find(&out, whole) {
            out.splice(at..at + whole.len(), with);
        }
    }
    Ok(out)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

fn split_or(c: &[u8]) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut rest = c;
    while let Some(at) = find(rest, b"||") {
        parts.push(&rest[..at]);
        rest = &rest[at + 2..];
    }
    parts.push(rest);
    parts
}

impl Constraints {
    /// `semver.NewConstraint`; errors without the input.
    pub(crate) fn parse(c: &[u8]) -> Result<Constraints, String> {
        let c = rewrite_range(c)?;
        let valid = compile(valid_re().as_bytes())?;
        let finder = compile(find_re().as_bytes())?;
        let mut groups = Vec::new();
        for part in split_or(&c) {
            if !valid.regex().is_match(part) {
                return Err(IMPROPER.into());
            }
            let mut found: Vec<&[u8]> = finder
                .regex()
                .find_iter(part)
                .map(|m| m.as_bytes())
                .collect();
            if found.is_empty() {
                found.push(part);
            }
            let group = found
                .into_iter()
                .map(parse_constraint)
                .collect::<Result<Vec<_>, _>>()?;
            groups.push(group);
        }
        Ok(Constraints(groups))
    }

    /// `Constraints.Check`: a prerelease version satisfies only groups in
    /// which some comparison names a prerelease.
    pub(crate) fn check(&self, v: &Version) -> bool {
        self.0.iter().any(|group| {
            let include_pre = group.iter().any(|c| !c.con.pre.is_empty());
            group.iter().all(|c| c.check(v, include_pre))
        })
    }
}

fn parse_constraint(c: &[u8]) -> Result<Constraint, String> {
    if c.is_empty() {
        // Empty means any version (>= 0.0.0).
        return Ok(Constraint {
            con: Version::default(),
            op: Vec::new(),
            minor_dirty: false,
            patch_dirty: false,
            dirty: true,
        });
    }
    let re = compile(constraint_re().as_bytes())?;
    let caps = re.regex().captures(c).ok_or(IMPROPER)?;
    let g = |i: usize| caps.get(i).map(|m| m.as_bytes()).unwrap_or_default();
    let trim_dot = |s: &[u8]| s.strip_prefix(b".").unwrap_or(s).to_vec();
    let (mut minor_dirty, mut patch_dirty, mut dirty) = (false, false, false);
    let join = |parts: &[&[u8]]| parts.concat();
    let ver = if is_x(g(3)) || g(3).is_empty() {
        dirty = true;
        join(&[b"0.0.0", g(6)])
    } else if is_x(&trim_dot(g(4))) || g(4).is_empty() {
        minor_dirty = true;
        dirty = true;
        join(&[g(3), b".0.0", g(6)])
    } else if is_x(&trim_dot(g(5))) || g(5).is_empty() {
        dirty = true;
        patch_dirty = true;
        join(&[g(3), g(4), b".0", g(6)])
    } else {
        g(2).to_vec()
    };
    let con = Version::parse(&ver).map_err(|_| "constraint parser error".to_string())?;
    Ok(Constraint {
        con,
        op: g(1).to_vec(),
        minor_dirty,
        patch_dirty,
        dirty,
    })
}

impl Constraint {
    fn check(&self, v: &Version, include_pre: bool) -> bool {
        if !v.pre.is_empty() && !include_pre {
            return false;
        }
        match self.op.as_slice() {
            b"" | b"=" => self.tilde_or_equal(v),
            b"!=" => self.not_equal(v),
            b">" => self.greater_than(v),
            b"<" => v.compare(&self.con).is_lt(),
            b">=" | b"=>" => v.compare(&self.con).is_ge(),
            b"<=" | b"=<" => self.less_equal(v),
            b"~" | b"~>" => self.tilde(v),
            b"^" => self.caret(v),
            _ => false,
        }
    }

    fn not_equal(&self, v: &Version) -> bool {
        let c = &self.con;
        if self.dirty {
            if c.major != v.major {
                return true;
            }
            if c.minor != v.minor && !self.minor_dirty {
                return true;
            } else if self.minor_dirty {
                return false;
            } else if c.patch != v.patch && !self.patch_dirty {
                return true;
            } else if self.patch_dirty {
                if !v.pre.is_empty() || !c.pre.is_empty() {
                    return compare_prerelease(&v.pre, &c.pre) != Ordering::Equal;
                }
                return false;
            }
        }
        v.compare(c) != Ordering::Equal
    }

    fn greater_than(&self, v: &Version) -> bool {
        let c = &self.con;
        if !self.dirty {
            return v.compare(c).is_gt();
        }
        if v.major > c.major {
            true
        } else if v.major < c.major || self.minor_dirty {
            false
        } else if self.patch_dirty {
            v.minor > c.minor
        } else {
            v.compare(c).is_gt()
        }
    }

    fn less_equal(&self, v: &Version) -> bool {
        let c = &self.con;
        if !self.dirty {
            return v.compare(c).is_le();
        }
        !(v.major > c.major || (v.major == c.major && v.minor > c.minor && !self.minor_dirty))
    }

    fn tilde(&self, v: &Version) -> bool {
        let c = &self.con;
        if v.compare(c).is_lt() {
            return false;
        }
        // ~0.0.0 accepts everything.
        if c.major == 0 && c.minor == 0 && c.patch == 0 && !self.minor_dirty && !self.patch_dirty {
            return true;
        }
        if v.major != c.major {
            return false;
        }
        v.minor == c.minor || self.minor_dirty
    }

    fn tilde_or_equal(&self, v: &Version) -> bool {
        if self.dirty {
            return self.tilde(v);
        }
        v.compare(&self.con).is_eq()
    }

    fn caret(&self, v: &Version) -> bool {
        let c = &self.con;
        if v.compare(c).is_lt() {
            return false;
        }
        if c.major > 0 || self.minor_dirty {
            return v.major == c.major;
        }
        if v.major > 0 {
            return false;
        }
        if c.minor > 0 || self.patch_dirty {
            return v.minor == c.minor;
        }
        if v.minor > 0 {
            return false;
        }
        c.patch == v.patch
    }
}
