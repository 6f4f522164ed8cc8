//! Ports for the servers the tests start, on the host and in the node.

use std::sync::atomic::{AtomicU16, AtomicU32, Ordering};

use crate::control_plane::{Error, Result};

/// A port free on the host right now, below the kernel's ephemeral range
/// (32768 and up by default), so that no outgoing connection takes it
/// before the server binds it: a port the kernel hands out for `bind(0)` is
/// also what it hands out to the next `connect`.
pub(crate) fn free_port() -> Result<u16> {
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

/// Two ports (`port`, `port + 1`) for a server in the node: a per-process
/// block, then the next pair in it. The node's ports are shared by every
/// test process and cannot be probed from here, so a caller must expect the
/// pair to be taken now and then.
pub(crate) fn next_node_port_pair() -> u16 {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let block = 20000 + (std::process::id() % 400) as u16 * 100;
    let offset = NEXT.fetch_add(2, Ordering::Relaxed) % 100;
    block + offset
}
