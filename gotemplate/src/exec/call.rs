//! Fields, function calls and argument conversion, with Go's rules for which
//! value fits which parameter type.

use super::{At, Flow, State};
use crate::builtins::{self, Builtin};
use crate::funcs::{Env, Func, Type};
use crate::parse::node::{Arg, ArgKind, Number};
use crate::set::MissingKey;
use crate::value::{Elem, Value};

/// What to call: a template function or one of text/template's own.
#[derive(Clone, Copy)]
enum Callee<'t> {
    Func(&'t Func),
    Builtin(Builtin),
}

impl<'t> State<'t> {
    /// The fields and methods `idents` of `receiver`; `node` is the field,
    /// chain or variable they are written in (where Go reports a method's error).
    pub(super) fn eval_field_chain(
        &mut self,
        dot: &Value,
        node: &'t Arg,
        mut receiver: Value,
        idents: &'t [String],
        args: &'t [Arg],
        fin: Option<Value>,
    ) -> Flow<Value> {
        let Some((last, init)) = idents.split_last() else {
            return Ok(receiver);
        };
        // Whether the receiver's static type is `interface {}` (it came out
        // of a map[string]interface {}), which Go's errors name.
        let mut boxed = false;
        for name in init {
            let from_any = self.is_any_map(&receiver);
            receiver = self.eval_field(dot, node, name, &[], None, (receiver, boxed))?;
            boxed = from_any;
        }
        self.eval_field(dot, node, last, args, fin, (receiver, boxed))
    }

    fn is_any_map(&self, value: &Value) -> bool {
        matches!(value, Value::Map(m) if self.heap.get(*m).elem == Elem::Any)
    }

    fn eval_field(
        &mut self,
        dot: &Value,
        node: &'t Arg,
        name: &str,
        args: &'t [Arg],
        fin: Option<Value>,
        (receiver, boxed): (Value, bool),
    ) -> Flow<Value> {
        let has_args = args.len() > 1 || fin.is_some();
        match &receiver {
            Value::Invalid => {
                if self.set.missing_key == MissingKey::Error {
                    return Err(self.error(format!("nil data; no entry for key {name:?}")));
                }
                Ok(Value::Invalid)
            }
            Value::Nil => Err(self.error(format!("nil pointer evaluating interface {{}}.{name}"))),
            Value::Map(m) => {
                if has_args {
                    return Err(self.error(format!("{name} is not a method but has arguments")));
                }
                let map = self.heap.get(*m);
                if let Some(value) = map.entries.get(name.as_bytes()) {
                    return Ok(value.clone());
                }
                match self.set.missing_key {
                    MissingKey::Default => Ok(Value::Invalid),
                    MissingKey::Zero => Ok(map.elem.zero()),
                    MissingKey::Error => {
                        Err(self.error(format!("map has no entry for key {name:?}")))
                    }
                }
            }
            Value::Object(object) => {
                let mut argv = Vec::new();
                for arg in args.iter().skip(1) {
                    argv.push(self.eval_arg(dot, Some(Type::Any), arg)?);
                }
                argv.extend(fin);
                let object = object.clone();
                let mut env = Env {
                    heap: &mut self.heap,
                    budget: &mut self.budget,
                };
                if let Some(result) = object.method(&mut env, name, &argv) {
                    return result.map_err(|e| {
                        self.at = At::Arg(node);
                        self.func_error(name, e)
                    });
                }
                if let Some(field) = object.field(name) {
                    if has_args {
                        return Err(self.error(format!(
                            "{name} has arguments but cannot be invoked as function"
                        )));
                    }
                    return Ok(field);
                }
                let typ = if boxed {
                    "interface {}"
                } else {
                    object.type_name()
                };
                Err(self.error(format!("can't evaluate field {name} in type {typ}")))
            }
            other => {
                let typ = match boxed {
                    true => "interface {}".to_string(),
                    false => other.type_name(&self.heap),
                };
                Err(self.error(format!("can't evaluate field {name} in type {typ}")))
            }
        }
    }

