//! How the framework treats one provider: rate limit, concurrency, timeout, retries, cache
//! lifetime; and the token-bucket rate limiter that enforces the rate.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use tokio::time::Instant;

/// The limits every provider declares (its defaults) and operators may change per provider
/// in `[enrich.<provider>]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Requests per second sent upstream (0 = no limit).
    pub requests_per_second: f64,
    /// Requests that may go out at once after a quiet period (token-bucket size).
    pub burst: u32,
    /// Requests in flight at once.
    pub max_concurrency: u32,
    /// Time allowed for one attempt, in seconds.
    pub timeout_secs: u64,
    /// Further attempts after a retryable failure (429, 5xx, timeout, connection).
    pub max_retries: u32,
    /// First backoff delay in milliseconds; doubles per attempt, with full jitter.
    pub retry_base_ms: u64,
    /// Longest single wait between attempts, in seconds (`Retry-After` included); a provider
    /// asking for longer fails the lookup as rate limited instead.
    pub max_retry_wait_secs: u64,
    /// How long an answer stays fresh in the caches, in seconds.
    pub cache_ttl_secs: u64,
    /// Keep answers in the database (shared by every node and restart).
    pub store_cache: bool,
}

impl Policy {
    /// The timeout of one attempt.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }

    /// Check values that parse but cannot work; `section` prefixes the key in messages.
    pub fn validate(&self, section: &str) -> Result<(), String> {
        if !(self.requests_per_second >= 0.0 && self.requests_per_second.is_finite()) {
            return Err(format!("{section}.requests_per_second: must be 0 or more"));
        }
        if self.burst == 0 {
            return Err(format!("{section}.burst: must be at least 1"));
        }
        if self.max_concurrency == 0 {
            return Err(format!("{section}.max_concurrency: must be at least 1"));
        }
        if self.timeout_secs == 0 {
            return Err(format!("{section}.timeout_secs: must be at least 1"));
        }
        Ok(())
    }

    /// The wait before attempt `attempt + 1` (attempt counts from 1): exponential from
    /// `retry_base_ms` with full jitter, or what the provider asked for, whichever is longer.
    pub fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exponential = self.retry_base_ms.saturating_mul(1u64 << (attempt - 1).min(20));
        let cap = self.max_retry_wait_secs.saturating_mul(1000).max(1);
        let jittered = rand::random_range(0..=exponential.min(cap));
        let wait = Duration::from_millis(jittered);
        match retry_after {
            Some(asked) => asked.max(wait),
            None => wait,
        }
    }
}

/// A token bucket: `rate` tokens per second up to `burst`; [`RateLimiter::acquire`] waits
/// for a token. A provider's `Retry-After` pauses the whole bucket ([`RateLimiter::pause`]).
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    state: Mutex<Bucket>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
    paused_until: Option<Instant>,
}

impl RateLimiter {
    /// `rate` per second (0 = unlimited), bursts of `burst`.
    pub fn new(rate: f64, burst: u32) -> RateLimiter {
        let burst = f64::from(burst.max(1));
        RateLimiter {
            rate,
            burst,
            state: Mutex::new(Bucket {
                tokens: burst,
                updated: Instant::now(),
                paused_until: None,
            }),
        }
    }

    /// Wait until a request may go out.
    pub async fn acquire(&self) {
        loop {
            let wait = {
                let mut bucket = self.state.lock().await;
                let now = Instant::now();
                if let Some(until) = bucket.paused_until {
                    if until > now {
                        Some(until - now)
                    } else {
                        bucket.paused_until = None;
                        None
                    }
                } else {
                    None
                }
                .or_else(|| {
                    if self.rate <= 0.0 {
                        return None;
                    }
                    let elapsed = now.duration_since(bucket.updated).as_secs_f64();
                    bucket.tokens = (bucket.tokens + elapsed * self.rate).min(self.burst);
                    bucket.updated = now;
                    if bucket.tokens >= 1.0 {
                        bucket.tokens -= 1.0;
                        None
                    } else {
                        Some(Duration::from_secs_f64((1.0 - bucket.tokens) / self.rate))
                    }
                })
            };
            match wait {
                Some(wait) => tokio::time::sleep(wait).await,
                None => return,
            }
        }
    }

    /// Let no request out for `duration` (the provider said `Retry-After`).
    pub async fn pause(&self, duration: Duration) {
        let mut bucket = self.state.lock().await;
        let until = Instant::now() + duration;
        if bucket.paused_until.is_none_or(|current| current < until) {
            bucket.paused_until = Some(until);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy {
            requests_per_second: 1.0,
            burst: 1,
            max_concurrency: 1,
            timeout_secs: 1,
            max_retries: 3,
            retry_base_ms: 100,
            max_retry_wait_secs: 1,
            cache_ttl_secs: 60,
            store_cache: true,
        }
    }

    #[test]
    fn backoff_grows_and_honours_retry_after() {
        let policy = policy();
        for attempt in 1..=5 {
            let wait = policy.backoff(attempt, None);
            let ceiling = (100u64 << (attempt - 1)).min(1000);
            assert!(wait <= Duration::from_millis(ceiling), "{attempt}: {wait:?}");
        }
        assert_eq!(policy.backoff(1, Some(Duration::from_secs(3))), Duration::from_secs(3));
    }

    #[tokio::test]
    async fn the_bucket_spaces_requests() {
        let limiter = RateLimiter::new(20.0, 2);
        let start = Instant::now();
        for _ in 0..6 {
            limiter.acquire().await;
        }
        // Two at once, then one every 50 ms: at least 200 ms for six.
        assert!(start.elapsed() >= Duration::from_millis(195), "{:?}", start.elapsed());
        limiter.pause(Duration::from_millis(300)).await;
        let before = Instant::now();
        limiter.acquire().await;
        assert!(before.elapsed() >= Duration::from_millis(295), "{:?}", before.elapsed());
    }
}
