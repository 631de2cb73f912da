//! `shodan`: host lookup (`GET /shodan/host/{ip}?key=…&history=true`): open ports, services
//! with transport, product, version, CPE, banner excerpt and timestamps, current and past,
//! plus hostnames, domains, organization, ISP, ASN, OS, tags, vulnerabilities and location.
//! The key travels as a query parameter (as Shodan requires) and never appears in errors.

mod normalize;

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use super::{BuildContext, Built, Fetched, Provider, Registration};
use crate::config::{ConfigProblem, EnrichConfig, check_url, credential, provider_config};
use crate::error::ProviderError;
use crate::http::{HttpClient, with_query};
use crate::policy::Policy;
use crate::secret::Secret;
use crate::subject::{Subject, SubjectKind};

provider_config! {
    /// `[enrich.shodan]`: Shodan's REST API.
    pub struct ShodanConfig {
        /// Answer lookups when a key is configured.
        pub enabled: bool = true,
        /// API key (`TIPLINE_SHODAN_API_KEY`).
        pub api_key: Option<Secret> = None,
        /// A file holding the API key, instead of `api_key`.
        pub api_key_file: Option<std::path::PathBuf> = None,
        /// API base URL (`TIPLINE_SHODAN_BASE_URL`), for proxies and tests.
        pub base_url: String = "https://api.shodan.io".into(),
        /// Ask for past banners too (`history=true`), so former services show.
        pub history: bool = true,
    }
}

/// The `shodan` line of the registration table.
pub const REGISTRATION: Registration = Registration {
    name: "shodan",
    subjects: &[SubjectKind::Ip],
    policy: default_policy,
    overrides: |config| config.shodan.overrides(),
    validate,
    build,
};

fn default_policy() -> Policy {
    Policy {
        // Most plans allow one request per second.
        requests_per_second: 1.0,
        burst: 1,
        max_concurrency: 1,
        timeout_secs: 30,
        max_retries: 3,
        retry_base_ms: 1000,
        max_retry_wait_secs: 60,
        cache_ttl_secs: 86_400,
        store_cache: true,
    }
}

fn validate(config: &EnrichConfig) -> Result<(), ConfigProblem> {
    check_url("enrich.shodan.base_url", &config.shodan.base_url)
}

fn build(config: &EnrichConfig, context: &BuildContext) -> Result<Built, ConfigProblem> {
    let section = &config.shodan;
    let key = credential(
        "shodan",
        "api_key",
        section.api_key.as_ref(),
        "api_key_file",
        section.api_key_file.as_ref(),
    )?;
    let built = match (section.enabled, key) {
        (false, _) => Built::Disabled("enabled = false".into()),
        (true, None) => Built::Disabled("no api_key configured".into()),
        (true, Some(key)) => Built::Enabled(Arc::new(Shodan {
            http: context.http.clone(),
            base_url: section.base_url.trim_end_matches('/').to_string(),
            key,
            history: section.history,
        })),
    };
    Ok(built)
}

struct Shodan {
    http: HttpClient,
    base_url: String,
    key: Secret,
    history: bool,
}

/// Shodan's error bodies are `{"error": "..."}`.
fn shodan_message(body: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    value.get("error")?.as_str().map(String::from)
}

impl Shodan {
    async fn host(&self, subject: &Subject) -> Result<Fetched, ProviderError> {
        let ip = subject.ip().ok_or_else(|| {
            ProviderError::new(crate::FailureKind::Unsupported, "shodan looks up IP addresses only")
        })?;
        let url = format!("{}/shodan/host/{ip}", self.base_url);
        let history = if self.history { "true" } else { "false" };
        let url = with_query(&url, &[("key", self.key.expose()), ("history", history)])
            .map_err(|e| ProviderError::new(e.kind, self.key.scrub(&e.detail)))?;
        let request = self.http.get(&url);
        let response = self.http.send(request, Some(&self.key)).await?;
        if response.status.as_u16() == 404 {
            // Shodan has nothing on this address: an answer, kept for an hour.
            let record = normalize::not_found(&ip.to_string());
            return Ok(Fetched::new(&record, response.body).with_ttl(Duration::from_secs(3600)));
        }
        if let Some(mut error) = response.error_for_status(shodan_message) {
            error.detail = self.key.scrub(&error.detail);
            return Err(error);
        }
        let value: serde_json::Value = response.json()?;
        let record = normalize::host(&value)?;
        Ok(Fetched::new(&record, response.body))
    }
}

impl Provider for Shodan {
    fn fetch<'a>(&'a self, subject: &'a Subject) -> BoxFuture<'a, Result<Fetched, ProviderError>> {
        Box::pin(self.host(subject))
    }
}
