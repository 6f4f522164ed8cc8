//! The one way tests run a controller, ours or the reference's: a process
//! per test, scoped to the test's own namespaces so concurrent tests never
//! share a controller. [`ControllerOptions`] says what to run (ours, or the
//! reference's binary), where (on the host, or inside the node's network
//! namespace behind a Service: [`ControllerOptions::in_node`]) and with which
//! credentials (the admin's, a kubeconfig, or a Pod's:
//! [`ControllerOptions::in_cluster`]); every form gives the same
//! [`Controller`] handle.
//!
//! ```no_run
//! use sealed_secrets_e2e::controller::ControllerOptions;
//! use sealed_secrets_e2e::{ControlPlane, TestNamespace};
//!
//! let cp = ControlPlane::shared().expect("control plane");
//! let ns = TestNamespace::create(cp, "example").expect("namespace");
//! let controller = ControllerOptions::for_namespace(&ns)
//!     .arg("--web-ui")
//!     .in_node()
//!     .start(cp)
//!     .expect("controller");
//! let (code, _pem) = controller.get("/v1/cert.pem").expect("GET /v1/cert.pem");
//! assert_eq!(code, 200);
//! ```
//!
//! The controller as a Pod of the manifests (a Deployment the kubelet runs,
//! watching every namespace) is another thing: [`crate::pod::ControllerPod`].

mod in_cluster;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::binaries::binaries;
use crate::control_plane::{poll, ControlPlane, Error, Result};
use crate::crd::install_crd;
use crate::http;
use crate::namespace::TestNamespace;
use crate::ports::{free_port, next_node_port_pair};
use in_cluster::InCluster;

/// Where the controller process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Runs {
    /// On the host, serving on 127.0.0.1.
    OnHost,
    /// Inside the node's network namespace, behind a Service
    /// ([`ControllerOptions::in_node`]).
    InNode,
}

/// How the controller authenticates to the API server.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Credentials {
    /// The control plane's admin: its kubeconfig on the host, the node's
    /// kubeconfig in the node.
    Admin,
    /// This kubeconfig (on the host only: it names the API server as the
    /// host reaches it).
    Kubeconfig(PathBuf),
    /// A Pod's ([`ControllerOptions::in_cluster`]).
    InCluster,
}

/// How to start a controller for one test; [`ControllerOptions::start`]
/// starts it.
#[derive(Debug, Clone)]
pub struct ControllerOptions {
    /// Where its keys live (`POD_NAMESPACE`).
    key_namespace: String,
    /// Namespaces it watches (never all, so tests stay apart).
    watch: Vec<String>,
    args: Vec<String>,
    env: Vec<(String, String)>,
    /// `None`: ours.
    binary: Option<PathBuf>,
    credentials: Credentials,
    runs: Runs,
}

impl ControllerOptions {
    /// Our controller on the host with the admin's credentials, its keys in
    /// `ns` (2048-bit, quick to make), watching `ns` only.
    pub fn for_namespace(ns: &TestNamespace) -> Self {
        Self {
            key_namespace: ns.name().to_string(),
            watch: vec![ns.name().to_string()],
            args: vec!["--key-size=2048".into()],
            env: Vec::new(),
            binary: None,
            credentials: Credentials::Admin,
            runs: Runs::OnHost,
        }
    }

    /// Watches `namespaces` instead of the key namespace.
    pub fn watch(mut self, namespaces: &[&str]) -> Self {
        self.watch = namespaces.iter().map(|n| n.to_string()).collect();
        self
    }

    /// One more flag.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// More flags.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// An environment variable for the process.
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Runs `binary`, which takes our flags, instead of ours: the
    /// reference's ([`crate::binaries::reference_controller`]).
    pub fn binary(mut self, binary: PathBuf) -> Self {
        self.binary = Some(binary);
        self
    }

    /// Authenticates with `kubeconfig` instead of as the admin.
    pub fn kubeconfig(mut self, kubeconfig: PathBuf) -> Self {
        self.credentials = Credentials::Kubeconfig(kubeconfig);
        self
    }

    /// Authenticates as a Pod would, the only way the reference can: a
    /// ServiceAccount `sealed-secrets-controller` of the key namespace,
    /// bound to `cluster-admin` in that namespace and the watched ones only
    /// (no cluster-wide rights), its token and CA where a Pod has them.
    pub fn in_cluster(mut self) -> Self {
        self.credentials = Credentials::InCluster;
        self
    }

