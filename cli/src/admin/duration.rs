//! Durations given to `admin` flags.

use std::time::Duration;

/// `--older-than`, `--key-ttl`: Go-style (`720h`, `90m`) or humantime (`30d`, `2w`, `1y`).
pub(super) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    humantime::parse_duration(text).map_err(|e| format!("{e}; use e.g. 720h, 30d, 2w or 1y"))
}