    pub(super) fn eval_function(
        &mut self,
        dot: &Value,
        name: &str,
        args: &'t [Arg],
        fin: Option<Value>,
    ) -> Flow<Value> {
        let callee = match self.set.func(name) {
            Some(f) => Callee::Func(f),
            None => match builtins::lookup(name) {
                Some(b) => Callee::Builtin(b),
                None => return Err(self.error(format!("{name:?} is not a defined function"))),
            },
        };
        self.tick()?;
        let (params, variadic) = match callee {
            Callee::Func(f) => (f.params(), f.rest()),
            Callee::Builtin(b) => (b.params(), b.variadic()),
        };
        let command = args;
        let args = args.get(1..).unwrap_or(&[]);
        let num_in = args.len() + usize::from(fin.is_some());
        if variadic.is_some() {
            if num_in < params.len() {
                return Err(self.error(format!(
                    "wrong number of args for {name}: want at least {} got {}",
                    params.len(),
                    args.len()
                )));
            }
        } else if num_in != params.len() {
            return Err(self.error(format!(
                "wrong number of args for {name}: want {} got {num_in}",
                params.len()
            )));
        }
        if let Callee::Builtin(b @ (Builtin::And | Builtin::Or)) = callee {
            return self.and_or(dot, b == Builtin::Or, args, fin);
        }
        let mut argv = Vec::with_capacity(num_in);
        for (i, arg) in args.iter().enumerate() {
            let typ = params.get(i).copied().or(variadic);
            argv.push(self.eval_arg(dot, typ, arg)?);
        }
        if let Some(value) = fin {
            let i = num_in - 1;
            let typ = match params.get(i) {
                Some(t) => *t,
                None => variadic.unwrap_or(Type::Any),
            };
            argv.push(self.validate_type(value, Some(typ))?);
        }
        let result = match callee {
            Callee::Func(f) => {
                let mut env = Env {
                    heap: &mut self.heap,
                    budget: &mut self.budget,
                };
                f.run(&mut env, &argv)
            }
            Callee::Builtin(b) => builtins::call(b, &mut self.heap, &mut self.budget, args, &argv),
        };
        result.map_err(|e| {
            // Go reports a function's error at its command.
            if let Some(first) = command.first() {
                self.at = At::Command(first.pos, command);
            }
            self.func_error(name, e)
        })
    }

    fn and_or(
        &mut self,
        dot: &Value,
        is_or: bool,
        args: &'t [Arg],
        fin: Option<Value>,
    ) -> Flow<Value> {
        let mut value = Value::Invalid;
        for arg in args {
            value = self.eval_arg(dot, Some(Type::Value), arg)?;
            if value.is_true(&self.heap) == is_or {
                return Ok(value);
            }
        }
        if let Some(v) = fin {
            value = v;
        }
        Ok(value)
    }

    pub(super) fn eval_arg(&mut self, dot: &Value, typ: Option<Type>, arg: &'t Arg) -> Flow<Value> {
        self.at = At::Arg(arg);
        let value = match &arg.kind {
            ArgKind::Dot => dot.clone(),
            ArgKind::Nil => {
                return match typ {
                    Some(t) if can_be_nil(t) => Ok(self.zero(t)),
                    None => Ok(Value::Invalid),
                    Some(t) => Err(self.error(format!("cannot assign nil to {}", t.go_name()))),
                }
            }
            ArgKind::Field(idents) => self.eval_field_chain(
                dot,
                arg,
                dot.clone(),
                idents,
                std::slice::from_ref(arg),
                None,
            )?,
            ArgKind::Variable(idents) => {
                let value = self.var_value(&idents[0])?;
                self.eval_field_chain(dot, arg, value, &idents[1..], &[], None)?
            }
            ArgKind::Pipe(pipe) => self.eval_pipeline(dot, pipe)?,
            ArgKind::Identifier(name) => self.eval_function(dot, name, &[], None)?,
            ArgKind::Chain(base, fields) => {
                let receiver = self.eval_chain_base(dot, arg, base)?;
                self.eval_field_chain(dot, arg, receiver, fields, &[], None)?
            }
            ArgKind::Bool(b) => match typ {
                Some(Type::Bool | Type::Any | Type::Value) | None => return Ok(Value::Bool(*b)),
                Some(t) => return Err(self.literal_mismatch(t, arg)),
            },
            ArgKind::String(_, s) => match typ {
                Some(Type::String | Type::Any | Type::Value) | None => return Ok(Value::bytes(s)),
                Some(t) => return Err(self.literal_mismatch(t, arg)),
            },
            ArgKind::Number(n) => return self.number_arg(typ, arg, n),
        };
        self.validate_type(value, typ)
    }

