//! Our binaries in end-to-end tests: a controller process per test, scoped to
//! the test's own namespace so concurrent tests never share a controller, and
//! the `kubeseal` CLI.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use crate::control_plane::{poll, unique_name, ControlPlane, Error, TestNamespace};

type Result<T, E = Error> = std::result::Result<T, E>;

static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();

/// Builds the workspace binaries once per test process; returns their directory.
pub fn binaries() -> Result<&'static Path> {
    BUILT
        .get_or_init(|| {
            let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let mut build = Command::new(cargo);
            // What cargo sets for this test process (CARGO_PKG_NAME, ...) would
            // reach build scripts that rerun when it changes (ring's does), and
            // rebuild half the dependency tree on every run: leave it out.
            for (key, _) in std::env::vars_os() {
                let key = key.to_string_lossy();
                if [
                    "CARGO_PKG_",
                    "CARGO_MANIFEST_",
                    "CARGO_CRATE_",
                    "CARGO_BIN_",
                ]
                .iter()
                .any(|p| key.starts_with(p))
                    || ["CARGO_PRIMARY_PACKAGE", "CARGO_TARGET_TMPDIR"].contains(&&*key)
                {
                    build.env_remove(&*key);
                }
            }
            let status = build
                .current_dir(&repo)
                .args([
                    "build",
                    "--quiet",
                    "-p",
                    "kubeseal",
                    "-p",
                    "sealed-secrets-controller",
                    "--bins",
                ])
                .status()
                .map_err(|e| format!("cannot run cargo build: {e}"))?;
            if !status.success() {
                return Err(format!("cargo build of the binaries failed ({status})"));
            }
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| repo.join("target"));
            Ok(target.join("debug"))
        })
        .as_ref()
        .map(PathBuf::as_path)
        .map_err(|e| Error::ControlPlane(e.clone()))
}

/// Installs our CRD (manifests/crd.yaml) once per process and waits until it is served.
pub fn install_crd(cp: &ControlPlane) -> Result<()> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        let crd = cp.repo_dir().join("manifests").join("crd.yaml");
        let kubectl = cp.kubectl();
        kubectl
            .run([
                "apply",
                "--server-side",
                "--force-conflicts",
                "-f",
                &crd.to_string_lossy(),
            ])
            .map_err(|e| e.to_string())?;
        kubectl
            .run([
                "wait",
                "--for=condition=Established",
                "--timeout=60s",
                "crd/sealedsecrets.bitnami.com",
            ])
            .map_err(|e| e.to_string())?;
        Ok(())
    })
    .clone()
    .map_err(Error::ControlPlane)
}

/// A controller process, killed on drop.
pub struct ControllerProcess {
    child: Child,
    pub http_port: u16,
    pub metrics_port: u16,
    log: PathBuf,
    /// Service-account files of [`ControllerProcess::start_in_cluster`], removed on drop.
    _in_cluster: Option<InCluster>,
}

/// How to start a controller for one test.
pub struct ControllerOptions<'a> {
    /// Where its keys live (`POD_NAMESPACE`).
    pub key_namespace: &'a str,
    /// Namespaces it watches (never all, so tests stay apart).
    pub watch: Vec<String>,
    pub extra_args: Vec<String>,
    /// `None`: ours. `Some(path)`: another binary with the same flags (the reference).
    pub binary: Option<PathBuf>,
    pub kubeconfig: Option<PathBuf>,
    /// Extra environment variables (name, value) for the process.
    pub env: Vec<(String, String)>,
}

impl<'a> ControllerOptions<'a> {
    pub fn for_namespace(ns: &'a TestNamespace) -> Self {
        Self {
            key_namespace: ns.name(),
            watch: vec![ns.name().to_string()],
            extra_args: vec!["--key-size=2048".into()],
            binary: None,
            kubeconfig: None,
            env: Vec::new(),
        }
    }
}

/// A port free right now, below the kernel's ephemeral range (32768 and up
/// by default), so that no outgoing connection takes it before the
/// controller binds it: a port the kernel hands out for `bind(0)` is also
/// what it hands out to the next `connect`.
pub(crate) fn free_port() -> Result<u16> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let seed = std::process::id() % 4000 * 3;
    for _ in 0..200 {
        let offset = (seed + NEXT.fetch_add(1, Ordering::Relaxed)) % 12000;
        let port = u16::try_from(20000 + offset).unwrap_or(20000);
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|source| Error::Io {
            context: "finding a free port".into(),
            source,
        })
}

