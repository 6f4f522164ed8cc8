//! The connection flags of the reference v0.40.0 kubeseal, checked on the wire:
//! a tiny HTTP server (and CONNECT proxy) on 127.0.0.1 records what the real
//! binary sends, and answers every request 404 so kubeseal stops there.

mod common;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use base64::Engine as _;
use common::*;

/// One request's head: the request line and lower-cased headers.
#[derive(Debug)]
struct Head {
    line: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

fn read_head(reader: &mut BufReader<TcpStream>) -> Option<Head> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    if line.is_empty() {
        return None;
    }
    let mut headers = Vec::new();
    let mut content_length = 0usize;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim().to_string());
            if name == "content-length" {
                content_length = value.parse().unwrap_or(0);
            }
            headers.push((name, value));
        }
    }
    let mut body = vec![0; content_length];
    reader.read_exact(&mut body).ok()?;
    Some(Head {
        line: line.trim_end().to_string(),
        headers,
    })
}

const NOT_FOUND: &str = r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"fake API server: not found","reason":"NotFound","code":404}"#;

fn answer_404(stream: &mut TcpStream) {
    let _ = write!(
        stream,
        "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{NOT_FOUND}",
        NOT_FOUND.len()
    );
}

/// Serves connections until the test ends; sends every request head seen,
/// including a CONNECT and the request then tunnelled through it.
fn fake_server() -> (u16, mpsc::Receiver<Head>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut writer = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                while let Some(head) = read_head(&mut reader) {
                    let connect = head.line.starts_with("CONNECT ");
                    let _ = tx.send(head);
                    if connect {
                        let _ = writer.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
                        continue;
                    }
                    answer_404(&mut writer);
                    return;
                }
            });
        }
    });
    (port, rx)
}

fn kubeconfig(dir: &Path, server: &str) -> String {
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {server}\n\
             users:\n- name: u\n  user: {{}}\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\n\
             current-context: x\n"
        ),
    )
    .unwrap();
    path.to_string_lossy().into_owned()
}

fn heads(rx: &mpsc::Receiver<Head>) -> Vec<Head> {
    let mut out = Vec::new();
    while let Ok(head) = rx.recv_timeout(Duration::from_millis(500)) {
        out.push(head);
    }
    out
}

#[test]
fn basic_auth_and_impersonation_reach_the_api_server() {
    let home = tempfile::tempdir().unwrap();
    let (port, rx) = fake_server();
    let config = kubeconfig(home.path(), &format!("http://127.0.0.1:{port}"));
    let output = kubeseal(home.path())
        .args(["--kubeconfig", &config, "--fetch-cert"])
        .args(["--username", "alice", "--password", "s3cret"])
        .args(["--as", "bob", "--as-uid", "uid-42"])
        .args(["--as-group", "devs", "--as-group", "ops"])
        .output()
        .unwrap();
    assert_refused(&output, "fake API server: not found");
    let seen = heads(&rx);
    let get = seen
        .iter()
        .find(|h| h.line.contains("/services/sealed-secrets-controller"))
        .unwrap_or_else(|| panic!("no Service read in {seen:?}"));
    let basic = base64::engine::general_purpose::STANDARD.encode("alice:s3cret");
    assert_eq!(get.all("authorization"), [format!("Basic {basic}")]);
    assert_eq!(get.all("impersonate-user"), ["bob"]);
    assert_eq!(get.all("impersonate-uid"), ["uid-42"]);
    assert_eq!(get.all("impersonate-group"), ["devs", "ops"]);
}

#[test]
fn disable_compression_asks_for_no_compressed_responses() {
    let home = tempfile::tempdir().unwrap();
    let (port, rx) = fake_server();
    let config = kubeconfig(home.path(), &format!("http://127.0.0.1:{port}"));
    let output = kubeseal(home.path())
        .args([
            "--kubeconfig",
            &config,
            "--fetch-cert",
            "--disable-compression",
        ])
        .output()
        .unwrap();
    assert_refused(&output, "fake API server: not found");
    let seen = heads(&rx);
    assert!(!seen.is_empty());
    for head in &seen {
        for value in head.all("accept-encoding") {
            assert!(!value.contains("gzip"), "{head:?}");
        }
    }
}

