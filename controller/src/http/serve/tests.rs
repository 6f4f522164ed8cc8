use std::net::SocketAddr;
use std::time::Instant;

use axum::routing::get;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use super::*;

async fn start(timeouts: Timeouts) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = Router::new()
        .route("/fast", get(|| async { "ok" }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(1500)).await;
                "late"
            }),
        )
        .route(
            "/peer",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.ip().to_string() }),
        );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let shutdown = futures::FutureExt::shared(async move {
        let _ = stopped.await;
    });
    tokio::spawn(serve(listener, router, timeouts, shutdown));
    (addr, stop)
}

/// Reads until the server closes the connection (or 5 s pass).
async fn read_to_close(stream: &mut TcpStream) -> (String, Duration) {
    let started = Instant::now();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut out)).await;
    (
        String::from_utf8_lossy(&out).into_owned(),
        started.elapsed(),
    )
}

fn secs(s: u64) -> Option<Duration> {
    Some(Duration::from_secs(s))
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off_after_read_timeout() {
    let (addr, _stop) = start(Timeouts {
        read: secs(1),
        write: None,
    })
    .await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /fast HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let (_, waited) = read_to_close(&mut stream).await;
    assert!(
        waited < Duration::from_secs(3),
        "the connection stayed open {waited:?}"
    );
}

#[tokio::test]
async fn without_read_timeout_a_slow_client_is_not_cut_off() {
    let (addr, _stop) = start(Timeouts::default()).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /fast HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stream
        .write_all(b"Connection: close\r\n\r\n")
        .await
        .unwrap();
    let (text, _) = read_to_close(&mut stream).await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.ends_with("ok"), "{text}");
}

#[tokio::test]
async fn a_response_later_than_write_timeout_is_never_sent() {
    let (addr, _stop) = start(Timeouts {
        read: None,
        write: secs(1),
    })
    .await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (text, waited) = read_to_close(&mut stream).await;
    assert_eq!(text, "", "a response was sent after the write timeout");
    assert!(
        waited < Duration::from_millis(1400),
        "closed after {waited:?}"
    );

    // A quick one on the same server is unaffected, and sees its peer.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /peer HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (text, _) = read_to_close(&mut stream).await;
    assert!(text.ends_with("127.0.0.1"), "{text}");
}

#[tokio::test]
async fn without_write_timeout_a_slow_response_arrives() {
    let (addr, _stop) = start(Timeouts::default()).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (text, _) = read_to_close(&mut stream).await;
    assert!(text.ends_with("late"), "{text}");
}

#[tokio::test]
async fn shutdown_lets_the_request_in_flight_finish() {
    let (addr, stop) = start(Timeouts::default()).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _ = stop.send(());
    let (text, _) = read_to_close(&mut stream).await;
    assert!(text.ends_with("late"), "{text}");
}
