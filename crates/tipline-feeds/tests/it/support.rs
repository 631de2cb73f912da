//! A store with a host admin, and a local HTTP server serving lists that tests change
//! between pulls (content, ETag, failures, delays), recording what it was asked.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use tipline_http::{Outbound, OutboundConfig};
use tipline_model::Principal;
use tipline_model::feed::{FeedFormat, FeedInput};
use tipline_store::{Event, Store};
use tipline_testkit::{TestBackend, TestDb};

/// A fresh store with its host administrator.
pub struct World {
    pub store: Store,
    pub host: Principal,
    _db: TestDb,
}

impl World {
    pub async fn new(backend: TestBackend) -> World {
        let db = TestDb::new(backend).await;
        let store = db.store().await;
        store.bootstrap("CERT", "admin@cert.example").await.unwrap().unwrap();
        let host = store.host_principal().await.unwrap().unwrap();
        World { store, host, _db: db }
    }

    pub fn admin(&self) -> tipline_store::Viewer<'_> {
        self.store.viewer(self.host.clone())
    }

    /// Outbox events after `seq`, and the last seq seen.
    pub async fn events_after(&self, seq: i64) -> (Vec<Event>, i64) {
        let events = self.store.events_after(seq, 10_000).await.unwrap();
        let last = events.last().map_or(seq, |e| e.seq);
        (events, last)
    }
}

/// The outbound client tests use: local addresses allowed, short timeout.
pub fn outbound() -> Outbound {
    Outbound::new(OutboundConfig {
        allow_private_addresses: true,
        timeout: Duration::from_millis(1500),
        ..OutboundConfig::default()
    })
    .unwrap()
}

/// A feed definition pulling `url` as `format`.
pub fn feed(name: &str, url: String, format: FeedFormat) -> FeedInput {
    FeedInput {
        name: name.into(),
        source: Some(format!("{name} source")),
        url: Some(url),
        format: Some(format),
        tlp: Some(tipline_model::Tlp::Green),
        confidence: Some(70),
        ..Default::default()
    }
}

#[derive(Clone)]
struct Served {
    body: Vec<u8>,
    etag: Option<String>,
}

#[derive(Default)]
struct State {
    files: HashMap<String, Served>,
    failures: u32,
    delay: Duration,
    requests: Vec<(String, Option<String>)>,
}

/// The list server. Cheap to clone; all clones share state.
#[derive(Clone)]
pub struct ListServer {
    pub address: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl ListServer {
    pub async fn start() -> ListServer {
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let router = Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
            let state = shared.clone();
            async move { serve(&state, uri.path(), &headers).await }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        ListServer { address, state }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Serve `body` at `path`, with an ETag when given.
    pub fn put(&self, path: &str, body: impl Into<Vec<u8>>, etag: Option<&str>) {
        self.state
            .lock()
            .unwrap()
            .files
            .insert(path.to_string(), Served { body: body.into(), etag: etag.map(str::to_string) });
    }

    /// Answer the next `n` requests with 500.
    pub fn fail_next(&self, n: u32) {
        self.state.lock().unwrap().failures = n;
    }

    /// Wait this long before answering.
    pub fn delay(&self, delay: Duration) {
        self.state.lock().unwrap().delay = delay;
    }

    /// Requests so far: (path, If-None-Match).
    pub fn requests(&self) -> Vec<(String, Option<String>)> {
        self.state.lock().unwrap().requests.clone()
    }
}

async fn serve(state: &Mutex<State>, path: &str, headers: &HeaderMap) -> Response {
    let if_none_match =
        headers.get("if-none-match").and_then(|v| v.to_str().ok()).map(str::to_string);
    let (delay, fail, served) = {
        let mut state = state.lock().unwrap();
        state.requests.push((path.to_string(), if_none_match.clone()));
        let fail = state.failures > 0;
        if fail {
            state.failures -= 1;
        }
        (state.delay, fail, state.files.get(path).cloned())
    };
    tokio::time::sleep(delay).await;
    let respond = |status: StatusCode, body: Vec<u8>| {
        Response::builder().status(status).body(Body::from(body)).unwrap()
    };
    if fail {
        return respond(StatusCode::INTERNAL_SERVER_ERROR, b"upstream broke".to_vec());
    }
    let Some(served) = served else {
        return respond(StatusCode::NOT_FOUND, Vec::new());
    };
    if served.etag.is_some() && served.etag == if_none_match {
        return respond(StatusCode::NOT_MODIFIED, Vec::new());
    }
    let mut response = respond(StatusCode::OK, served.body);
    if let Some(etag) = served.etag {
        response.headers_mut().insert("etag", etag.parse().unwrap());
    }
    response
}

/// The path of a file of the repository's `testdata/`.
pub fn testdata(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata").join(path)
}
