//! `semver` and `semverCompare`: Masterminds/semver v3.4.0 (the version the
//! reference links with sprig v3.3.0). `semver` returns a `*semver.Version` whose methods templates
//! may call; the `Version` type is in `version`, the constraint language in
//! `constraint`.

mod constraint;
mod version;

use std::cell::RefCell;
use std::cmp::Ordering;
use std::rc::Rc;

use crate::funcs::{Env, Func, FuncError, Type};
use crate::value::{Elem, Heap, Kind, Object, Value};
use constraint::Constraints;
use version::{validate_metadata, validate_prerelease, Version};

pub(super) const FUNCS: &[Func] = &[
    Func::new("semver", &[Type::String], semver),
    Func::new(
        "semverCompare",
        &[Type::String, Type::String],
        semver_compare,
    ),
];

const NIL_DEREF: &str = "runtime error: invalid memory address or nil pointer dereference";

fn str_arg(args: &[Value], i: usize) -> Result<&[u8], FuncError> {
    args.get(i)
        .and_then(Value::as_bytes)
        .ok_or_else(|| FuncError::reason("wrong type for value; expected string"))
}

fn semver(env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let v = str_arg(args, 0)?;
    env.charge(v.len() * 3 + 64)?;
    let version = Version::parse(v).map_err(FuncError::reason)?;
    Ok(SemverVersion::pointer(version))
}

fn semver_compare(env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let (c, v) = (str_arg(args, 0)?, str_arg(args, 1)?);
    env.charge(c.len() * 8 + v.len())?;
    let constraints = Constraints::parse(c).map_err(FuncError::reason)?;
    let version = Version::parse(v).map_err(FuncError::reason)?;
    Ok(Value::Bool(constraints.check(&version)))
}

/// A `*semver.Version` (shared and mutable through `Scan`, as a pointer is)
/// or a `semver.Version` value (what `IncMajor` & co return).
#[derive(Debug)]
pub(crate) struct SemverVersion {
    v: RefCell<Version>,
    pointer: bool,
}

impl SemverVersion {
    fn pointer(v: Version) -> Value {
        Value::Object(Rc::new(SemverVersion {
            v: RefCell::new(v),
            pointer: true,
        }))
    }

    fn value(v: Version) -> Value {
        Value::Object(Rc::new(SemverVersion {
            v: RefCell::new(v),
            pointer: false,
        }))
    }
}

/// A Go `error` held as a value (a method with a lone `error` result).
#[derive(Debug)]
struct GoError(String);

impl Object for GoError {
    fn type_name(&self) -> &'static str {
        "*errors.errorString"
    }
    fn kind(&self) -> Kind {
        Kind::Ptr
    }
    fn format(&self, _heap: &Heap) -> Vec<u8> {
        self.0.as_bytes().to_vec()
    }
    fn fields(&self) -> Option<Vec<(&'static str, Value)>> {
        Some(vec![("s", Value::str(&self.0))])
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn equals(&self, other: &dyn Object) -> bool {
        std::ptr::eq(
            self as *const Self as *const u8,
            other.as_any() as *const dyn std::any::Any as *const u8,
        )
    }
}

/// The `*semver.Version` argument of `Compare` & co; `None` for nil.
fn version_arg(args: &[Value]) -> Result<Option<Version>, FuncError> {
    match args.first() {
        Some(Value::Nil) => Ok(None),
        Some(Value::Object(o)) => match o.as_any().downcast_ref::<SemverVersion>() {
            Some(s) if s.pointer => Ok(Some(s.v.borrow().clone())),
            _ => Err(FuncError::reason(format!(
                "wrong type for value; expected *semver.Version; got {}",
                o.type_name()
            ))),
        },
        _ => Err(FuncError::reason(
            "wrong type for value; expected *semver.Version",
        )),
    }
}

