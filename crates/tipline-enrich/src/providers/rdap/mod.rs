//! `rdap`: registration data of an address (RFC 9083): the registry network (handle, name,
//! CIDRs, country), the registrant organization and the abuse contact email, from the
//! registry the IANA bootstrap files (RFC 9224) name for the address. The bootstrap is
//! fetched once and kept for `bootstrap_ttl_secs`; `base_url` skips it (one registry or
//! proxy for everything).

mod bootstrap;
mod normalize;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use super::{BuildContext, Built, Fetched, Provider, Registration};
use crate::config::{ConfigProblem, EnrichConfig, check_url, provider_config};
use crate::error::{FailureKind, ProviderError};
use crate::http::HttpClient;
use crate::policy::Policy;
use crate::subject::{Subject, SubjectKind};

pub use bootstrap::Bootstrap;

provider_config! {
    /// `[enrich.rdap]`: RDAP.
    pub struct RdapConfig {
        /// Answer lookups (on by default: RDAP needs no credentials).
        pub enabled: bool = true,
        /// Where the IANA bootstrap files `ipv4.json` and `ipv6.json` are
        /// (`TIPLINE_RDAP_BOOTSTRAP_URL`).
        pub bootstrap_url: String = "https://data.iana.org/rdap".into(),
        /// How long a fetched bootstrap file is used, in seconds.
        pub bootstrap_ttl_secs: u64 = 86_400,
        /// Ask this RDAP server for every address instead of the bootstrap's registry
        /// (`TIPLINE_RDAP_BASE_URL`).
        pub base_url: Option<String> = None,
    }
}

/// The `rdap` line of the registration table.
pub const REGISTRATION: Registration = Registration {
    name: "rdap",
    subjects: &[SubjectKind::Ip],
    policy: default_policy,
    overrides: |config| config.rdap.overrides(),
    validate,
    build,
};

fn default_policy() -> Policy {
    Policy {
        requests_per_second: 2.0,
        burst: 4,
        max_concurrency: 4,
        timeout_secs: 20,
        max_retries: 2,
        retry_base_ms: 1000,
        max_retry_wait_secs: 30,
        // Registrations change rarely.
        cache_ttl_secs: 7 * 86_400,
        store_cache: true,
    }
}

fn validate(config: &EnrichConfig) -> Result<(), ConfigProblem> {
    check_url("enrich.rdap.bootstrap_url", &config.rdap.bootstrap_url)?;
    if let Some(url) = &config.rdap.base_url {
        check_url("enrich.rdap.base_url", url)?;
    }
    Ok(())
}

fn build(config: &EnrichConfig, context: &BuildContext) -> Result<Built, ConfigProblem> {
    let section = &config.rdap;
    if !section.enabled {
        return Ok(Built::Disabled("enabled = false".into()));
    }
    let rdap = Rdap {
        http: context.http.clone(),
        bootstrap: Bootstrap::new(
            &section.bootstrap_url,
            Duration::from_secs(section.bootstrap_ttl_secs),
        ),
        base_url: section.base_url.clone(),
    };
    Ok(Built::Enabled(Arc::new(rdap)))
}

struct Rdap {
    http: HttpClient,
    bootstrap: Bootstrap,
    base_url: Option<String>,
}

/// RDAP error bodies (RFC 9083 §6): `title` and `description[]`.
fn rdap_message(body: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    let title = value.get("title").and_then(|t| t.as_str()).map(String::from);
    let description = value
        .get("description")
        .and_then(|d| d.as_array())
        .map(|lines| lines.iter().filter_map(|l| l.as_str()).collect::<Vec<_>>().join(" "))
        .filter(|d| !d.is_empty());
    match (title, description) {
        (Some(t), Some(d)) => Some(format!("{t}: {d}")),
        (t, d) => t.or(d),
    }
}

impl Rdap {
    async fn registry_for(&self, ip: IpAddr) -> Result<String, ProviderError> {
        if let Some(base) = &self.base_url {
            return Ok(base.clone());
        }
        self.bootstrap.registry_for(&self.http, ip).await?.ok_or_else(|| {
            ProviderError::new(
                FailureKind::Rejected,
                format!("no RDAP registry covers {ip} in the IANA bootstrap"),
            )
        })
    }

    async fn lookup(&self, subject: &Subject) -> Result<Fetched, ProviderError> {
        let ip = subject.ip().ok_or_else(|| {
            ProviderError::new(FailureKind::Unsupported, "rdap looks up IP addresses only")
        })?;
        let registry = self.registry_for(ip).await?;
        let url = format!("{}/ip/{ip}", registry.trim_end_matches('/'));
        let request =
            self.http.get(&url).header("accept", "application/rdap+json, application/json");
        let response = self.http.send(request, None).await?;
        if response.status.as_u16() == 404 {
            let record = normalize::RdapRecord { registry: Some(registry), ..Default::default() };
            return Ok(Fetched::new(&record, response.body).with_ttl(Duration::from_secs(86_400)));
        }
        if let Some(error) = response.error_for_status(rdap_message) {
            return Err(error);
        }
        let value: serde_json::Value = response.json()?;
        let mut record = normalize::network(&value)?;
        record.registry = Some(registry);
        Ok(Fetched::new(&record, response.body))
    }
}

impl Provider for Rdap {
    fn fetch<'a>(&'a self, subject: &'a Subject) -> BoxFuture<'a, Result<Fetched, ProviderError>> {
        Box::pin(self.lookup(subject))
    }
}
