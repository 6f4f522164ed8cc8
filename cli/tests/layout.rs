//! `.sealed-secrets.yaml` on the real binary, with no cluster: a repository
//! whose folders belong to clusters a, b and c (and a break-glass copy), and
//! `kubeseal admin reencrypt` after cluster a's key is rotated.

mod common;

use common::layout_repo::*;
use common::*;

/// Rotating cluster a: only a's files are re-sealed, with the new
/// certificate; a second run finds everything up to date.
#[test]
fn reencrypt_reseals_only_the_rotated_clusters_folder() {
    let old_a = fixture_pair(2048);
    let b = fixture_pair(4096);
    let keys = tempfile::tempdir().unwrap();
    let c = new_pair(keys.path(), "c");
    let safe = new_pair(keys.path(), "safe");
    let new_a = new_pair(keys.path(), "new-a");
    let repo = repo(&old_a, &b, &c, &safe);
    std::fs::write(repo.root.join("certs/a.pem"), &new_a.cert).unwrap();
    let old_key = old_a.key.to_string_lossy().into_owned();
    let before = repo.snapshot();

    // A dry run says what would change and writes nothing.
    let out = repo.kubeseal(&[
        "admin",
        "reencrypt",
        "--recovery-private-key",
        &old_key,
        "--dry-run",
        ".",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = lines(&out);
    assert!(
        report.contains(
            &"would reencrypt ./clusters/a/api.json (cluster a, 1 SealedSecret)".to_string()
        ),
        "{report:#?}"
    );
    assert!(
        report.contains(
            &"would reencrypt ./clusters/a/db.yaml (cluster a, 1 SealedSecret)".to_string()
        ),
        "{report:#?}"
    );
    assert!(
        stderr(&out).contains("dry run: nothing was written"),
        "{}",
        stderr(&out)
    );
    assert!(changed(&before, &repo.snapshot()).is_empty());

    let out = repo.kubeseal(&[
        "admin",
        "reencrypt",
        "--recovery-private-key",
        &old_key,
        ".",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = lines(&out);
    let none = "; sealed with none of the keys given";
    for line in [
        "reencrypted ./clusters/a/api.json (cluster a, 1 SealedSecret)".to_string(),
        "reencrypted ./clusters/a/db.yaml (cluster a, 1 SealedSecret)".to_string(),
        format!("up to date ./break-glass/clusters/a/db.yaml (cluster safe{none})"),
        format!("up to date ./clusters/b/db.yaml (cluster b{none})"),
        format!("up to date ./clusters/c/db.yaml (cluster c{none})"),
        "skipped ./clusters/a/cm.yaml: document 1 is a ConfigMap, not a SealedSecret".to_string(),
    ] {
        assert!(report.contains(&line), "{line:?} in {report:#?}");
    }
    let zzz = report
        .iter()
        .find(|l| l.starts_with("skipped ./clusters/zzz/db.yaml: no rule of "))
        .unwrap_or_else(|| panic!("zzz skipped: {report:#?}"));
    assert!(zzz.ends_with(".sealed-secrets.yaml matches it"), "{zzz}");
    // The layout and the certificates are not SealedSecrets: skipped, untouched.
    let after = repo.snapshot();
    assert_eq!(
        changed(&before, &after),
        ["clusters/a/api.json", "clusters/a/db.yaml"]
    );

    // a's files open with the new key only, hold the same values and say
    // which key sealed them; the rest of the file is kept.
    for file in ["clusters/a/db.yaml", "clusters/a/api.json"] {
        let secret = repo
            .open(file, &new_a.key)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(secret["data"]["pass"], "aHVudGVyMg==", "{file}");
        assert_eq!(secret["data"]["user"], "YWRtaW4=", "{file}");
        let refused = repo.open(file, &old_a.key).expect_err("old key");
        assert!(refused.contains("error: "), "{refused}");
        let text = String::from_utf8(after[file].clone()).unwrap();
        assert!(
            text.contains(&format!(
                "sealedsecrets.bitnami.com/sealed-with: {}",
                new_a.fingerprint
            )) || text.contains(&format!(
                "\"sealedsecrets.bitnami.com/sealed-with\": \"{}\"",
                new_a.fingerprint
            )),
            "{file}: {text}"
        );
        assert!(
            text.contains("tier: web") || text.contains("\"tier\": \"web\""),
            "{text}"
        );
        // The annotation is the SealedSecret's, not the Secret's.
        assert!(secret["metadata"]["annotations"]
            .get("sealedsecrets.bitnami.com/sealed-with")
            .is_none());
    }
    assert_eq!(
        String::from_utf8(after["clusters/a/db.yaml"].clone())
            .unwrap()
            .lines()
            .next(),
        Some("---"),
        "YAML stays YAML"
    );
    assert!(String::from_utf8(after["clusters/a/api.json"].clone())
        .unwrap()
        .starts_with('{'));
    // Every other folder still opens with its own key.
    for (file, key) in [
        ("clusters/b/db.yaml", &b.key),
        ("clusters/c/db.yaml", &c.key),
        ("break-glass/clusters/a/db.yaml", &safe.key),
    ] {
        repo.open(file, key)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
    }

    // Again: nothing to do. With the new key given too, a's files are
    // known to be up to date, not just unopened.
    let new_key = new_a.key.to_string_lossy().into_owned();
    for keys in [old_key.clone(), format!("{old_key},{new_key}")] {
        let out = repo.kubeseal(&["admin", "reencrypt", "--recovery-private-key", &keys, "."]);
        assert!(out.status.success(), "{}", stderr(&out));
        let report = lines(&out);
        let sealed: Vec<&String> = report
            .iter()
            .filter(|l| !l.starts_with("skipped "))
            .collect();
        assert_eq!(sealed.len(), 5, "{report:#?}");
        assert!(
            sealed.iter().all(|l| l.starts_with("up to date ")),
            "{report:#?}"
        );
        if keys.contains(',') {
            assert!(
                report.contains(&"up to date ./clusters/a/db.yaml (cluster a)".to_string()),
                "{report:#?}"
            );
        }
        assert!(changed(&after, &repo.snapshot()).is_empty());
    }
}

/// What a layout makes ambiguous or wrong is refused before anything is
/// written, with what to do.
#[test]
fn layout_refusals_say_what_to_do() {
    let a = fixture_pair(2048);
    let b = fixture_pair(4096);
    let keys = tempfile::tempdir().unwrap();
    let c = new_pair(keys.path(), "c");
    let safe = new_pair(keys.path(), "safe");
    let repo = repo(&a, &b, &c, &safe);
    let key = a.key.to_string_lossy().into_owned();
    let before = repo.snapshot();

    // A folder no rule covers, named directly.
    let out = repo.kubeseal(&[
        "admin",
        "reencrypt",
        "--recovery-private-key",
        &key,
        "clusters/zzz/db.yaml",
    ]);
    assert_refused(
        &out,
        ".sealed-secrets.yaml matches clusters/zzz/db.yaml: add a creation_rules entry (path_regex, cluster) for it, or pass --cert",
    );
    // One certificate for a tree the layout gives to several clusters.
    let out = repo.kubeseal(&[
        "admin",
        "reencrypt",
        "--recovery-private-key",
        &key,
        "--cert",
        "certs/b.pem",
        ".",
    ]);
    assert_refused(
        &out,
        "gives these files to 4 clusters (a, b, c, safe); --cert would seal them all with one certificate: name one cluster's folder, or pass --layout= to ignore the layout",
    );
    // Through the controllers (no keys): each cluster's controller is
    // reached before anything is written; here there is no cluster at all.
    let out = repo.kubeseal(&["admin", "reencrypt", "."]);
    assert_refused(
        &out,
        "cannot connect to the controller of cluster a (the current context, kube-system/sealed-secrets-controller)",
    );
    // A malformed layout: its line.
    let broken = LAYOUT.replace("    cluster: b\n", "    cluster: b\n    path_glob: x\n");
    std::fs::write(repo.root.join(".sealed-secrets.yaml"), &broken).unwrap();
    let out = repo.kubeseal(&["admin", "reencrypt", "--recovery-private-key", &key, "."]);
    assert_refused(
        &out,
        ".sealed-secrets.yaml line 18: creation_rules[1]: unknown field `path_glob`, expected `path_regex` or `cluster`",
    );
    let mut expected = before.clone();
    expected.insert(".sealed-secrets.yaml".into(), broken.into_bytes());
    assert!(changed(&expected, &repo.snapshot()).is_empty());
}

/// A layout file above the repository's root (`.git`) is not used: the
/// run is as without a layout, which needs --cert.
#[test]
fn a_layout_above_the_repository_is_not_used() {
    let home = tempfile::tempdir().unwrap();
    let outer = tempfile::tempdir().unwrap();
    let repo = outer.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::create_dir_all(repo.join("clusters/a")).unwrap();
    std::fs::create_dir_all(outer.path().join("repo/certs")).unwrap();
    std::fs::write(outer.path().join(".sealed-secrets.yaml"), LAYOUT).unwrap();
    let out = kubeseal(home.path())
        .args(["--cert", &fixture("cert-2048.pem"), "-w"])
        .arg(repo.join("clusters/a/db.yaml"))
        .write_stdin(SECRET_YAML)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = kubeseal(home.path())
        .args([
            "admin",
            "reencrypt",
            "--recovery-private-key",
            &fixture("key-2048.pem"),
        ])
        .arg(&repo)
        .output()
        .unwrap();
    assert_refused(
        &out,
        "--recovery-private-key re-seals without the controller: pass --cert",
    );
    // The same tree with the layout at its root: used.
    std::fs::rename(
        outer.path().join(".sealed-secrets.yaml"),
        repo.join(".sealed-secrets.yaml"),
    )
    .unwrap();
    let out = kubeseal(home.path())
        .args([
            "admin",
            "reencrypt",
            "--recovery-private-key",
            &fixture("key-2048.pem"),
        ])
        .arg(&repo)
        .output()
        .unwrap();
    assert_refused(
        &out,
        "cannot use the certificate of cluster a (certs/a.pem)",
    );
}

/// Without a layout (`--layout=`), `admin reencrypt --cert` keeps a
/// `sealed-with` record true: set to the certificate sealed to, as
/// `--re-encrypt` does (a file that records nothing gets nothing).
#[test]
fn reencrypt_without_the_layout_keeps_the_record_true() {
    let old_a = fixture_pair(2048);
    let b = fixture_pair(4096);
    let keys = tempfile::tempdir().unwrap();
    let c = new_pair(keys.path(), "c");
    let safe = new_pair(keys.path(), "safe");
    let new_a = new_pair(keys.path(), "new-a");
    let repo = repo(&old_a, &b, &c, &safe);
    let new_cert = keys.path().join("new-a.pem");
    std::fs::write(&new_cert, &new_a.cert).unwrap();
    let record = |file: &str| {
        let doc: serde_json::Value =
            serde_yaml::from_slice(&std::fs::read(repo.root.join(file)).unwrap()).unwrap();
        doc["metadata"]["annotations"]["sealedsecrets.bitnami.com/sealed-with"].clone()
    };
    assert!(record("clusters/a/db.yaml").is_null(), "sealed with --cert");
    // Sealed through the layout: recorded.
    let out = kubeseal(repo.home.path())
        .current_dir(&repo.root)
        .args(["-w", "clusters/a/db.yaml"])
        .write_stdin(SECRET_YAML)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(record("clusters/a/db.yaml"), old_a.fingerprint.as_str());
    let out = repo.kubeseal(&[
        "admin",
        "reencrypt",
        "--layout=",
        "--recovery-private-key",
        &old_a.key.to_string_lossy(),
        "--cert",
        &new_cert.to_string_lossy(),
        "clusters/a/db.yaml",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(record("clusters/a/db.yaml"), new_a.fingerprint.as_str());
    repo.open("clusters/a/db.yaml", &new_a.key)
        .unwrap_or_else(|e| panic!("opens with the new key: {e}"));
    // A file that records nothing gets nothing.
    let out = repo.kubeseal(&[
        "admin",
        "reencrypt",
        "--layout=",
        "--recovery-private-key",
        &old_a.key.to_string_lossy(),
        "--cert",
        &new_cert.to_string_lossy(),
        "clusters/a/api.json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(record("clusters/a/api.json").is_null());
}
