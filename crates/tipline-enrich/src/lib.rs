//! Enrichment of IP addresses and domains: Shodan, Censys, GeoIP, RDAP, DNSBL and DNS
//! behind one [`Enricher`].
//!
//! Providers live in [`providers`], one folder each, registered in one alphabetical table
//! ([`providers::PROVIDERS`]). The framework gives each of them a token-bucket rate limit,
//! bounded concurrency, per-attempt timeouts, retries with exponential backoff and jitter
//! on 429/5xx/timeouts (honouring `Retry-After`), coalescing of identical in-flight
//! lookups, an in-process hot cache in front of the store's persistent cache, and counters.
//! Failures are [`EnrichError`]s naming the provider, what failed and whether a retry may
//! help. Outbound HTTP goes through one client builder ([`http`]); credentials are
//! [`Secret`]s that never print.
//!
//! **Architecture invariant:** this crate reaches the database only through the store's
//! enrichment cache methods, and no provider knows about caching, retries or rate limits.

pub mod cache;
pub mod config;
pub mod device;
mod enricher;
pub mod error;
pub mod host;
pub mod http;
mod json;
pub mod policy;
pub mod providers;
pub mod report;
pub mod resolver;
pub mod secret;
pub mod stats;
pub mod subject;

pub use config::{ConfigProblem, EnrichConfig};
pub use enricher::{Answer, Enricher, LookupOptions, Source};
pub use error::{EnrichError, FailureKind, ProviderError};
pub use report::{BadArgument, EnrichmentReport, EnrichmentResult, enrich_value};
pub use secret::Secret;
pub use stats::{CounterValues, ProviderStatus};
pub use subject::{Subject, SubjectKind};
