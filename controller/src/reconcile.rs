//! SealedSecret -> Secret. One object's failure is reported on that object
//! (status, event, metric) and never stops the others.

pub(crate) mod drift;
pub(crate) mod events;
pub(crate) mod own_writes;
mod plan;
pub(crate) mod resync;
pub(crate) mod retry;
pub(crate) mod secret_index;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, PostParams};
use kube::runtime::controller::Action;
use kube::{Client, Resource as _, ResourceExt as _};
use sealed_secrets_api::crypto::Fingerprint;
use sealed_secrets_api::{unseal, SealedSecret, UnsealOptions, MANAGED_ANNOTATION};

use self::drift::Digester;
use self::events::{EventRecorder, EventType};
use self::own_writes::OwnWrites;
use self::plan::{immutable_secret_error, next_status, plan_secret, unwritable, SecretWrite};
use self::resync::Resync;
use self::retry::Retries;
use self::secret_index::{SecretIndexes, Seen};
use crate::error::api_away;
use crate::keys::KeyRegistry;
use crate::leader::Leadership;
use crate::metrics::{ErrorReason, Metrics};
use crate::rsa_pool::RsaPool;
use crate::Error;

/// The label whose value the `condition_info` series carry.
pub const INSTANCE_LABEL: &str = "app.kubernetes.io/instance";

/// Shared by every reconcile.
pub struct Context {
    pub client: Client,
    pub keys: Arc<KeyRegistry>,
    pub metrics: Arc<Metrics>,
    pub recorder: EventRecorder,
    /// Only the leader writes (`--leader-elect`); always true without election.
    pub leadership: Arc<Leadership>,
    pub update_status: bool,
    /// Write kstatus' `Ready`, `Stalled` and `Reconciling` next to `Synced`
    /// (`--kstatus-conditions`); without, they are removed.
    pub kstatus_conditions: bool,
    pub accept_v1_data: bool,
    /// When a SealedSecret whose Secret could not be written is tried again.
    pub retries: Retries,
    /// Which key opened each SealedSecret last time (by uid), kept only when
    /// statuses (which record it) are not written: tried first.
    last_key: Mutex<HashMap<String, Fingerprint>>,
    /// Which Secrets exist, per the metadata watch of Secrets.
    pub secrets: SecretIndexes,
    /// Put back Secrets edited by hand (`--revert-drift`).
    pub revert_drift: bool,
    /// Digests of what was written, to notice hand edits ([`drift`]).
    digester: Digester,
    /// Our status writes the cache has not shown yet.
    pub own_writes: Arc<OwnWrites>,
    /// Reconciles everything again; told when the API server was away.
    pub resync: Arc<Resync>,
    /// Threads for the RSA work of unsealing.
    unseal_pool: RsaPool,
    /// The installed CRD drops `status.keyFingerprint` (the reference's CRD
    /// has no such field): seen once, the key is no longer written, nor
    /// SealedSecrets unsealed again only to learn it.
    fingerprint_dropped: AtomicBool,
}

/// How reconciles behave: from the flags, and the parts they share.
pub struct Settings {
    /// `--update-status`.
    pub update_status: bool,
    /// `--kstatus-conditions`.
    pub kstatus_conditions: bool,
    /// `--revert-drift`.
    pub revert_drift: bool,
    /// `--accept-deprecated-v1-data`.
    pub accept_v1_data: bool,
    /// `--max-unseal-retries`, `--unseal-retry-period`.
    pub retries: Retries,
    /// Only the leader writes (`--leader-elect`).
    pub leadership: Arc<Leadership>,
    /// The Secret watches' indexes (none with `--skip-recreate`).
    pub secrets: SecretIndexes,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            update_status: true,
            kstatus_conditions: true,
            revert_drift: true,
            accept_v1_data: true,
            retries: Retries::default(),
            leadership: Leadership::always(),
            secrets: SecretIndexes::default(),
        }
    }
}

