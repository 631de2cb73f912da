//! The one way tipline's enrichment talks HTTP: a shared client builder (timeouts, response
//! size cap, redirect policy, user agent) and the mapping of HTTP outcomes to
//! [`ProviderError`]s with `Retry-After` honoured.
//!
//! Every HTTP provider gets its client from [`HttpSettings::client`]; nothing else in the
//! crate builds a `reqwest::Client`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Client, RequestBuilder, StatusCode, redirect};

use crate::error::{FailureKind, ProviderError};
use crate::secret::Secret;

/// Settings of the shared HTTP client.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Whole-request timeout (connect, send, read the body).
    pub timeout: Duration,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Largest response body read; larger ones are a `malformed` error.
    pub max_body_bytes: usize,
    /// Most redirects followed (RDAP registries redirect between each other).
    pub max_redirects: usize,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            timeout: Duration::from_secs(20),
            connect_timeout: Duration::from_secs(5),
            max_body_bytes: 8 * 1024 * 1024,
            max_redirects: 5,
        }
    }
}

impl HttpSettings {
    /// Build a client with these settings. Installs the ring TLS provider if none is.
    pub fn client(&self) -> Result<HttpClient, String> {
        // reqwest is built without a crypto provider of its own (one provider in the graph).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let max_redirects = self.max_redirects;
        let client = Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .user_agent(concat!("tipline/", env!("CARGO_PKG_VERSION")))
            .redirect(redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() >= max_redirects {
                    attempt.error("too many redirects")
                } else {
                    attempt.follow()
                }
            }))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(HttpClient { client, max_body_bytes: self.max_body_bytes })
    }
}

/// A shared HTTP client with a response size cap.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: Client,
    max_body_bytes: usize,
}

/// `base` with `query` appended, percent-encoded.
pub fn with_query(base: &str, query: &[(&str, &str)]) -> Result<String, ProviderError> {
    let mut url = url::Url::parse(base).map_err(|e| {
        ProviderError::new(FailureKind::Rejected, format!("invalid URL {base}: {e}"))
    })?;
    if !query.is_empty() {
        let mut pairs = url.query_pairs_mut();
        for (key, value) in query {
            pairs.append_pair(key, value);
        }
    }
    Ok(url.into())
}

/// A response read completely (within the size cap).
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// Its status.
    pub status: StatusCode,
    /// Its headers.
    pub headers: HeaderMap,
    /// Its body as text (lossy UTF-8).
    pub body: String,
}

impl HttpClient {
    /// Start a GET request.
    pub fn get(&self, url: &str) -> RequestBuilder {
        self.client.get(url)
    }

    /// Send `request` and read the body. Transport failures become `timeout` or `network`
    /// errors whose text never includes the URL (it may carry a key) or `secret`.
    pub async fn send(
        &self,
        request: RequestBuilder,
        secret: Option<&Secret>,
    ) -> Result<HttpResponse, ProviderError> {
        let scrub = |text: String| match secret {
            Some(secret) => secret.scrub(&text),
            None => text,
        };
        let mut response = request.send().await.map_err(|e| transport_error(e, &scrub))?;
        let status = response.status();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > self.max_body_bytes {
                        return Err(ProviderError::malformed(format!(
                            "response body larger than {} bytes",
                            self.max_body_bytes
                        )));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return Err(transport_error(e, &scrub)),
            }
        }
        Ok(HttpResponse { status, headers, body: String::from_utf8_lossy(&body).into_owned() })
    }
}

fn transport_error(error: reqwest::Error, scrub: &dyn Fn(String) -> String) -> ProviderError {
    let kind = if error.is_timeout() { FailureKind::Timeout } else { FailureKind::Network };
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    ProviderError::new(kind, scrub(text))
}

impl HttpResponse {
    /// The error this response stands for, if its status is not a success: 401/403
    /// `unauthorized`, 429 `rate_limited` (with `Retry-After`), 5xx `upstream`, other 4xx
    /// `rejected`. `message` extracts the provider's own error text from the body.
    pub fn error_for_status(
        &self,
        message: impl Fn(&str) -> Option<String>,
    ) -> Option<ProviderError> {
        let status = self.status;
        if status.is_success() {
            return None;
        }
        let kind = match status.as_u16() {
            401 | 403 => FailureKind::Unauthorized,
            429 => FailureKind::RateLimited,
            500..=599 => FailureKind::Upstream,
            _ => FailureKind::Rejected,
        };
        let said = message(&self.body).map(|m| format!(": {}", m.trim())).unwrap_or_default();
        let mut error = ProviderError::new(kind, format!("HTTP {}{said}", status.as_u16()));
        error.retry_after = retry_after(&self.headers, Utc::now());
        Some(error)
    }

    /// The body as JSON of type `T`, or a `malformed` error naming the position.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, ProviderError> {
        let mut deserializer = serde_json::Deserializer::from_str(&self.body);
        serde_path_to_error_free(&mut deserializer).map_err(|e| {
            ProviderError::malformed(format!(
                "invalid JSON at line {} column {}: {}",
                e.line(),
                e.column(),
                strip_position(&e.to_string())
            ))
        })
    }
}

fn serde_path_to_error_free<T: serde::de::DeserializeOwned>(
    deserializer: &mut serde_json::Deserializer<serde_json::de::StrRead<'_>>,
) -> Result<T, serde_json::Error> {
    let value = T::deserialize(&mut *deserializer)?;
    deserializer.end()?;
    Ok(value)
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// `Retry-After` as a duration: delay-seconds or an HTTP date (RFC 9110 §10.2.3).
pub fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?.with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        let now = DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z").unwrap().with_timezone(&Utc);
        let check = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
            retry_after(&headers, now)
        };
        assert_eq!(check("7"), Some(Duration::from_secs(7)));
        assert_eq!(check("Wed, 01 Jan 2025 00:00:30 GMT"), Some(Duration::from_secs(30)));
        assert_eq!(check("Tue, 31 Dec 2024 23:00:00 GMT"), Some(Duration::ZERO));
        assert_eq!(check("soon"), None);
    }
}
