//! `dnsbl`: is an address listed on DNS blocklists? For each configured zone, the standard
//! query (reversed octets, or nibbles for IPv6, under the zone), the 127.0.0.x answers
//! decoded with the zone's return-code table ([`codes`]), and the TXT record's reason.
//! Used to confirm listings and delistings of partner addresses.

mod codes;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use futures::future::BoxFuture;
use hickory_resolver::proto::rr::RecordType;
use serde::{Deserialize, Deserializer, Serialize};

use super::{BuildContext, Built, Fetched, Provider, Registration};
use crate::config::{ConfigProblem, EnrichConfig, provider_config};
use crate::error::{FailureKind, ProviderError};
use crate::policy::Policy;
use crate::resolver::{Answer, ResolverHandle, reverse_name};
use crate::subject::{Subject, SubjectKind};

pub use codes::{Meaning, builtin_meaning};

provider_config! {
    /// `[enrich.dnsbl]`: DNS blocklists, asked through the `[enrich.dns]` resolver.
    pub struct DnsblConfig {
        /// Answer lookups (on by default: it needs no credentials).
        pub enabled: bool = true,
        /// Zones to check, a list or a comma-separated string (`TIPLINE_DNSBL_ZONES`).
        #[serde(deserialize_with = "list_or_string")]
        pub zones: Vec<String> = codes::DEFAULT_ZONES.iter().map(|z| z.to_string()).collect(),
        /// Return codes of zones not in the built-in table, or overrides:
        /// `{ "dnsbl.example" = { "127.0.0.2" = "listed for spam" } }`.
        pub codes: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new(),
    }
}

fn list_or_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrString {
        List(Vec<String>),
        String(String),
    }
    Ok(match ListOrString::deserialize(deserializer)? {
        ListOrString::List(list) => list,
        ListOrString::String(text) => {
            text.split(',').map(str::trim).filter(|z| !z.is_empty()).map(String::from).collect()
        }
    })
}

/// The `dnsbl` line of the registration table.
pub const REGISTRATION: Registration = Registration {
    name: "dnsbl",
    subjects: &[SubjectKind::Ip],
    policy: default_policy,
    overrides: |config| config.dnsbl.overrides(),
    validate,
    build,
};

fn default_policy() -> Policy {
    Policy {
        requests_per_second: 20.0,
        burst: 20,
        max_concurrency: 8,
        timeout_secs: 10,
        max_retries: 1,
        retry_base_ms: 500,
        max_retry_wait_secs: 5,
        cache_ttl_secs: 3600,
        store_cache: true,
    }
}

fn validate(config: &EnrichConfig) -> Result<(), ConfigProblem> {
    for zone in &config.dnsbl.zones {
        if zone.is_empty() || zone.contains(char::is_whitespace) || zone.starts_with('.') {
            return Err(ConfigProblem::new(
                "enrich.dnsbl.zones",
                format!("`{zone}` is not a zone name"),
            ));
        }
    }
    for (zone, table) in &config.dnsbl.codes {
        for code in table.keys() {
            if code.parse::<std::net::Ipv4Addr>().is_err() {
                return Err(ConfigProblem::new(
                    format!("enrich.dnsbl.codes.{zone}"),
                    format!("`{code}` is not an IPv4 return code such as 127.0.0.2"),
                ));
            }
        }
    }
    Ok(())
}

fn build(config: &EnrichConfig, context: &BuildContext) -> Result<Built, ConfigProblem> {
    let section = &config.dnsbl;
    let built = if !section.enabled {
        Built::Disabled("enabled = false".into())
    } else if section.zones.is_empty() {
        Built::Disabled("no zones configured".into())
    } else if let Some(reason) = context.resolver.unavailable() {
        Built::Disabled(reason.to_string())
    } else {
        Built::Enabled(Arc::new(Dnsbl {
            resolver: context.resolver.clone(),
            zones: section
                .zones
                .iter()
                .map(|z| z.trim_end_matches('.').to_ascii_lowercase())
                .collect(),
            codes: section.codes.clone(),
        }))
    };
    Ok(built)
}

