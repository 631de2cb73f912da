//! The API's one error type and its mapping to RFC 9457 problem details.
//!
//! Every error has a stable `code` (one row of [`ApiError::code_table`]) that fixes its HTTP
//! status and title. Causes of 5xx errors are logged with the request and never sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tipline_model::validate::FieldError;
use tipline_store::StoreError;

/// Media type of error bodies.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error answered to an API client.
#[derive(Debug)]
pub enum ApiError {
    /// The body is not well-formed JSON (position in `detail`).
    MalformedJson(String),
    /// A query string or path parameter is malformed.
    BadRequest(String),
    /// Fields failed validation; nothing was written.
    Invalid(Vec<FieldError>),
    /// No or an unusable bearer token.
    Unauthorized,
    /// The principal may not do this.
    Forbidden(String),
    /// No such object visible to the caller, or no such route.
    NotFound(String),
    /// The route exists, but not with this method.
    MethodNotAllowed,
    /// The change conflicts with existing data.
    Conflict(String),
    /// The body exceeds the configured limit (bytes).
    PayloadTooLarge(usize),
    /// The body is not `application/json`.
    UnsupportedMediaType,
    /// The request took longer than the configured timeout.
    Timeout,
    /// A dependency (the database) is unavailable; retrying later may work.
    Unavailable(String),
    /// A bug or unexpected failure; the cause is logged, not returned.
    Internal(String),
}

/// The body of an error response (RFC 9457 problem details plus `code` and `errors`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the problem type: `urn:tipline:problem:<code>`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short summary of the problem type.
    pub title: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong in this case.
    pub detail: String,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// For validation errors: each field and what is wrong with it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl ApiError {
    /// Stable code, HTTP status and title of every error.
    pub fn code_table() -> &'static [(&'static str, StatusCode, &'static str)] {
        &[
            ("malformed_json", StatusCode::BAD_REQUEST, "Malformed JSON"),
            ("bad_request", StatusCode::BAD_REQUEST, "Bad request"),
            ("unauthorized", StatusCode::UNAUTHORIZED, "Authentication required"),
            ("forbidden", StatusCode::FORBIDDEN, "Forbidden"),
            ("not_found", StatusCode::NOT_FOUND, "Not found"),
            ("method_not_allowed", StatusCode::METHOD_NOT_ALLOWED, "Method not allowed"),
            ("conflict", StatusCode::CONFLICT, "Conflict"),
            ("payload_too_large", StatusCode::PAYLOAD_TOO_LARGE, "Payload too large"),
            (
                "unsupported_media_type",
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported media type",
            ),
            ("validation_failed", StatusCode::UNPROCESSABLE_ENTITY, "Validation failed"),
            ("internal", StatusCode::INTERNAL_SERVER_ERROR, "Internal error"),
            ("unavailable", StatusCode::SERVICE_UNAVAILABLE, "Service unavailable"),
            ("timeout", StatusCode::SERVICE_UNAVAILABLE, "Request timed out"),
        ]
    }

    /// This error's stable code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::MalformedJson(_) => "malformed_json",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Invalid(_) => "validation_failed",
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::Conflict(_) => "conflict",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::Timeout => "timeout",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    fn detail(&self) -> String {
        match self {
            ApiError::MalformedJson(d) | ApiError::BadRequest(d) => d.clone(),
            ApiError::Invalid(errors) => match errors.as_slice() {
                [one] => format!("{}: {}", one.field, one.reason),
                many => format!("{} fields are invalid; nothing was written", many.len()),
            },
            ApiError::Unauthorized => {
                "send a valid API token as `Authorization: Bearer <token>`".into()
            }
            ApiError::Forbidden(d) | ApiError::NotFound(d) | ApiError::Conflict(d) => d.clone(),
            ApiError::MethodNotAllowed => "this route does not accept this method".into(),
            ApiError::PayloadTooLarge(limit) => format!("request body larger than {limit} bytes"),
            ApiError::UnsupportedMediaType => {
                "send the body as JSON with `Content-Type: application/json`".into()
            }
            ApiError::Timeout => "the request took too long; try again".into(),
            ApiError::Unavailable(_) => {
                "a service tipline depends on is unavailable; try again later".into()
            }
            ApiError::Internal(_) => "an unexpected error occurred; it has been logged".into(),
        }
    }

    /// The problem-details body of this error.
    pub fn problem(&self) -> (StatusCode, Problem) {
        let code = self.code();
        let (_, status, title) = Self::code_table()
            .iter()
            .find(|(c, _, _)| *c == code)
            .copied()
            .unwrap_or(("internal", StatusCode::INTERNAL_SERVER_ERROR, "Internal error"));
        let errors = match self {
            ApiError::Invalid(errors) => errors.clone(),
            _ => Vec::new(),
        };
        let problem = Problem {
            problem_type: format!("urn:tipline:problem:{code}"),
            title,
            status: status.as_u16(),
            detail: self.detail(),
            code,
            errors,
        };
        (status, problem)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Internal(cause) => tracing::error!(%cause, "internal error"),
            ApiError::Unavailable(cause) => tracing::warn!(%cause, "dependency unavailable"),
            _ => {}
        }
        let (status, problem) = self.problem();
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if matches!(self, ApiError::Unauthorized) {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"tipline\""),
            );
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid(errors) => ApiError::Invalid(errors),
            StoreError::NotFound { what, id } => {
                ApiError::NotFound(format!("{what} {id} not found"))
            }
            StoreError::Forbidden(reason) => ApiError::Forbidden(reason),
            StoreError::Conflict(reason) => ApiError::Conflict(reason),
            e if e.is_retryable() => ApiError::Unavailable(e.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

/// The error responses every API route may give, for the OpenAPI document.
pub struct ErrorResponses;

impl utoipa::IntoResponses for ErrorResponses {
    fn responses() -> std::collections::BTreeMap<
        String,
        utoipa::openapi::RefOr<utoipa::openapi::response::Response>,
    > {
        use utoipa::openapi::response::ResponseBuilder;
        use utoipa::openapi::{ContentBuilder, Ref};
        let mut descriptions: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for (code, status, title) in ApiError::code_table() {
            descriptions
                .entry(status.as_u16().to_string())
                .or_default()
                .push(format!("{title} (`{code}`)"));
        }
        descriptions
            .into_iter()
            .map(|(status, lines)| {
                let content =
                    ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build();
                let response = ResponseBuilder::new()
                    .description(lines.join("; "))
                    .content(PROBLEM_JSON, content);
                (status, response.build().into())
            })
            .collect()
    }
}
