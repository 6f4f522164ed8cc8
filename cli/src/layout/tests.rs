use std::path::Path;

use super::find::discover_below;
use super::*;

const LAYOUT: &str = "\
version: 1
clusters:
  oslo:
    cert: certs/oslo.pem
    context: oslo-admin
  bergen:
    cert: https://bergen.example/v1/cert.pem
  safe:
    cert: certs/safe.pem
    copy_to: break-glass/{path}
creation_rules:
  - path_regex: ^clusters/oslo/
    cluster: oslo
  - path_regex: ^clusters/bergen/special\\.yaml$
    cluster: oslo
  - path_regex: clusters/bergen/
    cluster: bergen
";

/// A repository folder holding `.git/` and the layout `text`.
fn repo(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join(".git")).expect(".git");
    std::fs::write(dir.path().join(FILE_NAME), text).expect("layout");
    dir
}

fn load(text: &str) -> (tempfile::TempDir, Result<Layout>) {
    let dir = repo(text);
    let layout = Layout::load(&dir.path().join(FILE_NAME));
    (dir, layout)
}

fn error(text: &str) -> String {
    match load(text).1 {
        Ok(_) => panic!("accepted: {text}"),
        Err(e) => crate::error::render(&e),
    }
}

#[test]
fn rules_match_relative_paths_and_the_first_match_wins() {
    let (dir, layout) = load(LAYOUT);
    let layout = layout.expect("valid layout");
    let root = dir.path();
    let cases = [
        ("clusters/oslo/db.yaml", Some("oslo")),
        ("clusters/oslo/deep/er/db.json", Some("oslo")),
        ("clusters/bergen/db.yaml", Some("bergen")),
        // Listed before the bergen rule: first match wins.
        ("clusters/bergen/special.yaml", Some("oslo")),
        // Unanchored, as SOPS: matches anywhere in the path.
        ("apps/clusters/bergen/x.yaml", Some("bergen")),
        // The oslo rule is anchored.
        ("apps/clusters/oslo/x.yaml", None),
        ("clusters/tromso/db.yaml", None),
        // In the copy area: the break-glass cluster's, whatever the rules say.
        ("break-glass/clusters/bergen/db.yaml", Some("safe")),
    ];
    for (path, want) in cases {
        let got = layout
            .lookup(&root.join(path))
            .expect("inside the layout")
            .map(|r| r.cluster.name.clone());
        assert_eq!(got.as_deref(), want, "{path}");
    }
    // `..` and `.` are resolved before matching.
    std::fs::create_dir_all(root.join("clusters/oslo")).expect("mkdir");
    let odd = root.join("clusters/oslo/../bergen/./db.yaml");
    let resolved = layout.resolve(&odd).expect("resolved");
    assert_eq!(resolved.cluster.name, "bergen");
    assert_eq!(resolved.relative, "clusters/bergen/db.yaml");
}

#[test]
fn a_path_gets_its_cluster_certificate_and_copies() {
    let (dir, layout) = load(LAYOUT);
    let layout = layout.expect("valid layout");
    let root = std::fs::canonicalize(dir.path()).expect("canonical");
    let resolved = layout
        .resolve(&root.join("clusters/oslo/db.yaml"))
        .expect("resolved");
    assert_eq!(resolved.cluster.name, "oslo");
    assert_eq!(
        resolved.cluster.cert_location,
        root.join("certs/oslo.pem").to_str().expect("utf-8")
    );
    assert_eq!(resolved.cluster.context.as_deref(), Some("oslo-admin"));
    assert_eq!(resolved.copies.len(), 1);
    assert_eq!(resolved.copies[0].cluster.name, "safe");
    assert_eq!(
        resolved.copies[0].path,
        root.join("break-glass/clusters/oslo/db.yaml")
    );
    let bergen = layout
        .resolve(&root.join("clusters/bergen/db.yaml"))
        .expect("resolved");
    assert_eq!(
        bergen.cluster.cert_location,
        "https://bergen.example/v1/cert.pem"
    );
    // A copy gets no copy of its own.
    let copy = layout
        .resolve(&root.join("break-glass/clusters/oslo/db.yaml"))
        .expect("resolved");
    assert!(copy.copies.is_empty());
    // `{cluster}` expands over the clusters rules name, not the break-glass one.
    let names: Vec<&str> = layout.clusters().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["bergen", "oslo"]);
    assert!(layout.cluster("safe").is_some());
}

#[test]
fn an_unknown_folder_is_an_error_that_says_what_to_do() {
    let (dir, layout) = load(LAYOUT);
    let layout = layout.expect("valid layout");
    let err = layout
        .resolve(&dir.path().join("clusters/tromso/db.yaml"))
        .expect_err("no rule");
    let err = crate::error::render(&err);
    assert!(
        err.starts_with("no rule of ")
            && err.contains(".sealed-secrets.yaml matches clusters/tromso/db.yaml: add a creation_rules entry (path_regex, cluster) for it, or pass --cert"),
        "{err}"
    );
    let outside = tempfile::tempdir().expect("temp dir");
    let err = layout
        .resolve(&outside.path().join("x.yaml"))
        .expect_err("outside");
    assert!(
        crate::error::render(&err).contains("a layout file only covers the folders below it"),
        "{err}"
    );
}

