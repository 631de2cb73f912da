//! Enrichment over HTTP: the enrichments endpoint, the indicator read, the providers list
//! and `/metrics`, with Shodan answered by a local server and GeoIP from a test database.

use reqwest::StatusCode;
use serde_json::json;
use tipline_enrich::{EnrichConfig, Secret};
use tipline_testkit::{TestBackend, backend_tests};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::TestApp;

const KEY: &str = "shodan-key-0f9e8d";

fn testdata(relative: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/enrichment")
        .join(relative)
}

fn config(shodan: &MockServer) -> EnrichConfig {
    let mut config = EnrichConfig::all_disabled();
    config.shodan.enabled = true;
    config.geoip.enabled = true;
    config.shodan.api_key = Some(Secret::new(KEY));
    config.shodan.base_url = shodan.uri();
    config.shodan.requests_per_second = Some(0.0);
    config.geoip.city_db = Some(testdata("geoip/GeoIP2-City-Test.mmdb"));
    config.geoip.asn_db = Some(testdata("geoip/GeoLite2-ASN-Test.mmdb"));
    config
}

async fn shodan() -> MockServer {
    let server = MockServer::start().await;
    let body = std::fs::read_to_string(testdata("shodan/198.51.100.7.json"))
        .unwrap()
        .replace("198.51.100.7", "214.78.120.1");
    Mock::given(method("GET"))
        .and(path("/shodan/host/214.78.120.1"))
        .respond_with(ResponseTemplate::new(200).set_body_string(body))
        .mount(&server)
        .await;
    server
}

backend_tests!(
    enrich_a_value_then_read_it_on_the_indicator,
    errors_and_permissions,
    metrics_count_per_provider
);