    /// Runs inside the node's network namespace, reachable as the Service
    /// `sealed-secrets-controller` (port 8080, named `http`) of the key
    /// namespace, as a Pod would be: `kubeseal --controller-namespace`
    /// finds it through the API server's service proxy.
    pub fn in_node(mut self) -> Self {
        self.runs = Runs::InNode;
        self
    }

    /// Starts the controller (after installing our CRD) and waits until it
    /// serves `/healthz`, on the host directly, in the node through the
    /// Service; a controller that exits first fails at once, with its log.
    pub fn start(self, cp: &ControlPlane) -> Result<Controller> {
        self.check()?;
        install_crd(cp)?;
        let binary = match &self.binary {
            Some(b) => b.clone(),
            None => binaries()?.join("sealed-secrets-controller"),
        };
        let mut in_cluster = match self.credentials {
            Credentials::InCluster => {
                Some(InCluster::prepare(cp, &self.key_namespace, &self.watch)?)
            }
            _ => None,
        };
        // A port taken between choosing it and binding it makes the
        // controller exit: choose again. On the host that shows in its log;
        // in the node, whose ports every test process shares unseen, any
        // failure to come up counts.
        let attempts = match self.runs {
            Runs::OnHost => 3,
            Runs::InNode => 5,
        };
        let mut attempt = 1;
        loop {
            match self.spawn(cp, &binary, in_cluster.as_ref()) {
                Ok(mut controller) => {
                    controller._in_cluster = in_cluster.take();
                    return Ok(controller);
                }
                Err(e) if attempt < attempts && self.may_retry(&e) => attempt += 1,
                Err(e) => return Err(e),
            }
        }
    }

    fn check(&self) -> Result<()> {
        let refuse = |why: String| Err(Error::ControlPlane(format!("controller options: {why}")));
        if self.runs == Runs::InNode && matches!(self.credentials, Credentials::Kubeconfig(_)) {
            return refuse("a kubeconfig of the host does not work inside the node".into());
        }
        Ok(())
    }

    fn may_retry(&self, error: &Error) -> bool {
        match self.runs {
            Runs::OnHost => matches!(error, Error::ControlPlane(m)
                if m.contains("controller exited early") && m.contains("Address already in use")),
            Runs::InNode => true,
        }
    }

    /// One start on fresh ports, waiting until it is ready.
    fn spawn(
        &self,
        cp: &ControlPlane,
        binary: &std::path::Path,
        in_cluster: Option<&InCluster>,
    ) -> Result<Controller> {
        let (listen_host, address, http_port, metrics_port) = match self.runs {
            Runs::OnHost => ("127.0.0.1", "127.0.0.1", free_port()?, free_port()?),
            Runs::InNode => {
                let port = next_node_port_pair();
                // The API server's service proxy reaches the node's address,
                // and so does this process.
                ("0.0.0.0", cp.node_ip(), port, port + 1)
            }
        };
        let log =
            std::env::temp_dir().join(format!("controller-{}-{http_port}.log", self.key_namespace));
        let log_file = std::fs::File::create(&log).map_err(|source| Error::Io {
            context: format!("creating {}", log.display()),
            source,
        })?;
        let err_file = log_file.try_clone().map_err(|source| Error::Io {
            context: "cloning log file".into(),
            source,
        })?;
        let mut program: Vec<OsString> = vec![binary.into()];
        program.extend(
            [
                format!("--listen-addr={listen_host}:{http_port}"),
                format!("--listen-metrics-addr={address}:{metrics_port}"),
                "--all-namespaces=false".into(),
                format!("--additional-namespaces={}", self.watch.join(",")),
            ]
            .into_iter()
            .chain(self.args.iter().cloned())
            .map(OsString::from),
        );
        if let Some(ic) = in_cluster {
            program = ic.wrap(program);
        }
        let mut cmd = match self.runs {
            Runs::OnHost => {
                let mut cmd = Command::new(&program[0]);
                cmd.args(&program[1..]);
                match &self.credentials {
                    Credentials::Admin => cmd.env("KUBECONFIG", cp.kubeconfig()),
                    Credentials::Kubeconfig(path) => cmd.env("KUBECONFIG", path),
                    Credentials::InCluster => cmd.env_remove("KUBECONFIG"),
                };
                cmd
            }
            Runs::InNode => {
                // node-exec sets KUBECONFIG to the node's admin kubeconfig.
                let mut argv: Vec<OsString> = Vec::new();
                if in_cluster.is_some() {
                    argv.extend(["-u".into(), "KUBECONFIG".into()]);
                }
                argv.extend(program);
                cp.node_command("env", argv)
            }
        };
        if let Some(ic) = in_cluster {
            // From the node, the API server is at the host end of the veth.
            let api_host = (self.runs == Runs::InNode).then(|| cp.host_ip());
            ic.set_env(&mut cmd, api_host);
        }
        cmd.env("POD_NAMESPACE", &self.key_namespace)
            .env("NO_COLOR", "1")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(err_file);
        let child = cmd.spawn().map_err(|source| Error::Io {
            context: format!("starting {}", binary.display()),
            source,
        })?;
        let mut controller = Controller {
            child,
            address: address.to_string(),
            http_port,
            metrics_port,
            log,
            _in_cluster: None,
        };
        match self.runs {
            Runs::OnHost => controller.wait_ready()?,
            Runs::InNode => controller.wait_ready_behind_service(cp, &self.key_namespace)?,
        }
        Ok(controller)
    }
}