impl Context {
    pub fn new(
        client: Client,
        keys: Arc<KeyRegistry>,
        metrics: Arc<Metrics>,
        recorder: EventRecorder,
        settings: Settings,
    ) -> Self {
        let Settings {
            update_status,
            kstatus_conditions,
            revert_drift,
            accept_v1_data,
            retries,
            leadership,
            secrets,
        } = settings;
        Self {
            resync: Resync::new(Arc::clone(&metrics)),
            client,
            keys,
            metrics,
            recorder,
            leadership,
            update_status,
            kstatus_conditions,
            accept_v1_data,
            retries,
            last_key: Mutex::default(),
            secrets,
            revert_drift,
            digester: Digester::default(),
            own_writes: Arc::default(),
            unseal_pool: RsaPool::per_cpu(),
            fingerprint_dropped: AtomicBool::new(false),
        }
    }

    /// Drops what is kept about a SealedSecret that is gone.
    pub fn forget(&self, uid: &str) {
        self.retries.forget(uid);
        self.own_writes.forget(uid);
        if let Ok(mut last_key) = self.last_key.lock() {
            last_key.remove(uid);
        }
    }

    /// Drops what is kept about every SealedSecret not in `live` (uids): a
    /// relist can miss the deletes that happened while the watch was down.
    pub fn forget_all_but(&self, live: &std::collections::HashSet<String>) {
        self.retries.retain(|uid| live.contains(uid));
        if let Ok(mut last_key) = self.last_key.lock() {
            last_key.retain(|uid, _| live.contains(uid));
        }
    }

    #[cfg(test)]
    pub(crate) fn remembered_keys(&self) -> usize {
        self.last_key.lock().map_or(0, |m| m.len())
    }
}

/// What syncing did.
enum Synced {
    /// Whether the Secret was written, which key opened the values, and
    /// the keys put back after a hand edit.
    Done {
        changed: bool,
        key: Option<Fingerprint>,
        restored: Option<String>,
    },
    /// The SealedSecret is no longer there.
    Gone,
    /// Leadership was lost before the write: the new leader does it.
    NotLeader,
}

/// Why a reconcile failed, to report it.
#[derive(Debug)]
struct Failure {
    kind: FailureKind,
    /// The status message: the reference's text first, where it reports
    /// the same failure, then perhaps what to do.
    message: String,
    /// The event's text, where the reference words it otherwise.
    event: Option<String>,
}

impl Failure {
    fn new(kind: FailureKind, message: String) -> Self {
        Self {
            kind,
            message,
            event: None,
        }
    }
}

/// The kinds of failure, each with its `Ready` reason (README, "When a
/// SealedSecret fails").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FailureKind {
    /// An item no key opens (or not base64).
    DecryptFailed,
    /// `spec.template.data` does not render.
    TemplateFailed,
    /// Both `data` and `encryptedData`, or a refused or invalid `data`.
    InvalidSealedSecret,
    /// The unsealing worker itself failed.
    UnsealFailed,
    /// A Secret of that name that the SealedSecret does not own.
    SecretNotManaged,
    /// The API server refuses the Secret (key names, size).
    SecretInvalid,
    SecretImmutable,
    /// Another refusal of a request: tried again.
    UpdateFailed,
    /// The Secret to create exists after all (created meanwhile): tried again.
    Exists,
    /// The API server was away (unreachable, timed out, 5xx, 429): tried
    /// again, and at once when it answers again.
    ApiUnavailable,
}