async fn enrich_a_value_then_read_it_on_the_indicator(backend: TestBackend) {
    let shodan = shodan().await;
    let app = TestApp::spawn_enriching(backend, config(&shodan)).await;
    let token = app.admin_token.clone();

    let created = app
        .post("/api/v1/indicators", &token, json!({"value": "214.78.120.1", "tlp": "green"}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let id = created.body["id"].as_str().unwrap().to_string();
    // Nothing fetched yet: only the local GeoIP answer shows.
    let read = app.get(&format!("/api/v1/indicators/{id}"), &token).await;
    let providers: Vec<&str> = read.body["enrichments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["provider"].as_str().unwrap())
        .collect();
    assert_eq!(providers, ["geoip"]);

    let reply = app.get("/api/v1/enrichments?value=214.78.120[.]1", &token).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(
        (reply.body["subject"].clone(), reply.body["kind"].clone()),
        (json!("214.78.120.1"), json!("ip"))
    );
    let results = reply.body["results"].as_array().unwrap();
    let names: Vec<&str> = results.iter().map(|r| r["provider"].as_str().unwrap()).collect();
    assert_eq!(names, ["censys", "dns", "dnsbl", "geoip", "rdap", "shodan"]);
    let status: Vec<&str> = results.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(status, ["error", "error", "error", "ok", "error", "ok"]);
    assert_eq!(results[0]["error"]["kind"], "disabled");
    assert_eq!(results[3]["enrichment"]["normalized"]["city"], "San Diego");
    assert_eq!(results[5]["source"], "upstream");
    assert_eq!(results[5]["enrichment"]["normalized"]["device"]["manufacturer"], "Microsoft");
    assert_eq!(results[5]["enrichment"].get("raw"), None);

    let again =
        app.get("/api/v1/enrichments?value=214.78.120.1&provider=shodan&raw=true", &token).await;
    assert_eq!(again.body["results"][0]["source"], "store_cache");
    assert_eq!(again.body["results"][0]["enrichment"]["raw"]["ip_str"], "214.78.120.1");
    assert_eq!(shodan.received_requests().await.unwrap().len(), 1);

    let refreshed = app
        .get("/api/v1/enrichments?value=214.78.120.1&provider=shodan&refresh=true", &token)
        .await;
    assert_eq!(refreshed.body["results"][0]["source"], "upstream");
    assert_eq!(shodan.received_requests().await.unwrap().len(), 2);

    // The indicator read now carries both, without raw responses.
    let read = app.get(&format!("/api/v1/indicators/{id}"), &token).await;
    assert_eq!(read.body["value"], "214.78.120.1");
    let enrichments = read.body["enrichments"].as_array().unwrap();
    let providers: Vec<&str> =
        enrichments.iter().map(|e| e["provider"].as_str().unwrap()).collect();
    assert_eq!(providers, ["geoip", "shodan"]);
    assert_eq!(enrichments[1]["normalized"]["ports"], json!([443]));
    assert!(enrichments.iter().all(|e| e.get("raw").is_none()));

    let statuses = app.get("/api/v1/enrichments/providers", &token).await;
    let shodan_status =
        statuses.body.as_array().unwrap().iter().find(|s| s["name"] == "shodan").unwrap().clone();
    assert_eq!(shodan_status["enabled"], true);
    assert_eq!(shodan_status["counters"]["calls"], 2);
    assert_eq!(shodan_status["counters"]["store_cache_hits"], 1);
    let censys =
        statuses.body.as_array().unwrap().iter().find(|s| s["name"] == "censys").unwrap().clone();
    assert_eq!(censys["disabled_reason"], "enabled = false");
    for body in [&reply.body, &again.body, &statuses.body, &read.body] {
        assert!(!body.to_string().contains(KEY));
    }
}

async fn errors_and_permissions(backend: TestBackend) {
    let shodan = shodan().await;
    let app = TestApp::spawn_enriching(backend, config(&shodan)).await;
    let token = app.admin_token.clone();
    let problem = TestApp::problem(
        &app.get("/api/v1/enrichments?value=http://x.example/a", &token).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(
        problem["errors"],
        json!([{"field": "value", "reason": "`http://x.example/a` is of kind url; only IP addresses and domains can be enriched"}])
    );
    let problem = TestApp::problem(
        &app.get("/api/v1/enrichments?value=192.0.2.1&provider=whois", &token).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(problem["errors"][0]["field"], "provider");

    // A provider failing is a result, not a failed request.
    let reply =
        app.get("/api/v1/enrichments?value=example.com&provider=geoip,censys", &token).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.body["results"][0]["error"],
        json!({
            "provider": "censys", "kind": "disabled", "detail": "enabled = false", "retryable": false, "attempts": 0
        })
    );
    assert_eq!(reply.body["results"][1]["error"]["kind"], "unsupported");

    let org = app.org("Partner", "partner").await;
    let viewer = app.user_token(&org, "viewer@partner.example", "viewer").await;
    let reply = app.get("/api/v1/enrichments?value=214.78.120.1&provider=geoip", &viewer).await;
    assert_eq!(reply.status, StatusCode::OK);
    TestApp::problem(
        &app.get("/api/v1/enrichments?value=214.78.120.1&refresh=true", &viewer).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let unauthenticated =
        app.call(reqwest::Method::GET, "/api/v1/enrichments?value=192.0.2.1", None, None).await;
    TestApp::problem(&unauthenticated, StatusCode::UNAUTHORIZED, "unauthorized");
}

async fn metrics_count_per_provider(backend: TestBackend) {
    let shodan = shodan().await;
    let app = TestApp::spawn_enriching(backend, config(&shodan)).await;
    let token = app.admin_token.clone();
    for _ in 0..3 {
        app.get("/api/v1/enrichments?value=214.78.120.1&provider=shodan", &token).await;
    }
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    let line =
        |name: &str| metrics.lines().find(|l| l.starts_with(name)).unwrap_or_default().to_string();
    assert_eq!(
        line("tipline_enrich_lookups_total{provider=\"shodan\"}"),
        "tipline_enrich_lookups_total{provider=\"shodan\"} 3"
    );
    assert_eq!(
        line("tipline_enrich_calls_total{provider=\"shodan\"}"),
        "tipline_enrich_calls_total{provider=\"shodan\"} 1"
    );
    assert_eq!(
        line("tipline_enrich_hot_cache_hits_total{provider=\"shodan\"}"),
        "tipline_enrich_hot_cache_hits_total{provider=\"shodan\"} 2"
    );
    assert_eq!(
        line("tipline_enrich_provider_enabled{provider=\"censys\"}"),
        "tipline_enrich_provider_enabled{provider=\"censys\"} 0"
    );
    assert!(metrics.trim_end().ends_with("# EOF"));
    assert!(
        !metrics.contains("214.78.120.1") && !metrics.contains(KEY),
        "no values or keys in metrics"
    );
}
