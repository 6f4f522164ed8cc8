//! Which Secrets exist, as the metadata watch of Secrets last saw them.
//!
//! A reconcile asks this before it asks the API server: a SealedSecret that
//! is synced and whose Secret the watch has seen needs no request at all (a
//! restart, a new key, the echo of our own status write), and one whose
//! Secret the watch has never seen is created without reading it first. The
//! watch lags behind the cluster, so only answers that are safe when stale are
//! taken from it: "present" lets a synced object be skipped (if the Secret
//! was deleted meanwhile, the delete event reconciles its owner again), and
//! "absent" only leads to a create, which the API server refuses (409) when
//! the Secret is there after all.
//!
//! A Secret the controller has just created counts as present until the
//! watch reports it: its creation event is on the way, and a delete that
//! might follow comes after it, with its own reconcile.
//!
//! For Secrets the controller may write it also keeps versions: the one
//! the watch saw last, and the one known to hold what the SealedSecret says,
//! with digests of that ([`crate::reconcile::drift`]): a Secret edited by hand shows as
//! a version that moved on.
//!
//! Entries are 64-bit SipHash digests of namespace and name under a key
//! random per process, not the names themselves: the index costs about 10
//! bytes per Secret in the cluster. Two Secrets whose digests collide (odds
//! about n^2 / 2^65, 3 in 10^12 at 100,000 Secrets) could only make a missing
//! Secret look present until the next event for it.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Secret;
use kube::core::PartialObjectMeta;
use kube::runtime::watcher;

use crate::reconcile::drift::{may_be_managed, Digests};

/// What the watch says about one Secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    Present,
    Absent,
    /// The first list has not completed (or there is no watch of Secrets).
    Unknown,
}

/// How long a Secret we created counts as present without the watch
/// having reported it.
const CREATED_GRACE: Duration = Duration::from_secs(60);

#[derive(Default)]
struct State {
    present: HashSet<u64>,
    /// Created by us, not reported by the watch yet.
    created: HashMap<u64, Instant>,
    /// A list in progress (first or re-list): replaces `present` when done.
    listing: Option<HashSet<u64>>,
    /// When that list began: what we create after may be missing from it.
    listing_since: Option<Instant>,
    listed: bool,
    /// Of Secrets the controller may write ([`may_be_managed`]).
    versions: HashMap<u64, Versions>,
}

/// Digests of resourceVersions, and of the data held at `verified`.
#[derive(Default)]
struct Versions {
    /// The watch's last word.
    seen: Option<u64>,
    /// Holds what the SealedSecret says: written or checked by us, or found
    /// by the first list.
    verified: Option<u64>,
    digests: Option<Digests>,
}

/// The Secrets one watch (all namespaces, or one) has seen.
pub struct SecretIndex {
    /// `None`: every namespace.
    namespace: Option<String>,
    digest: RandomState,
    state: Mutex<State>,
}

impl SecretIndex {
    pub fn new(namespace: Option<String>) -> Self {
        Self {
            namespace,
            digest: RandomState::new(),
            state: Mutex::default(),
        }
    }

    /// Whether this index's watch covers `namespace`.
    pub fn covers(&self, namespace: &str) -> bool {
        self.namespace.as_deref().is_none_or(|ns| ns == namespace)
    }

    fn key(&self, namespace: &str, name: &str) -> u64 {
        self.digest.hash_one((namespace, name))
    }

    fn key_of(&self, secret: &PartialObjectMeta<Secret>) -> Option<u64> {
        let meta = &secret.metadata;
        Some(self.key(meta.namespace.as_deref()?, meta.name.as_deref()?))
    }

