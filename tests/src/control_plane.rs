//! Bringing up and talking to the local control plane of `scripts/control-plane`.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

/// Environment variables that must not reach kubectl or processes in the
/// node: every request of the tests goes to this machine's own addresses.
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

/// Default `--request-timeout` given to every kubectl call, so that a wedged
/// API server fails a test instead of hanging it.
const KUBECTL_REQUEST_TIMEOUT: &str = "60s";

/// A text file's contents; the error names the file.
pub fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| Error::Io {
        context: format!("reading {}", path.display()),
        source,
    })
}

/// Errors of the support library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A program could not be started at all.
    #[error("cannot run {program}: {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    /// A program ran and failed.
    #[error("`{command}` failed ({status}){}", output_excerpt(.stdout, .stderr))]
    Failed {
        command: String,
        status: ExitStatus,
        stdout: String,
        stderr: String,
    },
    /// The control plane could not be brought up or described.
    #[error("control plane: {0}")]
    ControlPlane(String),
    /// Output that was expected in some form was not.
    #[error("unexpected output of `{command}`: {message}")]
    Parse { command: String, message: String },
    /// A condition was not met in time.
    #[error("timed out after {after:?} waiting for {what}{}", last_error.as_ref().map(|e| format!("; last error: {e}")).unwrap_or_default())]
    Timeout {
        what: String,
        after: Duration,
        last_error: Option<String>,
    },
    /// The browser or chromedriver failed ([`crate::browser`]).
    #[error("browser: {0}")]
    Browser(String),
    /// Some other I/O failure.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

fn output_excerpt(stdout: &str, stderr: &str) -> String {
    let mut s = String::new();
    if !stderr.trim().is_empty() {
        s.push_str("\n--- stderr ---\n");
        s.push_str(tail(stderr, 4000));
    }
    if !stdout.trim().is_empty() {
        s.push_str("\n--- stdout ---\n");
        s.push_str(tail(stdout, 2000));
    }
    s
}

