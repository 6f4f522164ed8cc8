//! A bounded pool for RSA work: unsealing has one, the HTTP API's
//! `/v1/verify` and `/v1/rotate` another.
//!
//! Those endpoints take unauthenticated bodies of up to 10 MiB, each item an
//! RSA decryption. Run unbounded on tokio's blocking pool (512 threads), a
//! flood of them would take every core from unsealing. In each pool at most
//! one job per core runs at a time; the rest wait (as futures, costing no
//! thread), so neither starves the other of threads.

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
}
