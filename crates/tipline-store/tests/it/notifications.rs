//! Notifications: idempotency, tickets, rules (suppression, throttling, digests), the
//! delivery queue with leases, acknowledgement and who may do what.

use chrono::{DateTime, Duration, TimeZone, Utc};
use tipline_model::admin::{Contact, OrganizationInput};
use tipline_model::notify::{
    Channel, Classification, DigestInterval, NotificationRuleInput, NotificationStatus, Severity,
};
use tipline_model::{ContactRole, Principal, Role, Tlp};
use tipline_store::{
    DeliveryOutcome, Enqueued, NewNotification, NotificationQuery, Rendered, StoreError, Viewer,
};
use tipline_testkit::{TestBackend, backend_tests};
use uuid::Uuid;

use crate::support::World;

backend_tests!(
    the_same_key_notifies_once,
    rules_suppress_throttle_and_override,
    digests_group_held_notifications,
    the_queue_leases_and_retries,
    partners_see_and_edit_only_their_own,
    acknowledgement_is_recorded_once,
);

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 11, 9, 30, 0).unwrap()
}

fn request(
    org: Uuid,
    classification: Classification,
    subject: &str,
    reason: &str,
) -> NewNotification {
    NewNotification {
        org_id: org,
        channel: Channel::Email,
        template: "alert".into(),
        classification,
        severity: Severity::High,
        tlp: Tlp::Amber,
        subject_ref: subject.into(),
        reason: reason.into(),
        idempotency_key: None,
        ticket: None,
        contact_roles: None,
        webhook_url: None,
        context: serde_json::json!({ "ip": subject }),
    }
}

async fn send(viewer: &Viewer<'_>, input: &NewNotification, at: DateTime<Utc>) -> Enqueued {
    viewer
        .enqueue_notification(input, "TIPLINE", at, |plan| {
            Ok::<_, StoreError>(Rendered {
                subject: format!("[{}] {}", plan.ticket, input.subject_ref),
                body_text: "body".into(),
                body_html: None,
                raw_message: plan.deliverable().then(|| "raw".to_string()),
            })
        })
        .await
        .unwrap()
}

