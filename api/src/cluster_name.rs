//! The names of clusters: kubeseal's `--cert NAME=` and `.sealed-secrets.yaml`,
//! the controller's `--cluster-name`. One rule, because the names go into
//! file paths as they are (`-w 'clusters/{cluster}/db.yaml'`, the web page's
//! download name).

/// The longest cluster name, a DNS label's.
pub const MAX_LEN: usize = 63;

/// At most [`MAX_LEN`] ASCII letters, digits, `-` and `_`, starting with a
/// letter or digit: no `/`, `.` or `:`, so a name is never a path or a URL.
pub fn is_valid(name: &str) -> bool {
    name.len() <= MAX_LEN
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}
