use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::Request;
use clap::{CommandFactory as _, Parser as _};
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

use super::*;
use crate::http::ratelimit::RateLimiter;
use crate::http::tests::state;
use crate::rsa_pool::RsaPool;

fn app(web_ui: bool) -> Router {
    named_app(web_ui, None)
}

fn named_app(web_ui: bool, cluster_name: Option<&str>) -> Router {
    let mut state = state(RsaPool::new(1), RateLimiter::new(100, 100));
    state.web_ui = web_ui;
    state.cluster_name = cluster_name.map(String::from);
    crate::http::router(state)
}

async fn body_text(response: Response) -> String {
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    String::from_utf8(bytes.to_vec()).expect("UTF-8")
}

async fn get(app: &Router, method: &str, path: &str) -> Response {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .body(Body::empty())
        .expect("request");
    app.clone().oneshot(request).await.expect("response")
}

const PATHS: [&str; 8] = [
    "/",
    "/ui",
    "/ui/",
    "/ui/app.js",
    "/ui/seal.js",
    "/ui/render.js",
    "/ui/style.css",
    "/ui/cluster.json",
];

#[test]
fn the_flag_is_off_by_default_and_takes_go_booleans() {
    let parse = |args: &[&str]| {
        crate::Args::try_parse_from(std::iter::once("controller").chain(args.iter().copied()))
            .map(|a| a.web_ui)
            .map_err(|e| e.to_string())
    };
    assert_eq!(parse(&[]), Ok(false));
    assert_eq!(parse(&["--web-ui"]), Ok(true));
    assert_eq!(parse(&["--web-ui=true"]), Ok(true));
    assert_eq!(parse(&["--web-ui=false"]), Ok(false));
    assert!(parse(&["--web-ui=maybe"]).is_err());
    let help = crate::Args::command().render_long_help().to_string();
    assert!(help.contains("SEALED_SECRETS_WEB_UI"), "{help}");
}

#[test]
fn the_cluster_name_comes_from_its_flag_or_environment() {
    let parse = |args: &[&str]| {
        crate::Args::try_parse_from(std::iter::once("controller").chain(args.iter().copied()))
            .map(|a| a.cluster_name)
            .map_err(|e| e.to_string())
    };
    assert_eq!(parse(&[]), Ok(String::new()));
    assert_eq!(parse(&["--cluster-name", "oslo"]), Ok("oslo".into()));
    let help = crate::Args::command().render_long_help().to_string();
    assert!(help.contains("SEALED_SECRETS_CLUSTER_NAME"), "{help}");
}

