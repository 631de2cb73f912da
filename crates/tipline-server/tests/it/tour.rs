//! The README tour: an organization, an indicator shared to a community, seen from another
//! member's token, and the owners and neighbourhood questions.

use reqwest::StatusCode;
use serde_json::json;
use tipline_testkit::{TestBackend, backend_tests};

use crate::support::TestApp;

backend_tests!(share_to_a_community_and_see_it_from_another_member);

async fn share_to_a_community_and_see_it_from_another_member(backend: TestBackend) {
    let app = TestApp::spawn(backend).await;
    let alpha = app.org("Alpha Energy", "partner").await;
    let beta = app.org("Beta Water", "partner").await;
    let gamma = app.org("Gamma Telecom", "partner").await;
    let community = app.community("critical-infrastructure", &[&alpha, &beta]).await;
    let alpha_token = app.user_token(&alpha, "analyst@alpha.example", "analyst").await;
    let beta_token = app.user_token(&beta, "analyst@beta.example", "viewer").await;
    let gamma_token = app.user_token(&gamma, "analyst@gamma.example", "analyst").await;

    let created = app
        .post(
            "/api/v1/indicators",
            &alpha_token,
            json!({ "value": "hxxp://login-update[.]example/wp", "tlp": "green", "confidence": 85,
                    "tags": ["phishing"], "shared_to": [community] }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    assert_eq!(created.body["kind"], "url");
    assert_eq!(created.body["value"], "http://login-update.example/wp");
    assert_eq!(created.body["sharing"]["shared_to"], json!([community]));
    let id = created.body["id"].as_str().unwrap();

    let seen = app.get(&format!("/api/v1/indicators/{id}"), &beta_token).await;
    assert_eq!(seen.status, StatusCode::OK, "{seen:?}");
    assert_eq!(seen.body["confidence"], 85);
    assert!(seen.body.get("sharing").is_none(), "only the owner sees whom it is shared with");
    let search = app.get("/api/v1/indicators?tag=phishing", &beta_token).await;
    assert_eq!(search.body["items"].as_array().unwrap().len(), 1);

    let hidden = app.get(&format!("/api/v1/indicators/{id}"), &gamma_token).await;
    TestApp::problem(&hidden, StatusCode::NOT_FOUND, "not_found");
    let search = app.get("/api/v1/indicators", &gamma_token).await;
    assert_eq!(search.body["items"], json!([]));

    // Gamma also holds the value, at CLEAR: the owners question shows both to beta.
    app.post(
        "/api/v1/indicators",
        &gamma_token,
        json!({ "value": "http://login-update.example/wp", "tlp": "clear" }),
    )
    .await;
    let owners =
        app.get("/api/v1/owners?value=hxxp://login-update[.]example/wp", &beta_token).await;
    assert_eq!(owners.status, StatusCode::OK, "{owners:?}");
    let mut names: Vec<_> =
        owners.body.as_array().unwrap().iter().map(|h| h["owner_name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["Alpha Energy", "Gamma Telecom"]);

    // A campaign, associated, appears in the neighbourhood for the community member.
    let campaign = app
        .post("/api/v1/groups", &alpha_token, json!({ "kind": "campaign", "name": "Spring phish", "tlp": "green", "shared_to": [community] }))
        .await;
    assert_eq!(campaign.status, StatusCode::CREATED, "{campaign:?}");
    let link = app
        .post(
            "/api/v1/associations",
            &alpha_token,
            json!({ "source_id": id, "relationship": "indicates", "target_id": campaign.body["id"], "tlp": "green", "shared_to": [community] }),
        )
        .await;
    assert_eq!(link.status, StatusCode::CREATED, "{link:?}");
    let hood = app
        .get(
            &format!(
                "/api/v1/objects/{}/neighbourhood?depth=2",
                campaign.body["id"].as_str().unwrap()
            ),
            &beta_token,
        )
        .await;
    assert_eq!(hood.status, StatusCode::OK, "{hood:?}");
    assert_eq!(hood.body["indicators"].as_array().unwrap().len(), 1);
    assert_eq!(hood.body["associations"].as_array().unwrap().len(), 1);
    // Beta reports a sighting of it.
    let beta_analyst = app.user_token(&beta, "soc@beta.example", "analyst").await;
    let sighting = app
        .post("/api/v1/sightings", &beta_analyst, json!({ "indicator_id": id, "count": 2 }))
        .await;
    assert_eq!(sighting.status, StatusCode::CREATED, "{sighting:?}");
    let after = app.get(&format!("/api/v1/indicators/{id}"), &alpha_token).await;
    assert_eq!(after.body["observation_count"], 2);
}