    /// Takes in one event of the watch, before it triggers any reconcile.
    pub fn observe(
        &self,
        event: &Result<watcher::Event<PartialObjectMeta<Secret>>, watcher::Error>,
    ) {
        let Ok(event) = event else { return };
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        match event {
            // Seen now (a change, or an entry of a list in progress): present
            // at once, and in the new list too.
            watcher::Event::Apply(secret) | watcher::Event::InitApply(secret) => {
                if let Some(key) = self.key_of(secret) {
                    state.created.remove(&key);
                    state.present.insert(key);
                    if let Some(listing) = state.listing.as_mut() {
                        listing.insert(key);
                    }
                    if may_be_managed(secret) {
                        let version = secret
                            .metadata
                            .resource_version
                            .as_deref()
                            .map(|v| self.digest.hash_one(v));
                        let first_list = !state.listed;
                        let versions = state.versions.entry(key).or_default();
                        versions.seen = version;
                        if first_list && versions.verified.is_none() {
                            versions.verified = version;
                        }
                    } else {
                        state.versions.remove(&key);
                    }
                }
            }
            watcher::Event::Delete(secret) => {
                if let Some(key) = self.key_of(secret) {
                    state.created.remove(&key);
                    state.present.remove(&key);
                    state.versions.remove(&key);
                    if let Some(listing) = state.listing.as_mut() {
                        listing.remove(&key);
                    }
                }
            }
            watcher::Event::Init => {
                state.listing = Some(HashSet::new());
                state.listing_since = Some(Instant::now());
            }
            watcher::Event::InitDone => {
                if let Some(mut listed) = state.listing.take() {
                    listed.shrink_to_fit();
                    // The list has each Secret created before it began that
                    // still exists. One we created while it ran may be
                    // missing (its snapshot can be older): its event comes
                    // after this one, and until then it is present, with
                    // the version we wrote (else that event would look like
                    // a hand edit, and the Secret be unsealed again).
                    let since = state.listing_since.take();
                    state
                        .created
                        .retain(|_, at| since.is_some_and(|since| *at >= since));
                    let State {
                        versions, created, ..
                    } = &mut *state;
                    versions.retain(|key, _| listed.contains(key) || created.contains_key(key));
                    state.present = listed;
                    state.listed = true;
                }
            }
        }
    }

    pub fn seen(&self, namespace: &str, name: &str) -> Seen {
        let key = self.key(namespace, name);
        let Ok(mut state) = self.state.lock() else {
            return Seen::Unknown;
        };
        if state.present.contains(&key) {
            return Seen::Present;
        }
        if let Some(at) = state.created.get(&key) {
            if at.elapsed() < CREATED_GRACE {
                return Seen::Present;
            }
            state.created.remove(&key);
        }
        if state.listed {
            Seen::Absent
        } else {
            Seen::Unknown
        }
    }

    /// Whether the watch saw a version of this Secret other than the one
    /// known to hold what its SealedSecret says.
    pub fn drifted(&self, namespace: &str, name: &str) -> bool {
        let key = self.key(namespace, name);
        self.state.lock().is_ok_and(|state| {
            state
                .versions
                .get(&key)
                .is_some_and(|v| v.seen.is_some() && v.seen != v.verified)
        })
    }

    /// Digests of the data the version known to be right holds, if recorded.
    pub fn digests(&self, namespace: &str, name: &str) -> Option<Digests> {
        let key = self.key(namespace, name);
        let state = self.state.lock().ok()?;
        state.versions.get(&key)?.digests.clone()
    }

    /// `version` of this Secret holds what its SealedSecret says (written or
    /// checked by us); `digests` of that data, if known.
    pub fn holds(&self, namespace: &str, name: &str, version: &str, digests: Option<Digests>) {
        let key = self.key(namespace, name);
        let version = self.digest.hash_one(version);
        if let Ok(mut state) = self.state.lock() {
            let versions = state.versions.entry(key).or_default();
            versions.verified = Some(version);
            if digests.is_some() {
                versions.digests = digests;
            }
        }
    }

    /// We just created this Secret.
    pub fn created(&self, namespace: &str, name: &str) {
        let key = self.key(namespace, name);
        if let Ok(mut state) = self.state.lock() {
            if !state.present.contains(&key) {
                state.created.insert(key, Instant::now());
            }
        }
    }
}

/// The indexes of every watched scope.
#[derive(Default)]
pub struct SecretIndexes(Vec<std::sync::Arc<SecretIndex>>);

impl SecretIndexes {
    pub fn push(&mut self, index: std::sync::Arc<SecretIndex>) {
        self.0.push(index);
    }

    fn of(&self, namespace: &str) -> Option<&SecretIndex> {
        self.0
            .iter()
            .find(|index| index.covers(namespace))
            .map(|index| &**index)
    }

    pub fn seen(&self, namespace: &str, name: &str) -> Seen {
        self.of(namespace)
            .map_or(Seen::Unknown, |index| index.seen(namespace, name))
    }

    pub fn created(&self, namespace: &str, name: &str) {
        if let Some(index) = self.of(namespace) {
            index.created(namespace, name);
        }
    }

