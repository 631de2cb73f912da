//! Matching: values and records against the node's index (`POST /api/v1/match`), and the
//! constituency question (`GET /api/v1/constituency`).
//!
//! The index holds every active indicator; hits are filtered through the store's
//! `Viewer::visible_indicator_ids` (the same SQL rule as every read) in one query per
//! request, so a caller only ever learns of indicators it may see. Constituency answers
//! name every organization to the host organization and only the caller's own to others.

use std::collections::{HashMap, HashSet};

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use tipline_formats::observable::Observable;
use tipline_formats::record::{RECORD_FORMATS, record_format};
use tipline_index::{Matcher, Victim, WarningHit};
use tipline_model::validate::FieldError;
use tipline_model::{ConstituencyKind, IndicatorKind, Tlp, detect};
use tipline_store::{AdversaryRef, Viewer};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorResponses};
use crate::extract::{ApiJson, ApiQuery, Auth};

/// Most values plus records one request may carry.
pub const MAX_MATCH_ITEMS: usize = 10_000;

/// What to match: values, records, or both.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchRequest {
    /// Indicator values (any kind; defanged input is fine).
    #[serde(default)]
    pub values: Vec<String>,
    /// Records (log lines, alerts) in `format`; their observables are matched.
    #[serde(default)]
    pub records: Vec<String>,
    /// Format of `records`: `plain`, `jsonl`, `eve` or `cef` (default `plain`).
    #[serde(default)]
    pub format: Option<String>,
    /// For `jsonl` records: the fields (dotted paths) to read; default every string.
    #[serde(default)]
    pub fields: Vec<String>,
}

/// An indicator an observed value hit.
#[derive(Debug, Serialize, ToSchema)]
pub struct MatchHit {
    /// The observed value (from the request or the record).
    pub observed: String,
    /// The record field it came from (records only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The indicator's value (a containing network, a parent domain, or the value itself).
    pub value: String,
    /// The indicator's kind.
    pub kind: IndicatorKind,
    /// The indicator.
    pub indicator_id: Uuid,
    /// Its owner.
    pub owner_id: Uuid,
    /// The owner's name.
    pub owner: String,
    /// Its TLP.
    pub tlp: Tlp,
    /// Adversaries associated with it (directly or through one group), visible to you.
    pub adversaries: Vec<AdversaryRef>,
}

/// An organization an observed value belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct MatchVictim {
    /// The observed value.
    pub observed: String,
    /// The organization.
    pub org_id: Uuid,
    /// Its name.
    pub org: String,
    /// Which registration matched.
    pub by: ConstituencyKind,
    /// The registered value (`192.0.2.0/24`, `AS64500`, `example.org`).
    pub registered: String,
}

/// The answer for one value or record.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct MatchResult {
    /// The value as given (values only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Position of the record in `records` (records only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<usize>,
    /// Why the value or record could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Indicators hit that you may see.
    pub hits: Vec<MatchHit>,
    /// Member organizations the values belong to (every one for the host organization,
    /// only yours for others).
    pub victims: Vec<MatchVictim>,
    /// Warninglists the values are on.
    pub warnings: Vec<WarningHit>,
}

/// The answers, in request order: values first, then records.
#[derive(Debug, Serialize, ToSchema)]
pub struct MatchResponse {
    /// One result per value, then one per record.
    pub results: Vec<MatchResult>,
}

/// A hit before the visibility filter.
struct Candidate {
    result: usize,
    observed: String,
    field: Option<String>,
    value: String,
    kind: IndicatorKind,
    id: Uuid,
    owner: Option<Uuid>,
    tlp: Tlp,
}

/// Match values and records against indicators, constituency and warninglists. Only
/// indicators you may see are returned.
#[utoipa::path(post, path = "/api/v1/match", tag = "matching", request_body = MatchRequest,
    responses((status = 200, body = MatchResponse), ErrorResponses))]
pub async fn match_values(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(request): ApiJson<MatchRequest>,
) -> ApiResult<Json<MatchResponse>> {
    let total = request.values.len() + request.records.len();
    if total > MAX_MATCH_ITEMS {
        return Err(ApiError::Invalid(vec![FieldError::new(
            "values",
            format!("at most {MAX_MATCH_ITEMS} values and records per request, got {total}"),
        )]));
    }
    let format = match request.format.as_deref() {
        None => record_format("plain").expect("plain is registered"),
        Some(name) => record_format(name).ok_or_else(|| {
            let names: Vec<_> = RECORD_FORMATS.iter().map(|f| f.name).collect();
            ApiError::Invalid(vec![FieldError::new(
                "format",
                format!("unknown record format `{name}`; expected one of: {}", names.join(", ")),
            )])
        })?,
    };
    s.index.catch_up().await?;
    let matcher = Matcher::new(s.index.index());
    let mut results: Vec<MatchResult> = Vec::with_capacity(total);
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut victims: Vec<(usize, String, Victim)> = Vec::new();
    for value in &request.values {
        let result = results.len();
        let mut out = MatchResult { value: Some(value.clone()), ..Default::default() };
        match detect(value) {
            Ok(canonical) => {
                let observation = matcher.observe(&canonical, &|_| None);
                collect(
                    result,
                    &canonical.value,
                    None,
                    observation,
                    &mut candidates,
                    &mut victims,
                    &mut out,
                    &matcher,
                );
            }
            Err(e) => out.error = Some(e.to_string()),
        }
        results.push(out);
    }
    for (n, record) in request.records.iter().enumerate() {
        let result = results.len();
        let mut out = MatchResult { record: Some(n), ..Default::default() };
        let mut observables: Vec<Observable<'_>> = Vec::new();
        match (format.extract)(record, &request.fields, &mut observables) {
            Ok(()) => {
                for observable in &observables {
                    let observation = matcher.observe_observed(&observable.value, &|_| None);
                    let text = observable.value.text();
                    collect(
                        result,
                        &text,
                        Some(&observable.field),
                        observation,
                        &mut candidates,
                        &mut victims,
                        &mut out,
                        &matcher,
                    );
                }
            }
            Err(e) => out.error = Some(format!("records[{n}]: {e}")),
        }
        results.push(out);
    }
    let viewer = s.store.viewer(p);
    resolve(&viewer, candidates, victims, &mut results).await?;
    Ok(Json(MatchResponse { results }))
}