impl FailureKind {
    /// The CamelCase `reason` of the `Ready` condition.
    fn reason(self) -> &'static str {
        use crate::reason;
        match self {
            FailureKind::DecryptFailed => reason::DECRYPT_FAILED,
            FailureKind::TemplateFailed => reason::TEMPLATE_FAILED,
            FailureKind::InvalidSealedSecret => reason::INVALID_SEALED_SECRET,
            FailureKind::UnsealFailed => reason::UNSEAL_FAILED,
            FailureKind::SecretNotManaged => reason::SECRET_NOT_MANAGED,
            FailureKind::SecretInvalid => reason::SECRET_INVALID,
            FailureKind::SecretImmutable => reason::SECRET_IMMUTABLE,
            FailureKind::UpdateFailed | FailureKind::Exists => reason::UPDATE_FAILED,
            FailureKind::ApiUnavailable => reason::API_UNAVAILABLE,
        }
    }

    /// Whether trying again can help (else only a change does: `Stalled`).
    fn retrying(self) -> bool {
        matches!(
            self,
            FailureKind::UpdateFailed | FailureKind::Exists | FailureKind::ApiUnavailable
        )
    }

    /// The reference's `reason` label of `unseal_errors_total`, and its event reason.
    fn reference_reason(self) -> (ErrorReason, &'static str) {
        match self {
            FailureKind::DecryptFailed
            | FailureKind::TemplateFailed
            | FailureKind::InvalidSealedSecret
            | FailureKind::UnsealFailed => (ErrorReason::Unseal, "ErrUnsealFailed"),
            FailureKind::SecretNotManaged => (ErrorReason::Unmanaged, "ErrUpdateFailed"),
            _ => (ErrorReason::Update, "ErrUpdateFailed"),
        }
    }
}

pub async fn reconcile(cached: Arc<SealedSecret>, ctx: Arc<Context>) -> Result<Action, Error> {
    // A replica that does not lead only keeps its cache warm; gaining the
    // lead reconciles everything (lib.rs).
    if !ctx.leadership.is_leader() {
        return Ok(Action::await_change());
    }
    ctx.metrics.unseal_request();
    // The echo of our own write (the Secret's event came before the status
    // update reached the cache): already done.
    if ctx.own_writes.cache_behind(&cached) {
        return Ok(Action::await_change());
    }
    let namespace = cached.namespace().ok_or(Error::NoNamespace)?;
    let uid = cached.uid().unwrap_or_default();
    let cached_version = cached.resource_version();

    let mut sealed = cached;
    let outcome = sync_secret(&mut sealed, &namespace, &uid, &ctx).await;
    let mut key = None;
    let (failure, retry) = match outcome {
        // Deleted (or replaced) since it was cached: its own event follows.
        Ok(Synced::Gone) => {
            ctx.forget(&uid);
            return Ok(Action::await_change());
        }
        Ok(Synced::NotLeader) => return Ok(Action::await_change()),
        Ok(Synced::Done {
            changed,
            key: used,
            restored,
        }) => {
            key = used;
            ctx.retries.forget(&uid);
            if let Some(keys) = restored {
                let note = format!(
                    "Secret {:?} was edited outside its SealedSecret: {keys}",
                    sealed.name_any()
                );
                tracing::info!(namespace = %namespace, name = %sealed.name_any(), keys = %keys, "put back a Secret edited by hand");
                publish(&ctx, &sealed, EventType::Normal, "SecretRestored", &note).await;
            } else if changed {
                publish(
                    &ctx,
                    &sealed,
                    EventType::Normal,
                    "Unsealed",
                    "SealedSecret unsealed successfully",
                )
                .await;
            }
            (None, None)
        }
        Err(failure) => {
            let retry = report(&ctx, &sealed, &namespace, &uid, &failure).await;
            (Some(failure), retry)
        }
    };
    let key = key
        .as_ref()
        .map(Fingerprint::as_str)
        .filter(|_| !ctx.fingerprint_dropped.load(Ordering::Relaxed));
    // The versions this reconcile saw: the cache's, and the one it processed.
    let seen = [cached_version, sealed.resource_version()];
    let shown = failure.as_ref().map(|f| plan::Failure {
        reason: f.kind.reason(),
        message: &f.message,
        retrying: f.kind.retrying(),
    });
    let status_in_place = update_status(&ctx, &sealed, &namespace, shown, key, seen).await;
    // A status that still says what was true before is tried again, as a
    // Secret that could not be written is.
    let retry = match retry {
        None if !status_in_place => ctx.retries.failed(&uid, sealed.metadata.generation),
        retry => retry,
    };
    Ok(retry.map_or_else(Action::await_change, Action::requeue))
}

