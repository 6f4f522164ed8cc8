//! Go's `text/template/parse`: templates to trees. Nesting is bounded
//! (`MAX_NESTING`) and recursion runs on a stack that grows on the heap, so
//! no input can overflow the thread's stack.

mod lex;
pub(crate) mod node;
mod number;

pub(crate) use lex::{LEFT, RIGHT};

use std::collections::HashMap;

use lex::{Item, ItemKind};
use node::{Arg, ArgKind, Branch, Command, Node, Pipe};

/// Parentheses and control structures nested deeper than this are refused
/// (Go's limit for parentheses).
pub(crate) const MAX_NESTING: usize = 10_000;

/// Why a text is not a template: Go's `template: NAME:LINE: REASON`.
///
/// ```
/// use go_text_template::{Error, Template};
/// let Err(Error::Parse(e)) = Template::new("t").parse("{{ nope }}") else { panic!() };
/// assert_eq!((e.name(), e.line(), e.reason()), ("t", 1, r#"function "nope" not defined"#));
/// assert_eq!(e.to_string(), r#"template: t:1: function "nope" not defined"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template: {name}:{line}: {message}")]
pub struct ParseError {
    pub(crate) name: String,
    pub(crate) line: usize,
    pub(crate) message: String,
}

impl ParseError {
    /// The name the text was parsed under.
    ///
    /// ```
    /// let e = go_text_template::Template::new("page").parse("{{ end }}").unwrap_err();
    /// assert_eq!(e.template_name(), Some("page"));
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The line (from 1) where the parser stopped.
    ///
    /// ```
    /// let e = go_text_template::Template::new("t").parse("\n\n{{ end }}").unwrap_err();
    /// assert_eq!(e.line(), Some(3));
    /// ```
    pub fn line(&self) -> usize {
        self.line
    }

    /// Go's reason, without the location.
    ///
    /// ```
    /// use go_text_template::{Error, Template};
    /// let Err(Error::Parse(e)) = Template::new("t").parse("{{ end }}") else { panic!() };
    /// assert_eq!(e.reason(), "unexpected {{end}}");
    /// ```
    pub fn reason(&self) -> &str {
        &self.message
    }
}

/// Named trees: the main one and every `define`/`block`.
pub(crate) type Trees = HashMap<String, Vec<Node>>;

/// Parses `text` as the template `name` with actions between `delims`.
/// `defined` says whether a function name exists, as Go's parser asks the
/// maps it is given.
pub(crate) fn parse(
    name: &str,
    text: &str,
    delims: (&str, &str),
    defined: &dyn Fn(&str) -> bool,
) -> std::result::Result<Trees, ParseError> {
    let items = lex::lex(text, delims.0, delims.1).map_err(|e| ParseError {
        name: name.to_string(),
        line: e.line,
        message: e.message,
    })?;
    let mut p = Parser {
        name: name.to_string(),
        items,
        i: 0,
        line: 1,
        vars: vec!["$".to_string()],
        range_depth: 0,
        depth: 0,
        defined,
        trees: Trees::new(),
    };
    p.parse_root()?;
    Ok(p.trees)
}

struct Parser<'a> {
    name: String,
    items: Vec<Item>,
    i: usize,
    line: usize,
    vars: Vec<String>,
    range_depth: usize,
    depth: usize,
    defined: &'a dyn Fn(&str) -> bool,
    trees: Trees,
}

type Result<T> = std::result::Result<T, ParseError>;

fn describe(item: &Item) -> String {
    use ItemKind::*;
    match item.kind {
        Eof => "EOF".into(),
        Block | Break | Continue | Define | Else | End | If | Range | Nil | Template | With => {
            format!("<{}>", item.text)
        }
        _ if item.text.chars().count() > 10 => {
            let head: std::string::String = item.text.chars().take(10).collect();
            format!("{head:?}...")
        }
        _ => format!("{:?}", item.text),
    }
}

/// True for a tree of nothing but spaces (Go's `IsEmptyTree`).
pub(crate) fn is_empty_tree(list: &[Node]) -> bool {
    list.iter().all(|n| match n {
        Node::Text(t) => t.iter().all(|b| b.is_ascii_whitespace()),
        _ => false,
    })
}

