//! `[enrich]` configuration: shared settings and one section per provider
//! (`[enrich.shodan]`, ...), each with the provider's own keys plus optional overrides of
//! its [`Policy`]. Every key can also be set by `TIPLINE_<PROVIDER>_<KEY>` (the binary maps
//! those variables; see docs/enrichment.md).
//!
//! Parsing does no I/O; [`EnrichConfig::validate`] checks values, and building the
//! [`Enricher`](crate::Enricher) reads credential files.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::policy::Policy;
use crate::providers::{censys, dns, dnsbl, geoip, rdap, shodan};
use crate::secret::Secret;

/// A problem with a configuration key: the dotted key (`enrich.shodan.api_key_file`) and
/// what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {problem}")]
pub struct ConfigProblem {
    /// The key, e.g. `enrich.shodan.burst`.
    pub key: String,
    /// What is wrong.
    pub problem: String,
}

impl ConfigProblem {
    /// A problem with `key`.
    pub fn new(key: impl Into<String>, problem: impl Into<String>) -> ConfigProblem {
        ConfigProblem { key: key.into(), problem: problem.into() }
    }
}

/// `[enrich]`: shared settings and every provider's section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrichConfig {
    /// Answers kept in the in-process cache (0 turns it off).
    pub hot_cache_entries: usize,
    /// Largest response accepted from an HTTP provider, in bytes.
    pub max_response_bytes: usize,
    /// Censys (Platform API v3, or the legacy Search API v2).
    pub censys: censys::CensysConfig,
    /// DNS forward and reverse resolution (and the resolver DNSBL uses).
    pub dns: dns::DnsConfig,
    /// DNS blocklists.
    pub dnsbl: dnsbl::DnsblConfig,
    /// GeoIP from MaxMind DB files.
    pub geoip: geoip::GeoipConfig,
    /// RDAP registration data.
    pub rdap: rdap::RdapConfig,
    /// Shodan host lookups.
    pub shodan: shodan::ShodanConfig,
}

impl Default for EnrichConfig {
    fn default() -> Self {
        EnrichConfig {
            hot_cache_entries: 10_000,
            max_response_bytes: 8 * 1024 * 1024,
            censys: Default::default(),
            dns: Default::default(),
            dnsbl: Default::default(),
            geoip: Default::default(),
            rdap: Default::default(),
            shodan: Default::default(),
        }
    }
}

impl EnrichConfig {
    /// Every provider switched off, and the resolver pointed at a local port nothing answers
    /// on: a starting point for tests and for servers that do not enrich.
    pub fn all_disabled() -> EnrichConfig {
        let mut config = EnrichConfig::default();
        config.censys.enabled = false;
        config.dns.enabled = false;
        config.dnsbl.enabled = false;
        config.geoip.enabled = false;
        config.rdap.enabled = false;
        config.shodan.enabled = false;
        config.dns.nameserver = Some("127.0.0.1:9".into());
        config
    }

    /// Check values that parse but cannot work, naming the key.
    pub fn validate(&self) -> Result<(), ConfigProblem> {
        if self.max_response_bytes == 0 {
            return Err(ConfigProblem::new("enrich.max_response_bytes", "must be at least 1"));
        }
        for registration in crate::providers::PROVIDERS {
            registration.effective_policy(self)?;
            (registration.validate)(self)?;
        }
        Ok(())
    }
}

/// Optional overrides of a provider's [`Policy`], as every provider section carries them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicyOverrides {
    /// Requests per second sent upstream (0 = no limit).
    pub requests_per_second: Option<f64>,
    /// Token-bucket size (requests that may go out at once after a quiet period).
    pub burst: Option<u32>,
    /// Requests in flight at once.
    pub max_concurrency: Option<u32>,
    /// Time allowed for one attempt, in seconds.
    pub timeout_secs: Option<u64>,
    /// Further attempts after a retryable failure.
    pub max_retries: Option<u32>,
    /// First backoff delay, in milliseconds.
    pub retry_base_ms: Option<u64>,
    /// Longest wait between attempts, in seconds.
    pub max_retry_wait_secs: Option<u64>,
    /// How long answers stay fresh, in seconds.
    pub cache_ttl_secs: Option<u64>,
    /// Keep answers in the database.
    pub store_cache: Option<bool>,
}

