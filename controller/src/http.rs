//! The HTTP API kubeseal reaches through the API server's service proxy, and
//! the metrics endpoint. Paths, methods and status codes as the reference.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use sealed_secrets_api::{reencrypt, verify, SealedSecret};

use crate::keys::KeyRegistry;
use crate::metrics::Metrics;

/// Largest SealedSecret accepted by verify and rotate.
pub const MAX_BODY_BYTES: usize = 10 << 20;

#[derive(Clone)]
pub struct ApiState {
    pub keys: Arc<KeyRegistry>,
    pub metrics: Arc<Metrics>,
    pub ready: Arc<AtomicBool>,
    pub limiter: Arc<RateLimiter>,
}

pub fn router(state: ApiState) -> Router {
    let limited = Router::new()
        .route("/v1/verify", post(verify_handler))
        .route("/v1/rotate", post(rotate_handler))
        .layer(middleware::from_fn_with_state(state.clone(), rate_limit))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/v1/cert.pem", get(cert))
        .merge(limited)
        .layer(middleware::from_fn_with_state(state.clone(), instrument))
        .with_state(state)
}

pub fn metrics_router(metrics: Arc<Metrics>) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let metrics = metrics.clone();
            async move {
                (
                    [(
                        header::CONTENT_TYPE,
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    )],
                    metrics.render(),
                )
            }
        }),
    )
}

async fn instrument(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "other".to_string());
    let response = next.run(request).await;
    if path != "/healthz" && path != "/readyz" {
        state
            .metrics
            .http_request(&path, method.as_str(), response.status().as_u16(), started);
    }
    response
}

async fn readyz(State(state): State<ApiState>) -> StatusCode {
    if state.ready.load(Ordering::Relaxed) {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

async fn cert(State(state): State<ApiState>) -> Response {
    match state.keys.current().newest() {
        Some(entry) => (
            [(header::CONTENT_TYPE, "application/x-pem-file")],
            entry.certificate.to_pem(),
        )
            .into_response(),
        None => (StatusCode::INTERNAL_SERVER_ERROR, "cannot get certificate").into_response(),
    }
}

fn parse(body: &Bytes) -> Result<SealedSecret, (StatusCode, String)> {
    serde_json::from_slice(body).map_err(|e| {
        (
            StatusCode::BAD_REQUEST,
            format!("not a SealedSecret: {e}\n"),
        )
    })
}

async fn verify_handler(State(state): State<ApiState>, body: Bytes) -> Response {
    let sealed = match parse(&body) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    let keys = state.keys.current();
    let result = tokio::task::spawn_blocking(move || verify(&sealed, keys.ring())).await;
    match result {
        Ok(Ok(())) => StatusCode::OK.into_response(),
        Ok(Err(_)) => StatusCode::CONFLICT.into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn rotate_handler(State(state): State<ApiState>, body: Bytes) -> Response {
    let sealed = match parse(&body) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    let keys = state.keys.current();
    let result = tokio::task::spawn_blocking(move || {
        let newest = keys.newest().map(|e| e.certificate.public_key().clone());
        newest.map(|key| reencrypt(&sealed, keys.ring(), &key))
    })
    .await;
    match result {
        Ok(Some(Ok(resealed))) => match serde_json::to_vec(&resealed) {
            Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        },
        Ok(Some(Err(_))) => StatusCode::CONFLICT.into_response(),
        Ok(None) | Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn rate_limit(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::POST || state.limiter.allow(peer.ip(), Instant::now()) {
        next.run(request).await
    } else {
        (StatusCode::TOO_MANY_REQUESTS, "limit exceeded\n").into_response()
    }
}

/// A token bucket per client address (`--rate-limit` per second, `--rate-limit-burst` extra).
pub struct RateLimiter {
    per_second: f64,
    capacity: f64,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(per_second: u32, burst: u32) -> Self {
        Self {
            per_second: f64::from(per_second.max(1)),
            capacity: f64::from(per_second.max(1) + burst),
            buckets: Mutex::default(),
        }
    }

    pub fn allow(&self, client: IpAddr, now: Instant) -> bool {
        let Ok(mut buckets) = self.buckets.lock() else {
            return false;
        };
        if buckets.len() > 10_000 {
            // Forget idle clients rather than grow without bound.
            buckets.retain(|_, (tokens, at)| {
                *tokens < self.capacity && now.duration_since(*at).as_secs() < 60
            });
        }
        let (tokens, last) = buckets.entry(client).or_insert((self.capacity, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * self.per_second)
            .min(self.capacity);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn token_bucket_allows_rate_plus_burst_then_refills() {
        let limiter = RateLimiter::new(2, 2);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let t0 = Instant::now();
        assert_eq!((0..6).filter(|_| limiter.allow(ip, t0)).count(), 4);
        assert!(limiter.allow(ip, t0 + Duration::from_millis(600)));
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        assert!(limiter.allow(other, t0), "buckets are per client");
    }
}
