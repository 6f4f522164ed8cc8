//! The lexer: Go's `text/template/parse` lexer as a plain loop over the input
//! that produces every item up front. Each step consumes input, so it ends.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemKind {
    Text,
    LeftDelim,
    RightDelim,
    Space,
    Bool,
    Char,
    CharConstant,
    Complex,
    Assign,
    Declare,
    Field,
    Identifier,
    LeftParen,
    RightParen,
    Number,
    Pipe,
    RawString,
    String,
    Variable,
    Dot,
    Block,
    Break,
    Continue,
    Define,
    Else,
    End,
    If,
    Nil,
    Range,
    Template,
    With,
    Eof,
}

#[derive(Clone, Debug)]
pub struct Item {
    pub kind: ItemKind,
    /// Byte offset of the item in the input.
    pub pos: usize,
    pub text: String,
    /// 1-based line at the start of the item.
    pub line: usize,
}

#[derive(Debug)]
pub struct LexError {
    pub line: usize,
    pub message: String,
}

/// Go's default delimiters.
pub const LEFT: &str = "{{";
pub const RIGHT: &str = "}}";
const LEFT_COMMENT: &str = "/*";
const RIGHT_COMMENT: &str = "*/";
/// The trim marker and the space beside it.
const TRIM_LEN: usize = 2;

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Go's `isAlphaNumeric`: `_`, or a letter or decimal digit by Go's Unicode tables.
pub fn is_alphanumeric(c: char) -> bool {
    use crate::unicode::{is_digit, is_letter};
    c == '_' || is_letter(u32::from(c)) || is_digit(u32::from(c))
}

fn has_left_trim(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b[0] == b'-' && is_space(b[1] as char)
}

fn has_right_trim(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && is_space(b[0] as char) && b[1] == b'-'
}

fn keyword(word: &str) -> Option<ItemKind> {
    Some(match word {
        "." => ItemKind::Dot,
        "block" => ItemKind::Block,
        "break" => ItemKind::Break,
        "continue" => ItemKind::Continue,
        "define" => ItemKind::Define,
        "else" => ItemKind::Else,
        "end" => ItemKind::End,
        "if" => ItemKind::If,
        "range" => ItemKind::Range,
        "nil" => ItemKind::Nil,
        "template" => ItemKind::Template,
        "with" => ItemKind::With,
        _ => return None,
    })
}

struct Lexer<'a> {
    input: &'a str,
    left: &'a str,
    right: &'a str,
    pos: usize,
    start: usize,
    line: usize,
    start_line: usize,
    paren_depth: i64,
    items: Vec<Item>,
}

/// Splits `input` into items, ending with `Eof`; or the first error.
/// `left` and `right` are the action delimiters (Go's `Delims`).
pub fn lex<'a>(input: &'a str, left: &'a str, right: &'a str) -> Result<Vec<Item>, LexError> {
    let mut l = Lexer {
        input,
        left,
        right,
        pos: 0,
        start: 0,
        line: 1,
        start_line: 1,
        paren_depth: 0,
        items: Vec::new(),
    };
    l.run()?;
    Ok(l.items)
}