impl Parser<'_> {
    fn error<T>(&self, message: impl Into<String>) -> Result<T> {
        Err(ParseError {
            name: self.name.clone(),
            line: self.line,
            message: message.into(),
        })
    }

    fn next(&mut self) -> Item {
        let last = self.items.len() - 1;
        let item = self.items[self.i.min(last)].clone();
        if self.i < last {
            self.i += 1;
        }
        self.line = item.line;
        item
    }

    fn backup(&mut self) {
        self.i = self.i.saturating_sub(1);
    }

    fn peek(&self) -> &Item {
        &self.items[self.i.min(self.items.len() - 1)]
    }

    fn next_non_space(&mut self) -> Item {
        loop {
            let item = self.next();
            if item.kind != ItemKind::Space {
                return item;
            }
        }
    }

    fn peek_non_space(&mut self) -> Item {
        let item = self.next_non_space();
        self.backup();
        item
    }

    fn expect(&mut self, kind: ItemKind, context: &str) -> Result<Item> {
        let item = self.next_non_space();
        if item.kind != kind {
            return self.unexpected(&item, context);
        }
        Ok(item)
    }

    fn unexpected<T>(&self, item: &Item, context: &str) -> Result<T> {
        self.error(format!("unexpected {} in {context}", describe(item)))
    }

    fn add_tree(&mut self, name: String, list: Vec<Node>) -> Result<()> {
        match self.trees.get(&name) {
            Some(existing) if !is_empty_tree(existing) => {
                if !is_empty_tree(&list) {
                    return self.error(format!(
                        "template: multiple definition of template {name:?}"
                    ));
                }
                Ok(())
            }
            _ => {
                self.trees.insert(name, list);
                Ok(())
            }
        }
    }

    fn parse_root(&mut self) -> Result<()> {
        let mut root = Vec::new();
        while self.peek().kind != ItemKind::Eof {
            if self.peek().kind == ItemKind::LeftDelim {
                let at = self.i;
                self.next();
                if self.next_non_space().kind == ItemKind::Define {
                    self.parse_definition()?;
                    continue;
                }
                self.i = at;
            }
            match self.text_or_action()? {
                Parsed::Node(n) => root.push(n),
                Parsed::End => return self.error("unexpected {{end}}"),
                Parsed::Else => return self.error("unexpected {{else}}"),
            }
        }
        let name = self.name.clone();
        self.add_tree(name, root)
    }

    fn parse_definition(&mut self) -> Result<()> {
        const CONTEXT: &str = "define clause";
        let item = self.next_non_space();
        if !matches!(item.kind, ItemKind::String | ItemKind::RawString) {
            return self.unexpected(&item, CONTEXT);
        }
        let name = self.unquote_name(&item.text)?;
        self.expect(ItemKind::RightDelim, CONTEXT)?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let (list, end) = self.item_list()?;
        self.vars = saved_vars;
        if !matches!(end, Parsed::End) {
            return self.error(format!("unexpected {{{{else}}}} in {CONTEXT}"));
        }
        self.add_tree(name, list)
    }

    fn unquote(&self, quoted: &str) -> Result<Vec<u8>> {
        match number::unquote(quoted) {
            Some(s) => Ok(s),
            None => self.error("invalid syntax"),
        }
    }

    fn unquote_name(&self, quoted: &str) -> Result<String> {
        Ok(String::from_utf8_lossy(&self.unquote(quoted)?).into_owned())
    }

    fn item_list(&mut self) -> Result<(Vec<Node>, Parsed)> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return self.error("max expression depth exceeded");
        }
        let mut list = Vec::new();
        while self.peek_non_space().kind != ItemKind::Eof {
            match stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.text_or_action())? {
                Parsed::Node(n) => list.push(n),
                end => {
                    self.depth -= 1;
                    return Ok((list, end));
                }
            }
        }
        self.error("unexpected EOF")
    }

    fn text_or_action(&mut self) -> Result<Parsed> {
        let item = self.next_non_space();
        match item.kind {
            ItemKind::Text => Ok(Parsed::Node(Node::Text(item.text.into_bytes()))),
            ItemKind::LeftDelim => self.action(),
            _ => self.unexpected(&item, "input"),
        }
    }

    fn action(&mut self) -> Result<Parsed> {
        let item = self.next_non_space();
        let node = match item.kind {
            ItemKind::Block => self.block()?,
            ItemKind::Break | ItemKind::Continue => {
                let word = if item.kind == ItemKind::Break {
                    "break"
                } else {
                    "continue"
                };
                let next = self.next_non_space();
                if next.kind != ItemKind::RightDelim {
                    return self.unexpected(&next, &format!("{{{{{word}}}}}"));
                }
                if self.range_depth == 0 {
                    return self.error(format!("{{{{{word}}}}} outside {{{{range}}}}"));
                }
                if item.kind == ItemKind::Break {
                    Node::Break
                } else {
                    Node::Continue
                }
            }
            ItemKind::Else => {
                let peek = self.peek_non_space();
                if !matches!(peek.kind, ItemKind::If | ItemKind::With) {
                    self.expect(ItemKind::RightDelim, "else")?;
                }
                return Ok(Parsed::Else);
            }
            ItemKind::End => {
                self.expect(ItemKind::RightDelim, "end")?;
                return Ok(Parsed::End);
            }
            ItemKind::If => Node::If(self.control(Control::If)?),
            ItemKind::Range => Node::Range(self.control(Control::Range)?),
            ItemKind::With => Node::With(self.control(Control::With)?),
            ItemKind::Template => self.template()?,
            _ => {
                self.backup();
                Node::Action(self.pipeline("command", ItemKind::RightDelim)?)
            }
        };
        Ok(Parsed::Node(node))
    }

    fn control(&mut self, control: Control) -> Result<Branch> {
        let vars = self.vars.len();
        let context = control.name();
        let pipe = self.pipeline(context, ItemKind::RightDelim)?;
        if control == Control::Range {
            self.range_depth += 1;
        }
        let (list, next) = self.item_list()?;
        if control == Control::Range {
            self.range_depth -= 1;
        }
        let else_list = match next {
            Parsed::End => None,
            Parsed::Else => {
                let chained = match control {
                    Control::If if self.peek().kind == ItemKind::If => Some(Control::If),
                    Control::With if self.peek().kind == ItemKind::With => Some(Control::With),
                    _ => None,
                };
                match chained {
                    Some(c) => {
                        self.next();
                        let branch =
                            stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.control(c))?;
                        Some(vec![if c == Control::If {
                            Node::If(branch)
                        } else {
                            Node::With(branch)
                        }])
                    }
                    None => {
                        let (else_list, end) = self.item_list()?;
                        if !matches!(end, Parsed::End) {
                            return self.error("expected end; found {{else}}");
                        }
                        Some(else_list)
                    }
                }
            }
            Parsed::Node(_) => None,
        };
        self.vars.truncate(vars);
        Ok(Branch {
            pipe,
            list,
            else_list,
        })
    }

    fn template_name(&mut self, item: &Item, context: &str) -> Result<String> {
        match item.kind {
            ItemKind::String | ItemKind::RawString => self.unquote_name(&item.text),
            _ => self.unexpected(item, context),
        }
    }

    fn block(&mut self) -> Result<Node> {
        const CONTEXT: &str = "block clause";
        let item = self.next_non_space();
        let name = self.template_name(&item, CONTEXT)?;
        let pipe = self.pipeline(CONTEXT, ItemKind::RightDelim)?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let saved_range = std::mem::take(&mut self.range_depth);
        let (list, end) = self.item_list()?;
        self.vars = saved_vars;
        self.range_depth = saved_range;
        if !matches!(end, Parsed::End) {
            return self.error(format!("unexpected {{{{else}}}} in {CONTEXT}"));
        }
        self.add_tree(name.clone(), list)?;
        Ok(Node::Template {
            pos: item.pos,
            name,
            pipe: Some(pipe),
        })
    }

    fn template(&mut self) -> Result<Node> {
        const CONTEXT: &str = "template clause";
        let item = self.next_non_space();
        let name = self.template_name(&item, CONTEXT)?;
        let pipe = if self.next_non_space().kind != ItemKind::RightDelim {
            self.backup();
            Some(self.pipeline(CONTEXT, ItemKind::RightDelim)?)
        } else {
            None
        };
        Ok(Node::Template {
            pos: item.pos,
            name,
            pipe,
        })
    }

    fn pipeline(&mut self, context: &str, end: ItemKind) -> Result<Pipe> {
        let start = self.peek_non_space();
        let mut pipe = Pipe {
            pos: start.pos,
            is_assign: false,
            decl: Vec::new(),
            cmds: Vec::new(),
        };
        'decls: loop {
            let v = self.peek_non_space();
            if v.kind != ItemKind::Variable {
                break;
            }
            let at = self.i;
            self.next();
            let next = self.peek_non_space();
            match next.kind {
                ItemKind::Assign | ItemKind::Declare => {
                    pipe.is_assign = next.kind == ItemKind::Assign;
                    self.next_non_space();
                    pipe.decl.push(v.text.clone());
                    self.vars.push(v.text);
                    break;
                }
                ItemKind::Char if next.text == "," => {
                    self.next_non_space();
                    pipe.decl.push(v.text.clone());
                    self.vars.push(v.text);
                    if context == "range" && pipe.decl.len() < 2 {
                        match self.peek_non_space().kind {
                            ItemKind::Variable | ItemKind::RightDelim | ItemKind::RightParen => {
                                continue 'decls
                            }
                            _ => return self.error("range can only initialize variables"),
                        }
                    }
                    return self.error(format!("too many declarations in {context}"));
                }
                _ => {
                    self.i = at;
                    break;
                }
            }
        }
        loop {
            let item = self.next_non_space();
            match item.kind {
                k if k == end => {
                    if pipe.cmds.is_empty() {
                        return self.error(format!("missing value for {context}"));
                    }
                    for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
                        if matches!(
                            c.args[0].kind,
                            ArgKind::Bool(_)
                                | ArgKind::Dot
                                | ArgKind::Nil
                                | ArgKind::Number(_)
                                | ArgKind::String(..)
                        ) {
                            return self.error(format!(
                                "non executable command in pipeline stage {}",
                                i + 1
                            ));
                        }
                    }
                    return Ok(pipe);
                }
                ItemKind::Bool
                | ItemKind::CharConstant
                | ItemKind::Complex
                | ItemKind::Dot
                | ItemKind::Field
                | ItemKind::Identifier
                | ItemKind::Number
                | ItemKind::Nil
                | ItemKind::RawString
                | ItemKind::String
                | ItemKind::Variable
                | ItemKind::LeftParen => {
                    self.backup();
                    let cmd = self.command()?;
                    pipe.cmds.push(cmd);
                }
                _ => return self.unexpected(&item, context),
            }
        }
    }

    fn command(&mut self) -> Result<Command> {
        let mut args = Vec::new();
        loop {
            self.peek_non_space();
            if let Some(operand) = self.operand()? {
                args.push(operand);
            }
            let item = self.next();
            match item.kind {
                ItemKind::Space => continue,
                ItemKind::RightDelim | ItemKind::RightParen => self.backup(),
                ItemKind::Pipe => {}
                _ => return self.unexpected(&item, "operand"),
            }
            break;
        }
        if args.is_empty() {
            return self.error("empty command");
        }
        Ok(Command { args })
    }

    fn operand(&mut self) -> Result<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if self.peek().kind != ItemKind::Field {
            return Ok(Some(node));
        }
        // Go's chain (and the field or variable it extends) is at its first field.
        let pos = self.peek().pos;
        let mut fields = Vec::new();
        while self.peek().kind == ItemKind::Field {
            let f = self.next();
            fields.extend(f.text[1..].split('.').map(str::to_string));
        }
        let kind = match node.kind {
            ArgKind::Field(mut idents) => {
                idents.extend(fields);
                ArgKind::Field(idents)
            }
            ArgKind::Variable(mut idents) => {
                idents.extend(fields);
                ArgKind::Variable(idents)
            }
            ArgKind::Bool(_)
            | ArgKind::String(..)
            | ArgKind::Number(_)
            | ArgKind::Nil
            | ArgKind::Dot => {
                return self.error(format!("unexpected . after term {:?}", node.to_string()))
            }
            _ => ArgKind::Chain(Box::new(node), fields),
        };
        Ok(Some(Arg { pos, kind }))
    }

    fn term(&mut self) -> Result<Option<Arg>> {
        let item = self.next_non_space();
        let pos = item.pos;
        let kind = match item.kind {
            ItemKind::Identifier => {
                if !(self.defined)(&item.text) {
                    return self.error(format!("function {:?} not defined", item.text));
                }
                ArgKind::Identifier(item.text)
            }
            ItemKind::Dot => ArgKind::Dot,
            ItemKind::Nil => ArgKind::Nil,
            ItemKind::Variable => {
                let idents: Vec<String> = item.text.split('.').map(str::to_string).collect();
                if !self.vars.iter().any(|v| *v == idents[0]) {
                    return self.error(format!("undefined variable {:?}", idents[0]));
                }
                ArgKind::Variable(idents)
            }
            ItemKind::Field => {
                ArgKind::Field(item.text[1..].split('.').map(str::to_string).collect())
            }
            ItemKind::Bool => ArgKind::Bool(item.text == "true"),
            ItemKind::CharConstant | ItemKind::Complex | ItemKind::Number => {
                match number::parse(&item.text, item.kind) {
                    Ok(n) => ArgKind::Number(n),
                    Err(e) => return self.error(e),
                }
            }
            ItemKind::LeftParen => {
                self.depth += 1;
                if self.depth > MAX_NESTING {
                    return self.error("max expression depth exceeded");
                }
                let pipe = stacker::maybe_grow(64 * 1024, 1024 * 1024, || {
                    self.pipeline("parenthesized pipeline", ItemKind::RightParen)
                })?;
                self.depth -= 1;
                ArgKind::Pipe(Box::new(pipe))
            }
            ItemKind::String | ItemKind::RawString => {
                let value = self.unquote(&item.text)?;
                ArgKind::String(item.text, value)
            }
            _ => {
                self.backup();
                return Ok(None);
            }
        };
        Ok(Some(Arg { pos, kind }))
    }
}

enum Parsed {
    Node(Node),
    End,
    Else,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Control {
    If,
    Range,
    With,
}

impl Control {
    fn name(self) -> &'static str {
        match self {
            Control::If => "if",
            Control::Range => "range",
            Control::With => "with",
        }
    }
}
