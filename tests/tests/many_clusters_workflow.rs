//! README's worked example ("Many clusters"), run as literally as one
//! machine allows: the commands of the example, in its order, from inside
//! a Git-like repository, with the kubeconfig contexts it names.
//!
//! One machine, one cluster, so:
//! * "Oslo" and "Bergen" are two of our controllers, each with its own key
//!   namespace (what makes a cluster here), behind its Service there. The
//!   contexts `oslo-admin` and `bergen-admin` of a temporary kubeconfig
//!   both reach the local cluster; the layout's `controller_namespace` tells
//!   the two controllers apart (on real clusters it would be left out).
//!   The kubeconfig's current context points nowhere: whatever reaches a
//!   controller does so through a context the layout or the command names.
//! * On real clusters, each would have its own namespace `app`. Here each
//!   controller watches its own app namespace, and a strict (or
//!   namespace-wide) scope would bind the file to one namespace name, which
//!   only one of them can watch: the Secret is sealed `--scope
//!   cluster-wide`, as the only difference to the README's command.
//! * `~/safe/` (the break-glass key and the key backup, never in the
//!   repository) is a temporary folder.
//! * Keys are 2048 bits (`--key-size 2048` on `rotate`): quicker to make.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use base64::Engine as _;
use sealed_secrets_e2e::binaries::binaries;
use sealed_secrets_e2e::controller::{Controller, ControllerOptions};
use sealed_secrets_e2e::kubeseal::lf;
use sealed_secrets_e2e::secrets::{wait_secret_value, KEY_SELECTOR};
use sealed_secrets_e2e::status::wait_synced_true;
use sealed_secrets_e2e::{poll, ControlPlane, TestNamespace};
use serde_json::Value;

const PASSWORD: &str = "s3cret";
const WAIT: Duration = Duration::from_secs(90);
const TICK: Duration = Duration::from_millis(500);
/// The files of the repository's SealedSecrets.
const OSLO: &str = "clusters/oslo/db.yaml";
const BERGEN: &str = "clusters/bergen/db.yaml";
const OSLO_COPY: &str = "break-glass/clusters/oslo/db.yaml";
const BERGEN_COPY: &str = "break-glass/clusters/bergen/db.yaml";
const FILES: [&str; 4] = [OSLO, BERGEN, OSLO_COPY, BERGEN_COPY];
/// Why `admin reencrypt` through the controllers leaves a copy alone.
const SAFE_SKIPPED: &str = "cluster safe holds break-glass copies and has no controller: \
     re-sealed offline only (admin reencrypt --recovery-private-key with its key)";

/// The temporary machine: the repository, `~/safe`, the kubeconfig.
struct Desk {
    _dir: tempfile::TempDir,
    repo: PathBuf,
    safe: PathBuf,
    home: PathBuf,
    kubeconfig: PathBuf,
}

