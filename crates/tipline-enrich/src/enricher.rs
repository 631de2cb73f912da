//! [`Enricher`]: the runtime that puts every provider behind one `lookup`, adding what the
//! providers do not do themselves: the in-process hot cache, the store cache, coalescing of
//! identical in-flight lookups, per-provider rate limit and concurrency, per-attempt
//! timeouts, retries with exponential backoff and jitter (honouring `Retry-After`), and
//! counters.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use serde::Serialize;
use tipline_store::{EnrichmentRecord, Store};
use tokio::sync::Semaphore;

use crate::cache::HotCache;
use crate::config::{ConfigProblem, EnrichConfig};
use crate::error::{EnrichError, FailureKind, ProviderError};
use crate::http::HttpSettings;
use crate::policy::{Policy, RateLimiter};
use crate::providers::{BuildContext, Built, PROVIDERS, Provider};
use crate::resolver::ResolverHandle;
use crate::stats::{Counters, ProviderStatus};
use crate::subject::{Subject, SubjectKind};

/// One provider with its policy, limiter, concurrency bound and counters.
struct Slot {
    name: &'static str,
    subjects: &'static [SubjectKind],
    policy: Policy,
    provider: Result<Arc<dyn Provider>, String>,
    limiter: RateLimiter,
    permits: Semaphore,
    counters: Counters,
}

/// (slot, subject, refresh, raw): identical lookups share one future.
type FlightKey = (usize, String, bool, bool);

type InFlight = Shared<BoxFuture<'static, Result<(Arc<EnrichmentRecord>, Source), EnrichError>>>;

/// Where an answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The in-process cache.
    HotCache,
    /// The database cache.
    StoreCache,
    /// The provider, just now.
    Upstream,
}

/// Options of one lookup.
#[derive(Debug, Clone, Copy, Default)]
pub struct LookupOptions {
    /// Ask the provider even if a fresh answer is cached.
    pub refresh: bool,
    /// Return the raw upstream response too (read from the store, never the hot cache).
    pub raw: bool,
}

/// A successful lookup.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The answer.
    pub record: Arc<EnrichmentRecord>,
    /// Where it came from.
    pub source: Source,
    /// Whether this lookup joined an identical one in flight.
    pub coalesced: bool,
}

/// The enrichment runtime. Cheap to share (`Arc`); one per process.
pub struct Enricher {
    slots: Vec<Arc<Slot>>,
    store: Option<Store>,
    hot: Arc<HotCache>,
    in_flight: Arc<Mutex<HashMap<FlightKey, InFlight>>>,
}

