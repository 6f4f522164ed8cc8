//! Flux's own controllers and a Git server, for the GitOps loop's
//! end-to-end test: source-controller and kustomize-controller built from
//! their Go modules, and `git-server` (scripts/gitops-tools) serving a bare
//! repository over HTTP, all built by `scripts/install-tools gitops` into
//! the tools cache. They run as processes on the host, for one namespace
//! (`RUNTIME_NAMESPACE`, `--watch-all-namespaces=false`), with the admin
//! kubeconfig.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::control_plane::{run_command, ControlPlane, Error};
use crate::ports::free_port;

type Result<T, E = Error> = std::result::Result<T, E>;

/// Where `scripts/install-tools gitops` put the tools.
pub struct GitopsTools {
    dir: PathBuf,
}

const BINARIES: [&str; 5] = [
    "source-controller",
    "kustomize-controller",
    "git-server",
    "kstatus",
    "argo-health",
];

impl GitopsTools {
    pub fn find(cp: &ControlPlane) -> Result<Self> {
        let script = cp.repo_dir().join("scripts").join("install-tools");
        let mut cmd = Command::new(&script);
        cmd.arg("--print-gitops-dir");
        let dir = PathBuf::from(run_command(cmd, None)?.trim());
        if let Some(missing) = BINARIES.iter().find(|b| !dir.join(b).is_file()) {
            return Err(Error::ControlPlane(format!(
                "{} is missing: run scripts/install-tools gitops (make test does)",
                dir.join(missing).display()
            )));
        }
        Ok(Self { dir })
    }

