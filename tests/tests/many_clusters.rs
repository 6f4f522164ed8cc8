//! Issue #24, first bullet, end to end: one `kubeseal` run seals a Secret
//! for several clusters (`--cert NAME=FILE`, repeated, `-w
//! 'out/{cluster}/db.yaml'`), and each cluster opens its own file only.
//!
//! The clusters: `a` and `b` are key files (the crypto fixtures); `ref` is
//! the reference controller (v0.40.0) with its own key namespace, watching
//! its own app namespace; `ours` is our controller, likewise. Both
//! controllers run in the node behind a Service, so their certificates come
//! from our `kubeseal --fetch-cert` through the API server's service proxy.
//! What is checked: the reference controller unseals its file; the
//! reference `kubeseal --recovery-unseal` (and ours) opens each file with
//! that cluster's key and no other; a write that fails for one cluster
//! changes no file and leaves no temporary file; `--merge-into` with
//! `{cluster}` adds an item the reference controller then unseals; a
//! cluster-wide run is unsealed by both controllers in their own app
//! namespaces. Without the reference binaries the test prints `SKIPPED: ...`
//! and passes, unless `REQUIRE_REFERENCE=1`.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use base64::Engine as _;
use sealed_secrets_e2e::binaries::reference_controller;
use sealed_secrets_e2e::controller::{Controller, ControllerOptions};
use sealed_secrets_e2e::kubeseal::{kubeseal, lf, reference_kubeseal, succeeded};
use sealed_secrets_e2e::secrets::{wait_secret_value, KEY_SELECTOR};
use sealed_secrets_e2e::{poll, ControlPlane, TestNamespace};
use serde_json::Value;

/// In `--cert` order: two key files, the reference controller, ours.
const CLUSTERS: [&str; 4] = ["a", "b", "ref", "ours"];
const PASSWORD: &str = "same-password-everywhere";
const TOKEN: &str = "token-added-by-merge";
/// What the reference kubeseal says when the key does not open an item.
const REFERENCE_REFUSES: &str = "no key could decrypt secret (";
/// What ours says.
const OURS_REFUSES: &str = "the key given does not open it";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crypto/tests/fixtures")
        .join(name)
}

/// The reference kubeseal is there, or the test is skipped (a failure with
/// `REQUIRE_REFERENCE=1`).
fn reference_kubeseal_present(cp: &ControlPlane) -> bool {
    let path = cp.reference_bin_dir().join("kubeseal");
    if path.is_file() {
        return true;
    }
    assert_ne!(
        std::env::var("REQUIRE_REFERENCE").as_deref(),
        Ok("1"),
        "REQUIRE_REFERENCE=1 but the reference kubeseal {} is missing: run scripts/install-tools ref",
        path.display()
    );
    eprintln!("SKIPPED: reference kubeseal not installed; run scripts/install-tools ref");
    false
}

/// A temporary folder with `certs/NAME.pem`, `keys/NAME.pem` and the files
/// kubeseal writes.
struct Workdir {
    dir: tempfile::TempDir,
}

impl Workdir {
    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn text(&self, relative: &str) -> String {
        self.path(relative).to_string_lossy().into_owned()
    }

    fn write(&self, relative: &str, contents: &[u8]) {
        let path = self.path(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create folder");
        }
        std::fs::write(&path, contents).unwrap_or_else(|e| panic!("write {relative}: {e}"));
    }

    fn read(&self, relative: &str) -> Vec<u8> {
        std::fs::read(self.path(relative)).unwrap_or_else(|e| panic!("read {relative}: {e}"))
    }

    /// `out/a/`, `out/b/`, ... under `folder`.
    fn cluster_folders(&self, folder: &str, clusters: &[&str]) {
        for cluster in clusters {
            std::fs::create_dir_all(self.path(&format!("{folder}/{cluster}")))
                .expect("cluster folder");
        }
    }

    /// `--cert a=certs/a.pem --cert b=...` for `clusters`, in that order.
    fn cert_args(&self, clusters: &[&str]) -> Vec<String> {
        clusters
            .iter()
            .flat_map(|c| {
                [
                    "--cert".to_owned(),
                    format!("{c}={}", self.text(&format!("certs/{c}.pem"))),
                ]
            })
            .collect()
    }

    /// Every file below the folder whose name starts with `.kubeseal-`.
    fn leftovers(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).expect("read folder") {
                let path = entry.expect("folder entry").path();
                if path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(".kubeseal-"))
                {
                    found.push(path.clone());
                }
                if path.is_dir() {
                    walk(&path, found);
                }
            }
        }
        let mut found = Vec::new();
        walk(self.dir.path(), &mut found);
        found
    }
}

/// Our kubeseal with `args` (strings) and `stdin`.
fn run_ours(cp: &ControlPlane, args: &[String], stdin: &str) -> Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    kubeseal(cp, &args, stdin).expect("kubeseal runs")
}