/// Unseals and writes the Secret; whether the cluster changed, and which key
/// opened it. `sealed` comes from the cache, without its encrypted values:
/// when it needs unsealing it is replaced by the object read from the API
/// server, which the status then describes.
async fn sync_secret(
    sealed: &mut Arc<SealedSecret>,
    namespace: &str,
    uid: &str,
    ctx: &Context,
) -> Result<Synced, Failure> {
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), namespace);
    let name = sealed.name_any();
    // Already synced at this generation and its Secret is there: nothing to
    // decrypt. Our own status update, a new key or a restart lands here, and
    // needs only to know the Secret exists, not its data. Unless the status
    // does not say which key opens it (synced by the reference controller,
    // or while the reference's CRD was installed): then it is unsealed once
    // more to record that, which `kubeseal admin keys prune` relies on.
    let key_unrecorded = |sealed: &SealedSecret| {
        ctx.update_status
            && !ctx.fingerprint_dropped.load(Ordering::Relaxed)
            && sealed
                .status
                .as_ref()
                .is_none_or(|s| s.key_fingerprint.is_none())
    };
    let done = Synced::Done {
        changed: false,
        key: None,
        restored: None,
    };
    // A Secret edited by hand since (its version moved on) is read: put
    // back if its data differs from what was written.
    let mut drifted = false;
    let mut existing = if synced_at_current_generation(sealed) && !key_unrecorded(sealed) {
        if !secret_exists(ctx, &api, namespace, &name).await? {
            Existing::Read(None)
        } else if !drift::reverts(sealed, ctx.revert_drift)
            || !ctx.secrets.drifted(namespace, &name)
        {
            return Ok(done);
        } else {
            let found = api.get_opt(&name).await.map_err(read_failed)?;
            let recorded = ctx.secrets.digests(namespace, &name);
            match (found, recorded) {
                (Some(found), Some(recorded))
                    if ctx.digester.holds(
                        &recorded,
                        found.data.as_ref(),
                        plan::patched(&found),
                    ) =>
                {
                    if let Some(version) = found.metadata.resource_version.as_deref() {
                        ctx.secrets.holds(namespace, &name, version, None);
                    }
                    return Ok(done);
                }
                (found, _) => {
                    drifted = found.is_some();
                    Existing::Read(found.map(Box::new))
                }
            }
        }
    } else {
        existing_secret(ctx, &api, namespace, &name).await?
    };
    let sealed_api: Api<SealedSecret> = Api::namespaced(ctx.client.clone(), namespace);
    match sealed_api.get_opt(&name).await {
        Ok(Some(full)) if full.uid().as_deref() == Some(uid) => *sealed = Arc::new(full),
        Ok(_) => return Ok(Synced::Gone),
        Err(e) => {
            return Err(api_failure(
                &e,
                format!("cannot read SealedSecret {name:?}: {}", api_message(&e)),
            ))
        }
    }

    // The cache lags behind our own writes: the object just read may show
    // that this generation was synced meanwhile (an event for the Secret we
    // wrote can arrive before the status update reaches the cache).
    if synced_at_current_generation(sealed) && !key_unrecorded(sealed) && !drifted {
        match existing {
            Existing::Read(Some(_)) => return Ok(done),
            Existing::Read(None) => {}
            Existing::NotSeen => {
                if secret_exists(ctx, &api, namespace, &name).await? {
                    return Ok(done);
                }
                existing = Existing::Read(None);
            }
        }
    }

    let keys = ctx.keys.current();
    // The key that opened it last: recorded in the status just read, or
    // remembered here when statuses are not written (--update-status=false).
    let preferred = sealed
        .status
        .as_ref()
        .and_then(|status| status.key_fingerprint.as_deref())
        .and_then(|recorded| {
            keys.ring()
                .keys()
                .iter()
                .map(|k| k.fingerprint())
                .find(|fp| fp.as_str() == recorded)
                .cloned()
        })
        .or_else(|| ctx.last_key.lock().ok()?.get(uid).cloned());
    let accept_v1 = ctx.accept_v1_data;
    let input = sealed.clone();
    // RSA work runs on a pool of one blocking thread per core: reconciles
    // waiting for the API server do not hold a core, and many at once do not
    // pile up threads.
    let unsealed = ctx
        .unseal_pool
        .run(move || {
            let options = UnsealOptions {
                accept_deprecated_v1_data: accept_v1,
                templates: &sealed_secrets_api::TEMPLATES,
                preferred_key: preferred.as_ref(),
            };
            unseal(&input, keys.ring(), &options)
        })
        .await
        .map_err(|e| {
            Failure::new(
                FailureKind::UnsealFailed,
                format!("unsealing worker failed: {e}"),
            )
        })?
        .map_err(|e| unseal_failure(&e))?;
    let used = unsealed.key.clone();
    if !ctx.update_status {
        if let (Some(fp), Ok(mut m)) = (unsealed.key, ctx.last_key.lock()) {
            m.insert(uid.to_string(), fp);
        }
    }

    // In `patch` mode keys others added stay; otherwise the Secret holds
    // what the SealedSecret says, and only that.
    let patch = [Some(&unsealed.secret), existing.found()]
        .into_iter()
        .flatten()
        .any(plan::patched);
    let digests = ctx.digester.digests(unsealed.secret.data.as_ref());
    let restored = match &existing {
        Existing::Read(Some(found)) if drifted => Some(drift::restored_keys(
            found.data.as_ref(),
            unsealed.secret.data.as_ref(),
            patch,
        )),
        _ => None,
    };
    let written = match existing {
        Existing::Read(found) => {
            write_secret(ctx, &api, found.map(|s| *s), unsealed.secret, sealed).await?
        }
        Existing::NotSeen => {
            // The watch has never seen it: create at once. If it is there
            // after all (the watch lags), read it and decide as usual.
            match write_secret(ctx, &api, None, unsealed.secret.clone(), sealed).await {
                Err(Failure {
                    kind: FailureKind::Exists,
                    ..
                }) => {
                    let found = api.get_opt(&name).await.map_err(read_failed)?;
                    write_secret(ctx, &api, found, unsealed.secret, sealed).await?
                }
                other => other?,
            }
        }
    };
    let Some(written) = written else {
        return Ok(Synced::NotLeader);
    };
    if let Some(version) = written.version.as_deref() {
        ctx.secrets.holds(namespace, &name, version, Some(digests));
    }
    Ok(Synced::Done {
        changed: written.changed,
        key: used,
        restored: restored.filter(|keys| written.changed && !keys.is_empty()),
    })
}

