//! Where the layout file of a path is: walking up from it, as `git` finds
//! its repository, but never past the repository's root and never in
//! `$HOME` (a stray file there must not choose a key).

use std::path::{Component, Path, PathBuf};

use anyhow::{Context as _, Result};

/// The layout file's name, at the repository's root (as `.sops.yaml`).
pub(crate) const FILE_NAME: &str = ".sealed-secrets.yaml";

/// The layout file governing `path`: looked for in the folder of `path` (or
/// `path` itself when it is a folder) and its ancestors; the walk stops
/// after the folder holding `.git`, before `$HOME`, or at `/`.
pub(super) fn discover(path: &Path) -> Result<Option<PathBuf>> {
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .and_then(|h| std::fs::canonicalize(h).ok());
    discover_below(path, home.as_deref())
}

pub(super) fn discover_below(path: &Path, home: Option<&Path>) -> Result<Option<PathBuf>> {
    let start = if path.is_dir() {
        std::fs::canonicalize(path)
            .with_context(|| format!("cannot resolve folder {}", path.display()))?
    } else {
        let absolute = absolute(path)?;
        match absolute.parent() {
            Some(parent) => parent.to_path_buf(),
            None => return Ok(None),
        }
    };
    for dir in start.ancestors() {
        if Some(dir) == home {
            return Ok(None);
        }
        let candidate = dir.join(FILE_NAME);
        if candidate.is_file() {
            return Ok(Some(candidate));
        }
        // `.git` is a folder, or a file in a worktree or submodule.
        if dir.join(".git").exists() {
            return Ok(None);
        }
    }
    Ok(None)
}

/// `path` made absolute: the nearest existing ancestor of its parent
/// canonicalised (links and `..` resolved), the rest appended lexically, so
/// a file about to be written can be placed before it exists.
pub(crate) fn absolute(path: &Path) -> Result<PathBuf> {
    let path = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .context("cannot read the current folder")?
            .join(path)
    };
    let parent = path.parent().unwrap_or(&path);
    let (base, rest) = parent
        .ancestors()
        .find_map(|a| {
            let canonical = std::fs::canonicalize(a).ok()?;
            let rest = path.strip_prefix(a).ok()?;
            Some((canonical, rest.to_path_buf()))
        })
        .with_context(|| format!("cannot resolve {}", path.display()))?;
    let mut out = base;
    for part in rest.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(name) => out.push(name),
            _ => {}
        }
    }
    Ok(out)
}
