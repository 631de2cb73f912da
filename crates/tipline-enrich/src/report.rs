//! One value asked of several providers at once: the shape the API and the CLI return.

use serde::Serialize;
use tipline_store::EnrichmentRecord;

use crate::enricher::{Enricher, LookupOptions, Source};
use crate::error::EnrichError;
use crate::subject::Subject;

/// The answers about one value.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EnrichmentReport {
    /// The value as given.
    pub value: String,
    /// The value in canonical form.
    pub subject: String,
    /// `ip` or `domain`.
    pub kind: String,
    /// One result per provider asked, alphabetical.
    pub results: Vec<EnrichmentResult>,
}

/// One provider's result: an answer or an error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EnrichmentResult {
    /// The provider.
    pub provider: String,
    /// `ok` or `error`.
    pub status: &'static str,
    /// Where the answer came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// The answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrichment: Option<EnrichmentRecord>,
    /// Why there is no answer (provider, what failed, whether a retry may help).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<EnrichError>,
}

/// A bad argument: which one (`value`, `provider`) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct BadArgument {
    /// `value` or `provider`.
    pub field: &'static str,
    /// What is wrong.
    pub reason: String,
}

/// Ask `providers` about `value`; when none are named, every provider that enriches the
/// value's kind, disabled ones included (they report why they are disabled). Provider
/// failures are results, not errors; only a bad value or provider name is.
pub async fn enrich_value(
    enricher: &Enricher,
    value: &str,
    providers: &[String],
    options: LookupOptions,
) -> Result<EnrichmentReport, BadArgument> {
    let subject = Subject::parse(value).map_err(|reason| BadArgument { field: "value", reason })?;
    for name in providers {
        if crate::providers::registration(name).is_none() {
            return Err(BadArgument {
                field: "provider",
                reason: format!("unknown provider `{name}`; known: {}", crate::providers::names()),
            });
        }
    }
    let mut names: Vec<String> = if providers.is_empty() {
        crate::providers::PROVIDERS
            .iter()
            .filter(|r| r.subjects.contains(&subject.kind()))
            .map(|r| r.name.to_string())
            .collect()
    } else {
        providers.to_vec()
    };
    names.sort();
    names.dedup();
    let lookups = names.iter().map(|name| enricher.lookup(name, &subject, options));
    let answers = futures::future::join_all(lookups).await;
    let results = names
        .into_iter()
        .zip(answers)
        .map(|(provider, answer)| match answer {
            Ok(answer) => EnrichmentResult {
                provider,
                status: "ok",
                source: Some(answer.source),
                enrichment: Some((*answer.record).clone()),
                error: None,
            },
            Err(error) => EnrichmentResult {
                provider,
                status: "error",
                source: None,
                enrichment: None,
                error: Some(error),
            },
        })
        .collect();
    Ok(EnrichmentReport {
        value: value.to_string(),
        subject: subject.to_string(),
        kind: subject.kind().as_str().to_string(),
        results,
    })
}