impl Desk {
    fn new(cp: &ControlPlane) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = dir.path().join("repo");
        for folder in [
            ".git",
            "certs",
            "clusters/oslo",
            "clusters/bergen",
            "break-glass/clusters/oslo",
            "break-glass/clusters/bergen",
        ] {
            std::fs::create_dir_all(repo.join(folder)).expect("repository folder");
        }
        let safe = dir.path().join("safe");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&safe).expect("safe");
        std::fs::create_dir_all(&home).expect("home");
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::copy(cp.kubeconfig(), &kubeconfig).expect("copy the admin kubeconfig");
        let desk = Desk {
            _dir: dir,
            repo,
            safe,
            home,
            kubeconfig,
        };
        desk.kubectl_config(&["set-cluster", "nowhere", "--server=https://127.0.0.1:1"]);
        desk.kubectl_config(&[
            "set-context",
            "nowhere",
            "--cluster=nowhere",
            "--user=admin",
        ]);
        desk.kubectl_config(&["use-context", "nowhere"]);
        for context in ["oslo-admin", "bergen-admin", "bergen-new-admin"] {
            desk.add_context(context);
        }
        desk
    }

    fn kubectl_config(&self, args: &[&str]) {
        let out = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("config")
            .args(args)
            .output()
            .expect("kubectl runs");
        assert!(
            out.status.success(),
            "kubectl config {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A context to the local cluster as its admin.
    fn add_context(&self, name: &str) {
        self.kubectl_config(&[
            "set-context",
            name,
            "--cluster=sealed-secrets-rs",
            "--user=admin",
        ]);
    }

    /// `~/safe/NAME`, as a path for the command line.
    fn safe(&self, name: &str) -> String {
        self.safe.join(name).to_string_lossy().into_owned()
    }

    /// Our kubeseal, run in the repository with the desk's kubeconfig.
    fn kubeseal(&self, args: &[&str], stdin: &str) -> Output {
        self.kubeseal_in(&self.repo, args, stdin)
    }

    fn kubeseal_in(&self, dir: &Path, args: &[&str], stdin: &str) -> Output {
        let binary = binaries().expect("binaries").join("kubeseal");
        let mut child = Command::new(&binary)
            .args(args)
            .current_dir(dir)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", &self.home)
            .env_remove("SEALED_SECRETS_LAYOUT")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubeseal starts");
        if let Some(mut input) = child.stdin.take() {
            std::io::Write::write_all(&mut input, stdin.as_bytes()).expect("stdin");
        }
        child.wait_with_output().expect("kubeseal runs")
    }

    fn read(&self, relative: &str) -> Vec<u8> {
        std::fs::read(self.repo.join(relative)).unwrap_or_else(|e| panic!("read {relative}: {e}"))
    }

    fn text(&self, relative: &str) -> String {
        String::from_utf8(self.read(relative)).expect("UTF-8")
    }

    /// Every SealedSecret file of the repository, by path.
    fn snapshot(&self) -> BTreeMap<&'static str, Vec<u8>> {
        FILES.iter().map(|f| (*f, self.read(f))).collect()
    }
}

/// Stdout of a run that must succeed.
fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "expected success ({}); stderr: {}\nstdout: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout.clone()).expect("UTF-8")
}

/// Stderr of a run that must fail.
fn refused(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "expected a refusal; stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    stderr
}

fn lines(stdout: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = stdout.lines().collect();
    lines.sort_unstable();
    lines
}

/// The private key (PEM) of the key Secret in `keys` whose certificate is
/// `cert`.
fn private_key(keys: &TestNamespace, cert: &str) -> String {
    let decode = |secret: &Value, field: &str| {
        let encoded = secret["data"][field].as_str().expect("key Secret field");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .expect("base64");
        String::from_utf8(bytes).expect("PEM")
    };
    let list = keys
        .kubectl()
        .get_json(["get", "secrets", "-l", KEY_SELECTOR])
        .expect("key Secrets");
    list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| lf(&decode(s, "tls.crt")) == lf(cert))
        .map(|s| decode(s, "tls.key"))
        .unwrap_or_else(|| panic!("no key Secret in {} for the certificate", keys.name()))
}

/// Whether `key` (PEM) opens `relative` to the password: `--recovery-unseal`.
fn opens(desk: &Desk, key: &str, relative: &str) -> bool {
    let file = desk.safe(&format!("probe-{}.pem", std::process::id()));
    std::fs::write(&file, key).expect("write the key");
    let out = desk.kubeseal(
        &[
            "--recovery-unseal",
            "--recovery-private-key",
            &file,
            "-o",
            "json",
        ],
        &desk.text(relative),
    );
    std::fs::remove_file(&file).expect("remove the key");
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("does not open"), "{relative}: {stderr}");
        return false;
    }
    let secret: Value = serde_json::from_slice(&out.stdout).expect("Secret JSON");
    let value = base64::engine::general_purpose::STANDARD
        .decode(secret["data"]["password"].as_str().expect("password"))
        .expect("base64");
    assert_eq!(value, PASSWORD.as_bytes(), "{relative}");
    true
}

