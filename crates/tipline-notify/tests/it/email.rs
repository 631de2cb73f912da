//! Email against a real SMTP server on 127.0.0.1: what arrives (envelope, subject with
//! ticket, both parts, no injected headers), STARTTLS, implicit TLS, AUTH, retries,
//! permanent failures, idempotency, throttling, digests, the outbox and PGP/MIME.

use chrono::Duration;
use pgp::composed::{
    ArmorOptions, Deserializable, DetachedSignature, KeyType, SecretKeyParamsBuilder,
    SignedPublicKey,
};
use tipline_model::notify::{
    Classification, DigestInterval, NotificationRuleInput, NotificationStatus,
};
use tipline_notify::{SmtpTls, WorkerReport};
use tipline_testkit::smtp::{SmtpMode, SmtpServer};
use tipline_testkit::{TestBackend, backend_tests};

use crate::support::{ALPHA_NAME, Entity, World, alert, decoded_text};

backend_tests!(
    mail_arrives_over_starttls_with_auth,
    implicit_tls_and_a_plain_relay_deliver,
    the_same_key_mails_once,
    a_4xx_is_retried_then_delivered,
    a_5xx_fails_with_the_smtp_error,
    repeats_are_throttled_and_bursts_digested,
    without_smtp_mail_goes_to_the_outbox,
    signed_mail_verifies,
    a_preview_records_and_sends_nothing,
);

async fn mail_arrives_over_starttls_with_auth(backend: TestBackend) {
    let world = World::new(backend).await;
    let server = SmtpServer::start(SmtpMode::Starttls, Some(("tipline", "s3cret"))).await;
    let notifier = world.notifier(world.smtp_settings(
        &server,
        SmtpTls::Starttls,
        Some(("tipline", "s3cret")),
    ));
    // Template input with line breaks must not become headers.
    let request = alert(&world, "192.0.2.7\r\nBcc: leak@attacker.example", "case.new");
    let queued = notifier.email(&world.host, &request).await.unwrap();
    assert!(queued.created);
    let report = notifier.run_once().await.unwrap();
    assert_eq!(report, WorkerReport { sent: 1, ..Default::default() });

    let mail = &server.wait_for(1).await[0];
    assert!(mail.tls, "STARTTLS was used");
    assert_eq!(mail.auth_user.as_deref(), Some("tipline"));
    assert_eq!(mail.mail_from, "cert@cert-xy.example");
    assert_eq!(mail.rcpt_to, ["ciso@alpha.example", "soc@alpha.example"]);
    let message = Entity::parse(&mail.data);
    assert_eq!(
        message.header("subject").unwrap(),
        "[TIPLINE-2026-000001] HIGH c2-server: 192.0.2.7 Bcc: leak@attacker.example"
    );
    assert!(message.all("bcc").is_empty(), "no injected header: {:?}", message.headers);
    assert_eq!(message.all("subject").len(), 1);
    let to = message.header("to").unwrap();
    assert!(to.contains("<soc@alpha.example>") && to.contains("<ciso@alpha.example>"), "{to}");
    assert!(!to.contains('\r') && !to.contains('\n'));
    assert_eq!(message.header("from").unwrap(), "CERT-XY <cert@cert-xy.example>");
    assert_eq!(message.header("reply-to").unwrap(), "desk@cert-xy.example");
    let id = queued.notification.id;
    assert_eq!(message.header("message-id").unwrap(), format!("<{id}@cert-xy.example>"));
    assert!(message.header("content-type").unwrap().starts_with("multipart/alternative"));
    let parts: Vec<Entity> = message.parts().into_iter().map(Entity::parse).collect();
    assert_eq!(parts.len(), 2);
    assert!(parts[0].header("content-type").unwrap().starts_with("text/plain"));
    assert!(parts[1].header("content-type").unwrap().starts_with("text/html"));
    let text = decoded_text(&parts[0]);
    let html = decoded_text(&parts[1]);
    assert!(text.contains("Dear Alpha Energy"), "{text}");
    assert!(text.contains("signature: <ET MALWARE> beacon"), "{text}");
    assert!(text.contains("-- \r\nCERT-XY Incident Desk"), "{text}");
    assert!(html.contains("&lt;ET MALWARE&gt; beacon"), "{html}");
    assert!(!html.contains("<ET MALWARE>"), "{html}");
    assert!(html.contains("<pre class=\"signature\">-- \r\nCERT-XY Incident Desk"), "{html}");

    let stored = world.notification(id).await;
    assert_eq!(stored.status, NotificationStatus::Sent);
    assert_eq!(stored.attempts, 1);
    assert_eq!(stored.status_reason.as_deref(), Some("250 2.0.0 queued"));
    assert!(stored.sent_at.is_some());
    assert!(ALPHA_NAME.contains('\n'));
}