/// Whether a controller that exited early did so because its port was taken
/// between choosing it and binding it.
fn port_was_taken(error: &Error) -> bool {
    matches!(error, Error::ControlPlane(m) if m.contains("controller exited early") && m.contains("Address already in use"))
}

impl ControllerProcess {
    pub fn start(cp: &ControlPlane, options: ControllerOptions<'_>) -> Result<Self> {
        Self::launch(cp, options, None)
    }

    /// Starts a controller the way it runs in a Pod, with in-cluster
    /// credentials: the reference controller only knows
    /// `rest.InClusterConfig()` (no kubeconfig flag or variable), which reads
    /// `KUBERNETES_SERVICE_HOST`/`_PORT` and a service-account token and CA
    /// under `/var/run/secrets/kubernetes.io/serviceaccount/`.
    ///
    /// This creates a ServiceAccount `sealed-secrets-controller` in
    /// `options.key_namespace` with a RoleBinding to `cluster-admin` there
    /// (namespace-scoped, removed with the namespace), issues a token for it,
    /// and runs the binary (default: the reference controller) under
    /// `unshare --mount` with a private tmpfs on `/var/run` holding those
    /// files, so nothing on the host changes.
    ///
    /// The credentials reach only the key namespace, which both controllers
    /// watch anyway with `--all-namespaces=false`; `options.watch` may
    /// therefore only name that namespace (the reference looks up every
    /// `--additional-namespaces` entry, a cluster-scoped read), and it is
    /// passed as an empty `--additional-namespaces=`.
    pub fn start_in_cluster(cp: &ControlPlane, mut options: ControllerOptions<'_>) -> Result<Self> {
        if let Some(other) = options.watch.iter().find(|n| *n != options.key_namespace) {
            return Err(Error::ControlPlane(format!(
                "start_in_cluster: the in-cluster credentials cover only {}, not {other}",
                options.key_namespace
            )));
        }
        options.watch.clear();
        if options.binary.is_none() {
            options.binary = Some(cp.reference_bin_dir().join("controller"));
        }
        let in_cluster = InCluster::prepare(cp, options.key_namespace)?;
        Self::launch(cp, options, Some(in_cluster))
    }

    fn launch(
        cp: &ControlPlane,
        options: ControllerOptions<'_>,
        in_cluster: Option<InCluster>,
    ) -> Result<Self> {
        install_crd(cp)?;
        let binary = match &options.binary {
            Some(b) => b.clone(),
            None => binaries()?.join("sealed-secrets-controller"),
        };
        let mut attempt = 1;
        loop {
            match Self::spawn(cp, &options, &binary, in_cluster.as_ref()) {
                Ok(mut process) => {
                    process._in_cluster = in_cluster;
                    return Ok(process);
                }
                Err(e) if attempt < 3 && port_was_taken(&e) => attempt += 1,
                Err(e) => return Err(e),
            }
        }
    }

    /// One start on fresh ports, waiting for `/healthz`.
    fn spawn(
        cp: &ControlPlane,
        options: &ControllerOptions<'_>,
        binary: &std::path::Path,
        in_cluster: Option<&InCluster>,
    ) -> Result<Self> {
        let http_port = free_port()?;
        let metrics_port = free_port()?;
        let log = std::env::temp_dir().join(format!(
            "controller-{}-{http_port}.log",
            options.key_namespace
        ));
        let log_file = std::fs::File::create(&log).map_err(|source| Error::Io {
            context: format!("creating {}", log.display()),
            source,
        })?;
        let err_file = log_file.try_clone().map_err(|source| Error::Io {
            context: "cloning log file".into(),
            source,
        })?;
        let mut cmd = match in_cluster {
            None => {
                let mut cmd = Command::new(binary);
                cmd.env(
                    "KUBECONFIG",
                    options.kubeconfig.as_deref().unwrap_or(cp.kubeconfig()),
                );
                cmd
            }
            Some(ic) => ic.command(binary),
        };
        cmd.env("POD_NAMESPACE", options.key_namespace)
            .env("NO_COLOR", "1")
            .envs(options.env.iter().map(|(k, v)| (k, v)))
            .arg(format!("--listen-addr=127.0.0.1:{http_port}"))
            .arg(format!("--listen-metrics-addr=127.0.0.1:{metrics_port}"))
            .arg("--all-namespaces=false")
            .arg(format!(
                "--additional-namespaces={}",
                options.watch.join(",")
            ))
            .args(&options.extra_args)
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(err_file);
        let child = cmd.spawn().map_err(|source| Error::Io {
            context: format!("starting {}", binary.display()),
            source,
        })?;
        let mut process = Self {
            child,
            http_port,
            metrics_port,
            log,
            _in_cluster: None,
        };
        process.wait_ready()?;
        Ok(process)
    }