struct Dnsbl {
    resolver: ResolverHandle,
    zones: Vec<String>,
    codes: BTreeMap<String, BTreeMap<String, String>>,
}

/// Normalized `dnsbl` result.
#[derive(Debug, Serialize)]
struct DnsblRecord {
    /// Listed by at least one zone.
    listed: bool,
    /// Zones that list the address.
    listed_in: Vec<String>,
    /// Every zone asked, with its answer.
    zones: Vec<ZoneResult>,
}

#[derive(Debug, Serialize)]
struct ZoneResult {
    zone: String,
    /// The name queried.
    query: String,
    listed: bool,
    /// Return codes with their meaning (empty when not listed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    codes: Vec<Meaning>,
    /// The zone's TXT explanation, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    /// Why this zone gave no usable answer (its own error code, or a failed query).
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl Dnsbl {
    fn meaning(&self, zone: &str, code: &str) -> Meaning {
        if let Some(text) = self.codes.get(zone).and_then(|table| table.get(code)) {
            return Meaning { code: code.to_string(), meaning: text.clone(), error: false };
        }
        builtin_meaning(zone, code)
    }

    async fn check_zone(&self, ip: IpAddr, zone: &str) -> Result<ZoneResult, ProviderError> {
        let query = reverse_name(ip, zone);
        let mut result = ZoneResult {
            zone: zone.to_string(),
            query: query.clone(),
            listed: false,
            codes: Vec::new(),
            reason: None,
            error: None,
        };
        let codes = match self.resolver.lookup(&query, RecordType::A).await? {
            Answer::Records(codes) => codes,
            Answer::NxDomain | Answer::NoData => return Ok(result),
        };
        let meanings: Vec<Meaning> = codes.iter().map(|code| self.meaning(zone, code)).collect();
        let (errors, listings): (Vec<Meaning>, Vec<Meaning>) =
            meanings.into_iter().partition(|m| m.error);
        if !errors.is_empty() {
            result.error = Some(
                errors
                    .iter()
                    .map(|m| format!("{} {}", m.code, m.meaning))
                    .collect::<Vec<_>>()
                    .join("; "),
            );
        }
        if !listings.is_empty() {
            result.listed = true;
            result.codes = listings;
            if let Answer::Records(texts) = self.resolver.lookup(&query, RecordType::TXT).await? {
                result.reason = Some(texts.join(" "));
            }
        }
        Ok(result)
    }

    async fn check(&self, subject: &Subject) -> Result<Fetched, ProviderError> {
        let ip = subject.ip().ok_or_else(|| {
            ProviderError::new(FailureKind::Unsupported, "dnsbl checks IP addresses only")
        })?;
        let mut zones = Vec::with_capacity(self.zones.len());
        let mut failures = Vec::new();
        for zone in &self.zones {
            match self.check_zone(ip, zone).await {
                Ok(result) => zones.push(result),
                Err(error) => {
                    failures.push(error.clone());
                    zones.push(ZoneResult {
                        zone: zone.clone(),
                        query: reverse_name(ip, zone),
                        listed: false,
                        codes: Vec::new(),
                        reason: None,
                        error: Some(format!("{}: {}", error.kind.describe(), error.detail)),
                    });
                }
            }
        }
        if failures.len() == self.zones.len()
            && let Some(first) = failures.into_iter().next()
        {
            // Every zone failed: nothing to report, and the framework may retry.
            return Err(first);
        }
        let listed_in: Vec<String> =
            zones.iter().filter(|z| z.listed).map(|z| z.zone.clone()).collect();
        let record = DnsblRecord { listed: !listed_in.is_empty(), listed_in, zones };
        Ok(Fetched::local(&record))
    }
}

impl Provider for Dnsbl {
    fn fetch<'a>(&'a self, subject: &'a Subject) -> BoxFuture<'a, Result<Fetched, ProviderError>> {
        Box::pin(self.check(subject))
    }
}
