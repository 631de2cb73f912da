//! Shodan against a local server replaying Shodan-shaped responses (OWN, see
//! testdata/PROVENANCE.md).

use serde_json::json;
use tipline_enrich::{LookupOptions, Source, Subject};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::http_compliance::{HttpCase, check};
use crate::support::{enricher, read, shodan_config};

async fn serve(server: &MockServer, ip: &str, status: u16, body: String) {
    Mock::given(method("GET"))
        .and(path(format!("/shodan/host/{ip}")))
        .and(query_param("key", "test-key"))
        .and(query_param("history", "true"))
        .respond_with(ResponseTemplate::new(status).set_body_string(body))
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_normal_host_is_normalized_with_its_device() {
    let server = MockServer::start().await;
    serve(&server, "198.51.100.7", 200, read("shodan/198.51.100.7.json")).await;
    let enricher = enricher(&shodan_config(&server.uri()), None);
    let subject = Subject::parse("198.51.100.7").unwrap();
    let answer = enricher.lookup("shodan", &subject, LookupOptions::default()).await.unwrap();
    assert_eq!(answer.source, Source::Upstream);
    let n = &answer.record.normalized;
    assert_eq!(n["found"], true);
    assert_eq!(n["ip"], "198.51.100.7");
    assert_eq!(n["ports"], json!([443]));
    assert_eq!(n["org"], "Example Water NV");
    assert_eq!(n["isp"], "Example Hosting");
    assert_eq!(n["asn"], 64501);
    assert_eq!(n["os"], "Windows Server 2019");
    assert_eq!(n["hostnames"], json!(["mail.example.org"]));
    assert_eq!(
        n["location"],
        json!({"country_code": "NL", "country": "Netherlands", "latitude": 52.3824, "longitude": 4.8995})
    );
    let service = &n["services"][0];
    assert_eq!(service["port"], 443);
    assert_eq!(service["transport"], "tcp");
    assert_eq!(service["protocol"], "https");
    assert_eq!(service["product"], "Microsoft IIS httpd");
    assert_eq!(service["version"], "10.0");
    assert_eq!(service["http_title"], "Outlook Web App");
    assert_eq!(service["timestamp"], "2026-10-28T11:00:00.000000");
    assert_eq!(
        service["cpe"],
        json!([
            "cpe:2.3:a:microsoft:internet_information_server:10.0",
            "cpe:2.3:o:microsoft:windows"
        ])
    );
    assert_eq!(n["history"], json!([]));
    let device = &n["device"];
    assert_eq!(device["manufacturer"], "Microsoft");
    assert_eq!(device["product"], "Exchange Server");
    assert_eq!(device["device_type"], "server");
    assert_eq!(device["version"], "10.0");
    assert_eq!(device["confidence"], 60);
    let rules: Vec<&str> = device["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["rule"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        ["microsoft-exchange-title", "microsoft-iis-cpe", "microsoft-iis-product", "windows-os"]
    );
}

#[tokio::test]
async fn history_separates_current_from_past_services() {
    let server = MockServer::start().await;
    serve(&server, "192.0.2.3", 200, read("shodan/192.0.2.3-history.json")).await;
    let enricher = enricher(&shodan_config(&server.uri()), None);
    let answer = enricher
        .lookup("shodan", &Subject::parse("192.0.2.3").unwrap(), LookupOptions::default())
        .await
        .unwrap();
    let n = &answer.record.normalized;
    assert_eq!(n["ports"], json!([22, 80]));
    let current: Vec<(u64, &str)> = n["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["port"].as_u64().unwrap(), s["timestamp"].as_str().unwrap()))
        .collect();
    assert_eq!(current, [(22, "2026-10-30T08:12:44.120331"), (80, "2026-10-29T21:03:10.554120")]);
    let past: Vec<(u64, &str, Option<&str>)> = n["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (s["port"].as_u64().unwrap(), s["timestamp"].as_str().unwrap(), s["protocol"].as_str())
        })
        .collect();
    assert_eq!(
        past,
        [
            (23, "2026-09-21T17:55:02.318006", Some("telnet")),
            (80, "2026-09-14T02:41:07.000914", Some("http"))
        ]
    );
    assert_eq!(n["history"][0]["banner"], "MikroTik v6.45.9 (long-term)\r\nLogin:");
    assert_eq!(n["history"][0]["version"], "6.45.9");
    assert_eq!(n["vulns"], json!(["CVE-2019-3977"]));
    assert_eq!(n["tags"], json!(["self-signed"]));
    assert_eq!(n["device_type"], "router");
    assert_eq!(n["device"]["manufacturer"], "MikroTik");
    assert_eq!(n["device"]["product"], "RouterOS");
    assert_eq!(n["device"]["device_type"], "router");
    assert_eq!(n["device"]["cpe"], "cpe:2.3:o:mikrotik:routeros");
    assert_eq!(n["device"]["confidence"], 85);
}

#[tokio::test]
async fn an_unknown_address_is_an_answer_not_an_error() {
    let server = MockServer::start().await;
    serve(&server, "203.0.113.9", 404, read("shodan/error-404.json")).await;
    let enricher = enricher(&shodan_config(&server.uri()), None);
    let answer = enricher
        .lookup("shodan", &Subject::parse("203.0.113.9").unwrap(), LookupOptions::default())
        .await
        .unwrap();
    let n = &answer.record.normalized;
    assert_eq!(
        (n["found"].clone(), n["ip"].clone(), n["ports"].clone()),
        (json!(false), json!("203.0.113.9"), json!([]))
    );
    // Kept for an hour, not the day a found host is kept.
    let ttl = answer.record.expires_at - answer.record.fetched_at;
    assert_eq!(ttl.num_seconds(), 3600);
}

#[tokio::test]
async fn failure_modes() {
    check(HttpCase {
        provider: "shodan",
        subject: "198.51.100.7",
        path: "/shodan/host/198.51.100.7",
        ok_body: read("shodan/198.51.100.7.json"),
        unauthorized: Some((read("shodan/error-401.json"), "shodan: credentials refused: HTTP 401: Invalid API key (permanent)")),
        rate_limited: (read("shodan/error-429.json"), "Request rate limit reached (1/ 1 second). Please wait a second and try again."),
        malformed: "shodan: malformed response: invalid JSON at line 1 column 9: EOF while parsing a value (permanent)",
        configure: shodan_config,
        prepare: None,
    })
    .await;
}
