//! GeoIP with the MaxMind test databases (MIT) and a real DB-IP Lite country database in
//! the ip-location-db layout (CC-BY-4.0).

use std::time::Duration;

use serde_json::json;
use tipline_enrich::providers::geoip::{GeoIp, GeoipConfig};
use tipline_enrich::{LookupOptions, Subject};

use crate::support::{enricher, normalized, nothing_enabled, testdata};

#[tokio::test]
async fn city_and_asn_databases() {
    let mut config = nothing_enabled();
    config.geoip.enabled = true;
    config.geoip.city_db = Some(testdata("geoip/GeoIP2-City-Test.mmdb"));
    config.geoip.asn_db = Some(testdata("geoip/GeoLite2-ASN-Test.mmdb"));
    let enricher = enricher(&config, None);
    let lookup = |ip: &'static str| normalized(&enricher, "geoip", ip);
    assert_eq!(
        lookup("214.78.120.1").await,
        json!({
            "found": true,
            "country_code": "US",
            "country": "United States",
            "continent_code": "NA",
            "subdivision": "California",
            "city": "San Diego",
            "latitude": 32.7405,
            "longitude": -117.0935,
            "accuracy_radius_km": 100,
            "time_zone": "America/Los_Angeles",
            "network": "214.78.120.0/22",
            "asn": 721,
            "as_organization": "DoD Network Information Center",
            "asn_network": "214.0.0.0/8"
        })
    );
    assert_eq!(
        lookup("1.128.0.1").await,
        json!({
            "found": true,
            "asn": 1221,
            "as_organization": "Telstra Pty Ltd",
            "asn_network": "1.128.0.0/11"
        })
    );
    assert_eq!(lookup("192.0.2.1").await, json!({"found": false}));
    let error = enricher
        .lookup("geoip", &Subject::parse("example.com").unwrap(), LookupOptions::default())
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "geoip: unsupported value: geoip does not enrich a domain (example.com) (permanent)"
    );
}

#[test]
fn ip_location_db_layout() {
    let config = GeoipConfig {
        city_db: Some(testdata("geoip/dbip-country-ipv4.mmdb")),
        ..Default::default()
    };
    let geoip = GeoIp::open(&config).unwrap();
    let record = geoip.lookup("8.8.8.8".parse().unwrap()).unwrap();
    assert_eq!(serde_json::to_value(&record).unwrap()["country_code"], "US");
    assert!(record.found);
    assert_eq!(record.country, None, "ip-location-db files carry codes, not names");
}

#[test]
fn a_changed_file_is_reloaded() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("geo.mmdb");
    std::fs::copy(testdata("geoip/GeoLite2-ASN-Test.mmdb"), &file).unwrap();
    let config =
        GeoipConfig { city_db: Some(file.clone()), reload_check_secs: 0, ..Default::default() };
    let geoip = GeoIp::open(&config).unwrap();
    assert_eq!(geoip.lookup("1.128.0.1".parse().unwrap()).unwrap().asn, Some(1221));
    assert_eq!(geoip.lookup("214.78.120.1".parse().unwrap()).unwrap().city, None);

    // A download replaces the file (different length and modification time).
    std::thread::sleep(Duration::from_millis(20));
    std::fs::copy(testdata("geoip/GeoIP2-City-Test.mmdb"), &file).unwrap();
    assert_eq!(
        geoip.lookup("214.78.120.1".parse().unwrap()).unwrap().city.as_deref(),
        Some("San Diego")
    );
    assert_eq!(geoip.lookup("1.128.0.1".parse().unwrap()).unwrap().asn, None);

    // A broken file keeps the previous database.
    std::fs::write(&file, b"not a database").unwrap();
    assert_eq!(
        geoip.lookup("214.78.120.1".parse().unwrap()).unwrap().city.as_deref(),
        Some("San Diego")
    );
}

#[test]
fn a_missing_file_is_a_config_error() {
    let mut config = nothing_enabled();
    config.geoip.enabled = true;
    config.geoip.city_db = Some("/nonexistent/City.mmdb".into());
    let error = tipline_enrich::Enricher::new(&config, None).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("enrich.geoip.city_db: cannot open MaxMind DB /nonexistent/City.mmdb: "),
        "{error}"
    );
}
