//! `TestApp`: the real server bound to 127.0.0.1:0 over a fresh database, and typed helpers.

use std::net::SocketAddr;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tipline_server::{Application, ServerSettings};
use tipline_store::Store;
use tipline_testkit::{TestBackend, TestDb};

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub store: Store,
    /// The host administrator's token.
    pub admin_token: String,
    /// Kept so the database lives as long as the app.
    _db: TestDb,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

/// A response's status and JSON body (or the text as a JSON string when not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl TestApp {
    pub async fn spawn(backend: TestBackend) -> TestApp {
        Self::spawn_with(backend, ServerSettings::default()).await
    }

    pub async fn spawn_with(backend: TestBackend, settings: ServerSettings) -> TestApp {
        Self::spawn_full(backend, settings, None).await
    }

    /// The server with enrichment configured by `enrich` (providers pointed at local servers).
    pub async fn spawn_enriching(
        backend: TestBackend,
        enrich: tipline_enrich::EnrichConfig,
    ) -> TestApp {
        Self::spawn_full(backend, ServerSettings::default(), Some(enrich)).await
    }

    async fn spawn_full(
        backend: TestBackend,
        mut settings: ServerSettings,
        enrich: Option<tipline_enrich::EnrichConfig>,
    ) -> TestApp {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let db = TestDb::new(backend).await;
        let store = db.store().await;
        let boot = store.bootstrap("CERT", "admin@cert.example").await.unwrap().unwrap();
        settings.listen = "127.0.0.1:0".parse().unwrap();
        let services = match enrich {
            Some(config) => tipline_server::Services {
                enricher: std::sync::Arc::new(
                    tipline_enrich::Enricher::new(&config, Some(store.clone())).unwrap(),
                ),
            },
            None => tipline_server::Services::default(),
        };
        let app = Application::build_with(store.clone(), settings, services).await.unwrap();
        let addr = app.local_addr();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until(async move {
            let _ = rx.await;
        }));
        TestApp {
            addr,
            client: reqwest::Client::new(),
            store,
            admin_token: boot.token.secret,
            _db: db,
            shutdown: Some(tx),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Send a request; `body` is sent as JSON when given.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        Self::reply(request.send().await.unwrap()).await
    }

    pub async fn reply(response: reqwest::Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply { status, content_type, body, headers }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    /// Create an organization (as the host admin) and return its id.
    pub async fn org(&self, name: &str, kind: &str) -> String {
        let reply = self
            .post("/api/v1/organizations", &self.admin_token, json!({ "name": name, "kind": kind }))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
        reply.body["id"].as_str().unwrap().to_string()
    }

    /// Create a user with `role` in `org` and return a token for it.
    pub async fn user_token(&self, org_id: &str, email: &str, role: &str) -> String {
        let user = self
            .post(
                "/api/v1/users",
                &self.admin_token,
                json!({ "org_id": org_id, "email": email, "role": role }),
            )
            .await;
        assert_eq!(user.status, StatusCode::CREATED, "{user:?}");
        let token = self
            .post(
                "/api/v1/tokens",
                &self.admin_token,
                json!({ "name": "test", "user_id": user.body["id"] }),
            )
            .await;
        assert_eq!(token.status, StatusCode::CREATED, "{token:?}");
        token.body["secret"].as_str().unwrap().to_string()
    }

    /// Create a community with these members and return its id.
    pub async fn community(&self, name: &str, members: &[&str]) -> String {
        let reply = self
            .post(
                "/api/v1/communities",
                &self.admin_token,
                json!({ "name": name, "members": members }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
        reply.body["id"].as_str().unwrap().to_string()
    }

    /// Assert a response is a problem+json with this status and code; returns the body.
    pub fn problem(reply: &Reply, status: StatusCode, code: &str) -> Value {
        assert_eq!(reply.status, status, "{reply:?}");
        assert_eq!(reply.content_type, "application/problem+json", "{reply:?}");
        assert_eq!(reply.body["code"], code, "{reply:?}");
        assert_eq!(reply.body["status"], status.as_u16());
        assert_eq!(reply.body["type"], format!("urn:tipline:problem:{code}"));
        assert!(reply.body["title"].is_string() && reply.body["detail"].is_string());
        reply.body.clone()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
