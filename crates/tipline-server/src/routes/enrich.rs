//! Enrichment: look a value up with one or every provider (cached unless `refresh=true`),
//! and the providers' state and counters.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use tipline_enrich::{EnrichError, LookupOptions, ProviderStatus, Source, Subject};
use tipline_model::validate::FieldError;
use tipline_store::EnrichmentRecord;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorResponses};
use crate::extract::{ApiQuery, Auth};

/// What to enrich.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EnrichmentQuery {
    /// An IP address or a domain (defanged input accepted).
    pub value: String,
    /// Providers to ask, comma separated; default: every enabled provider for the value's kind.
    pub provider: Option<String>,
    /// Ask the providers even if a fresh answer is cached (analysts and admins only: it
    /// spends provider credits).
    #[serde(default)]
    pub refresh: bool,
    /// Include each provider's raw response.
    #[serde(default)]
    pub raw: bool,
}

/// The answers about one value.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnrichmentReport {
    /// The value as given.
    pub value: String,
    /// The value in canonical form.
    pub subject: String,
    /// `ip` or `domain`.
    pub kind: String,
    /// One result per provider asked, alphabetical.
    pub results: Vec<EnrichmentResult>,
}

/// One provider's result: an answer or an error.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnrichmentResult {
    /// The provider.
    pub provider: String,
    /// `ok` or `error`.
    pub status: &'static str,
    /// Where the answer came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// The answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrichment: Option<EnrichmentRecord>,
    /// Why there is no answer (provider, what failed, whether a retry may help).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<EnrichError>,
}

/// Enrich a value: cached answers unless `refresh=true`; provider failures are reported per
/// provider (HTTP 200), never as a failure of the request.
#[utoipa::path(get, path = "/api/v1/enrichments", tag = "enrichment", params(EnrichmentQuery),
    responses((status = 200, body = EnrichmentReport), ErrorResponses))]
pub async fn enrichments(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<EnrichmentQuery>,
) -> ApiResult<Json<EnrichmentReport>> {
    let subject = Subject::parse(&q.value)
        .map_err(|e| ApiError::Invalid(vec![FieldError::new("value", e)]))?;
    if q.refresh && !p.can_write() {
        return Err(ApiError::Forbidden(
            "refresh=true spends provider credits: analysts and admins only".into(),
        ));
    }
    let providers: Vec<String> = match &q.provider {
        Some(list) => {
            let names: Vec<String> = list
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(String::from)
                .collect();
            for name in &names {
                if tipline_enrich::providers::registration(name).is_none() {
                    return Err(ApiError::Invalid(vec![FieldError::new(
                        "provider",
                        format!(
                            "unknown provider `{name}`; known: {}",
                            tipline_enrich::providers::names()
                        ),
                    )]));
                }
            }
            names
        }
        None => s.enricher.providers_for(&subject).into_iter().map(String::from).collect(),
    };
    let options = LookupOptions { refresh: q.refresh, raw: q.raw };
    let lookups = providers.iter().map(|name| s.enricher.lookup(name, &subject, options));
    let answers = futures::future::join_all(lookups).await;
    let mut results: Vec<EnrichmentResult> = providers
        .into_iter()
        .zip(answers)
        .map(|(provider, answer)| match answer {
            Ok(answer) => EnrichmentResult {
                provider,
                status: "ok",
                source: Some(answer.source),
                enrichment: Some((*answer.record).clone()),
                error: None,
            },
            Err(error) => EnrichmentResult {
                provider,
                status: "error",
                source: None,
                enrichment: None,
                error: Some(error),
            },
        })
        .collect();
    results.sort_by(|a, b| a.provider.cmp(&b.provider));
    Ok(Json(EnrichmentReport {
        value: q.value,
        subject: subject.to_string(),
        kind: subject.kind().as_str().to_string(),
        results,
    }))
}

/// Every enrichment provider: enabled or why not, what it enriches, and its counters
/// (lookups, upstream calls, cache hits, coalesced lookups, retries, errors, credits).
#[utoipa::path(get, path = "/api/v1/enrichments/providers", tag = "enrichment",
    responses((status = 200, body = Vec<ProviderStatus>), ErrorResponses))]
pub async fn providers(
    State(s): State<AppState>,
    Auth(_p): Auth,
) -> ApiResult<Json<Vec<ProviderStatus>>> {
    Ok(Json(s.enricher.statuses()))
}

/// The enrichments of an indicator value (IP addresses and domains) without raw responses:
/// what the database caches, plus local providers (GeoIP) asked on the spot. Never calls a
/// remote provider; other kinds have none.
pub(crate) async fn cached_for(state: &AppState, value: &str) -> ApiResult<Vec<EnrichmentRecord>> {
    let Ok(subject) = Subject::parse(value) else { return Ok(Vec::new()) };
    let mut records = state.store.enrichments_of(&subject.to_string()).await?;
    for provider in state.enricher.local_providers_for(&subject) {
        if let Ok(answer) =
            state.enricher.lookup(provider, &subject, LookupOptions::default()).await
        {
            records.push((*answer.record).clone());
        }
    }
    for record in &mut records {
        record.raw = None;
    }
    records.sort_by(|a, b| a.provider.cmp(&b.provider));
    Ok(records)
}
