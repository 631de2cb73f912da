//! `tipline enrich` as a user runs it: providers configured by environment variables,
//! Shodan answered by a local server, GeoIP from the MaxMind test databases, answers cached
//! in the installation's database between runs.

use std::sync::Arc;

use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::Tipline;

fn testdata(relative: &str) -> String {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/enrichment")
        .join(relative);
    path.canonicalize().unwrap().display().to_string()
}

/// An installation whose network providers are off (no lookups leave the machine) and whose
/// GeoIP databases are the test ones.
fn installation() -> Tipline {
    let (mut tipline, _) = Tipline::initialized();
    tipline.set_env("TIPLINE_RDAP_ENABLED", "false");
    tipline.set_env("TIPLINE_DNS_ENABLED", "false");
    tipline.set_env("TIPLINE_DNSBL_ENABLED", "false");
    tipline.set_env("TIPLINE_GEOIP_CITY_DB", &testdata("geoip/GeoIP2-City-Test.mmdb"));
    tipline.set_env("TIPLINE_GEOIP_ASN_DB", &testdata("geoip/GeoLite2-ASN-Test.mmdb"));
    tipline
}

#[test]
fn a_readable_summary_per_provider() {
    let tipline = installation();
    let out = tipline.ok(&["enrich", "214.78.120[.]1"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "214.78.120.1 (ip)");
    assert_eq!(lines[1].split_whitespace().collect::<Vec<_>>(), ["PROVIDER", "STATUS", "SUMMARY"]);
    let row = |name: &str| {
        lines
            .iter()
            .find(|l| l.starts_with(name))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap()
    };
    assert_eq!(row("censys"), "censys disabled no token configured");
    assert_eq!(
        row("geoip"),
        "geoip fetched US United States San Diego; ±100 km; AS721 DoD Network Information Center"
    );
    assert_eq!(row("shodan"), "shodan disabled no api_key configured");
    assert_eq!(row("rdap"), "rdap disabled enabled = false");

    let report = tipline.json(&["enrich", "214.78.120.1", "--provider", "geoip"]);
    assert_eq!(report["results"].as_array().unwrap().len(), 1);
    assert_eq!(report["results"][0]["enrichment"]["normalized"]["city"], "San Diego");

    let error = tipline.fails(&["enrich", "http://x.example/a"]);
    assert_eq!(
        error.trim(),
        "error: invalid value: `http://x.example/a` is of kind url; only IP addresses and domains can be enriched"
    );
    let error = tipline.fails(&["enrich", "192.0.2.1", "--provider", "whois"]);
    assert_eq!(
        error.trim(),
        "error: invalid provider: unknown provider `whois`; known: censys, dns, dnsbl, geoip, rdap, shodan"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shodan_by_environment_variables_with_the_database_cache() {
    let server = MockServer::start().await;
    let body = std::fs::read_to_string(testdata("shodan/192.0.2.3-history.json")).unwrap();
    Mock::given(method("GET"))
        .and(path("/shodan/host/192.0.2.3"))
        .and(query_param("key", "cli-key-123"))
        .respond_with(ResponseTemplate::new(200).set_body_string(body))
        .mount(&server)
        .await;
    let mut tipline = installation();
    tipline.set_env("TIPLINE_SHODAN_API_KEY", "cli-key-123");
    tipline.set_env("TIPLINE_SHODAN_BASE_URL", &server.uri());
    let tipline = Arc::new(tipline);

    let runner = tipline.clone();
    let first = tokio::task::spawn_blocking(move || {
        runner.json(&["enrich", "192.0.2.3", "--provider", "shodan"])
    })
    .await
    .unwrap();
    let result = &first["results"][0];
    assert_eq!(result["source"], "upstream");
    let record = &result["enrichment"]["normalized"];
    assert_eq!(record["device"]["manufacturer"], "MikroTik");
    assert_eq!(record["history"][0]["port"], 23);

    let runner = tipline.clone();
    let text = tokio::task::spawn_blocking(move || {
        runner.ok(&["enrich", "192.0.2.3", "--provider", "shodan"])
    })
    .await
    .unwrap();
    let row = text
        .lines()
        .find(|l| l.starts_with("shodan"))
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(row.starts_with("shodan cached "), "{row}");
    assert!(row.contains("services: 22/tcp MikroTik RouterOS sshd, 80/tcp MikroTik router config httpd; 2 past observations; device MikroTik RouterOS (router, confidence 85); 1 CVEs; org Example Energy AB; AS64500"), "{row}");
    assert!(!text.contains("cli-key-123"));
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "the second run used the database cache"
    );
}
