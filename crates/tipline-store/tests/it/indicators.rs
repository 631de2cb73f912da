//! Indicator upsert, search, pagination and the owners query.

use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use tipline_model::intel::{IndicatorInput, IndicatorPatch};
use tipline_model::{IndicatorKind, Tlp};
use tipline_store::{IndicatorQuery, StoreError};
use tipline_testkit::{TestBackend, backend_tests};

use crate::support::World;

backend_tests!(
    upsert_merges_instead_of_duplicating,
    bulk_upsert_is_all_or_nothing,
    search_filters_and_pages,
    owners_lists_only_visible_holders,
    viewers_cannot_write,
    partners_write_only_their_own,
    patch_replaces_and_checks_ownership,
);

fn input(value: &str) -> IndicatorInput {
    IndicatorInput { value: value.into(), ..Default::default() }
}

async fn upsert_merges_instead_of_duplicating(backend: TestBackend) {
    let world = World::new(backend).await;
    let alpha = world.store.viewer(world.alpha.clone());
    let early = Utc::now() - Duration::days(10);
    let (first, created) = alpha
        .upsert_indicator(&IndicatorInput {
            tags: vec!["Botnet".into()],
            tlp: Some(Tlp::Green),
            confidence: Some(80),
            first_seen: Some(early),
            last_seen: Some(early),
            attributes: BTreeMap::from([("port".into(), "23".into())]),
            ..input("hxxp://Evil[.]Example/Login")
        })
        .await
        .unwrap();
    assert!(created);
    assert_eq!(
        (first.kind, first.value.as_str()),
        (IndicatorKind::Url, "http://evil.example/Login")
    );
    let (second, created) = alpha
        .upsert_indicator(&IndicatorInput {
            tags: vec!["mirai".into()],
            ..input("http://evil.example/Login")
        })
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(second.id, first.id);
    assert_eq!(second.tags, ["botnet", "mirai"]);
    assert_eq!(second.tlp, Tlp::Green, "a field not given keeps its stored value");
    assert_eq!(second.confidence, 80);
    assert_eq!(second.first_seen, first.first_seen);
    assert!(second.last_seen > first.last_seen);
    assert_eq!(second.attributes.get("port").map(String::as_str), Some("23"));
    // Another owner's copy of the same value is a separate indicator.
    let (beta_copy, created) = world
        .store
        .viewer(world.beta.clone())
        .upsert_indicator(&input("http://evil.example/Login"))
        .await
        .unwrap();
    assert!(created);
    assert_ne!(beta_copy.id, first.id);
    // Both writes produced outbox events in order.
    let events = world.store.events_after(0, 100).await.unwrap();
    let kinds: Vec<_> = events
        .iter()
        .filter(|e| e.kind.starts_with("indicator."))
        .map(|e| e.kind.as_str())
        .collect();
    assert_eq!(kinds, ["indicator.created", "indicator.updated", "indicator.created"]);
}

async fn bulk_upsert_is_all_or_nothing(backend: TestBackend) {
    let world = World::new(backend).await;
    let alpha = world.store.viewer(world.alpha.clone());
    let err = alpha
        .upsert_indicators(&[
            input("192.0.2.1"),
            IndicatorInput { kind: Some(IndicatorKind::Ipv4), ..input("300.1.1.1") },
            IndicatorInput { confidence: Some(101), ..input("evil.example") },
        ])
        .await
        .unwrap_err();
    let StoreError::Invalid(errors) = err else { panic!("expected invalid, got {err}") };
    let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["items[1].value", "items[2].confidence"]);
    let page = alpha.search_indicators(&IndicatorQuery::default()).await.unwrap();
    assert!(page.items.is_empty(), "nothing may be written when one item is invalid");

    // A valid batch with duplicates and a mix of new and existing values.
    alpha.upsert_indicator(&input("192.0.2.1")).await.unwrap();
    let summary = alpha
        .upsert_indicators(&[
            input("192.0.2.1"),
            IndicatorInput { tags: vec!["a".into()], ..input("evil.example") },
            IndicatorInput { tags: vec!["b".into()], ..input("EVIL.example.") },
            input("d41d8cd98f00b204e9800998ecf8427e"),
        ])
        .await
        .unwrap();
    assert_eq!((summary.created, summary.updated), (2, 1));
    assert_eq!(summary.ids.len(), 4);
    assert_eq!(summary.ids[1], summary.ids[2], "duplicates in one batch share an indicator");
    let domain = alpha.get_indicator(summary.ids[1]).await.unwrap();
    assert_eq!(domain.tags, ["a", "b"]);
}

