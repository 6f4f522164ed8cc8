//! Why a template did not render.

use crate::limits::Limit;
use crate::parse::ParseError;

/// Why a template did not render. Texts hold template text and Go's reason,
/// never a value from the data.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error("{0}")]
    Exec(String),
    #[error("{0}")]
    Limit(Limit),
}
