//! `POST /api/v1/extract`: the indicators in a text, and optionally their import as a report
//! associated with everything found (see `docs/extraction.md`).

use axum::Json;
use axum::extract::{Request, State};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tipline_formats::extract::{ExtractOptions, Hit, HitKind, count_kinds, extract, import_inputs};
use tipline_model::intel::{GroupInput, IndicatorInput};
use tipline_model::{GroupKind, Tlp};
use tipline_store::{ReportImport, ReportImported};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorResponses};
use crate::extract::{ApiQuery, Auth, is_json, parse_json, read_body};

/// Options of a plain-text request, in the query string.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExtractParams {
    /// Also report the host of every URL and the domain of every email address.
    pub hosts: Option<bool>,
    /// Report each kind and value once (its first occurrence).
    pub unique: Option<bool>,
    /// Import what was found as a report of this name (created, or reused if the caller's
    /// organization has one).
    pub report_name: Option<String>,
    /// TLP of the imported report, indicators and associations (default `amber`).
    pub tlp: Option<Tlp>,
}

/// A JSON request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtractRequest {
    /// The text to search (a report, an email, a chat log).
    pub text: String,
    /// Also report the host of every URL and the domain of every email address.
    #[serde(default)]
    pub hosts: bool,
    /// Report each kind and value once (its first occurrence).
    #[serde(default)]
    pub unique: bool,
    /// Only these kinds (indicator kinds or `cve`); all when absent.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Import what was found as a report.
    #[serde(default)]
    pub import: Option<ImportOptions>,
}

/// How to import the hits: as a report group associated (`related-to`) with every
/// indicator and vulnerability found, in one transaction.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportOptions {
    /// Name of the report (created, or reused if the owner has a report of this name).
    pub report_name: String,
    /// Description of the report.
    #[serde(default)]
    pub description: Option<String>,
    /// Owner of everything imported; default the caller's organization.
    #[serde(default)]
    pub owner_id: Option<Uuid>,
    /// TLP of the report, indicators and associations; default `amber`.
    #[serde(default)]
    pub tlp: Option<Tlp>,
    /// Tags of the report and its indicators.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Communities to share the report, indicators and associations to.
    #[serde(default)]
    pub shared_to: Vec<Uuid>,
}

/// One indicator found.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExtractedHit {
    /// An indicator kind (`ipv4`, `domain`, …) or `cve`.
    pub kind: String,
    /// The canonical value.
    pub value: String,
    /// The text as written (defanged forms included).
    pub raw: String,
    /// Byte offset of `raw` in the text.
    pub offset: usize,
    /// Line of `offset`, from 1.
    pub line: usize,
    /// Column of `offset` in its line, in bytes, from 1.
    pub column: usize,
}

impl From<Hit> for ExtractedHit {
    fn from(hit: Hit) -> ExtractedHit {
        ExtractedHit {
            kind: hit.kind.as_str().to_string(),
            value: hit.value,
            raw: hit.raw,
            offset: hit.offset,
            line: hit.line,
            column: hit.column,
        }
    }
}

/// What was found, and what was imported.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExtractResponse {
    /// Every hit, in order of offset.
    pub hits: Vec<ExtractedHit>,
    /// Hits per kind.
    pub counts: BTreeMap<String, usize>,
    /// The import, when one was asked for.
    pub import: Option<ReportImported>,
}

/// Find IPv4/IPv6 addresses, CIDR networks, domains, URLs, emails, MD5/SHA-1/SHA-256 hashes,
/// AS numbers and CVE ids in a text, defanged forms included. Send the text as the body
/// (any content type but JSON; options in the query string) or as JSON with options. With
/// `import` (or `report_name`), the report, its indicators and a vulnerability per CVE id
/// are written in one transaction, each associated with the report (`related-to`); that
/// needs the analyst or admin role.
#[utoipa::path(post, path = "/api/v1/extract", tag = "extraction", params(ExtractParams),
    request_body(content(
        (String = "text/plain"),
        (ExtractRequest = "application/json"),
    )),
    responses((status = 200, body = ExtractResponse), ErrorResponses))]
pub async fn extract_text(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiQuery(params): ApiQuery<ExtractParams>,
    request: Request,
) -> ApiResult<Json<ExtractResponse>> {
    let json = is_json(request.headers());
    let body = read_body(request, &s).await?;
    let (text, request) = if json {
        if params.hosts.is_some()
            || params.unique.is_some()
            || params.report_name.is_some()
            || params.tlp.is_some()
        {
            return Err(ApiError::BadRequest(
                "with a JSON body, give the options in the body, not the query string".into(),
            ));
        }
        let request: ExtractRequest = parse_json(&body)?;
        (request.text.clone().into_bytes(), request)
    } else {
        let request = ExtractRequest {
            text: String::new(),
            hosts: params.hosts.unwrap_or(false),
            unique: params.unique.unwrap_or(false),
            kinds: Vec::new(),
            import: params.report_name.map(|report_name| ImportOptions {
                report_name,
                tlp: params.tlp,
                ..Default::default()
            }),
        };
        (body.to_vec(), request)
    };
    let mut kinds = Vec::with_capacity(request.kinds.len());
    for (i, name) in request.kinds.iter().enumerate() {
        kinds.push(HitKind::parse(name).ok_or_else(|| {
            ApiError::Invalid(vec![tipline_model::validate::FieldError::new(
                format!("kinds[{i}]"),
                format!("unknown kind `{name}`"),
            )])
        })?);
    }
    let options = ExtractOptions { hosts: request.hosts };
    let unique = request.unique;
    // Extraction is CPU work: keep it off the request threads.
    let hits = tokio::task::spawn_blocking(move || {
        let mut hits = extract(&text, options);
        hits.retain(|h| kinds.is_empty() || kinds.contains(&h.kind));
        if unique {
            let mut seen = std::collections::HashSet::new();
            hits.retain(|h| seen.insert((h.kind, h.value.clone())));
        }
        hits
    })
    .await
    .map_err(|e| ApiError::Internal(format!("extraction task failed: {e}")))?;
    let import = match &request.import {
        None => None,
        Some(options) => {
            let template = IndicatorInput {
                owner_id: options.owner_id,
                tlp: options.tlp,
                tags: options.tags.clone(),
                shared_to: options.shared_to.clone(),
                ..Default::default()
            };
            let (indicators, cves) = import_inputs(&hits, &template);
            let input = ReportImport {
                report: GroupInput {
                    kind: Some(GroupKind::Report),
                    name: options.report_name.clone(),
                    description: options.description.clone(),
                    owner_id: options.owner_id,
                    tlp: options.tlp,
                    tags: options.tags.clone(),
                    shared_to: options.shared_to.clone(),
                    ..Default::default()
                },
                indicators,
                cves,
            };
            Some(s.store.viewer(p).import_report(&input).await?)
        }
    };
    let counts = count_kinds(&hits).into_iter().map(|(k, n)| (k.to_string(), n)).collect();
    Ok(Json(ExtractResponse {
        hits: hits.into_iter().map(ExtractedHit::from).collect(),
        counts,
        import,
    }))
}