    pub fn binary(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The CRDs of the Flux controllers.
    pub fn crds(&self) -> PathBuf {
        self.dir.join("crds")
    }

    /// Argo CD's own health check of SealedSecrets.
    pub fn argo_health_script(&self) -> PathBuf {
        self.dir
            .join("argocd")
            .join("SealedSecret")
            .join("health.lua")
    }
}

/// A process killed on drop, its output in a log file.
pub struct Background {
    child: Child,
    log: PathBuf,
}

impl Background {
    fn spawn(mut cmd: Command, log: PathBuf) -> Result<Self> {
        let file = std::fs::File::create(&log).map_err(|source| Error::Io {
            context: format!("creating {}", log.display()),
            source,
        })?;
        let err = file.try_clone().map_err(|source| Error::Io {
            context: "cloning a log file".into(),
            source,
        })?;
        let program = format!("{:?}", cmd.get_program());
        let child = cmd
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(err)
            .spawn()
            .map_err(|source| Error::Spawn { program, source })?;
        Ok(Self { child, log })
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A bare repository served by `git-server`, and a working copy to commit in.
pub struct GitRepo {
    server: Child,
    /// What source-controller clones.
    pub url: String,
    work: PathBuf,
    _dir: tempfile::TempDir,
}

impl GitRepo {
    pub fn serve(tools: &GitopsTools) -> Result<Self> {
        let dir = tempfile::tempdir().map_err(|source| Error::Io {
            context: "a directory for the Git repository".into(),
            source,
        })?;
        let bare = dir.path().join("repos").join("app.git");
        let work = dir.path().join("work");
        git(
            dir.path(),
            &[
                "init",
                "--quiet",
                "--bare",
                "--initial-branch=main",
                path(&bare),
            ],
        )?;
        git(
            dir.path(),
            &["init", "--quiet", "--initial-branch=main", path(&work)],
        )?;
        for (key, value) in [("user.name", "e2e"), ("user.email", "e2e@example.com")] {
            git(&work, &["config", key, value])?;
        }
        git(&work, &["remote", "add", "origin", path(&bare)])?;
        let mut server = Command::new(tools.binary("git-server"))
            .args([
                "--root",
                path(&dir.path().join("repos")),
                "--listen",
                "127.0.0.1:0",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|source| Error::Spawn {
                program: "git-server".into(),
                source,
            })?;
        let mut first = String::new();
        if let Some(out) = server.stdout.take() {
            BufReader::new(out)
                .read_line(&mut first)
                .map_err(|source| Error::Io {
                    context: "reading git-server's address".into(),
                    source,
                })?;
        }
        let address = first.trim();
        if address.is_empty() {
            let _ = server.kill();
            return Err(Error::ControlPlane("git-server printed no address".into()));
        }
        Ok(Self {
            url: format!("http://{address}/app.git"),
            server,
            work,
            _dir: dir,
        })
    }

    /// Writes `files` (path in the repository, content; `None` removes it),
    /// commits and pushes; the commit's hash.
    pub fn commit(&self, message: &str, files: &[(&str, Option<&str>)]) -> Result<String> {
        for (file, content) in files {
            let target = self.work.join(file);
            match content {
                Some(text) => {
                    if let Some(parent) = target.parent() {
                        std::fs::create_dir_all(parent).map_err(|source| Error::Io {
                            context: format!("creating {}", parent.display()),
                            source,
                        })?;
                    }
                    std::fs::write(&target, text).map_err(|source| Error::Io {
                        context: format!("writing {}", target.display()),
                        source,
                    })?;
                }
                None => {
                    std::fs::remove_file(&target).map_err(|source| Error::Io {
                        context: format!("removing {}", target.display()),
                        source,
                    })?;
                }
            }
        }
        git(&self.work, &["add", "--all"])?;
        git(
            &self.work,
            &["commit", "--quiet", "--allow-empty", "-m", message],
        )?;
        git(&self.work, &["push", "--quiet", "origin", "main"])?;
        Ok(git(&self.work, &["rev-parse", "HEAD"])?.trim().to_string())
    }

    /// The working copy, for tools that edit files in place (`kubeseal admin reencrypt`).
    pub fn work_dir(&self) -> &Path {
        &self.work
    }
}

impl Drop for GitRepo {
    fn drop(&mut self) {
        // A Child is not killed when dropped: the server would outlive the
        // test (and hold its stderr open).
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap_or_default()
}

fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir);
    run_command(cmd, None)
}

/// source-controller and kustomize-controller for one namespace.
pub struct Flux {
    pub source: Background,
    pub kustomize: Background,
}

impl Flux {
    /// Installs the CRDs and starts both controllers for `namespace`.
    pub fn start(cp: &ControlPlane, tools: &GitopsTools, namespace: &str) -> Result<Self> {
        cp.kubectl().run([
            "apply",
            "--server-side",
            "--force-conflicts",
            "-f",
            path(&tools.crds()),
        ])?;
        for crd in [
            "gitrepositories.source.toolkit.fluxcd.io",
            "kustomizations.kustomize.toolkit.fluxcd.io",
        ] {
            cp.kubectl().run([
                "wait",
                "--for=condition=Established",
                "--timeout=60s",
                &format!("crd/{crd}"),
            ])?;
        }
        let storage = std::env::temp_dir().join(format!("flux-storage-{namespace}"));
        std::fs::create_dir_all(&storage).map_err(|source| Error::Io {
            context: format!("creating {}", storage.display()),
            source,
        })?;
        let [storage_port, a, b, c, d] = [(); 5].map(|()| free_port());
        let (storage_port, a, b, c, d) = (storage_port?, a?, b?, c?, d?);
        let common = |cmd: &mut Command, metrics: u16, health: u16| {
            cmd.env("KUBECONFIG", cp.kubeconfig())
                .env("RUNTIME_NAMESPACE", namespace)
                .args([
                    "--watch-all-namespaces=false",
                    "--enable-leader-election=false",
                    "--log-level=debug",
                    &format!("--metrics-addr=127.0.0.1:{metrics}"),
                    &format!("--health-addr=127.0.0.1:{health}"),
                ]);
        };
        let mut source = Command::new(tools.binary("source-controller"));
        common(&mut source, a, b);
        source.args([
            format!("--storage-path={}", storage.display()),
            format!("--storage-addr=127.0.0.1:{storage_port}"),
            format!("--storage-adv-addr=127.0.0.1:{storage_port}"),
        ]);
        let mut kustomize = Command::new(tools.binary("kustomize-controller"));
        common(&mut kustomize, c, d);
        let logs = std::env::temp_dir();
        Ok(Self {
            source: Background::spawn(
                source,
                logs.join(format!("source-controller-{namespace}.log")),
            )?,
            kustomize: Background::spawn(
                kustomize,
                logs.join(format!("kustomize-controller-{namespace}.log")),
            )?,
        })
    }

    pub fn logs(&self) -> String {
        format!(
            "--- source-controller\n{}\n--- kustomize-controller\n{}",
            tail(&self.source.log()),
            tail(&self.kustomize.log())
        )
    }
}

fn tail(log: &str) -> &str {
    let start = log.len().saturating_sub(6000);
    let start = (start..log.len())
        .find(|i| log.is_char_boundary(*i))
        .unwrap_or(log.len());
    &log[start..]
}