fn tail(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut start = s.len() - max;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

fn describe(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

/// Run `cmd` to completion, feeding it `stdin`, and return its stdout, or a
/// rich error with stdout and stderr when it fails.
pub(crate) fn run_command(mut cmd: Command, stdin: Option<&[u8]>) -> Result<String> {
    let command = describe(&cmd);
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|source| Error::Spawn {
        program: command.clone(),
        source,
    })?;
    let writer = match (stdin, child.stdin.take()) {
        (Some(data), Some(mut pipe)) => {
            let data = data.to_vec();
            Some(thread::spawn(move || pipe.write_all(&data)))
        }
        _ => None,
    };
    let output: Output = child.wait_with_output().map_err(|source| Error::Io {
        context: format!("waiting for `{command}`"),
        source,
    })?;
    if let Some(writer) = writer {
        // A failed write shows up as a failed command below; only a
        // panicking writer thread is unexpected.
        let _ = writer.join();
    }
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if output.status.success() {
        Ok(stdout)
    } else {
        Err(Error::Failed {
            command,
            status: output.status,
            stdout,
            stderr,
        })
    }
}

/// Poll `f` every `interval` until it returns `Ok(Some(_))` or `timeout`
/// passes. `Ok(None)` and `Err(_)` mean "not yet"; the last error is
/// reported on timeout.
pub fn poll<T>(
    what: &str,
    timeout: Duration,
    interval: Duration,
    mut f: impl FnMut() -> Result<Option<T>>,
) -> Result<T> {
    let start = Instant::now();
    let mut last_error = None;
    loop {
        match f() {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(e) => last_error = Some(e.to_string()),
        }
        if start.elapsed() >= timeout {
            return Err(Error::Timeout {
                what: what.to_string(),
                after: timeout,
                last_error,
            });
        }
        thread::sleep(interval);
    }
}

/// A running local control plane (see `scripts/control-plane`).
#[derive(Debug, Clone)]
pub struct ControlPlane {
    repo_dir: PathBuf,
    script: PathBuf,
    kubeconfig: PathBuf,
    bin_dir: PathBuf,
    ref_dir: PathBuf,
    node_ip: String,
    host_ip: String,
    netns: String,
}

static SHARED: OnceLock<Result<ControlPlane, String>> = OnceLock::new();

impl ControlPlane {
    /// The control plane shared by every test of this run, brought up on
    /// first use with `scripts/control-plane up` (which builds the pinned
    /// binaries if they are missing and reuses a control plane that already
    /// runs). Concurrent callers in one process wait for the first; the
    /// script itself serialises callers from several processes with a file
    /// lock. The control plane is left running for later runs; stop it with
    /// `scripts/control-plane down`.
    ///
    /// `CONTROL_PLANE_DIR` and the other `CONTROL_PLANE_*` variables of the
    /// script are honoured.
    pub fn shared() -> Result<&'static ControlPlane> {
        SHARED
            .get_or_init(|| Self::up().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| Error::ControlPlane(e.clone()))
    }

    /// Run `scripts/control-plane up` and describe the result. Prefer
    /// [`ControlPlane::shared`] in tests.
    pub fn up() -> Result<ControlPlane> {
        let repo_dir = repo_dir();
        let script = repo_dir.join("scripts").join("control-plane");
        // stderr is passed through: on a fresh machine `up` first builds the
        // binaries (many minutes) and its progress should be visible.
        let mut up = script_command(&script, ["up"]);
        up.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let command = describe(&up);
        let output = up.output().map_err(|source| Error::Spawn {
            program: command.clone(),
            source,
        })?;
        let out = String::from_utf8_lossy(&output.stdout).into_owned();
        if !output.status.success() {
            return Err(Error::Failed {
                command,
                status: output.status,
                stdout: out,
                stderr: "(passed through to this process's stderr above)".into(),
            });
        }
        let kubeconfig = out
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(|l| PathBuf::from(l.trim()))
            .ok_or_else(|| Error::Parse {
                command: format!("{} up", script.display()),
                message: "no kubeconfig path printed".into(),
            })?;
        let env = Self::read_env(&script)?;
        let install_tools = repo_dir.join("scripts").join("install-tools");
        let ref_dir = PathBuf::from(
            run_command(script_command(&install_tools, ["--print-ref-dir"]), None)?.trim(),
        );
        let get = |key: &str| {
            env.get(key).cloned().ok_or_else(|| Error::Parse {
                command: format!("{} env", script.display()),
                message: format!("no {key}"),
            })
        };
        let cp = ControlPlane {
            kubeconfig,
            bin_dir: PathBuf::from(get("CONTROL_PLANE_BIN_DIR")?),
            ref_dir,
            node_ip: get("CONTROL_PLANE_NODE_IP")?,
            host_ip: get("CONTROL_PLANE_HOST_IP")?,
            netns: get("CONTROL_PLANE_NETNS")?,
            repo_dir,
            script,
        };
        if !cp.kubeconfig.is_file() {
            return Err(Error::ControlPlane(format!(
                "kubeconfig {} printed by `up` does not exist",
                cp.kubeconfig.display()
            )));
        }
        Ok(cp)
    }

    fn read_env(script: &Path) -> Result<HashMap<String, String>> {
        let out = run_command(script_command(script, ["env"]), None)?;
        Ok(out
            .lines()
            .filter_map(|l| l.strip_prefix("export "))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect())
    }

    /// Root of the repository.
    pub fn repo_dir(&self) -> &Path {
        &self.repo_dir
    }

    /// Admin kubeconfig (user in `system:masters`, server on 127.0.0.1).
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// Directory of the pinned binaries (etcd, kube-apiserver, kubectl, ...).
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// Directory of the reference sealed-secrets binaries (`kubeseal`,
    /// `controller`). They are built by `scripts/install-tools` (or
    /// `scripts/install-tools ref`), not by `up`, into their own cache
    /// directory (`scripts/install-tools --print-ref-dir`); check they exist.
    pub fn reference_bin_dir(&self) -> PathBuf {
        self.ref_dir.clone()
    }

    /// Address of the node, i.e. of the node end of the veth pair. Servers
    /// meant to be reached through the API server listen here.
    pub fn node_ip(&self) -> &str {
        &self.node_ip
    }

    /// Host end of the veth pair: where the node reaches the API server.
    pub fn host_ip(&self) -> &str {
        &self.host_ip
    }

    /// Name of the node's network namespace.
    pub fn netns(&self) -> &str {
        &self.netns
    }

    /// The pid of a control-plane process (`etcd`, `kube-apiserver`, ...)
    /// from the script's pid file.
    pub fn component_pid(&self, component: &str) -> Result<u32> {
        let state = self.kubeconfig.parent().unwrap_or(Path::new("."));
        let file = state.join(format!("{component}.pid"));
        read_text(&file)?
            .trim()
            .parse()
            .map_err(|_| Error::ControlPlane(format!("{} holds no pid", file.display())))
    }

    /// `kill -SIGNAL` a control-plane process (STOP, CONT, KILL, ...).
    pub fn signal_component(&self, component: &str, signal: &str) -> Result<()> {
        let pid = self.component_pid(component)?;
        let mut cmd = Command::new("kill");
        cmd.args([format!("-{signal}"), pid.to_string()]);
        run_command(cmd, None).map(|_| ())
    }

    /// SIGKILLs a control-plane process and waits until it is gone (its
    /// ports free), so it can be started again at once.
    pub fn kill_component(&self, component: &str) -> Result<()> {
        let pid = self.component_pid(component)?;
        self.signal_component(component, "KILL")?;
        // SIGCONT too: a stopped process dies only once it runs again.
        let _ = self.signal_component(component, "CONT");
        poll(
            &format!("{component} (pid {pid}) to die"),
            Duration::from_secs(30),
            Duration::from_millis(100),
            || {
                let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
                // Gone, or a zombie (its sockets are closed).
                let state = stat.rsplit(") ").next().and_then(|r| r.chars().next());
                Ok((stat.is_empty() || state == Some('Z')).then_some(()))
            },
        )
    }

    /// `scripts/control-plane up` again: starts what is not running (after a
    /// test killed a component) and waits until the API is ready. Retried
    /// for a while: a killed server's port can take a moment to be free.
    pub fn restart_stopped(&self) -> Result<()> {
        let mut last = None;
        for _attempt in 0..10 {
            let mut cmd = Command::new(&self.script);
            cmd.arg("up");
            match run_command(cmd, None) {
                Ok(_) => return Ok(()),
                Err(e) => last = Some(e),
            }
            thread::sleep(Duration::from_secs(2));
        }
        Err(last.unwrap_or_else(|| Error::ControlPlane("control-plane up failed".into())))
    }

    /// kubectl (the pinned one) with the admin kubeconfig.
    pub fn kubectl(&self) -> Kubectl {
        Kubectl {
            program: self.bin_dir.join("kubectl"),
            kubeconfig: self.kubeconfig.clone(),
            namespace: None,
        }
    }

    /// A command that runs `program args` inside the node network namespace
    /// (`scripts/control-plane node-exec`), with `KUBECONFIG` set to a
    /// kubeconfig that works there and the pinned binaries first on `PATH`.
    pub fn node_command<I, S>(&self, program: impl AsRef<OsStr>, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut all: Vec<OsString> = vec!["node-exec".into(), program.as_ref().to_os_string()];
        all.extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        script_command(&self.script, all)
    }

    /// Run a command inside the node to completion; returns its stdout.
    pub fn run_in_node<I, S>(&self, program: impl AsRef<OsStr>, args: I) -> Result<String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        run_command(self.node_command(program, args), None)
    }

    /// Start a long-running command inside the node; it is killed when the
    /// returned handle is dropped. Its stdout is piped (see
    /// [`NodeProcess::child`]), its stderr discarded unless `stderr` is given.
    pub fn spawn_in_node<I, S>(
        &self,
        program: impl AsRef<OsStr>,
        args: I,
        stderr: Option<Stdio>,
    ) -> Result<NodeProcess>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.node_command(program, args);
        let command = describe(&cmd);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr.unwrap_or_else(Stdio::null));
        let child = cmd.spawn().map_err(|source| Error::Spawn {
            program: command.clone(),
            source,
        })?;
        Ok(NodeProcess { child, command })
    }

    /// Make a server listening inside the node on `target_port` reachable as
    /// Service `namespace/service` port `port` (unnamed), through
    /// `scripts/control-plane expose`: a selector-less Service whose
    /// Endpoints and EndpointSlice point at the node's address via a
    /// placeholder Pod `<service>-node` (the API server's service proxy only
    /// forwards to Pod addresses). Returns the API path of the service
    /// proxy, `/api/v1/namespaces/NS/services/http:SVC:PORT/proxy/`.
    pub fn expose(
        &self,
        namespace: &str,
        service: &str,
        port: u16,
        target_port: u16,
    ) -> Result<String> {
        self.expose_named(namespace, service, port, target_port, "")
    }

    /// Like [`ControlPlane::expose`], with the Service port named `port_name`
    /// (clients such as kubeseal may look the port up by name).
    pub fn expose_named(
        &self,
        namespace: &str,
        service: &str,
        port: u16,
        target_port: u16,
        port_name: &str,
    ) -> Result<String> {
        let out = run_command(
            script_command(
                &self.script,
                [
                    "expose".to_string(),
                    namespace.to_string(),
                    service.to_string(),
                    port.to_string(),
                    target_port.to_string(),
                    port_name.to_string(),
                ],
            ),
            None,
        )?;
        out.lines()
            .rev()
            .find(|l| l.starts_with("/api/"))
            .map(str::to_string)
            .ok_or_else(|| Error::Parse {
                command: format!("{} expose", self.script.display()),
                message: "no proxy path printed".into(),
            })
    }
}