impl Lexer<'_> {
    fn rest(&self) -> &str {
        &self.input[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn backup(&mut self, c: char) {
        self.pos -= c.len_utf8();
        if c == '\n' {
            self.line -= 1;
        }
    }

    fn emit(&mut self, kind: ItemKind) {
        self.items.push(Item {
            kind,
            pos: self.start,
            text: self.input[self.start..self.pos].to_string(),
            line: self.start_line,
        });
        self.start = self.pos;
        self.start_line = self.line;
    }

    fn ignore(&mut self) {
        self.line += self.input[self.start..self.pos].matches('\n').count();
        self.start = self.pos;
        self.start_line = self.line;
    }

    fn error(&self, message: impl Into<String>) -> LexError {
        LexError {
            line: self.start_line,
            message: message.into(),
        }
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.peek() {
            Some(c) if valid.contains(c) => {
                self.next();
                true
            }
            _ => false,
        }
    }

    fn accept_run(&mut self, valid: &str) {
        while self.accept(valid) {}
    }

    fn run(&mut self) -> Result<(), LexError> {
        loop {
            // Text up to the next action.
            match self.rest().find(self.left) {
                Some(x) => {
                    if x > 0 {
                        self.pos += x;
                        let delim_end = self.pos + self.left.len();
                        let trim = if has_left_trim(&self.input[delim_end..]) {
                            let text = &self.input[self.start..self.pos];
                            text.len() - text.trim_end_matches(is_space).len()
                        } else {
                            0
                        };
                        self.pos -= trim;
                        self.line += self.input[self.start..self.pos].matches('\n').count();
                        let text_item = Item {
                            kind: ItemKind::Text,
                            pos: self.start,
                            text: self.input[self.start..self.pos].to_string(),
                            line: self.start_line,
                        };
                        self.start = self.pos;
                        self.start_line = self.line;
                        self.pos += trim;
                        self.ignore();
                        if !text_item.text.is_empty() {
                            self.items.push(text_item);
                        }
                    }
                    self.left_delim()?;
                }
                None => {
                    self.pos = self.input.len();
                    if self.pos > self.start {
                        self.line += self.input[self.start..self.pos].matches('\n').count();
                        self.emit(ItemKind::Text);
                    }
                    self.emit(ItemKind::Eof);
                    return Ok(());
                }
            }
        }
    }

    fn at_right_delim(&self) -> (bool, bool) {
        let rest = self.rest();
        if has_right_trim(rest) && rest[TRIM_LEN..].starts_with(self.right) {
            return (true, true);
        }
        (rest.starts_with(self.right), false)
    }

    fn left_delim(&mut self) -> Result<(), LexError> {
        self.pos += self.left.len();
        let trim = has_left_trim(self.rest());
        let after = if trim { TRIM_LEN } else { 0 };
        if self.input[self.pos + after..].starts_with(LEFT_COMMENT) {
            self.pos += after;
            self.ignore();
            return self.comment();
        }
        self.emit(ItemKind::LeftDelim);
        self.pos += after;
        self.ignore();
        self.paren_depth = 0;
        self.inside_action()
    }

    fn comment(&mut self) -> Result<(), LexError> {
        self.pos += LEFT_COMMENT.len();
        let Some(x) = self.rest().find(RIGHT_COMMENT) else {
            return Err(self.error("unclosed comment"));
        };
        self.pos += x + RIGHT_COMMENT.len();
        let (delim, trim) = self.at_right_delim();
        if !delim {
            return Err(self.error("comment ends before closing delimiter"));
        }
        if trim {
            self.pos += TRIM_LEN;
        }
        self.pos += self.right.len();
        if trim {
            self.pos += self.rest().len() - self.rest().trim_start_matches(is_space).len();
        }
        self.ignore();
        Ok(())
    }

    fn right_delim(&mut self, trim: bool) {
        if trim {
            self.pos += TRIM_LEN;
            self.ignore();
        }
        self.pos += self.right.len();
        self.emit(ItemKind::RightDelim);
        if trim {
            self.pos += self.rest().len() - self.rest().trim_start_matches(is_space).len();
            self.ignore();
        }
    }

    fn inside_action(&mut self) -> Result<(), LexError> {
        loop {
            let (delim, trim) = self.at_right_delim();
            if delim {
                if self.paren_depth == 0 {
                    self.right_delim(trim);
                    return Ok(());
                }
                return Err(self.error("unclosed left paren"));
            }
            let Some(c) = self.next() else {
                return Err(self.error("unclosed action"));
            };
            match c {
                c if is_space(c) => {
                    self.backup(c);
                    if self.space() {
                        let (_, trim) = self.at_right_delim();
                        self.right_delim(trim);
                        return Ok(());
                    }
                }
                '=' => self.emit(ItemKind::Assign),
                ':' => {
                    if self.next() != Some('=') {
                        return Err(self.error("expected :="));
                    }
                    self.emit(ItemKind::Declare);
                }
                '|' => self.emit(ItemKind::Pipe),
                '"' => self.quote('"', "unterminated quoted string", ItemKind::String)?,
                '\'' => self.quote(
                    '\'',
                    "unterminated character constant",
                    ItemKind::CharConstant,
                )?,
                '`' => {
                    match self.rest().find('`') {
                        Some(x) => {
                            let end = self.pos + x + 1;
                            while self.pos < end {
                                self.next();
                            }
                        }
                        None => return Err(self.error("unterminated raw quoted string")),
                    }
                    self.emit(ItemKind::RawString);
                }
                '$' => {
                    if self.at_terminator() {
                        self.emit(ItemKind::Variable);
                    } else {
                        self.field_or_variable(ItemKind::Variable)?;
                    }
                }
                '.' if !self
                    .rest()
                    .as_bytes()
                    .first()
                    .is_some_and(u8::is_ascii_digit)
                    && !self.rest().is_empty() =>
                {
                    self.field_or_variable(ItemKind::Field)?;
                }
                '.' | '+' | '-' | '0'..='9' => {
                    self.backup(c);
                    self.number()?;
                }
                c if is_alphanumeric(c) => {
                    self.backup(c);
                    self.identifier()?;
                }
                '(' => {
                    self.paren_depth += 1;
                    self.emit(ItemKind::LeftParen);
                }
                ')' => {
                    self.paren_depth -= 1;
                    if self.paren_depth < 0 {
                        return Err(self.error("unexpected right paren"));
                    }
                    self.emit(ItemKind::RightParen);
                }
                c if c.is_ascii() && !c.is_ascii_control() => self.emit(ItemKind::Char),
                c => {
                    return Err(self.error(format!(
                        "unrecognized character in action: U+{:04X}",
                        c as u32
                    )))
                }
            }
        }
    }

    /// Spaces in an action; true when they end at a trim-marked right delimiter
    /// (" -}}") and were a single space, so the delimiter comes next.
    fn space(&mut self) -> bool {
        let mut count = 0;
        while self.peek().is_some_and(is_space) {
            self.next();
            count += 1;
        }
        let back = self.pos - 1;
        let s = &self.input[back..];
        if has_right_trim(s) && s[TRIM_LEN..].starts_with(self.right) {
            let c = self.input[back..].chars().next().unwrap_or(' ');
            self.backup(c);
            if count == 1 {
                return true;
            }
        }
        self.emit(ItemKind::Space);
        false
    }

    fn quote(&mut self, close: char, unterminated: &str, kind: ItemKind) -> Result<(), LexError> {
        loop {
            match self.next() {
                Some('\\') => match self.next() {
                    Some('\n') | None => return Err(self.error(unterminated)),
                    Some(_) => {}
                },
                Some('\n') | None => return Err(self.error(unterminated)),
                Some(c) if c == close => break,
                Some(_) => {}
            }
        }
        self.emit(kind);
        Ok(())
    }

    fn at_terminator(&self) -> bool {
        match self.peek() {
            None => true,
            Some(c) if is_space(c) => true,
            Some('.' | ',' | '|' | ':' | ')' | '(') => true,
            Some(_) => self.rest().starts_with(self.right),
        }
    }

    fn field_or_variable(&mut self, kind: ItemKind) -> Result<(), LexError> {
        if self.at_terminator() {
            self.emit(if kind == ItemKind::Variable {
                ItemKind::Variable
            } else {
                ItemKind::Dot
            });
            return Ok(());
        }
        self.word()?;
        self.emit(kind);
        Ok(())
    }

    /// The rest of an alphanumeric word, which must end at a terminator.
    fn word(&mut self) -> Result<(), LexError> {
        let mut last = None;
        while let Some(c) = self.next() {
            if !is_alphanumeric(c) {
                self.backup(c);
                last = Some(c);
                break;
            }
        }
        if !self.at_terminator() {
            return Err(self.bad_character(last));
        }
        Ok(())
    }

    fn bad_character(&self, c: Option<char>) -> LexError {
        match c {
            Some(c) => self.error(format!("bad character U+{:04X} '{c}'", c as u32)),
            None => self.error("bad character U+FFFFFFFF"),
        }
    }

    fn identifier(&mut self) -> Result<(), LexError> {
        self.word()?;
        let word = &self.input[self.start..self.pos];
        let kind = match keyword(word) {
            Some(k) => k,
            None if word == "true" || word == "false" => ItemKind::Bool,
            None => ItemKind::Identifier,
        };
        self.emit(kind);
        Ok(())
    }

    fn number(&mut self) -> Result<(), LexError> {
        if !self.scan_number() {
            return Err(self.bad_number());
        }
        if matches!(self.peek(), Some('+' | '-')) {
            if !self.scan_number() || !self.input[..self.pos].ends_with('i') {
                return Err(self.bad_number());
            }
            self.emit(ItemKind::Complex);
            return Ok(());
        }
        self.emit(ItemKind::Number);
        Ok(())
    }

    fn bad_number(&self) -> LexError {
        self.error(format!(
            "bad number syntax: {:?}",
            &self.input[self.start..self.pos]
        ))
    }

    fn scan_number(&mut self) -> bool {
        self.accept("+-");
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        if digits.len() == 23 && self.accept("pP") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        if self.peek().is_some_and(is_alphanumeric) {
            self.next();
            return false;
        }
        true
    }
}
