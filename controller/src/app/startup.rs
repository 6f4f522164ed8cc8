//! Waiting for the API server at start: the keys must be loaded before
//! anything is served, and an API server that is away is waited for, not a
//! reason to exit.

use std::future::Future;
use std::time::Duration;

use crate::http::Readiness;
use crate::Error;

/// Loading the keys, or making the first (RSA generation included).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);

/// One bounded attempt at `what`: whether it succeeded, or failed because
/// the API server or the KMS plugin is away (unreachable, timing out, 5xx,
/// 429, a plugin that refuses; logged, and said by `/readyz`); any other
/// error (RBAC, say) is returned.
pub(super) async fn attempt(
    what: &str,
    attempt: impl Future<Output = Result<(), Error>>,
    ready: &Readiness,
) -> Result<bool, Error> {
    // A stopped API server holds a request open for minutes (the client's
    // read timeout).
    match tokio::time::timeout(ATTEMPT_TIMEOUT, attempt).await {
        Ok(Ok(())) => Ok(true),
        Ok(Err(e)) if e.waits() => {
            tracing::warn!(error = %e, "cannot {what}; not ready until it can");
            ready.set(Some(format!("cannot {what}: {e}")));
            Ok(false)
        }
        Ok(Err(e)) => Err(e),
        Err(_) => {
            tracing::warn!(timeout = ?ATTEMPT_TIMEOUT, "cannot {what}: no answer in time; not ready until it can");
            ready.set(Some(format!(
                "cannot {what}: no answer within {ATTEMPT_TIMEOUT:?}"
            )));
            Ok(false)
        }
    }
}

/// After a first [`attempt`] failed for want of the API server: tries again
/// after 1 s, 2 s, ... up to 30 s until it succeeds. `None`: shut down while
/// waiting.
pub(super) async fn until_api_answers<F, Fut>(
    what: &str,
    shutdown: impl Future<Output = ()>,
    mut next: F,
    ready: &Readiness,
) -> Result<Option<()>, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), Error>>,
{
    tokio::pin!(shutdown);
    let mut wait = Duration::from_secs(1);
    loop {
        tokio::select! {
            () = &mut shutdown => return Ok(None),
            () = tokio::time::sleep(wait) => {}
        }
        if attempt(what, next(), ready).await? {
            return Ok(Some(()));
        }
        wait = (wait * 2).min(Duration::from_secs(30));
    }
}