/// A running controller, killed on drop.
pub struct Controller {
    child: Child,
    /// The address its HTTP servers are reached at from this process.
    address: String,
    http_port: u16,
    metrics_port: u16,
    log: PathBuf,
    /// Service-account files of [`Credentials::InCluster`], removed on drop.
    _in_cluster: Option<InCluster>,
}

impl Controller {
    /// `HOST:PORT` of its HTTP API (for a raw `TcpStream`).
    pub fn http_address(&self) -> String {
        format!("{}:{}", self.address, self.http_port)
    }

    /// The URL of `path` on its HTTP API, for [`crate::http`].
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.http_address())
    }

    /// GET `path` of its HTTP API: status and body.
    pub fn get(&self, path: &str) -> Result<(u16, String)> {
        http::get(&self.url(path))
    }

    /// Its metrics page.
    pub fn metrics(&self) -> Result<String> {
        http::get(&format!(
            "http://{}:{}/metrics",
            self.address, self.metrics_port
        ))
        .map(|(_, body)| body)
    }

    /// The controller's log so far (for assertions and failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The controller's process id (for /proc/PID/status and the like).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running (it never exits by itself).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// `kill -SIGNAL` (TERM, KILL, STOP, CONT, USR1...).
    pub fn signal(&self, signal: &str) {
        let _ = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status();
    }

    /// Stops it with SIGTERM (graceful) and waits.
    pub fn stop(mut self) -> Result<ExitStatus> {
        self.signal("TERM");
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

    fn exited_early(&mut self) -> Option<Error> {
        let status = self.child.try_wait().ok()??;
        Some(Error::ControlPlane(format!(
            "controller exited early ({status}):\n{}",
            self.log()
        )))
    }

    /// Waits for `/healthz`; a controller that exits fails at once.
    fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if let Some(exited) = self.exited_early() {
                return Err(exited);
            }
            if matches!(self.get("/healthz"), Ok((200, _))) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(Error::ControlPlane(format!(
                    "timed out after 90s waiting for the controller to serve /healthz:\n{}",
                    self.log()
                )));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Exposes it as the Service `sealed-secrets-controller` of `namespace`
    /// and waits until `/healthz` answers through the API server's service
    /// proxy, then a moment more: a port another process held shows as a
    /// controller that exits just after.
    fn wait_ready_behind_service(&mut self, cp: &ControlPlane, namespace: &str) -> Result<()> {
        cp.expose_named(
            namespace,
            "sealed-secrets-controller",
            8080,
            self.http_port,
            "http",
        )?;
        let kubectl = cp.kubectl().namespace(namespace);
        let path = format!(
            "/api/v1/namespaces/{namespace}/services/http:sealed-secrets-controller:http/proxy/healthz"
        );
        let answered = poll(
            "controller to answer through the service proxy",
            Duration::from_secs(90),
            Duration::from_millis(300),
            || {
                if !self.is_running() {
                    return Ok(Some(()));
                }
                Ok(kubectl.get_raw(&path).ok().map(|_| ()))
            },
        );
        std::thread::sleep(Duration::from_millis(300));
        match (answered, self.exited_early()) {
            (_, Some(exited)) => Err(exited),
            (Ok(()), None) => Ok(()),
            (Err(e), None) => Err(Error::ControlPlane(format!("{e}\n{}", self.log()))),
        }
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A log without its long lines (the reference logs whole bodies), for
/// failure messages.
pub fn without_long_lines(log: &str) -> String {
    log.lines()
        .map(|l| l.chars().take(300).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}
