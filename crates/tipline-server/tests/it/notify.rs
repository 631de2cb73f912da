//! `/api/v1/notifications` and `/api/v1/notification-rules` over HTTP.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tipline_model::Tlp;
use tipline_model::notify::{Channel, Classification, Severity};
use tipline_store::{NewNotification, Rendered, StoreError};
use tipline_testkit::{TestBackend, backend_tests};
use uuid::Uuid;

use crate::support::TestApp;

backend_tests!(partners_list_and_acknowledge_their_notifications, rules_are_edited_within_limits);

/// Record a notification to `org` directly through the store (the notifier's job).
async fn notify(app: &TestApp, org: &str, subject: &str) -> Uuid {
    let host = app.store.host_principal().await.unwrap().unwrap();
    let input = NewNotification {
        org_id: org.parse().unwrap(),
        channel: Channel::Email,
        template: "alert-triage".into(),
        classification: Classification::Phishing,
        severity: Severity::Medium,
        tlp: Tlp::Amber,
        subject_ref: subject.into(),
        reason: "case.new".into(),
        idempotency_key: None,
        ticket: None,
        contact_roles: None,
        webhook_url: None,
        context: json!({}),
    };
    app.store
        .viewer(host)
        .enqueue_notification(&input, "TIPLINE", tipline_store::now(), |plan| {
            Ok::<_, StoreError>(Rendered {
                subject: format!("[{}] {subject}", plan.ticket),
                body_text: "text".into(),
                body_html: Some("<p>html</p>".into()),
                raw_message: Some("raw".into()),
            })
        })
        .await
        .unwrap()
        .notification
        .id
}