#[test]
fn proxy_url_carries_the_requests() {
    let home = tempfile::tempdir().unwrap();
    let (port, rx) = fake_server();
    // Nothing listens at the kubeconfig's server: only the proxy can answer.
    let config = kubeconfig(home.path(), "http://api.invalid:6443");
    let output = kubeseal(home.path())
        .args(["--kubeconfig", &config, "--fetch-cert"])
        .args(["--proxy-url", &format!("http://127.0.0.1:{port}")])
        .output()
        .unwrap();
    assert_refused(&output, "fake API server: not found");
    let seen = heads(&rx);
    assert!(
        seen.iter()
            .any(|h| h.line.starts_with("CONNECT api.invalid:6443 ")),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|h| h.line.contains("/services/sealed-secrets-controller")),
        "{seen:?}"
    );
}

#[test]
fn as_group_or_as_uid_without_as_is_refused_as_by_client_go() {
    let home = tempfile::tempdir().unwrap();
    let (port, rx) = fake_server();
    let config = kubeconfig(home.path(), &format!("http://127.0.0.1:{port}"));
    for flags in [["--as-group", "devs"], ["--as-uid", "uid-42"]] {
        let output = kubeseal(home.path())
            .args(["--kubeconfig", &config, "--fetch-cert"])
            .args(flags)
            .output()
            .unwrap();
        assert_refused(
            &output,
            "requesting uid, groups or user-extra without impersonating a user",
        );
        assert!(stderr(&output).contains("--as USER"), "{}", stderr(&output));
    }
    assert!(heads(&rx).is_empty(), "a request was sent");
}

#[test]
fn token_and_basic_auth_together_are_refused_as_by_client_go() {
    let home = tempfile::tempdir().unwrap();
    let (port, rx) = fake_server();
    let config = kubeconfig(home.path(), &format!("http://127.0.0.1:{port}"));
    let output = kubeseal(home.path())
        .args(["--kubeconfig", &config, "--fetch-cert"])
        .args(["--token", "t0ken", "--username", "alice", "--password", "x"])
        .output()
        .unwrap();
    assert_refused(&output, "more than one authentication method found");
    assert!(heads(&rx).is_empty(), "a request was sent");
}

/// Every flag of `kubeseal --help` of the reference v0.40.0 beyond ours, with
/// a value of its type; `--fetch-cert --cert FILE` then runs offline.
#[test]
fn the_reference_klog_flags_are_accepted() {
    let home = tempfile::tempdir().unwrap();
    let cert = fixture("cert-2048.pem");
    let klog: &[&str] = &[
        "-v=4",
        "--v",
        "2",
        "--vmodule=foo=3,bar*=1",
        "--add_dir_header",
        "--alsologtostderr=true",
        "--alsologtostderrthreshold=WARNING",
        "--legacy_stderr_threshold_behavior=false",
        "--log_backtrace_at=main.go:10",
        "--log_dir=/nonexistent",
        "--log_file=/nonexistent/log",
        "--log_file_max_size=10",
        "--logtostderr=false",
        "--one_output",
        "--skip_headers",
        "--skip_log_headers=true",
        "--stderrthreshold=ERROR",
    ];
    let output = kubeseal(home.path())
        .args(klog)
        .args(["--fetch-cert", "--cert", &cert])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).starts_with("-----BEGIN CERTIFICATE-----"));

    let help = stdout(&kubeseal(home.path()).arg("--help").output().unwrap());
    assert!(help.contains("accepted and ignored"), "{help}");
    for flag in [
        "--username",
        "--password",
        "--proxy-url",
        "--disable-compression",
        "--log_dir",
        "--vmodule",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }

    // Typed as in Go: -v is an integer.
    let output = kubeseal(home.path())
        .args(["-v=loud", "--fetch-cert", "--cert", &cert])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
}

#[test]
fn a_flag_given_twice_takes_the_last_value_and_lists_add_up() {
    let home = tempfile::tempdir().unwrap();
    let (port, rx) = fake_server();
    let config = kubeconfig(home.path(), &format!("http://127.0.0.1:{port}"));
    let output = kubeseal(home.path())
        .args(["--kubeconfig", &config, "--fetch-cert"])
        .args(["--as", "first", "--as", "bob"])
        .args(["--as-group", "devs", "--as-group", "ops"])
        .output()
        .unwrap();
    assert_refused(&output, "fake API server: not found");
    let seen = heads(&rx);
    let get = seen.first().expect("a request");
    assert_eq!(get.all("impersonate-user"), ["bob"]);
    assert_eq!(get.all("impersonate-group"), ["devs", "ops"]);
}
