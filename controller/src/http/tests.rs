use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt as _;
use sealed_secrets_api::crypto::PrivateKey;
use sealed_secrets_api::{seal_secret, SealOptions, Secret};
use tower::ServiceExt as _;

use super::*;
use crate::keys::KeyConfig;

fn fixture_key(name: &str) -> PrivateKey {
    let path = format!(
        "{}/../crypto/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    PrivateKey::from_pem(&std::fs::read(&path).expect("fixture")).expect("key")
}

/// `{name: db, namespace: apps}` with items `a` and `b`, sealed for `key`, as JSON.
fn sealed_json(key: &PrivateKey) -> String {
    let secret: Secret = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "db", "namespace": "apps"},
        "stringData": {"a": "1", "b": "2"},
    }))
    .expect("secret");
    let sealed = seal_secret(secret, key.public_key(), &SealOptions::default()).expect("seal");
    serde_json::to_string(&sealed).expect("json")
}

#[test]
fn only_a_bitnami_sealed_secret_decodes() {
    let key = fixture_key("key-2048.pem");
    let json = sealed_json(&key);
    assert!(decode(json.as_bytes()).is_ok());
    let as_yaml =
        serde_yaml::to_string(&serde_json::from_str::<serde_json::Value>(&json).unwrap()).unwrap();
    assert!(
        decode(as_yaml.as_bytes()).is_ok(),
        "YAML, as the reference's decoder"
    );
    for bad in [
        String::new(),
        "{not json".into(),
        "null".into(),
        json.replace("\"kind\":\"SealedSecret\"", "\"kind\":\"Secret\""),
        json.replace("\"kind\":\"SealedSecret\"", "\"kind\":\"sealedsecret\""),
        json.replace("\"kind\":\"SealedSecret\"", "\"kind\":\"SealedSecretList\""),
        json.replace("bitnami.com/v1alpha1", "bitnami.com/v1"),
        json.replace("\"apiVersion\":\"bitnami.com/v1alpha1\",", ""),
        format!("{json} trailing"),
    ] {
        assert!(decode(bad.as_bytes()).is_err(), "{bad:.80}");
    }
}

#[test]
fn a_broken_first_yaml_document_is_an_error_not_a_panic() {
    // An alias to no anchor, then a bad indentation: serde_yaml panicked
    // when asked for the second document (found by fuzz/ http_body).
    let body = b"apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  <<: *a\nname: x\n  namespace: y\n";
    let keys = KeyRing::default();
    let result = std::panic::catch_unwind(|| verify_body(body, &keys, true));
    let answer = result.expect("no panic");
    assert!(answer.is_err(), "{answer:?}");
    let result = std::panic::catch_unwind(|| rotate_body(body, &keys, None, true));
    assert!(result.expect("no panic").is_err());
}

