//! The reconciler's tests. Most run `reconcile` against a scripted API
//! server: which requests it makes, and the paths a real cluster cannot be
//! made to take on demand (the Secret watch lagging behind a Secret someone
//! else just created).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::http::{Method, Request, Response, StatusCode};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::client::Body;
use kube::runtime::watcher;
use sealed_secrets_api::crypto::{Certificate, CertificateParams, PrivateKey};
use sealed_secrets_api::{seal_secret, SealOptions};
use serde_json::{json, Value};

use super::*;
use crate::keys::KeyConfig;
use crate::reconcile::secret_index::SecretIndex;

const NAMESPACE: &str = "apps";
const NAME: &str = "db";
const UID: &str = "0f9d3c52-6f3c-4c7e-9a57-7d2b1b7c0001";

/// What the scripted API server holds, and the requests it answered.
struct Cluster {
    /// The SealedSecret, with the last status written.
    sealed: Mutex<SealedSecret>,
    secret: Mutex<Option<Secret>>,
    requests: Mutex<Vec<String>>,
    status_writes: Mutex<Vec<Value>>,
    /// How the next status writes are refused (each answer used once).
    status_refusals: Mutex<Vec<StatusCode>>,
}

fn respond(code: StatusCode, body: &Value) -> Response<Body> {
    let mut response = Response::new(Body::from(body.to_string().into_bytes()));
    *response.status_mut() = code;
    response
}

fn status(code: StatusCode, reason: &str, message: &str) -> Response<Body> {
    respond(
        code,
        &json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                "reason": reason, "message": message, "code": code.as_u16()}),
    )
}

/// A Secret as the API server stores it: with a new resourceVersion.
fn with_new_version(mut secret: Value) -> Value {
    static VERSIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(100);
    let version = VERSIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    secret["metadata"]["resourceVersion"] = json!(version.to_string());
    secret
}

impl Cluster {
    /// Someone edits the Secret (`kubectl edit`): its new version, as the
    /// metadata watch reports it to `index`.
    fn edit_secret(&self, index: &SecretIndex, edit: impl FnOnce(&mut Secret)) {
        let mut held = self.secret.lock().expect("secret");
        let Some(secret) = held.as_mut() else {
            panic!("no Secret to edit")
        };
        edit(secret);
        let stored: Secret = serde_json::from_value(with_new_version(
            serde_json::to_value(&*secret).expect("json"),
        ))
        .expect("secret");
        *secret = stored.clone();
        index.observe(&Ok(watcher::Event::Apply(metadata_of(&stored))));
    }

