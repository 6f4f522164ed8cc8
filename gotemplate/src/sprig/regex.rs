//! sprig's regular expression functions, with Go's `regexp` semantics: the
//! pattern is Go syntax (translated by `syntax`), matching is leftmost-first
//! like Go's, and the match loops, `Split` and `Expand` follow Go's rules for
//! empty matches and `$` templates. The `regex` crate keeps matching linear
//! and its size limits bound hostile patterns.

mod class;
mod error;
mod names;
mod syntax;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::OnceLock;

use regex::bytes::{Regex, RegexBuilder};

use crate::funcs::{Env, Func, FuncError, Type};
use crate::value::{Elem, Value};
use syntax::translate;

const S: Type = Type::String;

pub(super) const FUNCS: &[Func] = &[
    Func::new("regexMatch", &[S, S], |e, a| regex_match(e, a, false)),
    Func::new("mustRegexMatch", &[S, S], |e, a| regex_match(e, a, true)),
    Func::new("regexFindAll", &[S, S, Type::Int], |e, a| {
        find_all(e, a, false)
    }),
    Func::new("mustRegexFindAll", &[S, S, Type::Int], |e, a| {
        find_all(e, a, true)
    }),
    Func::new("regexFind", &[S, S], |e, a| find(e, a, false)),
    Func::new("mustRegexFind", &[S, S], |e, a| find(e, a, true)),
    Func::new("regexReplaceAll", &[S, S, S], |e, a| {
        replace_all(e, a, false, true)
    }),
    Func::new("mustRegexReplaceAll", &[S, S, S], |e, a| {
        replace_all(e, a, true, true)
    }),
    Func::new("regexReplaceAllLiteral", &[S, S, S], |e, a| {
        replace_all(e, a, false, false)
    }),
    Func::new("mustRegexReplaceAllLiteral", &[S, S, S], |e, a| {
        replace_all(e, a, true, false)
    }),
    Func::new("regexSplit", &[S, S, Type::Int], |e, a| split(e, a, false)),
    Func::new("mustRegexSplit", &[S, S, Type::Int], |e, a| {
        split(e, a, true)
    }),
    Func::new("regexQuoteMeta", &[S], quote_meta),
];

/// A compiled Go pattern.
pub(crate) struct GoRegex {
    re: Regex,
    /// Go's capture names, index 0 the whole match.
    names: Vec<String>,
    /// Go's `len(re.expr) > 0` (used by `Split`).
    nonempty_expr: bool,
}

/// Deeper nesting than Go's 1000 is refused: the `regex` crate compiles
/// recursively, and a few hundred levels already need megabytes of stack.
const NEST_LIMIT: u32 = 250;

/// Patterns are usually template constants applied to many values: keep
/// the last few compiled.
const CACHE_SIZE: usize = 64;

thread_local! {
    static CACHE: RefCell<HashMap<Vec<u8>, Rc<GoRegex>>> = RefCell::new(HashMap::new());
}

/// Go's `regexp.Compile`; `Err` is Go's error text without the pattern.
pub(crate) fn compile(pattern: &[u8]) -> Result<Rc<GoRegex>, String> {
    if let Some(re) = CACHE.with(|c| c.borrow().get(pattern).cloned()) {
        return Ok(re);
    }
    let t = translate(pattern).map_err(|code| format!("error parsing regexp: {code}"))?;
    let re = RegexBuilder::new(&t.pattern)
        .size_limit(32 << 20)
        .dfa_size_limit(8 << 20)
        .nest_limit(NEST_LIMIT)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => "error parsing regexp: expression too large".into(),
            regex::Error::Syntax(s) if s.contains("maximum number of nested") => {
                "error parsing regexp: expression nests too deeply".into()
            }
            // Not expected: the translation only writes valid syntax.
            _ => "error parsing regexp: invalid or unsupported Perl syntax".to_string(),
        })?;
    let compiled = Rc::new(GoRegex {
        re,
        names: t.names,
        nonempty_expr: !pattern.is_empty(),
    });
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CACHE_SIZE {
            c.clear();
        }
        c.insert(pattern.to_vec(), compiled.clone());
    });
    Ok(compiled)
}

fn strs(args: &[Value]) -> Result<Vec<&[u8]>, FuncError> {
    args.iter()
        .filter_map(|a| match a {
            Value::Int(_) => None,
            v => Some(
                v.as_bytes()
                    .ok_or_else(|| FuncError::reason("wrong type for value; expected string")),
            ),
        })
        .collect()
}

fn int_arg(args: &[Value], i: usize) -> Result<i64, FuncError> {
    match args.get(i) {
        Some(Value::Int(n)) => Ok(*n),
        _ => Err(FuncError::reason("wrong type for value; expected int")),
    }
}

