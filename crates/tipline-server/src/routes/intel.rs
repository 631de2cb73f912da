//! Intelligence: indicators, groups, associations, sightings and the owners question.
//! Every read goes through the store's `Viewer`, so only what the caller may see is returned.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tipline_model::IndicatorKind;
use tipline_model::intel::{
    Association, AssociationInput, Group, GroupInput, Holder, Indicator, IndicatorInput,
    IndicatorPatch, Neighbourhood, Sighting, SightingInput,
};
use tipline_store::groups::GroupQuery;
use tipline_store::{IndicatorQuery, Page, UpsertSummary};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorResponses};
use crate::extract::{ApiJson, ApiQuery, Auth};

/// Most items one bulk request may carry.
pub const MAX_BULK_ITEMS: usize = 10_000;

/// An indicator as the API returns it: the stored indicator plus the warninglists its
/// value is on.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorView {
    /// The indicator.
    #[serde(flatten)]
    pub indicator: Indicator,
    /// Known-benign lists the value (or its host or domain) is on, e.g. "8.8.8.8 is on
    /// list 'List of known IPv4 public DNS resolvers'"; empty when none.
    pub warnings: Vec<IndicatorWarning>,
    /// On single-indicator reads: the enrichment answers cached for its value (IP addresses
    /// and domains), by provider, raw responses left out. `GET /api/v1/enrichments` fetches
    /// or refreshes them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrichments: Option<Vec<tipline_store::EnrichmentRecord>>,
}

/// A warninglist an indicator's value is on.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorWarning {
    /// The list's name.
    pub list: String,
    /// The list's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list_id: Option<Uuid>,
    /// The entry that matched.
    pub entry: String,
    /// "VALUE is on list 'NAME'".
    pub message: String,
}

fn view(s: &AppState, indicator: Indicator) -> IndicatorView {
    let warnings = crate::routes::matching::warnings_of(s, indicator.kind, &indicator.value)
        .into_iter()
        .map(|hit| IndicatorWarning {
            message: hit.message(),
            list: hit.list,
            list_id: hit.list_id,
            entry: hit.entry,
        })
        .collect();
    IndicatorView { indicator, warnings, enrichments: None }
}

/// Search indicators the caller may see; pages are ordered by last change.
#[utoipa::path(get, path = "/api/v1/indicators", tag = "indicators", params(IndicatorQuery),
    responses((status = 200, body = Page<IndicatorView>), ErrorResponses))]
pub async fn search_indicators(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<IndicatorQuery>,
) -> ApiResult<Json<Page<IndicatorView>>> {
    let page = s.store.viewer(p).search_indicators(&q).await?;
    Ok(Json(Page {
        items: page.items.into_iter().map(|i| view(&s, i)).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Create an indicator, or update the caller's existing one with the same kind and value
/// (201 when created, 200 when updated).
#[utoipa::path(post, path = "/api/v1/indicators", tag = "indicators", request_body = IndicatorInput,
    responses((status = 201, body = IndicatorView, description = "Created"), (status = 200, body = IndicatorView, description = "Updated"), ErrorResponses))]
pub async fn create_indicator(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(input): ApiJson<IndicatorInput>,
) -> ApiResult<(StatusCode, Json<IndicatorView>)> {
    let (indicator, created) = s.store.viewer(p).upsert_indicator(&input).await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(view(&s, indicator))))
}

/// A batch of indicators.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkInput {
    /// Up to 10,000 indicators.
    pub items: Vec<IndicatorInput>,
}

/// Create or update many indicators in one transaction: if any item is invalid nothing is
/// written and every bad item is reported as `items[i].field`.
#[utoipa::path(post, path = "/api/v1/indicators/bulk", tag = "indicators", request_body = BulkInput,
    responses((status = 200, body = UpsertSummary), ErrorResponses))]
pub async fn bulk_upsert(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(input): ApiJson<BulkInput>,
) -> ApiResult<Json<UpsertSummary>> {
    if input.items.len() > MAX_BULK_ITEMS {
        return Err(ApiError::Invalid(vec![tipline_model::validate::FieldError::new(
            "items",
            format!("at most {MAX_BULK_ITEMS} items per request, got {}", input.items.len()),
        )]));
    }
    Ok(Json(s.store.viewer(p).upsert_indicators(&input.items).await?))
}

/// One indicator the caller may see, with the enrichments cached for its value.
#[utoipa::path(get, path = "/api/v1/indicators/{id}", tag = "indicators",
    params(("id" = Uuid, Path, description = "Indicator id")),
    responses((status = 200, body = IndicatorView), ErrorResponses))]
pub async fn get_indicator(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<IndicatorView>> {
    let indicator = s.store.viewer(p).get_indicator(id).await?;
    let enrichments = crate::routes::enrich::cached_for(&s, &indicator.value).await?;
    let mut view = view(&s, indicator);
    view.enrichments = Some(enrichments);
    Ok(Json(view))
}

/// Change an indicator the caller owns; collections given replace the stored ones.
#[utoipa::path(patch, path = "/api/v1/indicators/{id}", tag = "indicators", request_body = IndicatorPatch,
    params(("id" = Uuid, Path, description = "Indicator id")),
    responses((status = 200, body = IndicatorView), ErrorResponses))]
pub async fn patch_indicator(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<Uuid>,
    ApiJson(patch): ApiJson<IndicatorPatch>,
) -> ApiResult<Json<IndicatorView>> {
    Ok(Json(view(&s, s.store.viewer(p).patch_indicator(id, &patch).await?)))
}