/// Give organization `org` contacts.
async fn contacts(world: &World, org: Uuid, name: &str, list: &[(ContactRole, &str)]) {
    let admin = world.store.viewer(world.host.clone());
    admin
        .update_organization(
            org,
            &OrganizationInput {
                name: name.into(),
                contacts: list
                    .iter()
                    .map(|(role, email)| Contact { role: *role, email: email.to_string() })
                    .collect(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
}

async fn the_same_key_notifies_once(backend: TestBackend) {
    let world = World::new(backend).await;
    let alpha = world.alpha.org_id;
    contacts(&world, alpha, "Alpha", &[(ContactRole::Security, "soc@alpha.example")]).await;
    let host = world.store.viewer(world.host.clone());
    let input = request(alpha, Classification::Phishing, "http://login.example/", "case.new");
    let first = send(&host, &input, t0()).await;
    assert!(first.created);
    let n = &first.notification;
    assert_eq!(n.ticket, "TIPLINE-2026-000001");
    assert_eq!(n.status, NotificationStatus::Queued);
    assert_eq!(n.recipients, ["soc@alpha.example"]);
    assert_eq!(n.subject, "[TIPLINE-2026-000001] http://login.example/");
    assert_eq!(n.idempotency_key, format!("email:{alpha}:case.new:http://login.example/"));
    let again = send(&host, &input, t0() + Duration::days(400)).await;
    assert!(!again.created);
    assert_eq!(again.notification.id, n.id);
    // A different reason is a different notification, with the next ticket; the host
    // default's 30-day repeat interval throttles it (same subject).
    let other = send(
        &host,
        &request(alpha, Classification::Phishing, "http://login.example/", "case.escalated"),
        t0(),
    )
    .await;
    assert_eq!(other.notification.ticket, "TIPLINE-2026-000002");
    assert_eq!(other.notification.status, NotificationStatus::Suppressed);
    let events = world.store.events_after(0, 1000).await.unwrap();
    let kinds: Vec<&str> = events
        .iter()
        .filter(|e| e.kind.starts_with("notification."))
        .map(|e| e.kind.as_str())
        .collect();
    assert_eq!(kinds, ["notification.queued", "notification.suppressed"]);
}

async fn rules_suppress_throttle_and_override(backend: TestBackend) {
    let world = World::new(backend).await;
    let (alpha, beta) = (world.alpha.org_id, world.beta.org_id);
    contacts(
        &world,
        alpha,
        "Alpha",
        &[
            (ContactRole::Security, "soc@alpha.example"),
            (ContactRole::Abuse, "abuse@alpha.example"),
        ],
    )
    .await;
    let host = world.store.viewer(world.host.clone());

    // Host default: infected systems at most every 7 days.
    let ip = "192.0.2.7";
    let first =
        send(&host, &request(alpha, Classification::InfectedSystem, ip, "feed:day1"), t0()).await;
    assert_eq!(first.notification.status, NotificationStatus::Queued);
    let second = send(
        &host,
        &request(alpha, Classification::InfectedSystem, ip, "feed:day2"),
        t0() + Duration::days(1),
    )
    .await;
    assert_eq!(second.notification.status, NotificationStatus::Suppressed);
    assert_eq!(
        second.notification.status_reason.as_deref().unwrap(),
        "throttled: TIPLINE-2026-000001 about `192.0.2.7` was recorded at 2026-03-11 09:30:00Z (queued); \
         rule 00000000-0000-7000-8000-000000000002 allows one every 7 days"
    );
    let eighth = send(
        &host,
        &request(alpha, Classification::InfectedSystem, ip, "feed:day8"),
        t0() + Duration::days(8),
    )
    .await;
    assert_eq!(eighth.notification.status, NotificationStatus::Queued);

    // A per-organization override beats the host default: Alpha wants no phishing mail,
    // and DDoS reports to its abuse desk.
    let suppress = host
        .create_notification_rule(&NotificationRuleInput {
            org_id: Some(alpha),
            classification: Some(Classification::Phishing),
            suppress: true,
            ..Default::default()
        })
        .await
        .unwrap();
    host.create_notification_rule(&NotificationRuleInput {
        org_id: Some(alpha),
        classification: Some(Classification::Ddos),
        contact_roles: vec![ContactRole::Abuse],
        ..Default::default()
    })
    .await
    .unwrap();
    let phishing =
        send(&host, &request(alpha, Classification::Phishing, "evil.example", "case.new"), t0())
            .await;
    assert_eq!(phishing.notification.status, NotificationStatus::Suppressed);
    assert_eq!(
        phishing.notification.status_reason.unwrap(),
        format!("suppressed by rule {} for phishing notifications to Alpha", suppress.id)
    );
    assert_eq!(phishing.notification.rule_id, Some(suppress.id));
    let ddos =
        send(&host, &request(alpha, Classification::Ddos, "198.51.100.0/24", "case.new"), t0())
            .await;
    assert_eq!(ddos.notification.recipients, ["abuse@alpha.example"]);
    // Beta has no such override (and no contacts): recorded with the reason.
    let beta_phishing =
        send(&host, &request(beta, Classification::Phishing, "evil.example", "case.new"), t0())
            .await;
    assert_eq!(beta_phishing.notification.status, NotificationStatus::Suppressed);
    assert_eq!(
        beta_phishing.notification.status_reason.unwrap(),
        "Beta has no contact with role security"
    );

    // The effective rules list the override before the host defaults.
    let effective = host.effective_notification_rules(alpha).await.unwrap();
    assert_eq!(effective[0].org_id, Some(alpha));
    assert!(effective.last().unwrap().org_id.is_none());
    // A locked host default (never email RED) beats the organization's own rules.
    host.create_notification_rule(&NotificationRuleInput {
        min_tlp: Some(Tlp::Red),
        suppress: true,
        locked: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let mut red = request(alpha, Classification::Ddos, "203.0.113.9", "case.new");
    red.tlp = Tlp::Red;
    let red = send(&host, &red, t0()).await;
    assert_eq!(red.notification.status, NotificationStatus::Suppressed);
}

async fn digests_group_held_notifications(backend: TestBackend) {
    let world = World::new(backend).await;
    let alpha = world.alpha.org_id;
    contacts(&world, alpha, "Alpha", &[(ContactRole::Security, "soc@alpha.example")]).await;
    let host = world.store.viewer(world.host.clone());
    host.create_notification_rule(&NotificationRuleInput {
        org_id: Some(alpha),
        classification: Some(Classification::Blacklist),
        digest: Some(DigestInterval::Daily),
        ..Default::default()
    })
    .await
    .unwrap();
    for (i, ip) in ["192.0.2.1", "192.0.2.2", "192.0.2.3"].iter().enumerate() {
        let n = send(
            &host,
            &request(alpha, Classification::Blacklist, ip, "listing.added"),
            t0() + Duration::minutes(i as i64),
        )
        .await;
        assert_eq!(n.notification.status, NotificationStatus::PendingDigest);
        assert_eq!(n.notification.digest_due_at.unwrap().to_rfc3339(), "2026-03-12T00:00:00+00:00");
    }
    assert!(host.due_digests(t0() + Duration::hours(1)).await.unwrap().is_empty());
    let groups = host.due_digests(t0() + Duration::days(1)).await.unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].items.len(), 3);
    assert_eq!(groups[0].items[0].1["ip"], "192.0.2.1");
    let close = |group| {
        host.close_digest(group, "TIPLINE", t0() + Duration::days(1), |plan| {
            Ok::<_, StoreError>(Rendered {
                subject: format!("[{}] digest", plan.ticket),
                body_text: "3 items".into(),
                body_html: None,
                raw_message: Some("raw".into()),
            })
        })
    };
    let digest = close(&groups[0]).await.unwrap();
    assert!(digest.created);
    assert_eq!(digest.notification.template, "digest");
    assert_eq!(digest.notification.status, NotificationStatus::Queued);
    assert_eq!(digest.notification.recipients, ["soc@alpha.example"]);
    assert!(!close(&groups[0]).await.unwrap().created, "closing twice is a no-op");
    let items = host
        .list_notifications(&NotificationQuery {
            status: Some(NotificationStatus::Digested),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(items.items.len(), 3);
    assert!(items.items.iter().all(|n| n.digest_id == Some(digest.notification.id)));
    assert!(host.due_digests(t0() + Duration::days(2)).await.unwrap().is_empty());
}

async fn the_queue_leases_and_retries(backend: TestBackend) {
    let world = World::new(backend).await;
    let alpha = world.alpha.org_id;
    contacts(&world, alpha, "Alpha", &[(ContactRole::Security, "soc@alpha.example")]).await;
    let host = world.store.viewer(world.host.clone());
    let n = send(&host, &request(alpha, Classification::C2Server, "c2.example", "case.new"), t0())
        .await
        .notification;
    let lease = std::time::Duration::from_secs(60);
    let claimed = host.claim_notifications("w1", t0(), lease, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].raw_message, "raw");
    assert_eq!(claimed[0].notification.attempts, 1);
    assert!(host.claim_notifications("w2", t0(), lease, 10).await.unwrap().is_empty(), "leased");
    // w1 dies; after the lease w2 takes over, and w1's late report is ignored.
    let later = t0() + Duration::seconds(61);
    let taken = host.claim_notifications("w2", later, lease, 10).await.unwrap();
    assert_eq!(taken[0].notification.attempts, 2);
    let sent = DeliveryOutcome::Sent { detail: Some("250 ok".into()) };
    assert!(!host.finish_delivery(n.id, "w1", &sent, later).await.unwrap());
    let retry =
        DeliveryOutcome::Retry { error: "451 try later".into(), at: later + Duration::seconds(30) };
    assert!(host.finish_delivery(n.id, "w2", &retry, later).await.unwrap());
    let stored = host.get_notification(n.id).await.unwrap();
    assert_eq!(stored.status, NotificationStatus::Queued);
    assert_eq!(stored.last_error.as_deref(), Some("451 try later"));
    assert!(
        host.claim_notifications("w2", later, lease, 10).await.unwrap().is_empty(),
        "not due yet"
    );
    let due = later + Duration::seconds(30);
    assert_eq!(host.claim_notifications("w3", due, lease, 10).await.unwrap().len(), 1);
    let failed = DeliveryOutcome::Failed { error: "550 no such user".into() };
    assert!(host.finish_delivery(n.id, "w3", &failed, due).await.unwrap());
    let stored = host.get_notification(n.id).await.unwrap();
    assert_eq!(stored.status, NotificationStatus::Failed);
    assert_eq!(stored.attempts, 3);
    assert_eq!(stored.last_error.as_deref(), Some("550 no such user"));
    // Partners do not run the queue.
    let partner = world.store.viewer(world.alpha.clone());
    assert!(matches!(
        partner.claim_notifications("p", due, lease, 1).await,
        Err(StoreError::Forbidden(_))
    ));
}

async fn partners_see_and_edit_only_their_own(backend: TestBackend) {
    let world = World::new(backend).await;
    let (alpha, beta) = (world.alpha.org_id, world.beta.org_id);
    contacts(&world, alpha, "Alpha", &[(ContactRole::Security, "soc@alpha.example")]).await;
    contacts(&world, beta, "Beta", &[(ContactRole::Security, "soc@beta.example")]).await;
    let host = world.store.viewer(world.host.clone());
    let to_alpha =
        send(&host, &request(alpha, Classification::Scanner, "192.0.2.9", "case.new"), t0())
            .await
            .notification;
    send(&host, &request(beta, Classification::Scanner, "198.51.100.9", "case.new"), t0()).await;

    let admin_of = |p: &Principal| Principal { role: Role::Admin, ..p.clone() };
    let alpha_admin = world.store.viewer(admin_of(&world.alpha));
    let alpha_analyst = world.store.viewer(world.alpha.clone());
    // Reading: only its own notifications.
    let seen = alpha_analyst.list_notifications(&NotificationQuery::default()).await.unwrap();
    assert_eq!(seen.items.iter().map(|n| n.id).collect::<Vec<_>>(), [to_alpha.id]);
    let beta_seen = world
        .store
        .viewer(world.beta.clone())
        .list_notifications(&NotificationQuery::default())
        .await
        .unwrap();
    assert!(matches!(
        world.store.viewer(world.beta.clone()).get_notification(to_alpha.id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(beta_seen.items.len(), 1);
    // A partner may notify only itself.
    let err = alpha_analyst
        .enqueue_notification(&request(beta, Classification::Scanner, "x", "y"), "T", t0(), |_| {
            Ok::<_, StoreError>(Rendered::default())
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Forbidden(_)), "{err}");

    // Rules: the partner's admin edits its own, within limits.
    let own = NotificationRuleInput {
        org_id: Some(alpha),
        classification: Some(Classification::Scanner),
        repeat_interval_secs: Some(86_400),
        ..Default::default()
    };
    let rule = alpha_admin.create_notification_rule(&own).await.unwrap();
    assert_eq!(rule.org_id, Some(alpha));
    fn forbidden<T: std::fmt::Debug>(r: Result<T, StoreError>) -> String {
        match r {
            Err(StoreError::Forbidden(m)) => m,
            other => panic!("expected forbidden, got {other:?}"),
        }
    }
    assert_eq!(
        forbidden(alpha_analyst.create_notification_rule(&own).await),
        "only administrators edit notification rules"
    );
    let for_beta = NotificationRuleInput { org_id: Some(beta), ..own.clone() };
    assert_eq!(
        forbidden(alpha_admin.create_notification_rule(&for_beta).await),
        "you may only edit your own organization's notification rules"
    );
    let default = NotificationRuleInput { org_id: None, ..own.clone() };
    forbidden(alpha_admin.create_notification_rule(&default).await);
    let beta_rule = host.create_notification_rule(&for_beta).await.unwrap();
    // Another organization's rules do not exist for it.
    assert!(matches!(
        alpha_admin.update_notification_rule(beta_rule.id, &own).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        alpha_admin.delete_notification_rule(beta_rule.id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        alpha_admin.get_notification_rule(beta_rule.id).await,
        Err(StoreError::NotFound { .. })
    ));
    let too_often = NotificationRuleInput { repeat_interval_secs: Some(60), ..own.clone() };
    let err = alpha_admin.create_notification_rule(&too_often).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid input: repeat_interval_secs: must be at least 3600 (one hour), got 60"
    );
    let locking = NotificationRuleInput { locked: true, ..own.clone() };
    assert!(matches!(
        alpha_admin.create_notification_rule(&locking).await,
        Err(StoreError::Invalid(_))
    ));
    let locked = host
        .create_notification_rule(&NotificationRuleInput { locked: true, ..own.clone() })
        .await
        .unwrap();
    assert_eq!(
        forbidden(alpha_admin.update_notification_rule(locked.id, &own).await),
        "this rule is locked by the host organization"
    );
    // Its own rule it may change and delete.
    let changed = NotificationRuleInput { suppress: true, ..own.clone() };
    assert!(alpha_admin.update_notification_rule(rule.id, &changed).await.unwrap().suppress);
    alpha_admin.delete_notification_rule(rule.id).await.unwrap();
    // It reads its own rules and the host defaults, not Beta's.
    assert_eq!(alpha_admin.list_notification_rules(None).await.unwrap().len(), 3);
    assert!(alpha_admin.list_notification_rules(Some(beta)).await.is_err());
}

async fn acknowledgement_is_recorded_once(backend: TestBackend) {
    let world = World::new(backend).await;
    let alpha = world.alpha.org_id;
    contacts(&world, alpha, "Alpha", &[(ContactRole::Security, "soc@alpha.example")]).await;
    let host = world.store.viewer(world.host.clone());
    let n =
        send(&host, &request(alpha, Classification::Phishing, "evil.example", "case.new"), t0())
            .await
            .notification;
    let beta = world.store.viewer(world.beta.clone());
    assert!(matches!(
        beta.acknowledge_notification(n.id, None, t0()).await,
        Err(StoreError::NotFound { .. })
    ));
    let alpha_viewer = world.store.viewer(Principal { role: Role::Viewer, ..world.alpha.clone() });
    let acked = alpha_viewer
        .acknowledge_notification(n.id, Some("blocked at the proxy"), t0())
        .await
        .unwrap();
    assert_eq!(acked.acknowledged_at, Some(t0()));
    assert_eq!(acked.ack_note.as_deref(), Some("blocked at the proxy"));
    let again = alpha_viewer
        .acknowledge_notification(n.id, Some("again"), t0() + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(again.acknowledged_at, Some(t0()));
    assert_eq!(again.ack_note.as_deref(), Some("blocked at the proxy"));
    let unacked = host
        .list_notifications(&NotificationQuery { acknowledged: Some(false), ..Default::default() })
        .await
        .unwrap();
    assert!(unacked.items.is_empty());
    let events = world.store.events_after(0, 1000).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.kind == "notification.acknowledged").count(), 1);
}
