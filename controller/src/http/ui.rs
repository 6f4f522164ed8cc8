//! The sealing page (`--web-ui`, off by default): a static HTML form whose
//! scripts fetch `../v1/cert.pem` and seal in the browser with WebCrypto, so
//! plaintext never leaves the page. The files live in `controller/web/` and
//! are embedded in the binary; every URL they use is relative, because the
//! page is reached under a prefix that varies (the API server's service
//! proxy, an Ingress path). `cluster.json` tells the page the cluster's
//! name (`--cluster-name`), to show which cluster it seals for.

use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// Nothing but the controller's own files and same-origin requests; no form
/// submission, no framing, no `<base>`. `data:` images only for the empty
/// favicon, so the browser does not ask the origin's root for one.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'none'; \
     frame-ancestors 'none'; base-uri 'none'";

/// A file of the page.
#[derive(Debug)]
pub struct Asset {
    /// Under `/ui/`.
    pub name: &'static str,
    pub content_type: &'static str,
    pub body: &'static str,
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JSON: &str = "application/json";

/// Under `/ui/`: `{"cluster":"oslo"}`, or `{"cluster":null}` without a name.
pub const CLUSTER_JSON: &str = "cluster.json";

/// Every file the page is made of; `""` is the page itself (`/ui/`).
pub const ASSETS: &[Asset] = &[
    Asset {
        name: "",
        content_type: HTML,
        body: include_str!("../../web/index.html"),
    },
    Asset {
        name: "style.css",
        content_type: CSS,
        body: include_str!("../../web/style.css"),
    },
    Asset {
        name: "app.js",
        content_type: JS,
        body: include_str!("../../web/app.js"),
    },
    Asset {
        name: "seal.js",
        content_type: JS,
        body: include_str!("../../web/seal.js"),
    },
    Asset {
        name: "render.js",
        content_type: JS,
        body: include_str!("../../web/render.js"),
    },
];

/// The headers every response of the page carries.
pub fn security_headers() -> [(HeaderName, HeaderValue); 5] {
    [
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    ]
}

fn serve(asset: &'static Asset) -> Response {
    (
        security_headers(),
        [(header::CONTENT_TYPE, asset.content_type)],
        asset.body,
    )
        .into_response()
}

/// The body of [`CLUSTER_JSON`]; the page shows the name as text only.
fn cluster_json(cluster_name: Option<&str>) -> String {
    serde_json::json!({ "cluster": cluster_name }).to_string()
}

/// `/` and `/ui` lead to `/ui/`. The `Location` is relative, so it stays
/// under whatever prefix the request came through.
fn to_page() -> Response {
    (
        StatusCode::FOUND,
        security_headers(),
        [(header::LOCATION, "ui/")],
    )
        .into_response()
}

/// The page's routes, to merge into the API router when `--web-ui` is on.
pub fn router<S: Clone + Send + Sync + 'static>(cluster_name: Option<&str>) -> Router<S> {
    let cluster = cluster_json(cluster_name);
    let mut router =
        Router::new()
            .route("/", get(|| async { to_page() }))
            .route("/ui", get(|| async { to_page() }))
            .route(
                &format!("/ui/{CLUSTER_JSON}"),
                get(move || {
                    let body = cluster.clone();
                    async move {
                        (security_headers(), [(header::CONTENT_TYPE, JSON)], body).into_response()
                    }
                }),
            );
    for asset in ASSETS {
        router = router.route(
            &format!("/ui/{}", asset.name),
            get(move || async { serve(asset) }),
        );
    }
    router
}

#[cfg(test)]
mod tests;
