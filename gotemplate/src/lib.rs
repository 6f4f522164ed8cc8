//! Go's `text/template` with sprig's `GenericFuncMap`, as the reference
//! Sealed Secrets controller renders `spec.template.data`: the same output
//! byte for byte, but bounded in time, memory and depth, and with error texts
//! that never hold a value from the data.

pub mod escape;
pub mod fmt;
mod funcs;
pub mod sprig;
pub mod value;

pub use funcs::{Budget, Env, Func, FuncError, FuncMap, Native, Type};
pub use value::{Bytes, Elem, GoMap, Heap, Kind, List, MapRef, Object, Value};

/// A bound of a render that was reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Limit {
    #[error("rendering took longer than the time limit")]
    Time,
    #[error("rendering needed more memory than the limit")]
    Memory,
    #[error("the output is larger than the limit")]
    Output,
    #[error("templates nested deeper than the limit")]
    Depth,
}