/// What writing the Secret did.
struct Written {
    /// Whether the cluster changed.
    changed: bool,
    /// The Secret's resourceVersion after: it holds what the SealedSecret says.
    version: Option<String>,
}

/// The Secret as the reconcile knows it before unsealing.
enum Existing {
    /// Read from the API server (`None`: there is none).
    Read(Option<Box<Secret>>),
    /// The Secret watch, fully listed, has never seen it: most likely none.
    NotSeen,
}

impl Existing {
    fn found(&self) -> Option<&Secret> {
        match self {
            Existing::Read(Some(found)) => Some(found),
            _ => None,
        }
    }
}

/// A failed read of the Secret: the API server's message, as the reference's.
fn read_failed(e: kube::Error) -> Failure {
    api_failure(&e, api_message(&e))
}

/// A failed request: the API server away, or this request refused.
fn api_failure(e: &kube::Error, message: String) -> Failure {
    let kind = if api_away(e) {
        FailureKind::ApiUnavailable
    } else {
        FailureKind::UpdateFailed
    };
    Failure::new(kind, message)
}

/// Whether the Secret exists: the watch's word when it has seen it, else the
/// API server's (metadata only).
async fn secret_exists(
    ctx: &Context,
    api: &Api<Secret>,
    namespace: &str,
    name: &str,
) -> Result<bool, Failure> {
    if ctx.secrets.seen(namespace, name) == Seen::Present {
        return Ok(true);
    }
    Ok(api
        .get_metadata_opt(name)
        .await
        .map_err(read_failed)?
        .is_some())
}

