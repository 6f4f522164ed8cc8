//! When every SealedSecret is reconciled again, and why.
//!
//! A SealedSecret is reconciled when it changes, when its Secret changes, and
//! when something may have changed for all of them at once: a new key, this
//! replica becoming leader (or its write gate reopening after a late Lease
//! renewal), a watch that listed everything again (events lost in the gap
//! show up only in the new list), and the API server answering again after
//! requests failed because it was away. Whatever trigger is lost besides, the
//! safety net bounds the damage: every `--resync-period` the Secret watch
//! lists again (so a missed delete is found) and everything is reconciled,
//! at the latest one period after the last time.
//!
//! A reconcile of a SealedSecret that is synced and whose Secret the watch
//! has seen costs no request and no RSA work, so a resync of everything is
//! cheap (docs/benchmarks.md, "Resync").
//!
//! Requests coalesce: while one resync is pending, more add nothing.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{Stream, StreamExt as _};
use tokio::sync::watch;
// tokio's clock: the tests pause and advance it.
use tokio::time::Instant;

use crate::metrics::Metrics;

/// Why everything is reconciled again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// A sealing key was added.
    NewKey,
    /// This replica became leader, or its write gate opened again after
    /// refusing writes.
    Leadership,
    /// The SealedSecret watch listed everything (at start, or after it
    /// expired).
    SealedSecretsListed,
    /// The Secret watch listed everything again: deletes in the gap are known
    /// only now.
    SecretsListed,
    /// The API server answers again after requests failed because it was away.
    ApiBack,
    /// `--resync-period` passed without any other resync.
    Periodic,
}

impl Reason {
    pub fn label(self) -> &'static str {
        match self {
            Self::NewKey => "new_key",
            Self::Leadership => "leadership",
            Self::SealedSecretsListed => "sealedsecrets_listed",
            Self::SecretsListed => "secrets_listed",
            Self::ApiBack => "api_back",
            Self::Periodic => "periodic",
        }
    }
}

/// Requests to reconcile everything, shared by every watch scope.
pub struct Resync {
    requests: watch::Sender<u64>,
    last: Mutex<Instant>,
    metrics: Arc<Metrics>,
    /// Counts requests that failed because the API server was away.
    api_away: watch::Sender<u64>,
}

impl Resync {
    pub fn new(metrics: Arc<Metrics>) -> Arc<Self> {
        let (requests, _) = watch::channel(0);
        let (api_away, _) = watch::channel(0);
        Arc::new(Self {
            requests,
            last: Mutex::new(Instant::now()),
            metrics,
            api_away,
        })
    }

    /// Reconciles everything soon (coalesced with any pending request).
    pub fn request(&self, reason: Reason) {
        match reason {
            Reason::SealedSecretsListed | Reason::Periodic => {
                tracing::debug!(reason = reason.label(), "reconciling every SealedSecret")
            }
            _ => tracing::info!(reason = reason.label(), "reconciling every SealedSecret"),
        }
        self.metrics.resync(reason.label());
        if let Ok(mut last) = self.last.lock() {
            *last = Instant::now();
        }
        self.requests.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// One item per resync, for `Controller::reconcile_all_on`.
    pub fn stream(&self) -> impl Stream<Item = ()> + Send + 'static {
        tokio_stream::wrappers::WatchStream::from_changes(self.requests.subscribe()).map(|_| ())
    }

    fn since_last(&self) -> Duration {
        self.last.lock().map_or(Duration::ZERO, |at| at.elapsed())
    }

    /// The safety net: a resync whenever `period` passes without one.
    pub async fn every(self: Arc<Self>, period: Duration) {
        if period.is_zero() {
            return;
        }
        loop {
            let wait = period.saturating_sub(self.since_last());
            tokio::time::sleep(wait.max(Duration::from_secs(1))).await;
            if self.since_last() >= period {
                self.request(Reason::Periodic);
            }
        }
    }

    /// A request failed for want of the API server (unreachable, timed out,
    /// 5xx, 429): [`Resync::when_api_back`] resyncs once it answers again, so
    /// what failed meanwhile does not wait for its slow retry.
    pub fn api_away(&self) {
        self.api_away.send_modify(|n| *n = n.wrapping_add(1));
    }

