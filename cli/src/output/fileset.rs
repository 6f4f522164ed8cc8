//! Writing several files all or none: one sealing for several clusters must
//! not leave some clusters' files new and others old.
//!
//! Every new content is first written to a temporary file beside its target,
//! every existing target gets a hard-link backup, and only then are the
//! temporary files renamed over their targets. When a rename fails, the ones
//! already done are undone from the backups. A crash in the middle of the
//! renames can still leave a mixed set; the `.kubeseal-*.bak` files left
//! then say what happened (this is not a journal).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::Permissions;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context as _, Result};
use tempfile::TempPath;

/// Prefix of every temporary and backup file, as `write_atomically`'s.
const PREFIX: &str = ".kubeseal-";

/// Files to be written together by [`FileSet::commit`].
#[derive(Default)]
pub(crate) struct FileSet {
    files: Vec<Planned>,
}

struct Planned {
    /// As the user named it, for messages.
    shown: PathBuf,
    /// Where the content goes: `shown`, or the file a link named points at.
    target: PathBuf,
    bytes: Vec<u8>,
    /// What the file is for (`cluster oslo`), for messages.
    what: String,
}

/// A file whose new content waits in a temporary file beside it.
struct Prepared<'a> {
    file: &'a Planned,
    /// Removed when dropped, unless renamed over the target.
    temp: Option<TempPath>,
    /// Removed when dropped, unless it is the only copy of the old content.
    backup: Option<TempPath>,
}

impl FileSet {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Plans `bytes` for `path`; `what` names the file's purpose in errors.
    pub(crate) fn add(&mut self, path: PathBuf, bytes: Vec<u8>, what: impl Into<String>) {
        self.files.push(Planned {
            target: path.clone(),
            shown: path,
            bytes,
            what: what.into(),
        });
    }

    /// Writes every file, or none: on an error every target holds what it
    /// held before (or still does not exist), and the error says so.
    pub(crate) fn commit(self) -> Result<()> {
        self.commit_with(&mut |from, to| std::fs::rename(from, to))
    }

    /// [`FileSet::commit`] with the rename used for committing and undoing
    /// given, so tests can make one fail.
    fn commit_with(
        mut self,
        rename: &mut impl FnMut(&Path, &Path) -> io::Result<()>,
    ) -> Result<()> {
        self.check()?;
        let mut prepared = Vec::with_capacity(self.files.len());
        for file in &self.files {
            prepared.push(prepare(file)?);
        }
        for p in &mut prepared {
            p.backup = back_up(p.file)?;
        }
        let total = prepared.len();
        for k in 0..total {
            let p = &mut prepared[k];
            let Some(temp) = p.temp.take() else {
                continue;
            };
            if let Err(err) = rename(&temp, &p.file.target) {
                let mut message = format!(
                    "cannot write {} ({}): {err}",
                    p.file.shown.display(),
                    p.file.what
                );
                message.push_str(&undo(&mut prepared[..k], rename, total));
                return Err(anyhow!(message));
            }
            // Renamed away: there is nothing left at the temporary path.
            disarm(temp);
        }
        finish(prepared);
        Ok(())
    }

    /// Refuses, before anything is touched, a set that cannot be written:
    /// a missing folder, a target that is a directory, one file twice.
    fn check(&mut self) -> Result<()> {
        let mut seen: BTreeMap<PathBuf, &str> = BTreeMap::new();
        for file in &mut self.files {
            let dir = parent(&file.shown);
            match std::fs::metadata(dir) {
                Ok(meta) if meta.is_dir() => {}
                Ok(_) => bail!(
                    "{} is not a directory ({}), so {} cannot be written there: nothing was written",
                    dir.display(),
                    file.what,
                    file.shown.display()
                ),
                Err(e) if e.kind() == io::ErrorKind::NotFound => bail!(
                    "directory {} does not exist ({}): create it first; nothing was written",
                    dir.display(),
                    file.what
                ),
                Err(e) => bail!(
                    "cannot read directory {} ({}): {e}; nothing was written",
                    dir.display(),
                    file.what
                ),
            }
            let identity = match std::fs::symlink_metadata(&file.shown) {
                Err(_) => {
                    let dir = std::fs::canonicalize(dir)
                        .with_context(|| format!("cannot resolve {}", dir.display()))?;
                    dir.join(file.shown.file_name().unwrap_or_default())
                }
                Ok(_) => {
                    let meta = std::fs::metadata(&file.shown).with_context(|| {
                        format!("cannot read {} ({})", file.shown.display(), file.what)
                    })?;
                    if !meta.is_file() {
                        bail!(
                            "{} is a directory or special file, not a file ({}): move it away or choose another -w; nothing was written",
                            file.shown.display(),
                            file.what
                        );
                    }
                    // A link named directly is written through: the link stays.
                    let resolved = std::fs::canonicalize(&file.shown)
                        .with_context(|| format!("cannot resolve {}", file.shown.display()))?;
                    file.target = resolved.clone();
                    resolved
                }
            };
            if let Some(other) = seen.insert(identity, &file.what) {
                bail!(
                    "{other} and {} would both be written to {}: give each its own file",
                    file.what,
                    file.shown.display()
                );
            }
        }
        Ok(())
    }
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// The new content in a synced temporary file beside the target, with the
/// target's permissions (new files: 0644). Dropped on an error: removed.
fn prepare(file: &Planned) -> Result<Prepared<'_>> {
    let dir = parent(&file.target);
    let mut temp = tempfile::Builder::new()
        .prefix(PREFIX)
        .tempfile_in(dir)
        .with_context(|| {
            format!(
                "cannot create a temporary file in {} ({}); nothing was written",
                dir.display(),
                file.what
            )
        })?;
    temp.write_all(&file.bytes)
        .and_then(|_| temp.as_file().sync_all())
        .with_context(|| {
            format!(
                "cannot write {} ({}); nothing was written",
                file.shown.display(),
                file.what
            )
        })?;
    if let Some(permissions) = permissions_for(&file.target) {
        std::fs::set_permissions(temp.path(), permissions).with_context(|| {
            format!(
                "cannot set permissions on {}; nothing was written",
                file.shown.display()
            )
        })?;
    }
    Ok(Prepared {
        file,
        temp: Some(temp.into_temp_path()),
        backup: None,
    })
}