    pub fn drifted(&self, namespace: &str, name: &str) -> bool {
        self.of(namespace)
            .is_some_and(|index| index.drifted(namespace, name))
    }

    pub fn digests(&self, namespace: &str, name: &str) -> Option<Digests> {
        self.of(namespace)?.digests(namespace, name)
    }

    pub fn holds(&self, namespace: &str, name: &str, version: &str, digests: Option<Digests>) {
        if let Some(index) = self.of(namespace) {
            index.holds(namespace, name, version, digests);
        }
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    use super::*;

    fn secret(namespace: &str, name: &str) -> PartialObjectMeta<Secret> {
        PartialObjectMeta {
            types: None,
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some(namespace.into()),
                ..ObjectMeta::default()
            },
            _phantom: std::marker::PhantomData,
        }
    }

    fn feed(index: &SecretIndex, events: Vec<watcher::Event<PartialObjectMeta<Secret>>>) {
        for event in events {
            index.observe(&Ok(event));
        }
    }

    #[test]
    fn nothing_is_absent_before_the_first_list_is_complete() {
        let index = SecretIndex::new(None);
        assert_eq!(index.seen("apps", "db"), Seen::Unknown);
        feed(
            &index,
            vec![
                watcher::Event::Init,
                watcher::Event::InitApply(secret("apps", "db")),
            ],
        );
        assert_eq!(index.seen("apps", "db"), Seen::Present);
        assert_eq!(index.seen("apps", "other"), Seen::Unknown);
        feed(&index, vec![watcher::Event::InitDone]);
        assert_eq!(index.seen("apps", "other"), Seen::Absent);
        assert_eq!(index.seen("other", "db"), Seen::Absent, "namespaces count");
    }

    #[test]
    fn applies_deletes_and_relists_keep_it_current() {
        let index = SecretIndex::new(None);
        feed(
            &index,
            vec![
                watcher::Event::Init,
                watcher::Event::InitApply(secret("apps", "a")),
                watcher::Event::InitApply(secret("apps", "b")),
                watcher::Event::InitDone,
                watcher::Event::Apply(secret("apps", "c")),
                watcher::Event::Delete(secret("apps", "a")),
            ],
        );
        assert_eq!(index.seen("apps", "a"), Seen::Absent);
        assert_eq!(index.seen("apps", "c"), Seen::Present);
        // A re-list after the watch expired: "b" was deleted meanwhile.
        feed(
            &index,
            vec![
                watcher::Event::Init,
                watcher::Event::InitApply(secret("apps", "c")),
            ],
        );
        assert_eq!(
            index.seen("apps", "b"),
            Seen::Present,
            "old answers until the list is done"
        );
        feed(
            &index,
            vec![
                watcher::Event::Apply(secret("apps", "d")),
                watcher::Event::InitDone,
            ],
        );
        assert_eq!(index.seen("apps", "b"), Seen::Absent);
        assert_eq!(index.seen("apps", "c"), Seen::Present);
        assert_eq!(index.seen("apps", "d"), Seen::Present);
    }

    #[test]
    fn a_secret_we_created_is_present_until_the_watch_speaks() {
        let index = SecretIndex::new(None);
        feed(&index, vec![watcher::Event::Init, watcher::Event::InitDone]);
        index.created("apps", "db");
        assert_eq!(
            index.seen("apps", "db"),
            Seen::Present,
            "its event is on the way"
        );
        feed(&index, vec![watcher::Event::Apply(secret("apps", "db"))]);
        assert_eq!(index.seen("apps", "db"), Seen::Present);
        // Deleted right after: the delete follows the create on the watch.
        feed(&index, vec![watcher::Event::Delete(secret("apps", "db"))]);
        assert_eq!(index.seen("apps", "db"), Seen::Absent);

        index.created("apps", "other");
        feed(&index, vec![watcher::Event::Init, watcher::Event::InitDone]);
        assert_eq!(
            index.seen("apps", "other"),
            Seen::Absent,
            "a re-list without it: it is gone"
        );
    }