/// The Secret an unsynced SealedSecret is about to write over: read, unless
/// the watch says there is none.
async fn existing_secret(
    ctx: &Context,
    api: &Api<Secret>,
    namespace: &str,
    name: &str,
) -> Result<Existing, Failure> {
    if ctx.secrets.seen(namespace, name) == Seen::Absent {
        return Ok(Existing::NotSeen);
    }
    Ok(Existing::Read(
        api.get_opt(name).await.map_err(read_failed)?.map(Box::new),
    ))
}

/// Writes `desired` over `existing` as the plan says, or `None` when
/// leadership was lost before the write.
async fn write_secret(
    ctx: &Context,
    api: &Api<Secret>,
    existing: Option<Secret>,
    desired: Secret,
    sealed: &SealedSecret,
) -> Result<Option<Written>, Failure> {
    let name = sealed.name_any();
    let namespace = sealed.namespace().unwrap_or_default();
    let existing_version = existing
        .as_ref()
        .and_then(|s| s.metadata.resource_version.clone());
    let plan = plan_secret(existing, desired, sealed);
    if matches!(plan, Ok(SecretWrite::Create(_) | SecretWrite::Replace(_)))
        && !ctx.leadership.is_leader()
    {
        return Ok(None);
    }
    match plan {
        Err(unmanaged) => Err(Failure {
            kind: FailureKind::SecretNotManaged,
            message: format!(
                "failed update: {unmanaged}. Delete that Secret, or annotate it \
                 {MANAGED_ANNOTATION}=true for this SealedSecret to take it over"
            ),
            event: Some(unmanaged.to_string()),
        }),
        Ok(SecretWrite::Unchanged) => Ok(Some(Written {
            changed: false,
            version: existing_version,
        })),
        Ok(SecretWrite::Create(secret)) => {
            match api.create(&PostParams::default(), &secret).await {
                Err(kube::Error::Api(s)) if s.code == 409 && s.reason == "AlreadyExists" => {
                    Err(Failure::new(FailureKind::Exists, s.message))
                }
                other => {
                    let created =
                        other.map_err(|e| write_failure(e, &namespace, &name, &secret))?;
                    ctx.secrets.created(&namespace, &name);
                    Ok(Some(Written {
                        changed: true,
                        version: created.metadata.resource_version,
                    }))
                }
            }
        }
        Ok(SecretWrite::Replace(secret)) => api
            .replace(&name, &PostParams::default(), &secret)
            .await
            .map(|replaced| {
                Some(Written {
                    changed: true,
                    version: replaced.metadata.resource_version,
                })
            })
            .map_err(|e| write_failure(e, &namespace, &name, &secret)),
    }
}

/// Why unsealing failed, in the reference's words, and for items no key
/// opens, what to do about it.
fn unseal_failure(e: &sealed_secrets_api::Error) -> Failure {
    use sealed_secrets_api::Error as Api;
    let kind = match e {
        _ if e.is_key_failure() => FailureKind::DecryptFailed,
        Api::Items(_) => FailureKind::TemplateFailed,
        _ => FailureKind::InvalidSealedSecret,
    };
    let message = if kind == FailureKind::DecryptFailed {
        format!(
            "{e}. Seal these items again with this controller's certificate (kubeseal --fetch-cert), \
             for this name, namespace and scope, or restore the key they were sealed with"
        )
    } else {
        e.to_string()
    };
    Failure::new(kind, message)
}

fn synced_at_current_generation(sealed: &SealedSecret) -> bool {
    sealed.status.as_ref().is_some_and(|status| {
        status.observed_generation.is_some()
            && status.observed_generation == sealed.metadata.generation
            && status
                .conditions
                .iter()
                .any(|c| c.type_ == "Synced" && c.status == "True")
    })
}

