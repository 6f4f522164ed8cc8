//! The KMS v2 test plugin (scripts/kms-plugin over SoftHSM2, docs/kms.md)
//! for one test: its own token in a temporary directory, the plugin on a
//! socket there, killed on drop. Built by `scripts/install-tools kms`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::control_plane::{run_command, Result};
use crate::{ControlPlane, Error};

pub struct KmsPlugin {
    dir: tempfile::TempDir,
    script: PathBuf,
    child: Option<Child>,
}

impl KmsPlugin {
    /// A new token (current key `kek-1`) and the plugin serving it.
    pub fn start(cp: &ControlPlane) -> Result<Self> {
        let built = Command::new(cp.repo_dir().join("scripts/install-tools"))
            .args(["--check", "kms"])
            .status()
            .map_err(|source| Error::Io {
                context: "scripts/install-tools --check kms".into(),
                source,
            })?;
        if !built.success() {
            return Err(Error::ControlPlane(
                "the KMS v2 test plugin is not built: run scripts/install-tools kms".into(),
            ));
        }
        // In /tmp, short: a unix socket's path holds about 100 bytes.
        let dir = tempfile::Builder::new()
            .prefix("kms-")
            .tempdir_in("/tmp")
            .map_err(|source| Error::Io {
                context: "making the KMS plugin's directory".into(),
                source,
            })?;
        let script = cp.repo_dir().join("scripts/kms-softhsm");
        let mut init = Command::new(&script);
        init.arg("init").arg(dir.path());
        run_command(init, None)?;
        let mut plugin = Self {
            dir,
            script,
            child: None,
        };
        plugin.resume()?;
        Ok(plugin)
    }

    /// `unix:///…/kms.sock`, for `--kms-endpoint`.
    pub fn endpoint(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("kms.sock")
    }

    /// Stops the plugin (the token stays): calls to it fail until
    /// [`KmsPlugin::resume`].
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(self.socket());
    }

    /// Starts the plugin again on the same token and socket.
    pub fn resume(&mut self) -> Result<()> {
        self.stop();
        let log = std::fs::File::create(self.dir.path().join("plugin.log")).map_err(|source| {
            Error::Io {
                context: "the KMS plugin's log".into(),
                source,
            }
        })?;
        let err = log.try_clone().map_err(|source| Error::Io {
            context: "the KMS plugin's log".into(),
            source,
        })?;
        let child = Command::new(&self.script)
            .arg("run")
            .arg(self.dir.path())
            .arg(self.socket())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .map_err(|source| Error::Io {
                context: "starting scripts/kms-softhsm run".into(),
                source,
            })?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::os::unix::net::UnixStream::connect(self.socket()).is_err() {
            if Instant::now() > deadline {
                return Err(Error::ControlPlane(format!(
                    "the KMS plugin did not listen on {} within 30 s:\n{}",
                    self.socket().display(),
                    self.log()
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }

    /// Makes `label` the plugin's current key (KEK rotation).
    pub fn rotate(&self, label: &str) -> Result<()> {
        let mut rotate = Command::new(&self.script);
        rotate.arg("rotate").arg(self.dir.path()).arg(label);
        run_command(rotate, None).map(|_| ())
    }

    /// Deletes the KMS key `label` from the token: what was wrapped under
    /// it can no longer be opened.
    pub fn retire(&self, label: &str) -> Result<()> {
        let mut retire = Command::new(&self.script);
        retire.arg("retire").arg(self.dir.path()).arg(label);
        run_command(retire, None).map(|_| ())
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("plugin.log")).unwrap_or_default()
    }
}

impl Drop for KmsPlugin {
    fn drop(&mut self) {
        self.stop();
    }
}
