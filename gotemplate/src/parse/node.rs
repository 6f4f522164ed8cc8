//! The parse tree. `Display` gives the template text of a node, as Go's
//! `Node.String()` does, for error messages: template text, never data.

use std::fmt;

#[derive(Debug, Clone)]
pub enum Node {
    Text(Vec<u8>),
    Action(Pipe),
    If(Branch),
    With(Branch),
    Range(Branch),
    Template {
        pos: usize,
        name: String,
        pipe: Option<Pipe>,
    },
    Break,
    Continue,
}

#[derive(Debug, Clone)]
pub struct Branch {
    pub pipe: Pipe,
    pub list: Vec<Node>,
    pub else_list: Option<Vec<Node>>,
}

#[derive(Debug, Clone)]
pub struct Pipe {
    pub pos: usize,
    pub is_assign: bool,
    pub decl: Vec<String>,
    pub cmds: Vec<Command>,
}

#[derive(Debug, Clone)]
pub struct Command {
    pub args: Vec<Arg>,
}

#[derive(Debug, Clone)]
pub struct Arg {
    pub pos: usize,
    pub kind: ArgKind,
}

#[derive(Debug, Clone)]
pub enum ArgKind {
    /// `.a.b`
    Field(Vec<String>),
    /// `(pipe).a.b` or `$x.a` written on a non-variable term.
    Chain(Box<Arg>, Vec<String>),
    Identifier(String),
    Dot,
    Nil,
    /// `$x.a.b`: the variable name first.
    Variable(Vec<String>),
    Bool(bool),
    Number(Number),
    /// The quoted text as written, and its value (any bytes: `"\xff"`).
    String(String, Vec<u8>),
    Pipe(Box<Pipe>),
}

/// A numeric constant with every Go type it can take (Go's `NumberNode`).
#[derive(Debug, Clone)]
pub struct Number {
    pub text: String,
    pub int: Option<i64>,
    pub uint: Option<u64>,
    pub float: Option<f64>,
    /// Real and imaginary parts of a complex or imaginary constant (Go's
    /// `IsComplex`, kept when the imaginary part is zero).
    pub complex: Option<(f64, f64)>,
}

impl fmt::Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            f.write_str(&self.decl.join(", "))?;
            f.write_str(if self.is_assign { " = " } else { " := " })?;
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_words(f, &self.args)
    }
}

fn write_words(f: &mut fmt::Formatter<'_>, args: &[Arg]) -> fmt::Result {
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            f.write_str(" ")?;
        }
        match &a.kind {
            ArgKind::Pipe(p) => write!(f, "({p})")?,
            _ => write!(f, "{a}")?,
        }
    }
    Ok(())
}

/// The words of a command as Go prints the command node.
pub fn words(args: &[Arg]) -> String {
    struct Words<'a>(&'a [Arg]);
    impl fmt::Display for Words<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write_words(f, self.0)
        }
    }
    Words(args).to_string()
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ArgKind::Field(idents) => {
                for i in idents {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            ArgKind::Chain(node, fields) => {
                match &node.kind {
                    ArgKind::Pipe(p) => write!(f, "({p})")?,
                    _ => write!(f, "{node}")?,
                }
                for field in fields {
                    write!(f, ".{field}")?;
                }
                Ok(())
            }
            ArgKind::Identifier(name) => f.write_str(name),
            ArgKind::Dot => f.write_str("."),
            ArgKind::Nil => f.write_str("nil"),
            ArgKind::Variable(idents) => f.write_str(&idents.join(".")),
            ArgKind::Bool(b) => write!(f, "{b}"),
            ArgKind::Number(n) => f.write_str(&n.text),
            ArgKind::String(quoted, _) => f.write_str(quoted),
            ArgKind::Pipe(p) => write!(f, "{p}"),
        }
    }
}
