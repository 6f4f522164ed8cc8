//! The function interface: what a template function declares (its Go
//! signature) and what it gets to work with while it runs ([`Env`]).

use std::borrow::Cow;
use std::collections::HashMap;
use std::time::Instant;

use crate::value::{Heap, Value};

/// Why a function failed. The text is Go's reason with no value in it: never
/// put an argument, a result or any part of one into a message (templates
/// see decrypted secrets; error texts go to status, Events and logs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FuncError {
    Reason(Cow<'static, str>),
    /// A bound of the render was reached (time, memory, output, depth).
    Limit(crate::limits::Limit),
}

impl FuncError {
    pub fn reason(text: impl Into<Cow<'static, str>>) -> Self {
        FuncError::Reason(text.into())
    }
}

impl std::fmt::Display for FuncError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FuncError::Reason(r) => f.write_str(r),
            FuncError::Limit(l) => write!(f, "{l}"),
        }
    }
}

/// The Go type of a parameter. The executor converts and checks arguments
/// against it exactly as Go's `text/template` does, so a function receives
/// only values of that type (`Any` receives anything; a missing value
/// arrives as `Value::Nil`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    /// `interface {}`
    Any,
    String,
    Int,
    Int64,
    Uint32,
    Float64,
    Bool,
    /// `map[string]interface {}`
    Map,
    /// `[]interface {}`
    List,
    /// `time.Time`
    Time,
    /// sprig's `certificate` struct
    Certificate,
    /// `reflect.Value`: text/template's own functions take values as they are.
    Value,
}

impl Type {
    pub fn go_name(self) -> &'static str {
        match self {
            Type::Any => "interface {}",
            Type::String => "string",
            Type::Int => "int",
            Type::Int64 => "int64",
            Type::Uint32 => "uint32",
            Type::Float64 => "float64",
            Type::Bool => "bool",
            Type::Map => "map[string]interface {}",
            Type::List => "[]interface {}",
            Type::Time => "time.Time",
            Type::Certificate => "sprig.certificate",
            Type::Value => "reflect.Value",
        }
    }
}

pub type Native = fn(&mut Env<'_>, &[Value]) -> Result<Value, FuncError>;

/// One template function and its Go signature.
#[derive(Clone, Copy)]
pub struct Func {
    pub name: &'static str,
    /// Fixed parameters, in order.
    pub params: &'static [Type],
    /// `...T` after the fixed parameters.
    pub variadic: Option<Type>,
    pub call: Native,
}

// The constructors and insert_all are for sprig's tables.
#[cfg_attr(not(feature = "sprig"), allow(dead_code))]
impl Func {
    /// A function of fixed parameters (Go's `func(a A, b B) R`).
    pub(crate) const fn new(name: &'static str, params: &'static [Type], call: Native) -> Func {
        Func {
            name,
            params,
            variadic: None,
            call,
        }
    }

    /// A function whose last parameter is `...rest`.
    pub(crate) const fn variadic(
        name: &'static str,
        params: &'static [Type],
        rest: Type,
        call: Native,
    ) -> Func {
        Func {
            name,
            params,
            variadic: Some(rest),
            call,
        }
    }
}

impl std::fmt::Debug for Func {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Func").field("name", &self.name).finish()
    }
}

/// Functions by name.
pub type FuncMap = HashMap<&'static str, Func>;

#[cfg_attr(not(feature = "sprig"), allow(dead_code))]
pub(crate) fn insert_all(map: &mut FuncMap, funcs: &[Func]) {
    for f in funcs {
        map.insert(f.name, *f);
    }
}

/// What a render may still spend.
#[derive(Debug)]
pub struct Budget {
    /// Bytes that values made during the render may take, all together.
    pub(crate) alloc_left: usize,
    pub(crate) deadline: Option<Instant>,
    /// Calls to `check_time` since the clock was last read.
    pub(crate) ticks: u32,
}

impl Budget {
    pub fn new(alloc: usize, deadline: Option<Instant>) -> Self {
        Budget {
            alloc_left: alloc,
            deadline,
            ticks: 0,
        }
    }

    /// Bytes still free.
    pub fn left(&self) -> usize {
        self.alloc_left
    }

    pub fn charge(&mut self, bytes: usize) -> Result<(), FuncError> {
        match self.alloc_left.checked_sub(bytes) {
            Some(left) => {
                self.alloc_left = left;
                Ok(())
            }
            None => {
                self.alloc_left = 0;
                Err(FuncError::Limit(crate::limits::Limit::Memory))
            }
        }
    }

    pub fn check_time(&mut self) -> Result<(), FuncError> {
        self.ticks = self.ticks.wrapping_add(1);
        if !self.ticks.is_multiple_of(256) {
            return Ok(());
        }
        match self.deadline {
            Some(d) if Instant::now() >= d => Err(FuncError::Limit(crate::limits::Limit::Time)),
            _ => Ok(()),
        }
    }
}

/// What a function works with: the render's maps and its budget.
pub struct Env<'a> {
    pub heap: &'a mut Heap,
    pub budget: &'a mut Budget,
}

impl Env<'_> {
    /// Call before making a value of about `bytes` bytes (a string, a list's
    /// items at 16 bytes each, a map's entries): fails once the render's
    /// memory bound is reached, so no function can allocate without bound.
    pub fn charge(&mut self, bytes: usize) -> Result<(), FuncError> {
        self.budget.charge(bytes)
    }

    /// Call in any loop whose length the input decides.
    pub fn check_time(&mut self) -> Result<(), FuncError> {
        self.budget.check_time()
    }
}