/// A refused write of the Secret: the API server's message first, as the
/// reference's status shows it.
fn write_failure(err: kube::Error, namespace: &str, name: &str, secret: &Secret) -> Failure {
    let kube::Error::Api(status) = &err else {
        return api_failure(&err, api_message(&err));
    };
    if immutable_secret_error(status.code, &status.message) {
        return Failure {
            kind: FailureKind::SecretImmutable,
            message: format!(
                "{}. The target Secret is immutable: delete it, and the controller creates it anew",
                plan::shorten(&status.message, 1024)
            ),
            event: Some(format!(
                "Error updating {namespace}/{name}: the target Secret is immutable. Once a Secret is marked as immutable, it is not possible to revert this change nor to mutate the contents of the data field. You can only delete and recreate the Secret."
            )),
        };
    }
    // The API server's own validation (`Secret "db" is invalid: ...`):
    // retrying cannot help, the Secret's keys, size, labels or type are
    // wrong. Other 422s, an admission policy's refusal, may be lifted.
    if status.code == 422
        && status
            .message
            .starts_with(&format!("Secret {name:?} is invalid: "))
    {
        let mut message = plan::shorten(&status.message, 1024);
        if let Some(hint) = unwritable(secret) {
            message.push_str(". ");
            message.push_str(&hint);
        }
        return Failure::new(FailureKind::SecretInvalid, message);
    }
    api_failure(&err, api_message(&err))
}

/// The API server's own message for an API error (as the reference shows
/// Go's `StatusError.Error()`), not kube's debug form of the whole status.
/// kubeseal has the same five lines (cli/src/cluster/api_error.rs).
fn api_message(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(status) if !status.message.is_empty() => status.message.clone(),
        other => other.to_string(),
    }
}

/// Records a failure (event, metric, log); returns when to try again
/// (`None`: when something changes).
async fn report(
    ctx: &Context,
    sealed: &SealedSecret,
    namespace: &str,
    uid: &str,
    failure: &Failure,
) -> Option<Duration> {
    let (metric_reason, event_reason) = failure.kind.reference_reason();
    if failure.kind == FailureKind::ApiUnavailable {
        ctx.resync.api_away();
    }
    // The reference's event says "Failed to unseal: " before an unseal failure.
    let event = match (&failure.event, metric_reason) {
        (Some(event), _) => event.clone(),
        (None, ErrorReason::Unseal) => format!("Failed to unseal: {}", failure.message),
        (None, _) => failure.message.clone(),
    };
    ctx.metrics.unseal_error(metric_reason, namespace);
    tracing::warn!(namespace, name = %sealed.name_any(), reason = failure.kind.reason(), message = %event, "cannot unseal");
    publish(ctx, sealed, EventType::Warning, event_reason, &event).await;
    if failure.kind.retrying() {
        ctx.retries.failed(uid, sealed.metadata.generation)
    } else {
        None
    }
}

async fn publish(ctx: &Context, sealed: &SealedSecret, type_: EventType, reason: &str, note: &str) {
    if !ctx.leadership.is_leader() {
        return;
    }
    if let Err(e) = ctx
        .recorder
        .publish(&sealed.object_ref(&()), type_, reason, note)
        .await
    {
        tracing::warn!(error = %e, "cannot publish event");
    }
}

