//! The HTTP API kubeseal reaches through the API server's service proxy, and
//! the metrics endpoint. Paths, methods, status codes and the rate limit as
//! the reference (v0.40.0, pkg/controller/server.go):
//!
//! | request                                         | verify | rotate |
//! |-------------------------------------------------|--------|--------|
//! | a SealedSecret every item of which opens        | 200    | 200    |
//! | a SealedSecret an item of which does not open   | 409    | 500    |
//! | not a `bitnami.com/v1alpha1` `SealedSecret` (empty, not JSON or YAML, another kind) | 500 | 500 |
//! | several YAML documents                          | 500    | first  |
//! | a body that cannot be read (cut short)          | 400    | 400    |
//! | over the rate limit                             | 429    | 429    |
//! | a body over 10 MiB (ours only; the reference reads any size) | 413 | 413 |
//!
//! With `--web-ui`, also the sealing page under `/ui/` ([`ui`]).
//!
//! Any method is served, as Go's `ServeMux` does. Decoding and RSA work run
//! on a bounded pool ([`RsaPool`]).

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, FromRequest as _, MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use sealed_secrets_api::crypto::{KeyRing, PublicKey};
use sealed_secrets_api::{reencrypt, verify, SealedSecret};
use serde::Deserialize as _;

use self::body_budget::{BodyBudget, Reserved};
use self::ratelimit::RateLimiter;
use crate::keys::KeyRegistry;
use crate::metrics::Metrics;
use crate::rsa_pool::RsaPool;
use crate::Error;

pub(crate) mod body_budget;
pub(crate) mod ratelimit;
pub(crate) mod serve;
mod ui;

/// Largest SealedSecret accepted by verify and rotate.
pub const MAX_BODY_BYTES: usize = 10 << 20;

/// Bodies of verify and rotate held at once, together: four of the largest.
/// With the pool's jobs (one per core, each decoding one body) this bounds
/// the memory a flood of requests can take, however many clients send.
pub const BODY_BUDGET_BYTES: usize = 4 * MAX_BODY_BYTES;

/// Starts the body of a 500 from `/v1/rotate` when an item does not open
/// (the reference answers an empty 500); our kubeseal looks for it.
pub const ROTATE_CANNOT_DECRYPT: &str = "error decrypting secret";

const TEXT: &str = "text/plain; charset=utf-8";

#[derive(Clone)]
pub struct ApiState {
    pub keys: Arc<KeyRegistry>,
    pub metrics: Arc<Metrics>,
    pub ready: Arc<Readiness>,
    pub limiter: Arc<RateLimiter>,
    pub pool: RsaPool,
    /// Bytes of bodies held at once ([`BODY_BUDGET_BYTES`]).
    pub bodies: BodyBudget,
    /// `--accept-deprecated-v1-data`.
    pub accept_v1_data: bool,
    /// `--web-ui`: serve the sealing page ([`ui`]).
    pub web_ui: bool,
    /// `--cluster-name`: the cluster the page says it seals for.
    pub cluster_name: Option<String>,
}

pub fn router(state: ApiState) -> Router {
    let limited = Router::new()
        .route("/v1/verify", any(verify_handler))
        .route("/v1/rotate", any(rotate_handler))
        .layer(middleware::from_fn_with_state(state.clone(), rate_limit))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    let mut api = Router::new();
    if state.web_ui {
        api = api.merge(ui::router(state.cluster_name.as_deref()));
    }
    api.route(
        "/healthz",
        any(|| async { ([(header::CONTENT_TYPE, TEXT)], "ok\n") }),
    )
    .route("/readyz", any(readyz))
    .route("/v1/cert.pem", any(cert))
    .merge(limited)
    .fallback(|| async {
        (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, TEXT)],
            "404 page not found\n",
        )
    })
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

/// Counts and times the three endpoints the reference instruments.
async fn instrument(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string());
    let response = next.run(request).await;
    if let Some(path) = path.filter(|p| p.starts_with("/v1/")) {
        state
            .metrics
            .http_request(&path, method.as_str(), response.status().as_u16(), started);
    }
    response
}

async fn readyz(State(state): State<ApiState>) -> Response {
    match state.ready.why_not() {
        None => ([(header::CONTENT_TYPE, TEXT)], "ok\n").into_response(),
        Some(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, TEXT)],
            format!("not ready: {why}\n"),
        )
            .into_response(),
    }
}

