//! Feeds and listings: define, list, remove and schedule feeds (host), read their status
//! and pull history, and search listings (anyone, through the visibility rule).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use tipline_model::feed::{Feed, FeedInput, FeedPull, Listing};
use tipline_store::{ListingQuery, Page};
use utoipa::IntoParams;
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiResult, ErrorResponses};
use crate::extract::{ApiJson, ApiQuery, Auth};

/// Every feed with its status: last pull and outcome, last error, consecutive failures,
/// next pull, counts of the last pull, entries listed (members of the host organization).
#[utoipa::path(get, path = "/api/v1/feeds", tag = "feeds",
    responses((status = 200, body = Vec<Feed>), ErrorResponses))]
pub async fn list_feeds(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<Vec<Feed>>> {
    Ok(Json(s.store.viewer(p).list_feeds().await?))
}

/// Define a feed (host administrators). Its source organization is found by name or id, or
/// created; the first pull is due at once.
#[utoipa::path(post, path = "/api/v1/feeds", tag = "feeds", request_body = FeedInput,
    responses((status = 201, body = Feed), ErrorResponses))]
pub async fn create_feed(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(input): ApiJson<FeedInput>,
) -> ApiResult<(StatusCode, Json<Feed>)> {
    Ok((StatusCode::CREATED, Json(s.store.viewer(p).create_feed(&input).await?)))
}

/// One feed with its status.
#[utoipa::path(get, path = "/api/v1/feeds/{id}", tag = "feeds",
    params(("id" = Uuid, Path, description = "Feed id")),
    responses((status = 200, body = Feed), ErrorResponses))]
pub async fn get_feed(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Feed>> {
    Ok(Json(s.store.viewer(p).get_feed(id).await?))
}

/// Remove a feed added through the API or CLI (host administrators); its listings stay
/// as history. Feeds of the configuration file are removed there.
#[utoipa::path(delete, path = "/api/v1/feeds/{id}", tag = "feeds",
    params(("id" = Uuid, Path, description = "Feed id")),
    responses((status = 204, description = "Removed"), ErrorResponses))]
pub async fn remove_feed(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    s.store.viewer(p).remove_feed(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Make a feed due now (host administrators); the scheduler of `tipline serve` pulls it at
/// its next look (`status.next_pull_at` is now).
#[utoipa::path(post, path = "/api/v1/feeds/{id}/pull", tag = "feeds",
    params(("id" = Uuid, Path, description = "Feed id")),
    responses((status = 202, body = Feed, description = "Scheduled"), ErrorResponses))]
pub async fn pull_feed(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<(StatusCode, Json<Feed>)> {
    Ok((StatusCode::ACCEPTED, Json(s.store.viewer(p).schedule_pull_now(id).await?)))
}

/// How many pulls.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PullsQuery {
    /// Most recent first, 1–1000 (default 20).
    pub limit: Option<u32>,
}

/// A feed's recent pulls: node, outcome, error, counts.
#[utoipa::path(get, path = "/api/v1/feeds/{id}/pulls", tag = "feeds",
    params(("id" = Uuid, Path, description = "Feed id"), PullsQuery),
    responses((status = 200, body = Vec<FeedPull>), ErrorResponses))]
pub async fn feed_pulls(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<Uuid>,
    ApiQuery(q): ApiQuery<PullsQuery>,
) -> ApiResult<Json<Vec<FeedPull>>> {
    Ok(Json(s.store.viewer(p).feed_pulls(id, q.limit.unwrap_or(20)).await?))
}

/// Listing periods the caller may see (the source's data, under the visibility rule):
/// by feed, covering a value, or inside an organization's constituency.
#[utoipa::path(get, path = "/api/v1/listings", tag = "feeds", params(ListingQuery),
    responses((status = 200, body = Page<Listing>), ErrorResponses))]
pub async fn search_listings(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<ListingQuery>,
) -> ApiResult<Json<Page<Listing>>> {
    Ok(Json(s.store.viewer(p).search_listings(&q).await?))
}