/// Writes the status that describes this reconcile (`seen`: the versions of
/// the object it saw, for [`OwnWrites`]); whether the status is now right
/// (written, or nothing to write), or must be tried again.
async fn update_status(
    ctx: &Context,
    sealed: &SealedSecret,
    namespace: &str,
    failure: Option<plan::Failure<'_>>,
    key: Option<&str>,
    seen: [Option<String>; 2],
) -> bool {
    let name = sealed.name_any();
    let instance = sealed
        .labels()
        .get(INSTANCE_LABEL)
        .cloned()
        .unwrap_or_default();
    if !ctx.update_status {
        ctx.metrics
            .condition(namespace, &name, &instance, failure.is_none());
        return true;
    }
    if !ctx.leadership.is_leader() {
        // The gate remembers the refusal and reconciles everything when it reopens.
        return true;
    }
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    let kstatus = ctx.kstatus_conditions;
    let Some(status) = next_status(sealed, failure, key, now.clone(), kstatus) else {
        ctx.metrics
            .condition(namespace, &name, &instance, failure.is_none());
        return true;
    };
    let api: Api<SealedSecret> = Api::namespaced(ctx.client.clone(), namespace);
    match write_status(&api, sealed, status, failure, key, now, kstatus).await {
        Ok(StatusWrite::GaveUp) => {
            ctx.metrics.unseal_error(ErrorReason::Status, namespace);
            tracing::warn!(namespace, name = %name, attempts = STATUS_ATTEMPTS, "cannot update SealedSecret status: it kept changing under us; trying again");
            false
        }
        Ok(outcome) => {
            let written = match outcome {
                StatusWrite::Written(written) => Some(*written),
                _ => None,
            };
            if let (None, Some(written)) = (failure, written.as_ref()) {
                ctx.own_writes.record(written, seen);
            }
            let dropped = key.is_some()
                && written.as_ref().is_some_and(|w| {
                    w.status
                        .as_ref()
                        .is_none_or(|s| s.key_fingerprint.is_none())
                });
            if dropped && !ctx.fingerprint_dropped.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    "the installed SealedSecret CRD drops status.keyFingerprint (the reference's CRD has no such field): \
                     `kubeseal admin keys` cannot tell which key each SealedSecret needs. Install this project's \
                     manifests/crd.yaml (the reference controller works with it too) and restart the controller"
                );
            }
            ctx.metrics
                .condition(namespace, &name, &instance, failure.is_none());
            true
        }
        Err(e) => {
            ctx.metrics.unseal_error(ErrorReason::Status, namespace);
            if api_away(&e) {
                ctx.resync.api_away();
            }
            tracing::warn!(namespace, name = %name, error = %api_message(&e), "cannot update SealedSecret status; trying again");
            false
        }
    }
}

/// What became of a status write.
enum StatusWrite {
    Written(Box<SealedSecret>),
    /// Not needed any more: deleted, replaced, changed (its own reconcile
    /// writes the status), or someone wrote the same status.
    Superseded,
    /// Conflicts on every attempt.
    GaveUp,
}

/// How often a status write is retried after a conflict (someone else
/// changed the object between our read and our write).
const STATUS_ATTEMPTS: usize = 5;

/// Replaces the status subresource (RBAC verb `update`, as the reference's
/// `UpdateStatus`; the reference's roles grant no `patch` on it), guarded by
/// the resourceVersion `processed` was read at. On a conflict the object is
/// read again and the status recomputed from it, unless its generation moved
/// on: the status must describe the generation that was processed, and the
/// change triggers its own reconcile. The object as written, if it was.
async fn write_status(
    api: &Api<SealedSecret>,
    processed: &SealedSecret,
    mut status: sealed_secrets_api::SealedSecretStatus,
    failure: Option<plan::Failure<'_>>,
    key: Option<&str>,
    now: Time,
    kstatus: bool,
) -> Result<StatusWrite, kube::Error> {
    let name = processed.name_any();
    let mut current = processed.clone();
    for attempt in 1..=STATUS_ATTEMPTS {
        current.status = Some(status);
        match api
            .replace_status(&name, &PostParams::default(), &current)
            .await
        {
            Err(kube::Error::Api(s)) if s.code == 409 && attempt < STATUS_ATTEMPTS => {}
            Err(kube::Error::Api(s)) if s.code == 409 => return Ok(StatusWrite::GaveUp),
            other => return other.map(|w| StatusWrite::Written(Box::new(w))),
        }
        let Some(fresh) = api.get_opt(&name).await? else {
            return Ok(StatusWrite::Superseded); // deleted meanwhile
        };
        if fresh.uid() != processed.uid()
            || fresh.metadata.generation != processed.metadata.generation
        {
            return Ok(StatusWrite::Superseded); // replaced or changed: its own reconcile writes the status
        }
        match next_status(&fresh, failure, key, now.clone(), kstatus) {
            Some(next) => status = next,
            None => return Ok(StatusWrite::Superseded), // someone wrote the same status already
        }
        current = fresh;
    }
    Ok(StatusWrite::GaveUp)
}

/// Errors escaping `reconcile` (none expected): retry after a pause.
pub fn error_policy(_sealed: Arc<SealedSecret>, error: &Error, _ctx: Arc<Context>) -> Action {
    tracing::warn!(error = %error, "reconcile failed");
    Action::requeue(Duration::from_secs(5))
}

#[cfg(test)]
mod tests;