async fn implicit_tls_and_a_plain_relay_deliver(backend: TestBackend) {
    let world = World::new(backend).await;
    for (mode, tls, encrypted) in
        [(SmtpMode::ImplicitTls, SmtpTls::Tls, true), (SmtpMode::Plain, SmtpTls::None, false)]
    {
        let server = SmtpServer::start(mode, None).await;
        let notifier = world.notifier(world.smtp_settings(&server, tls, None));
        notifier
            .email(&world.host, &alert(&world, &format!("c2-{mode:?}.example"), "case.new"))
            .await
            .unwrap();
        assert_eq!(notifier.run_once().await.unwrap().sent, 1, "{mode:?}");
        let mail = &server.wait_for(1).await[0];
        assert_eq!(mail.tls, encrypted, "{mode:?}");
        assert!(mail.text().contains(&format!("c2-{mode:?}.example")));
    }
}

async fn the_same_key_mails_once(backend: TestBackend) {
    let world = World::new(backend).await;
    let server = SmtpServer::start(SmtpMode::Plain, None).await;
    let notifier = world.notifier(world.smtp_settings(&server, SmtpTls::None, None));
    let request = alert(&world, "case-42", "case.new");
    let first = notifier.email(&world.host, &request).await.unwrap();
    notifier.run_once().await.unwrap();
    world.clock.advance(Duration::days(90));
    let second = notifier.email(&world.host, &request).await.unwrap();
    assert!(!second.created);
    assert_eq!(second.notification.id, first.notification.id);
    assert_eq!(notifier.run_once().await.unwrap(), WorkerReport::default());
    server.wait_for(1).await;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(server.received().len(), 1);
}

async fn a_4xx_is_retried_then_delivered(backend: TestBackend) {
    let world = World::new(backend).await;
    let server = SmtpServer::start(SmtpMode::Plain, None).await;
    server.script_reply("451 4.3.0 mailbox busy, try later");
    let notifier = world.notifier(world.smtp_settings(&server, SmtpTls::None, None));
    let id = notifier
        .email(&world.host, &alert(&world, "case-7", "case.new"))
        .await
        .unwrap()
        .notification
        .id;
    assert_eq!(notifier.run_once().await.unwrap().retried, 1);
    let waiting = world.notification(id).await;
    assert_eq!(waiting.status, NotificationStatus::Queued);
    let error = waiting.last_error.unwrap();
    assert!(error.contains("451") && error.contains("mailbox busy"), "{error}");
    assert_eq!(waiting.next_attempt_at.unwrap(), world.clock_now() + Duration::seconds(60));
    // Not due yet: nothing happens.
    assert_eq!(notifier.run_once().await.unwrap(), WorkerReport::default());
    world.clock.advance(Duration::seconds(60));
    assert_eq!(notifier.run_once().await.unwrap().sent, 1);
    assert_eq!(server.wait_for(1).await.len(), 1);
    let sent = world.notification(id).await;
    assert_eq!(sent.status, NotificationStatus::Sent);
    assert_eq!(sent.attempts, 2);
}

