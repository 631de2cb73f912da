//! Enrichment: look a value up with one or every provider (cached unless `refresh=true`),
//! and the providers' state and counters.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use tipline_enrich::{EnrichmentReport, LookupOptions, ProviderStatus, Subject, enrich_value};
use tipline_model::validate::FieldError;
use tipline_store::EnrichmentRecord;
use utoipa::IntoParams;

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

/// Enrich a value: cached answers unless `refresh=true`; provider failures are reported per
/// provider (HTTP 200), never as a failure of the request.
#[utoipa::path(get, path = "/api/v1/enrichments", tag = "enrichment", params(EnrichmentQuery),
    responses((status = 200, body = EnrichmentReport), ErrorResponses))]
pub async fn enrichments(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<EnrichmentQuery>,
) -> ApiResult<Json<EnrichmentReport>> {
    if q.refresh && !p.can_write() {
        return Err(ApiError::Forbidden(
            "refresh=true spends provider credits: analysts and admins only".into(),
        ));
    }
    let providers: Vec<String> = q
        .provider
        .iter()
        .flat_map(|list| list.split(','))
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(String::from)
        .collect();
    let options = LookupOptions { refresh: q.refresh, raw: q.raw };
    enrich_value(&s.enricher, &q.value, &providers, options)
        .await
        .map(Json)
        .map_err(|bad| ApiError::Invalid(vec![FieldError::new(bad.field, bad.reason)]))
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
