//! When a SealedSecret whose Secret could not be written is tried again.
//!
//! As the reference v0.40.0: up to `--max-unseal-retries` quick retries with
//! exponential backoff, and a change to the object starts them afresh. The
//! reference then forgets the object until something changes it, so after
//! an API server or etcd outage longer than the backoff it stays unsynced.
//! Here it is tried again every `--unseal-retry-period` (0: never, as the
//! reference) until it works: failed objects recover by themselves once the
//! cause is gone.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// The first quick retry waits this long; each further one twice as long.
const FIRST_RETRY: Duration = Duration::from_secs(1);

/// Consecutive failures of one SealedSecret at one generation.
#[derive(Debug, Clone, Copy)]
struct Failures {
    generation: Option<i64>,
    count: u32,
}

/// Consecutive write failures per SealedSecret (by uid), and the policy.
#[derive(Debug)]
pub struct Retries {
    /// `--max-unseal-retries`: how many quick retries follow a failure.
    pub max_quick: u32,
    /// `--unseal-retry-period`: how often to try again once they ran out; zero: never.
    pub period: Duration,
    failures: Mutex<HashMap<String, Failures>>,
}

impl Default for Retries {
    fn default() -> Self {
        Self::new(5, Duration::from_secs(300))
    }
}

impl Retries {
    pub fn new(max_quick: u32, period: Duration) -> Self {
        Self {
            max_quick,
            period,
            failures: Mutex::default(),
        }
    }

    /// Records a failure of `uid` at `generation`; when to try again
    /// (`None`: only when something changes). A new generation starts the
    /// quick retries afresh.
    pub fn failed(&self, uid: &str, generation: Option<i64>) -> Option<Duration> {
        let count = match self.failures.lock() {
            Ok(mut failures) => {
                let entry = failures.entry(uid.to_string()).or_insert(Failures {
                    generation,
                    count: 0,
                });
                if entry.generation != generation {
                    *entry = Failures {
                        generation,
                        count: 0,
                    };
                }
                entry.count = entry.count.saturating_add(1);
                entry.count
            }
            // A poisoned lock only loses the count: retry slowly.
            Err(_) => u32::MAX,
        };
        delay(count, self.max_quick, self.period)
    }

    /// Forgets `uid`: it worked, or it is gone.
    pub fn forget(&self, uid: &str) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.remove(uid);
        }
    }

    /// Keeps only the objects `keep` says still exist.
    pub fn retain(&self, keep: impl Fn(&str) -> bool) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.retain(|uid, _| keep(uid));
        }
    }

    /// How many objects are failing now.
    #[cfg(test)]
    pub fn failing(&self) -> usize {
        self.failures.lock().map_or(0, |f| f.len())
    }
}

/// After the `attempt`th consecutive failure (from 1): 1s, 2s, 4s, ... for
/// the first `max_quick`, then every `period` (never when zero). A quick
/// retry never waits longer than `period`.
pub fn delay(attempt: u32, max_quick: u32, period: Duration) -> Option<Duration> {
    if attempt <= max_quick {
        let quick = FIRST_RETRY.saturating_mul(1 << (attempt.saturating_sub(1)).min(16));
        return Some(if period.is_zero() {
            quick
        } else {
            quick.min(period)
        });
    }
    (!period.is_zero()).then_some(period)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PERIOD: Duration = Duration::from_secs(300);

    fn secs(n: u64) -> Option<Duration> {
        Some(Duration::from_secs(n))
    }

    #[test]
    fn quick_retries_double_then_the_period_forever() {
        let delays: Vec<_> = (1..=8).map(|n| delay(n, 5, PERIOD)).collect();
        assert_eq!(
            delays,
            [
                secs(1),
                secs(2),
                secs(4),
                secs(8),
                secs(16),
                secs(300),
                secs(300),
                secs(300)
            ]
        );
        assert_eq!(delay(u32::MAX, 5, PERIOD), secs(300));
        // Never longer than the period, and no overflow with many quick retries.
        assert_eq!(delay(20, 30, PERIOD), secs(300));
        assert_eq!(delay(30, 30, Duration::ZERO), secs(1 << 16));
    }

    #[test]
    fn period_zero_gives_up_as_the_reference() {
        assert_eq!(delay(1, 5, Duration::ZERO), secs(1));
        assert_eq!(delay(5, 5, Duration::ZERO), secs(16));
        assert_eq!(delay(6, 5, Duration::ZERO), None);
        assert_eq!(delay(1, 0, Duration::ZERO), None);
        assert_eq!(delay(1, 0, PERIOD), secs(300));
    }

    #[test]
    fn an_object_that_failed_often_is_still_retried() {
        let retries = Retries::new(2, Duration::from_secs(60));
        assert_eq!(retries.failed("u", Some(1)), secs(1));
        assert_eq!(retries.failed("u", Some(1)), secs(2));
        // Past the quick retries: still tried again, however long it fails.
        for _ in 0..100 {
            assert_eq!(retries.failed("u", Some(1)), secs(60));
        }
        // Another object keeps its own count.
        assert_eq!(retries.failed("v", Some(1)), secs(1));
    }

    #[test]
    fn a_change_or_a_success_starts_the_quick_retries_afresh() {
        let retries = Retries::new(2, Duration::from_secs(60));
        for _ in 0..5 {
            retries.failed("u", Some(1));
        }
        assert_eq!(retries.failed("u", Some(2)), secs(1), "new generation");
        retries.failed("u", Some(2));
        retries.failed("u", Some(2));
        retries.forget("u");
        assert_eq!(retries.failing(), 0);
        assert_eq!(retries.failed("u", Some(2)), secs(1), "after a success");
    }
}
