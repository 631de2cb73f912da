//! Malformed, mistyped, unknown and oversize input: a 4xx problem naming what is wrong, and
//! nothing written.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tipline_server::ServerSettings;
use tipline_testkit::{TestBackend, backend_tests};

use crate::support::TestApp;

backend_tests!(
    rejected_requests_write_nothing,
    bulk_reports_every_bad_item,
    query_strings_are_checked
);

async fn nothing_written(app: &TestApp) {
    let page = app.get("/api/v1/indicators", &app.admin_token).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.body["items"], json!([]), "a rejected request wrote something");
}

async fn raw(app: &TestApp, body: &str, content_type: &str) -> crate::support::Reply {
    let response = app
        .client
        .post(app.url("/api/v1/indicators"))
        .bearer_auth(&app.admin_token)
        .header("content-type", content_type)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    TestApp::reply(response).await
}

async fn rejected_requests_write_nothing(backend: TestBackend) {
    let settings = ServerSettings { max_body_bytes: 64 * 1024, ..Default::default() };
    let app = TestApp::spawn_with(backend, settings).await;

    let reply = raw(&app, "{\"value\": \"192.0.2.1\",\n \"tlp\": }", "application/json").await;
    let problem = TestApp::problem(&reply, StatusCode::BAD_REQUEST, "malformed_json");
    assert_eq!(problem["detail"], "malformed JSON at line 2 column 9: expected value");

    let reply = raw(&app, "{\"value\": \"192.0.2.1\"", "application/json").await;
    TestApp::problem(&reply, StatusCode::BAD_REQUEST, "malformed_json");

    let reply = raw(&app, "{\"value\": \"192.0.2.1\"} trailing", "application/json").await;
    TestApp::problem(&reply, StatusCode::BAD_REQUEST, "malformed_json");

    let reply = app
        .post(
            "/api/v1/indicators",
            &app.admin_token,
            json!({ "value": "192.0.2.1", "confidence": "high" }),
        )
        .await;
    let problem = TestApp::problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "confidence");
    assert_eq!(problem["errors"][0]["reason"], "invalid type: string \"high\", expected i64");

    let reply = app
        .post(
            "/api/v1/indicators",
            &app.admin_token,
            json!({ "value": "192.0.2.1", "colour": "red" }),
        )
        .await;
    let problem = TestApp::problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "colour");
    assert_eq!(problem["errors"][0]["reason"], "unknown field");

    let reply = app.post("/api/v1/indicators", &app.admin_token, json!({ "tlp": "amber" })).await;
    let problem = TestApp::problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "value");
    assert_eq!(problem["errors"][0]["reason"], "required");

    let reply = app
        .post(
            "/api/v1/indicators",
            &app.admin_token,
            json!({ "value": "192.0.2.1", "tlp": "purple" }),
        )
        .await;
    let problem = TestApp::problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "tlp");

    let reply = app
        .post(
            "/api/v1/indicators",
            &app.admin_token,
            json!({ "kind": "ipv4", "value": "192.0.2.256", "confidence": 500 }),
        )
        .await;
    let problem = TestApp::problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let fields: Vec<_> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["value", "confidence"]);

    let reply = raw(&app, "value=192.0.2.1", "application/x-www-form-urlencoded").await;
    TestApp::problem(&reply, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");

    let huge =
        format!("{{\"value\": \"192.0.2.1\", \"description\": \"{}\"}}", "x".repeat(70 * 1024));
    let reply = raw(&app, &huge, "application/json").await;
    let problem = TestApp::problem(&reply, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert_eq!(problem["detail"], "request body larger than 65536 bytes");

    let reply = app.call(Method::DELETE, "/api/v1/indicators", Some(&app.admin_token), None).await;
    TestApp::problem(&reply, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let reply = app.get("/api/v1/nothing-here", &app.admin_token).await;
    TestApp::problem(&reply, StatusCode::NOT_FOUND, "not_found");
    let reply = app.get("/api/v1/indicators/not-a-uuid", &app.admin_token).await;
    assert!(reply.status.is_client_error(), "{reply:?}");

    nothing_written(&app).await;
}

async fn bulk_reports_every_bad_item(backend: TestBackend) {
    let app = TestApp::spawn(backend).await;
    let reply = app
        .post(
            "/api/v1/indicators/bulk",
            &app.admin_token,
            json!({ "items": [
                { "value": "192.0.2.1" },
                { "value": "evil[.]example", "tags": [""] },
                { "value": "not a thing at all" },
                { "value": "d41d8cd98f00b204e9800998ecf8427e", "threat_rating": 9 }
            ]}),
        )
        .await;
    let problem = TestApp::problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let fields: Vec<_> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["items[1].tags[0]", "items[2].value", "items[3].threat_rating"]);
    assert_eq!(problem["detail"], "3 fields are invalid; nothing was written");
    nothing_written(&app).await;

    let reply = app
        .post("/api/v1/indicators/bulk", &app.admin_token, json!({ "items": [{ "value": 5 }] }))
        .await;
    let problem = TestApp::problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "items[0].value");
    nothing_written(&app).await;
}

async fn query_strings_are_checked(backend: TestBackend) {
    let app = TestApp::spawn(backend).await;
    let reply = app.get("/api/v1/indicators?limit=lots", &app.admin_token).await;
    let problem = TestApp::problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "limit");
    let reply = app.get("/api/v1/indicators?colour=red", &app.admin_token).await;
    let problem = TestApp::problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "colour");
    let reply = app.get("/api/v1/indicators?kind=ipv5", &app.admin_token).await;
    let problem = TestApp::problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "kind");
    let reply = app.get("/api/v1/owners", &app.admin_token).await;
    let problem = TestApp::problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "value");
    let reply = app.get("/api/v1/indicators?updated_since=yesterday", &app.admin_token).await;
    let problem = TestApp::problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "updated_since");
}
