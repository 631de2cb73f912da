//! What the framework adds around every provider, checked by counting the requests a local
//! server received: caching (hot and store, on both backends), coalescing, rate limiting,
//! bounded concurrency, disabled providers.

use std::sync::Arc;
use std::time::Duration;

use tipline_enrich::{LookupOptions, Source, Subject};
use tipline_testkit::{TestBackend, TestDb, backend_tests};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{enricher, nothing_enabled, read, shodan_config};

async fn shodan_server(delay: Duration) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/shodan/host/"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(read("shodan/198.51.100.7.json"))
                .set_delay(delay),
        )
        .mount(&server)
        .await;
    server
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

backend_tests!(caches_answer_before_the_provider_is_asked);

async fn caches_answer_before_the_provider_is_asked(backend: TestBackend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let server = shodan_server(Duration::ZERO).await;
    let config = shodan_config(&server.uri());
    let subject = Subject::parse("198.51.100.7").unwrap();

    let first = enricher(&config, Some(store.clone()));
    let answer = first.lookup("shodan", &subject, LookupOptions::default()).await.unwrap();
    assert_eq!(answer.source, Source::Upstream);
    let again = first.lookup("shodan", &subject, LookupOptions::default()).await.unwrap();
    assert_eq!(again.source, Source::HotCache);
    assert_eq!(again.record.normalized, answer.record.normalized);
    assert_eq!(requests(&server).await, 1);

    // Another process (fresh hot cache) finds it in the database, raw response included.
    let second = enricher(&config, Some(store.clone()));
    let cached = second
        .lookup("shodan", &subject, LookupOptions { raw: true, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(cached.source, Source::StoreCache);
    assert_eq!(cached.record.normalized, answer.record.normalized);
    assert_eq!(cached.record.raw.as_ref().unwrap()["ip_str"], "198.51.100.7");
    assert_eq!(requests(&server).await, 1);

    // refresh=true asks again and replaces the stored answer.
    let fresh = second
        .lookup("shodan", &subject, LookupOptions { refresh: true, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(fresh.source, Source::Upstream);
    assert_eq!(requests(&server).await, 2);
    let stored = store.get_enrichment("shodan", "198.51.100.7", false).await.unwrap().unwrap();
    assert_eq!(stored.fetched_at, fresh.record.fetched_at);

    let counters = second.statuses().into_iter().find(|s| s.name == "shodan").unwrap().counters;
    assert_eq!(
        (counters.lookups, counters.store_cache_hits, counters.hot_cache_hits, counters.calls),
        (2, 1, 0, 1)
    );
}

#[tokio::test]
async fn identical_lookups_in_flight_make_one_call() {
    let server = shodan_server(Duration::from_millis(300)).await;
    let enricher = Arc::new(enricher(&shodan_config(&server.uri()), None));
    let subject = Subject::parse("198.51.100.7").unwrap();
    let lookups: Vec<_> = (0..10)
        .map(|_| {
            let enricher = enricher.clone();
            let subject = subject.clone();
            tokio::spawn(async move {
                enricher.lookup("shodan", &subject, LookupOptions::default()).await
            })
        })
        .collect();
    let mut coalesced = 0;
    for lookup in lookups {
        let answer = lookup.await.unwrap().unwrap();
        assert_eq!(answer.record.normalized["ip"], "198.51.100.7");
        coalesced += usize::from(answer.coalesced);
    }
    assert_eq!(requests(&server).await, 1);
    assert_eq!(coalesced, 9);
    let counters = enricher.statuses().into_iter().find(|s| s.name == "shodan").unwrap().counters;
    assert_eq!((counters.lookups, counters.calls, counters.coalesced), (10, 1, 9));
}

#[tokio::test]
async fn the_rate_limit_spaces_calls() {
    let server = shodan_server(Duration::ZERO).await;
    let mut config = shodan_config(&server.uri());
    config.shodan.requests_per_second = Some(4.0);
    config.shodan.burst = Some(1);
    config.shodan.max_concurrency = Some(8);
    let enricher = Arc::new(enricher(&config, None));
    let lookups: Vec<_> = (1..=5)
        .map(|i| {
            let enricher = enricher.clone();
            tokio::spawn(async move {
                let subject = Subject::parse(&format!("198.51.100.{i}")).unwrap();
                enricher.lookup("shodan", &subject, LookupOptions::default()).await
            })
        })
        .collect();
    // One call at once, then one every 250 ms: by 400 ms at most two have gone out.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let early = requests(&server).await;
    assert!((1..=2).contains(&early), "{early} requests in the first 400 ms");
    for lookup in lookups {
        lookup.await.unwrap().unwrap();
    }
    assert_eq!(requests(&server).await, 5);
}

#[tokio::test]
async fn concurrency_is_bounded() {
    let server = shodan_server(Duration::from_millis(400)).await;
    let mut config = shodan_config(&server.uri());
    config.shodan.max_concurrency = Some(2);
    config.shodan.timeout_secs = Some(5);
    let enricher = Arc::new(enricher(&config, None));
    let lookups: Vec<_> = (1..=4)
        .map(|i| {
            let enricher = enricher.clone();
            tokio::spawn(async move {
                let subject = Subject::parse(&format!("198.51.100.{i}")).unwrap();
                enricher.lookup("shodan", &subject, LookupOptions::default()).await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(requests(&server).await, 2, "two in flight while the first two are slow");
    for lookup in lookups {
        lookup.await.unwrap().unwrap();
    }
    assert_eq!(requests(&server).await, 4);
}

#[tokio::test]
async fn providers_without_credentials_are_disabled() {
    let mut config = nothing_enabled();
    config.shodan.enabled = true;
    config.censys.enabled = true;
    let enricher = enricher(&config, None);
    let subject = Subject::parse("192.0.2.1").unwrap();
    let error = enricher.lookup("shodan", &subject, LookupOptions::default()).await.unwrap_err();
    assert_eq!(error.to_string(), "shodan: disabled: no api_key configured (permanent)");
    let statuses = serde_json::to_value(enricher.statuses()).unwrap();
    let censys = statuses.as_array().unwrap().iter().find(|s| s["name"] == "censys").unwrap();
    assert_eq!(censys["enabled"], false);
    assert_eq!(censys["disabled_reason"], "no token configured");
    let error = enricher.lookup("whois", &subject, LookupOptions::default()).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "whois: unknown provider: no provider named `whois`; known: censys, dns, dnsbl, geoip, rdap, shodan (permanent)"
    );
    assert!(enricher.providers_for(&subject).is_empty());
}
