use anyhow::{Context as _, Result};
use tracing_subscriber::EnvFilter;

/// `--log-level` INFO/ERROR as the reference, or any `tracing` filter.
pub fn init(level: &str, format: &str) -> Result<()> {
    let filter = match level.to_ascii_uppercase().as_str() {
        "INFO" => "info".to_string(),
        "ERROR" => "error".to_string(),
        "WARN" | "WARNING" => "warn".to_string(),
        "DEBUG" => "debug".to_string(),
        _ => level.to_string(),
    };
    let filter =
        EnvFilter::try_new(&filter).with_context(|| format!("invalid --log-level {level:?}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let result = if format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    result.map_err(|e| anyhow::anyhow!("cannot set up logging: {e}"))
}
