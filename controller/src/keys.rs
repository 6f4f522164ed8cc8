//! The key registry: every sealing key Secret in the controller's namespace,
//! newest first. Loads at start, picks up keys others create, makes new ones
//! on schedule or on demand, and never deletes any.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::StreamExt as _;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ListParams, PostParams};
use kube::runtime::{watcher, WatchStreamExt as _};
use kube::Client;
use sealed_secrets_crypto::{Certificate, CertificateParams, Fingerprint, KeyRing, PrivateKey};
use tokio::sync::{watch, Mutex};

use crate::leader::Leadership;
use crate::Error;

pub use sealed_secrets_api::keys::KEY_LABEL_SELECTOR;

/// How keys are ordered to choose the one that seals: shared with `kubeseal admin keys`.
pub use sealed_secrets_api::keys::{KeyOrder, KeyRank};

/// What new keys look like (the reference's key flags).
#[derive(Debug, Clone)]
pub struct KeyConfig {
    pub namespace: String,
    pub prefix: String,
    pub bits: usize,
    pub ttl: Duration,
    pub common_name: String,
    pub order: KeyOrder,
    pub extra_labels: Vec<(String, String)>,
    pub extra_annotations: Vec<(String, String)>,
}

#[cfg(test)]
impl KeyConfig {
    /// Small keys (2048 bits) in `namespace`, everything else as the defaults.
    pub(crate) fn for_tests(namespace: &str) -> Self {
        Self {
            namespace: namespace.into(),
            prefix: "sealed-secrets-key".into(),
            bits: 2048,
            ttl: Duration::from_secs(3600),
            common_name: String::new(),
            order: KeyOrder::CertNotBefore,
            extra_labels: Vec::new(),
            extra_annotations: Vec::new(),
        }
    }
}

/// One sealing key and where it came from.
#[derive(Debug, Clone)]
pub struct KeyEntry {
    pub secret_name: String,
    pub key: PrivateKey,
    pub certificate: Certificate,
    /// Where it stands among the others (`--key-order-priority`).
    pub rank: KeyRank,
}

impl KeyEntry {
    /// The time keys are ordered by: renewal counts from the newest's.
    pub fn order_time(&self) -> SystemTime {
        self.rank.time()
    }
}

/// A snapshot of all keys, newest first.
#[derive(Debug, Default)]
pub struct KeySet {
    entries: Vec<KeyEntry>,
    ring: KeyRing,
}

impl KeySet {
    fn new(mut entries: Vec<KeyEntry>) -> Self {
        entries.sort_by(|a, b| sealed_secrets_api::keys::newest_first(&a.rank, &b.rank));
        let ring = KeyRing::new(entries.iter().map(|e| e.key.clone()).collect());
        Self { entries, ring }
    }

    pub fn entries(&self) -> &[KeyEntry] {
        &self.entries
    }

    pub fn ring(&self) -> &KeyRing {
        &self.ring
    }

    /// The key that seals: the newest.
    pub fn newest(&self) -> Option<&KeyEntry> {
        self.entries.first()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn contains(&self, fingerprint: &Fingerprint) -> bool {
        self.entries
            .iter()
            .any(|e| e.key.fingerprint() == fingerprint)
    }
}

pub struct KeyRegistry {
    api: Api<Secret>,
    config: KeyConfig,
    state: watch::Sender<Arc<KeySet>>,
    // Serialises key creation so a timer and a signal never make two keys at once.
    creating: Mutex<()>,
}

impl KeyRegistry {
    pub fn new(client: Client, config: KeyConfig) -> Self {
        let api = Api::namespaced(client, &config.namespace);
        let (state, _) = watch::channel(Arc::new(KeySet::default()));
        Self {
            api,
            config,
            state,
            creating: Mutex::new(()),
        }
    }

    pub fn current(&self) -> Arc<KeySet> {
        self.state.borrow().clone()
    }

    /// Notified whenever the set of keys changes.
    pub fn subscribe(&self) -> watch::Receiver<Arc<KeySet>> {
        self.state.subscribe()
    }

    /// Loads every labelled key Secret and the legacy `<prefix>` Secret.
    pub async fn load(&self) -> Result<(), Error> {
        let mut secrets = self
            .api
            .list(&ListParams::default().labels(KEY_LABEL_SELECTOR))
            .await
            .map_err(Error::KeyLoad)?
            .items;
        if let Some(legacy) = self
            .api
            .get_opt(&self.config.prefix)
            .await
            .map_err(Error::KeyLoad)?
        {
            secrets.push(legacy);
        }
        for secret in &secrets {
            self.register(secret);
        }
        tracing::info!(keys = self.current().entries().len(), namespace = %self.config.namespace, "loaded sealing keys");
        Ok(())
    }

