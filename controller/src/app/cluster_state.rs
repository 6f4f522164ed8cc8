//! The cluster's state as this replica's watches hold it: keys from the key
//! registry, SealedSecrets (with their statuses) from the watch caches. The
//! metrics read it at each scrape, so a standby shows what the leader does.

use std::sync::Arc;

use kube::runtime::reflector::Store;
use sealed_secrets_api::SealedSecret;

use sealed_secrets_api::keys::Activation;

use crate::keys::KeyRegistry;
use crate::metrics::{ClusterState, KeyState, SealedState};
use crate::reconcile::INSTANCE_LABEL;

pub struct WatchedState {
    pub registry: Arc<KeyRegistry>,
    pub stores: Vec<Store<SealedSecret>>,
}

impl ClusterState for WatchedState {
    fn keys(&self) -> Vec<KeyState> {
        let keys = self.registry.current();
        let sealing = keys.sealing().map(|e| e.key.fingerprint());
        keys.entries()
            .iter()
            .map(|entry| KeyState {
                fingerprint: entry.key.fingerprint().as_str().to_string(),
                created: entry.order_time(),
                expires: entry.certificate.not_after(),
                sealing: Some(entry.key.fingerprint()) == sealing,
                kms_key_id: entry.kms_key_id.clone(),
                activates: match entry.activation {
                    Activation::At(at) => Some(at),
                    _ => None,
                },
            })
            .collect()
    }

    fn sealed_secrets(&self, each: &mut dyn FnMut(SealedState<'_>)) {
        for store in &self.stores {
            for sealed in store.state() {
                each(state_of(&sealed));
            }
        }
    }
}

/// What the metrics show of one SealedSecret.
fn state_of(sealed: &SealedSecret) -> SealedState<'_> {
    let status = sealed.status.as_ref();
    let condition =
        |type_: &str| status.and_then(|s| s.conditions.iter().find(|c| c.type_ == type_));
    let synced = condition("Synced").map(|c| c.status == "True");
    let current = status.is_some_and(|s| {
        s.observed_generation.is_some() && s.observed_generation == sealed.metadata.generation
    });
    let failing = (current && synced == Some(false)).then(|| {
        condition("Ready")
            .and_then(|c| c.reason.as_deref())
            .unwrap_or("Unknown")
    });
    SealedState {
        namespace: sealed.metadata.namespace.as_deref().unwrap_or_default(),
        name: sealed.metadata.name.as_deref().unwrap_or_default(),
        instance: sealed
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(INSTANCE_LABEL))
            .map_or("", String::as_str),
        synced,
        failing,
        key: status.and_then(|s| s.key_fingerprint.as_deref()),
    }
}