async fn search_filters_and_pages(backend: TestBackend) {
    let world = World::new(backend).await;
    let alpha = world.store.viewer(world.alpha.clone());
    let inputs: Vec<_> = (0..25)
        .map(|i| IndicatorInput {
            tags: vec![if i % 2 == 0 { "even".into() } else { "odd".into() }],
            ..input(&format!("198.51.100.{i}"))
        })
        .collect();
    alpha.upsert_indicators(&inputs).await.unwrap();
    alpha.upsert_indicator(&input("evil.example")).await.unwrap();

    let mut seen = Vec::new();
    let mut query =
        IndicatorQuery { kind: Some(IndicatorKind::Ipv4), limit: Some(10), ..Default::default() };
    loop {
        let page = alpha.search_indicators(&query).await.unwrap();
        seen.extend(page.items.iter().map(|i| i.value.clone()));
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => break,
        }
    }
    assert_eq!(seen.len(), 25, "pages cover every ipv4 exactly once");
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 25);

    let evens = alpha
        .search_indicators(&IndicatorQuery {
            tag: Some("EVEN".into()),
            limit: Some(100),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(evens.items.len(), 13);
    let exact = alpha
        .search_indicators(&IndicatorQuery {
            value: Some("evil[.]example".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(exact.items.len(), 1);
    let future = alpha
        .search_indicators(&IndicatorQuery {
            updated_since: Some(Utc::now() + Duration::hours(1)),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(future.items.is_empty());
    let bad = alpha
        .search_indicators(&IndicatorQuery { cursor: Some("garbage".into()), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(bad.to_string(), "invalid input: cursor: not a cursor returned by this server");
    let bad = alpha
        .search_indicators(&IndicatorQuery { limit: Some(5000), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(bad.to_string(), "invalid input: limit: must be between 1 and 1000, got 5000");
}

async fn owners_lists_only_visible_holders(backend: TestBackend) {
    let world = World::new(backend).await;
    let value = "203.0.113.9";
    let share =
        |tlp| IndicatorInput { tlp: Some(tlp), shared_to: vec![world.community], ..input(value) };
    world.store.viewer(world.alpha.clone()).upsert_indicator(&share(Tlp::Green)).await.unwrap();
    world.store.viewer(world.beta.clone()).upsert_indicator(&share(Tlp::Red)).await.unwrap();
    world
        .store
        .viewer(world.gamma.clone())
        .upsert_indicator(&IndicatorInput { tlp: Some(Tlp::Clear), ..input(value) })
        .await
        .unwrap();
    let names = |holders: Vec<tipline_model::intel::Holder>| {
        let mut names: Vec<_> = holders.into_iter().map(|h| h.owner_name).collect();
        names.sort();
        names
    };
    let as_beta = world.store.viewer(world.beta.clone()).owners(value, None).await.unwrap();
    assert_eq!(names(as_beta), ["Alpha", "Beta", "Gamma"]);
    let as_alpha = world.store.viewer(world.alpha.clone()).owners(value, None).await.unwrap();
    assert_eq!(names(as_alpha), ["Alpha", "Gamma"], "beta's RED copy stays hidden");
    let as_gamma = world.store.viewer(world.gamma.clone()).owners(value, None).await.unwrap();
    assert_eq!(names(as_gamma), ["Gamma"]);
    let err =
        world.store.viewer(world.gamma.clone()).owners("not a value!", None).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(ref e) if e[0].field == "value"), "{err}");
}

async fn viewers_cannot_write(backend: TestBackend) {
    let world = World::new(backend).await;
    let mut viewer = world.alpha.clone();
    viewer.role = tipline_model::Role::Viewer;
    let err = world.store.viewer(viewer).upsert_indicator(&input("192.0.2.1")).await.unwrap_err();
    assert!(matches!(err, StoreError::Forbidden(_)), "{err}");
}

async fn partners_write_only_their_own(backend: TestBackend) {
    let world = World::new(backend).await;
    let alpha = world.store.viewer(world.alpha.clone());
    let err = alpha
        .upsert_indicator(&IndicatorInput {
            owner_id: Some(world.beta.org_id),
            ..input("192.0.2.1")
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Forbidden(_)), "{err}");
    // Sharing to a community the owner is not in is refused with the field named.
    let admin = world.store.viewer(world.host.clone());
    let other = admin
        .create_community(&tipline_model::admin::CommunityInput {
            name: "other".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let err = alpha
        .upsert_indicator(&IndicatorInput { shared_to: vec![other.id], ..input("192.0.2.1") })
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("invalid input: shared_to[0]: the owner is not a member of community {}", other.id)
    );
    // The host may write for a source it curates.
    let (indicator, _) = admin
        .upsert_indicator(&IndicatorInput {
            owner_id: Some(world.source.org_id),
            ..input("192.0.2.1")
        })
        .await
        .unwrap();
    assert_eq!(indicator.owner_id, world.source.org_id);
    // But not for a partner.
    let err = admin
        .upsert_indicator(&IndicatorInput {
            owner_id: Some(world.alpha.org_id),
            ..input("192.0.2.1")
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Forbidden(_)), "{err}");
}

async fn patch_replaces_and_checks_ownership(backend: TestBackend) {
    let world = World::new(backend).await;
    let alpha = world.store.viewer(world.alpha.clone());
    let (indicator, _) = alpha
        .upsert_indicator(&IndicatorInput {
            tags: vec!["x".into()],
            tlp: Some(Tlp::Green),
            shared_to: vec![world.community],
            ..input("evil.example")
        })
        .await
        .unwrap();
    assert_eq!(indicator.sharing.as_ref().unwrap().shared_to, [world.community]);
    // Beta sees it through the community but may not change it, nor see its sharing.
    let beta = world.store.viewer(world.beta.clone());
    let seen = beta.get_indicator(indicator.id).await.unwrap();
    assert!(seen.sharing.is_none());
    let err = beta
        .patch_indicator(
            indicator.id,
            &IndicatorPatch { confidence: Some(1), ..Default::default() },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Forbidden(_)), "{err}");
    let patched = alpha
        .patch_indicator(
            indicator.id,
            &IndicatorPatch {
                tags: Some(vec!["Y".into()]),
                tlp: Some(Tlp::Red),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(patched.tags, ["y"]);
    assert_eq!(patched.tlp, Tlp::Red);
    assert!(matches!(beta.get_indicator(indicator.id).await, Err(StoreError::NotFound { .. })));
}