#[tokio::test]
async fn cluster_json_names_the_cluster_with_the_page_s_headers() {
    for (name, want) in [
        (Some("oslo"), r#"{"cluster":"oslo"}"#),
        (None, r#"{"cluster":null}"#),
    ] {
        let app = named_app(true, name);
        let response = get(&app, "GET", "/ui/cluster.json").await;
        assert_eq!(response.status(), StatusCode::OK, "{name:?}");
        assert_locked_down(&response, "/ui/cluster.json");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(body_text(response).await, want);
        assert_eq!(
            get(&app, "HEAD", "/ui/cluster.json").await.status(),
            StatusCode::OK
        );
        assert_eq!(
            get(&app, "POST", "/ui/cluster.json").await.status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
    }
    // Without --web-ui a name changes nothing: no page, no name.
    let off = named_app(false, Some("oslo"));
    let response = get(&off, "GET", "/ui/cluster.json").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(!body_text(response).await.contains("oslo"));
}

#[tokio::test]
async fn off_by_default_the_page_is_not_there() {
    let app = app(false);
    for path in PATHS {
        let response = get(&app, "GET", path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(!response
            .headers()
            .contains_key(header::CONTENT_SECURITY_POLICY));
    }
}

fn assert_locked_down(response: &Response, path: &str) {
    let headers = response.headers();
    let expect = [
        ("content-security-policy", CONTENT_SECURITY_POLICY),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
        ("x-frame-options", "DENY"),
    ];
    for (name, value) in expect {
        assert_eq!(
            headers.get(name).and_then(|v| v.to_str().ok()),
            Some(value),
            "{path}: {name}"
        );
    }
}

#[tokio::test]
async fn on_every_file_is_served_with_a_strict_policy() {
    let app = app(true);
    for asset in ASSETS {
        let path = format!("/ui/{}", asset.name);
        let response = get(&app, "GET", &path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_locked_down(&response, &path);
        assert_eq!(response.headers()[header::CONTENT_TYPE], asset.content_type);
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        assert_eq!(&body[..], asset.body.as_bytes(), "{path}");
        let head = get(&app, "HEAD", &path).await;
        assert_eq!(head.status(), StatusCode::OK, "HEAD {path}");
        assert_eq!(
            get(&app, "POST", &path).await.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "POST {path}"
        );
    }
    // Relative redirects keep any proxy prefix.
    for path in ["/", "/ui"] {
        let response = get(&app, "GET", path).await;
        assert_eq!(response.status(), StatusCode::FOUND, "{path}");
        assert_eq!(response.headers()[header::LOCATION], "ui/");
        assert_locked_down(&response, path);
    }
    assert_eq!(
        get(&app, "GET", "/ui/nothing.js").await.status(),
        StatusCode::NOT_FOUND
    );
    // The API is unchanged beside it.
    assert_eq!(get(&app, "GET", "/healthz").await.status(), StatusCode::OK);
}

#[test]
fn the_page_has_the_tags_a_phone_and_a_screen_reader_need() {
    let html = ASSETS[0].body;
    assert!(
        html.contains(r#"<meta name="viewport" content="width=device-width, initial-scale=1">"#)
    );
    assert!(html.contains("<fieldset>") && html.contains("<legend>Scope"));
    // Every input of the page has a label for it (items get theirs from the template).
    for id in ["name", "namespace", "type", "output"] {
        assert!(html.contains(&format!(r#"<label for="{id}">"#)), "{id}");
    }
    for scope in ["strict", "namespace-wide", "cluster-wide"] {
        assert!(
            html.contains(&format!(r#"<label for="scope-{scope}">"#)),
            "{scope}"
        );
    }
    for item in ["key", "value", "file"] {
        assert!(
            html.contains(&format!(r#"<label data-for="{item}">"#)),
            "{item}"
        );
        assert!(html.contains(&format!(r#"data-id="{item}""#)), "{item}");
    }
}

/// The values of `attribute="..."` in `text`.
fn attributes<'a>(text: &'a str, attribute: &str) -> Vec<&'a str> {
    let needle = format!(" {attribute}=\"");
    text.match_indices(&needle)
        .filter_map(|(at, _)| {
            let rest = &text[at + needle.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .collect()
}

/// Quoted strings in JavaScript source that start with `prefix`.
fn js_strings<'a>(source: &'a str, prefix: &str) -> Vec<&'a str> {
    let mut found = Vec::new();
    for quote in ['\'', '"'] {
        let needle = format!("{quote}{prefix}");
        for (at, _) in source.match_indices(&needle) {
            let rest = &source[at + 1..];
            if let Some(end) = rest.find(quote) {
                found.push(&rest[..end]);
            }
        }
    }
    found
}

#[test]
fn every_url_is_relative_and_served_here() {
    let names: BTreeSet<&str> = ASSETS.iter().map(|a| a.name).collect();
    let html = ASSETS[0].body;
    let mut referenced = BTreeSet::new();
    for url in attributes(html, "src")
        .into_iter()
        .chain(attributes(html, "href"))
    {
        if url == "data:," {
            continue;
        }
        assert!(names.contains(url), "{url} is not one of the page's files");
        referenced.insert(url);
    }
    for asset in ASSETS.iter().filter(|a| a.name.ends_with(".js")) {
        for module in js_strings(asset.body, "./") {
            assert!(names.contains(&module[2..]), "{}: {module}", asset.name);
            referenced.insert(&module[2..]);
        }
        let api: BTreeSet<&str> = js_strings(asset.body, "../").into_iter().collect();
        let allowed = BTreeSet::from(["../v1/cert.pem", "../v1/verify"]);
        assert!(api.is_subset(&allowed), "{}: {api:?}", asset.name);
        for absolute in ["http:", "https:", "'//", "\"//", "`//"] {
            assert!(
                !asset.body.contains(absolute),
                "{} holds {absolute}",
                asset.name
            );
        }
        // The only requests: fetch of the two API URLs above and cluster.json.
        for other in [
            "XMLHttpRequest",
            "sendBeacon",
            "WebSocket",
            "EventSource",
            "import(",
        ] {
            assert!(!asset.body.contains(other), "{} uses {other}", asset.name);
        }
        for (at, _) in asset.body.match_indices("fetch(") {
            let argument = &asset.body[at + "fetch(".len()..];
            assert!(
                argument.starts_with("CERT_URL")
                    || argument.starts_with("VERIFY_URL")
                    || argument.starts_with("CLUSTER_URL"),
                "{}: fetch({:.20}",
                asset.name,
                argument
            );
        }
    }
    let app_js = ASSETS.iter().find(|a| a.name == "app.js").expect("app.js");
    assert!(app_js.body.contains("'../v1/cert.pem'") && app_js.body.contains("'../v1/verify'"));
    assert!(app_js
        .body
        .contains(&format!("const CLUSTER_URL = '{CLUSTER_JSON}';")));
    // Every file is used, and nothing else is loaded.
    let unused: Vec<_> = names
        .iter()
        .filter(|n| !n.is_empty() && !referenced.contains(*n))
        .collect();
    assert!(unused.is_empty(), "{unused:?}");
    assert!(!ASSETS
        .iter()
        .any(|a| a.body.contains("url(") || a.body.contains("@import")));
}

#[test]
fn the_page_has_nothing_the_policy_would_block() {
    let html = ASSETS[0].body.to_ascii_lowercase();
    // Inline scripts, inline styles and event attributes need 'unsafe-inline'.
    assert_eq!(html.matches("<script").count(), 1);
    assert!(html.contains(r#"<script type="module" src="app.js"></script>"#));
    assert!(!html.contains("<style") && !html.contains(" style="));
    let event_attribute = html.match_indices(" on").any(|(at, _)| {
        let name: String = html[at + 1..]
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        html[at + 1 + name.len()..].starts_with('=')
    });
    assert!(!event_attribute, "an on...= attribute");
    assert!(!html.contains("<form action") && !html.contains(" action="));
    for asset in ASSETS.iter().filter(|a| a.name.ends_with(".js")) {
        for banned in [
            "eval(",
            "new Function",
            "innerHTML",
            "localStorage",
            "sessionStorage",
            "console.log",
        ] {
            assert!(!asset.body.contains(banned), "{} uses {banned}", asset.name);
        }
    }
}
