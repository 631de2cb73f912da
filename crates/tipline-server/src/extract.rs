//! Request extractors whose failures are problem+json: JSON bodies and query strings with
//! the failing field named, and the bearer-token principal.

use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use tipline_model::Principal;
use tipline_model::validate::FieldError;

use crate::AppState;
use crate::error::ApiError;

/// A JSON body, deserialized with unknown fields rejected and every error naming the field.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = read_body(req, state).await?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Whether the request's media type is JSON (`application/json` or `…+json`).
pub fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json" || mime.ends_with("+json")
        })
        .unwrap_or(false)
}

/// The whole request body, within the configured size limit (413 beyond it).
pub async fn read_body<S>(req: Request, state: &S) -> Result<Bytes, ApiError>
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    let limit = AppState::from_ref(state).settings.max_body_bytes;
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(limit)
        } else {
            ApiError::BadRequest(format!("cannot read the request body: {rejection}"))
        }
    })
}

/// Parse a JSON document: syntax errors → 400 with line and column, data errors → 422
/// naming the field path.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value: T = match serde_path_to_error::deserialize(&mut deserializer) {
        Ok(value) => value,
        Err(e) => return Err(json_error(&e)),
    };
    deserializer.end().map_err(|e| {
        ApiError::MalformedJson(format!(
            "trailing data after the JSON document at line {} column {}",
            e.line(),
            e.column()
        ))
    })?;
    Ok(value)
}

fn json_error(e: &serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let inner = e.inner();
    match inner.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            ApiError::MalformedJson(format!(
                "malformed JSON at line {} column {}: {}",
                inner.line(),
                inner.column(),
                strip_position(&inner.to_string())
            ))
        }
        serde_json::error::Category::Data | serde_json::error::Category::Io => {
            let path = e.path().to_string();
            let field = if path == "." { String::new() } else { path };
            ApiError::Invalid(vec![field_error(field, &strip_position(&inner.to_string()))])
        }
    }
}

/// A serde message as a field error; an unknown field's name becomes the field.
fn field_error(path: String, message: &str) -> FieldError {
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((name, _)) = rest.split_once('`')
    {
        let field = if path.is_empty() || path == name || path.ends_with(&format!(".{name}")) {
            if path.is_empty() { name.to_string() } else { path }
        } else {
            format!("{path}.{name}")
        };
        return FieldError::new(field, "unknown field");
    }
    if let Some(rest) = message.strip_prefix("missing field `")
        && let Some((name, _)) = rest.split_once('`')
    {
        let field = if path.is_empty() { name.to_string() } else { format!("{path}.{name}") };
        return FieldError::new(field, "required");
    }
    FieldError::new(if path.is_empty() { "body".to_string() } else { path }, message)
}

/// serde_json appends " at line L column C"; the position is reported separately.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// A query string, deserialized with unknown parameters rejected.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer).map(ApiQuery).map_err(|e| {
            let path = e.path().to_string();
            let error =
                field_error(if path == "." { String::new() } else { path }, &e.inner().to_string());
            ApiError::Invalid(vec![FieldError::new(
                if error.field == "body" { "query".to_string() } else { error.field },
                error.reason,
            )])
        })
    }
}

/// The principal of the request's bearer token; 401 without a valid one.
pub struct Auth(pub Principal);

impl<S> FromRequestParts<S> for Auth
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string())
            })
            .ok_or(ApiError::Unauthorized)?;
        match state.store.authenticate(&token).await? {
            Some(principal) => Ok(Auth(principal)),
            None => Err(ApiError::Unauthorized),
        }
    }
}