async fn a_5xx_fails_with_the_smtp_error(backend: TestBackend) {
    let world = World::new(backend).await;
    let server = SmtpServer::start(SmtpMode::Plain, None).await;
    server.script_reply("550 5.7.1 message refused by policy");
    let notifier = world.notifier(world.smtp_settings(&server, SmtpTls::None, None));
    let id = notifier
        .email(&world.host, &alert(&world, "case-8", "case.new"))
        .await
        .unwrap()
        .notification
        .id;
    assert_eq!(notifier.run_once().await.unwrap().failed, 1);
    let failed = world.notification(id).await;
    assert_eq!(failed.status, NotificationStatus::Failed);
    let error = failed.last_error.unwrap();
    assert!(error.contains("550") && error.contains("refused by policy"), "{error}");
    assert!(error.contains("127.0.0.1"), "names the server: {error}");
    // Transient failures give up after the configured attempts, saying so.
    let id = notifier
        .email(&world.host, &alert(&world, "case-9", "case.new"))
        .await
        .unwrap()
        .notification
        .id;
    for _ in 0..3 {
        server.script_reply("421 4.7.0 too busy");
    }
    for _ in 0..3 {
        notifier.run_once().await.unwrap();
        world.clock.advance(Duration::minutes(10));
    }
    let gave_up = world.notification(id).await;
    assert_eq!(gave_up.status, NotificationStatus::Failed);
    assert!(gave_up.last_error.unwrap().starts_with("gave up after 3 attempts: "));
}

