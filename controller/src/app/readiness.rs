//! `/readyz`: ready once every watch has synced and a key is held (a
//! replica that does not lead waits for the leader's first key).

use std::sync::Arc;
use std::time::Duration;

use kube::runtime::reflector::Store;
use sealed_secrets_api::SealedSecret;

use crate::http::Readiness;
use crate::keys::KeyRegistry;

/// Keeps `ready` up to date until the key registry goes away.
pub(super) async fn watch(
    stores: Vec<Store<SealedSecret>>,
    registry: Arc<KeyRegistry>,
    ready: Arc<Readiness>,
) {
    ready.set(Some("the watches have not synced yet".into()));
    for store in stores {
        // kube-runtime keeps one waker per store, and the controller's own
        // runner waits on it too; re-poll so this waiter cannot be starved.
        loop {
            match tokio::time::timeout(Duration::from_millis(200), store.wait_until_ready()).await {
                Ok(Ok(())) => break,
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "watch store closed before it synced");
                    return;
                }
                Err(_elapsed) => continue,
            }
        }
    }
    tracing::info!("watches synced");
    let mut keys = registry.subscribe();
    loop {
        let can_serve = registry.current().sealing().is_some();
        let was_ready = ready.is_ready();
        ready.set((!can_serve).then(|| {
            "no key that seals yet (with leader election, the leader makes the first)".to_string()
        }));
        if can_serve && !was_ready {
            tracing::info!("ready");
        }
        if keys.changed().await.is_err() {
            return;
        }
    }
}
