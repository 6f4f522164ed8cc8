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
    listed: bool,
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
                }
            }
            watcher::Event::Delete(secret) => {
                if let Some(key) = self.key_of(secret) {
                    state.created.remove(&key);
                    state.present.remove(&key);
                    if let Some(listing) = state.listing.as_mut() {
                        listing.remove(&key);
                    }
                }
            }
            watcher::Event::Init => state.listing = Some(HashSet::new()),
            watcher::Event::InitDone => {
                if let Some(mut listed) = state.listing.take() {
                    listed.shrink_to_fit();
                    state.present = listed;
                    state.listed = true;
                    // The list has each of them that still exists.
                    state.created.clear();
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
}