    /// Adds a key Secret if it holds a key not yet known; true when added.
    /// A broken key Secret is logged and skipped: it must not stop the others.
    pub fn register(&self, secret: &Secret) -> bool {
        let name = secret.metadata.name.clone().unwrap_or_default();
        let entry = match parse_key_secret(secret, self.config.order) {
            Ok(entry) => entry,
            Err(reason) => {
                tracing::error!(secret = %name, reason = %reason, "skipping unreadable key Secret");
                return false;
            }
        };
        self.state.send_if_modified(|set| {
            if set.contains(entry.key.fingerprint()) {
                return false;
            }
            let mut entries = set.entries().to_vec();
            tracing::info!(secret = %name, fingerprint = %entry.key.fingerprint(), "registered private key");
            entries.push(entry);
            *set = Arc::new(KeySet::new(entries));
            true
        })
    }

    /// Registers `key` as if its key Secret had been listed.
    #[cfg(test)]
    pub(crate) fn register_key(&self, key: &PrivateKey, certificate: &Certificate) -> bool {
        let secret = self.key_secret(key, certificate).expect("key Secret");
        self.register(&secret)
    }

    /// Makes a key when there is none, or when the newest predates `cutoff`;
    /// stores it only if `may_write` still says so once it is generated.
    pub async fn ensure_key(
        &self,
        cutoff: Option<SystemTime>,
        may_write: impl Fn() -> bool,
    ) -> Result<(), Error> {
        let current = self.current();
        let stale = match (current.newest(), cutoff) {
            (None, _) => true,
            (Some(newest), Some(cutoff)) => newest.order_time() < cutoff,
            (Some(_), None) => false,
        };
        if stale {
            self.create_key(may_write).await?;
        }
        Ok(())
    }

    /// Generates a key, stores it as a new key Secret, and makes it the
    /// sealing key. Generating takes seconds: `may_write` (leadership) is
    /// asked again once the key exists, right before it is stored, so a
    /// replica that lost the lead meanwhile adds no key beside its
    /// successor's.
    pub async fn create_key(&self, may_write: impl Fn() -> bool) -> Result<(), Error> {
        let _guard = self.creating.lock().await;
        let bits = self.config.bits;
        let params = CertificateParams {
            common_name: self.config.common_name.clone(),
            not_before: SystemTime::now(),
            valid_for: self.config.ttl,
        };
        // RSA generation takes a second or more: keep it off the async workers.
        let (key, certificate) = tokio::task::spawn_blocking(move || {
            let key = PrivateKey::generate(bits)?;
            let cert = Certificate::self_signed(&key, &params)?;
            Ok::<_, sealed_secrets_crypto::Error>((key, cert))
        })
        .await?
        .map_err(Error::KeyGeneration)?;

        if !may_write() {
            tracing::warn!("lost the lead while generating a sealing key: not storing it");
            return Ok(());
        }
        let secret = self.key_secret(&key, &certificate)?;
        let created = self
            .api
            .create(&PostParams::default(), &secret)
            .await
            .map_err(Error::KeyStore)?;
        let name = created.metadata.name.clone().unwrap_or_default();
        tracing::info!(secret = %name, fingerprint = %key.fingerprint(), "created new sealing key");
        self.register(&created);
        Ok(())
    }

    fn key_secret(&self, key: &PrivateKey, cert: &Certificate) -> Result<Secret, Error> {
        sealed_secrets_api::keys::key_secret(
            &self.config.namespace,
            &self.config.prefix,
            key,
            cert,
            &self.config.extra_labels,
            &self.config.extra_annotations,
        )
        .map_err(Error::KeySecret)
    }

    /// Follows key Secrets others create (an admin, a restore, another controller).
    pub async fn watch(self: Arc<Self>) {
        let config = watcher::Config::default().labels(KEY_LABEL_SELECTOR);
        let mut events = watcher::watcher(self.api.clone(), config)
            .default_backoff()
            .boxed();
        while let Some(event) = events.next().await {
            match event {
                Ok(watcher::Event::Apply(secret) | watcher::Event::InitApply(secret)) => {
                    self.register(&secret);
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "key Secret watch failed; retrying"),
            }
        }
    }