fn secret_yaml(name: &str, namespace: Option<&str>, key: &str, value: &str) -> String {
    let namespace = namespace
        .map(|n| format!("  namespace: {n}\n"))
        .unwrap_or_default();
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n{namespace}type: Opaque\nstringData:\n  {key}: {value}\n"
    )
}

/// `(tls.crt, tls.key)` of the one active key Secret in `keys`, waiting
/// until the controller has made it.
fn key_pair(keys: &TestNamespace) -> (String, String) {
    let decode = |secret: &Value, field: &str| {
        let encoded = secret["data"][field].as_str().expect("key Secret field");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .expect("base64");
        String::from_utf8(bytes).expect("PEM text")
    };
    poll(
        &format!("one key Secret in {}", keys.name()),
        Duration::from_secs(60),
        Duration::from_millis(250),
        || {
            let list = keys
                .kubectl()
                .get_json(["get", "secrets", "-l", KEY_SELECTOR])?;
            Ok(match list["items"].as_array().map(Vec::as_slice) {
                Some([secret]) => Some((decode(secret, "tls.crt"), decode(secret, "tls.key"))),
                _ => None,
            })
        },
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// Fetches the certificate of the controller whose Service is in `keys` with
/// our `kubeseal --fetch-cert`, checks it is the one of its key Secret, and
/// stores certificate and key as cluster `name`'s.
fn fetch_cluster(cp: &ControlPlane, work: &Workdir, name: &str, keys: &TestNamespace) {
    let fetched = succeeded(
        &kubeseal(
            cp,
            &[
                "--controller-namespace",
                keys.name(),
                "--controller-name",
                "sealed-secrets-controller",
                "--fetch-cert",
            ],
            "",
        )
        .expect("fetch-cert runs"),
    );
    let (cert, key) = key_pair(keys);
    assert_eq!(
        lf(&fetched),
        lf(&cert),
        "{name}: --fetch-cert gives the certificate of the controller's key"
    );
    work.write(&format!("certs/{name}.pem"), fetched.as_bytes());
    work.write(&format!("keys/{name}.pem"), key.as_bytes());
}

fn wait_value(ns: &TestNamespace, name: &str, key: &str, value: &str, who: &Controller) {
    wait_secret_value(ns, name, key, value).unwrap_or_else(|e| {
        panic!(
            "{e}\ncontroller log:\n{}",
            sealed_secrets_e2e::controller::without_long_lines(&who.log())
        )
    });
}

/// Which kubeseal opens the files offline.
#[derive(Clone, Copy, Debug)]
enum Opener {
    Reference,
    Ours,
}

/// `kubeseal --recovery-unseal` of `sealed` with cluster `key`'s private key.
fn recover(cp: &ControlPlane, opener: Opener, work: &Workdir, key: &str, sealed: &[u8]) -> Output {
    let key_file = work.text(&format!("keys/{key}.pem"));
    let args = [
        "--recovery-unseal",
        "--recovery-private-key",
        &key_file,
        "-o",
        "json",
    ];
    let sealed = String::from_utf8_lossy(sealed);
    match opener {
        Opener::Reference => reference_kubeseal(cp, &args, &sealed),
        Opener::Ours => kubeseal(cp, &args, &sealed),
    }
    .expect("kubeseal runs")
}

/// `data` of the Secret a successful `--recovery-unseal` printed, decoded.
fn recovered(out: &Output) -> serde_json::Map<String, Value> {
    let secret: Value = serde_json::from_str(&succeeded(out)).expect("Secret JSON");
    secret["data"]
        .as_object()
        .expect("data")
        .iter()
        .map(|(k, v)| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(v.as_str().expect("string"))
                .expect("base64");
            let text = String::from_utf8(bytes).expect("utf-8");
            (k.clone(), Value::String(text))
        })
        .collect()
}

/// Each cluster's `out/{cluster}/{file}` opens with that cluster's key, to
/// `expected`, and is refused by every other cluster's key.
fn assert_each_opens_only_with_its_key(
    cp: &ControlPlane,
    opener: Opener,
    work: &Workdir,
    file: &str,
    expected: &Value,
) {
    for owner in CLUSTERS {
        let sealed = work.read(&format!("out/{owner}/{file}"));
        for key in CLUSTERS {
            let out = recover(cp, opener, work, key, &sealed);
            if key == owner {
                assert_eq!(
                    &Value::Object(recovered(&out)),
                    expected,
                    "{opener:?} kubeseal: key {key} opens {owner}'s file"
                );
            } else {
                let refusal = match opener {
                    Opener::Reference => REFERENCE_REFUSES,
                    Opener::Ours => OURS_REFUSES,
                };
                let stderr = String::from_utf8_lossy(&out.stderr);
                assert!(
                    !out.status.success() && stderr.contains(refusal),
                    "{opener:?} kubeseal: key {key} must not open {owner}'s file ({}): {stderr}",
                    out.status
                );
                assert!(
                    !String::from_utf8_lossy(&out.stdout).contains(PASSWORD)
                        && !stderr.contains(PASSWORD),
                    "no plaintext on a refusal"
                );
            }
        }
    }
}

/// The bytes of `out/{cluster}/db.yaml` of every cluster.
fn set_of_files(work: &Workdir) -> Vec<Vec<u8>> {
    CLUSTERS
        .iter()
        .map(|c| work.read(&format!("out/{c}/db.yaml")))
        .collect()
}

/// A run whose target for one cluster is a (non-empty) directory fails and
/// writes nothing: over an existing set, the others keep their bytes; into
/// fresh folders, no file appears. No `.kubeseal-*` file is left.
fn a_failed_write_changes_no_file(cp: &ControlPlane, work: &Workdir, input: &str) {
    let before = set_of_files(work);
    let b_file = work.read("out/b/db.yaml");
    std::fs::remove_file(work.path("out/b/db.yaml")).expect("remove b's file");
    // A non-empty directory cannot be replaced by a rename, even by root.
    std::fs::create_dir_all(work.path("out/b/db.yaml/keep")).expect("directory in b's place");
    let out = run_ours(
        cp,
        &[
            work.cert_args(&CLUSTERS),
            vec!["-w".into(), work.text("out/{cluster}/db.yaml")],
        ]
        .concat(),
        input,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && stderr.contains("is a directory or special file, not a file (cluster b)"),
        "refused for cluster b ({}): {stderr}",
        out.status
    );
    for (i, cluster) in CLUSTERS.iter().enumerate() {
        if *cluster != "b" {
            assert_eq!(
                work.read(&format!("out/{cluster}/db.yaml")),
                before[i],
                "{cluster}'s file unchanged"
            );
        }
    }
    assert!(
        work.path("out/b/db.yaml/keep").is_dir(),
        "b's directory kept"
    );
    assert_eq!(work.leftovers(), Vec::<PathBuf>::new(), "no temporary file");
    std::fs::remove_dir_all(work.path("out/b/db.yaml")).expect("remove the directory");
    work.write("out/b/db.yaml", &b_file);

    // Into fresh folders, with ref's target a directory: no file at all.
    work.cluster_folders("fresh", &CLUSTERS);
    std::fs::create_dir_all(work.path("fresh/ref/db.yaml/keep")).expect("directory");
    let out = run_ours(
        cp,
        &[
            work.cert_args(&CLUSTERS),
            vec!["-w".into(), work.text("fresh/{cluster}/db.yaml")],
        ]
        .concat(),
        input,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && stderr.contains("is a directory or special file, not a file (cluster ref)"),
        "refused for cluster ref ({}): {stderr}",
        out.status
    );
    for cluster in ["a", "b", "ours"] {
        let path = work.path(&format!("fresh/{cluster}/db.yaml"));
        assert!(!path.exists(), "{} was written", path.display());
    }
    assert_eq!(work.leftovers(), Vec::<PathBuf>::new(), "no temporary file");
}

#[test]
fn one_run_seals_for_every_cluster_and_each_opens_only_its_own() {
    let cp = ControlPlane::shared().expect("control plane");
    let Some(reference_binary) = reference_controller(cp) else {
        return;
    };
    if !reference_kubeseal_present(cp) {
        return;
    }
    // Declared before the controllers, so dropped after them: the
    // controllers stop first, then the namespaces go.
    let ref_keys = TestNamespace::create(cp, "many-ref-keys").expect("namespace");
    let ref_apps = TestNamespace::create(cp, "many-ref-apps").expect("namespace");
    let our_keys = TestNamespace::create(cp, "many-our-keys").expect("namespace");
    let our_apps = TestNamespace::create(cp, "many-our-apps").expect("namespace");
    let work = Workdir {
        dir: tempfile::tempdir().expect("tempdir"),
    };

    let reference = ControllerOptions::for_namespace(&ref_keys)
        .watch(&[ref_apps.name()])
        .binary(reference_binary)
        .in_cluster()
        .in_node()
        .start(cp)
        .expect("reference controller starts");
    let ours = ControllerOptions::for_namespace(&our_keys)
        .watch(&[our_apps.name()])
        .in_node()
        .start(cp)
        .expect("our controller starts");

    for (name, pair) in [("a", "2048"), ("b", "4096")] {
        work.write(
            &format!("certs/{name}.pem"),
            &std::fs::read(fixture(&format!("cert-{pair}.pem"))).expect("fixture"),
        );
        work.write(
            &format!("keys/{name}.pem"),
            &std::fs::read(fixture(&format!("key-{pair}.pem"))).expect("fixture"),
        );
    }
    fetch_cluster(cp, &work, "ref", &ref_keys);
    fetch_cluster(cp, &work, "ours", &our_keys);

    // One run, four files.
    let input = secret_yaml("db", Some(ref_apps.name()), "password", PASSWORD);
    work.write("secret.yaml", input.as_bytes());
    work.cluster_folders("out", &CLUSTERS);
    let out = run_ours(
        cp,
        &[
            work.cert_args(&CLUSTERS),
            vec![
                "-f".into(),
                work.text("secret.yaml"),
                "-w".into(),
                work.text("out/{cluster}/db.yaml"),
            ],
        ]
        .concat(),
        "",
    );
    assert!(succeeded(&out).is_empty(), "files, not stdout");
    for cluster in CLUSTERS {
        let file = work.read(&format!("out/{cluster}/db.yaml"));
        assert!(
            file.starts_with(b"---\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\n"),
            "{cluster}: {}",
            String::from_utf8_lossy(&file)
        );
    }
    assert_eq!(work.leftovers(), Vec::<PathBuf>::new());

    // The reference controller unseals ref's file.
    ref_apps
        .kubectl()
        .apply(&String::from_utf8_lossy(&work.read("out/ref/db.yaml")))
        .expect("apply ref's file");
    wait_value(&ref_apps, "db", "password", PASSWORD, &reference);

    // Offline, each file opens with its cluster's key only: the reference
    // kubeseal, and ours.
    let expected = serde_json::json!({ "password": PASSWORD });
    assert_each_opens_only_with_its_key(cp, Opener::Reference, &work, "db.yaml", &expected);
    assert_each_opens_only_with_its_key(cp, Opener::Ours, &work, "db.yaml", &expected);

    a_failed_write_changes_no_file(
        cp,
        &work,
        &secret_yaml("db", Some(ref_apps.name()), "password", "never-written"),
    );

    // --merge-into each cluster's file: one more item; the old one keeps its
    // ciphertext; the reference controller unseals both.
    let before = set_of_files(&work);
    let out = run_ours(
        cp,
        &[
            work.cert_args(&CLUSTERS),
            vec!["--merge-into".into(), work.text("out/{cluster}/db.yaml")],
        ]
        .concat(),
        &secret_yaml("ignored", Some("ignored"), "token", TOKEN),
    );
    succeeded(&out);
    for (cluster, before) in CLUSTERS.iter().zip(&before) {
        let before: Value = serde_yaml::from_slice(before).expect("YAML");
        let after: Value =
            serde_yaml::from_slice(&work.read(&format!("out/{cluster}/db.yaml"))).expect("YAML");
        let data = &after["spec"]["encryptedData"];
        assert_eq!(
            data["password"], before["spec"]["encryptedData"]["password"],
            "{cluster}: the old item is kept as it was"
        );
        assert!(data["token"].is_string(), "{cluster}: the new item");
        assert_eq!(after["metadata"], before["metadata"], "{cluster}");
    }
    ref_apps
        .kubectl()
        .apply(&String::from_utf8_lossy(&work.read("out/ref/db.yaml")))
        .expect("apply ref's merged file");
    wait_value(&ref_apps, "db", "token", TOKEN, &reference);
    wait_value(&ref_apps, "db", "password", PASSWORD, &reference);
    let expected = serde_json::json!({ "password": PASSWORD, "token": TOKEN });
    assert_each_opens_only_with_its_key(cp, Opener::Reference, &work, "db.yaml", &expected);
    assert_eq!(work.leftovers(), Vec::<PathBuf>::new());

    // Strict scope binds a file to one namespace, and a cluster here is a
    // key namespace, so the two controllers' app namespaces differ: a
    // cluster-wide Secret is what each controller unseals in its own.
    work.cluster_folders("wide", &["ref", "ours"]);
    let out = run_ours(
        cp,
        &[
            work.cert_args(&["ref", "ours"]),
            vec![
                "--scope".into(),
                "cluster-wide".into(),
                "-w".into(),
                work.text("wide/{cluster}/api.yaml"),
            ],
        ]
        .concat(),
        &secret_yaml("api", None, "password", PASSWORD),
    );
    succeeded(&out);
    for (cluster, apps, controller) in [("ref", &ref_apps, &reference), ("ours", &our_apps, &ours)]
    {
        apps.kubectl()
            .apply(&String::from_utf8_lossy(
                &work.read(&format!("wide/{cluster}/api.yaml")),
            ))
            .unwrap_or_else(|e| panic!("apply {cluster}'s cluster-wide file: {e}"));
        wait_value(apps, "api", "password", PASSWORD, controller);
    }
    let reference_log = reference.log();
    assert!(!reference_log.contains("panic"), "{reference_log}");
    reference.stop().expect("reference stops");
    ours.stop().expect("ours stops");
}
