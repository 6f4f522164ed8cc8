//! Headless Chromium driven through chromedriver's WebDriver JSON API, for
//! the web page tests: a tiny blocking client over plain HTTP on loopback.
//! The browser records its network traffic (chromedriver's `performance`
//! log: DevTools `Network.*` events) and its console (`browser` log), so a
//! test can check what a page sent.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::control_plane::{poll, ControlPlane, Error};

type Result<T, E = Error> = std::result::Result<T, E>;

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The W3C WebDriver key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn browser_error(message: impl Into<String>) -> Error {
    Error::Browser(message.into())
}

/// Installs Debian's `chromium` and `chromium-driver` when missing, through
/// `scripts/install-tools browser` (apt-get, as root).
pub fn ensure_installed(repo: &Path) -> Result<()> {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return Ok(());
    }
    let script = repo.join("scripts").join("install-tools");
    let status = Command::new(&script)
        .arg("browser")
        .status()
        .map_err(|source| Error::Io {
            context: format!("running {} browser", script.display()),
            source,
        })?;
    if !status.success() || !Path::new(CHROMEDRIVER).exists() {
        return Err(browser_error(format!(
            "{} browser failed ({status}): chromium and chromium-driver are needed",
            script.display()
        )));
    }
    Ok(())
}

/// One request to chromedriver; its JSON answer's `value`, or an error with
/// WebDriver's message. HTTP/1.1: chromedriver answers HTTP/1.0 with nothing,
/// and keeps the connection open after its answer, so the body is read by
/// its `Content-Length`.
fn call(port: u16, method: &str, path: &str, body: Option<&Value>) -> Result<Value> {
    let io = |source| Error::Io {
        context: format!("chromedriver {method} {path}"),
        source,
    };
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(io)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .map_err(io)?;
    let body = body.map(Value::to_string).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .map_err(io)?;
    let mut reader = BufReader::new(stream);
    let mut status = String::new();
    reader.read_line(&mut status).map_err(io)?;
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).map_err(io)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut payload = vec![0; length];
    reader.read_exact(&mut payload).map_err(io)?;
    let value: Value = serde_json::from_slice(&payload).map_err(|e| {
        browser_error(format!(
            "{method} {path}: not JSON ({e}): {}",
            status.trim()
        ))
    })?;
    if status.split_whitespace().nth(1) != Some("200") {
        return Err(browser_error(format!(
            "{method} {path}: {} {}",
            value["value"]["error"], value["value"]["message"]
        )));
    }
    Ok(value["value"].clone())
}

