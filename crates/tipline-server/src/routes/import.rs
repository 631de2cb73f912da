//! `POST /api/v1/import?format=...`: import a document in one transaction. One route for
//! every format; each format's code is its own `import_<format>.rs`, dispatched here.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, header};
use serde::Deserialize;
use tipline_feeds::ImportReport;
use tipline_model::Tlp;
use tipline_model::validate::FieldError;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorResponses};
use crate::extract::{ApiQuery, Auth};
use crate::routes::import_misp;

/// Every importable format, alphabetical.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ImportFormat {
    /// MISP event JSON: `{"Event": …}`, a REST response `{"response": […]}` or a list.
    Misp,
}

/// How to import.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The body's format.
    pub format: ImportFormat,
    /// Import the valid part of a body with problems (default false: one problem rejects
    /// the whole body and nothing is written).
    pub lenient: Option<bool>,
    /// Owner of what is imported (default: the caller's organization; host analysts may
    /// import for source organizations).
    pub owner_id: Option<Uuid>,
    /// TLP when the document does not say (default amber).
    pub tlp: Option<Tlp>,
    /// Confidence 0–100 of imported indicators (default 50).
    pub confidence: Option<i64>,
    /// Tags added to everything imported, comma separated.
    pub tags: Option<String>,
    /// Communities to share to, comma-separated ids.
    pub shared_to: Option<String>,
}

impl ImportQuery {
    /// The tags given.
    pub fn tag_list(&self) -> Vec<String> {
        split(self.tags.as_deref()).map(str::to_string).collect()
    }

    /// The communities given.
    pub fn communities(&self) -> Result<Vec<Uuid>, ApiError> {
        split(self.shared_to.as_deref())
            .map(|id| {
                Uuid::parse_str(id).map_err(|_| {
                    ApiError::Invalid(vec![FieldError::new(
                        "shared_to",
                        format!("`{id}` is not a uuid"),
                    )])
                })
            })
            .collect()
    }
}

fn split(list: Option<&str>) -> impl Iterator<Item = &str> {
    list.unwrap_or_default().split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// Import a document. Written in one transaction: 200 with what was written (and, when
/// `lenient`, what was left out); 422 listing every problem, each named by its location
/// (line and column, or MISP event uuid and field), when nothing was written.
#[utoipa::path(post, path = "/api/v1/import", tag = "import", params(ImportQuery),
    request_body(content = serde_json::Value, description = "The document", content_type = "application/json"),
    responses((status = 200, body = ImportReport), ErrorResponses))]
pub async fn import(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<ImportQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<ImportReport>> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json" || mime.ends_with("+json")
        });
    if !is_json {
        return Err(ApiError::UnsupportedMediaType);
    }
    let body = body.map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(s.settings.max_body_bytes)
        } else {
            ApiError::BadRequest(format!("cannot read the request body: {rejection}"))
        }
    })?;
    let viewer = s.store.viewer(p);
    let report = match q.format {
        ImportFormat::Misp => import_misp::import(&viewer, &q, &body).await?,
    };
    if !report.committed {
        return Err(ApiError::Invalid(
            report.rejected.into_iter().map(|r| FieldError::new(r.location, r.reason)).collect(),
        ));
    }
    Ok(Json(report))
}