impl std::fmt::Debug for Enricher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enricher")
            .field("providers", &self.slots.iter().map(|s| s.name).collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Enricher {
    /// Build every registered provider from `config`; `store` (when given) holds the
    /// persistent cache. Providers without credentials are disabled, not errors.
    pub fn new(config: &EnrichConfig, store: Option<Store>) -> Result<Enricher, ConfigProblem> {
        config.validate()?;
        let http =
            HttpSettings { max_body_bytes: config.max_response_bytes, ..HttpSettings::default() }
                .client()
                .map_err(|e| ConfigProblem::new("enrich", e))?;
        let dns_timeout = Duration::from_secs(config.dns.timeout_secs.unwrap_or(5));
        let resolver = ResolverHandle::new(config.dns.nameserver.as_deref(), dns_timeout)
            .map_err(|e| ConfigProblem::new("enrich.dns.nameserver", e))?;
        let context = BuildContext { http, resolver };
        let mut slots = Vec::with_capacity(PROVIDERS.len());
        for registration in PROVIDERS {
            let policy = registration.effective_policy(config)?;
            let built = (registration.build)(config, &context)?;
            slots.push(Arc::new(Slot {
                name: registration.name,
                subjects: registration.subjects,
                limiter: RateLimiter::new(policy.requests_per_second, policy.burst),
                permits: Semaphore::new(policy.max_concurrency as usize),
                provider: match built {
                    Built::Enabled(provider) => Ok(provider),
                    Built::Disabled(reason) => Err(reason),
                },
                policy,
                counters: Counters::default(),
            }));
        }
        Ok(Enricher {
            slots,
            store,
            hot: Arc::new(HotCache::new(config.hot_cache_entries)),
            in_flight: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    /// An enricher with every provider disabled (for servers and tests that do not enrich).
    pub fn disabled() -> Enricher {
        Enricher::new(&EnrichConfig::all_disabled(), None).expect("the configuration is valid")
    }

    /// Every provider's state and counters, alphabetical.
    pub fn statuses(&self) -> Vec<ProviderStatus> {
        self.slots
            .iter()
            .map(|slot| ProviderStatus {
                name: slot.name.to_string(),
                enabled: slot.provider.is_ok(),
                disabled_reason: slot.provider.as_ref().err().cloned(),
                subjects: slot.subjects.iter().map(|s| s.as_str().to_string()).collect(),
                counters: slot.counters.snapshot(),
            })
            .collect()
    }

    /// Names of the enabled providers that enrich `subject`'s kind.
    pub fn providers_for(&self, subject: &Subject) -> Vec<&'static str> {
        self.slots
            .iter()
            .filter(|s| s.provider.is_ok() && s.subjects.contains(&subject.kind()))
            .map(|s| s.name)
            .collect()
    }

    /// Names of the enabled providers for `subject` that answer locally and keep nothing in
    /// the database (GeoIP): cheap enough to ask on every read.
    pub fn local_providers_for(&self, subject: &Subject) -> Vec<&'static str> {
        self.slots
            .iter()
            .filter(|s| {
                s.provider.is_ok() && !s.policy.store_cache && s.subjects.contains(&subject.kind())
            })
            .map(|s| s.name)
            .collect()
    }

    /// Ask `provider` about `subject`.
    pub async fn lookup(
        &self,
        provider: &str,
        subject: &Subject,
        options: LookupOptions,
    ) -> Result<Answer, EnrichError> {
        let Some(index) = self.slots.iter().position(|s| s.name == provider) else {
            return Err(EnrichError::before_attempt(
                provider,
                FailureKind::UnknownProvider,
                format!("no provider named `{provider}`; known: {}", crate::providers::names()),
            ));
        };
        let slot = self.slots[index].clone();
        if let Err(reason) = &slot.provider {
            return Err(EnrichError::before_attempt(
                provider,
                FailureKind::Disabled,
                reason.clone(),
            ));
        }
        if !slot.subjects.contains(&subject.kind()) {
            return Err(EnrichError::before_attempt(
                provider,
                FailureKind::Unsupported,
                format!("{provider} does not enrich a {} ({subject})", subject.kind().as_str()),
            ));
        }
        Counters::add(&slot.counters.lookups, 1);
        let key = subject.to_string();
        if !options.refresh
            && !options.raw
            && let Some(record) = self.hot.get(provider, &key, Utc::now())
        {
            Counters::add(&slot.counters.hot_hits, 1);
            return Ok(Answer { record, source: Source::HotCache, coalesced: false });
        }
        let flight_key = (index, key.clone(), options.refresh, options.raw);
        let (future, coalesced) = {
            let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
            match in_flight.get(&flight_key) {
                Some(future) => (future.clone(), true),
                None => {
                    let work = run(
                        slot.clone(),
                        subject.clone(),
                        options,
                        self.store.clone(),
                        self.hot.clone(),
                    );
                    let in_flight_map = self.in_flight.clone();
                    let done_key = flight_key.clone();
                    let future = async move {
                        let result = work.await;
                        in_flight_map.lock().unwrap_or_else(|e| e.into_inner()).remove(&done_key);
                        result
                    }
                    .boxed()
                    .shared();
                    in_flight.insert(flight_key, future.clone());
                    (future, false)
                }
            }
        };
        if coalesced {
            Counters::add(&slot.counters.coalesced, 1);
        }
        let (record, source) = future.await?;
        Ok(Answer { record, source, coalesced })
    }
}

/// Store cache, then upstream with retries; keeps the answer in both caches.
async fn run(
    slot: Arc<Slot>,
    subject: Subject,
    options: LookupOptions,
    store: Option<Store>,
    hot: Arc<HotCache>,
) -> Result<(Arc<EnrichmentRecord>, Source), EnrichError> {
    let key = subject.to_string();
    let store = store.filter(|_| slot.policy.store_cache);
    if !options.refresh
        && let Some(store) = &store
    {
        match store.get_enrichment(slot.name, &key, options.raw).await {
            Ok(Some(record)) if record.expires_at > Utc::now() => {
                Counters::add(&slot.counters.store_hits, 1);
                let record = Arc::new(record);
                if options.raw {
                    let mut without_raw = (*record).clone();
                    without_raw.raw = None;
                    hot.put(Arc::new(without_raw), Utc::now());
                } else {
                    hot.put(record.clone(), Utc::now());
                }
                return Ok((record, Source::StoreCache));
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(provider = slot.name, %error, "enrichment cache read failed")
            }
        }
    }
    let provider = slot.provider.as_ref().expect("checked enabled").clone();
    let policy = &slot.policy;
    let mut attempt = 0;
    let fetched = loop {
        attempt += 1;
        slot.limiter.acquire().await;
        let result = {
            let _permit = slot.permits.acquire().await.expect("the semaphore is never closed");
            Counters::add(&slot.counters.calls, 1);
            match tokio::time::timeout(policy.timeout(), provider.fetch(&subject)).await {
                Ok(result) => result,
                Err(_) => Err(ProviderError::new(
                    FailureKind::Timeout,
                    format!("no answer within {}s", policy.timeout_secs),
                )),
            }
        };
        match result {
            Ok(fetched) => break fetched,
            Err(error) if error.kind.is_retryable() && attempt <= policy.max_retries => {
                let wait = policy.backoff(attempt, error.retry_after);
                if wait > Duration::from_secs(policy.max_retry_wait_secs) {
                    Counters::add(&slot.counters.errors, 1);
                    let mut error = error;
                    error.detail = format!(
                        "{}; asked to wait {}s, more than max_retry_wait_secs",
                        error.detail,
                        wait.as_secs()
                    );
                    return Err(EnrichError::from_provider(slot.name, error, attempt));
                }
                if let Some(asked) = error.retry_after {
                    slot.limiter.pause(asked).await;
                }
                tracing::debug!(provider = slot.name, attempt, ?wait, detail = %error.detail, "retrying enrichment");
                Counters::add(&slot.counters.retries, 1);
                tokio::time::sleep(wait).await;
            }
            Err(error) => {
                Counters::add(&slot.counters.errors, 1);
                let mut error = error;
                if attempt > 1 {
                    error.detail = format!("{} (after {attempt} attempts)", error.detail);
                }
                tracing::info!(provider = slot.name, kind = ?error.kind, detail = %error.detail, "enrichment failed");
                return Err(EnrichError::from_provider(slot.name, error, attempt));
            }
        }
    };
    if let Some(credits) = fetched.credits_used {
        Counters::add(&slot.counters.credits, credits);
    }
    let fetched_at = tipline_store::now();
    let ttl = fetched
        .ttl
        .unwrap_or(Duration::from_secs(policy.cache_ttl_secs))
        .min(Duration::from_secs(policy.cache_ttl_secs));
    let mut record = EnrichmentRecord {
        provider: slot.name.to_string(),
        subject: key,
        fetched_at,
        expires_at: fetched_at
            + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::zero()),
        normalized: fetched.normalized,
        raw: None,
    };
    if let Some(store) = &store
        && let Err(error) = store.put_enrichment(&record, &fetched.raw).await
    {
        tracing::warn!(provider = slot.name, %error, "enrichment cache write failed");
    }
    hot.put(Arc::new(record.clone()), Utc::now());
    if options.raw {
        record.raw = Some(
            serde_json::from_str(&fetched.raw).unwrap_or(serde_json::Value::String(fetched.raw)),
        );
    }
    Ok((Arc::new(record), Source::Upstream))
}
