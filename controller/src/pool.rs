//! A bounded pool for the HTTP API's RSA work (`/v1/verify`, `/v1/rotate`).
//!
//! Those endpoints take unauthenticated bodies of up to 10 MiB, each item an
//! RSA decryption. Run unbounded on tokio's blocking pool (512 threads), a
//! flood of them would take every core from unsealing. Here at most one job
//! per core runs at a time; the rest wait (as futures, costing no thread),
//! and reconciles keep their own threads outside this pool.

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::Error;

#[derive(Clone)]
pub struct RsaPool {
    permits: Arc<Semaphore>,
}

impl RsaPool {
    pub fn new(size: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(size.max(1))),
        }
    }

    /// One worker per CPU.
    pub fn per_cpu() -> Self {
        Self::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    }

    /// Runs `work` on a blocking thread once a worker is free. Dropping the
    /// future before that costs nothing; after, the work finishes (holding
    /// its worker) even if nobody waits for it.
    pub async fn run<T, F>(&self, work: F) -> Result<T, Error>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::PoolClosed)?;
        Ok(tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await?)
    }

    /// Workers free right now.
    pub fn available(&self) -> usize {
        self.permits.available_permits()
    }
}

/// Bytes of `/v1/verify` and `/v1/rotate` bodies held at once, read or
/// being worked on. Without it each connection may hold a 10 MiB body while
/// it waits for the pool, so memory grows with the number of clients; with
/// it, a flood of large bodies waits (unread, in the clients' sockets).
#[derive(Clone)]
pub struct BodyBudget {
    units: Arc<Semaphore>,
    total: u32,
}

/// The budget counts KiB.
const UNIT: usize = 1 << 10;

/// A reservation: the bytes return to the budget when it is dropped.
pub struct Reserved(tokio::sync::OwnedSemaphorePermit);

impl BodyBudget {
    pub fn new(bytes: usize) -> Self {
        let total = u32::try_from(bytes.div_ceil(UNIT).max(1)).unwrap_or(u32::MAX);
        Self {
            units: Arc::new(Semaphore::new(total as usize)),
            total,
        }
    }

    /// Waits until `bytes` more may be held (the whole budget at most).
    pub async fn reserve(&self, bytes: usize) -> Result<Reserved, Error> {
        let units = u32::try_from(bytes.div_ceil(UNIT).max(1))
            .unwrap_or(u32::MAX)
            .min(self.total);
        self.units
            .clone()
            .acquire_many_owned(units)
            .await
            .map(Reserved)
            .map_err(|_| Error::PoolClosed)
    }

    /// Bytes free right now.
    pub fn available(&self) -> usize {
        self.units.available_permits() * UNIT
    }
}

impl Reserved {
    /// Gives back what is reserved beyond `bytes` (a body shorter than the
    /// most it could have been).
    pub fn shrink_to(&mut self, bytes: usize) {
        let keep = u32::try_from(bytes.div_ceil(UNIT).max(1)).unwrap_or(u32::MAX);
        let excess = (self.0.num_permits() as u32).saturating_sub(keep);
        if excess > 0 {
            drop(self.0.split(excess as usize));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn never_more_jobs_at_once_than_workers() {
        let pool = RsaPool::new(2);
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let jobs = (0..8).map(|_| {
            let (running, peak) = (running.clone(), peak.clone());
            let pool = pool.clone();
            tokio::spawn(async move {
                pool.run(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(50));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
                .await
            })
        });
        for job in futures::future::join_all(jobs).await {
            job.unwrap().unwrap();
        }
        assert_eq!(peak.load(Ordering::SeqCst), 2);
        assert_eq!(pool.available(), 2);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn bodies_wait_for_the_budget() {
        let budget = BodyBudget::new(3 << 20);
        let mut first = budget.reserve(10 << 20).await.unwrap();
        assert_eq!(
            budget.available(),
            0,
            "more than the budget takes all of it"
        );
        first.shrink_to(1 << 20);
        assert_eq!(budget.available(), 2 << 20);
        let second = budget.reserve(2 << 20).await.unwrap();
        let waiting = tokio::time::timeout(Duration::from_millis(50), budget.reserve(1));
        assert!(waiting.await.is_err(), "nothing left: the next one waits");
        drop(second);
        let third = tokio::time::timeout(Duration::from_millis(50), budget.reserve(1 << 20));
        assert!(third.await.is_ok(), "freed by the drop");
        drop(first);
        assert_eq!(budget.available(), 3 << 20);
    }
}
