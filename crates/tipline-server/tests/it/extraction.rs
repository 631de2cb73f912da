//! `POST /api/v1/extract`: plain text and JSON bodies, the import, roles and bad input.

use reqwest::StatusCode;
use serde_json::json;
use tipline_testkit::{TestBackend, backend_tests};

use crate::support::TestApp;

backend_tests!(text_and_json_bodies_give_hits, import_needs_a_writer_and_is_one_transaction);

const REPORT: &str = "C2 hxxp://evil[.]example[.]com/gate.php at 198.51.100[.]7, \
    exploiting CVE-2021-44228; also evil[.]example[.]com and invoice.pdf";

async fn text(app: &TestApp, query: &str, body: &str, token: &str) -> crate::support::Reply {
    let response = app
        .client
        .post(app.url(&format!("/api/v1/extract{query}")))
        .bearer_auth(token)
        .header("content-type", "text/plain; charset=utf-8")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    TestApp::reply(response).await
}

async fn text_and_json_bodies_give_hits(backend: TestBackend) {
    let app = TestApp::spawn(backend).await;
    let reply = text(&app, "", REPORT, &app.admin_token).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let kinds: Vec<(&str, &str)> = reply.body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["kind"].as_str().unwrap(), h["value"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("url", "http://evil.example.com/gate.php"),
            ("ipv4", "198.51.100.7"),
            ("cve", "CVE-2021-44228"),
            ("domain", "evil.example.com"),
        ]
    );
    assert_eq!(reply.body["hits"][1]["raw"], "198.51.100[.]7");
    assert_eq!(reply.body["counts"], json!({"cve": 1, "domain": 1, "ipv4": 1, "url": 1}));
    assert_eq!(reply.body["import"], json!(null));

    let reply = text(&app, "?hosts=true&unique=true", REPORT, &app.admin_token).await;
    assert_eq!(reply.body["counts"]["domain"], 1);

    let body = json!({"text": REPORT, "kinds": ["domain", "cve"]});
    let reply = app.post("/api/v1/extract", &app.admin_token, body).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["counts"], json!({"cve": 1, "domain": 1}));

    let reply = app
        .post("/api/v1/extract", &app.admin_token, json!({"text": "x", "kinds": ["colour"]}))
        .await;
    let problem = TestApp::problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "kinds[0]");
    let reply = app.post("/api/v1/extract", &app.admin_token, json!({"txt": "x"})).await;
    assert!(reply.status.is_client_error(), "{:?}", reply.body);
    let response = app
        .client
        .post(app.url("/api/v1/extract?hosts=true"))
        .bearer_auth(&app.admin_token)
        .json(&json!({"text": "x"}))
        .send()
        .await
        .unwrap();
    let reply = TestApp::reply(response).await;
    TestApp::problem(&reply, StatusCode::BAD_REQUEST, "bad_request");
    let reply = text(&app, "?colour=red", REPORT, &app.admin_token).await;
    let problem = TestApp::problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "colour");
    let reply = text(&app, "", REPORT, "tpl_not_a_token").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

async fn import_needs_a_writer_and_is_one_transaction(backend: TestBackend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("Alpha", "partner").await;
    let analyst = app.user_token(&org, "analyst@alpha.example", "analyst").await;
    let viewer = app.user_token(&org, "viewer@alpha.example", "viewer").await;

    let reply = text(&app, "?report_name=Op%20X", REPORT, &viewer).await;
    TestApp::problem(&reply, StatusCode::FORBIDDEN, "forbidden");
    let page = app.get("/api/v1/groups", &analyst).await;
    assert_eq!(page.body["items"], json!([]));

    let body =
        json!({"text": REPORT, "import": {"report_name": "Op X", "tlp": "green", "tags": ["apt"]}});
    let reply = app.post("/api/v1/extract", &analyst, body.clone()).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let import = &reply.body["import"];
    assert_eq!(import["report_created"], true);
    assert_eq!(
        (import["indicators_created"].as_u64(), import["vulnerabilities_created"].as_u64()),
        (Some(3), Some(1))
    );
    assert_eq!(import["associations_created"], 4);
    let report_id = import["report_id"].as_str().unwrap();
    let report = app.get(&format!("/api/v1/groups/{report_id}"), &analyst).await;
    assert_eq!(
        (report.body["kind"].as_str(), report.body["owner_id"].as_str()),
        (Some("report"), Some(org.as_str()))
    );
    let edges = app.get(&format!("/api/v1/associations?object_id={report_id}"), &analyst).await;
    assert_eq!(edges.body.as_array().map(Vec::len), Some(4), "{:?}", edges.body);
    assert!(edges.body.as_array().unwrap().iter().all(|a| a["relationship"] == "related-to"));

    let again = app.post("/api/v1/extract", &analyst, body).await;
    assert_eq!(again.body["import"]["report_id"], report_id);
    assert_eq!(again.body["import"]["associations_created"], 0);
}