async fn org_with_contact(app: &TestApp, name: &str) -> String {
    let reply = app
        .post(
            "/api/v1/organizations",
            &app.admin_token,
            json!({ "name": name, "contacts": [{ "role": "security", "email": format!("soc@{name}.example") }] }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    reply.body["id"].as_str().unwrap().to_string()
}

async fn partners_list_and_acknowledge_their_notifications(backend: TestBackend) {
    let app = TestApp::spawn(backend).await;
    let alpha = org_with_contact(&app, "alpha").await;
    let beta = org_with_contact(&app, "beta").await;
    let to_alpha = notify(&app, &alpha, "evil.example").await;
    let to_beta = notify(&app, &beta, "bad.example").await;
    let alpha_token = app.user_token(&alpha, "viewer@alpha.example", "viewer").await;

    let all = app.get("/api/v1/notifications", &app.admin_token).await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(all.body["items"].as_array().unwrap().len(), 2);
    let own = app.get("/api/v1/notifications?status=queued&acknowledged=false", &alpha_token).await;
    let items = own.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{own:?}");
    assert_eq!(items[0]["id"], to_alpha.to_string());
    assert_eq!(items[0]["ticket"], format!("TIPLINE-{}-000001", chrono::Utc::now().format("%Y")));
    assert_eq!(items[0]["recipients"], json!(["soc@alpha.example"]));
    assert_eq!(items[0]["classification"], "phishing");
    let hidden = app.get(&format!("/api/v1/notifications/{to_beta}"), &alpha_token).await;
    TestApp::problem(&hidden, StatusCode::NOT_FOUND, "not_found");
    let bad = app.get("/api/v1/notifications?status=lost", &alpha_token).await;
    TestApp::problem(&bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");

    let path = format!("/api/v1/notifications/{to_alpha}/acknowledge");
    let acked = app.post(&path, &alpha_token, json!({ "note": "blocked at the proxy" })).await;
    assert_eq!(acked.status, StatusCode::OK, "{acked:?}");
    assert_eq!(acked.body["ack_note"], "blocked at the proxy");
    assert!(acked.body["acknowledged_at"].is_string());
    let beta_ack = app
        .post(&format!("/api/v1/notifications/{to_beta}/acknowledge"), &alpha_token, json!({}))
        .await;
    TestApp::problem(&beta_ack, StatusCode::NOT_FOUND, "not_found");
    let acknowledged = app.get("/api/v1/notifications?acknowledged=true", &app.admin_token).await;
    assert_eq!(acknowledged.body["items"].as_array().unwrap().len(), 1);
}

async fn rules_are_edited_within_limits(backend: TestBackend) {
    let app = TestApp::spawn(backend).await;
    let alpha = org_with_contact(&app, "alpha").await;
    let beta = org_with_contact(&app, "beta").await;
    let alpha_admin = app.user_token(&alpha, "admin@alpha.example", "admin").await;
    let alpha_viewer = app.user_token(&alpha, "viewer@alpha.example", "viewer").await;

    let defaults = app.get("/api/v1/notification-rules", &alpha_viewer).await;
    assert_eq!(defaults.status, StatusCode::OK);
    assert_eq!(defaults.body.as_array().unwrap().len(), 3, "the shipped host defaults");

    let host_rule = app
        .post("/api/v1/notification-rules", &app.admin_token, json!({ "min_tlp": "red", "suppress": true, "locked": true, "note": "never email RED" }))
        .await;
    assert_eq!(host_rule.status, StatusCode::CREATED, "{host_rule:?}");
    assert_eq!(host_rule.body["org_id"], serde_json::Value::Null);

    let own = json!({ "org_id": alpha, "classification": "compromised", "contact_roles": ["noc", "security"], "repeat_interval_secs": 86400, "digest": "daily" });
    let created = app.post("/api/v1/notification-rules", &alpha_admin, own.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    assert_eq!(created.body["classification"], "system-compromise");
    assert_eq!(created.body["contact_roles"], json!(["security", "noc"]));
    let id = created.body["id"].as_str().unwrap().to_string();

    let denied = app.post("/api/v1/notification-rules", &alpha_viewer, own.clone()).await;
    TestApp::problem(&denied, StatusCode::FORBIDDEN, "forbidden");
    let other =
        app.post("/api/v1/notification-rules", &alpha_admin, json!({ "org_id": beta })).await;
    TestApp::problem(&other, StatusCode::FORBIDDEN, "forbidden");
    let too_often = app
        .post(
            "/api/v1/notification-rules",
            &alpha_admin,
            json!({ "org_id": alpha, "repeat_interval_secs": 60 }),
        )
        .await;
    let problem =
        TestApp::problem(&too_often, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "repeat_interval_secs");
    let unknown = app
        .post(
            "/api/v1/notification-rules",
            &alpha_admin,
            json!({ "org_id": alpha, "classification": "purple" }),
        )
        .await;
    let problem = TestApp::problem(&unknown, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "classification");
    let locked_id = host_rule.body["id"].as_str().unwrap();
    let edit_locked = app
        .call(
            Method::PUT,
            &format!("/api/v1/notification-rules/{locked_id}"),
            Some(&alpha_admin),
            Some(json!({})),
        )
        .await;
    assert!(edit_locked.status == StatusCode::FORBIDDEN, "{edit_locked:?}");

    let effective =
        app.get(&format!("/api/v1/organizations/{alpha}/notification-rules"), &alpha_viewer).await;
    let rules = effective.body.as_array().unwrap();
    assert_eq!(rules.len(), 5);
    assert_eq!(rules[0]["id"], host_rule.body["id"], "the locked host default comes first");
    assert_eq!(rules[1]["id"], id.as_str(), "then the organization's own");
    let beta_rules =
        app.get(&format!("/api/v1/organizations/{beta}/notification-rules"), &alpha_viewer).await;
    TestApp::problem(&beta_rules, StatusCode::NOT_FOUND, "not_found");

    let updated = app
        .call(
            Method::PUT,
            &format!("/api/v1/notification-rules/{id}"),
            Some(&alpha_admin),
            Some(json!({ "org_id": alpha, "suppress": true })),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{updated:?}");
    assert_eq!(updated.body["suppress"], true);
    let deleted = app
        .call(Method::DELETE, &format!("/api/v1/notification-rules/{id}"), Some(&alpha_admin), None)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = app.get(&format!("/api/v1/notification-rules/{id}"), &alpha_admin).await;
    TestApp::problem(&gone, StatusCode::NOT_FOUND, "not_found");
}
