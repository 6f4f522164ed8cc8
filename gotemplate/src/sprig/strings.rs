use crate::funcs::Func;

pub(super) const FUNCS: &[Func] = &[];
