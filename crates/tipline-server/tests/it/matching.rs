//! Matching over HTTP: `POST /api/v1/match` (values and records, filtered by the caller's
//! visibility, with adversaries), `GET /api/v1/constituency`, warninglist import and the
//! `warnings` of indicator reads; the index follows writes made through the API.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tipline_testkit::{TestBackend, backend_tests};

use crate::support::TestApp;

backend_tests!(
    matches_are_filtered_by_visibility_and_follow_changes,
    constituency_names_the_most_specific_organization,
    warninglists_import_and_flag_values
);

fn hit_values(result: &Value) -> Vec<String> {
    let mut values: Vec<String> = result["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["value"].as_str().unwrap().to_string())
        .collect();
    values.sort();
    values
}

async fn matches_are_filtered_by_visibility_and_follow_changes(backend: TestBackend) {
    let app = TestApp::spawn(backend).await;
    let alpha = app.org("Alpha Energy", "partner").await;
    let beta = app.org("Beta Water", "partner").await;
    let feed = app.org("drop-feed", "source").await;
    let isac = app.community("energy-isac", &[&alpha]).await;
    let alpha_token = app.user_token(&alpha, "a@alpha.example", "analyst").await;
    let beta_token = app.user_token(&beta, "b@beta.example", "analyst").await;
    let indicator = |token: &str, body: Value| {
        let app = &app;
        let token = token.to_string();
        async move {
            let reply = app.post("/api/v1/indicators", &token, body).await;
            assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
            reply.body["id"].as_str().unwrap().to_string()
        }
    };
    let network = indicator(
        &alpha_token,
        json!({ "value": "198.51.100.0/24", "tlp": "green", "shared_to": [isac] }),
    )
    .await;
    indicator(&alpha_token, json!({ "value": "198.51.100.7", "tlp": "red" })).await;
    indicator(&beta_token, json!({ "value": "evil.example", "tlp": "amber" })).await;
    indicator(
        &app.admin_token,
        json!({ "value": "203.0.113.0/24", "tlp": "clear", "owner_id": feed }),
    )
    .await;
    let adversary = app
        .post(
            "/api/v1/groups",
            &alpha_token,
            json!({ "kind": "adversary", "name": "APT-Test", "tlp": "green", "shared_to": [isac] }),
        )
        .await;
    assert_eq!(adversary.status, StatusCode::CREATED, "{adversary:?}");
    let association = app
        .post(
            "/api/v1/associations",
            &alpha_token,
            json!({ "source_id": network, "relationship": "attributed-to",
                    "target_id": adversary.body["id"], "tlp": "green", "shared_to": [isac] }),
        )
        .await;
    assert_eq!(association.status, StatusCode::CREATED, "{association:?}");

    let values =
        json!({ "values": ["198.51.100.7", "www.evil.example", "203.0.113.9", "not a value"] });
    let reply = app.post("/api/v1/match", &alpha_token, values.clone()).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let results = &reply.body["results"];
    assert_eq!(hit_values(&results[0]), ["198.51.100.0/24", "198.51.100.7"]);
    let network_hit = results[0]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["value"] == "198.51.100.0/24")
        .unwrap();
    assert_eq!(network_hit["owner"], "Alpha Energy");
    assert_eq!(network_hit["tlp"], "green");
    assert_eq!(network_hit["kind"], "cidr");
    assert_eq!(network_hit["adversaries"][0]["name"], "APT-Test");
    assert!(hit_values(&results[1]).is_empty(), "beta's unshared amber stays hidden");
    assert_eq!(hit_values(&results[2]), ["203.0.113.0/24"]);
    assert_eq!(results[2]["hits"][0]["owner"], "drop-feed");
    assert!(results[3]["error"].as_str().unwrap().starts_with("invalid indicator"));

    let reply = app.post("/api/v1/match", &beta_token, values).await;
    let results = &reply.body["results"];
    assert!(hit_values(&results[0]).is_empty(), "green to a community beta is not in, and red");
    assert_eq!(hit_values(&results[1]), ["evil.example"], "parent domain of its own indicator");
    assert_eq!(hit_values(&results[2]), ["203.0.113.0/24"], "clear is visible to all");

    // Records: observables are extracted and matched.
    let eve = r#"{"event_type":"alert","src_ip":"198.51.100.99","dest_ip":"192.0.2.1","tls":{"sni":"a.evil.example"}}"#;
    let reply = app
        .post("/api/v1/match", &beta_token, json!({ "records": [eve, "{oops"], "format": "eve" }))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let results = &reply.body["results"];
    assert_eq!(results[0]["record"], 0);
    assert_eq!(hit_values(&results[0]), ["evil.example"]);
    assert_eq!(results[0]["hits"][0]["field"], "tls.sni");
    assert!(
        results[1]["error"].as_str().unwrap().starts_with("records[1]: not an EVE JSON object")
    );

    // The index follows changes: a false positive stops matching at once.
    let reply = app
        .call(
            reqwest::Method::PATCH,
            &format!("/api/v1/indicators/{network}"),
            Some(&alpha_token),
            Some(json!({ "status": "false_positive" })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let reply =
        app.post("/api/v1/match", &alpha_token, json!({ "values": ["198.51.100.7"] })).await;
    assert_eq!(hit_values(&reply.body["results"][0]), ["198.51.100.7"]);

    let reply =
        app.post("/api/v1/match", &alpha_token, json!({ "values": [], "format": "xml" })).await;
    let problem = TestApp::problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "format");
}

async fn constituency_names_the_most_specific_organization(backend: TestBackend) {
    let app = TestApp::spawn(backend).await;
    let make = |name: &'static str, constituency: Value| {
        let app = &app;
        async move {
            let reply = app
                .post(
                    "/api/v1/organizations",
                    &app.admin_token,
                    json!({ "name": name, "constituency": constituency }),
                )
                .await;
            assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
            reply.body["id"].as_str().unwrap().to_string()
        }
    };
    let telco = make("Telco", json!([{ "value": "192.0.2.0/24" }, { "value": "AS64500" }])).await;
    let school =
        make("School", json!([{ "value": "192.0.2.128/25" }, { "value": "school.example" }])).await;
    let ask = |token: &str, value: &str| {
        let app = &app;
        let url = format!("/api/v1/constituency?value={value}");
        let token = token.to_string();
        async move {
            let reply = app.get(&url, &token).await;
            assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
            reply.body["victims"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| {
                    format!(
                        "{}:{}:{}",
                        v["org"].as_str().unwrap(),
                        v["by"].as_str().unwrap(),
                        v["registered"].as_str().unwrap()
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let admin = app.admin_token.clone();
    assert_eq!(ask(&admin, "192.0.2.200").await, ["School:cidr:192.0.2.128/25"]);
    assert_eq!(ask(&admin, "192.0.2.1").await, ["Telco:cidr:192.0.2.0/24"]);
    assert_eq!(ask(&admin, "AS64500").await, ["Telco:asn:AS64500"]);
    assert_eq!(
        ask(&admin, "hxxps://www.school[.]example/login").await,
        ["School:domain:school.example"]
    );
    assert!(ask(&admin, "198.51.100.1").await.is_empty());

    // Partners learn only about themselves.
    let school_token = app.user_token(&school, "it@school.example", "viewer").await;
    assert_eq!(ask(&school_token, "192.0.2.200").await, ["School:cidr:192.0.2.128/25"]);
    assert!(ask(&school_token, "192.0.2.1").await.is_empty());

    // A change of registration reaches the index.
    let reply = app
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/organizations/{telco}"),
            Some(&app.admin_token),
            Some(json!({ "name": "Telco", "constituency": [{ "value": "198.51.100.0/24" }] })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(ask(&admin, "198.51.100.1").await, ["Telco:cidr:198.51.100.0/24"]);
    assert!(ask(&admin, "192.0.2.1").await.is_empty());

    let reply = app.get("/api/v1/constituency?value=300.1.1.1", &app.admin_token).await;
    TestApp::problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
}

async fn warninglists_import_and_flag_values(backend: TestBackend) {
    let app = TestApp::spawn(backend).await;
    let dns = include_str!("../../../../testdata/warninglists/public-dns-v4/list.json");
    let document: Value = serde_json::from_str(dns).unwrap();
    let reply = app.post("/api/v1/warninglists", &app.admin_token, document.clone()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    assert_eq!(reply.body["name"], "List of known IPv4 public DNS resolvers");
    assert_eq!(reply.body["list_type"], "cidr");
    let reply = app.post("/api/v1/warninglists", &app.admin_token, document).await;
    assert_eq!(reply.status, StatusCode::OK, "importing again replaces");

    let partner = app.org("Alpha", "partner").await;
    let token = app.user_token(&partner, "a@alpha.example", "analyst").await;
    let reply = app
        .post(
            "/api/v1/warninglists",
            &token,
            json!({ "name": "x", "description": "", "version": 1, "type": "string", "list": [] }),
        )
        .await;
    TestApp::problem(&reply, StatusCode::FORBIDDEN, "forbidden");
    let reply = app
        .post("/api/v1/warninglists", &app.admin_token, json!({ "name": "bad", "description": "", "version": 1, "type": "cidr", "list": ["8.8.8.300"] }))
        .await;
    let problem = TestApp::problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "list[0]");
    let reply = app.get("/api/v1/warninglists", &token).await;
    assert_eq!(reply.body.as_array().unwrap().len(), 1);

    let reply = app.post("/api/v1/indicators", &token, json!({ "value": "8.8.8.8" })).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    assert_eq!(
        reply.body["warnings"][0]["message"],
        "8.8.8.8 is on list 'List of known IPv4 public DNS resolvers'"
    );
    let id = reply.body["id"].as_str().unwrap().to_string();
    let reply = app.get(&format!("/api/v1/indicators/{id}"), &token).await;
    assert_eq!(reply.body["warnings"][0]["list"], "List of known IPv4 public DNS resolvers");
    let reply = app.post("/api/v1/indicators", &token, json!({ "value": "192.0.2.55" })).await;
    assert_eq!(reply.body["warnings"], json!([]));
    let reply = app.post("/api/v1/match", &token, json!({ "values": ["8.8.4.4"] })).await;
    assert_eq!(reply.body["results"][0]["warnings"][0]["entry"], "8.8.4.4");
}
