//! Censys Platform API v3 (OWN responses in the documented shape) and the legacy Search
//! API v2 (recorded responses from the Censys SDK tests).

use serde_json::json;
use tipline_enrich::providers::censys::CensysApi;
use tipline_enrich::{EnrichConfig, LookupOptions, Secret, Subject};
use wiremock::matchers::{basic_auth, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::fast;
use crate::http_compliance::{HttpCase, check};
use crate::support::{enricher, nothing_enabled, read};

fn v3_config(base_url: &str) -> EnrichConfig {
    let mut config = nothing_enabled();
    config.censys.enabled = true;
    config.censys.token = Some(Secret::new("censys-pat"));
    config.censys.organization_id = Some("11111111-2222-3333-4444-555555555555".into());
    config.censys.base_url = Some(base_url.into());
    config.censys.timeline = false;
    fast!(config.censys);
    config
}

fn v2_config(base_url: &str) -> EnrichConfig {
    let mut config = nothing_enabled();
    config.censys.enabled = true;
    config.censys.api = CensysApi::V2;
    config.censys.api_id = Some(Secret::new("censys-id"));
    config.censys.api_secret = Some(Secret::new("censys-secret"));
    config.censys.base_url = Some(base_url.into());
    fast!(config.censys);
    config
}

#[tokio::test]
async fn v3_host_with_timeline_and_device() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v3/global/asset/host/192.0.2.10"))
        .and(header("authorization", "Bearer censys-pat"))
        .and(query_param("organization_id", "11111111-2222-3333-4444-555555555555"))
        .respond_with(ResponseTemplate::new(200).set_body_string(read("censys-v3/192.0.2.10.json")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v3/global/asset/host/192.0.2.10/timeline"))
        .and(header("authorization", "Bearer censys-pat"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(read("censys-v3/192.0.2.10-timeline.json")),
        )
        .mount(&server)
        .await;
    let mut config = v3_config(&server.uri());
    config.censys.timeline = true;
    let enricher = enricher(&config, None);
    let answer = enricher
        .lookup(
            "censys",
            &Subject::parse("192.0.2.10").unwrap(),
            LookupOptions { raw: true, ..Default::default() },
        )
        .await
        .unwrap();
    let n = &answer.record.normalized;
    assert_eq!(n["found"], true);
    assert_eq!(n["ports"], json!([22, 443]));
    assert_eq!(n["asn"], 64502);
    assert_eq!(n["as_name"], "EXAMPLE-ISP");
    assert_eq!(n["org"], "Example ISP GmbH");
    assert_eq!(n["bgp_prefix"], "192.0.2.0/24");
    assert_eq!(n["os"], "Fortinet FortiOS 7.0.12");
    assert_eq!(n["hostnames"], json!(["fw.example.com", "vpn.example.com"]));
    assert_eq!(n["tags"], json!(["login-page", "remote-access"]));
    assert_eq!(n["vulns"], json!(["CVE-2024-21762"]));
    assert_eq!(
        n["location"],
        json!({"country_code": "DE", "country": "Germany", "city": "Berlin", "latitude": 52.52, "longitude": 13.405})
    );
    let https = &n["services"][1];
    assert_eq!(
        (https["port"].clone(), https["transport"].clone(), https["protocol"].clone()),
        (json!(443), json!("tcp"), json!("http"))
    );
    assert_eq!(
        (https["product"].clone(), https["version"].clone()),
        (json!("FortiOS"), json!("7.0.12"))
    );
    assert_eq!(https["software"][0]["vendor"], "Fortinet");
    let past: Vec<(u64, &str)> = n["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["port"].as_u64().unwrap(), s["timestamp"].as_str().unwrap()))
        .collect();
    assert_eq!(past, [(23, "2026-09-02T12:00:00Z"), (8443, "2026-08-15T06:30:00Z")]);
    assert_eq!(n["history"][0]["protocol"], "telnet");
    let device = &n["device"];
    assert_eq!(device["manufacturer"], "Fortinet");
    assert_eq!(device["model"], "FortiGate-60F");
    assert_eq!(device["product"], "FortiOS");
    assert_eq!(device["version"], "7.0.12");
    assert_eq!(device["cpe"], "cpe:2.3:o:fortinet:fortios:7.0.12:*:*:*:*:*:*:*");
    assert_eq!(device["device_type"], "firewall");
    assert_eq!(device["confidence"], 90);
    // The raw record keeps both responses as received.
    let raw = answer.record.raw.as_ref().unwrap();
    assert_eq!(raw["host"]["result"]["resource"]["ip"], "192.0.2.10");
    assert_eq!(raw["timeline"]["result"]["scanned_to"], "2026-10-30T10:00:00Z");
}

#[tokio::test]
async fn v3_at_time_and_unknown_host() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v3/global/asset/host/203.0.113.5"))
        .and(query_param("at_time", "2026-01-01T00:00:00Z"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_string(r#"{"title":"Not Found","status":404,"detail":"host not found"}"#),
        )
        .mount(&server)
        .await;
    let mut config = v3_config(&server.uri());
    config.censys.at_time = Some("2026-01-01T00:00:00Z".into());
    let answer = enricher(&config, None)
        .lookup("censys", &Subject::parse("203.0.113.5").unwrap(), LookupOptions::default())
        .await
        .unwrap();
    assert_eq!(answer.record.normalized["found"], false);
    assert_eq!(answer.record.normalized["ip"], "203.0.113.5");
}

#[tokio::test]
async fn v3_failure_modes() {
    check(HttpCase {
        provider: "censys",
        subject: "192.0.2.10",
        path: "/v3/global/asset/host/192.0.2.10",
        ok_body: read("censys-v3/192.0.2.10.json"),
        unauthorized: Some((read("censys-v3/error-401.json"), "censys: credentials refused: HTTP 401: invalid or expired personal access token (permanent)")),
        rate_limited: (r#"{"title":"Too Many Requests","status":429,"detail":"rate limit exceeded"}"#.into(), "rate limit exceeded"),
        malformed: "censys: malformed response: invalid JSON at line 1 column 9: EOF while parsing a value (permanent)",
        configure: v3_config,
        prepare: None,
    })
    .await;
}

#[tokio::test]
async fn v2_recorded_host() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/hosts/8.8.8.8"))
        .and(basic_auth("censys-id", "censys-secret"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(read("censys-v2/hosts_view_8.8.8.8.json")),
        )
        .mount(&server)
        .await;
    let answer = enricher(&v2_config(&server.uri()), None)
        .lookup("censys", &Subject::parse("8.8.8.8").unwrap(), LookupOptions::default())
        .await
        .unwrap();
    let n = &answer.record.normalized;
    assert_eq!(n["found"], true);
    assert_eq!(n["ip"], "8.8.8.8");
    assert_eq!(n["last_update"], "2021-04-01T14:10:10.712Z");
    assert_eq!(n["ports"], json!([53]));
    let dns = &n["services"][0];
    assert_eq!(
        (dns["port"].clone(), dns["transport"].clone(), dns["protocol"].clone()),
        (json!(53), json!("udp"), json!("dns"))
    );
    assert_eq!(dns["timestamp"], "2021-04-01T13:40:03.755876935Z");
    assert_eq!(
        n["location"],
        json!({"country_code": "US", "country": "United States", "latitude": 37.751, "longitude": -97.822})
    );
}

#[tokio::test]
async fn v2_failure_modes() {
    check(HttpCase {
        provider: "censys",
        subject: "8.8.8.8",
        path: "/api/v2/hosts/8.8.8.8",
        ok_body: read("censys-v2/hosts_view_8.8.8.8.json"),
        unauthorized: Some((
            r#"{"code": 401, "status": "Unauthorized", "error": "You must authenticate with a valid API ID and secret."}"#.into(),
            "censys: credentials refused: HTTP 401: You must authenticate with a valid API ID and secret. (permanent)",
        )),
        rate_limited: (read("censys-v2/error_rate_limit.json"), "Rate limit exceeded. See https://search.censys.io/account for rate limit details."),
        malformed: "censys: malformed response: invalid JSON at line 1 column 9: EOF while parsing a value (permanent)",
        configure: v2_config,
        prepare: None,
    })
    .await;
}