    async fn answer(&self, request: Request<Body>) -> Response<Body> {
        let method = request.method().clone();
        let path = request.uri().path().to_string();
        let bytes = http_body_util::BodyExt::collect(request.into_body())
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let sealed_path =
            format!("/apis/bitnami.com/v1alpha1/namespaces/{NAMESPACE}/sealedsecrets/{NAME}");
        let secrets_path = format!("/api/v1/namespaces/{NAMESPACE}/secrets");
        let secret_path = format!("{secrets_path}/{NAME}");
        if path.ends_with("/events") {
            // The recorder's own requests are not what these tests count.
            return respond(StatusCode::CREATED, &body);
        }
        self.requests
            .lock()
            .expect("log")
            .push(format!("{method} {path}"));
        let mut secret = self.secret.lock().expect("secret");
        match (&method, path.as_str()) {
            (&Method::GET, p) if p == sealed_path => respond(
                StatusCode::OK,
                &serde_json::to_value(&*self.sealed.lock().expect("sealed")).expect("json"),
            ),
            (&Method::PUT, p) if p == format!("{sealed_path}/status") => {
                let refusal = {
                    let mut refusals = self.status_refusals.lock().expect("refusals");
                    (!refusals.is_empty()).then(|| refusals.remove(0))
                };
                if let Some(code) = refusal {
                    let reason = code.canonical_reason().unwrap_or("Error");
                    return status(code, reason, "refused by the script");
                }
                self.status_writes
                    .lock()
                    .expect("writes")
                    .push(body.clone());
                let mut written = body;
                written["metadata"]["resourceVersion"] = json!("2");
                if let Ok(status) = serde_json::from_value(written["status"].clone()) {
                    self.sealed.lock().expect("sealed").status = Some(status);
                }
                respond(StatusCode::OK, &written)
            }
            (&Method::POST, p) if p == secrets_path => match secret.as_ref() {
                Some(_) => status(
                    StatusCode::CONFLICT,
                    "AlreadyExists",
                    "secrets \"db\" already exists",
                ),
                None => {
                    let written = with_new_version(body);
                    *secret = serde_json::from_value(written.clone()).ok();
                    respond(StatusCode::CREATED, &written)
                }
            },
            (&Method::GET, p) if p == secret_path => match secret.as_ref() {
                Some(s) => respond(StatusCode::OK, &serde_json::to_value(s).expect("json")),
                None => status(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    "secrets \"db\" not found",
                ),
            },
            (&Method::PUT, p) if p == secret_path => {
                let written = with_new_version(body);
                *secret = serde_json::from_value(written.clone()).ok();
                respond(StatusCode::OK, &written)
            }
            _ => status(StatusCode::NOT_FOUND, "NotFound", "not scripted"),
        }
    }

    fn requests(&self) -> Vec<String> {
        std::mem::take(&mut *self.requests.lock().expect("log"))
    }
}

/// A context whose only key sealed `db` in `apps`, talking to `cluster`,
/// with a Secret index that has listed `apps` and seen no Secret.
fn setup(existing: Option<Secret>) -> (Arc<Cluster>, Arc<Context>, Arc<SealedSecret>) {
    let (cluster, ctx, cached, _) = setup_indexed(existing, |_| {});
    (cluster, ctx, cached)
}

/// [`setup`], with the context adjusted by `adjust` and the Secret index.
fn setup_indexed(
    existing: Option<Secret>,
    adjust: impl FnOnce(&mut Settings),
) -> (
    Arc<Cluster>,
    Arc<Context>,
    Arc<SealedSecret>,
    Arc<SecretIndex>,
) {
    let key = PrivateKey::generate(2048).expect("key");
    let certificate = Certificate::self_signed(
        &key,
        &CertificateParams {
            common_name: String::new(),
            not_before: SystemTime::now(),
            valid_for: Duration::from_secs(3600),
        },
    )
    .expect("certificate");
    let mut plain = Secret::default();
    plain.metadata.name = Some(NAME.into());
    plain.metadata.namespace = Some(NAMESPACE.into());
    plain.string_data = Some(BTreeMap::from([("password".into(), "hunter2".into())]));
    let mut sealed =
        seal_secret(plain, certificate.public_key(), &SealOptions::default()).expect("seal");
    sealed.metadata.uid = Some(UID.into());
    sealed.metadata.generation = Some(1);
    sealed.metadata.resource_version = Some("1".into());

    let cluster = Arc::new(Cluster {
        sealed: Mutex::new(sealed.clone()),
        secret: Mutex::new(existing),
        requests: Mutex::default(),
        status_writes: Mutex::default(),
        status_refusals: Mutex::default(),
    });
    let answering = cluster.clone();
    let service = tower::service_fn(move |request: Request<Body>| {
        let cluster = answering.clone();
        async move { Ok::<_, std::convert::Infallible>(cluster.answer(request).await) }
    });
    let client = Client::new(service, NAMESPACE);

    let registry = KeyRegistry::new(
        client.clone(),
        KeyConfig::for_tests("kube-system"),
        crate::keys::Custody::Plain,
    );
    assert!(registry.register_key(&key, &certificate));

    let index = Arc::new(SecretIndex::new(Some(NAMESPACE.into())));
    index.observe(&Ok(watcher::Event::Init));
    index.observe(&Ok(watcher::Event::InitDone));
    let mut settings = Settings::default();
    settings.secrets.push(index.clone());
    adjust(&mut settings);
    let ctx = Context::new(
        client.clone(),
        Arc::new(registry),
        Arc::new(Metrics::new(false)),
        EventRecorder::new(client, None),
        settings,
    );

    // As the cache keeps it: no encrypted values.
    let mut cached = sealed;
    cached.spec.encrypted_data = Default::default();
    (cluster, Arc::new(ctx), Arc::new(cached), index)
}