/// Note one observed value's hits, victims and warnings.
#[allow(clippy::too_many_arguments)]
fn collect(
    result: usize,
    observed: &str,
    field: Option<&str>,
    observation: tipline_index::Observation,
    candidates: &mut Vec<Candidate>,
    victims: &mut Vec<(usize, String, Victim)>,
    out: &mut MatchResult,
    matcher: &Matcher,
) {
    for (matched, r) in observation.hits {
        if candidates.iter().any(|c| c.result == result && c.id == r.id) {
            continue;
        }
        candidates.push(Candidate {
            result,
            observed: observed.to_string(),
            field: field.map(str::to_string),
            value: matched.value,
            kind: matched.kind,
            id: r.id,
            owner: match matcher.indicators.owner(r.owner) {
                tipline_index::Owner::Org(id) => Some(*id),
                tipline_index::Owner::File(_) => None,
            },
            tlp: r.tlp,
        });
    }
    for victim in observation.victims {
        victims.push((result, observed.to_string(), victim));
    }
    for warning in observation.warnings {
        if !out.warnings.iter().any(|w| w.list == warning.list && w.value == warning.value) {
            out.warnings.push(warning);
        }
    }
}

/// Keep the hits and victims the caller may see, with names and adversaries.
async fn resolve(
    viewer: &Viewer<'_>,
    candidates: Vec<Candidate>,
    victims: Vec<(usize, String, Victim)>,
    results: &mut [MatchResult],
) -> ApiResult<()> {
    let ids: Vec<Uuid> =
        candidates.iter().map(|c| c.id).collect::<HashSet<_>>().into_iter().collect();
    let visible = viewer.visible_indicator_ids(&ids).await?;
    let visible_ids: Vec<Uuid> = visible.keys().copied().collect();
    let mut adversaries = viewer.adversaries_of(Some(&visible_ids)).await?;
    for candidate in candidates {
        let (Some(owner_name), Some(owner_id)) = (visible.get(&candidate.id), candidate.owner)
        else {
            continue;
        };
        results[candidate.result].hits.push(MatchHit {
            observed: candidate.observed,
            field: candidate.field,
            value: candidate.value,
            kind: candidate.kind,
            indicator_id: candidate.id,
            owner_id,
            owner: owner_name.clone(),
            tlp: candidate.tlp,
            adversaries: adversaries.get(&candidate.id).cloned().unwrap_or_default(),
        });
    }
    adversaries.clear();
    let orgs: Vec<Uuid> = victims
        .iter()
        .map(|(_, _, v)| v.org_id)
        .filter(|org| viewer.may_see_constituency_of(*org))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let names: HashMap<Uuid, String> = viewer.constituency_org_names(&orgs).await?;
    for (result, observed, victim) in victims {
        let Some(name) = names.get(&victim.org_id) else { continue };
        let out = &mut results[result].victims;
        if out.iter().any(|v| v.org_id == victim.org_id && v.observed == observed) {
            continue;
        }
        out.push(MatchVictim {
            observed,
            org_id: victim.org_id,
            org: name.clone(),
            by: victim.by,
            registered: victim.registered,
        });
    }
    Ok(())
}

/// The value to ask about.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConstituencyQuery {
    /// An address, network, domain, URL, email or ASN.
    pub value: String,
}

/// Who a value belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConstituencyAnswer {
    /// The value in canonical form.
    pub value: String,
    /// Its kind.
    pub kind: IndicatorKind,
    /// The organizations it belongs to: the longest registered network, else the
    /// registered ASN, else the most specific registered domain; ties return all. The
    /// host organization sees every organization, others only themselves.
    pub victims: Vec<MatchVictim>,
}

/// Which member organization an address, network, domain, URL, email or ASN belongs to.
#[utoipa::path(get, path = "/api/v1/constituency", tag = "matching", params(ConstituencyQuery),
    responses((status = 200, body = ConstituencyAnswer), ErrorResponses))]
pub async fn constituency(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<ConstituencyQuery>,
) -> ApiResult<Json<ConstituencyAnswer>> {
    let canonical = detect(&q.value)
        .map_err(|e| ApiError::Invalid(vec![FieldError::new("value", e.to_string())]))?;
    s.index.catch_up().await?;
    let constituency = s.index.index().constituency.load_full();
    let found = constituency.lookup(&canonical, &|_| None);
    let mut results = [MatchResult::default()];
    let victims = found.into_iter().map(|v| (0, canonical.value.clone(), v)).collect();
    resolve(&s.store.viewer(p), Vec::new(), victims, &mut results).await?;
    let [result] = results;
    Ok(Json(ConstituencyAnswer {
        value: canonical.value,
        kind: canonical.kind,
        victims: result.victims,
    }))
}

/// The warninglists a value is on (for indicator reads).
pub fn warnings_of(s: &AppState, kind: IndicatorKind, value: &str) -> Vec<WarningHit> {
    let canonical = tipline_model::Canonical { kind, value: value.to_string() };
    s.index.index().warnings.load().check(&canonical)
}
