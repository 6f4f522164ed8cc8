use std::fmt::Write as _;

/// The error and its causes on one line each, then a hint when one applies.
pub(crate) fn render(err: &anyhow::Error) -> String {
    let mut text = err.to_string();
    for cause in err.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            let _ = write!(text, ": {cause}");
        }
    }
    text
}
