//! Status writes of ours that the cache has not caught up with yet.
//!
//! Unsealing a SealedSecret writes its Secret and then its status. The
//! Secret's watch event usually reaches the controller first and reconciles
//! the SealedSecret again while the cache still holds the version from
//! before our status write, which looks unsynced. Without this memo that
//! reconcile reads the object from the API server to find out it is done:
//! two requests per object on every cold start. With it, a cached version
//! that the reconcile which wrote saw itself (the cache's, or the one it read
//! and processed) is known to be handled; the arrival of our write in the
//! cache reconciles the object again anyway. Any other version is not:
//! resourceVersions are opaque, so one we never saw may be newer than our
//! write (someone edited a label meanwhile), and is reconciled as usual.
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
    /// Versions from before our write that the writing reconcile saw.
    seen_before: [Option<String>; 2],
    at: Instant,
}

#[derive(Default)]
pub struct OwnWrites {
    by_uid: Mutex<HashMap<String, Written>>,
}

impl OwnWrites {
    /// We wrote a Synced status for `written` (the object as the API server
    /// returned it) in a reconcile that saw the versions `seen_before`.
    pub fn record(&self, written: &SealedSecret, seen_before: [Option<String>; 2]) {
        let Some(uid) = written.uid() else {
            return;
        };
        if let Ok(mut map) = self.by_uid.lock() {
            map.insert(
                uid,
                Written {
                    generation: written.metadata.generation,
                    seen_before,
                    at: Instant::now(),
                },
            );
        }
    }

    /// Whether `cached` is a version from before our Synced write of its
    /// generation, with the write still on its way to the cache.
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
        let version = cached.resource_version();
        let behind = written.generation == cached.metadata.generation
            && version.is_some()
            && written.seen_before.contains(&version)
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

    fn seen(cached: &str, processed: &str) -> [Option<String>; 2] {
        [Some(cached.into()), Some(processed.into())]
    }

    #[test]
    fn a_version_the_writer_saw_is_behind_until_ours_arrives() {
        let writes = OwnWrites::default();
        assert!(
            !writes.cache_behind(&version("u", 1, "10")),
            "nothing written"
        );
        // The cache held 10, the reconcile read 11 and wrote 12.
        writes.record(&version("u", 1, "12"), seen("10", "11"));
        assert!(writes.cache_behind(&version("u", 1, "10")));
        assert!(writes.cache_behind(&version("u", 1, "11")));
        assert!(!writes.cache_behind(&version("other", 1, "10")));
        // Our write reached the cache: from now on the cache is trusted.
        assert!(!writes.cache_behind(&version("u", 1, "12")));
        assert_eq!(writes.len(), 0);
        assert!(!writes.cache_behind(&version("u", 1, "10")));
    }

    /// Our status write, then someone else's label edit at the same
    /// generation, reach the cache as one version: not ours, not one we saw,
    /// so it is reconciled (the Secret may have been deleted meanwhile).
    #[test]
    fn a_version_the_writer_never_saw_is_not_behind() {
        let writes = OwnWrites::default();
        writes.record(&version("u", 1, "12"), seen("10", "10"));
        assert!(!writes.cache_behind(&version("u", 1, "13")));
        assert_eq!(writes.len(), 0, "and the cache is trusted from then on");
    }

    #[test]
    fn a_new_generation_deletes_and_relists_end_the_wait() {
        let writes = OwnWrites::default();
        writes.record(&version("u", 1, "12"), seen("10", "11"));
        assert!(!writes.cache_behind(&version("u", 2, "11")), "spec changed");
        assert_eq!(writes.len(), 0);

        writes.record(&version("u", 2, "14"), seen("13", "13"));
        writes.forget("u");
        assert!(!writes.cache_behind(&version("u", 2, "13")));

        writes.record(&version("u", 2, "14"), seen("13", "13"));
        writes.record(&version("v", 1, "15"), seen("9", "9"));
        writes.forget_all();
        assert!(!writes.cache_behind(&version("u", 2, "13")));
        assert!(!writes.cache_behind(&version("v", 1, "9")));
    }
}
