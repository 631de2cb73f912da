//! Enrichment benchmarks (run with `bench/enrich.sh`):
//!
//! - cache hits: lookups/s answered by the in-process hot cache and by the store cache
//!   (SQLite always, PostgreSQL when `TIPLINE_TEST_POSTGRES_URL` is set), 1,000 cached
//!   addresses per iteration;
//! - GeoIP: lookups/s from an mmdb (DB-IP country + MaxMind ASN test database), directly and
//!   through the enricher;
//! - coalescing: 1,000 concurrent lookups covering 50 distinct addresses against a local
//!   server answering in 20 ms; prints how many upstream calls were made and saved.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use divan::counter::ItemsCount;
use tipline_enrich::providers::geoip::{GeoIp, GeoipConfig};
use tipline_enrich::{EnrichConfig, Enricher, LookupOptions, Secret, Subject};
use tipline_testkit::{POSTGRES_URL_VAR, TestBackend, TestDb};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const CACHED: usize = 1000;

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    divan::main();
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

fn testdata(relative: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/enrichment")
        .join(relative)
}

fn subjects(n: usize) -> Vec<Subject> {
    (0..n)
        .map(|i| Subject::parse(&format!("198.51.{}.{}", i / 250, i % 250 + 1)).unwrap())
        .collect()
}

async fn shodan_server(delay: Duration) -> MockServer {
    let server = MockServer::start().await;
    let body = std::fs::read_to_string(testdata("shodan/198.51.100.7.json")).unwrap();
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string(body).set_delay(delay))
        .mount(&server)
        .await;
    server
}

fn shodan_config(base_url: &str, hot_cache_entries: usize) -> EnrichConfig {
    let mut config = EnrichConfig::all_disabled();
    config.shodan.enabled = true;
    config.hot_cache_entries = hot_cache_entries;
    config.shodan.api_key = Some(Secret::new("bench-key"));
    config.shodan.base_url = base_url.to_string();
    config.shodan.requests_per_second = Some(0.0);
    config.shodan.max_concurrency = Some(64);
    config
}

/// An enricher whose caches hold `CACHED` Shodan answers.
struct Primed {
    runtime: tokio::runtime::Runtime,
    _server: MockServer,
    _db: Option<TestDb>,
    enricher: Arc<Enricher>,
    subjects: Vec<Subject>,
}

fn primed(backend: Option<TestBackend>, hot_cache_entries: usize) -> Primed {
    let runtime = runtime();
    let (server, db, enricher, subjects) = runtime.block_on(async {
        let server = shodan_server(Duration::ZERO).await;
        let db = match backend {
            Some(backend) => Some(TestDb::new(backend).await),
            None => None,
        };
        let store = match &db {
            Some(db) => Some(db.store().await),
            None => None,
        };
        let enricher = Arc::new(
            Enricher::new(&shodan_config(&server.uri(), hot_cache_entries), store).unwrap(),
        );
        let subjects = subjects(CACHED);
        for subject in &subjects {
            enricher.lookup("shodan", subject, LookupOptions::default()).await.unwrap();
        }
        (server, db, enricher, subjects)
    });
    Primed { runtime, _server: server, _db: db, enricher, subjects }
}

fn bench_lookups(bencher: divan::Bencher, primed: &Primed) {
    bencher.counter(ItemsCount::new(CACHED)).bench_local(|| {
        primed.runtime.block_on(async {
            for subject in &primed.subjects {
                let answer = primed
                    .enricher
                    .lookup("shodan", subject, LookupOptions::default())
                    .await
                    .unwrap();
                divan::black_box(answer);
            }
        })
    });
}

/// 1,000 lookups answered by the in-process hot cache.
#[divan::bench(sample_count = 20)]
fn hot_cache_hits(bencher: divan::Bencher) {
    let primed = primed(None, 100_000);
    bench_lookups(bencher, &primed);
}

