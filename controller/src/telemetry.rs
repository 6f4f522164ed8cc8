use anyhow::Result;
use tracing_subscriber::EnvFilter;

/// `--log-level` as the reference reads it (Go's `slog.Level`: DEBUG, INFO,
/// WARN, ERROR in any case, with an optional `+N`/`-N`), else any `tracing`
/// filter, else INFO with a warning (the reference ignores what it cannot
/// read). `--log-format`: `json`, anything else is text, as the reference.
pub fn init(level: &str, format: &str) -> Result<()> {
    let (filter, unknown) = match slog_level(level) {
        Some(filter) => (EnvFilter::new(filter), false),
        // A bare word would be taken as a target name and hide every log.
        None if is_directive(level) => match EnvFilter::try_new(level) {
            Ok(filter) => (filter, false),
            Err(_) => (EnvFilter::new("info"), true),
        },
        None => (EnvFilter::new("info"), true),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        // In a Pod the log is a file read by `kubectl logs`: no colour codes.
        .with_ansi(colours_wanted());
    let result = if format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    result.map_err(|e| anyhow::anyhow!("cannot set up logging: {e}"))?;
    if unknown {
        tracing::warn!(log_level = level, "unknown --log-level, using INFO");
    }
    Ok(())
}

/// Colour only on a terminal, and never with `NO_COLOR` set (no-color.org).
fn colours_wanted() -> bool {
    use std::io::IsTerminal as _;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// A `tracing` filter rather than a misspelt level: `trace`, `off`, or
/// directives such as `info,kube=debug`.
fn is_directive(text: &str) -> bool {
    text.contains(['=', ',']) || ["trace", "off"].contains(&text.to_ascii_lowercase().as_str())
}

/// Go's `slog.Level.UnmarshalText`, mapped to the nearest `tracing` level
/// that shows at least what slog would (slog: DEBUG -4, INFO 0, WARN 4, ERROR 8).
fn slog_level(text: &str) -> Option<&'static str> {
    let (name, offset) = match text.find(['+', '-']) {
        Some(i) => {
            let digits = &text[i + 1..];
            // strconv.Atoi on the sign and digits
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (&text[..i], text[i..].parse::<i64>().ok()?)
        }
        None => (text, 0),
    };
    let base = match name.to_ascii_uppercase().as_str() {
        "DEBUG" => -4,
        "INFO" => 0,
        "WARN" => 4,
        "ERROR" => 8,
        _ => return None,
    };
    let level = base + offset;
    Some(match level {
        ..=-5 => "trace",
        -4 => "debug",
        -3..=0 => "info",
        1..=4 => "warn",
        5..=8 => "error",
        _ => "off",
    })
}

#[cfg(test)]
mod tests {
    use super::{is_directive, slog_level};

    #[test]
    fn only_real_directives_are_tracing_filters() {
        assert!(is_directive("trace"));
        assert!(is_directive("info,kube=debug"));
        assert!(!is_directive("WARNING"));
        assert!(!is_directive("verbose"));
    }

    #[test]
    fn slog_levels_as_go_reads_them() {
        assert_eq!(slog_level("INFO"), Some("info"));
        assert_eq!(slog_level("error"), Some("error"));
        assert_eq!(slog_level("Warn"), Some("warn"));
        assert_eq!(slog_level("DEBUG"), Some("debug"));
        assert_eq!(slog_level("INFO+4"), Some("warn"));
        assert_eq!(slog_level("ERROR-2"), Some("error"));
        assert_eq!(slog_level("WARN-8"), Some("debug"));
        assert_eq!(slog_level("ERROR+1"), Some("off"));
        // Not slog levels: "WARNING" (Go rejects it), "INFO+", "TRACE".
        assert_eq!(slog_level("WARNING"), None);
        assert_eq!(slog_level("INFO+"), None);
        assert_eq!(slog_level("TRACE"), None);
    }
}
