//! Sealing through `.sealed-secrets.yaml` on the real binary, with no
//! cluster: with no `--cert`, the folder of the file written chooses the
//! certificate (found from that file, not from the current folder), `{cluster}`
//! expands over the layout's clusters, break-glass copies are written with
//! the rest, and `--cert` still wins, with a warning.

mod common;

use std::process::Output;

use common::layout_repo::*;
use common::*;

/// The four key pairs of a repository: a and b from fixtures, c and the
/// break-glass one generated.
struct Keys {
    a: Pair,
    b: Pair,
    c: Pair,
    safe: Pair,
    _dir: tempfile::TempDir,
}

fn keys() -> Keys {
    let dir = tempfile::tempdir().unwrap();
    Keys {
        a: fixture_pair(2048),
        b: fixture_pair(4096),
        c: new_pair(dir.path(), "c"),
        safe: new_pair(dir.path(), "safe"),
        _dir: dir,
    }
}

impl Keys {
    fn all(&self) -> [(&'static str, &Pair); 4] {
        [
            ("a", &self.a),
            ("b", &self.b),
            ("c", &self.c),
            ("safe", &self.safe),
        ]
    }
}

/// kubeseal run from a folder outside the repository, so the layout can
/// only be found from the output path.
fn outside(repo: &Repo, args: &[&str], stdin: &str) -> Output {
    kubeseal(repo.home.path())
        .current_dir(repo.home.path())
        .args(args)
        .write_stdin(stdin)
        .output()
        .unwrap()
}

fn at(repo: &Repo, file: &str) -> String {
    repo.root.join(file).to_string_lossy().into_owned()
}

/// Asserts `file` opens with `owner`'s key and with no other of `keys`.
fn opens_only_with(repo: &Repo, keys: &Keys, file: &str, owner: &str) -> serde_json::Value {
    let mut opened = None;
    for (name, pair) in keys.all() {
        match repo.open(file, &pair.key) {
            Ok(secret) if name == owner => opened = Some(secret),
            Ok(_) => panic!("{file} opens with {name}'s key, not only {owner}'s"),
            Err(e) if name == owner => panic!("{file} does not open with {owner}'s key: {e}"),
            Err(_) => {}
        }
    }
    opened.expect("opened")
}

/// The `sealed-with` annotation on the SealedSecret's own metadata.
fn sealed_with(repo: &Repo, file: &str) -> Option<String> {
    let text = std::fs::read_to_string(repo.root.join(file)).unwrap();
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    doc["metadata"]["annotations"]["sealedsecrets.bitnami.com/sealed-with"]
        .as_str()
        .map(str::to_string)
}

fn mkdir(repo: &Repo, dir: &str) {
    std::fs::create_dir_all(repo.root.join(dir)).unwrap();
}

/// `-w clusters/b/db.yaml` with no --cert: b's certificate, a break-glass
/// copy for the safe, the key recorded; a missing copy folder stops the
/// run with nothing written.
#[test]
fn a_folder_chooses_its_clusters_certificate_and_gets_its_break_glass_copy() {
    let keys = keys();
    let repo = repo(&keys.a, &keys.b, &keys.c, &keys.safe);
    let before = repo.snapshot();
    let target = at(&repo, "clusters/b/db.yaml");

    // break-glass/clusters/b does not exist: folders are not created.
    let out = outside(&repo, &["-w", &target], SECRET_YAML);
    assert_refused(
        &out,
        "break-glass/clusters/b does not exist (break-glass copy for cluster safe of ",
    );
    assert!(
        stderr(&out).contains("nothing was written"),
        "{}",
        stderr(&out)
    );
    assert_eq!(repo.snapshot(), before);

    mkdir(&repo, "break-glass/clusters/b");
    let out = outside(&repo, &["-w", &target], SECRET_YAML);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "", "no warning for a plain layout run");
    let secret = opens_only_with(&repo, &keys, "clusters/b/db.yaml", "b");
    assert_eq!(secret["data"]["pass"], "aHVudGVyMg==");
    assert_eq!(secret["metadata"]["name"], "app");
    assert_eq!(secret["metadata"]["namespace"], "team");
    // The record is the SealedSecret's, not the Secret's.
    assert!(secret["metadata"]["annotations"]
        .get("sealedsecrets.bitnami.com/sealed-with")
        .is_none());
    assert_eq!(
        sealed_with(&repo, "clusters/b/db.yaml").as_deref(),
        Some(keys.b.fingerprint.as_str())
    );

    let copy = opens_only_with(&repo, &keys, "break-glass/clusters/b/db.yaml", "safe");
    assert_eq!(copy["data"], secret["data"]);
    assert_eq!(copy["metadata"]["name"], "app");
    assert_eq!(copy["metadata"]["namespace"], "team");
    assert_eq!(
        sealed_with(&repo, "break-glass/clusters/b/db.yaml").as_deref(),
        Some(keys.safe.fingerprint.as_str())
    );

