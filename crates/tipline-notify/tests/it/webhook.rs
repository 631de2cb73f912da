//! Webhooks against a local HTTP server: the HMAC signature verifies, retries after a 5xx,
//! idempotency, and the guard against internal addresses.

use chrono::Duration;
use tipline_model::Tlp;
use tipline_model::notify::{Classification, NotificationStatus, Severity};
use tipline_notify::{NotifyError, WebhookRequest, webhook};
use tipline_testkit::http_sink::HttpSink;
use tipline_testkit::{TestBackend, backend_tests};

use crate::support::World;

backend_tests!(webhooks_are_signed_retried_and_sent_once, internal_targets_are_refused);

fn request(world: &World, url: &str) -> WebhookRequest {
    WebhookRequest {
        org_id: world.alpha,
        url: url.into(),
        classification: Classification::Ddos,
        severity: Severity::Critical,
        tlp: Tlp::Green,
        subject_ref: "198.51.100.0/24".into(),
        reason: "case.new".into(),
        context: serde_json::json!({ "peak_gbps": 42 }),
        ticket: Some("CASE-2026-7".into()),
        idempotency_key: None,
    }
}

async fn webhooks_are_signed_retried_and_sent_once(backend: TestBackend) {
    let world = World::new(backend).await;
    let sink = HttpSink::start().await;
    sink.script_status(503);
    let mut settings = world.settings();
    settings.webhook_secret = Some(tipline_notify::Secret::new("master-secret"));
    settings.outbound.allowed_networks = vec!["127.0.0.0/8".parse().unwrap()];
    let notifier = world.notifier(settings);
    let url = sink.url("/hooks/tipline");
    let queued = notifier.webhook(&world.host, &request(&world, &url)).await.unwrap();
    assert_eq!(queued.notification.ticket, "CASE-2026-7");
    assert_eq!(queued.notification.recipients, std::slice::from_ref(&url));

    assert_eq!(notifier.run_once().await.unwrap().retried, 1);
    let waiting = world.notification(queued.notification.id).await;
    assert!(waiting.last_error.unwrap().contains("http 503"));
    world.clock.advance(Duration::minutes(1));
    assert_eq!(notifier.run_once().await.unwrap().sent, 1);
    let requests = sink.wait_for(2).await;
    let key = notifier.webhook_key(&url).unwrap();
    assert_eq!(key, webhook::endpoint_key("master-secret", &url));
    for received in &requests {
        assert_eq!(received.method, "POST");
        assert_eq!(received.path, "/hooks/tipline");
        assert_eq!(received.headers["content-type"], "application/json");
        assert_eq!(received.headers["x-tipline-delivery"], queued.notification.id.to_string());
        assert_eq!(received.headers["x-tipline-event"], "case.new");
        assert_eq!(received.headers["x-tipline-ticket"], "CASE-2026-7");
        let signature = &received.headers["x-tipline-signature"];
        assert!(
            webhook::verify(&key, signature, &received.body, world.clock_secs(), 300),
            "{signature}"
        );
        assert!(!webhook::verify(&key, signature, b"{}", world.clock_secs(), 300));
    }
    let payload: serde_json::Value = serde_json::from_slice(&requests[1].body).unwrap();
    assert_eq!(payload["ticket"], "CASE-2026-7");
    assert_eq!(payload["event"], "case.new");
    assert_eq!(payload["classification"], "ddos");
    assert_eq!(payload["taxonomy"], "availability");
    assert_eq!(payload["org"]["id"], world.alpha.to_string());
    assert_eq!(payload["data"]["peak_gbps"], 42);
    assert!(payload.get("signature").is_none());
    assert_eq!(world.notification(queued.notification.id).await.status, NotificationStatus::Sent);

    // The same request again: no second POST.
    let again = notifier.webhook(&world.host, &request(&world, &url)).await.unwrap();
    assert!(!again.created);
    notifier.run_once().await.unwrap();
    assert_eq!(sink.requests().len(), 2);
}

async fn internal_targets_are_refused(backend: TestBackend) {
    let world = World::new(backend).await;
    let sink = HttpSink::start().await;
    let mut settings = world.settings();
    settings.webhook_secret = Some(tipline_notify::Secret::new("master-secret"));
    let notifier = world.notifier(settings);
    let err = notifier.webhook(&world.host, &request(&world, &sink.url("/x"))).await.unwrap_err();
    assert!(matches!(err, NotifyError::Invalid(_)), "{err}");
    assert_eq!(
        err.to_string(),
        "invalid notification: url: refusing to connect to internal address 127.0.0.1"
    );
    // A host name resolving to loopback is refused at connection time, permanently.
    let name_url = format!("http://localhost:{}/x", sink.addr.port());
    let queued = notifier.webhook(&world.host, &request(&world, &name_url)).await.unwrap();
    assert_eq!(notifier.run_once().await.unwrap().failed, 1);
    let failed = world.notification(queued.notification.id).await;
    assert!(failed.last_error.unwrap().contains("refusing to connect to internal address"));
    assert!(sink.requests().is_empty());
    // Without a master secret webhooks cannot be signed, so they are not accepted.
    let unsigned = world.notifier(world.settings());
    let err = unsigned
        .webhook(&world.host, &request(&world, "https://hooks.example.org/x"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("notify.webhook_secret is not set"), "{err}");
}

impl World {
    fn clock_secs(&self) -> i64 {
        use tipline_notify::Clock;
        self.clock.now().timestamp()
    }
}
