//! Go's regular expression syntax (RE2, `regexp/syntax` with Perl flags),
//! translated into an equivalent pattern for the `regex` crate.
//!
//! The two syntaxes differ in many corners (`\d` is ASCII in Go, `\Q..\E`,
//! `\<`, octal escapes, `{,n}`, repeat limits, `\p{..}` names, flags `x`/`u`
//! that Go rejects...), so the pattern is parsed with Go's rules and written
//! out fully explicit: every literal as `\x{..}`, every flag on the atom it
//! governs, every class as ranges. Errors are Go's codes, without the pattern.

use super::class::{
    escape, literal_atom, perl_group, posix_group, push_range, rune_at, unicode_table, NOTHING,
};
use super::error::{
    ERR_INVALID_ESCAPE, ERR_INVALID_RANGE, ERR_MISSING_BRACKET, ERR_MISSING_PAREN,
    ERR_NAMED_CAPTURE, ERR_NESTING, ERR_PERL_OP, ERR_REPEAT_ARG, ERR_REPEAT_OP, ERR_REPEAT_SIZE,
    ERR_UNEXPECTED_PAREN, ERR_UTF8,
};

/// A translated pattern: the `regex` crate's syntax, and Go's capture names
/// (index 0 is the whole match, unnamed groups are "").
#[derive(Debug)]
pub(crate) struct Translated {
    pub pattern: String,
    pub names: Vec<String>,
}

#[derive(Clone, Copy, Default)]
struct Flags {
    fold: bool,
    multi_line: bool,
    dot_nl: bool,
    ungreedy: bool,
}

/// One operand on the parse stack, already written in Rust syntax.
struct Atom {
    text: String,
    /// Product of nested counted repetitions (Go's `repeatIsValid`).
    weight: u64,
    height: usize,
    /// A repetition, which must be wrapped to be repeated again.
    repeated: bool,
}

struct Level {
    /// Finished alternatives.
    branches: Vec<String>,
    branch_height: usize,
    branch_weight: u64,
    cur: Vec<Atom>,
    /// Flags to restore when the group closes.
    saved: Flags,
    /// `Some(())` for a capturing group.
    capture: bool,
}

impl Level {
    fn new(saved: Flags, capture: bool) -> Self {
        Level {
            branches: Vec::new(),
            branch_height: 0,
            branch_weight: 1,
            cur: Vec::new(),
            saved,
            capture,
        }
    }

    fn end_branch(&mut self) {
        // Alternation binds loosest: a branch needs no group of its own.
        let atoms = std::mem::take(&mut self.cur);
        let mut text = String::new();
        let mut h = 0;
        for a in &atoms {
            text.push_str(&a.text);
            h = h.max(a.height);
            self.branch_weight = self.branch_weight.max(a.weight);
        }
        self.branch_height = self.branch_height.max(h + usize::from(atoms.len() > 1));
        self.branches.push(text);
    }

    /// The group's contents as one atom.
    fn finish(mut self) -> (String, u64, usize) {
        self.end_branch();
        let many = self.branches.len() > 1;
        (
            self.branches.join("|"),
            self.branch_weight,
            self.branch_height + usize::from(many),
        )
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    flags: Flags,
    stack: Vec<Level>,
    names: Vec<String>,
}

impl Parser<'_> {
    fn peek(&self, k: usize) -> Option<u8> {
        self.s.get(self.i + k).copied()
    }

    fn level(&mut self) -> &mut Level {
        // The root level is never popped (see `right_paren`).
        let n = self.stack.len();
        &mut self.stack[n - 1]
    }

    fn push(&mut self, text: String) {
        self.level().cur.push(Atom {
            text,
            weight: 1,
            height: 1,
            repeated: false,
        });
    }