#[test]
fn verify_answers_as_the_reference() {
    let key = fixture_key("key-2048.pem");
    let other = KeyRing::new(vec![fixture_key("key-4096.pem")]);
    let ring = KeyRing::new(vec![key.clone()]);
    let json = sealed_json(&key);
    assert_eq!(
        verify_body(json.as_bytes(), &ring, true).ok(),
        Some(Verified::Opens)
    );
    assert_eq!(
        verify_body(json.as_bytes(), &other, true).ok(),
        Some(Verified::DoesNotOpen)
    );
    let renamed = json.replace("\"name\":\"db\"", "\"name\":\"other\"");
    assert_eq!(
        verify_body(renamed.as_bytes(), &ring, true).ok(),
        Some(Verified::DoesNotOpen)
    );
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("namespace");
    let unnamespaced = value.to_string();
    assert_eq!(
        verify_body(unnamespaced.as_bytes(), &ring, true).ok(),
        Some(Verified::DoesNotOpen)
    );
    let with_data = json.replace("\"spec\":{", "\"spec\":{\"data\":\"AAAA\",");
    assert_eq!(
        verify_body(with_data.as_bytes(), &ring, true).ok(),
        Some(Verified::DoesNotOpen)
    );
    assert!(verify_body(b"", &ring, true).is_err());
    let yaml =
        serde_yaml::to_string(&serde_json::from_str::<serde_json::Value>(&json).unwrap()).unwrap();
    assert_eq!(
        verify_body(yaml.as_bytes(), &ring, true).ok(),
        Some(Verified::Opens)
    );
    let two = format!("{yaml}---\n{yaml}");
    assert!(
        verify_body(two.as_bytes(), &ring, true).is_err(),
        "several documents"
    );
    // Rotate takes the first of several documents, as the reference.
    let newest = key.public_key();
    assert!(rotate_body(two.as_bytes(), &ring, Some(newest), true).is_ok());
    let err = rotate_body(json.as_bytes(), &other, Some(newest), true).unwrap_err();
    assert!(matches!(err, Error::CannotReseal(_)), "{err}");
    assert!(err.to_string().starts_with(ROTATE_CANNOT_DECRYPT), "{err}");
    let v1 = json.replace("\"spec\":{", "\"spec\":{\"data\":\"AAAA\",");
    let err = rotate_body(v1.as_bytes(), &ring, Some(newest), false).unwrap_err();
    assert!(matches!(err, Error::V1DataRefused), "{err}");
    assert!(err.to_string().starts_with(ROTATE_CANNOT_DECRYPT), "{err}");
}

#[test]
fn rotate_keeps_the_template() {
    let key = fixture_key("key-2048.pem");
    let ring = KeyRing::new(vec![key.clone()]);
    let mut value: serde_json::Value = serde_json::from_str(&sealed_json(&key)).unwrap();
    value["spec"]["template"]["data"] = serde_json::json!({"url": "db://{{ .a }}"});
    value["spec"]["template"]["metadata"]["labels"] = serde_json::json!({"x": "y"});
    let body = serde_json::to_vec(&value).unwrap();
    let rotated = rotate_body(&body, &ring, Some(key.public_key()), true).expect("rotate");
    let rotated: serde_json::Value = serde_json::from_slice(&rotated).unwrap();
    assert_eq!(rotated["spec"]["template"], value["spec"]["template"]);
    assert_ne!(
        rotated["spec"]["encryptedData"]["a"],
        value["spec"]["encryptedData"]["a"]
    );
}

pub(super) fn state(pool: RsaPool, limiter: RateLimiter) -> ApiState {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    // Never contacted: these tests use no key.
    let config = kube::Config::new("http://127.0.0.1:9".parse().expect("url"));
    let client = kube::Client::try_from(config).expect("client");
    ApiState {
        keys: Arc::new(KeyRegistry::new(
            client,
            KeyConfig::for_tests("ns"),
            crate::keys::Custody::Plain,
        )),
        metrics: Arc::new(Metrics::default()),
        ready: Arc::new(Readiness::ready()),
        limiter: Arc::new(limiter),
        pool,
        bodies: crate::http::body_budget::BodyBudget::new(crate::http::BODY_BUDGET_BYTES),
        accept_v1_data: true,
        web_ui: false,
        cluster_name: None,
    }
}

async fn send(app: &Router, method: &str, path: &str, forwarded: &str, body: Vec<u8>) -> Response {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("x-forwarded-for", forwarded)
        .body(Body::from(body))
        .expect("request");
    app.clone().oneshot(request).await.expect("response")
}

