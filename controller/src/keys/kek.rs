//! The KMS's own key (the KEK): the plugin's health, polled as the API
//! server polls it, and every sealing key wrapped again when the plugin's
//! `key_id` changes, so that the old KEK can be retired.

use std::sync::Arc;
use std::time::Duration;

use super::KeyRegistry;
use crate::leader::Leadership;

/// While the plugin is unhealthy, how often it is asked again (the API
/// server's 10 s).
const UNHEALTHY_PERIOD: Duration = Duration::from_secs(10);

/// Polls the plugin's Status every `period` (every 10 s while it is not
/// healthy), tells `healthy`, and on the leader wraps again the keys a
/// previous KEK wraps. Runs until the registry goes.
pub async fn follow_kek(
    registry: Arc<KeyRegistry>,
    leadership: Arc<Leadership>,
    period: Duration,
    healthy: impl Fn(bool),
) {
    let Some(client) = registry.kms().cloned() else {
        return;
    };
    let mut was_healthy = true;
    loop {
        let status = client.status().await;
        let ok = status.is_ok();
        healthy(ok);
        match status {
            Ok(status) => {
                if !was_healthy {
                    tracing::info!(kms_key_id = %status.key_id, "the KMS plugin is healthy again");
                }
                if leadership.is_leader() {
                    match registry.rewrap(&status.key_id).await {
                        Ok(0) => {}
                        Ok(n) => {
                            tracing::info!(keys = n, kms_key_id = %status.key_id, "sealing keys wrapped under the KMS's new key")
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "cannot wrap the sealing keys under the KMS's new key; trying again")
                        }
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "the KMS plugin is not healthy: the keys held keep working; new keys wait for it")
            }
        }
        was_healthy = ok;
        tokio::time::sleep(if ok { period } else { UNHEALTHY_PERIOD }).await;
    }
}
