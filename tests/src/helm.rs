//! Helm in tests: `helm3` and `helm4` (built by `scripts/install-tools helm`
//! from helm.sh/helm/v3 and v4), our chart (`charts/sealed-secrets`) and the
//! reference's (`helm/sealed-secrets` of the reference module), and the
//! rendered objects.
//!
//! Without the Helm binaries or the reference chart, [`Helm::all`] and
//! [`reference_chart`] return `None` after printing why, and the tests skip;
//! with `REQUIRE_REFERENCE=1` (as `scripts/test-all` sets) they panic instead.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use serde::Deserialize as _;
use serde_json::Value;

use crate::control_plane::{run_command, Error};
use crate::namespace::unique_name;

type Result<T, E = Error> = std::result::Result<T, E>;

/// Environment variables that must not reach Helm (every request goes to
/// this machine's own API server).
const PROXY_VARS: &[&str] = &[
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
];

/// The repository's root (`tests/` is a direct child).
pub fn repo_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| manifest.to_path_buf())
}

/// `charts/sealed-secrets`.
pub fn our_chart() -> PathBuf {
    repo_dir().join("charts").join("sealed-secrets")
}

/// Whether a missing tool fails the test rather than skipping it.
pub fn required() -> bool {
    std::env::var_os("REQUIRE_REFERENCE").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Skips (prints why, returns `None`) or, with `REQUIRE_REFERENCE=1`, panics.
fn skip<T>(why: &str) -> Option<T> {
    assert!(!required(), "REQUIRE_REFERENCE=1 but {why}");
    eprintln!("SKIPPED: {why}");
    None
}

/// A value of `scripts/versions.env`.
pub fn pinned(key: &str) -> Option<String> {
    let text = std::fs::read_to_string(repo_dir().join("scripts/versions.env")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .map(|v| v.trim().to_string())
}

/// The reference chart: `$SEALED_SECRETS_REF_SRC/helm/sealed-secrets`, the
/// writable copy of the module `scripts/install-tools ref` builds in, or the
/// Go module cache.
pub fn reference_chart() -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::var_os("SEALED_SECRETS_REF_SRC") {
        candidates.push(PathBuf::from(dir));
    }
    let module = pinned("SEALED_SECRETS_REF_MODULE");
    let version = pinned("SEALED_SECRETS_REF_VERSION");
    if let Some(version) = &version {
        let cache = std::env::var_os("SEALED_SECRETS_CACHE")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/sealed-secrets-rs"))
            });
        if let Some(cache) = cache {
            candidates.push(cache.join(format!("control-plane/work/sealed-secrets-{version}")));
        }
    }
    if let (Some(module), Some(version)) = (&module, &version) {
        let gomodcache = ["go", "/usr/local/go/bin/go"].into_iter().find_map(|go| {
            let out = Command::new(go).args(["env", "GOMODCACHE"]).output().ok()?;
            let dir = String::from_utf8(out.stdout).ok()?;
            (!dir.trim().is_empty()).then(|| PathBuf::from(dir.trim()))
        });
        if let Some(cache) = gomodcache {
            candidates.push(cache.join(format!("{module}@{version}")));
        }
    }
    let found = candidates
        .into_iter()
        .map(|dir| dir.join("helm").join("sealed-secrets"))
        .find(|chart| chart.join("Chart.yaml").is_file());
    match found {
        Some(chart) => Some(chart),
        None => skip(
            "the reference chart (helm/sealed-secrets of the reference module) was not found: \
             run scripts/install-tools ref, or set SEALED_SECRETS_REF_SRC",
        ),
    }
}

/// Helm's own directories for one test process, removed at the end.
#[derive(Debug)]
struct Home(PathBuf);

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One Helm binary, with its own cache/config/data directories and
/// optionally a kubeconfig.
#[derive(Debug, Clone)]
pub struct Helm {
    name: String,
    program: PathBuf,
    home: Arc<Home>,
    kubeconfig: Option<PathBuf>,
}

impl Helm {
    /// `helm3` and `helm4` from `scripts/install-tools --print-helm-dir`, or
    /// `None` if they are not built (skip; panics with `REQUIRE_REFERENCE=1`).
    pub fn all() -> Option<Vec<Helm>> {
        let script = repo_dir().join("scripts").join("install-tools");
        let mut cmd = Command::new(&script);
        cmd.arg("--print-helm-dir");
        let dir = match run_command(cmd, None) {
            Ok(out) => PathBuf::from(out.trim()),
            Err(e) => {
                return skip(&format!(
                    "cannot ask install-tools for the helm directory: {e}"
                ))
            }
        };
        let home = Arc::new(Home(
            std::env::temp_dir().join(unique_name("ssrs-helm-home")),
        ));
        let helms: Vec<Helm> = ["helm3", "helm4"]
            .into_iter()
            .map(|name| Helm {
                name: name.to_string(),
                program: dir.join(name),
                home: home.clone(),
                kubeconfig: None,
            })
            .collect();
        if let Some(missing) = helms.iter().find(|h| !h.program.is_file()) {
            return skip(&format!(
                "{} is not built: run scripts/install-tools helm",
                missing.program.display()
            ));
        }
        Some(helms)
    }

