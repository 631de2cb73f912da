//! Feeds, listings and imports over HTTP.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tipline_model::detect;
use tipline_model::feed::{PullCounts, PullStatus};
use tipline_store::{ListedEntry, PullOutcome};
use tipline_testkit::{TestBackend, backend_tests};

use crate::support::TestApp;

backend_tests!(
    feeds_are_defined_scheduled_and_removed,
    listings_follow_visibility,
    misp_documents_import
);

async fn feeds_are_defined_scheduled_and_removed(backend: TestBackend) {
    let app = TestApp::spawn(backend).await;
    let token = &app.admin_token;
    let reply = app
        .post(
            "/api/v1/feeds",
            token,
            json!({ "name": "drop", "url": "https://lists.example/drop.txt", "format": "spamhaus",
                    "source": "Spamhaus", "tlp": "clear", "interval_secs": 43200, "tags": ["DROP"] }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    let feed = reply.body;
    assert_eq!(feed["source_name"], "Spamhaus");
    assert_eq!(feed["origin"], "api");
    assert_eq!(feed["tags"], json!(["drop"]));
    assert_eq!(feed["status"]["listed"], 0);
    assert_eq!(feed["status"]["consecutive_failures"], 0);
    let id = feed["id"].as_str().unwrap();

    let invalid = app
        .post("/api/v1/feeds", token, json!({ "name": "x", "url": "ftp://x", "format": "csv" }))
        .await;
    let problem = TestApp::problem(&invalid, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(
        problem["errors"],
        json!([
            { "field": "url", "reason": "scheme must be http or https, got `ftp`" },
            { "field": "csv", "reason": "required for format csv (csv.value_column at least)" }
        ])
    );
    let duplicate = app
        .post("/api/v1/feeds", token, json!({ "name": "DROP", "path": "/x", "format": "plain" }))
        .await;
    TestApp::problem(&duplicate, StatusCode::CONFLICT, "conflict");

    let list = app.get("/api/v1/feeds", token).await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    let scheduled =
        app.call(Method::POST, &format!("/api/v1/feeds/{id}/pull"), Some(token), None).await;
    assert_eq!(scheduled.status, StatusCode::ACCEPTED);
    assert!(scheduled.body["status"]["next_pull_at"].is_string());
    let pulls = app.get(&format!("/api/v1/feeds/{id}/pulls"), token).await;
    assert_eq!((pulls.status, pulls.body.clone()), (StatusCode::OK, json!([])));

    // Partners do not administer feeds.
    let partner = app.org("Alpha", "partner").await;
    let analyst = app.user_token(&partner, "a@alpha.example", "analyst").await;
    let forbidden = app.get("/api/v1/feeds", &analyst).await;
    TestApp::problem(&forbidden, StatusCode::FORBIDDEN, "forbidden");

    let removed = app.call(Method::DELETE, &format!("/api/v1/feeds/{id}"), Some(token), None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let gone = app.get(&format!("/api/v1/feeds/{id}"), token).await;
    TestApp::problem(&gone, StatusCode::NOT_FOUND, "not_found");
}

async fn listings_follow_visibility(backend: TestBackend) {
    let app = TestApp::spawn(backend).await;
    let token = &app.admin_token;
    let reply = app
        .post(
            "/api/v1/feeds",
            token,
            json!({ "name": "drop", "path": "/srv/drop.txt", "format": "spamhaus", "tlp": "green" }),
        )
        .await;
    let feed_id: uuid::Uuid = reply.body["id"].as_str().unwrap().parse().unwrap();
    let host = app.store.host_principal().await.unwrap().unwrap();
    let admin = app.store.viewer(host);
    let claimed = admin.claim_feed(feed_id, "test", 60).await.unwrap();
    let entries = ["192.0.2.0/25", "198.51.100.7"]
        .iter()
        .map(|v| ListedEntry {
            indicator: detect(v).unwrap(),
            reference: Some("SBL9".into()),
            comment: None,
        })
        .collect();
    let outcome = PullOutcome {
        status: PullStatus::Ok,
        counts: PullCounts::default(),
        error: None,
        etag: None,
        last_modified: None,
        next_pull_at: chrono::Utc::now(),
    };
    admin.apply_list_pull(&claimed, entries, 0, outcome).await.unwrap();

    let partner = app
        .post(
            "/api/v1/organizations",
            token,
            json!({ "name": "Alpha", "constituency": [{ "value": "192.0.2.64/26" }] }),
        )
        .await;
    let partner_id = partner.body["id"].as_str().unwrap().to_string();
    let partner_token = app.user_token(&partner_id, "a@alpha.example", "viewer").await;
    let inside = format!("/api/v1/listings?org_id={partner_id}");
    let page = app.get(&inside, token).await;
    assert_eq!(page.status, StatusCode::OK, "{page:?}");
    assert_eq!(page.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(page.body["items"][0]["value"], "192.0.2.0/25");
    assert_eq!(page.body["items"][0]["reference"], "SBL9");
    assert!(page.body["items"][0]["delisted_at"].is_null());
    // The partner sees its listings once subscribed to the source (GREEN source data).
    assert_eq!(app.get(&inside, &partner_token).await.body["items"], json!([]));
    let source = reply.body["source_id"].as_str().unwrap();
    let subscribed = app
        .post(
            &format!("/api/v1/organizations/{partner_id}/subscriptions"),
            token,
            json!({ "source_id": source }),
        )
        .await;
    assert!(subscribed.status.is_success(), "{subscribed:?}");
    assert_eq!(app.get(&inside, &partner_token).await.body["items"].as_array().unwrap().len(), 1);
    let covering =
        app.get("/api/v1/listings?value=198.51.100.7&current=true", &partner_token).await;
    assert_eq!(covering.body["items"][0]["value"], "198.51.100.7");
    let bad = app.get("/api/v1/listings?value=not_a_value%20at%20all", token).await;
    TestApp::problem(&bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
}

async fn misp_documents_import(backend: TestBackend) {
    let app = TestApp::spawn(backend).await;
    let token = &app.admin_token;
    let fixture = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/misp/57c4445b-c548-4654-af0b-4be3950d210f.json"),
    )
    .unwrap();
    let import = |query: &str, body: Vec<u8>, content_type: &str| {
        let request = app
            .client
            .post(app.url(&format!("/api/v1/import?{query}")))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body);
        async move { TestApp::reply(request.send().await.unwrap()).await }
    };
    let reply =
        import("format=misp&tlp=green&tags=circl,osint", fixture.clone(), "application/json").await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.body["committed"], true);
    assert_eq!(reply.body["written"]["indicators"]["sha256"]["created"], 1);
    assert_eq!(reply.body["skipped"]["regkey|value"], 1);
    let again = import("format=misp", fixture.clone(), "application/json").await;
    assert_eq!(
        (again.body["documents"].clone(), again.body["unchanged"].clone()),
        (json!(1), json!(1))
    );
    let tagged = app.get("/api/v1/indicators?tag=osint", token).await;
    assert_eq!(tagged.body["items"].as_array().unwrap().len(), 3);

    let broken = br#"{"Event": {"uuid": "u-1", "timestamp": 1, "Attribute": [
        {"type": "ip-dst", "value": "192.0.2.1"}, {"type": "ip-dst", "value": "192.0.2.999"}]}}"#;
    let strict = import("format=misp", broken.to_vec(), "application/json").await;
    let problem = TestApp::problem(&strict, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "event u-1: Attribute[1] (ip-dst `192.0.2.999`)");
    let lenient = import("format=misp&lenient=true", broken.to_vec(), "application/json").await;
    assert_eq!(lenient.status, StatusCode::OK, "{lenient:?}");
    assert_eq!(lenient.body["rejected"].as_array().unwrap().len(), 1);
    assert_eq!(lenient.body["written"]["indicators"]["ipv4"]["created"], 1);
    let truncated = import("format=misp", b"{\"Event\":".to_vec(), "application/json").await;
    let problem =
        TestApp::problem(&truncated, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "line 1, column 9");
    let text = import("format=misp", fixture.clone(), "text/plain").await;
    TestApp::problem(&text, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    let unknown = import("format=stix9", fixture.clone(), "application/json").await;
    TestApp::problem(&unknown, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let mut huge = b"{\"Event\": {\"info\": \"".to_vec();
    huge.extend(std::iter::repeat_n(b'x', 11 * 1024 * 1024));
    huge.extend_from_slice(b"\"}}");
    let too_large = import("format=misp", huge, "application/json").await;
    TestApp::problem(&too_large, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
}
