//! `censys`: host lookup on the Censys Platform API v3 (default) — `GET
//! /v3/global/asset/host/{ip}` with a Bearer personal access token and `organization_id`,
//! `at_time` for a past view, and the host timeline (`/timeline`) for past services — or,
//! selected with `api = "v2"`, the legacy Search API v2 (`GET /api/v2/hosts/{ip}`, HTTP
//! Basic with API id and secret). Both normalize to the same host record.

mod v2;
mod v3;

use std::sync::Arc;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

use super::{BuildContext, Built, Fetched, Provider, Registration};
use crate::config::{ConfigProblem, EnrichConfig, check_url, credential, provider_config};
use crate::error::{FailureKind, ProviderError};
use crate::http::HttpClient;
use crate::policy::Policy;
use crate::secret::Secret;
use crate::subject::{Subject, SubjectKind};

/// Which Censys API to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CensysApi {
    /// Censys Platform API v3 (personal access token).
    V3,
    /// Legacy Search API v2 (API id and secret).
    V2,
}

provider_config! {
    /// `[enrich.censys]`: Censys.
    pub struct CensysConfig {
        /// Answer lookups when credentials are configured.
        pub enabled: bool = true,
        /// `v3` (Platform API, default) or `v2` (legacy Search API).
        pub api: CensysApi = CensysApi::V3,
        /// v3: personal access token (`TIPLINE_CENSYS_TOKEN`).
        pub token: Option<Secret> = None,
        /// v3: a file holding the token, instead of `token`.
        pub token_file: Option<std::path::PathBuf> = None,
        /// v3: organization id (`TIPLINE_CENSYS_ORGANIZATION_ID`).
        pub organization_id: Option<String> = None,
        /// v3: fetch the host timeline for past services.
        pub timeline: bool = true,
        /// v3: how far back the timeline goes, in days.
        pub timeline_days: u32 = 90,
        /// v3: view hosts as they were at this RFC 3339 time instead of now.
        pub at_time: Option<String> = None,
        /// v2: API id (`TIPLINE_CENSYS_API_ID`).
        pub api_id: Option<Secret> = None,
        /// v2: API secret (`TIPLINE_CENSYS_API_SECRET`).
        pub api_secret: Option<Secret> = None,
        /// Base URL (`TIPLINE_CENSYS_BASE_URL`); default https://api.platform.censys.io
        /// for v3 and https://search.censys.io for v2.
        pub base_url: Option<String> = None,
    }
}

/// The `censys` line of the registration table.
pub const REGISTRATION: Registration = Registration {
    name: "censys",
    subjects: &[SubjectKind::Ip],
    policy: default_policy,
    overrides: |config| config.censys.overrides(),
    validate,
    build,
};

fn default_policy() -> Policy {
    Policy {
        requests_per_second: 1.0,
        burst: 2,
        max_concurrency: 2,
        timeout_secs: 30,
        max_retries: 3,
        retry_base_ms: 1000,
        max_retry_wait_secs: 60,
        cache_ttl_secs: 86_400,
        store_cache: true,
    }
}

fn validate(config: &EnrichConfig) -> Result<(), ConfigProblem> {
    if let Some(url) = &config.censys.base_url {
        check_url("enrich.censys.base_url", url)?;
    }
    if let Some(at) = &config.censys.at_time {
        chrono::DateTime::parse_from_rfc3339(at).map_err(|e| {
            ConfigProblem::new("enrich.censys.at_time", format!("not an RFC 3339 time: {e}"))
        })?;
    }
    Ok(())
}

