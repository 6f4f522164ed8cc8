//! Go's `text/template` executor: walks the tree, evaluates pipelines and
//! prints. Every step is counted against the render's deadline, output and
//! memory bounds; template calls are bounded in depth; recursion runs on a
//! stack that grows on the heap.

mod call;

use std::io::Write;
use std::sync::Arc;

use crate::error::{Error, ExecError, Location};
use crate::funcs::{Budget, FuncError};
use crate::limits::{Limit, Limits};
use crate::parse::node::{Arg, ArgKind, Branch, Node, Pipe};
use crate::set::{Set, Tree};
use crate::value::{Heap, Value};

/// Where the executor is, for error messages.
#[derive(Clone, Copy)]
pub(crate) enum At<'t> {
    None,
    Arg(&'t Arg),
    Pipe(&'t Pipe),
    Template(usize, &'t str, Option<&'t Pipe>),
    /// A command: its position and its words.
    Command(usize, &'t [Arg]),
}

/// Why a walk stopped early.
pub(crate) enum Stop {
    Break,
    Continue,
    Error(Error),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Stop::Error(e)
    }
}

pub(crate) type Flow<T> = Result<T, Stop>;

pub(crate) struct State<'t> {
    set: &'t Set,
    /// The template being executed now (a `define` while in one) and its tree.
    current: &'t str,
    tree: &'t Tree,
    pub(crate) heap: Heap,
    pub(crate) budget: Budget,
    out: &'t mut dyn Write,
    written: usize,
    max_output: usize,
    max_depth: usize,
    depth: usize,
    vars: Vec<(&'t str, Value)>,
    at: At<'t>,
}

/// Runs template `name` of `set`, writing to `out`, with `dot` built by
/// `make_dot`.
pub(crate) fn execute(
    set: &Set,
    name: &str,
    limits: &Limits,
    out: &mut dyn Write,
    make_dot: impl FnOnce(&mut Heap) -> Result<Value, Error>,
) -> Result<(), Error> {
    let Some((tree_name, tree)) = set.trees.get_key_value(name) else {
        return Err(Error::Exec(ExecError {
            template: name.to_string(),
            location: None,
            function: None,
            reason: format!("{name:?} is an incomplete or empty template"),
        }));
    };
    let mut heap = Heap::default();
    let dot = make_dot(&mut heap)?;
    let mut budget = Budget::new(limits.max_memory, limits.ends_at());
    budget.values_in_errors = !set.value_free_errors;
    let mut state = State {
        set,
        current: tree_name,
        tree,
        heap,
        budget,
        out,
        written: 0,
        max_output: limits.max_output,
        max_depth: limits.max_depth,
        depth: 0,
        vars: vec![("$", dot.clone())],
        at: At::None,
    };
    match state.walk_list(&dot, &tree.root) {
        Ok(()) => Ok(()),
        Err(Stop::Error(e)) => Err(e),
        // The parser allows break and continue only inside range.
        Err(Stop::Break | Stop::Continue) => Ok(()),
    }
}

impl<'t> State<'t> {
    /// An execution error at the current node, in Go's format.
    pub(crate) fn error(&self, message: impl std::fmt::Display) -> Stop {
        Stop::Error(Error::Exec(self.exec_error(None, message.to_string())))
    }

    fn exec_error(&self, function: Option<&str>, reason: String) -> ExecError {
        let location = match self.at {
            At::None => None,
            At::Arg(a) => Some((a.pos, a.to_string())),
            At::Pipe(p) => Some((p.pos, p.to_string())),
            // Go's TemplateNode.String.
            At::Template(pos, name, pipe) => {
                let name =
                    String::from_utf8_lossy(&crate::fmt::go_quote(name.as_bytes())).into_owned();
                Some((
                    pos,
                    match pipe {
                        Some(pipe) => format!("{{{{template {name} {pipe}}}}}"),
                        None => format!("{{{{template {name}}}}}"),
                    },
                ))
            }
            At::Command(pos, args) => Some((pos, crate::parse::node::words(args))),
        }
        .map(|(pos, context)| {
            let text = &self.tree.text;
            let before = &text[..pos.min(text.len())];
            let line = 1 + before.matches('\n').count();
            let column = match before.rfind('\n') {
                Some(nl) => pos - nl - 1,
                None => pos,
            };
            Box::new(Location {
                parse_name: self.tree.parse_name.to_string(),
                line,
                column,
                context,
            })
        });
        ExecError {
            template: self.current.to_string(),
            location,
            function: function.map(str::to_string),
            reason,
        }
    }

    pub(crate) fn func_error(&self, name: &str, e: FuncError) -> Stop {
        match e {
            FuncError::Limit(l) => Stop::Error(Error::Limit(l)),
            FuncError::Reason(r) => Stop::Error(Error::Func(
                self.exec_error(Some(name), format!("error calling {name}: {r}")),
            )),
        }
    }

    pub(crate) fn tick(&mut self) -> Flow<()> {
        self.budget
            .check_time()
            .map_err(|_| Stop::Error(Error::Limit(Limit::Time)))
    }

    fn write(&mut self, bytes: &[u8]) -> Flow<()> {
        if self.written + bytes.len() > self.max_output {
            return Err(Stop::Error(Error::Limit(Limit::Output)));
        }
        self.out
            .write_all(bytes)
            .map_err(|e| Stop::Error(Error::Write(Arc::new(e))))?;
        self.written += bytes.len();
        Ok(())
    }

    fn walk_list(&mut self, dot: &Value, list: &'t [Node]) -> Flow<()> {
        for node in list {
            stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.walk(dot, node))?;
        }
        Ok(())
    }

    fn walk(&mut self, dot: &Value, node: &'t Node) -> Flow<()> {
        self.tick()?;
        match node {
            Node::Text(text) => self.write(text),
            Node::Action(pipe) => {
                let value = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    self.print_value(&value)?;
                }
                Ok(())
            }
            Node::If(branch) => self.walk_if_or_with(false, dot, branch),
            Node::With(branch) => self.walk_if_or_with(true, dot, branch),
            Node::Range(branch) => self.walk_range(dot, branch),
            Node::Template { pos, name, pipe } => self.walk_template(dot, *pos, name, pipe),
            Node::Break => Err(Stop::Break),
            Node::Continue => Err(Stop::Continue),
        }
    }

    fn print_value(&mut self, value: &Value) -> Flow<()> {
        let room = self.max_output.saturating_sub(self.written);
        let text = match value {
            Value::Invalid | Value::Nil => b"<no value>".to_vec(),
            v => crate::fmt::try_format_value(&self.heap, v, room)
                .map_err(|_| Stop::Error(Error::Limit(Limit::Output)))?,
        };
        self.write(&text)
    }

    fn walk_if_or_with(&mut self, with: bool, dot: &Value, branch: &'t Branch) -> Flow<()> {
        let mark = self.vars.len();
        let result = (|| {
            let value = self.eval_pipeline(dot, &branch.pipe)?;
            if value.is_true(&self.heap) {
                let dot = if with { &value } else { dot };
                self.walk_list(dot, &branch.list)
            } else if let Some(else_list) = &branch.else_list {
                self.walk_list(dot, else_list)
            } else {
                Ok(())
            }
        })();
        self.vars.truncate(mark);
        result
    }

    fn walk_range(&mut self, dot: &Value, branch: &'t Branch) -> Flow<()> {
        // Go pops the range's variables at the end of the whole node: they
        // stay visible in the else branch.
        let outer = self.vars.len();
        let result = match self.range_items(dot, branch) {
            Ok(false) => match &branch.else_list {
                Some(else_list) => self.walk_list(dot, else_list),
                None => Ok(()),
            },
            Ok(true) => Ok(()),
            Err(e) => Err(e),
        };
        self.vars.truncate(outer);
        result
    }

    /// Runs the body for each element; false when there was none.
    fn range_items(&mut self, dot: &Value, branch: &'t Branch) -> Flow<bool> {
        let value = self.eval_pipeline(dot, &branch.pipe)?;
        let mark = self.vars.len();
        let two_vars = branch.pipe.decl.len() > 1;
        let items: Vec<(Value, Value)> = match &value {
            Value::Int(_)
            | Value::Int64(_)
            | Value::Int32(_)
            | Value::Uint8(_)
            | Value::Uint32(_)
            | Value::Uint64(_) => {
                if two_vars {
                    let shown = self.shown(&value);
                    return Err(self.error(format!(
                        "can't use {shown} to iterate over more than one variable"
                    )));
                }
                let n = value
                    .as_i64()
                    .unwrap_or_else(|| value.as_u64().map_or(0, |u| u.min(i64::MAX as u64) as i64));
                let mut ran = false;
                for i in 0..n.max(0) {
                    ran = true;
                    let elem = match value {
                        Value::Int64(_) => Value::Int64(i),
                        Value::Int32(_) => Value::Int32(i as i32),
                        Value::Uint8(_) => Value::Uint8(i as u8),
                        Value::Uint32(_) => Value::Uint32(i as u32),
                        Value::Uint64(_) => Value::Uint64(i as u64),
                        _ => Value::Int(i),
                    };
                    if self.one_iteration(branch, mark, Value::Invalid, elem)? {
                        break;
                    }
                }
                return Ok(ran);
            }
            Value::List(list) => list
                .items
                .iter()
                .enumerate()
                .map(|(i, v)| (Value::Int(i as i64), v.clone()))
                .collect(),
            Value::Map(m) => self
                .heap
                .get(*m)
                .entries
                .iter()
                .map(|(k, v)| (Value::String(k.clone()), v.clone()))
                .collect(),
            // A named integer type (`time.Month`) counts up in its own type.
            Value::Object(o) if o.int_value().is_some() => {
                if two_vars {
                    let shown = self.shown(&value);
                    return Err(self.error(format!(
                        "can't use {shown} to iterate over more than one variable"
                    )));
                }
                let o = o.clone();
                let mut ran = false;
                for i in 0..o.int_value().unwrap_or(0).max(0) {
                    ran = true;
                    let elem = o.with_int_value(i).unwrap_or(Value::Int(i));
                    if self.one_iteration(branch, mark, Value::Invalid, elem)? {
                        break;
                    }
                }
                return Ok(ran);
            }
            Value::Invalid => return Ok(false),
            other => {
                let shown = self.shown(other);
                return Err(self.error(format!("range can't iterate over {shown}")));
            }
        };
        if items.is_empty() {
            return Ok(false);
        }
        for (index, elem) in items {
            if self.one_iteration(branch, mark, index, elem)? {
                break;
            }
        }
        Ok(true)
    }

    /// One pass of a range body; true to stop (`{{break}}`).
    fn one_iteration(
        &mut self,
        branch: &'t Branch,
        mark: usize,
        index: Value,
        elem: Value,
    ) -> Flow<bool> {
        self.tick()?;
        let decl = &branch.pipe.decl;
        if !decl.is_empty() {
            if branch.pipe.is_assign {
                let first = if decl.len() > 1 { &index } else { &elem };
                self.set_var(&decl[0], first.clone())?;
            } else {
                self.set_top_var(1, elem.clone());
            }
        }
        if decl.len() > 1 {
            if branch.pipe.is_assign {
                self.set_var(&decl[1], elem.clone())?;
            } else {
                self.set_top_var(2, index);
            }
        }
        let result = self.walk_list(&elem, &branch.list);
        self.vars.truncate(mark);
        match result {
            Ok(()) | Err(Stop::Continue) => Ok(false),
            Err(Stop::Break) => Ok(true),
            Err(e) => Err(e),
        }
    }

    /// A value in an error text: Go's `%v` of it, or with
    /// `value_free_errors` (or when too long to show) its type only.
    fn shown(&self, value: &Value) -> String {
        const MAX_SHOWN: usize = 1 << 16;
        if self.budget.values_in_errors {
            if let Ok(text) = crate::fmt::try_format_value(&self.heap, value, MAX_SHOWN) {
                return String::from_utf8_lossy(&text).into_owned();
            }
        }
        format!("a value of type {}", value.type_name(&self.heap))
    }

    fn walk_template(
        &mut self,
        dot: &Value,
        pos: usize,
        name: &'t str,
        pipe: &'t Option<Pipe>,
    ) -> Flow<()> {
        self.at = At::Template(pos, name, pipe.as_ref());
        let set = self.set;
        let Some((tree_name, tree)) = set.trees.get_key_value(name) else {
            let quoted =
                String::from_utf8_lossy(&crate::fmt::go_quote(name.as_bytes())).into_owned();
            return Err(self.error(format!("template {quoted} not defined")));
        };
        if self.depth >= self.max_depth {
            return Err(self.error(format!(
                "exceeded maximum template depth ({})",
                self.max_depth
            )));
        }
        let dot = match pipe {
            Some(p) => self.eval_pipeline(dot, p)?,
            None => Value::Invalid,
        };
        let vars = std::mem::replace(&mut self.vars, vec![("$", dot.clone())]);
        let current = std::mem::replace(&mut self.current, tree_name);
        let caller = std::mem::replace(&mut self.tree, tree);
        let at = self.at;
        self.depth += 1;
        let result = self.walk_list(&dot, &tree.root);
        self.depth -= 1;
        self.current = current;
        self.tree = caller;
        // Go runs the callee on a copy of the state: the caller's node stays.
        self.at = at;
        self.vars = vars;
        result
    }

    pub(crate) fn var_value(&self, name: &str) -> Flow<Value> {
        match self.vars.iter().rev().find(|(n, _)| *n == name) {
            Some((_, v)) => Ok(v.clone()),
            None => Err(self.error(format!("undefined variable: {name}"))),
        }
    }

    fn set_var(&mut self, name: &str, value: Value) -> Flow<()> {
        match self.vars.iter_mut().rev().find(|(n, _)| *n == name) {
            Some(slot) => {
                slot.1 = value;
                Ok(())
            }
            None => Err(self.error(format!("undefined variable: {name}"))),
        }
    }

    fn set_top_var(&mut self, n: usize, value: Value) {
        let len = self.vars.len();
        if let Some(slot) = len.checked_sub(n).and_then(|i| self.vars.get_mut(i)) {
            slot.1 = value;
        }
    }

    pub(crate) fn eval_pipeline(&mut self, dot: &Value, pipe: &'t Pipe) -> Flow<Value> {
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || {
            self.at = At::Pipe(pipe);
            let mut value = None;
            for cmd in &pipe.cmds {
                let v = self.eval_command(dot, cmd, value.take())?;
                // A nil interface result is no value (Go unwraps interfaces here).
                value = Some(if matches!(v, Value::Nil) {
                    Value::Invalid
                } else {
                    v
                });
            }
            let value = value.unwrap_or(Value::Invalid);
            for name in &pipe.decl {
                if pipe.is_assign {
                    self.set_var(name, value.clone())?;
                } else {
                    self.vars.push((name, value.clone()));
                }
            }
            Ok(value)
        })
    }

    fn not_a_function(&self, args: &'t [Arg], fin: &Option<Value>) -> Flow<()> {
        if args.len() > 1 || fin.is_some() {
            return Err(self.error(format!("can't give argument to non-function {}", args[0])));
        }
        Ok(())
    }

    pub(crate) fn eval_command(
        &mut self,
        dot: &Value,
        cmd: &'t crate::parse::node::Command,
        fin: Option<Value>,
    ) -> Flow<Value> {
        let first = &cmd.args[0];
        match &first.kind {
            ArgKind::Field(idents) => {
                self.at = At::Arg(first);
                self.eval_field_chain(dot, first, dot.clone(), idents, &cmd.args, fin)
            }
            ArgKind::Chain(base, fields) => {
                self.at = At::Arg(first);
                let receiver = self.eval_chain_base(dot, first, base)?;
                self.eval_field_chain(dot, first, receiver, fields, &cmd.args, fin)
            }
            ArgKind::Identifier(name) => {
                self.at = At::Arg(first);
                self.eval_function(dot, name, &cmd.args, fin)
            }
            ArgKind::Pipe(pipe) => {
                self.not_a_function(&cmd.args, &fin)?;
                self.eval_pipeline(dot, pipe)
            }
            ArgKind::Variable(idents) => {
                self.at = At::Arg(first);
                let value = self.var_value(&idents[0])?;
                if idents.len() == 1 {
                    self.not_a_function(&cmd.args, &fin)?;
                    return Ok(value);
                }
                self.eval_field_chain(dot, first, value, &idents[1..], &cmd.args, fin)
            }
            literal => {
                self.at = At::Arg(first);
                self.not_a_function(&cmd.args, &fin)?;
                match literal {
                    ArgKind::Bool(b) => Ok(Value::Bool(*b)),
                    ArgKind::Dot => Ok(dot.clone()),
                    ArgKind::Nil => Err(self.error("nil is not a command")),
                    ArgKind::Number(n) => self.ideal_constant(n),
                    ArgKind::String(_, s) => Ok(Value::bytes(s)),
                    _ => Err(self.error(format!("can't evaluate command {first}"))),
                }
            }
        }
    }
}

impl<'t> State<'t> {
    pub(crate) fn eval_chain_base(
        &mut self,
        dot: &Value,
        chain: &'t Arg,
        base: &'t Arg,
    ) -> Flow<Value> {
        if matches!(base.kind, ArgKind::Nil) {
            return Err(self.error(format!("indirection through explicit nil in {chain}")));
        }
        self.eval_arg(dot, None, base)
    }
}
