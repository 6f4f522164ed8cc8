//! Raw HTTP/1.0 requests for the HTTP API tests: any method, any
//! `X-Forwarded-For`, bodies cut short, and the answer's headers.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

/// A log without the long lines (the reference logs whole bodies).
pub fn short(log: &str) -> String {
    log.lines()
        .map(|l| l.chars().take(300).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

/// What one request got back.
#[derive(Debug)]
pub struct Reply {
    pub code: u16,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

pub enum Send<'a> {
    Body(&'a [u8]),
    /// Announces `declared` bytes, sends `sent`, then closes its side.
    CutShort {
        declared: usize,
        sent: &'a [u8],
    },
}

/// One HTTP/1.0 request (no chunking either way). Large bodies are sent only
/// if no answer came from the headers alone (ours refuses them at once).
pub fn call(port: u16, method: &str, path: &str, forwarded: Option<&str>, send: Send<'_>) -> Reply {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let (declared, body, cut) = match send {
        Send::Body(b) => (b.len(), b, false),
        Send::CutShort { declared, sent } => (declared, sent, true),
    };
    let mut head = format!(
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {declared}\r\n"
    );
    if let Some(f) = forwarded {
        head.push_str(&format!("X-Forwarded-For: {f}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("write head");
    let early = body.len() > (1 << 20) && {
        stream
            .set_read_timeout(Some(Duration::from_millis(800)))
            .expect("timeout");
        matches!(stream.peek(&mut [0u8; 1]), Ok(n) if n > 0)
    };
    if !early {
        let _ = stream.write_all(body);
        if cut {
            let _ = stream.shutdown(Shutdown::Write);
        }
    }
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
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