fn repo_dir() -> PathBuf {
    // tests/ is a direct child of the repository root.
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| manifest.to_path_buf())
}

fn script_command<I, S>(script: &Path, args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(script);
    cmd.args(args);
    for v in PROXY_VARS {
        cmd.env_remove(v);
    }
    cmd
}

/// The pinned kubectl with a kubeconfig and optionally a namespace.
#[derive(Debug, Clone)]
pub struct Kubectl {
    program: PathBuf,
    kubeconfig: PathBuf,
    namespace: Option<String>,
}

impl Kubectl {
    /// The same kubectl, scoped to `namespace` (`--namespace`).
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// A `Command` for kubectl with the kubeconfig, namespace and request
    /// timeout already set, for callers that need more control.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.env("KUBECONFIG", &self.kubeconfig)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg(format!("--request-timeout={KUBECTL_REQUEST_TIMEOUT}"));
        if let Some(ns) = &self.namespace {
            cmd.arg("--namespace").arg(ns);
        }
        for v in PROXY_VARS {
            cmd.env_remove(v);
        }
        cmd
    }

    /// Run kubectl with `args`; returns stdout, or an error carrying stderr.
    pub fn run<I, S>(&self, args: I) -> Result<String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.command();
        cmd.args(args);
        run_command(cmd, None)
    }

    /// Run kubectl with `args` and `stdin` as its standard input.
    pub fn run_with_stdin<I, S>(&self, args: I, stdin: &str) -> Result<String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.command();
        cmd.args(args);
        run_command(cmd, Some(stdin.as_bytes()))
    }

    /// `kubectl apply -f -` with `manifest` (YAML or JSON).
    pub fn apply(&self, manifest: &str) -> Result<String> {
        self.run_with_stdin(["apply", "-f", "-"], manifest)
    }

    /// `kubectl create -f -` with `manifest` (YAML or JSON).
    pub fn create(&self, manifest: &str) -> Result<String> {
        self.run_with_stdin(["create", "-f", "-"], manifest)
    }

    /// Run kubectl with `args` plus `-o json` and parse the output.
    pub fn get_json<I, S>(&self, args: I) -> Result<serde_json::Value>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.command();
        cmd.args(args).args(["-o", "json"]);
        let command = describe(&cmd);
        let out = run_command(cmd, None)?;
        serde_json::from_str(&out).map_err(|e| Error::Parse {
            command,
            message: e.to_string(),
        })
    }

    /// `kubectl get KIND NAME`: `Ok(None)` when the object does not exist.
    pub fn get_optional(&self, kind: &str, name: &str) -> Result<Option<serde_json::Value>> {
        match self.get_json(["get", kind, name]) {
            Ok(v) => Ok(Some(v)),
            Err(Error::Failed { ref stderr, .. }) if stderr.contains("NotFound") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `kubectl get --raw PATH`.
    pub fn get_raw(&self, path: &str) -> Result<String> {
        self.run(["get", "--raw", path])
    }
}

/// A process running inside the node, killed when dropped.
#[derive(Debug)]
pub struct NodeProcess {
    child: Child,
    command: String,
}

impl NodeProcess {
    /// The child process, e.g. to take its stdout.
    pub fn child(&mut self) -> &mut Child {
        &mut self.child
    }

    /// The command line it was started with.
    pub fn command(&self) -> &str {
        &self.command
    }

    /// Fail if the process has already exited.
    pub fn check_running(&mut self) -> Result<()> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(Error::ControlPlane(format!(
                "`{}` exited early ({status})",
                self.command
            ))),
            Err(source) => Err(Error::Io {
                context: format!("checking `{}`", self.command),
                source,
            }),
        }
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl fmt::Display for NodeProcess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (pid {})", self.command, self.child.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_respects_char_boundaries() {
        let s = "ééééé";
        assert!(tail(s, 3).len() <= 3);
        assert_eq!(tail("abc", 10), "abc");
    }
}