    /// `\p{Name}`, `\pL`, `\P..`, at a backslash; `None` if not one.
    fn unicode_class(&mut self) -> Result<Option<String>, &'static str> {
        let negated = match (self.peek(0), self.peek(1)) {
            (Some(b'\\'), Some(b'p')) => false,
            (Some(b'\\'), Some(b'P')) => true,
            _ => return Ok(None),
        };
        let start = self.i + 2;
        let name: &[u8] = if self.s.get(start) == Some(&b'{') {
            let Some(end) = self.s[start..].iter().position(|&b| b == b'}') else {
                if std::str::from_utf8(&self.s[self.i..]).is_err() {
                    return Err(ERR_UTF8);
                }
                return Err(ERR_INVALID_RANGE);
            };
            let name = &self.s[start + 1..start + end];
            if std::str::from_utf8(name).is_err() {
                return Err(ERR_UTF8);
            }
            self.i = start + end + 1;
            name
        } else if start >= self.s.len() {
            self.i = start;
            b""
        } else {
            let (_, w) = rune_at(self.s, start)?;
            self.i = start + w;
            &self.s[start..start + w]
        };
        let (name, negated) = match name.strip_prefix(b"^") {
            Some(n) => (n, !negated),
            None => (name, negated),
        };
        let (rust, inverted) = unicode_table(name).ok_or(ERR_INVALID_RANGE)?;
        let negated = negated != inverted;
        // Surrogates never occur in decoded text; Rust has no such class.
        if rust == "Cs" {
            let any = r"[\x{0}-\x{10FFFF}]";
            return Ok(Some(if negated { any } else { NOTHING }.into()));
        }
        let p = if negated { 'P' } else { 'p' };
        Ok(Some(format!(r"\{p}{{{rust}}}")))
    }

    fn class(&mut self) -> Result<String, &'static str> {
        self.i += 1; // [
        let mut out = String::from("[");
        if self.peek(0) == Some(b'^') {
            out.push('^');
            self.i += 1;
        }
        let mut first = true;
        loop {
            match self.peek(0) {
                None => return Err(ERR_MISSING_BRACKET),
                Some(b']') if !first => break,
                _ => {}
            }
            first = false;
            if self.peek(0) == Some(b'[') && self.peek(1) == Some(b':') {
                let rest = &self.s[self.i + 2..];
                if let Some(end) = rest.windows(2).position(|w| w == b":]") {
                    let name = &rest[..end];
                    out.push_str(&posix_group(name).ok_or(ERR_INVALID_RANGE)?);
                    self.i += 2 + end + 2;
                    continue;
                }
            }
            if let Some(u) = self.unicode_class()? {
                out.push_str(&u);
                continue;
            }
            if self.peek(0) == Some(b'\\') {
                if let Some(g) = self.peek(1).and_then(perl_group) {
                    out.push_str(&g);
                    self.i += 2;
                    continue;
                }
            }
            let lo = self.class_char()?;
            let mut hi = lo;
            if self.peek(0) == Some(b'-') && self.peek(1).is_some_and(|c| c != b']') {
                self.i += 1;
                hi = self.class_char()?;
                if hi < lo {
                    return Err(ERR_INVALID_RANGE);
                }
            }
            push_range(&mut out, lo, hi);
        }
        self.i += 1; // ]
        out.push(']');
        // All surrogates or nothing at all: Rust needs a non-empty class text.
        if out == "[]" {
            return Ok(NOTHING.into());
        }
        if out == "[^]" {
            return Ok(r"[\x{0}-\x{10FFFF}]".into());
        }
        Ok(out)
    }

    fn class_char(&mut self) -> Result<u32, &'static str> {
        match self.peek(0) {
            None => Err(ERR_MISSING_BRACKET),
            Some(b'\\') => escape(self.s, &mut self.i),
            Some(_) => {
                let (c, w) = rune_at(self.s, self.i)?;
                self.i += w;
                Ok(c as u32)
            }
        }
    }

    /// `(?flags)`, `(?flags:`, `(?P<name>`, `(?<name>` at `(?`.
    fn perl_flags(&mut self) -> Result<(), &'static str> {
        let t = &self.s[self.i..];
        let named = if t.len() > 4 && t[2] == b'P' && t[3] == b'<' {
            Some(4)
        } else if t.len() > 3 && t[2] == b'<' {
            Some(3)
        } else {
            None
        };
        if let Some(start) = named {
            let end = t.iter().position(|&b| b == b'>');
            let Some(end) = end else {
                if std::str::from_utf8(t).is_err() {
                    return Err(ERR_UTF8);
                }
                return Err(ERR_NAMED_CAPTURE);
            };
            let name = std::str::from_utf8(&t[start..end]).map_err(|_| ERR_UTF8)?;
            if name.is_empty() || !name.bytes().all(|b| b == b'_' || b.is_ascii_alphanumeric()) {
                return Err(ERR_NAMED_CAPTURE);
            }
            self.names.push(name.into());
            self.i += end + 1;
            let saved = self.flags;
            self.stack.push(Level::new(saved, true));
            return Ok(());
        }
        let mut i = self.i + 2;
        let mut flags = self.flags;
        let mut negative = false;
        let mut saw = false;
        while i < self.s.len() {
            let (c, w) = rune_at(self.s, i)?;
            i += w;
            let on = !negative;
            match c {
                'i' => flags.fold = on,
                'm' => flags.multi_line = on,
                's' => flags.dot_nl = on,
                'U' => flags.ungreedy = on,
                '-' if !negative => {
                    negative = true;
                    saw = false;
                    continue;
                }
                ':' | ')' if !negative || saw => {
                    if c == ':' {
                        let saved = self.flags;
                        self.stack.push(Level::new(saved, false));
                    }
                    self.flags = flags;
                    self.i = i;
                    return Ok(());
                }
                _ => break,
            }
            saw = true;
        }
        Err(ERR_PERL_OP)
    }

    fn right_paren(&mut self) -> Result<(), &'static str> {
        if self.stack.len() < 2 {
            return Err(ERR_UNEXPECTED_PAREN);
        }
        let Some(level) = self.stack.pop() else {
            return Err(ERR_UNEXPECTED_PAREN);
        };
        self.flags = level.saved;
        let capture = level.capture;
        let (inner, weight, height) = level.finish();
        let text = if capture {
            format!("({inner})")
        } else {
            format!("(?:{inner})")
        };
        let height = height + usize::from(capture);
        if height > 1000 {
            return Err(ERR_NESTING);
        }
        self.level().cur.push(Atom {
            text,
            weight,
            height,
            repeated: false,
        });
        Ok(())
    }

    /// Applies a repetition to the last operand; `max` < 0 is unbounded.
    fn repeat(&mut self, op: &str, counted: Option<(i64, i64)>) -> Result<(), &'static str> {
        let mut lazy = self.flags.ungreedy;
        if self.peek(0) == Some(b'?') {
            self.i += 1;
            lazy = !lazy;
        }
        let Some(atom) = self.level().cur.pop() else {
            return Err(ERR_REPEAT_ARG);
        };
        let mut weight = atom.weight;
        if let Some((min, max)) = counted {
            // Go's repeatIsValid: a `{0}` hides what it repeats.
            let m = if max < 0 { min } else { max };
            if m == 0 {
                weight = 1;
            } else if m > 0 {
                weight = weight.saturating_mul(m as u64);
            }
            if (min >= 2 || max >= 2) && weight > 1000 {
                return Err(ERR_REPEAT_SIZE);
            }
        }
        let height = atom.height + 1;
        if height > 1000 {
            return Err(ERR_NESTING);
        }
        // Every other atom is one unit of Rust syntax already.
        let lazy = if lazy { "?" } else { "" };
        let text = if atom.repeated {
            format!("(?:{}){op}{lazy}", atom.text)
        } else {
            format!("{}{op}{lazy}", atom.text)
        };
        self.level().cur.push(Atom {
            text,
            weight,
            height,
            repeated: true,
        });
        Ok(())
    }

    /// Go's `parseRepeat` at `{`: `Some((min, max, len))` or `None` when the
    /// brace is a literal.
    fn parse_repeat(&self) -> Option<(i64, i64, usize)> {
        let t = &self.s[self.i..];
        let mut j = 1;
        let int = |j: &mut usize| -> Option<i64> {
            let start = *j;
            if !t.get(start)?.is_ascii_digit() {
                return None;
            }
            if t[start] == b'0' && t.get(start + 1).is_some_and(u8::is_ascii_digit) {
                return None;
            }
            let mut n: i64 = 0;
            while let Some(d) = t.get(*j).filter(|d| d.is_ascii_digit()) {
                if n >= 100_000_000 {
                    n = -1;
                } else if n >= 0 {
                    n = n * 10 + i64::from(d - b'0');
                }
                *j += 1;
            }
            Some(n)
        };
        let mut min = int(&mut j)?;
        let max;
        match t.get(j)? {
            b',' => {
                j += 1;
                if *t.get(j)? == b'}' {
                    max = -1;
                } else {
                    max = int(&mut j)?;
                    if max < 0 {
                        min = -1;
                    }
                }
            }
            _ => max = min,
        }
        if *t.get(j)? != b'}' {
            return None;
        }
        Some((min, max, j + 1))
    }

    fn run(&mut self) -> Result<(), &'static str> {
        let mut last_repeat = false;
        while let Some(c) = self.peek(0) {
            let mut repeat = false;
            match c {
                b'(' if self.peek(1) == Some(b'?') => self.perl_flags()?,
                b'(' => {
                    self.i += 1;
                    self.names.push(String::new());
                    let saved = self.flags;
                    self.stack.push(Level::new(saved, true));
                }
                b'|' => {
                    self.i += 1;
                    self.level().end_branch();
                }
                b')' => {
                    self.right_paren()?;
                    self.i += 1;
                }
                b'^' | b'$' | b'.' => {
                    self.i += 1;
                    let f = self.flags;
                    let text = match (c, f.multi_line, f.dot_nl) {
                        (b'^', false, _) => r"\A",
                        (b'^', true, _) => "(?m:^)",
                        (b'$', false, _) => r"\z",
                        (b'$', true, _) => "(?m:$)",
                        (_, _, true) => "(?s:.)",
                        _ => "(?-s:.)",
                    };
                    self.push(text.into());
                }
                b'[' => {
                    let class = self.class()?;
                    let text = if self.flags.fold {
                        format!("(?i:{class})")
                    } else {
                        class
                    };
                    self.push(text);
                }
                b'*' | b'+' | b'?' => {
                    if last_repeat {
                        return Err(ERR_REPEAT_OP);
                    }
                    self.i += 1;
                    let op = match c {
                        b'*' => "*",
                        b'+' => "+",
                        _ => "?",
                    };
                    self.repeat(op, None)?;
                    repeat = true;
                }
                b'{' => match self.parse_repeat() {
                    None => {
                        self.i += 1;
                        let fold = self.flags.fold;
                        self.push(literal_atom(u32::from(b'{'), fold));
                    }
                    Some((min, max, len)) => {
                        if !(0..=1000).contains(&min) || max > 1000 || (max >= 0 && min > max) {
                            return Err(ERR_REPEAT_SIZE);
                        }
                        if last_repeat {
                            return Err(ERR_REPEAT_OP);
                        }
                        self.i += len;
                        let op = match max {
                            _ if max == min => format!("{{{min}}}"),
                            -1 => format!("{{{min},}}"),
                            _ => format!("{{{min},{max}}}"),
                        };
                        self.repeat(&op, Some((min, max)))?;
                        repeat = true;
                    }
                },
                b'\\' => self.backslash()?,
                _ => {
                    let (r, w) = rune_at(self.s, self.i)?;
                    self.i += w;
                    let fold = self.flags.fold;
                    self.push(literal_atom(r as u32, fold));
                }
            }
            last_repeat = repeat;
        }
        if self.stack.len() != 1 {
            return Err(ERR_MISSING_PAREN);
        }
        Ok(())
    }

    fn backslash(&mut self) -> Result<(), &'static str> {
        let fixed = match self.peek(1) {
            Some(b'A') => Some(r"\A"),
            Some(b'b') => Some(r"(?-u:\b)"),
            Some(b'B') => Some(r"(?-u:\B)"),
            Some(b'z') => Some(r"\z"),
            Some(b'C') => return Err(ERR_INVALID_ESCAPE),
            Some(b'Q') => {
                let rest = &self.s[self.i + 2..];
                let end = rest.windows(2).position(|w| w == b"\\E");
                let lit_end = self.i + 2 + end.unwrap_or(rest.len());
                let mut j = self.i + 2;
                let fold = self.flags.fold;
                while j < lit_end {
                    let (r, w) = rune_at(self.s, j)?;
                    j += w;
                    self.push(literal_atom(r as u32, fold));
                }
                self.i = if end.is_some() { lit_end + 2 } else { lit_end };
                return Ok(());
            }
            _ => None,
        };
        if let Some(text) = fixed {
            self.i += 2;
            self.push(text.into());
            return Ok(());
        }
        let fold = self.flags.fold;
        let wrap = |class: String| {
            if fold {
                format!("(?i:{class})")
            } else {
                class
            }
        };
        if let Some(u) = self.unicode_class()? {
            self.push(wrap(u));
            return Ok(());
        }
        if let Some(g) = self.peek(1).and_then(perl_group) {
            self.i += 2;
            self.push(wrap(g));
            return Ok(());
        }
        let r = escape(self.s, &mut self.i)?;
        self.push(literal_atom(r, fold));
        Ok(())
    }
}

/// Parses a Go pattern; `Err` is Go's error code.
pub(crate) fn translate(pattern: &[u8]) -> Result<Translated, &'static str> {
    let mut p = Parser {
        s: pattern,
        i: 0,
        flags: Flags::default(),
        stack: vec![Level::new(Flags::default(), false)],
        names: vec![String::new()],
    };
    p.run()?;
    let Some(root) = p.stack.pop() else {
        return Err(ERR_MISSING_PAREN);
    };
    let (text, _, height) = root.finish();
    if height > 1000 {
        return Err(ERR_NESTING);
    }
    Ok(Translated {
        pattern: text,
        names: p.names,
    })
}
