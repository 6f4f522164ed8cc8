//! The HTTP servers with the reference's `--read-timeout` and
//! `--write-timeout` (Go's `http.Server` `ReadHeaderTimeout`/`ReadTimeout`
//! and `WriteTimeout`; zero or negative is no timeout, as in Go):
//!
//! - a client must send a request's headers within the read timeout of the
//!   connection becoming ready for one, or the connection is closed;
//! - a response must be ready within the write timeout of its request's
//!   headers, or the connection is closed without one (Go's client sees the
//!   same EOF when a handler outlives `WriteTimeout`).

use std::future::Future;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tower::ServiceExt as _;

/// `None`: no timeout.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timeouts {
    pub read: Option<Duration>,
    pub write: Option<Duration>,
}

#[derive(Debug, thiserror::Error)]
#[error("no response within --write-timeout ({0:?})")]
struct WriteTimedOut(Duration);

/// Serves `router` on `listener` until `shutdown` completes, then lets open
/// requests finish. Handlers see the peer as `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    timeouts: Timeouts,
    shutdown: impl Future<Output = ()> + Clone + Send + 'static,
) -> std::io::Result<()> {
    let mut connections = JoinSet::new();
    let stop = shutdown.clone();
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut stop => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // As Go's Serve: a failed accept (e.g. out of files) is retried.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let router = router.clone();
        let shutdown = shutdown.clone();
        connections.spawn(async move {
            let service =
                hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(peer));
                    let response = router.clone().oneshot(request.map(axum::body::Body::new));
                    async move {
                        let result = match timeouts.write {
                            Some(limit) => match tokio::time::timeout(limit, response).await {
                                Ok(result) => result,
                                Err(_) => return Err(WriteTimedOut(limit)),
                            },
                            None => response.await,
                        };
                        let Ok(response) = result;
                        Ok(response)
                    }
                });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(timeouts.read);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => log_end(result),
                _ = shutdown => {
                    connection.as_mut().graceful_shutdown();
                    log_end(connection.await);
                }
            }
        });
    }
    while connections.join_next().await.is_some() {}
    Ok(())
}

fn log_end(result: Result<(), hyper::Error>) {
    if let Err(e) = result {
        tracing::debug!(error = %e, "connection closed");
    }
}

#[cfg(test)]
mod tests;