/// Compiles for a function: the `must` variants return Go's error, the
/// others call Go's `MustCompile`, whose panic text/template reports.
fn compile_for(pattern: &[u8], must: bool) -> Result<Rc<GoRegex>, FuncError> {
    compile(pattern).map_err(|e| {
        if must {
            FuncError::reason(e)
        } else {
            FuncError::reason(format!("regexp: Compile: {e}"))
        }
    })
}

/// Width of the UTF-8 character at `pos` as Go steps over it (a bad byte is
/// one; the end is zero).
fn rune_width(s: &[u8], pos: usize) -> usize {
    let Some(rest) = s.get(pos..) else { return 0 };
    if rest.is_empty() {
        return 0;
    }
    (1..=4.min(rest.len()))
        .find(|&n| std::str::from_utf8(&rest[..n]).is_ok())
        .unwrap_or(1)
}

/// Whether Go's matcher visits `pos`: not inside a valid UTF-8 sequence
/// (Go steps over a bad byte alone).
fn at_rune_start(s: &[u8], pos: usize) -> bool {
    (1..=3).all(|back| pos < back || rune_width(s, pos - back) <= back)
}

/// What the matcher runs on. Go decodes each byte of invalid UTF-8 as
/// U+FFFD (width 1), which `.`, negated classes and `\x{FFFD}` match: such a
/// subject is matched as a copy with those bytes replaced, and offsets are
/// mapped back to the original, whose bytes the results hold.
struct Subject<'a> {
    text: std::borrow::Cow<'a, [u8]>,
    /// Offsets in `text` of the U+FFFD that stand for one bad byte each.
    replaced: Vec<usize>,
}

impl<'a> Subject<'a> {
    fn new(env: &mut Env<'_>, s: &'a [u8]) -> Result<Subject<'a>, FuncError> {
        if std::str::from_utf8(s).is_ok() {
            return Ok(Subject {
                text: s.into(),
                replaced: Vec::new(),
            });
        }
        let mut text = Vec::with_capacity(s.len() + 16);
        let mut replaced = Vec::new();
        let mut pos = 0;
        while pos < s.len() {
            env.check_time()?;
            let w = rune_width(s, pos);
            if w == 1 && s[pos] >= 0x80 {
                env.charge(3 + std::mem::size_of::<usize>())?;
                replaced.push(text.len());
                text.extend_from_slice("\u{FFFD}".as_bytes());
            } else {
                env.charge(w)?;
                text.extend_from_slice(&s[pos..pos + w]);
            }
            pos += w.max(1);
        }
        Ok(Subject {
            text: text.into(),
            replaced,
        })
    }

    /// The offset in the original of offset `i` of `text`.
    fn orig(&self, i: usize) -> usize {
        let k = self.replaced.partition_point(|&r| r + 3 <= i);
        match self.replaced.get(k) {
            // Inside a replacement (not expected: matches end at characters).
            Some(&r) if r < i => r - 2 * k,
            _ => i - 2 * k,
        }
    }
}

impl GoRegex {
    /// The compiled pattern, for Go patterns that cannot match empty inside
    /// a character (no `\B`), such as the fixed ones of other modules.
    pub(crate) fn regex(&self) -> &Regex {
        &self.re
    }

    /// The leftmost match at or after `from`, as Go finds it: the `regex`
    /// crate's byte-level `\B` can match empty inside a character, where Go
    /// never looks.
    fn find_at(
        &self,
        locs: &mut regex::bytes::CaptureLocations,
        s: &[u8],
        mut from: usize,
    ) -> Option<(usize, usize)> {
        loop {
            let m = self.re.captures_read_at(locs, s, from)?;
            if m.start() == m.end() && !at_rune_start(s, m.start()) {
                from = m.start() + 1;
                continue;
            }
            return Some((m.start(), m.end()));
        }
    }

    fn find(&self, env: &mut Env<'_>, s: &[u8]) -> Result<Option<(usize, usize)>, FuncError> {
        let subject = Subject::new(env, s)?;
        let mut locs = self.re.capture_locations();
        Ok(self
            .find_at(&mut locs, &subject.text, 0)
            .map(|(a, b)| (subject.orig(a), subject.orig(b))))
    }