fn owned_secret() -> Secret {
    let mut secret = Secret::default();
    secret.metadata.name = Some(NAME.into());
    secret.metadata.namespace = Some(NAMESPACE.into());
    secret.metadata.owner_references = Some(vec![OwnerReference {
        api_version: sealed_secrets_api::API_VERSION.into(),
        kind: sealed_secrets_api::KIND.into(),
        name: NAME.into(),
        uid: UID.into(),
        controller: Some(true),
        ..OwnerReference::default()
    }]);
    secret
}

fn synced_message(write: &Value) -> (String, String) {
    let condition = &write["status"]["conditions"][0];
    (
        condition["status"].as_str().unwrap_or_default().to_string(),
        condition["message"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

#[tokio::test]
async fn a_cold_start_reads_the_object_once_and_its_echoes_cost_nothing() {
    let (cluster, ctx, cached) = setup(None);
    reconcile(cached.clone(), ctx.clone())
        .await
        .expect("reconcile");
    let sealed_path =
        format!("/apis/bitnami.com/v1alpha1/namespaces/{NAMESPACE}/sealedsecrets/{NAME}");
    assert_eq!(
        cluster.requests(),
        [
            format!("GET {sealed_path}"),
            format!("POST /api/v1/namespaces/{NAMESPACE}/secrets"),
            format!("PUT {sealed_path}/status"),
        ],
        "no read of a Secret the watch has never seen"
    );
    let writes = cluster.status_writes.lock().expect("writes").clone();
    assert_eq!(synced_message(&writes[0]).0, "True");

    // The Secret's event, while the cache still holds the version from
    // before the status write.
    reconcile(cached.clone(), ctx.clone()).await.expect("echo");
    assert_eq!(cluster.requests(), Vec::<String>::new());

    // The status write's own event: synced, and the Secret just created
    // counts as there before the watch reports it.
    let mut written: SealedSecret =
        serde_json::from_value(writes[0].clone()).expect("written object");
    written.metadata.resource_version = Some("2".into());
    written.spec.encrypted_data = Default::default();
    reconcile(Arc::new(written), ctx)
        .await
        .expect("status echo");
    assert_eq!(cluster.requests(), Vec::<String>::new());
}

#[tokio::test]
async fn a_secret_the_watch_has_not_seen_yet_is_read_when_the_create_is_refused() {
    // Someone else's Secret, created just before: the index has not seen it.
    let mut unmanaged = Secret::default();
    unmanaged.metadata.name = Some(NAME.into());
    unmanaged.metadata.namespace = Some(NAMESPACE.into());
    let (cluster, ctx, cached) = setup(Some(unmanaged));
    reconcile(cached, ctx).await.expect("reconcile");
    let requests = cluster.requests();
    let secret_path = format!("/api/v1/namespaces/{NAMESPACE}/secrets/{NAME}");
    assert!(
        requests.contains(&format!("GET {secret_path}")),
        "{requests:?}"
    );
    assert!(
        !requests.contains(&format!("PUT {secret_path}")),
        "an unmanaged Secret is never written: {requests:?}"
    );
    let writes = cluster.status_writes.lock().expect("writes").clone();
    let (synced, message) = synced_message(&writes[0]);
    assert_eq!(synced, "False");
    assert!(
        message.contains("already exists and is not managed by SealedSecret"),
        "{message}"
    );
    assert!(!message.contains("hunter2"));
}

#[tokio::test]
async fn our_own_secret_the_watch_has_not_seen_yet_is_updated_in_place() {
    let (cluster, ctx, cached) = setup(Some(owned_secret()));
    reconcile(cached, ctx).await.expect("reconcile");
    let requests = cluster.requests();
    let secret_path = format!("/api/v1/namespaces/{NAMESPACE}/secrets/{NAME}");
    assert_eq!(
        requests[1..4],
        [
            format!("POST /api/v1/namespaces/{NAMESPACE}/secrets"),
            format!("GET {secret_path}"),
            format!("PUT {secret_path}"),
        ],
        "{requests:?}"
    );
    let secret = cluster
        .secret
        .lock()
        .expect("secret")
        .clone()
        .expect("Secret");
    assert!(secret.data.unwrap_or_default().contains_key("password"));
    let writes = cluster.status_writes.lock().expect("writes").clone();
    assert_eq!(synced_message(&writes[0]).0, "True");
}

#[test]
fn items_no_key_opens_say_what_to_do() {
    use sealed_secrets_api::{crypto, Error as ApiError, ItemErrors};
    let mut items = ItemErrors::default();
    items.push("password", crypto::Error::NoKeyCouldDecrypt);
    let failure = unseal_failure(&ApiError::Items(items));
    assert_eq!(failure.kind, FailureKind::DecryptFailed);
    assert!(
        failure
            .message
            .starts_with("no key could decrypt secret (password). Seal these items again"),
        "{failure:?}"
    );
    let invalid = unseal_failure(&ApiError::DeprecatedData);
    assert_eq!(invalid.kind, FailureKind::InvalidSealedSecret);
    assert_eq!(invalid.message, ApiError::DeprecatedData.to_string());
    let mut templates = ItemErrors::default();
    let Err(unclosed) = sealed_secrets_api::gotemplate::Template::new("dsn").parse("{{ .k ") else {
        panic!("an unclosed action parses");
    };
    templates.push_template("dsn", unclosed);
    let template = unseal_failure(&ApiError::Items(templates));
    assert_eq!(template.kind, FailureKind::TemplateFailed);
    assert_eq!(template.message, "template: dsn:1: unclosed action (dsn)");
}

#[test]
fn a_failed_write_shows_the_api_servers_message() {
    let status: kube::core::Status = serde_json::from_value(serde_json::json!({
        "status": "Failure",
        "code": 403,
        "reason": "Forbidden",
        "message": "secrets \"db\" is forbidden: denied by policy",
    }))
    .expect("status");
    let failure = write_failure(
        kube::Error::Api(Box::new(status)),
        "ns",
        "db",
        &Secret::default(),
    );
    assert_eq!(failure.kind, FailureKind::UpdateFailed);
    assert_eq!(
        failure.message,
        "secrets \"db\" is forbidden: denied by policy"
    );
}

/// The API server's refusals that no retry can change are Stalled, with
/// its message first; immutable Secrets keep the reference's event text.
#[test]
fn refusals_that_need_a_change_stall() {
    let refused = |code: u16, reason: &str, message: &str| {
        let status = kube::core::Status::failure(message, reason).with_code(code);
        let secret = Secret {
            data: Some([("a b".to_string(), k8s_openapi::ByteString(vec![1]))].into()),
            ..Default::default()
        };
        write_failure(kube::Error::Api(status.boxed()), "ns", "db", &secret)
    };
    let invalid = refused(
        422,
        "Invalid",
        "Secret \"db\" is invalid: data[a b]: Invalid value: \"a b\": a valid config key must consist of alphanumeric characters",
    );
    assert_eq!(invalid.kind, FailureKind::SecretInvalid);
    assert!(!invalid.kind.retrying());
    assert!(
        invalid
            .message
            .starts_with("Secret \"db\" is invalid: data[a b]: Invalid value"),
        "{invalid:?}"
    );
    assert!(
        invalid
            .message
            .ends_with("rename the items and seal them again"),
        "{invalid:?}"
    );
    let immutable = refused(
        422,
        "Invalid",
        "Secret \"db\" is invalid: data: Forbidden: field is immutable when `immutable` is set",
    );
    assert_eq!(immutable.kind, FailureKind::SecretImmutable);
    assert!(immutable.message.starts_with(
        "Secret \"db\" is invalid: data: Forbidden: field is immutable when `immutable` is set. "
    ));
    assert!(immutable
        .event
        .as_deref()
        .is_some_and(|e| e.starts_with("Error updating ns/db: the target Secret is immutable.")));
    let long = refused(
        422,
        "Invalid",
        &format!("Secret \"db\" is invalid: {}", "x".repeat(100_000)),
    );
    assert_eq!(long.kind, FailureKind::SecretInvalid);
    assert!(long.message.len() < 2_000, "bounded");
    // An admission policy's refusal may be lifted: tried again.
    let policy = refused(
        422,
        "Invalid",
        "secrets \"db\" is forbidden: ValidatingAdmissionPolicy 'p' with binding 'b' denied request: not now",
    );
    assert_eq!(policy.kind, FailureKind::UpdateFailed);
    assert!(policy.kind.retrying());
}

/// A status write that fails leaves the status saying what was true before
/// (after an outage: `Synced=False` over a Secret that is right): it is tried
/// again, as a Secret that could not be written is, and the next attempt
/// writes it.
#[tokio::test]
async fn a_failed_status_write_is_tried_again() {
    let (cluster, ctx, cached) = setup(None);
    cluster
        .status_refusals
        .lock()
        .expect("refusals")
        .push(StatusCode::SERVICE_UNAVAILABLE);
    let action = reconcile(cached.clone(), ctx.clone())
        .await
        .expect("reconcile");
    assert_eq!(action, Action::requeue(Duration::from_secs(1)));
    assert!(cluster.status_writes.lock().expect("writes").is_empty());
    assert!(cluster.secret.lock().expect("secret").is_some());

    let action = reconcile(cached, ctx).await.expect("again");
    assert_eq!(action, Action::await_change());
    let writes = cluster.status_writes.lock().expect("writes").clone();
    assert_eq!(synced_message(&writes[0]).0, "True");
}

/// Conflicts on every attempt: the status is not in place, so it is tried again.
#[tokio::test]
async fn a_status_write_that_conflicts_every_time_is_tried_again() {
    let (cluster, ctx, cached) = setup(None);
    cluster
        .status_refusals
        .lock()
        .expect("refusals")
        .extend([StatusCode::CONFLICT; STATUS_ATTEMPTS]);
    let action = reconcile(cached, ctx).await.expect("reconcile");
    assert_eq!(action, Action::requeue(Duration::from_secs(1)));
    assert!(cluster.status_writes.lock().expect("writes").is_empty());
}

/// Our status write and someone else's label edit at the same generation
/// reach the cache as one version: not one we saw, so it is reconciled, and
/// a Secret deleted meanwhile is written again at once.
#[tokio::test]
async fn a_version_newer_than_our_write_is_reconciled() {
    let (cluster, ctx, cached, index) = setup_indexed(None, |_| {});
    reconcile(cached, ctx.clone()).await.expect("reconcile");
    let writes = cluster.status_writes.lock().expect("writes").clone();
    let mut edited: SealedSecret =
        serde_json::from_value(writes[0].clone()).expect("written object");
    edited.metadata.resource_version = Some("3".into());
    edited.spec.encrypted_data = Default::default();
    cluster.requests();
    // The Secret was deleted (its event came, the index knows).
    *cluster.secret.lock().expect("secret") = None;
    index.observe(&Ok(watcher::Event::Delete(kube::core::PartialObjectMeta {
        types: None,
        metadata: owned_secret().metadata,
        _phantom: std::marker::PhantomData,
    })));
    reconcile(Arc::new(edited), ctx).await.expect("edited");
    let requests = cluster.requests();
    assert!(
        requests.contains(&format!("POST /api/v1/namespaces/{NAMESPACE}/secrets")),
        "the Secret is made again: {requests:?}"
    );
}

/// A read that fails because the API server is away arms the probe that
/// reconciles everything once it answers (not the slow retry period).
#[tokio::test]
async fn a_failure_of_an_absent_api_server_is_told_to_the_resync() {
    let (_cluster, ctx, cached) = setup(None);
    let failed_with = |code: u16, reason: &str| {
        let status = kube::core::Status::failure("m", reason).with_code(code);
        api_failure(&kube::Error::Api(status.boxed()), "cannot read".into())
    };
    let failure = failed_with(503, "ServiceUnavailable");
    assert_eq!(failure.kind, FailureKind::ApiUnavailable);
    let away = ctx.resync.api_away_changes();
    let retry = report(&ctx, &cached, NAMESPACE, UID, &failure).await;
    assert_eq!(retry, Some(Duration::from_secs(1)));
    assert!(away.has_changed().unwrap_or(false));
    let refused = failed_with(403, "Forbidden");
    assert_eq!(refused.kind, FailureKind::UpdateFailed);
}

/// What is kept per SealedSecret goes when it is deleted, also while it was
/// failing, and when a relist no longer holds it.
#[tokio::test]
async fn nothing_is_kept_about_a_sealed_secret_that_is_gone() {
    // Without statuses, the key that opened each one is remembered here.
    let (_cluster, ctx, cached, _) = setup_indexed(None, |s| s.update_status = false);
    reconcile(cached, ctx.clone()).await.expect("reconcile");
    assert_eq!(ctx.remembered_keys(), 1);
    ctx.forget(UID);
    assert_eq!(ctx.remembered_keys(), 0);

    ctx.retries.failed("failing", Some(1));
    ctx.retries.failed("kept", Some(1));
    ctx.forget("failing");
    assert_eq!(ctx.retries.failing(), 1);
    ctx.retries.failed("gone-in-gap", Some(1));
    ctx.forget_all_but(&std::collections::HashSet::from(["kept".to_string()]));
    assert_eq!(ctx.retries.failing(), 1);
    assert_eq!(ctx.remembered_keys(), 0);
}

/// An edit that sets one item of a Secret's data.
fn set_item(key: &'static str, value: &'static str) -> impl FnOnce(&mut Secret) {
    move |s| {
        s.data.get_or_insert_default().insert(
            key.into(),
            k8s_openapi::ByteString(value.as_bytes().to_vec()),
        );
    }
}

/// What the metadata watch of Secrets sees of `secret`.
fn metadata_of(secret: &Secret) -> kube::core::PartialObjectMeta<Secret> {
    kube::core::PartialObjectMeta {
        types: None,
        metadata: secret.metadata.clone(),
        _phantom: std::marker::PhantomData,
    }
}

fn data_of(cluster: &Cluster) -> BTreeMap<String, String> {
    let secret = cluster
        .secret
        .lock()
        .expect("secret")
        .clone()
        .expect("Secret");
    secret
        .data
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, String::from_utf8_lossy(&v.0).into_owned()))
        .collect()
}

/// A hand edit of the data is put back; an edit of anything else costs one
/// read and no unsealing; a key added to a `patch` Secret stays, one added
/// to a Secret the SealedSecret owns goes.
#[tokio::test]
async fn hand_edits_of_the_data_are_put_back_and_nothing_else_unseals() {
    let (cluster, ctx, cached, index) = setup_indexed(None, |_| {});
    reconcile(cached.clone(), ctx.clone())
        .await
        .expect("create");
    let created = cluster
        .secret
        .lock()
        .expect("secret")
        .clone()
        .expect("Secret");
    index.observe(&Ok(watcher::Event::Apply(metadata_of(&created))));
    let writes = cluster.status_writes.lock().expect("writes").clone();
    let mut synced: SealedSecret = serde_json::from_value(writes[0].clone()).expect("written");
    synced.metadata.resource_version = Some("2".into());
    synced.spec.encrypted_data = Default::default();
    let synced = Arc::new(synced);
    cluster.requests();

    let sealed_path =
        format!("/apis/bitnami.com/v1alpha1/namespaces/{NAMESPACE}/sealedsecrets/{NAME}");
    let secret_path = format!("/api/v1/namespaces/{NAMESPACE}/secrets/{NAME}");
    // Our own write's event: nothing to do.
    reconcile(synced.clone(), ctx.clone()).await.expect("echo");
    assert_eq!(cluster.requests(), Vec::<String>::new());

    cluster.edit_secret(&index, |s| {
        s.data.get_or_insert_default().insert(
            "password".into(),
            k8s_openapi::ByteString(b"edited".to_vec()),
        );
    });
    reconcile(synced.clone(), ctx.clone()).await.expect("drift");
    assert_eq!(
        cluster.requests(),
        [
            format!("GET {secret_path}"),
            format!("GET {sealed_path}"),
            format!("PUT {secret_path}"),
        ]
    );
    assert_eq!(data_of(&cluster)["password"], "hunter2");
    let restored = cluster
        .secret
        .lock()
        .expect("secret")
        .clone()
        .expect("Secret");
    index.observe(&Ok(watcher::Event::Apply(metadata_of(&restored))));
    reconcile(synced.clone(), ctx.clone())
        .await
        .expect("echo of the restore");
    assert_eq!(cluster.requests(), Vec::<String>::new());

    // A label: one read, no unsealing, no write; many of them, the same.
    for i in 0..3 {
        cluster.edit_secret(&index, |s| {
            s.metadata
                .labels
                .get_or_insert_default()
                .insert("team".into(), format!("t{i}"));
        });
        reconcile(synced.clone(), ctx.clone()).await.expect("label");
        assert_eq!(cluster.requests(), [format!("GET {secret_path}")]);
    }

    // A key added to the Secret the SealedSecret owns goes.
    cluster.edit_secret(&index, set_item("extra", "x"));
    reconcile(synced.clone(), ctx.clone())
        .await
        .expect("extra key");
    assert!(!data_of(&cluster).contains_key("extra"));

    // In patch mode it stays, and costs no unsealing.
    cluster.edit_secret(&index, |s| {
        s.metadata
            .annotations
            .get_or_insert_default()
            .insert(sealed_secrets_api::PATCH_ANNOTATION.into(), "true".into());
    });
    reconcile(synced.clone(), ctx.clone())
        .await
        .expect("patch mode");
    cluster.requests();
    cluster.edit_secret(&index, set_item("theirs", "kept"));
    reconcile(synced.clone(), ctx.clone())
        .await
        .expect("their key");
    assert_eq!(cluster.requests(), [format!("GET {secret_path}")]);
    assert_eq!(data_of(&cluster)["theirs"], "kept");

    // Turned off: nothing read, nothing put back.
    let (cluster, ctx, cached, index) = setup_indexed(None, |s| s.revert_drift = false);
    reconcile(cached, ctx.clone()).await.expect("create");
    let writes = cluster.status_writes.lock().expect("writes").clone();
    let mut synced: SealedSecret = serde_json::from_value(writes[0].clone()).expect("written");
    synced.metadata.resource_version = Some("2".into());
    synced.spec.encrypted_data = Default::default();
    cluster.requests();
    cluster.edit_secret(&index, |s| {
        s.data.get_or_insert_default().insert(
            "password".into(),
            k8s_openapi::ByteString(b"edited".to_vec()),
        );
    });
    reconcile(Arc::new(synced), ctx).await.expect("off");
    assert_eq!(cluster.requests(), Vec::<String>::new());
    assert_eq!(data_of(&cluster)["password"], "edited");
}