    /// The controller's process id (for /proc/PID/status and the like).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for `/healthz`; a controller that exits fails at once.
    fn wait_ready(&mut self) -> Result<()> {
        let url = format!("http://127.0.0.1:{}/healthz", self.http_port);
        let deadline = std::time::Instant::now() + Duration::from_secs(90);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(Error::ControlPlane(format!(
                    "controller exited early ({status}):\n{}",
                    self.log()
                )));
            }
            if matches!(http_get(&url), Ok((200, _))) {
                return Ok(());
            }
            if std::time::Instant::now() > deadline {
                return Err(Error::ControlPlane(format!(
                    "timed out after 90s waiting for the controller to serve /healthz:\n{}",
                    self.log()
                )));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The controller's log so far (for assertions and failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn get(&self, path: &str) -> Result<(u16, String)> {
        http_get(&format!("http://127.0.0.1:{}{path}", self.http_port))
    }

    pub fn metrics(&self) -> Result<String> {
        http_get(&format!("http://127.0.0.1:{}/metrics", self.metrics_port)).map(|(_, body)| body)
    }

    /// Stops it with SIGTERM (graceful) and waits.
    pub fn stop(mut self) -> Result<std::process::ExitStatus> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        poll(
            "controller to exit",
            Duration::from_secs(30),
            Duration::from_millis(100),
            || {
                self.child.try_wait().map_err(|source| Error::Io {
                    context: "waiting".into(),
                    source,
                })
            },
        )
    }

    /// Whether the process is still running (it never exits by itself).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn signal(&self, signal: &str) {
        let _ = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status();
    }
}

impl Drop for ControllerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Service-account credentials laid out as in a Pod, for a controller that
/// only supports in-cluster configuration.
/// Mounts the service-account files where in-cluster clients look, then
/// `exec`s the program given as its arguments.
pub(crate) const IN_CLUSTER_SCRIPT: &str = r#"run=$(readlink -f /var/run)
mount -t tmpfs -o mode=0755 ssrs-in-cluster "$run"
mkdir -p "$run/secrets/kubernetes.io/serviceaccount"
mount --bind -o ro "$SSRS_SA_DIR" "$run/secrets/kubernetes.io/serviceaccount"
exec "$0" "$@""#;

pub(crate) struct InCluster {
    pub(crate) dir: PathBuf,
    host: String,
    pub(crate) port: String,
}

impl InCluster {
    const ACCOUNT: &'static str = "sealed-secrets-controller";

    pub(crate) fn prepare(cp: &ControlPlane, namespace: &str) -> Result<Self> {
        let kubectl = cp.kubectl().namespace(namespace);
        kubectl.apply(&format!(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {sa}\n---\n\
             apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: {sa}\n\
             roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: cluster-admin\n\
             subjects:\n- kind: ServiceAccount\n  name: {sa}\n  namespace: {namespace}\n",
            sa = Self::ACCOUNT
        ))?;
        let token = kubectl.run(["create", "token", Self::ACCOUNT, "--duration=6h"])?;
        // What a Pod gets: kube-root-ca.crt, published into every namespace
        // by kube-controller-manager shortly after the namespace appears.
        let ca = poll(
            "kube-root-ca.crt ConfigMap",
            Duration::from_secs(60),
            Duration::from_millis(200),
            || {
                Ok(kubectl
                    .get_optional("configmap", "kube-root-ca.crt")?
                    .and_then(|cm| cm["data"]["ca.crt"].as_str().map(str::to_string)))
            },
        )?;
        let server = api_server_url(cp)?;
        let authority = server
            .strip_prefix("https://")
            .map(|rest| rest.trim_end_matches('/'))
            .ok_or_else(|| Error::ControlPlane(format!("unexpected API server URL {server:?}")))?;
        let (host, port) = authority
            .rsplit_once(':')
            .map(|(h, p)| (h.to_string(), p.to_string()))
            .unwrap_or_else(|| (authority.to_string(), "443".into()));
        let dir = std::env::temp_dir().join(unique_name(&format!("serviceaccount-{namespace}")));
        let write = |name: &str, text: &str| {
            std::fs::create_dir_all(&dir)
                .and_then(|_| std::fs::write(dir.join(name), text))
                .map_err(|source| Error::Io {
                    context: format!("writing {}", dir.join(name).display()),
                    source,
                })
        };
        write("token", token.trim())?;
        write("ca.crt", &ca)?;
        write("namespace", namespace)?;
        Ok(Self { dir, host, port })
    }