fn build(config: &EnrichConfig, context: &BuildContext) -> Result<Built, ConfigProblem> {
    let section = &config.censys;
    if !section.enabled {
        return Ok(Built::Disabled("enabled = false".into()));
    }
    let credentials = match section.api {
        CensysApi::V3 => {
            let token = credential(
                "censys",
                "token",
                section.token.as_ref(),
                "token_file",
                section.token_file.as_ref(),
            )?;
            match token {
                Some(token) => {
                    Credentials::Token { token, organization_id: section.organization_id.clone() }
                }
                None => return Ok(Built::Disabled("no token configured".into())),
            }
        }
        CensysApi::V2 => match (&section.api_id, &section.api_secret) {
            (Some(id), Some(secret)) => {
                Credentials::Basic { id: id.clone(), secret: secret.clone() }
            }
            _ => {
                return Ok(Built::Disabled("no api_id and api_secret configured".into()));
            }
        },
    };
    let default_base = match section.api {
        CensysApi::V3 => "https://api.platform.censys.io",
        CensysApi::V2 => "https://search.censys.io",
    };
    let censys = Censys {
        http: context.http.clone(),
        base_url: section
            .base_url
            .as_deref()
            .unwrap_or(default_base)
            .trim_end_matches('/')
            .to_string(),
        credentials,
        timeline: section.timeline,
        timeline_days: section.timeline_days,
        at_time: section.at_time.clone(),
    };
    Ok(Built::Enabled(Arc::new(censys)))
}

enum Credentials {
    Token { token: Secret, organization_id: Option<String> },
    Basic { id: Secret, secret: Secret },
}

struct Censys {
    http: HttpClient,
    base_url: String,
    credentials: Credentials,
    timeline: bool,
    timeline_days: u32,
    at_time: Option<String>,
}

/// Censys error bodies: v3 problem details (`detail`, `title`), v2 `{"error": ...}`.
fn censys_message(body: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    ["detail", "error", "title", "message"]
        .iter()
        .find_map(|key| value.get(key).and_then(|v| v.as_str()).map(String::from))
}

impl Censys {
    fn secrets(&self) -> Vec<&Secret> {
        match &self.credentials {
            Credentials::Token { token, .. } => vec![token],
            Credentials::Basic { id, secret } => vec![id, secret],
        }
    }

    fn scrub(&self, mut error: ProviderError) -> ProviderError {
        for secret in self.secrets() {
            error.detail = secret.scrub(&error.detail);
        }
        error
    }

    async fn lookup(&self, subject: &Subject) -> Result<Fetched, ProviderError> {
        let ip = subject.ip().ok_or_else(|| {
            ProviderError::new(FailureKind::Unsupported, "censys looks up IP addresses only")
        })?;
        let result = match &self.credentials {
            Credentials::Token { token, organization_id } => {
                v3::lookup(self, ip, token, organization_id.as_deref()).await
            }
            Credentials::Basic { id, secret } => v2::lookup(self, ip, id, secret).await,
        };
        result.map_err(|e| self.scrub(e))
    }
}

impl Provider for Censys {
    fn fetch<'a>(&'a self, subject: &'a Subject) -> BoxFuture<'a, Result<Fetched, ProviderError>> {
        Box::pin(self.lookup(subject))
    }
}

/// A host response of either API: its JSON body, or the answer for an unknown host.
enum Answer {
    Body(serde_json::Value),
    Unknown(Fetched),
}

/// 404 is "nothing known" (kept for an hour); other failures are errors; else the JSON body.
fn answer(
    ip: std::net::IpAddr,
    response: &crate::http::HttpResponse,
) -> Result<Answer, ProviderError> {
    if response.status.as_u16() == 404 {
        let record =
            crate::host::HostRecord { found: false, ip: ip.to_string(), ..Default::default() };
        let fetched = Fetched::new(&record, response.body.clone())
            .with_ttl(std::time::Duration::from_secs(3600));
        return Ok(Answer::Unknown(fetched));
    }
    if let Some(error) = response.error_for_status(censys_message) {
        return Err(error);
    }
    response.json().map(Answer::Body)
}

/// Software attributes of both APIs (`vendor`, `product`, `version`, `cpe` or
/// `uniform_resource_identifier`, `part`).
fn software(value: &serde_json::Value) -> crate::host::Software {
    let text = |key: &str| {
        value.get(key).and_then(|v| v.as_str()).filter(|s| !s.is_empty()).map(String::from)
    };
    let cpe = text("cpe").or_else(|| text("uniform_resource_identifier"));
    let parsed = cpe.as_deref().map(crate::host::parse_cpe).unwrap_or_default();
    crate::host::Software {
        part: text("part").or(parsed.part),
        vendor: text("vendor").or(parsed.vendor),
        product: text("product").or(parsed.product),
        version: text("version").or(parsed.version),
        cpe,
    }
}