#[test]
fn bad_layouts_are_refused_with_where_and_why() {
    let cases: &[(&str, &str)] = &[
        ("", "is empty: start it with `version: 1`"),
        ("clusters: {}\n", "has no version"),
        ("version: 2\nwhatever: [\n", "line 3: did not find expected node content, while parsing"),
        ("version: 2\npath_glob: x\n", "version 2 is not supported by this kubeseal (1)"),
        (
            "version: 1\nclusters:\n  a: {cert: a.pem}\ncreation_rules:\n  - path_regex: x\n    cluster: a\n  - path_glob: y\n    cluster: a\n",
            "line 7: creation_rules[1]: unknown field `path_glob`, expected `path_regex` or `cluster`",
        ),
        (
            "version: 1\nclusters:\n  a: {cert: a.pem, contxt: x}\ncreation_rules: []\n",
            "line 3: clusters.a: unknown field `contxt`",
        ),
        ("version: 1\nclusters: {a: {cert: a.pem}}\n", "has no creation_rules"),
        (
            "version: 1\nclusters: {a: {cert: a.pem}, b: {cert: b.pem}}\ncreation_rules:\n- {path_regex: x, cluster: a}\n- {path_regex: y, cluster: a}\n- {path_regex: z, cluster: tromso}\n",
            "creation_rules[2]: cluster \"tromso\" is not defined under clusters (defined: a, b)",
        ),
        (
            "version: 1\nclusters: {a: {cert: a.pem}}\ncreation_rules:\n- {path_regex: ^clusters/(oslo, cluster: a}\n",
            "creation_rules[0].path_regex \"^clusters/(oslo\": regex parse error",
        ),
        (
            "version: 1\nclusters: {a: {cert: a.pem}, safe: {cert: s.pem, copy_to: 'bg/{path}'}}\ncreation_rules:\n- {path_regex: x, cluster: safe}\n",
            "cluster safe has copy_to: it receives copies, no rule may name it",
        ),
        (
            "version: 1\nclusters: {a: {cert: a.pem}, b: {cert: b.pem}}\ncreation_rules:\n- {path_regex: x, cluster: [a, b]}\n",
            "creation_rules[0].cluster: one cluster per rule",
        ),
        (
            "version: 1\nclusters: {../x: {cert: a.pem}}\ncreation_rules:\n- {path_regex: x, cluster: ../x}\n",
            "invalid cluster name \"../x\"",
        ),
        (
            "version: 1\nclusters: {a: {cert: ''}}\ncreation_rules:\n- {path_regex: x, cluster: a}\n",
            "cluster a has an empty cert",
        ),
        (
            "version: 1\nclusters: {a: {cert: a.pem}, s: {cert: s.pem, copy_to: break-glass/}}\ncreation_rules:\n- {path_regex: x, cluster: a}\n",
            "clusters.s.copy_to \"break-glass/\": no {path}",
        ),
        (
            "version: 1\nclusters: {a: {cert: a.pem}, s: {cert: s.pem, copy_to: '../out/{path}'}}\ncreation_rules:\n- {path_regex: x, cluster: a}\n",
            "not below the layout's folder",
        ),
        (
            "version: 1\nclusters: {a: {cert: a.pem}, s: {cert: s.pem, copy_to: '{path}'}}\ncreation_rules:\n- {path_regex: x, cluster: a}\n",
            "copies would replace the originals",
        ),
        (
            "version: 1\nclusters: {a: {cert: a.pem}, s: {cert: s.pem, copy_to: 'bg/{cluster}/{path}'}}\ncreation_rules:\n- {path_regex: x, cluster: a}\n",
            "only {path} is replaced",
        ),
    ];
    for (text, want) in cases {
        let err = error(text);
        assert!(err.contains(".sealed-secrets.yaml"), "{err}");
        assert!(err.contains(want), "expected {want:?} in: {err}");
    }
}

#[test]
fn the_walk_stops_at_the_repository_and_never_reads_home() {
    let top = tempfile::tempdir().expect("temp dir");
    let top = std::fs::canonicalize(top.path()).expect("canonical");
    let repo = top.join("repo");
    std::fs::create_dir_all(repo.join(".git")).expect(".git");
    std::fs::create_dir_all(repo.join("clusters/a")).expect("mkdir");
    let file = repo.join("clusters/a/db.yaml");
    let none = |path: &Path, home: Option<&Path>| discover_below(path, home).expect("walk");

    // Above the repository: not used.
    std::fs::write(top.join(FILE_NAME), LAYOUT).expect("write");
    assert_eq!(none(&file, None), None);
    // At its root: found from a file not yet written, in a folder not yet made.
    std::fs::write(repo.join(FILE_NAME), LAYOUT).expect("write");
    assert_eq!(none(&file, None), Some(repo.join(FILE_NAME)));
    assert_eq!(
        none(&repo.join("clusters/new/deeper/db.yaml"), None),
        Some(repo.join(FILE_NAME))
    );
    assert_eq!(none(&repo, None), Some(repo.join(FILE_NAME)));
    let found = Layout::find_for(&file).expect("readable").expect("found");
    assert_eq!(found.dir(), repo);
    assert_eq!(found.file(), repo.join(FILE_NAME));
    // The nearest one wins.
    std::fs::write(repo.join("clusters").join(FILE_NAME), LAYOUT).expect("write");
    assert_eq!(
        none(&file, None),
        Some(repo.join("clusters").join(FILE_NAME))
    );

    // Without a repository the walk goes up, but stops before $HOME.
    let loose = top.join("home/work/x");
    std::fs::create_dir_all(&loose).expect("mkdir");
    std::fs::write(top.join("home").join(FILE_NAME), LAYOUT).expect("write");
    assert_eq!(none(&loose.join("db.yaml"), Some(&top.join("home"))), None);
    assert_eq!(
        none(&loose.join("db.yaml"), None),
        Some(top.join("home").join(FILE_NAME))
    );
}
