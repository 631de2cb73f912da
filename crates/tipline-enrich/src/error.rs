//! Errors of enrichment: every one names the provider, says what failed, and whether trying
//! again may help (decided where the error is made, so callers never guess).

use std::time::Duration;

use serde::Serialize;

/// What went wrong when asking a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The credentials were refused (HTTP 401/403).
    Unauthorized,
    /// The provider asked us to slow down (HTTP 429).
    RateLimited,
    /// The provider failed (HTTP 5xx).
    Upstream,
    /// No answer within the timeout.
    Timeout,
    /// The connection failed (refused, reset, DNS).
    Network,
    /// The answer could not be understood (malformed JSON, unexpected shape, too large).
    Malformed,
    /// The provider rejected the request (another HTTP 4xx).
    Rejected,
    /// The value is not something this provider enriches.
    Unsupported,
    /// The provider is not configured or switched off.
    Disabled,
    /// No provider of this name exists.
    UnknownProvider,
}

impl FailureKind {
    /// Whether the same request may succeed later.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            FailureKind::RateLimited
                | FailureKind::Upstream
                | FailureKind::Timeout
                | FailureKind::Network
        )
    }

    /// A short lower-case description.
    pub fn describe(self) -> &'static str {
        match self {
            FailureKind::Unauthorized => "credentials refused",
            FailureKind::RateLimited => "rate limited",
            FailureKind::Upstream => "provider error",
            FailureKind::Timeout => "timed out",
            FailureKind::Network => "connection failed",
            FailureKind::Malformed => "malformed response",
            FailureKind::Rejected => "request rejected",
            FailureKind::Unsupported => "unsupported value",
            FailureKind::Disabled => "disabled",
            FailureKind::UnknownProvider => "unknown provider",
        }
    }
}

/// A failure of one attempt, as a provider reports it to the framework.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderError {
    /// What kind of failure.
    pub kind: FailureKind,
    /// Details (never a credential: providers scrub their secrets before reporting).
    pub detail: String,
    /// How long the provider asked us to wait (`Retry-After`), if it said.
    pub retry_after: Option<Duration>,
}

impl ProviderError {
    /// A failure of `kind` with `detail`.
    pub fn new(kind: FailureKind, detail: impl Into<String>) -> ProviderError {
        ProviderError { kind, detail: detail.into(), retry_after: None }
    }

    /// The answer could not be understood.
    pub fn malformed(detail: impl Into<String>) -> ProviderError {
        ProviderError::new(FailureKind::Malformed, detail)
    }
}

/// An enrichment that failed, after the framework's retries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, utoipa::ToSchema)]
#[error("{provider}: {}: {detail} ({})", .kind.describe(), if *.retryable { "retryable" } else { "permanent" })]
pub struct EnrichError {
    /// The provider that failed.
    pub provider: String,
    /// What kind of failure.
    pub kind: FailureKind,
    /// What failed, in words.
    pub detail: String,
    /// Whether asking again later may succeed.
    pub retryable: bool,
    /// How many attempts were made.
    pub attempts: u32,
}

impl EnrichError {
    /// Wrap a provider's failure after `attempts` attempts.
    pub fn from_provider(provider: &str, error: ProviderError, attempts: u32) -> EnrichError {
        EnrichError {
            provider: provider.to_string(),
            kind: error.kind,
            retryable: error.kind.is_retryable(),
            detail: error.detail,
            attempts,
        }
    }

    /// A failure before any attempt (disabled, unsupported value, unknown provider).
    pub fn before_attempt(
        provider: &str,
        kind: FailureKind,
        detail: impl Into<String>,
    ) -> EnrichError {
        EnrichError {
            provider: provider.to_string(),
            kind,
            detail: detail.into(),
            retryable: false,
            attempts: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_provider_failure_and_retryability() {
        let error = EnrichError::from_provider(
            "shodan",
            ProviderError::new(FailureKind::RateLimited, "HTTP 429 after 3 attempts"),
            3,
        );
        assert_eq!(
            error.to_string(),
            "shodan: rate limited: HTTP 429 after 3 attempts (retryable)"
        );
        let error =
            EnrichError::before_attempt("censys", FailureKind::Disabled, "no token configured");
        assert_eq!(error.to_string(), "censys: disabled: no token configured (permanent)");
    }
}