/// The fingerprint a file records (`sealed-with`).
fn recorded(desk: &Desk, relative: &str) -> String {
    let doc: Value = serde_yaml::from_slice(&desk.read(relative)).expect("YAML");
    doc["metadata"]["annotations"]["sealedsecrets.bitnami.com/sealed-with"]
        .as_str()
        .unwrap_or_else(|| panic!("{relative} records no key"))
        .to_string()
}

/// Applies `relative` in `apps`, whose controller `who` must unseal it with
/// the key `fingerprint`.
fn unsealed_by(
    desk: &Desk,
    relative: &str,
    apps: &TestNamespace,
    who: &Controller,
    fingerprint: &str,
) {
    apps.kubectl()
        .apply(&desk.text(relative))
        .unwrap_or_else(|e| panic!("apply {relative}: {e}"));
    let sealed = wait_synced_true(apps, "db", who);
    assert_eq!(
        sealed["status"]["keyFingerprint"], fingerprint,
        "{relative} opened by the key it records"
    );
    wait_secret_value(apps, "db", "password", PASSWORD)
        .unwrap_or_else(|e| panic!("{e}\n{}", who.log()));
}

fn layout(oslo_keys: &str, bergen_context: &str, bergen_keys: &str) -> String {
    format!(
        "version: 1\n\
         clusters:\n\
         \x20 oslo:\n\
         \x20   cert: certs/oslo.pem\n\
         \x20   context: oslo-admin\n\
         \x20   controller_namespace: {oslo_keys}\n\
         \x20 bergen:\n\
         \x20   cert: certs/bergen.pem\n\
         \x20   context: {bergen_context}\n\
         \x20   controller_namespace: {bergen_keys}\n\
         \x20 safe:\n\
         \x20   cert: certs/break-glass.pem\n\
         \x20   copy_to: break-glass/{{path}}\n\
         creation_rules:\n\
         \x20 - path_regex: ^clusters/oslo/\n\
         \x20   cluster: oslo\n\
         \x20 - path_regex: ^clusters/bergen/\n\
         \x20   cluster: bergen\n"
    )
}

/// The fingerprint `kubeseal admin keys list` gives the sealing key.
fn sealing_fingerprint(desk: &Desk, context: &str, keys: &TestNamespace) -> String {
    let out = desk.kubeseal(
        &[
            "--context",
            context,
            "--controller-namespace",
            keys.name(),
            "admin",
            "keys",
            "list",
            "-o",
            "json",
        ],
        "",
    );
    let report: Value = serde_json::from_str(&ok(&out)).expect("JSON");
    report["keys"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|k| k["state"] == "sealing")
        .and_then(|k| k["fingerprint"].as_str())
        .expect("a sealing key")
        .to_string()
}