    // Only b's file and its copy changed.
    let after = repo.snapshot();
    let mut touched: Vec<&String> = after
        .iter()
        .filter(|(name, bytes)| before.get(*name) != Some(*bytes))
        .map(|(name, _)| name)
        .collect();
    touched.sort();
    assert_eq!(
        touched,
        ["break-glass/clusters/b/db.yaml", "clusters/b/db.yaml"]
    );
}

/// A folder no rule covers is refused, never sealed with a default
/// certificate (there is no controller to fall back to here anyway).
#[test]
fn a_folder_no_rule_matches_is_refused_with_nothing_written() {
    let keys = keys();
    let repo = repo(&keys.a, &keys.b, &keys.c, &keys.safe);
    let before = repo.snapshot();
    for file in ["clusters/zzz/db.yaml", "clusters/zzz/new.yaml"] {
        let out = outside(&repo, &["-w", &at(&repo, file)], SECRET_YAML);
        assert_refused(
            &out,
            &format!(".sealed-secrets.yaml matches {file}: add a creation_rules entry (path_regex, cluster) for it, or pass --cert"),
        );
        assert_eq!(repo.snapshot(), before);
    }
}

/// `-w 'clusters/{cluster}/db.yaml'`: a file per cluster of the layout (not
/// the break-glass one), each with its own key, plus their copies; a
/// layout whose rules give an expansion to another cluster is refused.
#[test]
fn cluster_placeholder_expands_over_the_layouts_clusters() {
    let keys = keys();
    let repo = repo(&keys.a, &keys.b, &keys.c, &keys.safe);
    mkdir(&repo, "break-glass/clusters/b");
    mkdir(&repo, "break-glass/clusters/c");
    let out = outside(
        &repo,
        &["-w", &at(&repo, "clusters/{cluster}/new.yaml")],
        SECRET_YAML,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    for (name, pair) in [("a", &keys.a), ("b", &keys.b), ("c", &keys.c)] {
        let file = format!("clusters/{name}/new.yaml");
        opens_only_with(&repo, &keys, &file, name);
        assert_eq!(sealed_with(&repo, &file), Some(pair.fingerprint.clone()));
        opens_only_with(&repo, &keys, &format!("break-glass/{file}"), "safe");
    }
    assert!(!repo.root.join("clusters/safe").exists());

    // The rules give clusters/c/ to a: {cluster} cannot name c's folder.
    let other = LAYOUT.replace("^clusters/a/", "^clusters/(a|c)/");
    std::fs::write(repo.root.join("other-layout.yaml"), other).unwrap();
    let before = repo.snapshot();
    let out = outside(
        &repo,
        &[
            "--layout",
            &at(&repo, "other-layout.yaml"),
            "-w",
            &at(&repo, "clusters/{cluster}/other.yaml"),
        ],
        SECRET_YAML,
    );
    assert_refused(&out, "for cluster c is ");
    assert_refused(&out, "clusters/c/other.yaml, which ");
    assert_refused(&out, "other-layout.yaml gives to cluster a");
    assert_eq!(repo.snapshot(), before);
}

/// `--merge-into` through the layout: each existing file gets the new item
/// sealed with its cluster's key, its copy too; missing files are skipped
/// and said; with none, an error.
#[test]
fn merge_into_through_the_layout() {
    let keys = keys();
    let repo = repo(&keys.a, &keys.b, &keys.c, &keys.safe);
    // a's file sealed through the layout (it records a's key); b's not.
    let out = outside(
        &repo,
        &["-w", &at(&repo, "clusters/a/db.yaml")],
        SECRET_YAML,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::remove_file(repo.root.join("clusters/c/db.yaml")).unwrap();
    mkdir(&repo, "break-glass/clusters/b");
    let update =
        "apiVersion: v1\nkind: Secret\nmetadata: {name: other}\nstringData: {extra: more}\n";
    let out = outside(
        &repo,
        &["--merge-into", &at(&repo, "clusters/{cluster}/db.yaml")],
        update,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("merging into "), "{err}");
    assert!(err.contains("clusters/a/db.yaml (cluster a)"), "{err}");
    assert!(err.contains("clusters/b/db.yaml (cluster b)"), "{err}");
    assert!(
        err.contains("clusters/c/db.yaml (cluster c): no such file"),
        "{err}"
    );
    assert!(
        err.contains("warning: break-glass copy ") && err.contains("did not exist"),
        "{err}"
    );
    assert!(!repo.root.join("clusters/c/db.yaml").exists());
    for name in ["a", "b"] {
        let file = format!("clusters/{name}/db.yaml");
        let secret = opens_only_with(&repo, &keys, &file, name);
        assert_eq!(secret["data"]["pass"], "aHVudGVyMg==", "{file}");
        assert_eq!(secret["data"]["extra"], "bW9yZQ==", "{file}");
        assert_eq!(secret["metadata"]["name"], "app", "{file}");
    }
    // a recorded its key and still does; b recorded nothing and its old
    // items are not known here: still nothing.
    assert_eq!(
        sealed_with(&repo, "clusters/a/db.yaml"),
        Some(keys.a.fingerprint.clone())
    );
    assert_eq!(sealed_with(&repo, "clusters/b/db.yaml"), None);
    // a's copy existed: it has both; b's is new with the merged item only.
    let copy = opens_only_with(&repo, &keys, "break-glass/clusters/a/db.yaml", "safe");
    assert_eq!(copy["data"]["pass"], "aHVudGVyMg==");
    assert_eq!(copy["data"]["extra"], "bW9yZQ==");
    let copy = opens_only_with(&repo, &keys, "break-glass/clusters/b/db.yaml", "safe");
    assert_eq!(copy["data"]["extra"], "bW9yZQ==");
    assert!(copy["data"].get("pass").is_none(), "{copy}");
    assert_eq!(copy["metadata"]["name"], "app");
    assert_eq!(copy["metadata"]["namespace"], "team");

    let before = repo.snapshot();
    let out = outside(
        &repo,
        &["--merge-into", &at(&repo, "clusters/{cluster}/none.yaml")],
        update,
    );
    assert_refused(&out, "none of the files of the clusters of ");
    assert_refused(&out, "seal it first with -w");
    assert_eq!(repo.snapshot(), before);
}

/// `--cert` wins over the layout: a warning names both certificates; the
/// file is as a plain run writes it (no record, no copy).
#[test]
fn cert_wins_over_the_layout_with_a_warning() {
    let keys = keys();
    let repo = repo(&keys.a, &keys.b, &keys.c, &keys.safe);
    mkdir(&repo, "break-glass/clusters/b");
    let out = outside(
        &repo,
        &[
            "--cert",
            &at(&repo, "certs/a.pem"),
            "-w",
            &at(&repo, "clusters/b/x.yaml"),
        ],
        SECRET_YAML,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.starts_with("warning: ")
            && err.contains(
                ".sealed-secrets.yaml gives clusters/b/x.yaml to cluster b (certs/b.pem, "
            ),
        "{err}"
    );
    assert!(err.contains(&keys.b.fingerprint), "{err}");
    assert!(
        err.contains(&format!("certs/a.pem ({}) as asked", keys.a.fingerprint)),
        "{err}"
    );
    opens_only_with(&repo, &keys, "clusters/b/x.yaml", "a");
    assert_eq!(sealed_with(&repo, "clusters/b/x.yaml"), None);
    assert!(!repo.root.join("break-glass/clusters/b/x.yaml").exists());

    // A broken layout does not stop a --cert run: said, not used.
    let text = std::fs::read_to_string(repo.root.join(".sealed-secrets.yaml")).unwrap();
    std::fs::write(
        repo.root.join(".sealed-secrets.yaml"),
        "version: 1\nrules: []\n",
    )
    .unwrap();
    let out = outside(
        &repo,
        &[
            "--cert",
            &at(&repo, "certs/a.pem"),
            "-w",
            &at(&repo, "clusters/b/w.yaml"),
        ],
        SECRET_YAML,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .starts_with("warning: --cert is used without checking it against the layout: ")
            && stderr(&out).contains("unknown field `rules`"),
        "{}",
        stderr(&out)
    );
    opens_only_with(&repo, &keys, "clusters/b/w.yaml", "a");
    // Without --cert it is an error.
    let out = outside(&repo, &["-w", &at(&repo, "clusters/b/w.yaml")], SECRET_YAML);
    assert_refused(&out, "unknown field `rules`");
    std::fs::write(repo.root.join(".sealed-secrets.yaml"), text).unwrap();

    // The layout's own certificate, or a folder it does not cover: silent.
    for file in ["clusters/b/y.yaml", "clusters/zzz/y.yaml"] {
        let out = outside(
            &repo,
            &["--cert", &at(&repo, "certs/b.pem"), "-w", &at(&repo, file)],
            SECRET_YAML,
        );
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(stderr(&out), "", "{file}");
        assert_eq!(sealed_with(&repo, file), None);
    }
}

/// `--layout=` (or SEALED_SECRETS_LAYOUT=) ignores the layout: without
/// --cert that is the controller, and there is none here. `--layout FILE`
/// names one outside the walk.
#[test]
fn the_layout_flag_names_or_disables_the_layout() {
    let keys = keys();
    let repo = repo(&keys.a, &keys.b, &keys.c, &keys.safe);
    mkdir(&repo, "break-glass/clusters/b");
    let target = at(&repo, "clusters/b/z.yaml");
    let before = repo.snapshot();
    let off = outside(&repo, &["--layout=", "-w", &target], SECRET_YAML);
    let env_off = kubeseal(repo.home.path())
        .current_dir(repo.home.path())
        .env("SEALED_SECRETS_LAYOUT", "")
        .args(["-w", &target])
        .write_stdin(SECRET_YAML)
        .output()
        .unwrap();
    for out in [off, env_off] {
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(!err.contains("sealed-secrets.yaml"), "{err}");
        assert!(!err.contains("no rule"), "{err}");
    }
    assert_eq!(repo.snapshot(), before);

    // A layout elsewhere, named: its folder is the base of its rules.
    let elsewhere = tempfile::tempdir().unwrap();
    let layout = elsewhere.path().join("layout.yaml");
    let text = LAYOUT.replace("certs/", &format!("{}/certs/", repo.root.display()));
    std::fs::write(&layout, text).unwrap();
    let out = outside(
        &repo,
        &["--layout", &layout.to_string_lossy(), "-w", &target],
        SECRET_YAML,
    );
    assert_refused(&out, "is outside ");
    // The same layout in the repository, named by the environment.
    let moved = repo.root.join("layouts-x.yaml");
    std::fs::copy(&layout, &moved).unwrap();
    let out = kubeseal(repo.home.path())
        .current_dir(repo.home.path())
        .env("SEALED_SECRETS_LAYOUT", &moved)
        .args(["-w", &target])
        .write_stdin(SECRET_YAML)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    opens_only_with(&repo, &keys, "clusters/b/z.yaml", "b");
    opens_only_with(&repo, &keys, "break-glass/clusters/b/z.yaml", "safe");
}

/// A lost cluster rebuilt from its break-glass copy, offline: opened with
/// the safe's key, sealed for the cluster's new certificate (the layout's,
/// or --cert), the copy kept.
#[test]
fn a_lost_cluster_is_rebuilt_from_its_break_glass_copy() {
    let keys = keys();
    let repo = repo(&keys.a, &keys.b, &keys.c, &keys.safe);
    let new_a = new_pair(repo.home.path(), "new-a");
    std::fs::write(repo.root.join("certs/a.pem"), &new_a.cert).unwrap();
    let safe_key = keys.safe.key.to_string_lossy().into_owned();
    // Through the layout: certs/a.pem is the new certificate.
    let out = outside(
        &repo,
        &[
            "--re-encrypt",
            "--recovery-private-key",
            &safe_key,
            "-f",
            &at(&repo, "break-glass/clusters/a/db.yaml"),
            "-w",
            &at(&repo, "clusters/a/db.yaml"),
        ],
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let secret = repo
        .open("clusters/a/db.yaml", &new_a.key)
        .expect("opens with a's new key");
    assert_eq!(secret["data"]["pass"], "aHVudGVyMg==");
    assert!(repo.open("clusters/a/db.yaml", &keys.a.key).is_err());
    assert_eq!(
        sealed_with(&repo, "clusters/a/db.yaml"),
        Some(new_a.fingerprint.clone())
    );
    opens_only_with(&repo, &keys, "break-glass/clusters/a/db.yaml", "safe");

    // In place, no --cert: the file's own cluster.
    let out = outside(
        &repo,
        &[
            "--re-encrypt",
            "--recovery-private-key",
            &new_a.key.to_string_lossy(),
            "-f",
            &at(&repo, "clusters/a/db.yaml"),
        ],
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    repo.open("clusters/a/db.yaml", &new_a.key)
        .expect("still a's");

    // With --cert (as the README shows): the same, with no layout needed.
    let out = kubeseal(repo.home.path())
        .current_dir(&repo.root)
        .args([
            "--layout=",
            "--re-encrypt",
            "--recovery-private-key",
            &safe_key,
            "--cert",
            "certs/a.pem",
            "-f",
            "break-glass/clusters/a/db.yaml",
            "-w",
            "clusters/a/db.yaml",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    repo.open("clusters/a/db.yaml", &new_a.key).expect("a's");
    // A re-seal keeps a record true: the copy recorded the safe's key, the
    // result records a's new one (a plain input would get none).
    assert_eq!(
        sealed_with(&repo, "clusters/a/db.yaml"),
        Some(new_a.fingerprint.clone())
    );
    // Without --cert and without a layout: the error says both ways.
    let out = kubeseal(repo.home.path())
        .current_dir(&repo.root)
        .args([
            "--layout=",
            "--re-encrypt",
            "--recovery-private-key",
            &safe_key,
            "-f",
            "break-glass/clusters/a/db.yaml",
        ])
        .output()
        .unwrap();
    assert_refused(&out, "pass --cert with the certificate to seal to (file or URL), or write below a .sealed-secrets.yaml");
}
