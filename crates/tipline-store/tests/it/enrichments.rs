//! The enrichment cache: put, replace, read by provider and subject, purge.

use chrono::{Duration, Utc};
use serde_json::json;
use tipline_store::EnrichmentRecord;
use tipline_testkit::{TestBackend, TestDb, backend_tests};

backend_tests!(cache_round_trip, purge_removes_only_expired);

fn record(
    provider: &str,
    subject: &str,
    ttl: Duration,
    normalized: serde_json::Value,
) -> EnrichmentRecord {
    let fetched_at = tipline_store::now();
    EnrichmentRecord {
        provider: provider.into(),
        subject: subject.into(),
        fetched_at,
        expires_at: fetched_at + ttl,
        normalized,
        raw: None,
    }
}

async fn cache_round_trip(backend: TestBackend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    assert_eq!(store.get_enrichment("shodan", "192.0.2.1", true).await.unwrap(), None);

    let first = record("shodan", "192.0.2.1", Duration::hours(1), json!({"ports": [22]}));
    store.put_enrichment(&first, r#"{"ports":[22],"data":[]}"#).await.unwrap();
    let got = store.get_enrichment("shodan", "192.0.2.1", true).await.unwrap().unwrap();
    assert_eq!(got.normalized, json!({"ports": [22]}));
    assert_eq!(got.raw, Some(json!({"ports": [22], "data": []})));
    assert_eq!(got.fetched_at, first.fetched_at);
    assert_eq!(got.expires_at, first.expires_at);

    // A second answer replaces the first; a raw response that is not JSON comes back as text.
    let second = record("shodan", "192.0.2.1", Duration::hours(2), json!({"ports": [22, 80]}));
    store.put_enrichment(&second, "not json").await.unwrap();
    let got = store.get_enrichment("shodan", "192.0.2.1", true).await.unwrap().unwrap();
    assert_eq!(got.normalized, json!({"ports": [22, 80]}));
    assert_eq!(got.raw, Some(json!("not json")));
    assert_eq!(got.expires_at, second.expires_at);

    let geo = record("geoip", "192.0.2.1", Duration::hours(1), json!({"country_code": "SE"}));
    store.put_enrichment(&geo, "{}").await.unwrap();
    let other = record("geoip", "192.0.2.2", Duration::hours(1), json!({}));
    store.put_enrichment(&other, "{}").await.unwrap();
    let without_raw = store.get_enrichment("shodan", "192.0.2.1", false).await.unwrap().unwrap();
    assert_eq!((without_raw.raw, without_raw.normalized), (None, json!({"ports": [22, 80]})));
    let all = store.enrichments_of("192.0.2.1").await.unwrap();
    assert!(all.iter().all(|r| r.raw.is_none()));
    let providers: Vec<&str> = all.iter().map(|r| r.provider.as_str()).collect();
    assert_eq!(providers, ["geoip", "shodan"]);
}

async fn purge_removes_only_expired(backend: TestBackend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let stale = record("rdap", "192.0.2.1", Duration::seconds(-10), json!({}));
    let fresh = record("rdap", "192.0.2.2", Duration::hours(1), json!({}));
    store.put_enrichment(&stale, "{}").await.unwrap();
    store.put_enrichment(&fresh, "{}").await.unwrap();
    assert_eq!(store.purge_expired_enrichments(Utc::now()).await.unwrap(), 1);
    assert_eq!(store.get_enrichment("rdap", "192.0.2.1", false).await.unwrap(), None);
    assert!(store.get_enrichment("rdap", "192.0.2.2", false).await.unwrap().is_some());
}
