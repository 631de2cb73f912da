//! Authentication and roles over HTTP.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tipline_testkit::{TestBackend, backend_tests};

use crate::support::TestApp;

backend_tests!(
    missing_or_bad_tokens_are_401,
    viewers_cannot_write,
    partners_cannot_administer_organizations,
    revoked_tokens_stop_working,
);

async fn missing_or_bad_tokens_are_401(backend: TestBackend) {
    let app = TestApp::spawn(backend).await;
    let reply = app.call(Method::GET, "/api/v1/indicators", None, None).await;
    TestApp::problem(&reply, StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(reply.headers["www-authenticate"], "Bearer realm=\"tipline\"");
    for token in ["tpl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "nonsense", ""] {
        let reply = app.get("/api/v1/indicators", token).await;
        TestApp::problem(&reply, StatusCode::UNAUTHORIZED, "unauthorized");
    }
    let reply = app
        .client
        .get(app.url("/api/v1/indicators"))
        .header("authorization", format!("Basic {}", app.admin_token))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::UNAUTHORIZED);
    let ok = app.get("/api/v1/indicators", &app.admin_token).await;
    assert_eq!(ok.status, StatusCode::OK, "{ok:?}");
}

async fn viewers_cannot_write(backend: TestBackend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("Alpha", "partner").await;
    let viewer = app.user_token(&org, "viewer@alpha.example", "viewer").await;
    let reply = app.post("/api/v1/indicators", &viewer, json!({ "value": "192.0.2.1" })).await;
    let problem = TestApp::problem(&reply, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(problem["detail"], "your role may only read");
    let reply = app
        .post("/api/v1/indicators/bulk", &viewer, json!({ "items": [{ "value": "192.0.2.1" }] }))
        .await;
    TestApp::problem(&reply, StatusCode::FORBIDDEN, "forbidden");
    let reply =
        app.post("/api/v1/groups", &viewer, json!({ "kind": "malware", "name": "x" })).await;
    TestApp::problem(&reply, StatusCode::FORBIDDEN, "forbidden");
    // Reading is allowed.
    assert_eq!(app.get("/api/v1/indicators", &viewer).await.status, StatusCode::OK);
    let analyst = app.user_token(&org, "analyst@alpha.example", "analyst").await;
    let reply = app.post("/api/v1/indicators", &analyst, json!({ "value": "192.0.2.1" })).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    assert_eq!(reply.body["owner_id"], org);
}

async fn partners_cannot_administer_organizations(backend: TestBackend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("Alpha", "partner").await;
    let other = app.org("Beta", "partner").await;
    let partner_admin = app.user_token(&org, "admin@alpha.example", "admin").await;
    let reply = app.post("/api/v1/organizations", &partner_admin, json!({ "name": "Rogue" })).await;
    TestApp::problem(&reply, StatusCode::FORBIDDEN, "forbidden");
    let reply = app
        .call(
            Method::PUT,
            &format!("/api/v1/organizations/{other}"),
            Some(&partner_admin),
            Some(json!({ "name": "Mine" })),
        )
        .await;
    TestApp::problem(&reply, StatusCode::FORBIDDEN, "forbidden");
    let reply = app.get(&format!("/api/v1/organizations/{other}"), &partner_admin).await;
    TestApp::problem(&reply, StatusCode::NOT_FOUND, "not_found");
    let listed = app.get("/api/v1/organizations", &partner_admin).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    assert_eq!(listed.body[0]["id"], org);
    let reply = app.post("/api/v1/communities", &partner_admin, json!({ "name": "Mine" })).await;
    TestApp::problem(&reply, StatusCode::FORBIDDEN, "forbidden");
    // Users only in its own organization.
    let reply = app
        .post(
            "/api/v1/users",
            &partner_admin,
            json!({ "org_id": other, "email": "x@beta.example" }),
        )
        .await;
    TestApp::problem(&reply, StatusCode::FORBIDDEN, "forbidden");
    let reply =
        app.post("/api/v1/users", &partner_admin, json!({ "email": "new@alpha.example" })).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    assert_eq!(reply.body["org_id"], org);
}

async fn revoked_tokens_stop_working(backend: TestBackend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("Alpha", "partner").await;
    let token = app.user_token(&org, "analyst@alpha.example", "analyst").await;
    let me = app.get("/api/v1/users/me", &token).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["org_id"], org);
    let tokens = app.get("/api/v1/tokens", &token).await;
    let listed = tokens.body.as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].get("secret").is_none(), "listing must not show secrets");
    assert_eq!(listed[0]["prefix"], &token[..12]);
    let id = listed[0]["id"].as_str().unwrap();
    let revoked =
        app.call(Method::DELETE, &format!("/api/v1/tokens/{id}"), Some(&token), None).await;
    assert_eq!(revoked.status, StatusCode::OK, "{revoked:?}");
    assert!(revoked.body["revoked_at"].is_string());
    let after = app.get("/api/v1/users/me", &token).await;
    TestApp::problem(&after, StatusCode::UNAUTHORIZED, "unauthorized");
}
