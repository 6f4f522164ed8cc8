//! Writing objects as kubeseal does: pretty JSON or `---`-led YAML, with
//! sorted keys so files diff cleanly, to stdout or atomically to a file.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use serde::Serialize;
use serde_json::Value;

mod fileset;

pub(crate) use fileset::FileSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Yaml,
}

impl Format {
    pub(crate) fn parse(flag: &str) -> Self {
        if flag.eq_ignore_ascii_case("yaml") {
            Format::Yaml
        } else {
            Format::Json
        }
    }

    /// `.yaml`/`.yml` output files imply YAML, as in the reference.
    pub(crate) fn for_file(path: &Path, flag: Format) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some("yaml" | "yml") => Format::Yaml,
            _ => flag,
        }
    }

    /// The format an existing file is written in.
    pub(crate) fn of_text(text: &str) -> Self {
        if text
            .trim_start_matches('\u{feff}')
            .trim_start()
            .starts_with('{')
        {
            Format::Json
        } else {
            Format::Yaml
        }
    }
}

/// Appends one object in `format`. Going through `Value` sorts every map.
pub(crate) fn render<T: Serialize>(out: &mut String, object: &T, format: Format) -> Result<()> {
    let value = serde_json::to_value(object).context("cannot serialize output")?;
    let value = sorted(value);
    match format {
        Format::Json => {
            out.push_str(&serde_json::to_string_pretty(&value).context("cannot serialize output")?);
            out.push('\n');
        }
        Format::Yaml => {
            out.push_str("---\n");
            out.push_str(&serde_yaml::to_string(&value).context("cannot serialize output")?);
        }
    }
    Ok(())
}

/// Several clusters' objects on one stream, cluster after cluster: YAML
/// documents each cluster's led by a `# cluster: NAME` line (a comment, so
/// every document stays what a single run prints); JSON one `v1 List` of
/// all objects in order.
pub(crate) fn render_clusters<T: Serialize>(
    out: &mut String,
    clusters: &[(&str, &[T])],
    format: Format,
) -> Result<()> {
    match format {
        Format::Yaml => {
            for (name, objects) in clusters {
                out.push_str("# cluster: ");
                out.push_str(name);
                out.push('\n');
                for object in *objects {
                    render(out, object, format)?;
                }
            }
            Ok(())
        }
        Format::Json => {
            let mut items = Vec::new();
            for (_, objects) in clusters {
                for object in *objects {
                    items.push(serde_json::to_value(object).context("cannot serialize output")?);
                }
            }
            let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items});
            render(out, &list, format)
        }
    }
}

// serde_json's map is ordered only when another crate turns on
// `preserve_order`; sort explicitly so output never depends on that.
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// Where the result goes; a file is replaced only once everything succeeded.
#[derive(Debug, Clone)]
pub(crate) enum Destination {
    Stdout,
    File(PathBuf),
}

impl Destination {
    pub(crate) fn write(&self, bytes: &[u8]) -> Result<()> {
        match self {
            Destination::Stdout => {
                let mut stdout = std::io::stdout().lock();
                stdout.write_all(bytes).context("cannot write to stdout")?;
                stdout.flush().context("cannot write to stdout")
            }
            Destination::File(path) => write_atomically(path, bytes),
        }
    }

    /// As [`Destination::write`], for plaintext Secrets: a file ends up mode
    /// 0600 whether it existed or not (its old, wider mode is not kept).
    pub(crate) fn write_secret(&self, bytes: &[u8]) -> Result<()> {
        match self {
            Destination::Stdout => self.write(bytes),
            Destination::File(path) => write_private(path, bytes),
        }
    }
}

/// Writes a sibling temporary file and renames it over `path`, keeping the
/// old file's permissions, so readers never see a half-written file.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let permissions = match std::fs::metadata(path) {
        Ok(meta) => Some(meta.permissions()),
        Err(_) => default_permissions(),
    };
    replace_file(path, bytes, permissions)
}

/// As [`write_atomically`], for a file only its owner may read (key backups).
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    #[cfg(unix)]
    let permissions = {
        use std::os::unix::fs::PermissionsExt as _;
        Some(std::fs::Permissions::from_mode(0o600))
    };
    #[cfg(not(unix))]
    let permissions = None;
    replace_file(path, bytes, permissions)
}

/// The temporary file is created readable by its owner only (tempfile's
/// default), so `permissions` are applied before anyone else could read it.
fn replace_file(
    path: &Path,
    bytes: &[u8],
    permissions: Option<std::fs::Permissions>,
) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".kubeseal-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    if let Some(permissions) = permissions {
        std::fs::set_permissions(tmp.path(), permissions)
            .with_context(|| format!("cannot set permissions on {}", path.display()))?;
    }
    tmp.persist(path)
        .with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

// New files get the usual 0644 rather than the temporary file's 0600.
#[cfg(unix)]
fn default_permissions() -> Option<std::fs::Permissions> {
    use std::os::unix::fs::PermissionsExt as _;
    Some(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn default_permissions() -> Option<std::fs::Permissions> {
    None
}