/// What `/readyz` answers: ready, or why not (no secret in it: the API
/// server's or the KMS plugin's condition, the watches).
pub struct Readiness {
    why_not: std::sync::Mutex<Option<String>>,
}

impl Readiness {
    pub fn new(why_not: &str) -> Self {
        Self {
            why_not: std::sync::Mutex::new(Some(why_not.to_string())),
        }
    }

    /// `None`: ready.
    pub fn why_not(&self) -> Option<String> {
        self.why_not
            .lock()
            .map(|w| w.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    #[cfg(test)]
    pub fn ready() -> Self {
        Self {
            why_not: std::sync::Mutex::new(None),
        }
    }

    pub fn is_ready(&self) -> bool {
        self.why_not().is_none()
    }

    pub fn set(&self, why_not: Option<String>) {
        match self.why_not.lock() {
            Ok(mut w) => *w = why_not,
            Err(poisoned) => *poisoned.into_inner() = why_not,
        }
    }
}

/// How long a request for the certificate waits for the first key: the
/// HTTP server answers before there is one while the keys wait for an API
/// server that is away, and on a replica that does not lead before the
/// leader's first key; who asks then gets it as soon as there is one.
const FIRST_KEY_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

async fn cert(State(state): State<ApiState>) -> Response {
    match first_key(&state.keys, FIRST_KEY_WAIT).await.sealing() {
        Some(entry) => (
            [(header::CONTENT_TYPE, "application/x-pem-file")],
            entry.certificate.to_pem(),
        )
            .into_response(),
        None => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "cannot get certificate\n",
        )
            .into_response(),
    }
}

/// The keys, once there is one, or as they are after `within`.
async fn first_key(
    registry: &crate::keys::KeyRegistry,
    within: std::time::Duration,
) -> Arc<crate::keys::KeySet> {
    let mut changes = registry.subscribe();
    let deadline = tokio::time::sleep(within);
    tokio::pin!(deadline);
    loop {
        let keys = changes.borrow_and_update().clone();
        if keys.sealing().is_some() {
            return keys;
        }
        tokio::select! {
            changed = changes.changed() => if changed.is_err() { return keys },
            () = &mut deadline => return keys,
        }
    }
}

fn error(code: StatusCode, message: impl std::fmt::Display) -> Response {
    (code, [(header::CONTENT_TYPE, TEXT)], format!("{message}\n")).into_response()
}

/// The body, or 413 over the limit (at once when `Content-Length` says so)
/// and 400 when it cannot be read. It is read once the budget has room for
/// it, and counts against the budget until the reservation is dropped.
async fn read(request: Request, budget: &BodyBudget) -> Result<(Bytes, Reserved), Response> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    // Without a length (chunked), the most it may be.
    let most = declared.map_or(MAX_BODY_BYTES, |n| n as usize);
    let mut reserved = budget
        .reserve(most)
        .await
        .map_err(|e| error(StatusCode::SERVICE_UNAVAILABLE, e))?;
    let body = Bytes::from_request(request, &())
        .await
        .map_err(|rejection: BytesRejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                error(
                    StatusCode::BAD_REQUEST,
                    format!("cannot read the body: {rejection}"),
                )
            }
        })?;
    reserved.shrink_to(body.len());
    Ok((body, reserved))
}

fn too_large() -> Response {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the body is larger than {MAX_BODY_BYTES} bytes: send one SealedSecret at a time"),
    )
}

/// What checking a SealedSecret found.
#[derive(Debug, PartialEq, Eq)]
pub enum Verified {
    Opens,
    DoesNotOpen,
}

/// `/v1/verify`'s work: `Err` when the body is not one SealedSecret.
pub fn verify_body(body: &[u8], keys: &KeyRing, accept_v1_data: bool) -> Result<Verified, Error> {
    if is_multi_document(body) {
        return Err(Error::MultiDocumentBody);
    }
    let sealed = decode(body)?;
    if sealed.spec.data.is_some() && !accept_v1_data {
        return Ok(Verified::DoesNotOpen);
    }
    Ok(match verify(&sealed, keys) {
        Ok(()) => Verified::Opens,
        Err(_) => Verified::DoesNotOpen,
    })
}

/// `/v1/rotate`'s work: the SealedSecret re-sealed under `newest`, as JSON.
pub fn rotate_body(
    body: &[u8],
    keys: &KeyRing,
    newest: Option<&PublicKey>,
    accept_v1_data: bool,
) -> Result<Vec<u8>, Error> {
    let sealed = decode(body)?;
    if sealed.spec.data.is_some() && !accept_v1_data {
        return Err(Error::V1DataRefused);
    }
    let newest = newest.ok_or(Error::NoSealingKey)?;
    let resealed = reencrypt(&sealed, keys, newest).map_err(Error::CannotReseal)?;
    serde_json::to_vec(&resealed).map_err(Error::EncodeSealedSecret)
}