#[tokio::test]
async fn status_codes_methods_and_limits() {
    let state = state(RsaPool::new(2), RateLimiter::new(1, 1));
    let metrics = state.metrics.clone();
    let app = router(state);
    let key = fixture_key("key-2048.pem");
    let json = sealed_json(&key).into_bytes();
    let code = |r: Response| r.status().as_u16();
    // No key is loaded: nothing opens.
    assert_eq!(
        code(send(&app, "POST", "/v1/verify", "a", json.clone()).await),
        409
    );
    assert_eq!(
        code(send(&app, "POST", "/v1/rotate", "a", json.clone()).await),
        500
    );
    assert_eq!(
        code(send(&app, "POST", "/v1/verify", "b", b"{not json".to_vec()).await),
        500
    );
    // Any method, as Go's ServeMux; arbitrary methods are counted as "unknown".
    assert_eq!(
        code(send(&app, "GET", "/v1/verify", "c", Vec::new()).await),
        500
    );
    assert_eq!(
        code(send(&app, "FOO", "/v1/verify", "d", Vec::new()).await),
        500
    );
    assert_eq!(
        code(send(&app, "GET", "/nowhere", "e", Vec::new()).await),
        404
    );
    assert_eq!(
        code(send(&app, "POST", "/healthz", "e", Vec::new()).await),
        200
    );
    let big = vec![b' '; MAX_BODY_BYTES + 1];
    assert_eq!(code(send(&app, "POST", "/v1/verify", "f", big).await), 413);

    // Same key: burst + 1 = 2 pass, then 429 with the reference's headers.
    let mut codes = Vec::new();
    for _ in 0..3 {
        codes.push(code(
            send(&app, "POST", "/v1/verify", "g", Vec::new()).await,
        ));
    }
    assert_eq!(codes, [500, 500, 429]);
    let denied = send(&app, "POST", "/v1/verify", "g", Vec::new()).await;
    assert_eq!(denied.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(denied.headers()["x-ratelimit-limit"], "2");
    assert!(denied.headers().contains_key("retry-after"));
    let text = denied.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&text[..], b"limit exceeded\n");
    // Another path has its own bucket.
    assert_eq!(
        code(send(&app, "POST", "/v1/rotate", "g", Vec::new()).await),
        500
    );

    let text = metrics.render();
    assert!(
        text.contains(r#"path="/v1/verify",code="500",method="unknown"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"path="/v1/verify",code="429",method="post"}"#),
        "{text}"
    );
    assert!(!text.contains("foo"), "{text}");
    assert!(
        !text.contains("nowhere") && !text.contains("healthz"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_and_rotate_wait_for_a_free_worker() {
    let pool = RsaPool::new(1);
    let app = router(state(pool.clone(), RateLimiter::new(100, 100)));
    let (release, wait) = std::sync::mpsc::channel::<()>();
    let busy = tokio::spawn({
        let pool = pool.clone();
        async move { pool.run(move || wait.recv()).await }
    });
    while pool.available() > 0 {
        tokio::task::yield_now().await;
    }
    for path in ["/v1/verify", "/v1/rotate"] {
        let pending = tokio::time::timeout(
            Duration::from_millis(300),
            send(&app, "POST", path, "a", b"{}".to_vec()),
        )
        .await;
        assert!(pending.is_err(), "{path} ran without a free worker");
    }
    release.send(()).expect("release");
    busy.await.expect("join").expect("pool").expect("recv");
    let answered = send(&app, "POST", "/v1/verify", "a", b"{}".to_vec()).await;
    assert_eq!(answered.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

/// The HTTP server answers while the keys load: whoever saw `/healthz` and
/// asks for the certificate at once gets it when the first key is there;
/// with none after the wait, the reference's 500.
#[tokio::test(start_paused = true)]
async fn the_certificate_waits_for_the_first_key() {
    let waiting = state(RsaPool::new(1), RateLimiter::new(100, 100));
    let keys = waiting.keys.clone();
    let app = router(waiting);
    let asked = tokio::spawn({
        let app = app.clone();
        async move { send(&app, "GET", "/v1/cert.pem", "a", Vec::new()).await }
    });
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(!asked.is_finished(), "waiting for a key");
    let key = fixture_key("key-2048.pem");
    let certificate = sealed_secrets_api::crypto::Certificate::self_signed(
        &key,
        &sealed_secrets_api::crypto::CertificateParams::default(),
    )
    .expect("certificate");
    assert!(keys.register_key(&key, &certificate));
    let response = asked.await.expect("answered");
    assert_eq!(response.status().as_u16(), 200);

    let keyless = router(state(RsaPool::new(1), RateLimiter::new(100, 100)));
    let response = send(&keyless, "GET", "/v1/cert.pem", "a", Vec::new()).await;
    assert_eq!(response.status().as_u16(), 500, "none after the wait");
}