/// Search groups the caller may see.
#[utoipa::path(get, path = "/api/v1/groups", tag = "groups", params(GroupQuery),
    responses((status = 200, body = Page<Group>), ErrorResponses))]
pub async fn search_groups(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<GroupQuery>,
) -> ApiResult<Json<Page<Group>>> {
    Ok(Json(s.store.viewer(p).search_groups(&q).await?))
}

/// Create a group (adversary, campaign, incident, malware, tool, vulnerability, report).
#[utoipa::path(post, path = "/api/v1/groups", tag = "groups", request_body = GroupInput,
    responses((status = 201, body = Group), ErrorResponses))]
pub async fn create_group(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(input): ApiJson<GroupInput>,
) -> ApiResult<(StatusCode, Json<Group>)> {
    Ok((StatusCode::CREATED, Json(s.store.viewer(p).create_group(&input).await?)))
}

/// One group the caller may see.
#[utoipa::path(get, path = "/api/v1/groups/{id}", tag = "groups",
    params(("id" = Uuid, Path, description = "Group id")),
    responses((status = 200, body = Group), ErrorResponses))]
pub async fn get_group(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Group>> {
    Ok(Json(s.store.viewer(p).get_group(id).await?))
}

/// Which object's associations to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AssociationQuery {
    /// An indicator or group id; associations at either end of it are listed.
    pub object_id: Uuid,
}

/// Associations of an object, each visible with both of its ends.
#[utoipa::path(get, path = "/api/v1/associations", tag = "associations", params(AssociationQuery),
    responses((status = 200, body = Vec<Association>), ErrorResponses))]
pub async fn list_associations(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<AssociationQuery>,
) -> ApiResult<Json<Vec<Association>>> {
    Ok(Json(s.store.viewer(p).associations_of(q.object_id).await?))
}

/// Associate two objects the caller can see.
#[utoipa::path(post, path = "/api/v1/associations", tag = "associations", request_body = AssociationInput,
    responses((status = 201, body = Association), ErrorResponses))]
pub async fn create_association(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(input): ApiJson<AssociationInput>,
) -> ApiResult<(StatusCode, Json<Association>)> {
    Ok((StatusCode::CREATED, Json(s.store.viewer(p).create_association(&input).await?)))
}

/// One association, if it and both its ends are visible.
#[utoipa::path(get, path = "/api/v1/associations/{id}", tag = "associations",
    params(("id" = Uuid, Path, description = "Association id")),
    responses((status = 200, body = Association), ErrorResponses))]
pub async fn get_association(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Association>> {
    Ok(Json(s.store.viewer(p).get_association(id).await?))
}

/// How far to walk.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NeighbourhoodQuery {
    /// 1 (default) or 2 hops.
    pub depth: Option<u8>,
}

/// Everything associated with an object within one or two hops, visible to the caller.
#[utoipa::path(get, path = "/api/v1/objects/{id}/neighbourhood", tag = "associations",
    params(("id" = Uuid, Path, description = "Indicator or group id"), NeighbourhoodQuery),
    responses((status = 200, body = Neighbourhood), ErrorResponses))]
pub async fn neighbourhood(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<Uuid>,
    ApiQuery(q): ApiQuery<NeighbourhoodQuery>,
) -> ApiResult<Json<Neighbourhood>> {
    Ok(Json(s.store.viewer(p).neighbourhood(id, q.depth.unwrap_or(1)).await?))
}

/// Which sightings to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SightingQuery {
    /// Only sightings of this indicator.
    pub indicator_id: Option<Uuid>,
    /// How many, newest first (1–1000, default 100).
    pub limit: Option<u32>,
}

/// Sightings the caller may see, newest first.
#[utoipa::path(get, path = "/api/v1/sightings", tag = "sightings", params(SightingQuery),
    responses((status = 200, body = Vec<Sighting>), ErrorResponses))]
pub async fn list_sightings(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<SightingQuery>,
) -> ApiResult<Json<Vec<Sighting>>> {
    Ok(Json(s.store.viewer(p).list_sightings(q.indicator_id, q.limit).await?))
}

/// Record a sighting of an indicator the caller can see.
#[utoipa::path(post, path = "/api/v1/sightings", tag = "sightings", request_body = SightingInput,
    responses((status = 201, body = Sighting), ErrorResponses))]
pub async fn create_sighting(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(input): ApiJson<SightingInput>,
) -> ApiResult<(StatusCode, Json<Sighting>)> {
    Ok((StatusCode::CREATED, Json(s.store.viewer(p).create_sighting(&input).await?)))
}

/// One sighting, if it and its indicator are visible.
#[utoipa::path(get, path = "/api/v1/sightings/{id}", tag = "sightings",
    params(("id" = Uuid, Path, description = "Sighting id")),
    responses((status = 200, body = Sighting), ErrorResponses))]
pub async fn get_sighting(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Sighting>> {
    Ok(Json(s.store.viewer(p).get_sighting(id).await?))
}

/// The value to ask about.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OwnersQuery {
    /// Any indicator value (canonicalized first).
    pub value: String,
    /// Its kind, when the guess would be wrong.
    pub kind: Option<IndicatorKind>,
}

/// Who already holds this value: the owners among those the caller may see, with their
/// confidence, TLP and last sighting.
#[utoipa::path(get, path = "/api/v1/owners", tag = "indicators", params(OwnersQuery),
    responses((status = 200, body = Vec<Holder>), ErrorResponses))]
pub async fn owners(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<OwnersQuery>,
) -> ApiResult<Json<Vec<Holder>>> {
    Ok(Json(s.store.viewer(p).owners(&q.value, q.kind).await?))
}
