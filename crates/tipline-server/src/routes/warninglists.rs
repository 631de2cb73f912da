//! Warninglists: list the stored MISP warninglists, and import one (`list.json` as the
//! body) as the host organization.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use tipline_formats::warninglist::{self, WarninglistError};
use tipline_model::validate::FieldError;
use tipline_store::WarninglistSummary;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorResponses};
use crate::extract::{ApiJson, Auth};

/// The stored warninglists (without their entries).
#[utoipa::path(get, path = "/api/v1/warninglists", tag = "warninglists",
    responses((status = 200, body = Vec<WarninglistSummary>), ErrorResponses))]
pub async fn list_warninglists(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> ApiResult<Json<Vec<WarninglistSummary>>> {
    Ok(Json(s.store.viewer(p).list_warninglists().await?))
}

/// Import a MISP warninglist (the `list.json` document of the MISP/misp-warninglists
/// repository) as the host organization; a list with the same name is replaced (200),
/// a new one created (201). Every node's index picks it up.
#[utoipa::path(post, path = "/api/v1/warninglists", tag = "warninglists",
    request_body(content = serde_json::Value, description = "A MISP warninglist `list.json` document", content_type = "application/json"),
    responses((status = 201, body = WarninglistSummary, description = "Created"),
        (status = 200, body = WarninglistSummary, description = "Replaced"), ErrorResponses))]
pub async fn import_warninglist(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(document): ApiJson<serde_json::Value>,
) -> ApiResult<(StatusCode, Json<WarninglistSummary>)> {
    // Well-formed JSON (checked by the extractor); now its shape and entries.
    let bytes = serde_json::to_vec(&document).map_err(|e| ApiError::Internal(e.to_string()))?;
    let list = warninglist::parse(&bytes).map_err(|e| {
        ApiError::Invalid(vec![match e {
            WarninglistError::Json { reason, .. } => FieldError::new("body", reason),
            WarninglistError::Entry { index, entry, reason } => {
                FieldError::new(format!("list[{index}]"), format!("`{entry}`: {reason}"))
            }
            WarninglistError::Empty { field } => FieldError::new(field, "must not be empty"),
        }])
    })?;
    let (summary, created) = s.store.viewer(p).import_warninglist(&list).await?;
    s.index.catch_up().await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(summary)))
}