async fn repeats_are_throttled_and_bursts_digested(backend: TestBackend) {
    let world = World::new(backend).await;
    let server = SmtpServer::start(SmtpMode::Plain, None).await;
    let notifier = world.notifier(world.smtp_settings(&server, SmtpTls::None, None));
    // Host default: the same subject at most every 30 days.
    notifier.email(&world.host, &alert(&world, "203.0.113.5", "feed:2026-03-11")).await.unwrap();
    world.clock.advance(Duration::days(1));
    let repeat = notifier
        .email(&world.host, &alert(&world, "203.0.113.5", "feed:2026-03-12"))
        .await
        .unwrap();
    assert_eq!(repeat.notification.status, NotificationStatus::Suppressed);
    assert!(
        repeat.notification.status_reason.unwrap().starts_with("throttled: TIPLINE-2026-000001")
    );
    assert_eq!(notifier.run_once().await.unwrap().sent, 1);

    // Alpha groups blocklist notifications into an hourly digest.
    let admin = world.store.viewer(world.host.clone());
    admin
        .create_notification_rule(&NotificationRuleInput {
            org_id: Some(world.alpha),
            classification: Some(Classification::Blacklist),
            digest: Some(DigestInterval::Hourly),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut tickets = Vec::new();
    for ip in ["198.51.100.1", "198.51.100.2", "198.51.100.3"] {
        let mut request = alert(&world, ip, "listing.added");
        request.template = "listing".into();
        request.classification = Classification::Blacklist;
        request.context = serde_json::json!({ "list": "Spamhaus DROP" });
        let held = notifier.email(&world.host, &request).await.unwrap().notification;
        assert_eq!(held.status, NotificationStatus::PendingDigest);
        tickets.push(held.ticket);
    }
    assert_eq!(notifier.run_once().await.unwrap(), WorkerReport::default());
    world.clock.advance(Duration::hours(1));
    assert_eq!(
        notifier.run_once().await.unwrap(),
        WorkerReport { digests: 1, sent: 1, ..Default::default() }
    );
    let received = server.wait_for(2).await;
    let digest = Entity::parse(&received[1].data);
    let subject = digest.header("subject").unwrap();
    assert!(
        subject.ends_with("3 notifications for Alpha Energy Bcc: leak@attacker.example"),
        "{subject}"
    );
    let text = decoded_text(&Entity::parse(digest.parts()[0]));
    for ticket in &tickets {
        assert!(text.contains(ticket.as_str()), "{ticket} in {text}");
    }
}

async fn without_smtp_mail_goes_to_the_outbox(backend: TestBackend) {
    let world = World::new(backend).await;
    let notifier = world.notifier(world.settings());
    assert!(notifier.smtp_server().is_none());
    let id = notifier
        .email(&world.host, &alert(&world, "case-1", "case.new"))
        .await
        .unwrap()
        .notification
        .id;
    assert_eq!(notifier.run_once().await.unwrap().outboxed, 1);
    let stored = world.notification(id).await;
    assert_eq!(stored.status, NotificationStatus::Outbox);
    let path = std::path::PathBuf::from(stored.outbox_path.unwrap());
    assert_eq!(path, world.outbox.path().join(format!("TIPLINE-2026-000001-{id}.eml")));
    let eml = std::fs::read(&path).unwrap();
    let message = Entity::parse(&eml);
    assert_eq!(message.header("subject").unwrap(), "[TIPLINE-2026-000001] HIGH c2-server: case-1");
    assert!(message.header("to").unwrap().contains("soc@alpha.example"));
    // Listed through the store as the API lists it.
    let outbox = world
        .store
        .viewer(world.host.clone())
        .list_notifications(&tipline_store::NotificationQuery {
            status: Some(NotificationStatus::Outbox),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(outbox.items.len(), 1);
}

async fn signed_mail_verifies(backend: TestBackend) {
    let world = World::new(backend).await;
    let mut params = SecretKeyParamsBuilder::default();
    params
        .key_type(KeyType::Ed25519Legacy)
        .can_certify(true)
        .can_sign(true)
        .primary_user_id("CERT-XY <cert@cert-xy.example>".into());
    let secret = params.build().unwrap().generate(rand08::thread_rng()).unwrap();
    let armored = secret.to_armored_string(ArmorOptions::default()).unwrap();
    let public = SignedPublicKey::from(secret);

    let server = SmtpServer::start(SmtpMode::Plain, None).await;
    let mut settings = world.smtp_settings(&server, SmtpTls::None, None);
    settings.signing_key = Some((armored, None));
    let notifier = world.notifier(settings);
    assert!(notifier.signing_fingerprint().is_some());
    notifier.email(&world.host, &alert(&world, "signed.example", "case.new")).await.unwrap();
    notifier.run_once().await.unwrap();
    let mail = &server.wait_for(1).await[0];
    let message = Entity::parse(&mail.data);
    let content_type = message.header("content-type").unwrap();
    assert!(content_type.starts_with("multipart/signed"), "{content_type}");
    assert!(content_type.contains("protocol=\"application/pgp-signature\""), "{content_type}");
    assert!(
        content_type.contains("micalg=\"pgp-sha256\"")
            || content_type.contains("micalg=pgp-sha256"),
        "{content_type}"
    );
    let parts = message.parts();
    assert_eq!(parts.len(), 2);
    let signed = Entity::parse(parts[0]);
    assert!(signed.header("content-type").unwrap().starts_with("multipart/alternative"));
    let signature_part = Entity::parse(parts[1]);
    assert!(
        signature_part.header("content-type").unwrap().starts_with("application/pgp-signature")
    );
    let armored_signature = decoded_text(&signature_part);
    let (signature, _) = DetachedSignature::from_string(&armored_signature).unwrap();
    signature.verify(&public, parts[0]).expect("the signature verifies over the signed part");
    // Any change to the signed part breaks it.
    let mut tampered = parts[0].to_vec();
    let at = tampered.len() - 10;
    tampered[at] ^= 1;
    assert!(signature.verify(&public, &tampered).is_err());
}

impl World {
    fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        use tipline_notify::Clock;
        self.clock.now()
    }
}

async fn a_preview_records_and_sends_nothing(backend: TestBackend) {
    let world = World::new(backend).await;
    let notifier = world.notifier(world.settings());
    let preview = notifier
        .preview_email(&world.host, &alert(&world, "preview.example", "case.new"))
        .await
        .unwrap();
    assert_eq!(preview.recipients, ["ciso@alpha.example", "soc@alpha.example"]);
    assert_eq!(preview.subject, "[TIPLINE-PREVIEW] HIGH c2-server: preview.example");
    assert!(preview.body_text.contains("preview.example"));
    assert_eq!(preview.decision.repeat_interval_secs, Some(30 * 86_400));
    let listed = world
        .store
        .viewer(world.host.clone())
        .list_notifications(&tipline_store::NotificationQuery::default())
        .await
        .unwrap();
    assert!(listed.items.is_empty());
    assert_eq!(notifier.run_once().await.unwrap(), WorkerReport::default());
}
