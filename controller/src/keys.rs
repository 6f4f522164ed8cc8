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

use sealed_secrets_api::keys::{wrapped, Activation};

use crate::leader::Leadership;
use crate::Error;

mod custody;
mod kek;

pub use custody::Custody;
pub use kek::follow_kek;

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
    /// `--key-activation-delay`: how long a key the controller makes waits
    /// before it seals (zero: at once, as the reference).
    pub activation_delay: Duration,
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
            activation_delay: Duration::ZERO,
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
    /// The KMS's `key_id` when its Secret holds it wrapped, `None` when
    /// the Secret holds it plain.
    pub kms_key_id: Option<String>,
    /// When it may start sealing (its `activate-at` annotation); it opens
    /// SealedSecrets from the start.
    pub activation: Activation,
}

impl KeyEntry {
    /// The time keys are ordered by: renewal counts from the latest's.
    pub fn order_time(&self) -> SystemTime {
        self.rank.time()
    }
}

/// A snapshot of all keys, newest first, as of one moment: which key seals
/// depends on the time (a pending key starts sealing at its activation).
#[derive(Debug)]
pub struct KeySet {
    entries: Vec<KeyEntry>,
    ring: KeyRing,
    /// The entry that seals: the newest that may ([`Custody::may_seal`])
    /// and is active at `as_of`.
    sealing: Option<usize>,
    /// The newest that may seal, active or not: renewal counts from it.
    latest: Option<usize>,
    /// The moment `sealing` was chosen for.
    as_of: SystemTime,
}

impl Default for KeySet {
    fn default() -> Self {
        Self::new(Vec::new(), &Custody::Plain, SystemTime::now())
    }
}

impl KeySet {
    fn new(mut entries: Vec<KeyEntry>, custody: &Custody, now: SystemTime) -> Self {
        entries.sort_by(|a, b| sealed_secrets_api::keys::newest_first(&a.rank, &b.rank));
        let ring = KeyRing::new(entries.iter().map(|e| e.key.clone()).collect());
        let may_seal = |e: &KeyEntry| custody.may_seal(e.kms_key_id.is_some());
        let sealing = sealed_secrets_api::keys::sealing_index(
            entries.iter().map(|e| may_seal(e).then_some(&e.activation)),
            now,
        );
        let latest = entries.iter().position(may_seal);
        Self {
            entries,
            ring,
            sealing,
            latest,
            as_of: now,
        }
    }

    /// This set after a change of its keys or of the time, logged when a
    /// key that waited starts sealing.
    fn next(&self, entries: Vec<KeyEntry>, custody: &Custody, now: SystemTime) -> Self {
        let next = Self::new(entries, custody, now);
        if let Some(seals) = next.sealing() {
            let before = self.sealing().map(|e| e.key.fingerprint());
            // Known and pending before: its time came, or it was activated early.
            let waited = self
                .get(seals.key.fingerprint())
                .is_some_and(|e| e.activation.pending_until(self.as_of).is_some());
            if waited && before != Some(seals.key.fingerprint()) {
                tracing::info!(secret = %seals.secret_name, fingerprint = %seals.key.fingerprint(), previous = ?before.map(|f| f.as_str()), "key activated: it seals from now on");
            }
        }
        next
    }

    /// This set with `entry`, in place of any entry of the same key.
    fn with(&self, entry: KeyEntry, custody: &Custody, now: SystemTime) -> Self {
        let mut entries: Vec<KeyEntry> = self
            .entries
            .iter()
            .filter(|e| e.key.fingerprint() != entry.key.fingerprint())
            .cloned()
            .collect();
        entries.push(entry);
        self.next(entries, custody, now)
    }

    pub fn entries(&self) -> &[KeyEntry] {
        &self.entries
    }

    pub fn ring(&self) -> &KeyRing {
        &self.ring
    }

    /// The key that seals (`/v1/cert.pem`, `/v1/rotate`'s output): the
    /// newest active one (with a KMS, the newest active one it wraps).
    pub fn sealing(&self) -> Option<&KeyEntry> {
        self.sealing.and_then(|i| self.entries.get(i))
    }