    fn number_arg(&mut self, typ: Option<Type>, arg: &'t Arg, n: &Number) -> Flow<Value> {
        let converted = match typ {
            Some(Type::Any | Type::Value) | None => return self.ideal_constant(n),
            Some(Type::Int) => n.int.map(Value::Int),
            Some(Type::Int64) => n.int.map(Value::Int64),
            Some(Type::Uint32) => n.uint.map(|u| Value::Uint32(u as u32)),
            Some(Type::Float64) => n.float.map(Value::Float64),
            Some(t) => return Err(self.literal_mismatch(t, arg)),
        };
        match converted {
            Some(v) => Ok(v),
            None => Err(self.literal_mismatch(typ.unwrap_or(Type::Any), arg)),
        }
    }

    fn literal_mismatch(&self, typ: Type, arg: &Arg) -> super::Stop {
        let expected = match typ {
            Type::Bool => "bool",
            Type::String => "string",
            Type::Int | Type::Int64 => "integer",
            Type::Uint32 => "unsigned integer",
            Type::Float64 => "float",
            other => {
                return self.error(format!(
                    "can't handle {arg} for arg of type {}",
                    other.go_name()
                ))
            }
        };
        self.error(format!("expected {expected}; found {arg}"))
    }

    /// A number constant where any type goes: float if written as one, else int.
    pub(super) fn ideal_constant(&self, n: &Number) -> Flow<Value> {
        let text = &n.text;
        let hex_int = text.len() > 2
            && text.starts_with('0')
            && matches!(text.as_bytes()[1], b'x' | b'X')
            && !text.contains(['p', 'P']);
        let rune = text.starts_with('\'');
        if let Some((re, im)) = n.complex {
            return Ok(Value::Object(std::rc::Rc::new(crate::value::Complex {
                re,
                im,
            })));
        }
        if let Some(f) = n.float {
            if !hex_int && !rune && text.contains(['.', 'e', 'E', 'p', 'P']) {
                return Ok(Value::Float64(f));
            }
        }
        if let Some(i) = n.int {
            return Ok(Value::Int(i));
        }
        Err(self.error(format!("{text} overflows int")))
    }

    fn zero(&mut self, typ: Type) -> Value {
        match typ {
            Type::Map => self.heap.new_map(Elem::Any),
            Type::List => Value::list(Elem::Any, Vec::new()),
            Type::Value => Value::Invalid,
            _ => Value::Nil,
        }
    }

    /// Go's `validateType`: the value as the parameter type takes it, or an error.
    pub(super) fn validate_type(&mut self, value: Value, typ: Option<Type>) -> Flow<Value> {
        let Some(typ) = typ else {
            return Ok(value);
        };
        if let Value::Invalid = value {
            if can_be_nil(typ) {
                return Ok(self.zero(typ));
            }
            return Err(self.error(format!("invalid value; expected {}", typ.go_name())));
        }
        let fits = match (typ, &value) {
            (Type::Any | Type::Value, _) => true,
            (Type::String, Value::String(_)) => true,
            (Type::Int, Value::Int(_)) => true,
            (Type::Int64, Value::Int64(_)) => true,
            (Type::Uint32, Value::Uint32(_)) => true,
            (Type::Float64, Value::Float64(_)) => true,
            (Type::Bool, Value::Bool(_)) => true,
            (Type::Map, Value::Map(m)) => self.heap.get(*m).elem == Elem::Any,
            (Type::List, Value::List(l)) => l.elem == Elem::Any,
            (Type::Time, Value::Object(o)) => o.type_name() == "time.Time",
            (Type::Certificate, Value::Object(o)) => o.type_name() == "sprig.certificate",
            _ => false,
        };
        if fits {
            return Ok(value);
        }
        let got = match value {
            Value::Nil => "interface {}".to_string(),
            ref v => v.type_name(&self.heap),
        };
        Err(self.error(format!(
            "wrong type for value; expected {}; got {got}",
            typ.go_name()
        )))
    }
}

fn can_be_nil(typ: Type) -> bool {
    matches!(typ, Type::Any | Type::Map | Type::List | Type::Value)
}
