//! RDAP against a local server: the IANA bootstrap (trimmed, OWN) names the registry,
//! which replays recorded ARIN and APNIC responses (from the ipwhois test data).

use serde_json::json;
use tipline_enrich::{EnrichConfig, LookupOptions, Subject};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::fast;
use crate::http_compliance::{HttpCase, check};
use crate::support::{enricher, normalized, nothing_enabled, read};

fn rdap_config(base_url: &str) -> EnrichConfig {
    let mut config = nothing_enabled();
    config.rdap.enabled = true;
    config.rdap.bootstrap_url = format!("{base_url}/bootstrap");
    fast!(config.rdap);
    config
}

fn serve_bootstrap(server: &MockServer) -> futures::future::BoxFuture<'_, ()> {
    Box::pin(async move {
        let body = read("rdap/bootstrap-ipv4.json").replace("http://REGISTRY", &server.uri());
        Mock::given(method("GET"))
            .and(path("/bootstrap/ipv4.json"))
            .respond_with(ResponseTemplate::new(200).set_body_string(body))
            .mount(server)
            .await;
    })
}

#[tokio::test]
async fn the_bootstrap_finds_the_registry_and_the_abuse_contact() {
    let server = MockServer::start().await;
    serve_bootstrap(&server).await;
    Mock::given(method("GET"))
        .and(path("/arin/ip/74.125.225.229"))
        .respond_with(ResponseTemplate::new(200).set_body_string(read("rdap/74.125.225.229.json")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/apnic/ip/210.107.73.73"))
        .respond_with(ResponseTemplate::new(200).set_body_string(read("rdap/210.107.73.73.json")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/arin/ip/74.1.2.3"))
        .respond_with(ResponseTemplate::new(404).set_body_string(read("rdap/error-404.json")))
        .mount(&server)
        .await;
    let enricher = enricher(&rdap_config(&server.uri()), None);
    let lookup = |ip: &'static str| normalized(&enricher, "rdap", ip);

    // ARIN nests the abuse contact inside the registrant organization.
    let arin = lookup("74.125.225.229").await;
    assert_eq!(
        arin,
        json!({
            "found": true,
            "registry": format!("{}/arin/", server.uri()),
            "handle": "NET-74-125-0-0-1",
            "name": "GOOGLE",
            "start_address": "74.125.0.0",
            "end_address": "74.125.255.255",
            "cidrs": ["74.125.0.0/16"],
            "parent_handle": "NET-74-0-0-0-0",
            "registrant": "Google Inc.",
            "registrant_handle": "GOGL",
            "abuse_email": "arin-contact@google.com",
            "abuse_contact": "Google Inc"
        })
    );

    // APNIC lists it at the top level; there is no registrant role.
    let apnic = lookup("210.107.73.73").await;
    assert_eq!(apnic["network_type"], "ALLOCATED PORTABLE");
    assert_eq!(apnic["country"], "KR");
    assert_eq!(apnic["cidrs"], json!(["210.107.0.0/17"]));
    assert_eq!(apnic["abuse_email"], "hostmaster@nic.or.kr");
    assert_eq!(apnic["abuse_contact"], "IRT-KRNIC-KR");
    assert_eq!(apnic.get("registrant"), None);

    // Unknown to the registry: an answer, kept for a day.
    let unknown = lookup("74.1.2.3").await;
    assert_eq!(
        unknown,
        json!({"found": false, "registry": format!("{}/arin/", server.uri()), "cidrs": []})
    );

    // The bootstrap was fetched once for the three IPv4 lookups.
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.iter().filter(|r| r.url.path() == "/bootstrap/ipv4.json").count(), 1);

    // An address no registry covers.
    let error = enricher
        .lookup("rdap", &Subject::parse("192.0.2.1").unwrap(), LookupOptions::default())
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "rdap: request rejected: no RDAP registry covers 192.0.2.1 in the IANA bootstrap (permanent)"
    );
}

#[tokio::test]
async fn base_url_skips_the_bootstrap() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/rdap/ip/74.125.225.229"))
        .respond_with(ResponseTemplate::new(200).set_body_string(read("rdap/74.125.225.229.json")))
        .mount(&server)
        .await;
    let mut config = rdap_config("http://127.0.0.1:9");
    config.rdap.base_url = Some(format!("{}/rdap", server.uri()));
    let answer = enricher(&config, None)
        .lookup("rdap", &Subject::parse("74.125.225.229").unwrap(), LookupOptions::default())
        .await
        .unwrap();
    assert_eq!(answer.record.normalized["abuse_email"], "arin-contact@google.com");
}

#[tokio::test]
async fn failure_modes() {
    check(HttpCase {
        provider: "rdap",
        subject: "74.125.225.229",
        path: "/arin/ip/74.125.225.229",
        ok_body: read("rdap/74.125.225.229.json"),
        unauthorized: None,
        rate_limited: (
            r#"{"errorCode": 429, "title": "Too Many Requests", "description": ["Query rate exceeded."]}"#.into(),
            "Too Many Requests: Query rate exceeded.",
        ),
        malformed: "rdap: malformed response: invalid JSON at line 1 column 9: EOF while parsing a value (permanent)",
        configure: rdap_config,
        prepare: Some(serve_bootstrap),
    })
    .await;
}
