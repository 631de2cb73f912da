//! The provider interface and the registration table.
//!
//! A provider is one folder under `providers/`: its config struct (`XConfig`), a `build`
//! that returns the runtime object (or the reason it is disabled), its default [`Policy`],
//! and `fetch`, one attempt at one lookup. The framework ([`crate::Enricher`]) adds rate
//! limiting, bounded concurrency, timeouts, retries, coalescing, caching and counters
//! around `fetch`, so a provider never does those itself.
//!
//! Rules every provider follows:
//! - `fetch` makes one attempt and reports failures as [`ProviderError`] with the right
//!   [`FailureKind`](crate::FailureKind) (the kind decides whether the framework retries).
//! - Credentials are [`Secret`](crate::Secret)s; error details never contain them.
//! - An unknown subject (nothing known about an address) is a normal answer, not an error.
//! - The normalized result is a documented JSON object (docs/enrichment.md).
//!
//! Adding a provider: a folder here, one field in [`EnrichConfig`], one line in
//! [`PROVIDERS`] (alphabetical), and its tests.

pub mod censys;
pub mod dns;
pub mod dnsbl;
pub mod geoip;
pub mod rdap;
pub mod shodan;

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use crate::config::{ConfigProblem, EnrichConfig};
use crate::error::ProviderError;
use crate::http::HttpClient;
use crate::policy::Policy;
use crate::resolver::ResolverHandle;
use crate::subject::{Subject, SubjectKind};

/// What one successful attempt returns.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The result in tipline's shape.
    pub normalized: serde_json::Value,
    /// The upstream response as received (JSON text), kept in the store.
    pub raw: String,
    /// Credits the provider says this call used, if it says.
    pub credits_used: Option<u64>,
    /// A shorter lifetime than the policy's (e.g. for "nothing known"), if any.
    pub ttl: Option<Duration>,
}

impl Fetched {
    /// A normalized `record` and the raw response it came from.
    pub fn new(record: &impl serde::Serialize, raw: String) -> Fetched {
        let normalized = serde_json::to_value(record).expect("normalized records serialize");
        Fetched { normalized, raw, credits_used: None, ttl: None }
    }

    /// A record computed locally (DNS, GeoIP): the raw form is the record itself.
    pub fn local(record: &impl serde::Serialize) -> Fetched {
        let normalized = serde_json::to_value(record).expect("normalized records serialize");
        Fetched { raw: normalized.to_string(), normalized, credits_used: None, ttl: None }
    }

    /// Keep this answer for at most `ttl` (e.g. "nothing known").
    pub fn with_ttl(mut self, ttl: Duration) -> Fetched {
        self.ttl = Some(ttl);
        self
    }
}

/// One enrichment source.
pub trait Provider: Send + Sync {
    /// One attempt at looking `subject` up.
    fn fetch<'a>(&'a self, subject: &'a Subject) -> BoxFuture<'a, Result<Fetched, ProviderError>>;
}

/// A provider as built from its configuration.
pub enum Built {
    /// Ready to answer.
    Enabled(Arc<dyn Provider>),
    /// Switched off or missing credentials: why.
    Disabled(String),
}

/// What building a provider may use: the shared HTTP client and DNS resolver.
#[derive(Debug, Clone)]
pub struct BuildContext {
    /// The one HTTP client (timeouts, size cap, redirect policy).
    pub http: HttpClient,
    /// The DNS resolver configured in `[enrich.dns]`.
    pub resolver: ResolverHandle,
}

/// Builds a provider from the configuration (may read credential files).
pub type BuildFn = fn(&EnrichConfig, &BuildContext) -> Result<Built, ConfigProblem>;

/// One line of the registration table.
#[derive(Debug, Clone, Copy)]
pub struct Registration {
    /// The name in configuration, the API and metrics.
    pub name: &'static str,
    /// What it enriches.
    pub subjects: &'static [SubjectKind],
    /// Its default policy (rate limit, concurrency, timeout, retries, cache lifetime).
    pub policy: fn() -> Policy,
    /// Its section's overrides of that policy.
    pub overrides: fn(&EnrichConfig) -> crate::config::PolicyOverrides,
    /// Checks of its section's own keys (the policy is checked by the framework).
    pub validate: fn(&EnrichConfig) -> Result<(), ConfigProblem>,
    /// Build it from its section.
    pub build: BuildFn,
}

/// Every provider, alphabetical.
pub const PROVIDERS: &[Registration] = &[
    censys::REGISTRATION,
    dns::REGISTRATION,
    dnsbl::REGISTRATION,
    geoip::REGISTRATION,
    rdap::REGISTRATION,
    shodan::REGISTRATION,
];

/// The registration of `name`.
pub fn registration(name: &str) -> Option<&'static Registration> {
    PROVIDERS.iter().find(|r| r.name == name)
}

/// Every provider name, comma separated (for messages and help).
pub fn names() -> String {
    PROVIDERS.iter().map(|r| r.name).collect::<Vec<_>>().join(", ")
}

impl Registration {
    /// The effective policy: the provider's defaults with its section's overrides, checked.
    pub fn effective_policy(&self, config: &EnrichConfig) -> Result<Policy, ConfigProblem> {
        let policy = (self.overrides)(config).apply((self.policy)());
        policy.validate(&format!("enrich.{}", self.name)).map_err(|message| {
            let (key, problem) = message.split_once(": ").unwrap_or((&message, "invalid"));
            ConfigProblem::new(key, problem)
        })?;
        Ok(policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_alphabetical_and_unique() {
        let names: Vec<&str> = PROVIDERS.iter().map(|r| r.name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted);
    }
}
