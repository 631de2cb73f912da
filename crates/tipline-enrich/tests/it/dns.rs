//! DNS and DNSBL against a DNS server started by the test (real DNS over UDP on
//! 127.0.0.1).

use std::collections::BTreeMap;

use serde_json::json;
use tipline_enrich::{EnrichConfig, LookupOptions, Subject};

use crate::dns_server::{DnsServer, Zone};
use crate::support::{enricher, normalized, nothing_enabled};

async fn server() -> DnsServer {
    let mut zone = Zone::default();
    zone.a("www.example.test", "192.0.2.80")
        .aaaa("www.example.test", "2001:db8::80")
        .mx("www.example.test", 10, "mail.example.test")
        .ns("www.example.test", "ns1.example.test")
        .ptr("80.2.0.192.in-addr.arpa", "www.example.test")
        // 127.0.0.2, the test address every DNSBL lists, with two return codes and a reason.
        .a("2.0.0.127.zen.spamhaus.org", "127.0.0.2")
        .a("2.0.0.127.zen.spamhaus.org", "127.0.0.4")
        .txt("2.0.0.127.zen.spamhaus.org", "https://www.spamhaus.org/query/ip/127.0.0.2")
        .a("2.0.0.127.bl.example.test", "127.0.0.3")
        // The zone refuses to answer through this resolver.
        .a("50.2.0.192.zen.spamhaus.org", "127.255.255.254")
        // IPv6: nibbles of 2001:db8::1.
        .a(
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zen.spamhaus.org",
            "127.0.0.3",
        );
    DnsServer::start(zone).await
}

fn config(server: &DnsServer) -> EnrichConfig {
    let mut config = nothing_enabled();
    config.dns.enabled = true;
    config.dns.nameserver = Some(server.addr.to_string());
    config.dnsbl.enabled = true;
    config.dnsbl.zones = vec!["zen.spamhaus.org".into(), "bl.example.test".into()];
    config.dnsbl.codes = BTreeMap::from([(
        "bl.example.test".to_string(),
        BTreeMap::from([("127.0.0.3".to_string(), "listed for scanning".to_string())]),
    )]);
    config
}

#[tokio::test]
async fn forward_and_reverse_resolution() {
    let server = server().await;
    let enricher = enricher(&config(&server), None);
    let lookup = |value: &'static str| normalized(&enricher, "dns", value);
    assert_eq!(
        lookup("www.example.test").await,
        json!({
            "a": ["192.0.2.80"],
            "aaaa": ["2001:db8::80"],
            "mx": ["10 mail.example.test"],
            "ns": ["ns1.example.test"],
            "exists": true
        })
    );
    assert_eq!(lookup("192.0.2.80").await, json!({"ptr": ["www.example.test"], "exists": true}));
    assert_eq!(lookup("nothing.example.test").await, json!({"exists": false}));
    assert!(server.queries() >= 7);
}

#[tokio::test]
async fn dnsbl_listing_codes_and_reasons() {
    let server = server().await;
    let enricher = enricher(&config(&server), None);
    let lookup = |value: &'static str| normalized(&enricher, "dnsbl", value);
    assert_eq!(
        lookup("127.0.0.2").await,
        json!({
            "listed": true,
            "listed_in": ["zen.spamhaus.org", "bl.example.test"],
            "zones": [
                {
                    "zone": "zen.spamhaus.org",
                    "query": "2.0.0.127.zen.spamhaus.org",
                    "listed": true,
                    "codes": [
                        {"code": "127.0.0.2", "meaning": "SBL: Spamhaus SBL data (spam source or operation)"},
                        {"code": "127.0.0.4", "meaning": "XBL: exploited host (CBL data)"}
                    ],
                    "reason": "https://www.spamhaus.org/query/ip/127.0.0.2"
                },
                {
                    "zone": "bl.example.test",
                    "query": "2.0.0.127.bl.example.test",
                    "listed": true,
                    "codes": [{"code": "127.0.0.3", "meaning": "listed for scanning"}]
                }
            ]
        })
    );
    let clean = lookup("192.0.2.99").await;
    assert_eq!((clean["listed"].clone(), clean["listed_in"].clone()), (json!(false), json!([])));
    assert_eq!(
        clean["zones"][0],
        json!({"zone": "zen.spamhaus.org", "query": "99.2.0.192.zen.spamhaus.org", "listed": false})
    );

    let refused = lookup("192.0.2.50").await;
    assert_eq!(refused["listed"], false);
    assert_eq!(
        refused["zones"][0]["error"],
        "127.255.255.254 query through a public or open resolver refused"
    );

    let v6 = lookup("2001:db8::1").await;
    assert_eq!(v6["listed_in"], json!(["zen.spamhaus.org"]));
    assert_eq!(
        v6["zones"][0]["codes"],
        json!([{"code": "127.0.0.3", "meaning": "SBL CSS: Spamhaus CSS data (snowshoe spam)"}])
    );
}

#[tokio::test]
async fn an_unreachable_nameserver_is_a_retryable_error() {
    // A bound socket that never answers.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut config = nothing_enabled();
    config.dns.enabled = true;
    config.dns.nameserver = Some(silent.local_addr().unwrap().to_string());
    config.dns.timeout_secs = Some(1);
    config.dns.max_retries = Some(0);
    let error = enricher(&config, None)
        .lookup("dns", &Subject::parse("192.0.2.80").unwrap(), LookupOptions::default())
        .await
        .unwrap_err();
    assert!(error.retryable, "{error}");
    assert!(error.to_string().starts_with("dns: timed out: "), "{error}");
}