impl Object for SemverVersion {
    fn type_name(&self) -> &'static str {
        if self.pointer {
            "*semver.Version"
        } else {
            "semver.Version"
        }
    }

    fn kind(&self) -> Kind {
        if self.pointer {
            Kind::Ptr
        } else {
            Kind::Struct
        }
    }

    fn method(
        &self,
        env: &mut Env<'_>,
        name: &str,
        args: &[Value],
    ) -> Option<Result<Value, FuncError>> {
        let takes_none = matches!(
            name,
            "String"
                | "Major"
                | "Minor"
                | "Patch"
                | "Prerelease"
                | "Metadata"
                | "Original"
                | "IncMajor"
                | "IncMinor"
                | "IncPatch"
                | "Value"
                | "MarshalText"
                | "MarshalJSON"
        );
        if takes_none {
            if let Err(e) = crate::sprig::args::want_args(name, args, 0) {
                return Some(Err(e));
            }
        }
        let v = self.v.borrow().clone();
        // Methods with a value receiver: on both `Version` and `*Version`.
        let value_method = match name {
            "String" => Some(Ok(Value::bytes(&v.string()))),
            "Major" => Some(Ok(Value::Uint64(v.major))),
            "Minor" => Some(Ok(Value::Uint64(v.minor))),
            "Patch" => Some(Ok(Value::Uint64(v.patch))),
            "Prerelease" => Some(Ok(Value::bytes(&v.pre))),
            "Metadata" => Some(Ok(Value::bytes(&v.metadata))),
            "IncMajor" | "IncMinor" | "IncPatch" => Some(Ok(SemverVersion::value(v.inc(name)))),
            "SetPrerelease" | "SetMetadata" => Some(set_part(&v, name, args)),
            "Value" => Some(Ok(Value::bytes(&v.string()))),
            "MarshalText" => Some(Ok(byte_slice(&v.string()))),
            "MarshalJSON" => {
                // A version's text needs no JSON escaping.
                let mut json = vec![b'"'];
                json.extend_from_slice(&v.string());
                json.push(b'"');
                Some(Ok(byte_slice(&json)))
            }
            _ => None,
        };
        if value_method.is_some() {
            return value_method;
        }
        if !self.pointer {
            return None;
        }
        let _ = env;
        let ordering = |args: &[Value]| -> Result<Ordering, FuncError> {
            version_arg(args)?
                .map(|o| v.compare(&o))
                .ok_or_else(|| FuncError::reason(NIL_DEREF))
        };
        let result = match name {
            "Original" => Ok(Value::bytes(&v.original)),
            "Compare" => ordering(args).map(|o| Value::Int(o as i64)),
            "LessThan" => ordering(args).map(|o| Value::Bool(o.is_lt())),
            "LessThanEqual" => ordering(args).map(|o| Value::Bool(o.is_le())),
            "GreaterThan" => ordering(args).map(|o| Value::Bool(o.is_gt())),
            "GreaterThanEqual" => ordering(args).map(|o| Value::Bool(o.is_ge())),
            "Equal" => match (args.first(), version_arg(args)) {
                (Some(Value::Object(o)), _) if self.equals(o.as_ref()) => Ok(Value::Bool(true)),
                (_, Ok(None)) => Ok(Value::Bool(false)),
                (_, Ok(Some(o))) => Ok(Value::Bool(v.compare(&o).is_eq())),
                (_, Err(e)) => Err(e),
            },
            "Scan" => {
                // Only a string scans; anything else is "" and fails.
                let text = args.first().and_then(Value::as_bytes).unwrap_or_default();
                Ok(match Version::parse(text) {
                    Ok(parsed) => {
                        *self.v.borrow_mut() = parsed;
                        Value::Nil
                    }
                    Err(e) => Value::Object(Rc::new(GoError(e))),
                })
            }
            _ => return None,
        };
        Some(result)
    }

    fn format(&self, _heap: &Heap) -> Vec<u8> {
        self.v.borrow().string()
    }

    fn fields(&self) -> Option<Vec<(&'static str, Value)>> {
        let v = self.v.borrow();
        Some(vec![
            ("major", Value::Uint64(v.major)),
            ("minor", Value::Uint64(v.minor)),
            ("patch", Value::Uint64(v.patch)),
            ("pre", Value::bytes(&v.pre)),
            ("metadata", Value::bytes(&v.metadata)),
            ("original", Value::bytes(&v.original)),
        ])
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn equals(&self, other: &dyn Object) -> bool {
        let Some(o) = other.as_any().downcast_ref::<SemverVersion>() else {
            return false;
        };
        if self.pointer {
            // Pointers are equal only to themselves.
            o.pointer && std::ptr::eq(self, o)
        } else {
            !o.pointer && *self.v.borrow() == *o.v.borrow()
        }
    }
}

fn byte_slice(b: &[u8]) -> Value {
    Value::list(Elem::Uint8, b.iter().map(|&x| Value::Uint8(x)).collect())
}

fn set_part(v: &Version, name: &str, args: &[Value]) -> Result<Value, FuncError> {
    let part = str_arg(args, 0)?;
    let mut next = v.clone();
    if name == "SetPrerelease" {
        if !part.is_empty() {
            validate_prerelease(part).map_err(FuncError::reason)?;
        }
        next.pre = part.to_vec();
    } else {
        if !part.is_empty() {
            validate_metadata(part).map_err(FuncError::reason)?;
        }
        next.metadata = part.to_vec();
    }
    Ok(SemverVersion::value(next.with_original(v.v_prefix())))
}

#[cfg(test)]
mod tests;
