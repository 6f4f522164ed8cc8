//! What makes every SealedSecret be reconciled again.

use std::sync::Arc;
use std::time::Duration;

use kube::Api;
use sealed_secrets_api::SealedSecret;

use crate::keys::KeyRegistry;
use crate::leader::Leadership;
use crate::reconcile::resync::{Reason, Resync};

/// Everything is reconciled again on a new key, on becoming leader (or the
/// write gate reopening), when the API server answers again after it was
/// away, and at least every `period`; relists request it from the watches.
pub(super) fn spawn(
    resync: &Arc<Resync>,
    registry: &Arc<KeyRegistry>,
    leadership: &Arc<Leadership>,
    period: Duration,
    probe_api: Option<Api<SealedSecret>>,
) {
    let mut keys = registry.subscribe();
    let on_key = resync.clone();
    tokio::spawn(async move {
        while keys.changed().await.is_ok() {
            on_key.request(Reason::NewKey);
        }
    });
    // A new leader reconciles everything the others only watched.
    let mut leading = leadership.subscribe();
    let on_lead = resync.clone();
    tokio::spawn(async move {
        while leading.changed().await.is_ok() {
            if *leading.borrow_and_update() {
                on_lead.request(Reason::Leadership);
            }
        }
    });
    tokio::spawn(resync.clone().every(period));
    if let Some(api) = probe_api {
        // A quorum read: it needs etcd as well as the API server.
        let probe = move || {
            let api = api.clone();
            async move {
                api.list_metadata(&kube::api::ListParams::default().limit(1))
                    .await
                    .is_ok()
            }
        };
        tokio::spawn(resync.clone().when_api_back(Duration::from_secs(5), probe));
    }
}