    /// The newest key, active or not (with a KMS, the newest it wraps):
    /// renewal and `--key-cutoff-time` count from it, so a pending key does
    /// not look overdue.
    pub fn latest(&self) -> Option<&KeyEntry> {
        self.latest.and_then(|i| self.entries.get(i))
    }

    /// When the key that seals may change next with no key Secret changing.
    pub fn next_activation(&self) -> Option<SystemTime> {
        sealed_secrets_api::keys::next_activation(
            self.entries.iter().map(|e| &e.activation),
            self.as_of,
        )
    }

    fn get(&self, fingerprint: &Fingerprint) -> Option<&KeyEntry> {
        self.entries
            .iter()
            .find(|e| e.key.fingerprint() == fingerprint)
    }
}

pub struct KeyRegistry {
    api: Api<Secret>,
    config: KeyConfig,
    custody: Custody,
    state: watch::Sender<Arc<KeySet>>,
    // Serialises key creation so a timer and a signal never make two keys at once.
    creating: Mutex<()>,
}

impl KeyRegistry {
    pub fn new(client: Client, config: KeyConfig, custody: Custody) -> Self {
        let api = Api::namespaced(client, &config.namespace);
        let (state, _) = watch::channel(Arc::new(KeySet::default()));
        Self {
            api,
            config,
            custody,
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
        if let (Custody::Plain, Some(wrapped)) = (
            &self.custody,
            secrets.iter().find(|s| wrapped::is_wrapped(s)),
        ) {
            return Err(Error::KmsNotConfigured {
                secret: wrapped.metadata.name.clone().unwrap_or_default(),
            });
        }
        for secret in &secrets {
            self.register(secret).await?;
        }
        let keys = self.current();
        tracing::info!(keys = keys.entries().len(), sealing = ?keys.sealing().map(|e| &e.secret_name), latest = ?keys.latest().map(|e| &e.secret_name), namespace = %self.config.namespace, "loaded sealing keys");
        Ok(())
    }

    /// Adds a key Secret if it holds a key not yet known; true when added.
    /// A broken key Secret is logged and skipped: it must not stop the
    /// others. `Err` only when a KMS-wrapped key cannot be opened for want
    /// of the plugin: the key is there, so no other may take its place.
    pub async fn register(&self, secret: &Secret) -> Result<bool, Error> {
        let name = secret.metadata.name.clone().unwrap_or_default();
        if self.update_activation(secret) {
            return Ok(true);
        }
        let entry = match self.read_entry(secret).await {
            Ok(Some(entry)) => entry,
            Ok(None) => return Ok(false),
            Err(e @ Error::Kms(_)) => return Err(e),
            Err(reason) => {
                tracing::error!(secret = %name, reason = %reason, "skipping unreadable key Secret");
                return Ok(false);
            }
        };
        let custody = &self.custody;
        let now = SystemTime::now();
        Ok(self.state.send_if_modified(|set| {
            let known = set.get(entry.key.fingerprint());
            // The same key in a plain and a wrapped Secret (a migration
            // half done): the wrapped one counts.
            if known.is_some_and(|k| k.kms_key_id.is_some() || entry.kms_key_id.is_none()) {
                return false;
            }
            match (&entry.kms_key_id, custody) {
                (Some(kek), _) => tracing::info!(secret = %name, fingerprint = %entry.key.fingerprint(), kms_key_id = %kek, "registered private key (wrapped by the KMS)"),
                (None, Custody::Kms(_)) => tracing::warn!(secret = %name, fingerprint = %entry.key.fingerprint(), "registered a plain private key: with --kms-endpoint it opens SealedSecrets but never seals; wrap it with `kubeseal admin keys wrap`, or delete it if nobody made it"),
                (None, Custody::Plain) => tracing::info!(secret = %name, fingerprint = %entry.key.fingerprint(), "registered private key"),
            }
            log_activation(&entry, now);
            *set = Arc::new(set.with(entry, custody, now));
            true
        }))
    }

    /// Takes a changed `activate-at` of a known key Secret (`kubeseal admin
    /// keys activate`); true when it changed.
    fn update_activation(&self, secret: &Secret) -> bool {
        let Some(name) = secret.metadata.name.as_deref() else {
            return false;
        };
        let certificate = secret
            .data
            .as_ref()
            .and_then(|d| d.get(sealed_secrets_api::keys::TLS_CRT))
            .and_then(|pem| Certificate::from_pem(&pem.0).ok());
        let Some(certificate) = certificate else {
            return false;
        };
        let fingerprint = certificate.public_key().fingerprint();
        let activation = Activation::of(secret);
        let custody = &self.custody;
        let now = SystemTime::now();
        self.state.send_if_modified(|set| {
            let changed = set.entries().iter().any(|e| {
                e.key.fingerprint() == fingerprint
                    && e.secret_name == name
                    && e.activation != activation
            });
            if !changed {
                return false;
            }
            let entries = set
                .entries()
                .iter()
                .cloned()
                .map(|mut e| {
                    if e.key.fingerprint() == fingerprint && e.secret_name == name {
                        e.activation = activation.clone();
                        tracing::info!(secret = %name, fingerprint = %fingerprint, activation = ?activation, "key activation changed");
                        log_activation(&e, now);
                    }
                    e
                })
                .collect();
            *set = Arc::new(set.next(entries, custody, now));
            true
        })
    }

    /// The key in `secret`, unless one with its certificate is known
    /// already (a relist delivers every key Secret again: the KMS is asked
    /// once per key, not per event).
    async fn read_entry(&self, secret: &Secret) -> Result<Option<KeyEntry>, Error> {
        if !wrapped::is_wrapped(secret) {
            return parse_key_secret(secret, self.config.order)
                .map(Some)
                .map_err(Error::KeySecretUnreadable);
        }
        let Custody::Kms(client) = &self.custody else {
            return Err(Error::KmsNotConfigured {
                secret: secret.metadata.name.clone().unwrap_or_default(),
            });
        };
        let wrapped =
            wrapped::read_wrapped_key_secret(secret).map_err(Error::KeySecretUnreadable)?;
        let fingerprint = wrapped.certificate.public_key().fingerprint();
        if let Some(known) = self.current().get(fingerprint) {
            if known.kms_key_id.is_some() {
                // Wrapped again under another KMS key (by the leader): the
                // key is the same, only the KEK's name moves.
                if known.kms_key_id.as_deref() != Some(wrapped.key_id.as_str()) {
                    self.set_kek(fingerprint, &wrapped.key_id);
                }
                return Ok(None);
            }
        }
        let key = custody::unwrap(client, &wrapped).await?;
        Ok(Some(KeyEntry {
            secret_name: secret.metadata.name.clone().unwrap_or_default(),
            rank: KeyRank::of(self.config.order, secret, &wrapped.certificate),
            key,
            certificate: wrapped.certificate,
            kms_key_id: Some(wrapped.key_id),
            activation: Activation::of(secret),
        }))
    }

    /// Records that the key of `fingerprint` is wrapped by `kek` now.
    fn set_kek(&self, fingerprint: &Fingerprint, kek: &str) {
        let custody = &self.custody;
        self.state.send_modify(|set| {
            let entries = set
                .entries()
                .iter()
                .cloned()
                .map(|mut e| {
                    if e.key.fingerprint() == fingerprint {
                        e.kms_key_id = Some(kek.to_string());
                    }
                    e
                })
                .collect();
            *set = Arc::new(set.next(entries, custody, SystemTime::now()));
        });
    }

    /// Wraps again, under the KMS's current key `kek`, every key another
    /// KMS key wraps (as the API server re-encrypts on a `key_id` change),
    /// so that the old one can be retired; how many were. The key Secret
    /// keeps its name, labels and type; only its KMS items change, written
    /// with its resourceVersion (someone else's change wins, and the next
    /// poll tries again).
    pub async fn rewrap(&self, kek: &str) -> Result<usize, Error> {
        let Custody::Kms(client) = &self.custody else {
            return Ok(0);
        };
        let stale: Vec<KeyEntry> = self
            .current()
            .entries()
            .iter()
            .filter(|e| e.kms_key_id.as_deref().is_some_and(|k| k != kek))
            .cloned()
            .collect();
        let mut done = 0;
        for entry in stale {
            let Some(mut secret) = self
                .api
                .get_opt(&entry.secret_name)
                .await
                .map_err(Error::KeyLoad)?
            else {
                continue;
            };
            if !wrapped::is_wrapped(&secret) {
                continue;
            }
            let again = custody::wrap(client, &entry.key, &entry.certificate).await?;
            if again.key_id != kek {
                // The KMS moved on again meanwhile: the next poll follows.
                continue;
            }
            let fresh = wrapped::wrapped_key_secret(
                &self.config.namespace,
                &self.config.prefix,
                &again,
                &[],
                &[],
            );
            secret.data = fresh.data;
            secret
                .metadata
                .annotations
                .get_or_insert_with(Default::default)
                .insert(wrapped::KEY_ID_ANNOTATION.into(), again.key_id.clone());
            self.api
                .replace(&entry.secret_name, &PostParams::default(), &secret)
                .await
                .map_err(|source| Error::KeyRewrap {
                    secret: entry.secret_name.clone(),
                    source,
                })?;
            tracing::info!(secret = %entry.secret_name, from = ?entry.kms_key_id, to = %kek, "key wrapped again under the KMS's new key");
            self.set_kek(entry.key.fingerprint(), kek);
            done += 1;
        }
        Ok(done)
    }

    /// The KMS client, with `--kms-endpoint`.
    pub fn kms(&self) -> Option<&sealed_secrets_kms::KmsClient> {
        match &self.custody {
            Custody::Plain => None,
            Custody::Kms(client) => Some(client),
        }
    }

    /// Registers `key` as if its plain key Secret had been listed.
    #[cfg(test)]
    pub(crate) fn register_key(&self, key: &PrivateKey, certificate: &Certificate) -> bool {
        let secret = sealed_secrets_api::keys::key_secret(
            &self.config.namespace,
            &self.config.prefix,
            key,
            certificate,
            &[],
            &[],
        )
        .expect("key Secret");
        let entry = parse_key_secret(&secret, self.config.order).expect("key entry");
        let custody = &self.custody;
        self.state.send_if_modified(|set| {
            if set.get(entry.key.fingerprint()).is_some() {
                return false;
            }
            *set = Arc::new(set.with(entry, custody, SystemTime::now()));
            true
        })
    }

    /// Makes a key when there is none, or when the latest (active or not)
    /// predates `cutoff`; stores it only if `may_write` still says so once
    /// it is generated.
    pub async fn ensure_key(
        &self,
        cutoff: Option<SystemTime>,
        may_write: impl Fn() -> bool,
    ) -> Result<(), Error> {
        let current = self.current();
        let stale = match (current.latest(), cutoff) {
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
    /// sealing key (after `--key-activation-delay`, unless no key seals
    /// now). Generating takes seconds: `may_write` (leadership) is
    /// asked again once the key exists, right before it is stored, so a
    /// replica that lost the lead meanwhile adds no key beside its
    /// successor's.
    pub async fn create_key(&self, may_write: impl Fn() -> bool) -> Result<(), Error> {
        let _guard = self.creating.lock().await;
        // Within the second of the newest key the new one could rank below it.
        let wait = sealed_secrets_api::keys::wait_to_rank_above(
            self.current().entries().iter().map(|e| &e.rank),
            SystemTime::now(),
        );
        tokio::time::sleep(wait).await;
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
        let delay = self.config.activation_delay;
        let activate_at = if delay.is_zero() {
            None
        } else if self.current().sealing().is_none() {
            tracing::info!(delay = ?delay, "no key seals now: the new key is active at once (--key-activation-delay applies to the keys after it)");
            None
        } else {
            Some(SystemTime::now() + delay)
        };
        let annotations: Vec<(String, String)> = activate_at
            .map(sealed_secrets_api::keys::activate_at_annotation)
            .into_iter()
            .collect();
        let (secret, kms_key_id) = self.key_secret(&key, &certificate, &annotations).await?;
        let created = self
            .api
            .create(&PostParams::default(), &secret)
            .await
            .map_err(Error::KeyStore)?;
        let name = created.metadata.name.clone().unwrap_or_default();
        match activate_at {
            None => {
                tracing::info!(secret = %name, fingerprint = %key.fingerprint(), "created new sealing key")
            }
            Some(at) => {
                tracing::info!(secret = %name, fingerprint = %key.fingerprint(), activate_at = %sealed_secrets_api::keys::format_activate_at(at), "created new sealing key: it opens SealedSecrets now and seals from its activation time (--key-activation-delay); back it up meanwhile")
            }
        }
        // The key is at hand: no need to ask the KMS to open it again.
        let entry = KeyEntry {
            secret_name: name,
            rank: KeyRank::of(self.config.order, &created, &certificate),
            kms_key_id,
            key,
            certificate,
            activation: Activation::of(&created),
        };
        let custody = &self.custody;
        // The watch may have delivered the new Secret already: `with` replaces it.
        self.state.send_modify(|set| {
            *set = Arc::new(set.with(entry, custody, SystemTime::now()));
        });
        Ok(())
    }

    /// The Secret a new key is stored in: plain, or wrapped by the KMS
    /// (then with the KMS key's `key_id`).
    async fn key_secret(
        &self,
        key: &PrivateKey,
        cert: &Certificate,
        annotations: &[(String, String)],
    ) -> Result<(Secret, Option<String>), Error> {
        let annotations: Vec<(String, String)> = self
            .config
            .extra_annotations
            .iter()
            .chain(annotations)
            .cloned()
            .collect();
        match &self.custody {
            Custody::Plain => sealed_secrets_api::keys::key_secret(
                &self.config.namespace,
                &self.config.prefix,
                key,
                cert,
                &self.config.extra_labels,
                &annotations,
            )
            .map(|secret| (secret, None))
            .map_err(Error::KeySecret),
            Custody::Kms(client) => {
                let wrapped = custody::wrap(client, key, cert).await?;
                let secret = wrapped::wrapped_key_secret(
                    &self.config.namespace,
                    &self.config.prefix,
                    &wrapped,
                    &self.config.extra_labels,
                    &annotations,
                );
                Ok((secret, Some(wrapped.key_id)))
            }
        }
    }

    /// Follows key Secrets others create (an admin, a restore, another
    /// controller). One the KMS cannot open now is tried again every
    /// [`PENDING_RETRY`] until it opens.
    pub async fn watch(self: Arc<Self>) {
        let config = watcher::Config::default().labels(KEY_LABEL_SELECTOR);
        let mut events = watcher::watcher(self.api.clone(), config)
            .default_backoff()
            .boxed();
        let mut pending: Vec<Secret> = Vec::new();
        let mut retry = tokio::time::interval(PENDING_RETRY);
        loop {
            let secret = tokio::select! {
                event = events.next() => match event {
                    Some(Ok(watcher::Event::Apply(secret) | watcher::Event::InitApply(secret))) => secret,
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "key Secret watch failed; retrying");
                        continue;
                    }
                    None => return,
                },
                _ = retry.tick(), if !pending.is_empty() => {
                    let mut still = Vec::new();
                    for secret in pending.drain(..) {
                        if self.register(&secret).await.is_err() {
                            still.push(secret);
                        }
                    }
                    pending = still;
                    continue;
                }
            };
            match self.register(&secret).await {
                Ok(_) => {}
                Err(e @ Error::Kms(_)) => {
                    tracing::error!(secret = ?secret.metadata.name, error = %e, "cannot open a key Secret now; trying again");
                    pending.retain(|p| p.metadata.uid != secret.metadata.uid);
                    pending.push(secret);
                }
                Err(e) => {
                    tracing::error!(secret = ?secret.metadata.name, error = %e, "skipping a key Secret")
                }
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
            // From the latest key, active or not: a pending key is new.
            let latest = self.current().latest().map(KeyEntry::order_time);
            let wait = renewal_wait(period, latest, SystemTime::now(), leadership.is_leader());
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

impl KeyRegistry {
    /// Switches the key that seals when a pending key's activation time
    /// comes (every replica, each by its own clock: they agree within clock
    /// skew). Woken by key changes too, which may bring an earlier time.
    pub async fn follow_activations(self: Arc<Self>) {
        let mut keys = self.subscribe();
        loop {
            let wait = self
                .current()
                .next_activation()
                .map(|at| at.duration_since(SystemTime::now()).unwrap_or_default());
            tokio::select! {
                _ = sleep_for(wait) => {
                    let custody = &self.custody;
                    let now = SystemTime::now();
                    self.state.send_if_modified(|set| {
                        let next = set.next(set.entries().to_vec(), custody, now);
                        let moved = next.sealing().map(|e| e.key.fingerprint())
                            != set.sealing().map(|e| e.key.fingerprint());
                        // Keep the time moving even when nothing changed, so the
                        // next activation is the one after this.
                        *set = Arc::new(next);
                        moved
                    });
                    // The wait is the next one now.
                    keys.borrow_and_update();
                }
                changed = keys.changed() => if changed.is_err() { return },
            }
        }
    }
}

/// Says when a key waits, or carries an activation time that is not one.
fn log_activation(entry: &KeyEntry, now: SystemTime) {
    match &entry.activation {
        Activation::At(at) if *at > now => {
            tracing::info!(secret = %entry.secret_name, fingerprint = %entry.key.fingerprint(), activate_at = %sealed_secrets_api::keys::format_activate_at(*at), "the key opens SealedSecrets now and may seal from its activation time")
        }
        Activation::Invalid(text) => {
            tracing::error!(secret = %entry.secret_name, fingerprint = %entry.key.fingerprint(), annotation = sealed_secrets_api::keys::ACTIVATE_AT_ANNOTATION, value = %text, "the key's activation time is not an RFC 3339 time (e.g. 2025-07-01T12:00:00Z): the key counts as active")
        }
        _ => {}
    }
}

/// How often a key Secret the KMS could not open is tried again.
const PENDING_RETRY: Duration = Duration::from_secs(10);

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
        kms_key_id: None,
        activation: Activation::of(secret),
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
                kms_key_id: None,
                activation: Activation::Immediate,
            }
        };
        // Same NotBefore second: the Secret created last seals, whatever
        // order the keys were registered in.
        let set = KeySet::new(
            vec![entry("k1", 1001), entry("k2", 1002), entry("k0", 1000)],
            &Custody::Plain,
            SystemTime::now(),
        );
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

    fn entry_made_at(name: &str, made: SystemTime, activation: Activation) -> KeyEntry {
        let key = PrivateKey::generate(2048).expect("keygen");
        let params = CertificateParams {
            not_before: made,
            ..CertificateParams::default()
        };
        let certificate = Certificate::self_signed(&key, &params).expect("cert");
        let mut secret = Secret::default();
        secret.metadata.name = Some(name.into());
        KeyEntry {
            secret_name: name.into(),
            rank: KeyRank::of(KeyOrder::CertNotBefore, &secret, &certificate),
            key,
            certificate,
            kms_key_id: None,
            activation,
        }
    }

    /// A pending key opens SealedSecrets at once, seals from its time on,
    /// and is what renewal counts from (else it would renew in a loop).
    #[tokio::test]
    async fn a_pending_key_opens_at_once_and_seals_from_its_time() {
        let day = Duration::from_secs(86_400);
        let t0 = SystemTime::UNIX_EPOCH + 1000 * day;
        let activates = t0 + day;
        let entries = vec![
            entry_made_at("old", t0 - 40 * day, Activation::Immediate),
            entry_made_at("new", t0, Activation::At(activates)),
        ];
        let set = KeySet::new(entries.clone(), &Custody::Plain, t0);
        let name = |e: Option<&KeyEntry>| e.map(|e| e.secret_name.clone());
        assert_eq!(name(set.sealing()), Some("old".into()));
        assert_eq!(name(set.latest()), Some("new".into()));
        assert_eq!(set.ring().keys().len(), 2, "both open");
        assert_eq!(set.next_activation(), Some(activates));
        // Renewal counts from the pending key: not overdue.
        let latest = set.latest().map(KeyEntry::order_time);
        assert_eq!(renewal_wait(30 * day, latest, t0, true), Some(30 * day));
        let sealing = set.sealing().map(KeyEntry::order_time);
        assert_eq!(
            renewal_wait(30 * day, sealing, t0, true),
            Some(Duration::ZERO),
            "from the sealing key it would renew at once, again and again"
        );

        // At its time it seals; nothing is left to wait for.
        let later = set.next(entries.clone(), &Custody::Plain, activates);
        assert_eq!(name(later.sealing()), Some("new".into()));
        assert_eq!(later.next_activation(), None);

        // With a KMS, a plain key never seals: the latest is the newest wrapped one.
        let mut wrapped = entries;
        wrapped[0].kms_key_id = Some("kek".into());
        let custody = Custody::Kms(Box::new(
            sealed_secrets_kms::KmsClient::connect("unix:///nowhere", Duration::from_secs(1))
                .await
                .expect("a client dials lazily"),
        ));
        let set = KeySet::new(wrapped, &custody, activates);
        assert_eq!(name(set.sealing()), Some("old".into()));
        assert_eq!(name(set.latest()), Some("old".into()));
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
            Custody::Plain,
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
        assert!(registry.current().entries().is_empty());

        registry.create_key(|| true).await.expect("stored");
        assert_eq!(posts.load(Ordering::Relaxed), 1);
        assert_eq!(registry.current().entries().len(), 1);
    }

    /// The watch can deliver a new key Secret before its create returns:
    /// the key is known once, not twice (a second entry counted twice in
    /// `kms_keys` and was tried twice when unsealing).
    #[tokio::test]
    async fn a_key_the_watch_saw_first_is_known_once() {
        let registry: Arc<std::sync::OnceLock<Arc<KeyRegistry>>> = Arc::default();
        let seen_by_watch = registry.clone();
        let service = tower::service_fn(move |request: axum::http::Request<kube::client::Body>| {
            let seen_by_watch = seen_by_watch.clone();
            async move {
                let bytes = http_body_util::BodyExt::collect(request.into_body())
                    .await
                    .map(|b| b.to_bytes())
                    .unwrap_or_default();
                // The Secret's watch event, taken in before the answer.
                if let (Ok(secret), Some(registry)) = (
                    serde_json::from_slice::<Secret>(&bytes),
                    seen_by_watch.get(),
                ) {
                    registry.register(&secret).await.expect("registered");
                }
                let mut response =
                    axum::http::Response::new(kube::client::Body::from(bytes.to_vec()));
                *response.status_mut() = axum::http::StatusCode::CREATED;
                Ok::<_, std::convert::Infallible>(response)
            }
        });
        let keys = Arc::new(KeyRegistry::new(
            Client::new(service, "kube-system"),
            KeyConfig::for_tests("kube-system"),
            Custody::Plain,
        ));
        assert!(registry.set(keys.clone()).is_ok());
        keys.create_key(|| true).await.expect("stored");
        assert_eq!(keys.current().entries().len(), 1);
        assert_eq!(keys.current().ring().keys().len(), 1);
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