#[test]
fn readme_worked_example_oslo_and_bergen() {
    let cp = ControlPlane::shared().expect("control plane");
    // Before the controllers, so dropped after them.
    let oslo_keys = TestNamespace::create(cp, "oslo-keys").expect("namespace");
    let oslo_app = TestNamespace::create(cp, "oslo-app").expect("namespace");
    let bergen_keys = TestNamespace::create(cp, "bergen-keys").expect("namespace");
    let bergen_app = TestNamespace::create(cp, "bergen-app").expect("namespace");
    let bergen_new_keys = TestNamespace::create(cp, "bergen-new-keys").expect("namespace");
    let bergen_new_app = TestNamespace::create(cp, "bergen-new-app").expect("namespace");
    let start = |keys: &TestNamespace, apps: &TestNamespace| {
        ControllerOptions::for_namespace(keys)
            .watch(&[apps.name()])
            .in_node()
            .start(cp)
            .expect("controller starts")
    };
    let oslo = start(&oslo_keys, &oslo_app);
    let bergen = start(&bergen_keys, &bergen_app);
    let desk = Desk::new(cp);
    std::fs::write(
        desk.repo.join(".sealed-secrets.yaml"),
        layout(oslo_keys.name(), "bergen-admin", bergen_keys.name()),
    )
    .expect("layout");

    // Once: the certificates, and a break-glass key pair made offline.
    for (context, keys, cert) in [
        ("oslo-admin", &oslo_keys, "certs/oslo.pem"),
        ("bergen-admin", &bergen_keys, "certs/bergen.pem"),
    ] {
        ok(&desk.kubeseal(
            &[
                "--context",
                context,
                "--controller-namespace",
                keys.name(),
                "--fetch-cert",
                "-w",
                cert,
            ],
            "",
        ));
    }
    let openssl = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:4096", "-nodes", "-days", "3650",
        ])
        .args(["-subj", "/CN=break-glass", "-keyout"])
        .arg(desk.safe("break-glass.key"))
        .args(["-out", "certs/break-glass.pem"])
        .current_dir(&desk.repo)
        .output()
        .expect("openssl runs");
    assert!(
        openssl.status.success(),
        "{}",
        String::from_utf8_lossy(&openssl.stderr)
    );
    let safe_key = std::fs::read_to_string(desk.safe("break-glass.key")).expect("safe key");
    let oslo_old_fp = sealing_fingerprint(&desk, "oslo-admin", &oslo_keys);
    let bergen_fp = sealing_fingerprint(&desk, "bergen-admin", &bergen_keys);
    let oslo_old_key = private_key(&oslo_keys, &desk.text("certs/oslo.pem"));
    let bergen_key = private_key(&bergen_keys, &desk.text("certs/bergen.pem"));

    // Seal one Secret for both clusters, with its break-glass copies.
    let secret = cp
        .kubectl()
        .run([
            "create",
            "secret",
            "generic",
            "db",
            &format!("--from-literal=password={PASSWORD}"),
            "--dry-run=client",
            "-o",
            "yaml",
        ])
        .expect("kubectl create --dry-run");
    ok(&desk.kubeseal(
        &[
            "--scope",
            "cluster-wide",
            "-w",
            "clusters/{cluster}/db.yaml",
        ],
        &secret,
    ));
    assert!(opens(&desk, &oslo_old_key, OSLO) && !opens(&desk, &bergen_key, OSLO));
    assert!(opens(&desk, &bergen_key, BERGEN) && !opens(&desk, &oslo_old_key, BERGEN));
    for copy in [OSLO_COPY, BERGEN_COPY] {
        assert!(
            opens(&desk, &safe_key, copy),
            "{copy} opens with the safe's key"
        );
        assert!(!opens(&desk, &oslo_old_key, copy) && !opens(&desk, &bergen_key, copy));
    }
    assert_eq!(recorded(&desk, OSLO), oslo_old_fp);
    assert_eq!(recorded(&desk, BERGEN), bergen_fp);
    // Each cluster's controller unseals its own file.
    unsealed_by(&desk, OSLO, &oslo_app, &oslo, &oslo_old_fp);
    unsealed_by(&desk, BERGEN, &bergen_app, &bergen, &bergen_fp);

    // Rotate Oslo's key: it waits before it seals, the time to back it up.
    // Certificates have one-second NotBefore: the new key must rank above.
    std::thread::sleep(Duration::from_millis(1100));
    let oslo_flags = [
        "--context",
        "oslo-admin",
        "--controller-namespace",
        oslo_keys.name(),
    ];
    let rotate = [
        &oslo_flags[..],
        &[
            "admin",
            "keys",
            "rotate",
            "--key-size",
            "2048",
            "--activate-after",
            "20s",
        ],
    ]
    .concat();
    let oslo_new_cert = ok(&desk.kubeseal(&rotate, ""));
    let backup = desk.safe("oslo-keys.yaml");
    ok(&desk.kubeseal(
        &[&oslo_flags[..], &["admin", "keys", "backup", "-o", &backup]].concat(),
        "",
    ));
    // Once the controller seals with the new key.
    poll(
        "Oslo's controller to seal with the new key",
        WAIT,
        TICK,
        || {
            let out = desk.kubeseal(&[&oslo_flags[..], &["--fetch-cert"]].concat(), "");
            Ok((out.status.success()
                && lf(&String::from_utf8_lossy(&out.stdout)) == lf(&oslo_new_cert))
            .then_some(()))
        },
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", oslo.log()));
    let oslo_new_fp = sealing_fingerprint(&desk, "oslo-admin", &oslo_keys);
    assert_ne!(oslo_new_fp, oslo_old_fp);
    let oslo_new_key = private_key(&oslo_keys, &oslo_new_cert);

    // Through the controllers before certs/oslo.pem is updated: refused,
    // with the command that updates it, and nothing written.
    let before = desk.snapshot();
    let said = refused(&desk.kubeseal(&["admin", "reencrypt", "."], ""));
    assert!(
        said.contains(&format!(
            "the controller of cluster oslo (context oslo-admin, {}/sealed-secrets-controller) seals with {oslo_new_fp}, but certs/oslo.pem is {oslo_old_fp}: update it (kubeseal --context oslo-admin --controller-namespace {} --fetch-cert -w certs/oslo.pem) and run again",
            oslo_keys.name(),
            oslo_keys.name()
        )),
        "{said}"
    );
    assert!(!said.contains("cluster bergen"), "Bergen agrees: {said}");
    assert_eq!(desk.snapshot(), before, "nothing written");

    ok(&desk.kubeseal(
        &[&oslo_flags[..], &["--fetch-cert", "-w", "certs/oslo.pem"]].concat(),
        "",
    ));
    assert_eq!(lf(&desk.text("certs/oslo.pem")), lf(&oslo_new_cert));

    // Both ways from here: with the keys (offline) in a copy of the
    // repository, through the controllers (no keys) in the repository.
    let offline = desk.repo.with_file_name("repo-offline");
    let copied = Command::new("cp")
        .arg("-a")
        .arg(&desk.repo)
        .arg(&offline)
        .status()
        .expect("cp runs");
    assert!(copied.success());
    let reencrypt_offline = ["admin", "reencrypt", "--recovery-private-key", &backup, "."];
    let said = ok(&desk.kubeseal_in(&offline, &reencrypt_offline, ""));
    assert_eq!(
        lines(&said),
        [
            "reencrypted ./clusters/oslo/db.yaml (cluster oslo, 1 SealedSecret)",
            "up to date ./break-glass/clusters/bergen/db.yaml (cluster safe; sealed with none of the keys given)",
            "up to date ./break-glass/clusters/oslo/db.yaml (cluster safe; sealed with none of the keys given)",
            "up to date ./clusters/bergen/db.yaml (cluster bergen; sealed with none of the keys given)",
        ]
    );

    let said = ok(&desk.kubeseal(&["admin", "reencrypt", "--dry-run", "."], ""));
    assert!(
        said.contains("would reencrypt ./clusters/oslo/db.yaml (cluster oslo, 1 SealedSecret)"),
        "{said}"
    );
    assert_eq!(desk.snapshot(), before, "a dry run writes nothing");
    let said = ok(&desk.kubeseal(&["admin", "reencrypt", "."], ""));
    assert_eq!(
        lines(&said),
        [
            "reencrypted ./clusters/oslo/db.yaml (cluster oslo, 1 SealedSecret)".to_string(),
            format!("skipped ./break-glass/clusters/bergen/db.yaml: {SAFE_SKIPPED}"),
            format!("skipped ./break-glass/clusters/oslo/db.yaml: {SAFE_SKIPPED}"),
            "up to date ./clusters/bergen/db.yaml (cluster bergen; sealed-with records its certificate)".to_string(),
        ]
    );

    // Both ways: only Oslo's file changed; it opens with the new key only,
    // records it, and Oslo's controller unseals it with it.
    for (way, repo) in [
        ("offline", &offline),
        ("through the controllers", &desk.repo),
    ] {
        let view = Desk {
            _dir: tempfile::tempdir().expect("tempdir"),
            repo: repo.clone(),
            safe: desk.safe.clone(),
            home: desk.home.clone(),
            kubeconfig: desk.kubeconfig.clone(),
        };
        for file in [BERGEN, OSLO_COPY, BERGEN_COPY] {
            assert_eq!(view.read(file), before[file], "{way}: {file} unchanged");
        }
        assert_ne!(
            view.read(OSLO),
            before[OSLO],
            "{way}: Oslo's file re-sealed"
        );
        assert!(opens(&view, &oslo_new_key, OSLO), "{way}");
        assert!(!opens(&view, &oslo_old_key, OSLO), "{way}");
        assert_eq!(recorded(&view, OSLO), oslo_new_fp, "{way}");
        let old: Value = serde_yaml::from_slice(&before[OSLO]).expect("YAML");
        let new: Value = serde_yaml::from_slice(&view.read(OSLO)).expect("YAML");
        assert_eq!(new["spec"]["template"], old["spec"]["template"], "{way}");
        unsealed_by(&view, OSLO, &oslo_app, &oslo, &oslo_new_fp);
    }

    // A second run, either way: up to date.
    let said = ok(&desk.kubeseal_in(&offline, &reencrypt_offline, ""));
    assert!(!said.contains("reencrypted"), "{said}");
    assert!(
        said.contains("up to date ./clusters/oslo/db.yaml (cluster oslo)"),
        "{said}"
    );
    let after = desk.snapshot();
    let said = ok(&desk.kubeseal(&["admin", "reencrypt", "."], ""));
    assert!(!said.contains("reencrypted"), "{said}");
    assert!(
        said.contains("up to date ./clusters/oslo/db.yaml (cluster oslo; sealed-with records its certificate)"),
        "{said}"
    );
    assert_eq!(desk.snapshot(), after);

    // Bergen is lost with its keys: a new cluster and controller, its
    // certificate, then each file rebuilt from its break-glass copy, offline.
    bergen.stop().expect("Bergen stops");
    let bergen_new = start(&bergen_new_keys, &bergen_new_app);
    ok(&desk.kubeseal(
        &[
            "--context",
            "bergen-new-admin",
            "--controller-namespace",
            bergen_new_keys.name(),
            "--fetch-cert",
            "-w",
            "certs/bergen.pem",
        ],
        "",
    ));
    let bergen_new_key = private_key(&bergen_new_keys, &desk.text("certs/bergen.pem"));
    let bergen_new_fp = sealing_fingerprint(&desk, "bergen-new-admin", &bergen_new_keys);
    // for f in break-glass/clusters/bergen/*.yaml; do ... done
    for entry in std::fs::read_dir(desk.repo.join("break-glass/clusters/bergen")).expect("list") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        let copy = format!("break-glass/clusters/bergen/{name}");
        ok(&desk.kubeseal(
            &[
                "--re-encrypt",
                "--recovery-private-key",
                &desk.safe("break-glass.key"),
                "--cert",
                "certs/bergen.pem",
                "-f",
                &copy,
                "-w",
                &format!("clusters/bergen/{name}"),
            ],
            "",
        ));
    }
    assert_eq!(desk.read(BERGEN_COPY), after[BERGEN_COPY], "the copy stays");
    assert!(opens(&desk, &bergen_new_key, BERGEN));
    assert!(!opens(&desk, &bergen_key, BERGEN) && !opens(&desk, &safe_key, BERGEN));
    assert_eq!(recorded(&desk, BERGEN), bergen_new_fp);
    unsealed_by(&desk, BERGEN, &bergen_new_app, &bergen_new, &bergen_new_fp);

    // The layout names the new cluster's controller: all up to date.
    std::fs::write(
        desk.repo.join(".sealed-secrets.yaml"),
        layout(oslo_keys.name(), "bergen-new-admin", bergen_new_keys.name()),
    )
    .expect("layout");
    let said = ok(&desk.kubeseal(&["admin", "reencrypt", "."], ""));
    assert!(!said.contains("reencrypted"), "{said}");
    assert!(
        said.contains("up to date ./clusters/bergen/db.yaml (cluster bergen; sealed-with records its certificate)"),
        "{said}"
    );

    for controller in [oslo, bergen_new] {
        let log = controller.log();
        assert!(!log.contains("panic"), "{log}");
        controller.stop().expect("controller stops");
    }
}