    /// `binary` in a private mount namespace where
    /// `/var/run/secrets/kubernetes.io/serviceaccount` holds our files. The
    /// shell `exec`s the binary, so the child's pid is the controller's.
    fn command(&self, binary: &Path) -> Command {
        let mut cmd = Command::new("unshare");
        cmd.args([
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-euc",
            IN_CLUSTER_SCRIPT,
        ])
        .arg(binary)
        .env("SSRS_SA_DIR", &self.dir)
        .env("KUBERNETES_SERVICE_HOST", &self.host)
        .env("KUBERNETES_SERVICE_PORT", &self.port)
        .env_remove("KUBECONFIG");
        cmd
    }
}

impl Drop for InCluster {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A tiny blocking HTTP/1.0 GET for loopback servers; returns status and body.
pub fn http_get(url: &str) -> Result<(u16, String)> {
    http_request("GET", url, None)
}

pub fn http_post(url: &str, body: &[u8]) -> Result<(u16, String)> {
    http_request("POST", url, Some(body))
}

fn http_request(method: &str, url: &str, body: Option<&[u8]>) -> Result<(u16, String)> {
    use std::io::{Read, Write};
    let io = |context: &str| {
        let context = context.to_string();
        move |source| Error::Io {
            context: context.clone(),
            source,
        }
    };
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| Error::ControlPlane(format!("not an http URL: {url}")))?;
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap_or((rest, "/".into()));
    let mut stream = std::net::TcpStream::connect(host).map_err(io(url))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(io(url))?;
    let body = body.unwrap_or_default();
    write!(stream, "{method} {path} HTTP/1.0\r\nHost: {host}\r\nContent-Length: {}\r\nContent-Type: application/json\r\n\r\n", body.len()).map_err(io(url))?;
    stream.write_all(body).map_err(io(url))?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).map_err(io(url))?;
    let text = String::from_utf8_lossy(&response).into_owned();
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((code, body))
}

/// Runs our `kubeseal` with `args` and `stdin`, with a clean environment.
pub fn kubeseal(cp: &ControlPlane, args: &[&str], stdin: &str) -> Result<std::process::Output> {
    run_with_stdin(binaries()?.join("kubeseal"), cp, args, stdin)
}

/// The reference controller binary (`$CONTROLLER_REFERENCE`, or the one
/// `scripts/install-tools ref` builds), or `None` (after saying so) when it
/// is absent; `REQUIRE_REFERENCE=1` (set by `make test`) turns absence into
/// a failure.
pub fn reference_controller(cp: &ControlPlane) -> Option<PathBuf> {
    let path = match std::env::var_os("CONTROLLER_REFERENCE") {
        Some(p) => PathBuf::from(p),
        None => cp.reference_bin_dir().join("controller"),
    };
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var("REQUIRE_REFERENCE").as_deref() != Ok("1"),
        "REQUIRE_REFERENCE=1 but the reference controller {} is missing (run scripts/install-tools ref)",
        path.display()
    );
    eprintln!(
        "SKIPPED: reference controller {} not found (run scripts/install-tools ref, or set REQUIRE_REFERENCE=1 to fail)",
        path.display()
    );
    None
}

/// Runs the reference `kubeseal` the same way.
pub fn reference_kubeseal(
    cp: &ControlPlane,
    args: &[&str],
    stdin: &str,
) -> Result<std::process::Output> {
    run_with_stdin(cp.reference_bin_dir().join("kubeseal"), cp, args, stdin)
}

fn run_with_stdin(
    binary: PathBuf,
    cp: &ControlPlane,
    args: &[&str],
    stdin: &str,
) -> Result<std::process::Output> {
    use std::io::Write;
    let mut child = Command::new(&binary)
        .args(args)
        .env("KUBECONFIG", cp.kubeconfig())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| Error::Io {
            context: format!("starting {}", binary.display()),
            source,
        })?;
    if let Some(mut input) = child.stdin.take() {
        input
            .write_all(stdin.as_bytes())
            .map_err(|source| Error::Io {
                context: "writing stdin".into(),
                source,
            })?;
    }
    child.wait_with_output().map_err(|source| Error::Io {
        context: format!("running {}", binary.display()),
        source,
    })
}

