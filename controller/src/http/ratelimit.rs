//! The rate limit of `/v1/verify` and `/v1/rotate`, as the reference's
//! (throttled's GCRA): `--rate-limit` requests per second sustained, and
//! `--rate-limit-burst` more at once, i.e. `burst + 1` back to back.
//!
//! Keyed as the reference keys it: by the request path and the first
//! `X-Forwarded-For` value (which the API server's service proxy sets to the
//! caller's address), not by the TCP peer; requests without that header
//! share one bucket per path.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue};

/// How many keys are remembered at most (the reference's store holds 65536).
const MAX_KEYS: usize = 65536;

/// The outcome of one request, and what the `X-RateLimit-*` headers say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// `burst + 1`.
    pub limit: u32,
    /// Requests that would still pass right now.
    pub remaining: u32,
    /// Until the bucket is full again.
    pub reset_after: Duration,
    /// Set when denied: until the next request would pass.
    pub retry_after: Option<Duration>,
}

impl Decision {
    /// The headers the reference sets on every limited endpoint's answer.
    pub fn headers(&self, headers: &mut HeaderMap) {
        let secs = |d: Duration| HeaderValue::from(d.as_secs() + u64::from(d.subsec_nanos() > 0));
        headers.insert("x-ratelimit-limit", HeaderValue::from(self.limit));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(self.remaining));
        headers.insert("x-ratelimit-reset", secs(self.reset_after));
        if let Some(retry) = self.retry_after {
            headers.insert("retry-after", secs(retry));
        }
    }
}

/// A generic cell rate algorithm limiter: per key, the theoretical arrival
/// time of the next request.
pub struct RateLimiter {
    /// One request's share of time: `1s / rate`.
    emission: Duration,
    /// How far ahead of time requests may come: `emission * (burst + 1)`.
    tolerance: Duration,
    limit: u32,
    arrivals: Mutex<HashMap<String, Instant>>,
}

impl RateLimiter {
    pub fn new(per_second: u32, burst: u32) -> Self {
        let emission = Duration::from_secs(1) / per_second.max(1);
        let limit = burst.saturating_add(1);
        Self {
            emission,
            tolerance: emission.saturating_mul(limit),
            limit,
            arrivals: Mutex::default(),
        }
    }

    /// The key of a request: its path and first `X-Forwarded-For` value (lower case).
    pub fn key(path: &str, headers: &HeaderMap) -> String {
        let forwarded = headers
            .get("x-forwarded-for")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).to_lowercase())
            .unwrap_or_default();
        format!("{forwarded}\n{path}\n")
    }

    pub fn check(&self, key: &str, now: Instant) -> Decision {
        let Ok(mut arrivals) = self.arrivals.lock() else {
            return self.decision(false, Duration::ZERO, Some(self.emission));
        };
        // How far the key's theoretical arrival time is ahead of now.
        let ahead = arrivals
            .get(key)
            .map_or(Duration::ZERO, |tat| tat.saturating_duration_since(now));
        let next = ahead + self.emission;
        if next > self.tolerance {
            return self.decision(false, ahead, Some(next - self.tolerance));
        }
        if arrivals.len() >= MAX_KEYS && !arrivals.contains_key(key) {
            arrivals.retain(|_, tat| *tat > now);
            if arrivals.len() >= MAX_KEYS {
                if let Some(oldest) = arrivals
                    .iter()
                    .min_by_key(|(_, t)| **t)
                    .map(|(k, _)| k.clone())
                {
                    arrivals.remove(&oldest);
                }
            }
        }
        arrivals.insert(key.to_string(), now + next);
        self.decision(true, next, None)
    }

    fn decision(&self, allowed: bool, ttl: Duration, retry_after: Option<Duration>) -> Decision {
        let left = self.tolerance.saturating_sub(ttl);
        let remaining = (left.as_nanos() / self.emission.as_nanos().max(1)) as u32;
        Decision {
            allowed,
            limit: self.limit,
            remaining,
            reset_after: ttl,
            retry_after,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn burst_plus_one_at_once_then_the_sustained_rate() {
        // The reference's defaults: --rate-limit=2 --rate-limit-burst=2.
        let limiter = RateLimiter::new(2, 2);
        let t0 = Instant::now();
        let seen: Vec<(bool, u32)> = (0..4)
            .map(|_| limiter.check("k", t0))
            .map(|d| (d.allowed, d.remaining))
            .collect();
        assert_eq!(seen, [(true, 2), (true, 1), (true, 0), (false, 0)]);
        let denied = limiter.check("k", t0);
        assert_eq!(denied.limit, 3);
        assert_eq!(denied.retry_after, Some(ms(500)));
        assert_eq!(denied.reset_after, ms(1500));
        // One request's worth of time later (500 ms at 2/s), one more passes.
        assert!(!limiter.check("k", t0 + ms(499)).allowed);
        assert!(limiter.check("k", t0 + ms(500)).allowed);
        assert!(!limiter.check("k", t0 + ms(500)).allowed);
        // Idle long enough, the whole burst is back.
        let later = t0 + Duration::from_secs(5);
        assert_eq!(
            (0..5).filter(|_| limiter.check("k", later).allowed).count(),
            3
        );
    }

    #[test]
    fn keyed_by_path_and_forwarded_for_not_by_peer() {
        let limiter = RateLimiter::new(1, 0);
        let t0 = Instant::now();
        let mut from_a = HeaderMap::new();
        from_a.insert("x-forwarded-for", HeaderValue::from_static("10.0.0.1"));
        let mut from_a_upper = HeaderMap::new();
        from_a_upper.insert("X-Forwarded-For", HeaderValue::from_static("10.0.0.1"));
        let none = HeaderMap::new();
        let verify_a = RateLimiter::key("/v1/verify", &from_a);
        assert!(limiter.check(&verify_a, t0).allowed);
        assert!(
            !limiter
                .check(&RateLimiter::key("/v1/verify", &from_a_upper), t0)
                .allowed
        );
        assert!(
            limiter
                .check(&RateLimiter::key("/v1/rotate", &from_a), t0)
                .allowed
        );
        // Without the header every caller shares one bucket per path.
        assert!(
            limiter
                .check(&RateLimiter::key("/v1/verify", &none), t0)
                .allowed
        );
        assert!(
            !limiter
                .check(&RateLimiter::key("/v1/verify", &none), t0)
                .allowed
        );
    }

    #[test]
    fn headers_say_what_the_reference_says() {
        let limiter = RateLimiter::new(2, 2);
        let t0 = Instant::now();
        let mut headers = HeaderMap::new();
        limiter.check("k", t0).headers(&mut headers);
        assert_eq!(headers["x-ratelimit-limit"], "3");
        assert_eq!(headers["x-ratelimit-remaining"], "2");
        assert_eq!(headers["x-ratelimit-reset"], "1");
        assert!(headers.get("retry-after").is_none());
        limiter.check("k", t0);
        limiter.check("k", t0);
        let mut headers = HeaderMap::new();
        limiter.check("k", t0).headers(&mut headers);
        assert_eq!(headers["retry-after"], "1");
        assert_eq!(headers["x-ratelimit-reset"], "2");
    }

    #[test]
    fn memory_is_bounded() {
        let limiter = RateLimiter::new(1, 0);
        let t0 = Instant::now();
        for i in 0..MAX_KEYS + 10 {
            assert!(limiter.check(&i.to_string(), t0).allowed);
        }
        assert_eq!(limiter.arrivals.lock().unwrap().len(), MAX_KEYS);
    }
}
