//! The tests' one HTTP client: plain HTTP/1.0 over a TCP stream, enough for
//! loopback and node-local servers (controllers, `kubectl proxy`, etcd's JSON
//! gateway) and for what a library client would not send: any method, any
//! `X-Forwarded-For`, bodies cut short; the answer's headers are kept.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use crate::control_plane::{Error, Result};

/// What one request got back.
#[derive(Debug)]
pub struct Reply {
    /// 0 when the answer had no status line.
    pub code: u16,
    /// Names in lower case.
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

/// The request body.
pub enum Send<'a> {
    Body(&'a [u8]),
    /// Announces `declared` bytes, sends `sent`, then closes its side.
    CutShort {
        declared: usize,
        sent: &'a [u8],
    },
}

/// Bodies above this are sent only if no answer came from the headers alone
/// (ours refuses them at once, and would close before reading them).
const ANSWER_FIRST_ABOVE: usize = 1 << 20;

/// One request to `url` (`http://HOST:PORT/PATH`), waiting up to a minute
/// for the answer. No chunking either way.
pub fn call(method: &str, url: &str, forwarded_for: Option<&str>, send: Send<'_>) -> Result<Reply> {
    exchange(method, url, forwarded_for, send, Duration::from_secs(60))
}

/// GET `url`: status and body (up to 30 s for the answer).
pub fn get(url: &str) -> Result<(u16, String)> {
    exchange("GET", url, None, Send::Body(b""), Duration::from_secs(30)).map(|r| (r.code, r.body))
}

/// POST `body` (sent as JSON) to `url`: status and body (up to 30 s for the answer).
pub fn post(url: &str, body: &[u8]) -> Result<(u16, String)> {
    exchange("POST", url, None, Send::Body(body), Duration::from_secs(30)).map(|r| (r.code, r.body))
}

fn exchange(
    method: &str,
    url: &str,
    forwarded_for: Option<&str>,
    send: Send<'_>,
    read_timeout: Duration,
) -> Result<Reply> {
    let io = |source| Error::Io {
        context: format!("{method} {url}"),
        source,
    };
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| Error::ControlPlane(format!("not an http URL: {url}")))?;
    let (authority, path) = rest
        .split_once('/')
        .map(|(a, p)| (a, format!("/{p}")))
        .unwrap_or((rest, "/".into()));
    let mut stream = TcpStream::connect(authority).map_err(io)?;
    let (declared, body, cut) = match send {
        Send::Body(b) => (b.len(), b, false),
        Send::CutShort { declared, sent } => (declared, sent, true),
    };
    let mut head = format!(
        "{method} {path} HTTP/1.0\r\nHost: {authority}\r\nContent-Type: application/json\r\nContent-Length: {declared}\r\n"
    );
    if let Some(f) = forwarded_for {
        head.push_str(&format!("X-Forwarded-For: {f}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).map_err(io)?;
    let answered_early = body.len() > ANSWER_FIRST_ABOVE && {
        stream
            .set_read_timeout(Some(Duration::from_millis(800)))
            .map_err(io)?;
        matches!(stream.peek(&mut [0u8; 1]), Ok(n) if n > 0)
    };
    if !answered_early {
        // A server may answer and close before reading the body (a refusal):
        // what it answered is read below.
        let _ = stream.write_all(body);
        if cut {
            let _ = stream.shutdown(Shutdown::Write);
        }
    }
    stream.set_read_timeout(Some(read_timeout)).map_err(io)?;
    let mut raw = Vec::new();
    // A reset after the answer keeps what was read; a reset before it is an error.
    if let Err(e) = stream.read_to_end(&mut raw) {
        if raw.is_empty() {
            return Err(io(e));
        }
    }
    Ok(parse(&raw))
}

fn parse(raw: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let code = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
        .collect();
    Reply {
        code,
        headers,
        body: body.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_headers_and_body() {
        let reply =
            parse(b"HTTP/1.0 413 Payload Too Large\r\nContent-Type: text/plain\r\n\r\ntoo big");
        assert_eq!(reply.code, 413);
        assert_eq!(reply.headers["content-type"], "text/plain");
        assert_eq!(reply.body, "too big");
        assert_eq!(parse(b"").code, 0);
    }
}