pub use crate::in_node::ControllerInNode;

/// `data[key]` of Secret `name` in `ns`, decoded; `None` while it is absent.
pub fn secret_value(ns: &TestNamespace, name: &str, key: &str) -> Option<String> {
    use base64::Engine as _;
    let secret = ns.kubectl().get_optional("secret", name).ok()??;
    let encoded = secret["data"][key].as_str()?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// The API server's URL, as the control plane's kubeconfig names it.
fn api_server_url(cp: &ControlPlane) -> Result<String> {
    let server = cp.kubectl().run([
        "config",
        "view",
        "--minify",
        "-o",
        "jsonpath={.clusters[0].cluster.server}",
    ])?;
    Ok(server.trim().to_string())
}

/// A ServiceAccount `account` of `ns`, bound to a Role of `rules` (YAML
/// flow items, one per line, e.g. `{apiGroups: [""], resources: [secrets],
/// verbs: [get]}`), and a kubeconfig at `path` holding only its token (an
/// hour long).
pub fn service_account_kubeconfig(
    cp: &ControlPlane,
    ns: &TestNamespace,
    account: &str,
    rules: &[&str],
    path: &Path,
) -> Result<()> {
    let rules: String = rules.iter().map(|r| format!("- {r}\n")).collect();
    let manifest = format!(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: {account}}}\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: {account}}}\nrules:\n{rules}---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: {account}}}\n\
         roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: {account}}}\n\
         subjects: [{{kind: ServiceAccount, name: {account}, namespace: {n}}}]\n",
        n = ns.name()
    );
    ns.kubectl().apply(&manifest)?;
    let token = ns
        .kubectl()
        .run(["create", "token", account, "--duration=1h"])?;
    token_kubeconfig(cp, path, account, &token)?;
    Ok(())
}

/// Writes a kubeconfig at `path` that authenticates only with `token`, as a
/// user with nothing but that token would have; returns the path.
pub fn token_kubeconfig(cp: &ControlPlane, path: &Path, user: &str, token: &str) -> Result<String> {
    let server = api_server_url(cp)?;
    let config = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "local", "cluster": {"server": server, "insecure-skip-tls-verify": true}}],
        "users": [{"name": user, "user": {"token": token.trim()}}],
        "contexts": [{"name": user, "context": {"cluster": "local", "user": user}}],
        "current-context": user,
    });
    let text = serde_json::to_vec_pretty(&config)
        .map_err(|e| Error::ControlPlane(format!("kubeconfig: {e}")))?;
    std::fs::write(path, text).map_err(|source| Error::Io {
        context: format!("writing {}", path.display()),
        source,
    })?;
    Ok(path.to_string_lossy().into_owned())
}

/// Waits until `data[key]` of Secret `name` decodes to `expected`.
pub fn wait_secret_value(ns: &TestNamespace, name: &str, key: &str, expected: &str) -> Result<()> {
    poll(
        &format!("secret {name}.{key} == {expected:?}"),
        Duration::from_secs(60),
        Duration::from_millis(250),
        || {
            Ok(secret_value(ns, name, key)
                .filter(|v| v == expected)
                .map(|_| ()))
        },
    )
}

/// Stdout of a command that must have succeeded (stderr and stdout in the
/// failure message otherwise).
pub fn succeeded(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "expected success; stderr: {}\nstdout: {}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout.clone()).expect("utf-8 output")
}

/// A PEM text trimmed and with LF line endings, to compare certificates
/// however they were written out.
pub fn lf(pem: &str) -> String {
    pem.replace("\r\n", "\n").trim().to_string()
}

/// The label of the controller's key Secrets.
pub const KEY_SELECTOR: &str = "sealedsecrets.bitnami.com/sealed-secrets-key=active";

/// The names of the key Secrets in `ns`.
pub fn key_secret_names(ns: &TestNamespace) -> Vec<String> {
    names_labelled(&ns.kubectl(), KEY_SELECTOR)
}

/// Every key Secret, whatever the label's value (the reference's too).
pub const ANY_KEY_SELECTOR: &str = "sealedsecrets.bitnami.com/sealed-secrets-key";

