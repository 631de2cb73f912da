//! Bulk upsert throughput through the store: 100,000 indicators (IPv4, CIDR, domains,
//! URLs, SHA-256) in requests of 10,000 (the API's bulk limit), into a fresh database
//! (`insert`) and again over the same values (`update`: merge path). SQLite always;
//! PostgreSQL when `TIPLINE_TEST_POSTGRES_URL` is set. Run with `bench/upsert.sh`.

use divan::counter::ItemsCount;
use tipline_model::intel::IndicatorInput;
use tipline_model::{OrgKind, Principal, Role};
use tipline_store::Store;
use tipline_testkit::{POSTGRES_URL_VAR, TestBackend, TestDb};

const TOTAL: usize = 100_000;
const BATCH: usize = 10_000;

fn main() {
    divan::main();
}

fn indicators() -> Vec<IndicatorInput> {
    (0..TOTAL)
        .map(|i| {
            let value = match i % 5 {
                0 => format!("10.{}.{}.{}", i >> 16 & 255, i >> 8 & 255, i & 255),
                1 => format!("172.{}.{}.0/24", 16 + (i >> 16 & 15), i >> 8 & 255),
                2 => format!("host{i}.bench.example"),
                3 => format!("http://site{i}.bench.example/path/{i}"),
                _ => format!("{:064x}", i as u128 * 0x9e37_79b9_7f4a_7c15),
            };
            IndicatorInput { value, tags: vec!["bench".into()], ..Default::default() }
        })
        .collect()
}

struct Fixture {
    _db: TestDb,
    store: Store,
    principal: Principal,
}

async fn fixture(backend: TestBackend) -> Fixture {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let boot = store.bootstrap("Bench", "bench@bench.example").await.unwrap().unwrap();
    let principal = Principal {
        user_id: None,
        org_id: boot.host.id,
        org_kind: OrgKind::Host,
        role: Role::Analyst,
    };
    Fixture { _db: db, store, principal }
}

async fn upsert_all(fixture: &Fixture, items: &[IndicatorInput]) {
    let viewer = fixture.store.viewer(fixture.principal.clone());
    for batch in items.chunks(BATCH) {
        viewer.upsert_indicators(batch).await.unwrap();
    }
}

fn backends() -> Vec<TestBackend> {
    let mut backends = vec![TestBackend::Sqlite];
    if std::env::var(POSTGRES_URL_VAR).is_ok() {
        backends.push(TestBackend::Postgres);
    }
    backends
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

#[divan::bench(args = backends(), sample_count = 3, sample_size = 1)]
fn insert(bencher: divan::Bencher, backend: &TestBackend) {
    let rt = runtime();
    let items = indicators();
    bencher
        .counter(ItemsCount::new(TOTAL))
        .with_inputs(|| rt.block_on(fixture(*backend)))
        .bench_local_refs(|fixture| rt.block_on(upsert_all(fixture, &items)));
}

#[divan::bench(args = backends(), sample_count = 3, sample_size = 1)]
fn update(bencher: divan::Bencher, backend: &TestBackend) {
    let rt = runtime();
    let items = indicators();
    bencher
        .counter(ItemsCount::new(TOTAL))
        .with_inputs(|| {
            rt.block_on(async {
                let fixture = fixture(*backend).await;
                upsert_all(&fixture, &items).await;
                fixture
            })
        })
        .bench_local_refs(|fixture| rt.block_on(upsert_all(fixture, &items)));
}
