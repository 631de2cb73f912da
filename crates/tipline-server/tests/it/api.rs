//! Health, metrics and the OpenAPI document against the routes actually served.

use reqwest::{Method, StatusCode};
use tipline_testkit::{TestBackend, backend_tests};

use crate::support::TestApp;

backend_tests!(health_and_readiness, metrics_count_requests_by_route, openapi_matches_the_routes);

async fn health_and_readiness(backend: TestBackend) {
    let app = TestApp::spawn(backend).await;
    for (path, body) in [("/healthz", "ok\n"), ("/readyz", "ready\n")] {
        let reply = app.call(Method::GET, path, None, None).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.body, serde_json::Value::String(body.into()));
        assert!(reply.headers.contains_key("x-request-id"));
    }
    app.store.close().await;
    let reply = app.call(Method::GET, "/readyz", None, None).await;
    TestApp::problem(&reply, StatusCode::SERVICE_UNAVAILABLE, "unavailable");
}

async fn metrics_count_requests_by_route(backend: TestBackend) {
    let app = TestApp::spawn(backend).await;
    let id = uuid::Uuid::now_v7();
    for _ in 0..3 {
        app.get(&format!("/api/v1/indicators/{id}"), &app.admin_token).await;
    }
    app.call(Method::GET, "/no/such/route", None, None).await;
    let reply = app.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let text = reply.body.as_str().unwrap();
    assert!(
        text.contains(r#"tipline_http_requests_total{method="GET",route="/api/v1/indicators/{id}",status="404"} 3"#),
        "{text}"
    );
    assert!(text.contains("tipline_http_request_duration_seconds_bucket"), "{text}");
    assert!(!text.contains(&id.to_string()), "raw paths (values) must not become labels");
}

async fn openapi_matches_the_routes(backend: TestBackend) {
    let app = TestApp::spawn(backend).await;
    let reply = app.call(Method::GET, "/api/v1/openapi.json", None, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let doc = reply.body;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 20, "only {} paths documented", paths.len());
    let mut checked = 0;
    for (path, item) in paths {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_none() {
                continue;
            }
            // Fill path parameters; without a token every documented route must exist and
            // ask for authentication (the document itself is public).
            let concrete = path
                .split('/')
                .map(|seg| {
                    if seg.starts_with('{') {
                        uuid::Uuid::now_v7().to_string()
                    } else {
                        seg.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let reply = app.call(m, &concrete, None, None).await;
            let expected = if path == "/api/v1/openapi.json" {
                StatusCode::OK
            } else {
                StatusCode::UNAUTHORIZED
            };
            assert_eq!(reply.status, expected, "{method} {path}: {reply:?}");
            checked += 1;
        }
    }
    assert!(checked >= 30, "checked {checked} operations");
    // Every error response points at the Problem schema.
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}