/// 1,000 lookups answered by the database cache (hot cache off).
#[divan::bench(args = ["sqlite", "postgres"], sample_count = 10)]
fn store_cache_hits(bencher: divan::Bencher, backend: &str) {
    let backend = match backend {
        "postgres" if std::env::var(POSTGRES_URL_VAR).is_err() => {
            eprintln!("store_cache_hits(postgres): {POSTGRES_URL_VAR} not set, skipped");
            return;
        }
        "postgres" => TestBackend::Postgres,
        _ => TestBackend::Sqlite,
    };
    let primed = primed(Some(backend), 0);
    bench_lookups(bencher, &primed);
}

fn geoip_addresses() -> Vec<std::net::IpAddr> {
    // A deterministic spread over the IPv4 space.
    (0u32..10_000)
        .map(|i| std::net::IpAddr::from((i.wrapping_mul(2_654_435_761)).to_be_bytes()))
        .collect()
}

/// 10,000 GeoIP lookups straight from the mmdb files (country + ASN).
#[divan::bench(sample_count = 20)]
fn geoip_direct(bencher: divan::Bencher) {
    let config = GeoipConfig {
        city_db: Some(testdata("geoip/dbip-country-ipv4.mmdb")),
        asn_db: Some(testdata("geoip/GeoLite2-ASN-Test.mmdb")),
        reload_check_secs: 60,
        ..Default::default()
    };
    let geoip = GeoIp::open(&config).unwrap();
    let addresses = geoip_addresses();
    bencher.counter(ItemsCount::new(addresses.len())).bench_local(|| {
        for ip in &addresses {
            divan::black_box(geoip.lookup(*ip).unwrap());
        }
    });
}

/// 10,000 GeoIP lookups through the enricher (hot cache off: every one reads the file).
#[divan::bench(sample_count = 10)]
fn geoip_through_enricher(bencher: divan::Bencher) {
    let runtime = runtime();
    let mut config = shodan_config("http://127.0.0.1:9", 0);
    config.shodan.enabled = false;
    config.geoip.enabled = true;
    config.geoip.city_db = Some(testdata("geoip/dbip-country-ipv4.mmdb"));
    config.geoip.asn_db = Some(testdata("geoip/GeoLite2-ASN-Test.mmdb"));
    let enricher = Enricher::new(&config, None).unwrap();
    let subjects: Vec<Subject> = geoip_addresses().into_iter().map(Subject::Ip).collect();
    bencher.counter(ItemsCount::new(subjects.len())).bench_local(|| {
        runtime.block_on(async {
            for subject in &subjects {
                divan::black_box(
                    enricher.lookup("geoip", subject, LookupOptions::default()).await.unwrap(),
                );
            }
        })
    });
}

/// 1,000 concurrent lookups covering 50 distinct addresses, upstream answering in 20 ms,
/// caches empty at the start of each iteration. Prints upstream calls made and saved.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn coalescing_1000_lookups_50_addresses(bencher: divan::Bencher) {
    static REPORTED: OnceLock<()> = OnceLock::new();
    let runtime = runtime();
    let server = runtime.block_on(shodan_server(Duration::from_millis(20)));
    let distinct = subjects(50);
    bencher.counter(ItemsCount::new(1000usize)).bench_local(|| {
        runtime.block_on(async {
            server.reset().await;
            Mock::given(method("GET"))
                .respond_with(
                    ResponseTemplate::new(200)
                        .set_body_string(std::fs::read_to_string(testdata("shodan/198.51.100.7.json")).unwrap())
                        .set_delay(Duration::from_millis(20)),
                )
                .mount(&server)
                .await;
            let enricher = Arc::new(Enricher::new(&shodan_config(&server.uri(), 0), None).unwrap());
            let tasks: Vec<_> = (0..1000)
                .map(|i| {
                    let enricher = enricher.clone();
                    let subject = distinct[i % distinct.len()].clone();
                    tokio::spawn(async move { enricher.lookup("shodan", &subject, LookupOptions::default()).await })
                })
                .collect();
            for task in tasks {
                task.await.unwrap().unwrap();
            }
            let calls = server.received_requests().await.unwrap().len();
            REPORTED.get_or_init(|| {
                eprintln!(
                    "coalescing: 1000 lookups over 50 addresses made {calls} upstream calls, saved {} ({:.1}%)",
                    1000 - calls,
                    (1000 - calls) as f64 / 10.0
                );
            });
        })
    });
}