impl PolicyOverrides {
    /// `defaults` with every override given applied.
    pub fn apply(&self, defaults: Policy) -> Policy {
        Policy {
            requests_per_second: self.requests_per_second.unwrap_or(defaults.requests_per_second),
            burst: self.burst.unwrap_or(defaults.burst),
            max_concurrency: self.max_concurrency.unwrap_or(defaults.max_concurrency),
            timeout_secs: self.timeout_secs.unwrap_or(defaults.timeout_secs),
            max_retries: self.max_retries.unwrap_or(defaults.max_retries),
            retry_base_ms: self.retry_base_ms.unwrap_or(defaults.retry_base_ms),
            max_retry_wait_secs: self.max_retry_wait_secs.unwrap_or(defaults.max_retry_wait_secs),
            cache_ttl_secs: self.cache_ttl_secs.unwrap_or(defaults.cache_ttl_secs),
            store_cache: self.store_cache.unwrap_or(defaults.store_cache),
        }
    }
}

/// Declares a provider's config struct: its own keys plus the [`PolicyOverrides`] keys, all
/// in one flat section (serde cannot combine `flatten` with `deny_unknown_fields`).
macro_rules! provider_config {
    (
        $(#[$doc:meta])*
        pub struct $name:ident {
            $( $(#[$fdoc:meta])* pub $field:ident : $ty:ty = $default:expr, )*
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct $name {
            $( $(#[$fdoc])* pub $field: $ty, )*
            /// Requests per second sent upstream (0 = no limit).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub requests_per_second: Option<f64>,
            /// Token-bucket size.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub burst: Option<u32>,
            /// Requests in flight at once.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub max_concurrency: Option<u32>,
            /// Time allowed for one attempt, in seconds.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub timeout_secs: Option<u64>,
            /// Further attempts after a retryable failure.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub max_retries: Option<u32>,
            /// First backoff delay, in milliseconds.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub retry_base_ms: Option<u64>,
            /// Longest wait between attempts, in seconds.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub max_retry_wait_secs: Option<u64>,
            /// How long answers stay fresh, in seconds.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub cache_ttl_secs: Option<u64>,
            /// Keep answers in the database.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub store_cache: Option<bool>,
        }

        impl Default for $name {
            fn default() -> Self {
                $name {
                    $( $field: $default, )*
                    requests_per_second: None,
                    burst: None,
                    max_concurrency: None,
                    timeout_secs: None,
                    max_retries: None,
                    retry_base_ms: None,
                    max_retry_wait_secs: None,
                    cache_ttl_secs: None,
                    store_cache: None,
                }
            }
        }

        impl $name {
            /// The policy overrides of this section.
            pub fn overrides(&self) -> $crate::config::PolicyOverrides {
                $crate::config::PolicyOverrides {
                    requests_per_second: self.requests_per_second,
                    burst: self.burst,
                    max_concurrency: self.max_concurrency,
                    timeout_secs: self.timeout_secs,
                    max_retries: self.max_retries,
                    retry_base_ms: self.retry_base_ms,
                    max_retry_wait_secs: self.max_retry_wait_secs,
                    cache_ttl_secs: self.cache_ttl_secs,
                    store_cache: self.store_cache,
                }
            }
        }
    };
}
pub(crate) use provider_config;

/// A credential given inline (`api_key`) or as a file (`api_key_file`), resolved.
pub(crate) fn credential(
    section: &str,
    inline_key: &str,
    inline: Option<&Secret>,
    file_key: &str,
    file: Option<&PathBuf>,
) -> Result<Option<Secret>, ConfigProblem> {
    match (inline, file) {
        (Some(_), Some(_)) => Err(ConfigProblem::new(
            format!("enrich.{section}.{file_key}"),
            format!("set either {inline_key} or {file_key}, not both"),
        )),
        (Some(secret), None) => Ok(Some(secret.clone()).filter(|s| !s.expose().is_empty())),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                ConfigProblem::new(
                    format!("enrich.{section}.{file_key}"),
                    format!("cannot read {}: {e}", path.display()),
                )
            })?;
            Ok(Some(Secret::new(text.trim())).filter(|s| !s.expose().is_empty()))
        }
        (None, None) => Ok(None),
    }
}

/// Check a base URL: absolute `http` or `https`.
pub(crate) fn check_url(key: &str, value: &str) -> Result<(), ConfigProblem> {
    match url::Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(()),
        Ok(url) => {
            Err(ConfigProblem::new(key, format!("`{}` is not an http(s) URL", url.scheme())))
        }
        Err(e) => Err(ConfigProblem::new(key, format!("invalid URL `{value}`: {e}"))),
    }
}
