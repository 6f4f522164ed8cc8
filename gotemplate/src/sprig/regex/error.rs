//! Go's `regexp/syntax` error codes (`ErrorCode`), shared by the parser and the escape reader.

pub(super) const ERR_MISSING_PAREN: &str = "missing closing )";
pub(super) const ERR_UNEXPECTED_PAREN: &str = "unexpected )";
pub(super) const ERR_MISSING_BRACKET: &str = "missing closing ]";
pub(super) const ERR_INVALID_ESCAPE: &str = "invalid escape sequence";
pub(super) const ERR_INVALID_RANGE: &str = "invalid character class range";
pub(super) const ERR_NAMED_CAPTURE: &str = "invalid named capture";
pub(super) const ERR_PERL_OP: &str = "invalid or unsupported Perl syntax";
pub(super) const ERR_REPEAT_OP: &str = "invalid nested repetition operator";
pub(super) const ERR_REPEAT_SIZE: &str = "invalid repeat count";
pub(super) const ERR_UTF8: &str = "invalid UTF-8";
pub(super) const ERR_REPEAT_ARG: &str = "missing argument to repetition operator";
pub(super) const ERR_TRAILING_BACKSLASH: &str = "trailing backslash at end of expression";
pub(super) const ERR_NESTING: &str = "expression nests too deeply";