/// A chromedriver and its one Chromium session; both end on drop.
pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Headless, no sandbox (root), no proxy, a fresh profile, a window of
    /// `width` x `height`; the network and console logged.
    pub fn start(repo: &Path, width: u32, height: u32) -> Result<Self> {
        ensure_installed(repo)?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .map_err(|source| Error::Io {
                context: "finding a free port".into(),
                source,
            })?;
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|source| Error::Spawn {
                program: CHROMEDRIVER.into(),
                source,
            })?;
        let profile = tempfile::tempdir().map_err(|source| Error::Io {
            context: "creating a browser profile".into(),
            source,
        })?;
        let mut browser = Self {
            driver,
            port,
            session: String::new(),
            _profile: profile,
        };
        poll(
            "chromedriver to answer",
            Duration::from_secs(30),
            Duration::from_millis(100),
            || Ok(call(port, "GET", "/status", None).ok().map(|_| ())),
        )?;
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--no-proxy-server", "--no-first-run", "--disable-extensions",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--disable-default-apps", "--hide-scrollbars",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", browser._profile.path().display()),
                ],
            },
            "goog:loggingPrefs": {"performance": "ALL", "browser": "ALL"},
            "timeouts": {"implicit": 0, "pageLoad": 60_000, "script": 60_000},
        }}});
        let session = call(port, "POST", "/session", Some(&capabilities))?;
        browser.session = session["sessionId"]
            .as_str()
            .ok_or_else(|| browser_error(format!("no session id in {session}")))?
            .to_string();
        Ok(browser)
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value> {
        let path = format!("/session/{}{path}", self.session);
        call(self.port, method, &path, body.as_ref())
    }

    pub fn goto(&self, url: &str) -> Result<()> {
        self.call("POST", "/url", Some(json!({ "url": url })))
            .map(|_| ())
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page
    /// and returns what it returns; a returned Promise is awaited.
    pub fn execute(&self, script: &str, args: Value) -> Result<Value> {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
    }

    /// Waits until `condition` (a JavaScript expression) is true.
    pub fn wait_for(&self, what: &str, condition: &str, timeout: Duration) -> Result<()> {
        let script = format!("return Boolean({condition});");
        poll(what, timeout, Duration::from_millis(100), || {
            Ok((self.execute(&script, json!([]))? == Value::Bool(true)).then_some(()))
        })
    }

    pub fn find(&self, css: &str) -> Result<Element<'_>> {
        let found = self.call(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        )?;
        let id = found[ELEMENT]
            .as_str()
            .ok_or_else(|| browser_error(format!("{css}: no element in {found}")))?;
        Ok(Element {
            browser: self,
            id: id.to_string(),
        })
    }

    pub fn set_window_size(&self, width: u32, height: u32) -> Result<()> {
        self.call(
            "POST",
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .map(|_| ())
    }

    /// A PNG of the window.
    pub fn screenshot(&self) -> Result<Vec<u8>> {
        use base64::Engine as _;
        let png = self.call("GET", "/screenshot", None)?;
        base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap_or_default())
            .map_err(|e| browser_error(format!("screenshot is not base64: {e}")))
    }

    /// `performance` or `browser` log entries since the last call.
    pub fn log(&self, kind: &str) -> Result<Vec<Value>> {
        let entries = self.call("POST", "/se/log", Some(json!({ "type": kind })))?;
        Ok(entries.as_array().cloned().unwrap_or_default())
    }

    /// Console errors and Content-Security-Policy reports since the last
    /// call to this or [`Browser::log`]`("browser")`.
    pub fn console_problems(&self) -> Result<Vec<Value>> {
        Ok(self
            .log("browser")?
            .into_iter()
            .filter(|e| {
                e["level"] == "SEVERE"
                    || e["message"]
                        .as_str()
                        .is_some_and(|m| m.contains("Content Security Policy"))
            })
            .collect())
    }

    /// Every request the page started since the last call to this or
    /// [`Browser::log`]`("performance")`, from DevTools `Network.requestWillBeSent`.
    pub fn requests(&self) -> Result<Vec<Request>> {
        let mut requests = Vec::new();
        for entry in self.log("performance")? {
            let message: Value =
                serde_json::from_str(entry["message"].as_str().unwrap_or_default())
                    .map_err(|e| browser_error(format!("performance log entry: {e}")))?;
            let message = &message["message"];
            if message["method"] != "Network.requestWillBeSent" {
                continue;
            }
            let request = &message["params"]["request"];
            let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
            requests.push(Request {
                method: text(&request["method"]),
                url: text(&request["url"]),
                has_body: request["hasPostData"] == true,
                body: request["postData"].as_str().map(str::to_string),
                document: text(&message["params"]["documentURL"]),
                headers: request["headers"].clone(),
            });
        }
        Ok(requests)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.call("DELETE", "", None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// One request of the page, as DevTools saw it leave.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub url: String,
    pub has_body: bool,
    /// The body as sent (DevTools includes it for the small bodies here).
    pub body: Option<String>,
    pub headers: Value,
    /// The page that made it.
    pub document: String,
}

/// An element of the page.
pub struct Element<'a> {
    browser: &'a Browser,
    id: String,
}

impl Element<'_> {
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value> {
        self.browser
            .call(method, &format!("/element/{}{path}", self.id), body)
    }

    /// Types `text` as keys (a file path, for a file input).
    pub fn send_keys(&self, text: &str) -> Result<()> {
        self.call("POST", "/value", Some(json!({ "text": text })))
            .map(|_| ())
    }

    pub fn clear(&self) -> Result<()> {
        self.call("POST", "/clear", Some(json!({}))).map(|_| ())
    }

    pub fn click(&self) -> Result<()> {
        self.call("POST", "/click", Some(json!({}))).map(|_| ())
    }

    /// The `value` property (what a field holds now).
    pub fn value(&self) -> Result<String> {
        let v = self.call("GET", "/property/value", None)?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    pub fn text(&self) -> Result<String> {
        let v = self.call("GET", "/text", None)?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }
}

/// `kubectl proxy` on a free loopback port, as a person opens the page
/// (`http://127.0.0.1:PORT/api/v1/namespaces/...`); stopped on drop.
pub struct KubectlProxy {
    child: Child,
    pub port: u16,
}

impl KubectlProxy {
    pub fn start(cp: &ControlPlane) -> Result<Self> {
        let mut child = cp
            .kubectl()
            .command()
            .args(["proxy", "--port=0", "--address=127.0.0.1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|source| Error::Spawn {
                program: "kubectl proxy".into(),
                source,
            })?;
        let mut line = String::new();
        if let Some(stdout) = child.stdout.take() {
            // Ends early (empty) if kubectl exits.
            let _ = BufReader::new(stdout).read_line(&mut line);
        }
        // "Starting to serve on 127.0.0.1:PORT"
        let port = line.trim().rsplit(':').next().and_then(|p| p.parse().ok());
        match port {
            Some(port) => Ok(Self { child, port }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(browser_error(format!("kubectl proxy said {line:?}")))
            }
        }
    }
}

impl Drop for KubectlProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
