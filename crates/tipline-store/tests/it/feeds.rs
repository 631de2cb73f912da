//! Feeds, their leases and pulls, and the listing history pulls record.

use std::time::Duration;

use chrono::Utc;
use tipline_model::admin::{ConstituencyEntry, OrganizationInput};
use tipline_model::feed::{FeedFormat, FeedInput, PullCounts, PullStatus};
use tipline_model::{IndicatorStatus, OrgKind, Principal, Role, Tlp, detect};
use tipline_store::{ClaimedFeed, ListedEntry, ListingQuery, PullOutcome, StoreError};
use tipline_testkit::{TestBackend, backend_tests};
use uuid::Uuid;

use crate::support::World;

backend_tests!(
    pulls_record_listing_periods_and_events,
    listings_are_found_by_value_and_constituency,
    leases_are_exclusive_and_fence_results,
    concurrent_claims_never_share_a_feed,
    failures_and_not_modified_keep_the_listings,
    config_feeds_sync_and_stay_config,
    feeds_are_for_the_host,
);

fn feed_input(name: &str) -> FeedInput {
    FeedInput {
        name: name.into(),
        source: Some("Spamhaus".into()),
        url: Some("https://lists.example/drop.txt".into()),
        format: Some(FeedFormat::Spamhaus),
        tlp: Some(Tlp::Green),
        confidence: Some(80),
        tags: vec!["drop".into()],
        ..Default::default()
    }
}

fn entry(value: &str, reference: Option<&str>) -> ListedEntry {
    ListedEntry {
        indicator: detect(value).unwrap(),
        reference: reference.map(str::to_string),
        comment: None,
    }
}

fn ok_outcome() -> PullOutcome {
    PullOutcome {
        status: PullStatus::Ok,
        counts: PullCounts::default(),
        error: None,
        etag: Some("\"v1\"".into()),
        last_modified: None,
        next_pull_at: Utc::now() + chrono::Duration::hours(1),
    }
}

async fn pull(world: &World, feed: Uuid, entries: Vec<ListedEntry>) -> PullCounts {
    let admin = world.store.viewer(world.host.clone());
    let claimed = admin.claim_feed(feed, "node-a", 60).await.unwrap();
    admin.apply_list_pull(&claimed, entries, 0, ok_outcome()).await.unwrap()
}