async fn verify_handler(State(state): State<ApiState>, request: Request) -> Response {
    let (body, reserved) = match read(request, &state.bodies).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    let keys = state.keys.current();
    let accept_v1 = state.accept_v1_data;
    match state
        .pool
        .run(move || {
            let _reserved = reserved;
            verify_body(&body, keys.ring(), accept_v1)
        })
        .await
    {
        Ok(Ok(Verified::Opens)) => StatusCode::OK.into_response(),
        Ok(Ok(Verified::DoesNotOpen)) => StatusCode::CONFLICT.into_response(),
        Ok(Err(message)) => error(StatusCode::INTERNAL_SERVER_ERROR, message),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

async fn rotate_handler(State(state): State<ApiState>, request: Request) -> Response {
    let (body, reserved) = match read(request, &state.bodies).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    let keys = state.keys.current();
    let accept_v1 = state.accept_v1_data;
    let result = state
        .pool
        .run(move || {
            let _reserved = reserved;
            let sealing = keys.sealing().map(|e| e.certificate.public_key());
            rotate_body(&body, keys.ring(), sealing, accept_v1)
        })
        .await;
    match result {
        Ok(Ok(json)) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Ok(Err(message)) => error(StatusCode::INTERNAL_SERVER_ERROR, message),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

async fn rate_limit(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    let key = RateLimiter::key(request.uri().path(), request.headers());
    let decision = state.limiter.check(&key, Instant::now());
    let mut response = if decision.allowed {
        next.run(request).await
    } else {
        let mut denied = error(StatusCode::TOO_MANY_REQUESTS, "limit exceeded");
        denied.headers_mut().insert(
            header::X_CONTENT_TYPE_OPTIONS,
            header::HeaderValue::from_static("nosniff"),
        );
        denied
    };
    decision.headers(response.headers_mut());
    response
}

/// The SealedSecret in `body` (JSON, or the first YAML document), as the
/// reference's universal decoder takes it: it must say `apiVersion:
/// bitnami.com/v1alpha1` and `kind: SealedSecret`.
pub fn decode(body: &[u8]) -> Result<SealedSecret, Error> {
    let value: serde_json::Value = if looks_like_json(body) {
        serde_json::from_slice(body).map_err(Error::BodyNotJson)?
    } else {
        match serde_yaml::Deserializer::from_slice(body).next() {
            None => serde_json::Value::Null,
            Some(document) => {
                serde_json::Value::deserialize(document).map_err(Error::BodyNotYaml)?
            }
        }
    };
    let field = |name: &str| value.get(name).and_then(|v| v.as_str()).unwrap_or_default();
    let (api_version, kind) = (field("apiVersion"), field("kind"));
    if kind.is_empty() || api_version.is_empty() {
        return Err(Error::BodyKindMissing);
    }
    if api_version != "bitnami.com/v1alpha1" || kind != "SealedSecret" {
        return Err(Error::BodyKindUnexpected {
            api_version: api_version.to_string(),
            kind: kind.to_string(),
        });
    }
    serde_json::from_value(value).map_err(Error::BodyNotSealedSecret)
}

/// As Kubernetes decides: JSON when the first non-space byte is `{`.
fn looks_like_json(body: &[u8]) -> bool {
    body.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{')
}

/// As the reference's check: a second YAML document that is a mapping (or empty).
fn is_multi_document(body: &[u8]) -> bool {
    if looks_like_json(body) {
        // JSON followed by anything fails to decode anyway.
        return false;
    }
    let mut documents = serde_yaml::Deserializer::from_slice(body);
    let Some(first) = documents.next() else {
        return false;
    };
    // A first document that does not parse ends the stream (decoding then
    // says why): serde_yaml panics when asked for the document after it
    // ("unexpected end of mapping"; found by fuzz/ http_body).
    if serde::de::IgnoredAny::deserialize(first).is_err() {
        return false;
    }
    documents.next().is_some_and(|second| {
        matches!(
            serde_yaml::Value::deserialize(second),
            Ok(serde_yaml::Value::Mapping(_) | serde_yaml::Value::Null)
        )
    })
}

#[cfg(test)]
mod tests;
