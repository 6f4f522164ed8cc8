//! The Go program (tests/conformance/go/): found or built, asked for its
//! function names, and fed records one at a time.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::Deserialize;

use crate::corpus::Record;

/// `GOTEMPLATE_CONFORMANCE_GO` names a built program; else it is built with
/// `go` when on PATH. `None`: no Go here.
pub fn program() -> Result<Option<PathBuf>, String> {
    if let Some(path) = std::env::var_os("GOTEMPLATE_CONFORMANCE_GO") {
        return Ok(Some(PathBuf::from(path)));
    }
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/go");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("gotemplate-conformance-go");
    let built = Command::new("go")
        .args(["build", "-o"])
        .arg(&out)
        .arg(".")
        .current_dir(&source)
        .status();
    match built {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("go build: {e}")),
        Ok(s) if !s.success() => Err(format!(
            "go build in {} failed ({s}): it needs sprig's modules (module cache or proxy)",
            source.display()
        )),
        Ok(_) => Ok(Some(out)),
    }
}

fn command(program: &Path) -> Command {
    let mut cmd = Command::new(program);
    // Dates render in the local zone: UTC, as the reference controller runs.
    cmd.env("TZ", "UTC");
    cmd
}

/// The names in the reference's function map.
pub fn function_names(program: &Path) -> Result<Vec<String>, String> {
    let out = command(program)
        .arg("funcs")
        .output()
        .map_err(|e| format!("{}: {e}", program.display()))?;
    if !out.status.success() {
        return Err(format!("{} funcs: {}", program.display(), out.status));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("{} funcs: {e}", program.display()))
}

#[derive(Deserialize)]
struct Answer {
    output: Option<String>,
    error: Option<String>,
    #[serde(default)]
    ns_per_render: f64,
}

/// What Go made of one record.
pub struct GoResult {
    /// Output, or the error text (the output written before it is dropped:
    /// a failed render's output is not used).
    pub rendered: Result<Vec<u8>, String>,
    /// With `bench_ms`: nanoseconds per parse and execute (median).
    pub ns_per_render: f64,
}

pub struct Session {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Session {
    pub fn start(program: &Path, bench_ms: Option<u32>) -> Result<Session, String> {
        let mut cmd = command(program);
        cmd.arg("run");
        if let Some(ms) = bench_ms {
            cmd.args(["-bench-ms", &ms.to_string()]);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{}: {e}", program.display()))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        Ok(Session {
            child,
            stdin,
            stdout,
        })
    }

    pub fn render(&mut self, record: &Record) -> Result<GoResult, String> {
        let mut line = serde_json::to_vec(record).map_err(|e| e.to_string())?;
        line.push(b'\n');
        self.stdin
            .write_all(&line)
            .and_then(|()| self.stdin.flush())
            .map_err(|e| format!("writing to the Go program: {e}"))?;
        let mut answer = String::new();
        self.stdout
            .read_line(&mut answer)
            .map_err(|e| format!("reading the Go program: {e}"))?;
        if answer.is_empty() {
            return Err("the Go program stopped (see its stderr above)".into());
        }
        let answer: Answer =
            serde_json::from_str(&answer).map_err(|e| format!("the Go program's answer: {e}"))?;
        let rendered = match answer.error {
            Some(e) => Err(e),
            None => Ok(B64
                .decode(answer.output.unwrap_or_default())
                .map_err(|e| format!("the Go program's output: {e}"))?),
        };
        Ok(GoResult {
            rendered,
            ns_per_render: answer.ns_per_render,
        })
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // No Go process outlives the run.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