/// The sorted names of the Secrets `kubectl` sees with `selector`.
pub fn names_labelled(kubectl: &crate::Kubectl, selector: &str) -> Vec<String> {
    let list = kubectl
        .get_json(["get", "secrets", "-l", selector])
        .expect("list labelled secrets");
    let mut names: Vec<String> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["metadata"]["name"].as_str().map(str::to_string))
        .collect();
    names.sort();
    names
}

/// A SealedSecret's Synced condition (status and message) and the whole object.
pub fn synced(ns: &TestNamespace, name: &str) -> Option<(String, String, serde_json::Value)> {
    let ss = ns.kubectl().get_optional("sealedsecret", name).ok()??;
    let cond = ss["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Synced")?
        .clone();
    Some((
        cond["status"].as_str()?.to_string(),
        cond["message"].as_str().unwrap_or_default().to_string(),
        ss,
    ))
}

/// Waits until `name` is Synced=True at its current generation (as `who`
/// unsealed it; its log is shown on failure) and returns the SealedSecret.
pub fn wait_synced_true(
    ns: &TestNamespace,
    name: &str,
    who: &ControllerProcess,
) -> serde_json::Value {
    poll(
        &format!("{name} Synced=True"),
        Duration::from_secs(60),
        Duration::from_millis(250),
        || {
            let Some(ss) = ns.kubectl().get_optional("sealedsecret", name)? else {
                return Ok(None);
            };
            let synced = ss["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| c["type"] == "Synced" && c["status"] == "True");
            let current = ss["status"]["observedGeneration"] == ss["metadata"]["generation"];
            Ok((synced && current).then_some(ss))
        },
    )
    .unwrap_or_else(|e| panic!("{e}\ncontroller log:\n{}", who.log()))
}

/// `name` with `k: value`, sealed offline with the certificate at `cert`.
pub fn seal_value(
    cp: &ControlPlane,
    cert: &Path,
    ns: &TestNamespace,
    name: &str,
    value: &str,
) -> String {
    let secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: {name}, namespace: {}}}\nstringData: {{k: {value}}}\n",
        ns.name()
    );
    succeeded(
        &kubeseal(
            cp,
            &["--cert", &cert.to_string_lossy(), "-o", "yaml"],
            &secret,
        )
        .expect("kubeseal"),
    )
}

/// Whether SealedSecret `name` is Synced=True at its current generation and
/// its Secret, made by the controller (owned by the SealedSecret), holds
/// `k: value`; `Err` says what is wrong.
pub fn applied(ns: &TestNamespace, name: &str, value: &str) -> std::result::Result<(), String> {
    let (status, message, ss) = synced(ns, name).ok_or("no Synced condition")?;
    let current = ss["status"]["observedGeneration"] == ss["metadata"]["generation"];
    let secret = ns
        .kubectl()
        .get_optional("secret", name)
        .map_err(|e| e.to_string())?;
    let owned = secret.as_ref().is_some_and(|s| {
        s["metadata"]["ownerReferences"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|o| o["kind"] == "SealedSecret" && o["name"] == name)
    });
    let held = secret_value(ns, name, "k");
    if status == "True" && current && owned && held.as_deref() == Some(value) {
        return Ok(());
    }
    Err(format!(
        "Synced={status} ({message:?}) at generation {} (observed {}); Secret {}, k = {held:?}, want {value:?}",
        ss["metadata"]["generation"],
        ss["status"]["observedGeneration"],
        match (&secret, owned) {
            (None, _) => "absent",
            (Some(_), true) => "owned by the SealedSecret",
            (Some(_), false) => "not owned by the SealedSecret",
        }
    ))
}

/// Polls until every `(name, value)` is [`applied`] or `within` passes; the
/// error lists what is still wrong, one line each.
pub fn wait_applied(
    ns: &TestNamespace,
    expected: &[(&str, &str)],
    within: Duration,
) -> std::result::Result<(), String> {
    let report = || {
        expected
            .iter()
            .map(|(name, value)| (*name, applied(ns, name, value)))
            .collect::<Vec<_>>()
    };
    let done = poll(
        "the changes to be applied",
        within,
        Duration::from_millis(250),
        || Ok(report().iter().all(|(_, r)| r.is_ok()).then_some(())),
    );
    done.map_err(|e| {
        let wrong: Vec<String> = report()
            .into_iter()
            .filter_map(|(name, r)| r.err().map(|why| format!("  {name}: {why}")))
            .collect();
        format!("{e}; still wrong:\n{}", wrong.join("\n"))
    })
}
