//! The bounds of a render and the bound that was reached.

use std::time::Instant;

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

/// Bounds of one render.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Bytes of output.
    pub max_output: usize,
    /// Bytes that values made by functions may take, all together.
    pub max_memory: usize,
    /// Nested `{{template}}` calls (Go allows 100000; a recursive template
    /// fails either way, ours sooner and with less memory).
    pub max_depth: usize,
    pub deadline: Option<Instant>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            // A Secret holds at most 1 MiB.
            max_output: 1 << 20,
            max_memory: 16 << 20,
            max_depth: 1000,
            deadline: None,
        }
    }
}
