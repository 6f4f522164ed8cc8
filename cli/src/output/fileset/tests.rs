use std::cell::Cell;

use super::*;

/// Every name in `dir` (recursively) starting with `.kubeseal-`.
fn leftovers(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(leftovers(&path));
        } else if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(PREFIX))
        {
            found.push(path);
        }
    }
    found
}

/// a (existing), b (new), c (existing), each in its own folder.
fn three(root: &Path) -> (FileSet, [PathBuf; 3]) {
    let paths = ["a", "b", "c"].map(|name| {
        std::fs::create_dir(root.join(name)).unwrap();
        root.join(name).join("db.yaml")
    });
    std::fs::write(&paths[0], "old a").unwrap();
    std::fs::write(&paths[2], "old c").unwrap();
    let mut set = FileSet::new();
    for (path, name) in paths.iter().zip(["a", "b", "c"]) {
        set.add(
            path.clone(),
            format!("new {name}").into_bytes(),
            format!("cluster {name}"),
        );
    }
    (set, paths)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn writes_every_file_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let (set, [a, b, c]) = three(dir.path());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&a, Permissions::from_mode(0o640)).unwrap();
    }
    set.commit().unwrap();
    assert_eq!(
        (read(&a), read(&b), read(&c)),
        ("new a".into(), "new b".into(), "new c".into())
    );
    assert_eq!(leftovers(dir.path()), Vec::<PathBuf>::new());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&a), 0o640, "an existing file keeps its mode");
        assert_eq!(mode(&b), 0o644, "a new file gets 0644");
    }
}

#[test]
fn a_failing_rename_puts_back_the_files_already_written() {
    let dir = tempfile::tempdir().unwrap();
    let (set, [a, b, c]) = three(dir.path());
    let calls = Cell::new(0);
    let err = set
        .commit_with(&mut |from, to| {
            calls.set(calls.get() + 1);
            if calls.get() == 3 {
                return Err(io::Error::other("disk on fire"));
            }
            std::fs::rename(from, to)
        })
        .unwrap_err()
        .to_string();
    assert_eq!(read(&a), "old a");
    assert!(!b.exists(), "the new file is removed again");
    assert_eq!(read(&c), "old c");
    assert_eq!(leftovers(dir.path()), Vec::<PathBuf>::new());
    assert_eq!(
        err,
        format!(
            "cannot write {} (cluster c): disk on fire; the 2 files already written were put back: none of the 3 files changed",
            c.display()
        )
    );
    // Commit: 3 renames (the third fails), undo: one (a's backup; b is removed).
    assert_eq!(calls.get(), 4);
}

#[test]
fn a_first_failing_rename_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (set, [a, b, c]) = three(dir.path());
    let err = set
        .commit_with(&mut |_, _| Err(io::Error::other("read-only")))
        .unwrap_err()
        .to_string();
    assert!(
        err.ends_with("read-only; none of the 3 files changed"),
        "{err}"
    );
    assert_eq!(
        (read(&a), b.exists(), read(&c)),
        ("old a".into(), false, "old c".into())
    );
    assert_eq!(leftovers(dir.path()), Vec::<PathBuf>::new());
}

#[test]
fn an_undo_that_fails_says_where_the_old_content_is() {
    let dir = tempfile::tempdir().unwrap();
    let (set, [a, b, c]) = three(dir.path());
    let calls = Cell::new(0);
    let err = set
        .commit_with(&mut |from, to| {
            calls.set(calls.get() + 1);
            // The third rename fails, and so does putting a back.
            if calls.get() >= 3 {
                return Err(io::Error::other("gone"));
            }
            std::fs::rename(from, to)
        })
        .unwrap_err()
        .to_string();
    assert_eq!(read(&a), "new a");
    assert!(!b.exists());
    assert_eq!(read(&c), "old c");
    let kept = leftovers(dir.path());
    assert_eq!(kept.len(), 1, "only a's backup stays: {kept:?}");
    assert_eq!(read(&kept[0]), "old a");
    assert!(
        err.contains(&format!(
            "1 of the 2 files already written were put back; {} could not be put back (gone): it holds the new content, the old one is in {}",
            a.display(),
            kept[0].display()
        )),
        "{err}"
    );
}

#[test]
fn an_impossible_set_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir(root.join("a")).unwrap();
    std::fs::write(root.join("a/db.yaml"), "old a").unwrap();
    let refused = |extra: PathBuf| {
        let mut set = FileSet::new();
        set.add(root.join("a/db.yaml"), b"new a".to_vec(), "cluster a");
        set.add(extra, b"new x".to_vec(), "cluster x");
        let err = set.commit().unwrap_err().to_string();
        assert_eq!(read(&root.join("a/db.yaml")), "old a");
        assert_eq!(leftovers(root), Vec::<PathBuf>::new());
        err
    };
    let err = refused(root.join("missing/db.yaml"));
    assert!(
        err.starts_with(&format!(
            "directory {} does not exist (cluster x)",
            root.join("missing").display()
        )),
        "{err}"
    );
    std::fs::create_dir_all(root.join("x/db.yaml/inside")).unwrap();
    let err = refused(root.join("x/db.yaml"));
    assert!(err.contains("is a directory or special file"), "{err}");
    let err = refused(root.join("x/../a/db.yaml"));
    assert!(
        err.starts_with("cluster a and cluster x would both be written to"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn a_link_is_written_through() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.yaml");
    let link = dir.path().join("link.yaml");
    std::fs::write(&real, "old").unwrap();
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let mut set = FileSet::new();
    set.add(link.clone(), b"new".to_vec(), "cluster a");
    set.commit().unwrap();
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    assert_eq!(read(&real), "new");
}
