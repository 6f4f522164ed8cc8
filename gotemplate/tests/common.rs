//! What the test files share: which of sprig's functions this build has.
//! A row that names a function whose Cargo feature is off fails to parse
//! (`function "X" not defined`, as in Go); the tables skip such rows, and
//! only such rows, when a feature is off. With the default features every
//! row runs.

/// Every sprig function is compiled in (the default features).
pub const ALL_SPRIG: bool = cfg!(all(
    feature = "sprig",
    feature = "sprig-crypto",
    feature = "sprig-regex",
    feature = "sprig-time"
));

/// `result` is the parse error of a function this build leaves out.
pub fn left_out<T>(result: &Result<T, String>) -> bool {
    !ALL_SPRIG
        && matches!(result, Err(e) if e.contains(": function \"") && e.ends_with("\" not defined"))
}
