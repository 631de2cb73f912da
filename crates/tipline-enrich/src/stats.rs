//! Per-provider counters: upstream calls, cache hits, errors, retries, coalesced requests and
//! credits, for `/metrics` and the API.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// Live counters of one provider.
#[derive(Debug, Default)]
pub struct Counters {
    pub(crate) lookups: AtomicU64,
    pub(crate) calls: AtomicU64,
    pub(crate) hot_hits: AtomicU64,
    pub(crate) store_hits: AtomicU64,
    pub(crate) coalesced: AtomicU64,
    pub(crate) retries: AtomicU64,
    pub(crate) errors: AtomicU64,
    pub(crate) credits: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// A snapshot.
    pub fn snapshot(&self) -> CounterValues {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        CounterValues {
            lookups: get(&self.lookups),
            calls: get(&self.calls),
            hot_cache_hits: get(&self.hot_hits),
            store_cache_hits: get(&self.store_hits),
            coalesced: get(&self.coalesced),
            retries: get(&self.retries),
            errors: get(&self.errors),
            credits_used: get(&self.credits),
        }
    }
}

/// Counter values of one provider since the process started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CounterValues {
    /// Lookups asked of this provider.
    pub lookups: u64,
    /// Requests sent upstream (every attempt, retries included).
    pub calls: u64,
    /// Lookups answered by the in-process cache.
    pub hot_cache_hits: u64,
    /// Lookups answered by the database cache.
    pub store_cache_hits: u64,
    /// Lookups that joined an identical request already in flight instead of calling.
    pub coalesced: u64,
    /// Attempts repeated after a retryable failure.
    pub retries: u64,
    /// Lookups that failed.
    pub errors: u64,
    /// Credits the provider reported as used (where it reports them).
    pub credits_used: u64,
}

/// A provider's state and counters.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProviderStatus {
    /// Provider name.
    pub name: String,
    /// Whether it answers lookups.
    pub enabled: bool,
    /// Why not, when disabled (e.g. `no api_key configured`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    /// What it enriches: `ip`, `domain`.
    pub subjects: Vec<String>,
    /// Counters since start.
    pub counters: CounterValues,
}