    /// A Secret created while a list ran, which the list's older snapshot
    /// lacks: its event comes after the list, and must not look like a
    /// hand edit then (that made the controller unseal it a second time).
    #[test]
    fn a_secret_created_while_the_list_runs_keeps_what_we_wrote() {
        let index = SecretIndex::new(None);
        feed(&index, vec![watcher::Event::Init]);
        index.created("apps", "db");
        index.holds("apps", "db", "7", None);
        feed(&index, vec![watcher::Event::InitDone]);
        assert_eq!(index.seen("apps", "db"), Seen::Present, "its event follows");
        feed(
            &index,
            vec![watcher::Event::Apply(managed("apps", "db", "7"))],
        );
        assert!(!index.drifted("apps", "db"), "the version we wrote");
        assert_eq!(index.seen("apps", "db"), Seen::Present);

        // A relist: made before it began and not in it, it is gone.
        index.created("apps", "gone");
        index.holds("apps", "gone", "8", None);
        feed(&index, vec![watcher::Event::Init, watcher::Event::InitDone]);
        assert_eq!(index.seen("apps", "gone"), Seen::Absent);
        feed(
            &index,
            vec![watcher::Event::Apply(managed("apps", "gone", "9"))],
        );
        assert!(index.drifted("apps", "gone"), "made anew by someone");
    }

    #[test]
    fn each_scope_answers_for_its_own_namespace() {
        let mut indexes = SecretIndexes::default();
        let home = std::sync::Arc::new(SecretIndex::new(Some("home".into())));
        feed(
            &home,
            vec![
                watcher::Event::Init,
                watcher::Event::InitApply(secret("home", "db")),
                watcher::Event::InitDone,
            ],
        );
        indexes.push(home);
        indexes.push(std::sync::Arc::new(SecretIndex::new(Some("apps".into()))));
        assert_eq!(indexes.seen("home", "db"), Seen::Present);
        assert_eq!(indexes.seen("home", "x"), Seen::Absent);
        assert_eq!(indexes.seen("apps", "db"), Seen::Unknown, "not listed yet");
        assert_eq!(indexes.seen("nowhere", "db"), Seen::Unknown, "not watched");
    }

    fn managed(namespace: &str, name: &str, version: &str) -> PartialObjectMeta<Secret> {
        let mut secret = secret(namespace, name);
        secret.metadata.resource_version = Some(version.into());
        secret.metadata.annotations = Some(
            [(
                sealed_secrets_api::MANAGED_ANNOTATION.to_string(),
                "true".to_string(),
            )]
            .into(),
        );
        secret
    }

    /// The first list is taken as it is (a restart); a version that moves
    /// on after it, or after our own write, is a drift until checked.
    #[test]
    fn versions_that_move_on_are_drifts_until_checked() {
        let index = SecretIndex::new(None);
        feed(
            &index,
            vec![
                watcher::Event::Init,
                watcher::Event::InitApply(managed("apps", "db", "1")),
                watcher::Event::InitApply(secret("apps", "theirs")),
                watcher::Event::InitDone,
            ],
        );
        assert!(!index.drifted("apps", "db"), "as found at start");
        assert_eq!(index.digests("apps", "db"), None);
        feed(
            &index,
            vec![watcher::Event::Apply(managed("apps", "db", "2"))],
        );
        assert!(index.drifted("apps", "db"));
        index.holds("apps", "db", "2", None);
        assert!(!index.drifted("apps", "db"));
        // A relist showing the same version changes nothing; a new one does.
        feed(
            &index,
            vec![
                watcher::Event::Init,
                watcher::Event::InitApply(managed("apps", "db", "2")),
                watcher::Event::InitDone,
            ],
        );
        assert!(!index.drifted("apps", "db"));
        feed(
            &index,
            vec![
                watcher::Event::Init,
                watcher::Event::InitApply(managed("apps", "db", "3")),
                watcher::Event::InitDone,
            ],
        );
        assert!(
            index.drifted("apps", "db"),
            "edited while the watch was down"
        );
        // Our write, whose event comes after: no drift once it does.
        index.holds("apps", "db", "4", None);
        assert!(index.drifted("apps", "db"), "the watch has not caught up");
        feed(
            &index,
            vec![watcher::Event::Apply(managed("apps", "db", "4"))],
        );
        assert!(!index.drifted("apps", "db"));
        // Unmanaged Secrets are not tracked; deleted ones are forgotten.
        feed(
            &index,
            vec![watcher::Event::Apply(secret("apps", "theirs"))],
        );
        assert!(!index.drifted("apps", "theirs"));
        feed(
            &index,
            vec![watcher::Event::Delete(managed("apps", "db", "4"))],
        );
        feed(
            &index,
            vec![watcher::Event::Apply(managed("apps", "db", "9"))],
        );
        assert!(index.drifted("apps", "db"), "made anew by someone: checked");
    }
}