    /// Renews the key every `period` after the newest one (never when zero),
    /// and whenever `requests` fires (SIGUSR1, a request through the leader
    /// Lease); makes the first key, or one past `cutoff`, on start. Only
    /// while leading: other replicas just follow the keys the leader makes.
    pub async fn renew(
        self: Arc<Self>,
        period: Duration,
        mut requests: tokio::sync::mpsc::Receiver<()>,
        leadership: Arc<Leadership>,
        cutoff: Option<SystemTime>,
    ) {
        let mut keys = self.subscribe();
        let mut leading = leadership.subscribe();
        let mut checked_first_key = false;
        loop {
            if !checked_first_key && leadership.is_leader() {
                // A new leader reads the keys again: its predecessor may have
                // made one its watch has not delivered yet.
                let reloaded = if leadership.is_elected() {
                    self.load().await
                } else {
                    Ok(())
                };
                let ensured = match reloaded {
                    Ok(()) => self.ensure_key(cutoff, || leadership.is_leader()).await,
                    Err(e) => Err(e),
                };
                match ensured {
                    Ok(()) => checked_first_key = true,
                    Err(e) => tracing::error!(error = %e, "cannot create a sealing key; retrying"),
                }
            }
            let newest = self.current().newest().map(KeyEntry::order_time);
            let wait = renewal_wait(period, newest, SystemTime::now(), leadership.is_leader());
            let retry_first_key =
                (!checked_first_key && leadership.is_leader()).then_some(Duration::from_secs(5));
            let reason = tokio::select! {
                _ = sleep_for(wait) => "renew period elapsed",
                signal = requests.recv() => match signal { Some(()) => "requested", None => return },
                // A key made elsewhere (kubeseal admin keys rotate, another
                // leader) moves the schedule; so does gaining the lead.
                changed = keys.changed() => { if changed.is_err() { return } continue }
                changed = leading.changed() => {
                    if changed.is_err() { return }
                    if !leadership.is_leader() { checked_first_key = false; }
                    continue
                }
                _ = sleep_for(retry_first_key) => continue,
            };
            if !leadership.is_leader() {
                continue;
            }
            tracing::info!(reason, "generating a new sealing key");
            if let Err(e) = self.create_key(|| leadership.is_leader()).await {
                tracing::error!(error = %e, "cannot create a new sealing key; retrying in 1m");
                tokio::time::sleep(Duration::from_secs(60)).await;
            }
        }
    }
}

/// How long until the next scheduled key (`None`: no timer). Only the
/// leader keeps the schedule: a replica that does not lead waits for the
/// lead (a timer that is due at once would wake it in a loop for as long as
/// the leader has not made the key).
fn renewal_wait(
    period: Duration,
    newest: Option<SystemTime>,
    now: SystemTime,
    leading: bool,
) -> Option<Duration> {
    if period.is_zero() || !leading {
        return None;
    }
    let newest = newest.unwrap_or(now);
    Some(
        (newest + period)
            .duration_since(now)
            .unwrap_or(Duration::ZERO),
    )
}

async fn sleep_for(wait: Option<Duration>) {
    match wait {
        Some(w) => tokio::time::sleep(w).await,
        None => std::future::pending().await,
    }
}

fn parse_key_secret(
    secret: &Secret,
    order: KeyOrder,
) -> Result<KeyEntry, sealed_secrets_api::Error> {
    let (key, certificate) = sealed_secrets_api::keys::read_key_secret(secret)?;
    Ok(KeyEntry {
        secret_name: secret.metadata.name.clone().unwrap_or_default(),
        rank: KeyRank::of(order, secret, &certificate),
        key,
        certificate,
    })
}

/// `--key-cutoff-time`: RFC 1123 with a numeric zone, e.g. `Mon, 02 Jan 2006 15:04:05 -0700`.
pub fn parse_cutoff(text: &str) -> Result<Option<SystemTime>, Error> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let zoned = k8s_openapi::jiff::fmt::rfc2822::parse(text.trim()).map_err(|e| Error::Flag {
        flag: "key-cutoff-time",
        reason: format!("{text:?}: {e}; expected e.g. \"Mon, 02 Jan 2006 15:04:05 -0700\""),
    })?;
    let secs = zoned.timestamp().as_second();
    Ok(Some(if secs >= 0 {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs as u64)
    } else {
        SystemTime::UNIX_EPOCH
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_set_is_ordered_by_the_shared_rank() {
        let entry = |name: &str, created: i64| {
            let key = PrivateKey::generate(2048).expect("keygen");
            let params = CertificateParams {
                not_before: SystemTime::UNIX_EPOCH + Duration::from_secs(1000),
                ..CertificateParams::default()
            };
            let certificate = Certificate::self_signed(&key, &params).expect("cert");
            let mut secret = Secret::default();
            secret.metadata.name = Some(name.into());
            secret.metadata.creation_timestamp =
                Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                    k8s_openapi::jiff::Timestamp::from_second(created).expect("time"),
                ));
            KeyEntry {
                secret_name: name.into(),
                rank: KeyRank::of(KeyOrder::CertNotBefore, &secret, &certificate),
                key,
                certificate,
            }
        };
        // Same NotBefore second: the Secret created last seals, whatever
        // order the keys were registered in.
        let set = KeySet::new(vec![
            entry("k1", 1001),
            entry("k2", 1002),
            entry("k0", 1000),
        ]);
        let names: Vec<_> = set
            .entries()
            .iter()
            .map(|e| e.secret_name.as_str())
            .collect();
        assert_eq!(names, ["k2", "k1", "k0"]);
        assert_eq!(
            set.ring().keys()[0].fingerprint(),
            set.entries()[0].key.fingerprint()
        );
    }