    /// Go's `allMatches`: up to `n` matches (all if `n` < 0), no empty match
    /// right after a previous match.
    fn all_matches(
        &self,
        env: &mut Env<'_>,
        s: &[u8],
        n: i64,
        mut deliver: impl FnMut(&mut Env<'_>, usize, usize) -> Result<(), FuncError>,
    ) -> Result<(), FuncError> {
        let subject = Subject::new(env, s)?;
        let s: &[u8] = &subject.text;
        let n = if n < 0 { s.len() as i64 + 1 } else { n };
        let (mut pos, mut count, mut prev_end) = (0usize, 0i64, None);
        let mut locs = self.re.capture_locations();
        while count < n && pos <= s.len() {
            env.check_time()?;
            let Some((start, end)) = self.find_at(&mut locs, s, pos) else {
                break;
            };
            let mut accept = true;
            if end == pos {
                if Some(start) == prev_end {
                    accept = false;
                }
                let w = rune_width(s, pos);
                pos = if w > 0 { pos + w } else { s.len() + 1 };
            } else {
                pos = end;
            }
            prev_end = Some(end);
            if accept {
                deliver(env, subject.orig(start), subject.orig(end))?;
                count += 1;
            }
        }
        Ok(())
    }

    /// Go's `Regexp.Split`.
    pub(crate) fn split(
        &self,
        env: &mut Env<'_>,
        s: &[u8],
        n: i64,
    ) -> Result<Vec<Value>, FuncError> {
        if n == 0 {
            return Ok(Vec::new());
        }
        if self.nonempty_expr && s.is_empty() {
            return Ok(vec![Value::str("")]);
        }
        let mut matches = Vec::new();
        self.all_matches(env, s, n, |env, a, b| {
            env.charge(16)?;
            matches.push((a, b));
            Ok(())
        })?;
        let mut out = Vec::new();
        let (mut beg, mut end) = (0, 0);
        for (a, b) in matches {
            if n > 0 && out.len() as i64 >= n - 1 {
                break;
            }
            end = a;
            if b != 0 {
                env.charge(16 + end.saturating_sub(beg))?;
                out.push(Value::bytes(s.get(beg..end).unwrap_or_default()));
            }
            beg = b;
        }
        if end != s.len() {
            env.charge(16 + s.len().saturating_sub(beg))?;
            out.push(Value::bytes(s.get(beg..).unwrap_or_default()));
        }
        Ok(out)
    }

    /// Go's `ReplaceAllString` (`expand`) or `ReplaceAllLiteralString`.
    fn replace_all(
        &self,
        env: &mut Env<'_>,
        s: &[u8],
        repl: &[u8],
        expand: bool,
    ) -> Result<Vec<u8>, FuncError> {
        let original = s;
        let subject = Subject::new(env, s)?;
        let s: &[u8] = &subject.text;
        let mut buf = Vec::new();
        let (mut last_end, mut search) = (0usize, 0usize);
        let mut locs = self.re.capture_locations();
        while search <= s.len() {
            env.check_time()?;
            let Some((a0, a1)) = self.find_at(&mut locs, s, search) else {
                break;
            };
            let gap = original
                .get(subject.orig(last_end)..subject.orig(a0))
                .unwrap_or_default();
            env.charge(gap.len())?;
            buf.extend_from_slice(gap);
            if a1 > last_end || a0 == 0 {
                let before = buf.len();
                if expand {
                    self.expand(env, &mut buf, repl, original, &subject, &locs)?;
                } else {
                    env.charge(repl.len())?;
                    buf.extend_from_slice(repl);
                }
                debug_assert!(buf.len() >= before);
            }
            last_end = a1;
            let w = rune_width(s, search);
            if search + w > a1 {
                search += w;
            } else if search + 1 > a1 {
                search += 1;
            } else {
                search = a1;
            }
        }
        let tail = original.get(subject.orig(last_end)..).unwrap_or_default();
        env.charge(tail.len())?;
        buf.extend_from_slice(tail);
        Ok(buf)
    }

    /// Go's `Regexp.expand`: `$1`, `${1}`, `$name`, `${name}`, `$$`.
    fn expand(
        &self,
        env: &mut Env<'_>,
        dst: &mut Vec<u8>,
        mut template: &[u8],
        s: &[u8],
        subject: &Subject<'_>,
        locs: &regex::bytes::CaptureLocations,
    ) -> Result<(), FuncError> {
        let group = |i: usize| {
            locs.get(i)
                .and_then(|(a, b)| s.get(subject.orig(a)..subject.orig(b)))
        };
        while let Some(dollar) = template.iter().position(|&b| b == b'$') {
            env.check_time()?;
            let before = &template[..dollar];
            env.charge(before.len())?;
            dst.extend_from_slice(before);
            template = &template[dollar + 1..];
            if template.first() == Some(&b'$') {
                dst.push(b'$');
                template = &template[1..];
                continue;
            }
            let Some((name, num, rest)) = extract(template) else {
                dst.push(b'$');
                continue;
            };
            template = rest;
            let text = match num {
                Some(n) => group(n),
                None => self
                    .names
                    .iter()
                    .enumerate()
                    .filter(|(_, g)| g.as_bytes() == name)
                    .find_map(|(i, _)| group(i)),
            };
            if let Some(text) = text {
                env.charge(text.len())?;
                dst.extend_from_slice(text);
            }
        }
        env.charge(template.len())?;
        dst.extend_from_slice(template);
        Ok(())
    }
}

/// Go's `extract`: the name after a `$` (letters, digits, `_`, optionally in
/// braces), its number if it is one, and the rest of the template.
fn extract(t: &[u8]) -> Option<(&[u8], Option<usize>, &[u8])> {
    static NAME: OnceLock<Option<Regex>> = OnceLock::new();
    let name_re = NAME
        .get_or_init(|| Regex::new(r"\A[\p{L}\p{Nd}_]*").ok())
        .as_ref()?;
    let (brace, body) = match t.strip_prefix(b"{") {
        Some(b) => (true, b),
        None => (false, t),
    };
    let len = name_re.find(body).map_or(0, |m| m.end());
    if len == 0 {
        return None;
    }
    let name = &body[..len];
    let mut rest = &body[len..];
    if brace {
        rest = rest.strip_prefix(b"}")?;
    }
    let mut num: Option<usize> = Some(0);
    for &d in name {
        num = match num {
            Some(n) if d.is_ascii_digit() && n < 100_000_000 => {
                Some(n * 10 + usize::from(d - b'0'))
            }
            _ => None,
        };
    }
    if name.len() > 1 && name[0] == b'0' {
        num = None;
    }
    Some((name, num, rest))
}

fn regex_match(env: &mut Env<'_>, args: &[Value], must: bool) -> Result<Value, FuncError> {
    let a = strs(args)?;
    let (Some(p), Some(s)) = (a.first(), a.get(1)) else {
        return Err(FuncError::reason("wrong number of args"));
    };
    match compile(p) {
        Ok(re) => Ok(Value::Bool(re.find(env, s)?.is_some())),
        Err(e) if must => Err(FuncError::reason(e)),
        Err(_) => Ok(Value::Bool(false)),
    }
}

fn find_all(env: &mut Env<'_>, args: &[Value], must: bool) -> Result<Value, FuncError> {
    let a = strs(args)?;
    let (Some(p), Some(s)) = (a.first(), a.get(1)) else {
        return Err(FuncError::reason("wrong number of args"));
    };
    let n = int_arg(args, 2)?;
    let re = compile_for(p, must)?;
    let mut items = Vec::new();
    re.all_matches(env, s, n, |env, x, y| {
        env.charge(16 + y - x)?;
        items.push(Value::bytes(s.get(x..y).unwrap_or_default()));
        Ok(())
    })?;
    Ok(Value::list(Elem::String, items))
}

fn find(env: &mut Env<'_>, args: &[Value], must: bool) -> Result<Value, FuncError> {
    let a = strs(args)?;
    let (Some(p), Some(s)) = (a.first(), a.get(1)) else {
        return Err(FuncError::reason("wrong number of args"));
    };
    let re = compile_for(p, must)?;
    let found = re
        .find(env, s)?
        .and_then(|(a, b)| s.get(a..b))
        .unwrap_or_default();
    env.charge(found.len())?;
    Ok(Value::bytes(found))
}

fn replace_all(
    env: &mut Env<'_>,
    args: &[Value],
    must: bool,
    expand: bool,
) -> Result<Value, FuncError> {
    let a = strs(args)?;
    let (Some(p), Some(s), Some(r)) = (a.first(), a.get(1), a.get(2)) else {
        return Err(FuncError::reason("wrong number of args"));
    };
    let re = compile_for(p, must)?;
    let out = re.replace_all(env, s, r, expand)?;
    Ok(Value::bytes(&out))
}

fn split(env: &mut Env<'_>, args: &[Value], must: bool) -> Result<Value, FuncError> {
    let a = strs(args)?;
    let (Some(p), Some(s)) = (a.first(), a.get(1)) else {
        return Err(FuncError::reason("wrong number of args"));
    };
    let n = int_arg(args, 2)?;
    let re = compile_for(p, must)?;
    let items = re.split(env, s, n)?;
    Ok(Value::list(Elem::String, items))
}

/// Go's `regexp.QuoteMeta`: a backslash before each of `\.+*?()|[]{}^$`.
fn quote_meta(env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let s = strs(args)?.first().copied().unwrap_or_default();
    env.charge(s.len() * 2)?;
    let mut out = Vec::with_capacity(s.len());
    for &b in s {
        if br"\.+*?()|[]{}^$".contains(&b) {
            out.push(b'\\');
        }
        out.push(b);
    }
    Ok(Value::bytes(&out))
}

#[cfg(test)]
mod tests;