    /// `helm3` or `helm4`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The same Helm talking to the cluster of `kubeconfig`.
    pub fn with_kubeconfig(&self, kubeconfig: &Path) -> Helm {
        Helm {
            kubeconfig: Some(kubeconfig.to_path_buf()),
            ..self.clone()
        }
    }

    /// A `Command` for this Helm: isolated from the user's Helm settings and
    /// proxies, with `KUBECONFIG` when one was given.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        let home = &self.home.0;
        cmd.env("HELM_CACHE_HOME", home.join("cache"))
            .env("HELM_CONFIG_HOME", home.join("config"))
            .env("HELM_DATA_HOME", home.join("data"))
            .env_remove("HELM_DRIVER")
            .env_remove("HELM_NAMESPACE")
            .env_remove("HELM_KUBECONTEXT");
        match &self.kubeconfig {
            Some(k) => cmd.env("KUBECONFIG", k),
            // No cluster: template and lint must not reach one by accident.
            None => cmd.env("KUBECONFIG", home.join("no-cluster")),
        };
        for v in PROXY_VARS {
            cmd.env_remove(v);
        }
        cmd
    }

    /// Runs Helm with `args`; stdout, or an error with stderr and stdout.
    pub fn run<I, S>(&self, args: I) -> Result<String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.command();
        cmd.args(args);
        run_command(cmd, None)
    }

    /// `helm template RELEASE CHART -n NAMESPACE -f VALUES... EXTRA...`.
    pub fn template(
        &self,
        release: &str,
        namespace: &str,
        chart: &Path,
        values: &[&Path],
        extra: &[&str],
    ) -> Result<String> {
        let mut args: Vec<&OsStr> = vec![
            "template".as_ref(),
            release.as_ref(),
            chart.as_os_str(),
            "--namespace".as_ref(),
            namespace.as_ref(),
        ];
        for v in values {
            args.push("--values".as_ref());
            args.push(v.as_os_str());
        }
        args.extend(extra.iter().map(|e| OsStr::new(*e)));
        self.run(args)
    }
}

/// The objects of a multi-document YAML text, in order (empty documents left out).
pub fn documents(yaml: &str) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(yaml) {
        let value = Value::deserialize(doc).map_err(|e| Error::Parse {
            command: "helm output".into(),
            message: e.to_string(),
        })?;
        if !value.is_null() {
            out.push(value);
        }
    }
    Ok(out)
}

/// Rendered text with blank lines and trailing spaces removed: Helm 3 and
/// Helm 4 differ only there.
pub fn normalize(rendered: &str) -> String {
    let mut out = String::new();
    for line in rendered
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
    {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// `(kind, namespace, name)` of an object (namespace "" when it has none).
pub fn identity(object: &Value) -> (String, String, String) {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    (
        text(&object["kind"]),
        text(&object["metadata"]["namespace"]),
        text(&object["metadata"]["name"]),
    )
}

/// A values file of `tests/fixtures/helm/values/` and the release it is
/// rendered as.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// File stem in `tests/fixtures/helm/values/` (and `golden/`).
    pub values: &'static str,
    pub release: &'static str,
    pub namespace: &'static str,
}

/// Every values file the chart tests render. Release names cover the naming
/// rule: one containing the chart name is the full name, any other gets
/// `-sealed-secrets` appended (or `-<nameOverride>`).
pub const CASES: &[Case] = &[
    Case {
        values: "defaults",
        release: "sealed-secrets",
        namespace: "kube-system",
    },
    Case {
        values: "kubeseal-defaults",
        release: "sealed-secrets",
        namespace: "kube-system",
    },
    Case {
        values: "everything",
        release: "my-release",
        namespace: "security",
    },
    Case {
        values: "namespaced-roles",
        release: "sealed-secrets",
        namespace: "kube-system",
    },
    Case {
        values: "additional-namespaces",
        release: "ss",
        namespace: "apps",
    },
    Case {
        values: "minimal",
        release: "my-unsealer",
        namespace: "kube-system",
    },
    Case {
        values: "ingress-secrets",
        release: "sealed-secrets",
        namespace: "kube-system",
    },
    Case {
        values: "upgrade",
        release: "sealed-secrets",
        namespace: "security",
    },
    Case {
        values: "kms",
        release: "sealed-secrets",
        namespace: "kube-system",
    },
];

/// Cases with values the reference chart does not have (KMS protection of the
/// keys): left out of the comparisons with it.
pub const NOT_IN_THE_REFERENCE: &[&str] = &["kms"];

/// `tests/fixtures/helm/`.
pub fn fixtures() -> PathBuf {
    repo_dir().join("tests").join("fixtures").join("helm")
}

impl Case {
    pub fn values_path(&self) -> PathBuf {
        fixtures()
            .join("values")
            .join(format!("{}.yaml", self.values))
    }

    pub fn golden_path(&self) -> PathBuf {
        fixtures()
            .join("golden")
            .join(format!("{}.yaml", self.values))
    }

    /// `helm template` of `chart` with this case's values file.
    pub fn render(&self, helm: &Helm, chart: &Path, extra: &[&str]) -> Result<String> {
        helm.template(
            self.release,
            self.namespace,
            chart,
            &[&self.values_path()],
            extra,
        )
    }
}