    /// Generating a key takes seconds; a replica that lost the lead
    /// meanwhile must not store it beside the new leader's.
    #[tokio::test]
    async fn a_key_generated_after_losing_the_lead_is_not_stored() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let posts = Arc::new(AtomicUsize::new(0));
        let counted = posts.clone();
        let service = tower::service_fn(move |request: axum::http::Request<kube::client::Body>| {
            let counted = counted.clone();
            async move {
                if request.method() == axum::http::Method::POST {
                    counted.fetch_add(1, Ordering::Relaxed);
                }
                let bytes = http_body_util::BodyExt::collect(request.into_body())
                    .await
                    .map(|b| b.to_bytes())
                    .unwrap_or_default();
                let mut response =
                    axum::http::Response::new(kube::client::Body::from(bytes.to_vec()));
                *response.status_mut() = axum::http::StatusCode::CREATED;
                Ok::<_, std::convert::Infallible>(response)
            }
        });
        let registry = KeyRegistry::new(
            Client::new(service, "kube-system"),
            KeyConfig::for_tests("kube-system"),
        );
        let asked = AtomicUsize::new(0);
        registry
            .create_key(|| {
                asked.fetch_add(1, Ordering::Relaxed);
                false
            })
            .await
            .expect("no error");
        assert_eq!(
            asked.load(Ordering::Relaxed),
            1,
            "asked once the key exists"
        );
        assert_eq!(posts.load(Ordering::Relaxed), 0, "not stored");
        assert!(registry.current().is_empty());

        registry.create_key(|| true).await.expect("stored");
        assert_eq!(posts.load(Ordering::Relaxed), 1);
        assert_eq!(registry.current().entries().len(), 1);
    }

    #[test]
    fn only_the_leader_keeps_the_renewal_schedule() {
        let day = Duration::from_secs(86_400);
        let now = SystemTime::UNIX_EPOCH + 100 * day;
        let overdue = Some(now - 40 * day);
        assert_eq!(
            renewal_wait(30 * day, overdue, now, true),
            Some(Duration::ZERO)
        );
        assert_eq!(
            renewal_wait(30 * day, overdue, now, false),
            None,
            "a follower whose newest key is overdue must not wake at once, over and over"
        );
        assert_eq!(
            renewal_wait(30 * day, Some(now - day), now, true),
            Some(29 * day)
        );
        assert_eq!(renewal_wait(30 * day, None, now, true), Some(30 * day));
        assert_eq!(renewal_wait(Duration::ZERO, overdue, now, true), None);
    }

    #[test]
    fn cutoff_parses_rfc1123_with_numeric_zone() {
        assert_eq!(parse_cutoff("").unwrap(), None);
        let t = parse_cutoff("Mon, 02 Jan 2006 15:04:05 -0700")
            .unwrap()
            .unwrap();
        assert_eq!(
            t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs(),
            1136239445
        );
        assert!(parse_cutoff("yesterday").is_err());
    }
}
