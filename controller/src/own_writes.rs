//! Status writes of ours that the cache has not caught up with yet.
//!
//! Unsealing a SealedSecret writes its Secret and then its status. The
//! Secret's watch event usually reaches the controller first and reconciles
//! the SealedSecret again while the cache still holds the version from
//! before our status write, which looks unsynced. Without this memo that
//! reconcile reads the object from the API server to find out it is done:
//! two requests per object on every cold start. With it, a cached version
//! that predates our own write of the same generation is known to be handled;
//! the arrival of our write in the cache reconciles the object again anyway.
//!
//! An entry is dropped when the cache shows the version we wrote, when the
//! generation moves on, when the object is deleted, on every re-list of
//! SealedSecrets (a re-list can skip the version we wrote), and after
//! `MAX_AGE` whatever happens, so a missed event can never hide an object
//! for longer than that.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use kube::ResourceExt as _;
use sealed_secrets_api::SealedSecret;

const MAX_AGE: Duration = Duration::from_secs(60);

struct Written {
    generation: Option<i64>,
    resource_version: String,
    at: Instant,
}

#[derive(Default)]
pub struct OwnWrites {
    by_uid: Mutex<HashMap<String, Written>>,
}

impl OwnWrites {
    /// We wrote a Synced status for `written` (the object as the API server
    /// returned it).
    pub fn record(&self, written: &SealedSecret) {
        let (Some(uid), Some(resource_version)) = (written.uid(), written.resource_version())
        else {
            return;
        };
        if let Ok(mut map) = self.by_uid.lock() {
            map.insert(
                uid,
                Written {
                    generation: written.metadata.generation,
                    resource_version,
                    at: Instant::now(),
                },
            );
        }
    }

    /// Whether `cached` is an older version of an object whose current
    /// generation we have already synced, with the status write still on its
    /// way to the cache.
    pub fn cache_behind(&self, cached: &SealedSecret) -> bool {
        let Some(uid) = cached.uid() else {
            return false;
        };
        let Ok(mut map) = self.by_uid.lock() else {
            return false;
        };
        let Some(written) = map.get(&uid) else {
            return false;
        };
        let behind = written.generation == cached.metadata.generation
            && cached.resource_version().as_deref() != Some(written.resource_version.as_str())
            && written.at.elapsed() < MAX_AGE;
        if !behind {
            map.remove(&uid);
        }
        behind
    }

    pub fn forget(&self, uid: &str) {
        if let Ok(mut map) = self.by_uid.lock() {
            map.remove(uid);
        }
    }

    /// A re-list may have skipped versions: trust the cache again.
    pub fn forget_all(&self) {
        if let Ok(mut map) = self.by_uid.lock() {
            map.clear();
            map.shrink_to_fit();
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.by_uid.lock().map_or(0, |m| m.len())
    }
}

#[cfg(test)]
mod tests {
    use sealed_secrets_api::SealedSecretSpec;

    use super::*;

    fn version(uid: &str, generation: i64, resource_version: &str) -> SealedSecret {
        let mut sealed = SealedSecret::new("db", SealedSecretSpec::default());
        sealed.metadata.namespace = Some("apps".into());
        sealed.metadata.uid = Some(uid.into());
        sealed.metadata.generation = Some(generation);
        sealed.metadata.resource_version = Some(resource_version.into());
        sealed
    }

    #[test]
    fn an_older_version_of_the_generation_we_wrote_is_behind_until_ours_arrives() {
        let writes = OwnWrites::default();
        assert!(
            !writes.cache_behind(&version("u", 1, "10")),
            "nothing written"
        );
        writes.record(&version("u", 1, "12"));
        assert!(writes.cache_behind(&version("u", 1, "10")));
        assert!(writes.cache_behind(&version("u", 1, "11")));
        assert!(!writes.cache_behind(&version("other", 1, "10")));
        // Our write reached the cache: from now on the cache is trusted.
        assert!(!writes.cache_behind(&version("u", 1, "12")));
        assert_eq!(writes.len(), 0);
        assert!(!writes.cache_behind(&version("u", 1, "10")));
    }

    #[test]
    fn a_new_generation_deletes_and_relists_end_the_wait() {
        let writes = OwnWrites::default();
        writes.record(&version("u", 1, "12"));
        assert!(!writes.cache_behind(&version("u", 2, "13")), "spec changed");
        assert_eq!(writes.len(), 0);

        writes.record(&version("u", 2, "14"));
        writes.forget("u");
        assert!(!writes.cache_behind(&version("u", 2, "13")));

        writes.record(&version("u", 2, "14"));
        writes.record(&version("v", 1, "15"));
        writes.forget_all();
        assert!(!writes.cache_behind(&version("u", 2, "13")));
        assert!(!writes.cache_behind(&version("v", 1, "9")));
    }
}
