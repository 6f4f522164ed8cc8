//! sprig's functions on any value: lists (list.go), dicts (dict.go, with
//! mergo's merge and copystructure's deep copy in `merge`), defaults and
//! emptiness (defaults.go), reflection (reflect.go, Go's `reflect.DeepEqual`).

pub(super) mod defaults;
pub(super) mod dicts;
pub(super) mod lists;
mod merge;
pub(super) mod reflect;
