//! MISP documents for `POST /api/v1/import?format=misp` (see `tipline_feeds::misp`).

use tipline_feeds::{ImportReport, MispImport, Silent, import_document};
use tipline_formats::misp::MispOptions;
use tipline_model::Tlp;
use tipline_store::{Viewer, owner_scope};

use crate::error::ApiError;
use crate::routes::import::ImportQuery;

/// Import one MISP document as the caller, incremental per owner.
pub async fn import(
    viewer: &Viewer<'_>,
    query: &ImportQuery,
    body: &[u8],
) -> Result<ImportReport, ApiError> {
    let owner = query.owner_id.unwrap_or(viewer.principal().org_id);
    let import = MispImport {
        options: MispOptions {
            owner_id: query.owner_id,
            tlp: query.tlp.unwrap_or(Tlp::Amber),
            confidence: query.confidence.unwrap_or(50),
            tags: query.tag_list(),
            shared_to: query.communities()?,
        },
        scope: owner_scope(owner),
        lenient: query.lenient.unwrap_or(false),
    };
    Ok(import_document(viewer, body, &import, &Silent).await?)
}
