//! The bounds of a render and the bound that was reached.

use std::time::{Duration, Instant};

/// A bound of a render that was reached ([`Error::Limit`](crate::Error::Limit)).
///
/// ```
/// use go_text_template::{Error, Limit, Limits, Template};
/// let t = Template::new("t")
///     .limits(Limits { max_depth: 10, ..Limits::default() })
///     .parse(r#"{{ define "r" }}{{ template "r" }}{{ end }}{{ template "r" }}"#)?;
/// let err = t.execute(&mut Vec::new(), &()).unwrap_err();
/// assert!(err.to_string().ends_with("exceeded maximum template depth (10)"));
/// let t = Template::new("t").limits(Limits { max_output: 2, ..Limits::default() }).parse("abc")?;
/// assert!(matches!(t.execute(&mut Vec::new(), &()), Err(Error::Limit(Limit::Output))));
/// # Ok::<(), go_text_template::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Limit {
    /// [`Limits::timeout`] or [`Limits::deadline`] passed.
    #[error("rendering took longer than the time limit")]
    Time,
    /// [`Limits::max_memory`]: the values functions made are too large.
    #[error("rendering needed more memory than the limit")]
    Memory,
    /// [`Limits::max_output`].
    #[error("the output is larger than the limit")]
    Output,
    /// Values nested too deep to print (a map that holds itself). Too many
    /// nested `{{template}}` calls ([`Limits::max_depth`]) are Go's
    /// [`Error::Exec`](crate::Error::Exec) instead.
    #[error("templates nested deeper than the limit")]
    Depth,
}

/// Bounds of one execution. Go has none; these keep a hostile template
/// from running away. The executor checks time in every step and loop, and
/// every function charges the memory it makes.
///
/// ```
/// use std::time::Duration;
/// use go_text_template::{Error, Limit, Limits, Template};
/// let limits = Limits { timeout: Some(Duration::from_millis(50)), ..Limits::default() };
/// let t = Template::new("t").limits(limits).parse("{{ range 1000000000 }}{{ end }}")?;
/// assert!(matches!(t.execute(&mut Vec::new(), &()), Err(Error::Limit(Limit::Time))));
/// # Ok::<(), go_text_template::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of output.
    pub max_output: usize,
    /// Bytes that values made by functions may take, all together.
    pub max_memory: usize,
    /// Nested `{{template}}` calls (Go allows 100000; a recursive template
    /// fails either way, ours sooner and with less memory).
    pub max_depth: usize,
    /// How long one execution may take, from its start.
    pub timeout: Option<Duration>,
    /// When every execution must have ended (for several renders that
    /// share one time budget).
    pub deadline: Option<Instant>,
}

impl Limits {
    /// The instant an execution starting now must end by.
    pub(crate) fn ends_at(&self) -> Option<Instant> {
        let timeout = self.timeout.and_then(|t| Instant::now().checked_add(t));
        match (timeout, self.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

impl Default for Limits {
    /// 1 MiB of output, 16 MiB of values, 1000 nested templates, no time
    /// limit.
    ///
    /// ```
    /// let limits = go_text_template::Limits::default();
    /// assert_eq!((limits.max_output, limits.timeout), (1 << 20, None));
    /// ```
    fn default() -> Self {
        Limits {
            max_output: 1 << 20,
            max_memory: 16 << 20,
            max_depth: 1000,
            timeout: None,
            deadline: None,
        }
    }
}