    #[cfg(test)]
    pub(crate) fn api_away_changes(&self) -> watch::Receiver<u64> {
        self.api_away.subscribe()
    }

    /// After a [`Resync::api_away`], asks `probe` every `interval` until it
    /// succeeds, then resyncs once for every failure reported until then.
    pub async fn when_api_back<F, Fut>(self: Arc<Self>, interval: Duration, probe: F)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let mut failures = self.api_away.subscribe();
        while failures.changed().await.is_ok() {
            loop {
                tokio::time::sleep(interval).await;
                if probe().await {
                    break;
                }
            }
            failures.mark_unchanged();
            self.request(Reason::ApiBack);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn resyncs(metrics: &Metrics, reason: Reason) -> String {
        let wanted = format!("reason=\"{}\"", reason.label());
        metrics
            .render()
            .lines()
            .find(|l| {
                l.starts_with("sealed_secrets_controller_resyncs_total{") && l.contains(&wanted)
            })
            .and_then(|l| l.rsplit(' ').next())
            .unwrap_or("0")
            .to_string()
    }

    #[tokio::test(start_paused = true)]
    async fn requests_coalesce_into_one_reconcile_of_everything() {
        let resync = Resync::new(Arc::default());
        let mut stream = Box::pin(resync.stream());
        resync.request(Reason::NewKey);
        resync.request(Reason::SecretsListed);
        assert_eq!(stream.next().await, Some(()));
        let more = tokio::time::timeout(Duration::from_secs(1), stream.next()).await;
        assert!(more.is_err(), "two requests while pending are one resync");
    }

    #[tokio::test(start_paused = true)]
    async fn the_safety_net_fires_once_a_period_without_other_resyncs() {
        let metrics = Arc::new(Metrics::default());
        let resync = Resync::new(metrics.clone());
        let mut stream = Box::pin(resync.stream());
        tokio::spawn(resync.clone().every(Duration::from_secs(600)));

        tokio::time::sleep(Duration::from_secs(599)).await;
        assert_eq!(resyncs(&metrics, Reason::Periodic), "0");
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(resyncs(&metrics, Reason::Periodic), "1");
        assert_eq!(stream.next().await, Some(()));

        // Another resync moves the next periodic one a period later.
        tokio::time::sleep(Duration::from_secs(300)).await;
        resync.request(Reason::SecretsListed);
        tokio::time::sleep(Duration::from_secs(599)).await;
        assert_eq!(resyncs(&metrics, Reason::Periodic), "1");
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(resyncs(&metrics, Reason::Periodic), "2");
    }

    #[tokio::test(start_paused = true)]
    async fn the_api_server_back_after_a_failure_resyncs_once() {
        let metrics = Arc::new(Metrics::default());
        let resync = Resync::new(metrics.clone());
        let up = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let probes = Arc::new(AtomicUsize::new(0));
        let (probe_up, probe_count) = (up.clone(), probes.clone());
        tokio::spawn(
            resync
                .clone()
                .when_api_back(Duration::from_secs(5), move || {
                    let (up, count) = (probe_up.clone(), probe_count.clone());
                    async move {
                        count.fetch_add(1, Ordering::Relaxed);
                        up.load(Ordering::Relaxed)
                    }
                }),
        );
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert_eq!(probes.load(Ordering::Relaxed), 0, "no failure, no probe");

        resync.api_away();
        resync.api_away();
        tokio::time::sleep(Duration::from_secs(30)).await;
        assert!(probes.load(Ordering::Relaxed) >= 5, "probing while away");
        assert_eq!(resyncs(&metrics, Reason::ApiBack), "0");
        up.store(true, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_secs(6)).await;
        assert_eq!(resyncs(&metrics, Reason::ApiBack), "1");
        let probed = probes.load(Ordering::Relaxed);
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert_eq!(
            probes.load(Ordering::Relaxed),
            probed,
            "back: no more probes until the next failure"
        );
    }
}
