//! How many bytes of request bodies the HTTP API holds at once.

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::Error;

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
    use std::time::Duration;

    use super::*;

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