/// Outbox events after `after` as (kind, value, relisted) triples.
async fn listing_events(world: &World, after: i64) -> (Vec<(String, String, bool)>, i64) {
    let events = world.store.events_after(after, 1000).await.unwrap();
    let last = events.last().map_or(after, |e| e.seq);
    let listed = events
        .into_iter()
        .filter(|e| e.kind.starts_with("listing."))
        .map(|e| {
            (
                e.kind,
                e.payload["value"].as_str().unwrap().to_string(),
                e.payload["relisted"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    (listed, last)
}

async fn pulls_record_listing_periods_and_events(backend: TestBackend) {
    let world = World::new(backend).await;
    let admin = world.store.viewer(world.host.clone());
    let feed = admin.create_feed(&feed_input("spamhaus-drop")).await.unwrap();
    assert_eq!(feed.source_name, "Spamhaus", "the source organization is created");
    let (_, start) = listing_events(&world, 0).await;

    let counts = pull(
        &world,
        feed.id,
        vec![
            entry("192.0.2.0/24", Some("SBL1")),
            entry("198.51.100.7", None),
            entry("evil.example", None),
            entry("198.51.100.7", None),
        ],
    )
    .await;
    assert_eq!(counts, PullCounts { entries: 3, added: 3, removed: 0, unchanged: 0, rejected: 0 });
    let (events, seq) = listing_events(&world, start).await;
    assert_eq!(
        events,
        [
            ("listing.added".into(), "192.0.2.0/24".into(), false),
            ("listing.added".into(), "198.51.100.7".into(), false),
            ("listing.added".into(), "evil.example".into(), false),
        ]
    );
    let network = admin
        .search_indicators(&tipline_store::IndicatorQuery {
            value: Some("192.0.2.0/24".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .items
        .remove(0);
    assert_eq!(network.owner_id, feed.source_id, "indicators are owned by the source");
    assert_eq!((network.tlp, network.confidence), (Tlp::Green, 80));
    assert_eq!(network.tags, ["drop"]);
    assert_eq!(network.attributes["reference"], "SBL1");

    // The /24 disappears, 203.0.113.9 appears.
    let counts = pull(
        &world,
        feed.id,
        vec![entry("198.51.100.7", None), entry("evil.example", None), entry("203.0.113.9", None)],
    )
    .await;
    assert_eq!(counts, PullCounts { entries: 3, added: 1, removed: 1, unchanged: 2, rejected: 0 });
    let (events, seq) = listing_events(&world, seq).await;
    assert_eq!(
        events,
        [
            ("listing.added".into(), "203.0.113.9".into(), false),
            ("listing.removed".into(), "192.0.2.0/24".into(), false),
        ]
    );
    let expired = admin.get_indicator(network.id).await.unwrap();
    assert_eq!(expired.status, IndicatorStatus::Expired, "a delisted value expires");

    // The /24 is listed again: a new listing period, the indicator active again.
    let counts = pull(
        &world,
        feed.id,
        vec![
            entry("192.0.2.0/24", Some("SBL2")),
            entry("198.51.100.7", None),
            entry("evil.example", None),
        ],
    )
    .await;
    assert_eq!(counts, PullCounts { entries: 3, added: 1, removed: 1, unchanged: 2, rejected: 0 });
    let (events, _) = listing_events(&world, seq).await;
    assert_eq!(
        events,
        [
            ("listing.added".into(), "192.0.2.0/24".into(), true),
            ("listing.removed".into(), "203.0.113.9".into(), false),
        ]
    );
    assert_eq!(admin.get_indicator(network.id).await.unwrap().status, IndicatorStatus::Active);
    let history = admin
        .search_listings(&ListingQuery { value: Some("192.0.2.0/24".into()), ..Default::default() })
        .await
        .unwrap()
        .items;
    assert_eq!(history.len(), 2, "both listing periods are kept");
    assert!(history[0].delisted_at.is_some() && history[1].delisted_at.is_none());
    assert_eq!(
        (history[0].reference.as_deref(), history[1].reference.as_deref()),
        (Some("SBL1"), Some("SBL2"))
    );
    assert!(history[0].last_listed >= history[0].first_listed);
    assert!(history[0].delisted_at.unwrap() >= history[0].last_listed);
    let feed = admin.get_feed(feed.id).await.unwrap();
    assert_eq!(feed.status.listed, 3);
    assert_eq!(feed.status.last_counts.added, 1);
    assert_eq!(feed.status.last_pull_status, Some(PullStatus::Ok));
    assert_eq!(admin.feed_pulls(feed.id, 10).await.unwrap().len(), 3);
    let pulled: Vec<i64> = world
        .store
        .events_after(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "feed.pulled")
        .map(|e| e.payload["counts"]["added"].as_i64().unwrap())
        .collect();
    assert_eq!(pulled, [3, 1, 1], "one feed.pulled event per applied pull");
}

async fn listings_are_found_by_value_and_constituency(backend: TestBackend) {
    let world = World::new(backend).await;
    let admin = world.store.viewer(world.host.clone());
    let feed = admin.create_feed(&feed_input("mixed")).await.unwrap();
    pull(
        &world,
        feed.id,
        vec![
            entry("192.0.2.0/25", None),
            entry("198.51.100.7", None),
            entry("2001:db8:1::/48", None),
            entry("mail.alpha.example", None),
            entry("alpha.example.net", None),
            entry("AS64500", None),
            entry("203.0.113.1", None),
        ],
    )
    .await;
    let alpha = world.alpha.org_id;
    admin
        .update_organization(
            alpha,
            &OrganizationInput {
                name: "Alpha".into(),
                constituency: [
                    "192.0.2.64/26",
                    "198.51.100.0/24",
                    "2001:db8::/32",
                    "alpha.example",
                    "AS64500",
                ]
                .into_iter()
                .map(|v| ConstituencyEntry { kind: None, value: v.into() })
                .collect(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let values = |items: Vec<tipline_model::feed::Listing>| {
        let mut values: Vec<String> = items.into_iter().map(|l| l.value).collect();
        values.sort();
        values
    };
    let inside = admin
        .search_listings(&ListingQuery { org_id: Some(alpha), ..Default::default() })
        .await
        .unwrap()
        .items;
    assert_eq!(
        values(inside),
        ["192.0.2.0/25", "198.51.100.7", "2001:db8:1::/48", "AS64500", "mail.alpha.example"],
        "networks overlapping its CIDRs, its subdomains and ASN; not alpha.example.net"
    );
    let covering = |value: &str| {
        let admin = world.store.viewer(world.host.clone());
        let value = value.to_string();
        async move {
            values(
                admin
                    .search_listings(&ListingQuery { value: Some(value), ..Default::default() })
                    .await
                    .unwrap()
                    .items,
            )
        }
    };
    assert_eq!(covering("192.0.2.100").await, ["192.0.2.0/25"]);
    assert_eq!(covering("192.0.2.200").await, Vec::<String>::new());
    assert_eq!(covering("www.mail.alpha.example").await, ["mail.alpha.example"]);
    assert_eq!(covering("AS64500").await, ["AS64500"]);

    // Alpha may ask about itself, but listings are the source's GREEN data: it sees them
    // only once subscribed to the source.
    let alpha_viewer = world.store.viewer(world.alpha.clone());
    let own = ListingQuery { org_id: Some(alpha), ..Default::default() };
    assert!(alpha_viewer.search_listings(&own).await.unwrap().items.is_empty());
    admin.subscribe(alpha, feed.source_id).await.unwrap();
    assert_eq!(alpha_viewer.search_listings(&own).await.unwrap().items.len(), 5);
    let other = ListingQuery { org_id: Some(world.beta.org_id), ..Default::default() };
    assert!(matches!(alpha_viewer.search_listings(&other).await, Err(StoreError::NotFound { .. })));
}

async fn leases_are_exclusive_and_fence_results(backend: TestBackend) {
    let world = World::new(backend).await;
    let admin = world.store.viewer(world.host.clone());
    let feed = admin.create_feed(&feed_input("leased")).await.unwrap();
    let first = admin.claim_due_feed("node-a", 1).await.unwrap().expect("the new feed is due");
    assert_eq!(first.feed.id, feed.id);
    assert!(admin.claim_due_feed("node-b", 60).await.unwrap().is_none(), "leased");
    let conflict = admin.claim_feed(feed.id, "node-b", 60).await.unwrap_err();
    assert!(matches!(conflict, StoreError::Conflict(ref m) if m.contains("node-a")), "{conflict}");
    assert_eq!(admin.get_feed(feed.id).await.unwrap().status.leased_by.as_deref(), Some("node-a"));

    // node-a stalls past its lease; node-b takes over; node-a's late result is discarded.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let second: ClaimedFeed = admin.claim_due_feed("node-b", 60).await.unwrap().expect("expired");
    let late = admin.apply_list_pull(&first, vec![entry("192.0.2.1", None)], 0, ok_outcome()).await;
    assert!(matches!(late, Err(StoreError::Conflict(_))), "{late:?}");
    let listed = ListingQuery { feed_id: Some(feed.id), ..Default::default() };
    assert!(admin.search_listings(&listed).await.unwrap().items.is_empty(), "rolled back");
    assert!(
        admin.search_indicators(&Default::default()).await.unwrap().items.is_empty(),
        "its indicators too"
    );
    admin.apply_list_pull(&second, vec![entry("192.0.2.2", None)], 0, ok_outcome()).await.unwrap();
    assert_eq!(admin.search_listings(&listed).await.unwrap().items.len(), 1);
    let feed = admin.get_feed(feed.id).await.unwrap();
    assert_eq!(feed.status.leased_by, None, "released");
    assert!(feed.status.next_pull_at > Utc::now(), "not due again until the interval passes");
    assert!(admin.claim_due_feed("node-a", 60).await.unwrap().is_none());
}

async fn concurrent_claims_never_share_a_feed(backend: TestBackend) {
    let world = World::new(backend).await;
    let admin = world.store.viewer(world.host.clone());
    for name in ["a", "b", "c"] {
        admin.create_feed(&feed_input(name)).await.unwrap();
    }
    let mut tasks = Vec::new();
    for node in 0..8 {
        let store = world.store.clone();
        let host = world.host.clone();
        tasks.push(tokio::spawn(async move {
            store.viewer(host).claim_due_feed(&format!("node-{node}"), 60).await.unwrap()
        }));
    }
    let mut claimed = Vec::new();
    for task in tasks {
        if let Some(c) = task.await.unwrap() {
            claimed.push(c.feed.id);
        }
    }
    claimed.sort();
    let before = claimed.len();
    claimed.dedup();
    assert_eq!(before, claimed.len(), "no feed claimed twice");
    assert_eq!(claimed.len(), 3, "every due feed claimed once");
}

async fn failures_and_not_modified_keep_the_listings(backend: TestBackend) {
    let world = World::new(backend).await;
    let admin = world.store.viewer(world.host.clone());
    let feed = admin.create_feed(&feed_input("flaky")).await.unwrap();
    pull(&world, feed.id, vec![entry("192.0.2.1", None), entry("192.0.2.2", None)]).await;
    let (_, seq) = listing_events(&world, 0).await;
    let claimed = admin.claim_feed(feed.id, "node-a", 60).await.unwrap();
    let retry_at = Utc::now() + chrono::Duration::seconds(30);
    admin
        .record_pull(
            &claimed.lease,
            &PullOutcome {
                status: PullStatus::Failed,
                error: Some(
                    "http 500 Internal Server Error from https://lists.example/drop.txt".into(),
                ),
                next_pull_at: retry_at,
                ..ok_outcome()
            },
        )
        .await
        .unwrap();
    let failed = admin.get_feed(feed.id).await.unwrap();
    assert_eq!(failed.status.listed, 2, "a failed pull removes nothing");
    assert_eq!(failed.status.consecutive_failures, 1);
    assert_eq!(failed.status.last_pull_status, Some(PullStatus::Failed));
    assert!(failed.status.last_error.as_deref().unwrap().contains("http 500"));
    assert_eq!(failed.status.last_counts.added, 2, "the last good counts stay");
    let claimed = admin.claim_feed(feed.id, "node-a", 60).await.unwrap();
    assert_eq!(claimed.etag.as_deref(), Some("\"v1\""), "validators of the applied content");
    admin
        .record_pull(
            &claimed.lease,
            &PullOutcome { status: PullStatus::NotModified, ..ok_outcome() },
        )
        .await
        .unwrap();
    let fine = admin.get_feed(feed.id).await.unwrap();
    assert_eq!((fine.status.listed, fine.status.consecutive_failures), (2, 0));
    assert_eq!(fine.status.last_pull_status, Some(PullStatus::NotModified));
    assert!(fine.status.last_error.is_some(), "the last error is kept for the record");
    let (events, _) = listing_events(&world, seq).await;
    assert!(events.is_empty(), "neither outcome writes listing events");
    let pulls = admin.feed_pulls(feed.id, 10).await.unwrap();
    let statuses: Vec<PullStatus> = pulls.iter().map(|p| p.status).collect();
    assert_eq!(statuses, [PullStatus::NotModified, PullStatus::Failed, PullStatus::Ok]);
}

async fn config_feeds_sync_and_stay_config(backend: TestBackend) {
    let world = World::new(backend).await;
    let admin = world.store.viewer(world.host.clone());
    let changes = admin.sync_config_feeds(&[feed_input("one"), feed_input("two")]).await.unwrap();
    assert_eq!(changes, ["added feed `one`", "added feed `two`"]);
    assert!(
        admin.sync_config_feeds(&[feed_input("one"), feed_input("two")]).await.unwrap().is_empty()
    );
    let two = admin.find_feed("TWO").await.unwrap();
    pull(&world, two.id, vec![entry("192.0.2.1", None)]).await;
    let changed = FeedInput { interval_secs: Some(60), ..feed_input("one") };
    let changes = admin.sync_config_feeds(&[changed]).await.unwrap();
    assert_eq!(changes, ["updated feed `one`", "removed feed `two`"]);
    assert_eq!(admin.find_feed("one").await.unwrap().interval_secs, 60);
    assert!(matches!(admin.find_feed("two").await, Err(StoreError::NotFound { .. })));
    let history = admin
        .search_listings(&ListingQuery { feed_id: Some(two.id), ..Default::default() })
        .await
        .unwrap()
        .items;
    assert_eq!(history.len(), 1, "a removed feed's listings stay as history");
    assert!(history[0].delisted_at.is_some());
    let one = admin.find_feed("one").await.unwrap();
    assert!(
        matches!(admin.remove_feed(one.id).await, Err(StoreError::Conflict(m)) if m.contains("configuration file"))
    );
    admin.create_feed(&feed_input("api-feed")).await.unwrap();
    let clash = admin.sync_config_feeds(&[feed_input("one"), feed_input("API-FEED")]).await;
    assert!(
        matches!(clash, Err(StoreError::Conflict(m)) if m.contains("also added through the API"))
    );
    let duplicate = admin.create_feed(&feed_input("one")).await;
    assert!(matches!(duplicate, Err(StoreError::Conflict(_))));
    let not_source =
        admin.create_feed(&FeedInput { source: Some("Alpha".into()), ..feed_input("x") }).await;
    assert!(
        matches!(not_source, Err(StoreError::Invalid(ref e)) if e[0].reason == "`Alpha` is a partner organization, not a source"),
        "{not_source:?}"
    );
}

async fn feeds_are_for_the_host(backend: TestBackend) {
    let world = World::new(backend).await;
    let admin = world.store.viewer(world.host.clone());
    let feed = admin.create_feed(&feed_input("private")).await.unwrap();
    let partner = world.store.viewer(world.alpha.clone());
    assert!(matches!(partner.list_feeds().await, Err(StoreError::Forbidden(_))));
    assert!(matches!(partner.create_feed(&feed_input("x")).await, Err(StoreError::Forbidden(_))));
    let host_viewer = world.store.viewer(Principal {
        user_id: None,
        org_id: world.host.org_id,
        org_kind: OrgKind::Host,
        role: Role::Viewer,
    });
    assert_eq!(host_viewer.get_feed(feed.id).await.unwrap().name, "private");
    assert!(matches!(host_viewer.remove_feed(feed.id).await, Err(StoreError::Forbidden(_))));
    admin.remove_feed(feed.id).await.unwrap();
    assert!(admin.list_feeds().await.unwrap().is_empty());
    admin.create_feed(&feed_input("private")).await.expect("a removed feed's name is free");
}