/// The old file's permissions, else the usual 0644 (not the temporary
/// file's 0600).
fn permissions_for(target: &Path) -> Option<Permissions> {
    if let Ok(meta) = std::fs::metadata(target) {
        return Some(meta.permissions());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        Some(Permissions::from_mode(0o644))
    }
    #[cfg(not(unix))]
    None
}

/// A second name for an existing target, in its folder, so the old content
/// can be renamed back. A hard link costs nothing; where links are refused
/// (some file systems, `protected_hardlinks` on another user's file), a
/// synced copy.
fn back_up(file: &Planned) -> Result<Option<TempPath>> {
    if !file.target.exists() {
        return Ok(None);
    }
    let dir = parent(&file.target);
    let failed = |e: io::Error| {
        anyhow!(
            "cannot back up {} ({}) before replacing it: {e}; nothing was written",
            file.shown.display(),
            file.what
        )
    };
    let builder = {
        let mut b = tempfile::Builder::new();
        b.prefix(PREFIX).suffix(".bak");
        b
    };
    match builder.make_in(dir, |path| std::fs::hard_link(&file.target, path)) {
        Ok(linked) => Ok(Some(linked.into_temp_path())),
        Err(_) => {
            let mut copy = builder.tempfile_in(dir).map_err(failed)?;
            let mut old = std::fs::File::open(&file.target).map_err(failed)?;
            io::copy(&mut old, &mut copy).map_err(failed)?;
            copy.as_file().sync_all().map_err(failed)?;
            if let Ok(meta) = old.metadata() {
                // The copy comes back only by rename: it must carry the mode.
                std::fs::set_permissions(copy.path(), meta.permissions()).map_err(failed)?;
            }
            Ok(Some(copy.into_temp_path()))
        }
    }
}

/// Puts back the `done` files after a failed rename; the text to append to
/// the error. The other temporary files and backups are removed when
/// dropped, except a backup that is the only copy left of an old content.
fn undo(
    done: &mut [Prepared<'_>],
    rename: &mut impl FnMut(&Path, &Path) -> io::Result<()>,
    total: usize,
) -> String {
    let mut lost = String::new();
    let mut put_back = 0;
    for p in done.iter_mut().rev() {
        let shown = p.file.shown.display();
        match p.backup.take() {
            Some(backup) => {
                let result = rename(&backup, &p.file.target);
                // Renamed back, or the only copy of the old content: kept.
                let kept = disarm(backup);
                match result {
                    Ok(()) => put_back += 1,
                    Err(e) => {
                        let _ = write!(
                            lost,
                            "; {shown} could not be put back ({e}): it holds the new content, the old one is in {}",
                            kept.display()
                        );
                    }
                }
            }
            None => match std::fs::remove_file(&p.file.target) {
                Ok(()) => put_back += 1,
                Err(e) => {
                    let _ = write!(
                            lost,
                            "; {shown} did not exist before and could not be removed ({e}): it holds the new content"
                        );
                }
            },
        }
    }
    if lost.is_empty() {
        match done.len() {
            0 => format!("; none of the {total} files changed"),
            1 => format!(
                "; the file already written was put back: none of the {total} files changed"
            ),
            n => format!(
                "; the {n} files already written were put back: none of the {total} files changed"
            ),
        }
    } else {
        format!(
            "; {put_back} of the {} files already written were put back{lost}",
            done.len()
        )
    }
}

/// Stops a temporary path from being removed when dropped; its path.
fn disarm(temp: TempPath) -> PathBuf {
    let path = temp.to_path_buf();
    if let Err(e) = temp.keep() {
        // Never on unix (keeping is a no-op there); do not remove it anyway.
        std::mem::forget(e.path);
    }
    path
}

/// After every rename: make the new names durable, drop the backups.
fn finish(prepared: Vec<Prepared<'_>>) {
    let mut dirs: Vec<&Path> = prepared.iter().map(|p| parent(&p.file.target)).collect();
    dirs.sort();
    dirs.dedup();
    for dir in dirs {
        // Only where a directory can be opened (unix); best effort.
        if let Ok(handle) = std::fs::File::open(dir) {
            let _ = handle.sync_all();
        }
    }
    for p in prepared {
        if let Some(backup) = p.backup {
            let path = backup.to_path_buf();
            if let Err(e) = backup.close() {
                eprintln!(
                    "warning: cannot remove the backup {} of {}: {e}; delete it by hand",
                    path.display(),
                    p.file.shown.display()
                );
            }
        }
    }
}

#[cfg(test)]
mod tests;
