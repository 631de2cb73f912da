//! Shared setup: test data, a configuration with every provider off, fast retries.

use std::path::PathBuf;

use tipline_enrich::{EnrichConfig, Enricher};
use tipline_store::Store;

/// A file under testdata/enrichment/.
pub fn testdata(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/enrichment").join(relative)
}

/// Its text.
pub fn read(relative: &str) -> String {
    std::fs::read_to_string(testdata(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// Every provider off; the resolver points at a closed local port so nothing leaves.
pub fn nothing_enabled() -> EnrichConfig {
    EnrichConfig::all_disabled()
}

/// The normalized answer of `provider` about `value` (which must succeed).
pub async fn normalized(enricher: &Enricher, provider: &str, value: &str) -> serde_json::Value {
    let subject = tipline_enrich::Subject::parse(value).unwrap();
    let answer =
        enricher.lookup(provider, &subject, tipline_enrich::LookupOptions::default()).await;
    answer.unwrap_or_else(|e| panic!("{provider} {value}: {e}")).record.normalized.clone()
}

/// Fast, unthrottled retries for a provider section (tests of failure modes).
#[macro_export]
macro_rules! fast {
    ($section:expr) => {{
        $section.requests_per_second = Some(0.0);
        $section.retry_base_ms = Some(10);
        $section.max_retry_wait_secs = Some(5);
        $section.timeout_secs = Some(1);
        $section.max_retries = Some(2);
    }};
}

/// An enricher for `config` with an optional store cache.
pub fn enricher(config: &EnrichConfig, store: Option<Store>) -> Enricher {
    Enricher::new(config, store).expect("valid test configuration")
}

/// Shodan configured against `base_url` with key `test-key`.
pub fn shodan_config(base_url: &str) -> EnrichConfig {
    let mut config = nothing_enabled();
    config.shodan.enabled = true;
    config.shodan.api_key = Some(tipline_enrich::Secret::new("test-key"));
    config.shodan.base_url = base_url.to_string();
    fast!(config.shodan);
    config
}
