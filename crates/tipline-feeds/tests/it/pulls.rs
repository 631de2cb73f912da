//! Feed pulls against a local HTTP server and files: listings and outbox events as lists
//! change, conditional GETs, failures that keep the previous data, MISP feeds.

use std::time::Duration;

use chrono::Utc;
use tipline_feeds::{PullReport, PullSettings, Silent, pull};
use tipline_model::feed::{CsvOptions, FeedFormat, FeedInput, PullCounts, PullStatus};
use tipline_store::{IndicatorQuery, ListingQuery};
use tipline_testkit::{TestBackend, backend_tests};
use uuid::Uuid;

use crate::support::{ListServer, World, feed, outbound, testdata};

backend_tests!(
    list_pulls_record_added_removed_and_relisted,
    failures_keep_the_listings_and_back_off,
    bad_and_empty_lists_change_nothing,
    csv_and_file_feeds,
    misp_feeds_pull_incrementally,
    a_malformed_misp_event_is_rejected_and_retried,
);

async fn pull_now(world: &World, feed: Uuid) -> PullReport {
    let admin = world.admin();
    let claimed = admin.claim_feed(feed, "test-node", 60).await.unwrap();
    pull(&admin, &outbound(), &claimed, &PullSettings::default(), &Silent).await.unwrap()
}

/// (kind, value) of the listing events among `events`.
fn listing_events(events: &[tipline_store::Event]) -> Vec<(String, String, bool)> {
    events
        .iter()
        .filter(|e| e.kind.starts_with("listing."))
        .map(|e| {
            (
                e.kind.clone(),
                e.payload["value"].as_str().unwrap().to_string(),
                e.payload["relisted"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

async fn open_values(world: &World, feed: Uuid) -> Vec<String> {
    let page = world
        .admin()
        .search_listings(&ListingQuery {
            feed_id: Some(feed),
            current: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut values: Vec<String> = page.items.into_iter().map(|l| l.value).collect();
    values.sort();
    values
}

const V1: &str = "; synthetic DROP\n192.0.2.0/25 ; SBL1\n198.51.100.0/24 ; SBL2\n203.0.113.7\n";
const V2: &str =
    "; synthetic DROP\n198.51.100.0/24 ; SBL2\n203.0.113.7\n2001:db8:bad::/48 ; SBL4\n";
const V3: &str = "; synthetic DROP\n192.0.2.0/25 ; SBL5\n198.51.100.0/24 ; SBL2\n203.0.113.7\n";

async fn list_pulls_record_added_removed_and_relisted(backend: TestBackend) {
    let world = World::new(backend).await;
    let server = ListServer::start().await;
    server.put("/drop.txt", V1, Some("\"v1\""));
    let feed = world
        .admin()
        .create_feed(&feed("drop", server.url("/drop.txt"), FeedFormat::Spamhaus))
        .await
        .unwrap();
    let (_, seq) = world.events_after(0).await;

    let report = pull_now(&world, feed.id).await;
    assert_eq!(report.status, PullStatus::Ok);
    assert_eq!(
        report.counts,
        PullCounts { entries: 3, added: 3, removed: 0, unchanged: 0, rejected: 0 }
    );
    let (events, seq) = world.events_after(seq).await;
    assert_eq!(listing_events(&events).len(), 3);
    assert_eq!(events.iter().filter(|e| e.kind == "indicator.created").count(), 3);

    // Unchanged on the server: a conditional GET answered 304.
    let report = pull_now(&world, feed.id).await;
    assert_eq!(report.status, PullStatus::NotModified);
    assert_eq!(server.requests().last().unwrap().1.as_deref(), Some("\"v1\""));
    let (events, seq) = world.events_after(seq).await;
    assert!(events.is_empty(), "{events:?}");

    server.put("/drop.txt", V2, Some("\"v2\""));
    let report = pull_now(&world, feed.id).await;
    assert_eq!(
        report.counts,
        PullCounts { entries: 3, added: 1, removed: 1, unchanged: 2, rejected: 0 }
    );
    let (events, seq) = world.events_after(seq).await;
    assert_eq!(
        listing_events(&events),
        [
            ("listing.added".to_string(), "2001:db8:bad::/48".to_string(), false),
            ("listing.removed".to_string(), "192.0.2.0/25".to_string(), false),
        ]
    );
    assert_eq!(
        open_values(&world, feed.id).await,
        ["198.51.100.0/24", "2001:db8:bad::/48", "203.0.113.7"]
    );

    server.put("/drop.txt", V3, Some("\"v3\""));
    pull_now(&world, feed.id).await;
    let (events, _) = world.events_after(seq).await;
    assert_eq!(
        listing_events(&events),
        [
            ("listing.added".to_string(), "192.0.2.0/25".to_string(), true),
            ("listing.removed".to_string(), "2001:db8:bad::/48".to_string(), false),
        ]
    );
    let history = world
        .admin()
        .search_listings(&ListingQuery { value: Some("192.0.2.10".into()), ..Default::default() })
        .await
        .unwrap()
        .items;
    let periods: Vec<(Option<&str>, bool)> =
        history.iter().map(|l| (l.reference.as_deref(), l.delisted_at.is_some())).collect();
    assert_eq!(periods, [(Some("SBL1"), true), (Some("SBL5"), false)], "two listing periods");
    let feed = world.admin().get_feed(feed.id).await.unwrap();
    assert_eq!(feed.status.listed, 3);
    assert_eq!(feed.status.last_pull_status, Some(PullStatus::Ok));
    let statuses: Vec<PullStatus> =
        world.admin().feed_pulls(feed.id, 10).await.unwrap().iter().map(|p| p.status).collect();
    assert_eq!(statuses, [PullStatus::Ok, PullStatus::Ok, PullStatus::NotModified, PullStatus::Ok]);
}

async fn failures_keep_the_listings_and_back_off(backend: TestBackend) {
    let world = World::new(backend).await;
    let server = ListServer::start().await;
    server.put("/drop.txt", V1, None);
    let feed = world
        .admin()
        .create_feed(&feed("flaky", server.url("/drop.txt"), FeedFormat::Spamhaus))
        .await
        .unwrap();
    pull_now(&world, feed.id).await;
    let (_, seq) = world.events_after(0).await;
    let listed = open_values(&world, feed.id).await;
    assert_eq!(listed.len(), 3);

    // A server error: nothing changes, the error is recorded, a retry is scheduled.
    server.put("/drop.txt", V2, None);
    server.fail_next(1);
    let before = Utc::now();
    let report = pull_now(&world, feed.id).await;
    assert_eq!(report.status, PullStatus::Failed);
    let error = report.error.unwrap();
    assert!(error.starts_with("http 500 Internal Server Error from http://127.0.0.1:"), "{error}");
    let retry = (report.next_pull_at - before).num_seconds();
    assert!((55..=65).contains(&retry), "first retry after the 60 s base, got {retry} s");
    let status = world.admin().get_feed(feed.id).await.unwrap().status;
    assert_eq!((status.consecutive_failures, status.listed), (1, 3));
    assert_eq!(status.last_error.as_deref(), Some(error.as_str()));

    // A second failure doubles the delay: a slow server, past the client's timeout.
    server.delay(Duration::from_secs(4));
    let before = Utc::now();
    let report = pull_now(&world, feed.id).await;
    let error = report.error.unwrap();
    assert!(error.starts_with("timed out after 1 s requesting http://127.0.0.1:"), "{error}");
    let retry = (report.next_pull_at - before).num_seconds();
    assert!((115..=125).contains(&retry), "second retry after 120 s, got {retry} s");
    assert_eq!(open_values(&world, feed.id).await, listed, "failures delist nothing");
    let (events, seq) = world.events_after(seq).await;
    assert!(listing_events(&events).is_empty());

    // Back to normal: the new content applies and the failure count resets.
    server.delay(Duration::ZERO);
    let report = pull_now(&world, feed.id).await;
    assert_eq!((report.status, report.counts.added, report.counts.removed), (PullStatus::Ok, 1, 1));
    let status = world.admin().get_feed(feed.id).await.unwrap().status;
    assert_eq!(status.consecutive_failures, 0);
    let (events, _) = world.events_after(seq).await;
    assert_eq!(listing_events(&events).len(), 2);

    // A missing list is a failure too.
    let gone = world
        .admin()
        .create_feed(&crate::support::feed("gone", server.url("/nothing.txt"), FeedFormat::Plain))
        .await
        .unwrap();
    let report = pull_now(&world, gone.id).await;
    assert!(report.error.unwrap().starts_with("http 404 Not Found from"));
}

async fn bad_and_empty_lists_change_nothing(backend: TestBackend) {
    let world = World::new(backend).await;
    let server = ListServer::start().await;
    server.put("/list.txt", "192.0.2.1\n192.0.2.2\n", None);
    let strict = world
        .admin()
        .create_feed(&feed("strict", server.url("/list.txt"), FeedFormat::Plain))
        .await
        .unwrap();
    pull_now(&world, strict.id).await;

    server.put("/list.txt", "192.0.2.1\n192.0.2.300\n# comment\n10.0.0.1/8\n", None);
    let report = pull_now(&world, strict.id).await;
    assert_eq!(report.status, PullStatus::Failed);
    assert_eq!(
        report.error.unwrap(),
        format!(
            "{}: 2 bad lines, nothing applied (set lenient to skip bad lines): \
             line 2: invalid indicator `192.0.2.300`: ipv4: octet `300` is greater than 255; \
             line 4: invalid cidr `10.0.0.1/8`: host bits set; the network is 10.0.0.0/8",
            server.url("/list.txt")
        )
    );
    assert_eq!(open_values(&world, strict.id).await, ["192.0.2.1", "192.0.2.2"]);

    let lenient = world
        .admin()
        .create_feed(&FeedInput {
            lenient: Some(true),
            ..feed("lenient", server.url("/list.txt"), FeedFormat::Plain)
        })
        .await
        .unwrap();
    let report = pull_now(&world, lenient.id).await;
    assert_eq!(
        report.counts,
        PullCounts { entries: 1, added: 1, removed: 0, unchanged: 0, rejected: 2 }
    );

    // An empty download never delists everything by accident.
    server.put("/list.txt", "# nothing today\n", None);
    let report = pull_now(&world, strict.id).await;
    assert!(report.error.unwrap().contains("the list is empty but 2 entries are listed"));
    assert_eq!(open_values(&world, strict.id).await.len(), 2);
    let allowed = world
        .admin()
        .create_feed(&FeedInput {
            allow_empty: Some(true),
            ..feed("allowed", server.url("/list.txt"), FeedFormat::Plain)
        })
        .await
        .unwrap();
    server.put("/list.txt", "192.0.2.9\n", None);
    pull_now(&world, allowed.id).await;
    server.put("/list.txt", "", None);
    let report = pull_now(&world, allowed.id).await;
    assert_eq!((report.status, report.counts.removed), (PullStatus::Ok, 1));
}

async fn csv_and_file_feeds(backend: TestBackend) {
    let world = World::new(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("phishing.csv");
    std::fs::copy(testdata("feeds/phishing-synthetic.csv"), &list).unwrap();
    let input = FeedInput {
        name: "phishing".into(),
        path: Some(list.display().to_string()),
        format: Some(FeedFormat::Csv),
        csv: Some(CsvOptions {
            reference_column: Some("id".into()),
            comment_column: Some("target".into()),
            ..CsvOptions::new("url")
        }),
        tags: vec!["phishing".into()],
        ..Default::default()
    };
    let feed = world.admin().create_feed(&input).await.unwrap();
    let report = pull_now(&world, feed.id).await;
    assert_eq!(report.status, PullStatus::Ok, "{report:?}");
    assert_eq!(
        report.counts,
        PullCounts { entries: 3, added: 3, removed: 0, unchanged: 0, rejected: 0 }
    );
    let listings = world
        .admin()
        .search_listings(&ListingQuery { feed_id: Some(feed.id), ..Default::default() })
        .await
        .unwrap()
        .items;
    let rows: Vec<(&str, Option<&str>, Option<&str>)> = listings
        .iter()
        .map(|l| (l.value.as_str(), l.reference.as_deref(), l.comment.as_deref()))
        .collect();
    assert_eq!(
        rows,
        [
            ("http://login-update.example/wp", Some("PH-1"), Some("Example Bank")),
            ("http://198.51.100.23/secure/", Some("PH-2"), Some("Example Post")),
            ("https://invoice.example.net/pay", Some("PH-3"), Some("Example Telecom")),
        ]
    );
    let tagged = world
        .admin()
        .search_indicators(&IndicatorQuery { tag: Some("phishing".into()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(tagged.items.len(), 3);
    // The same file again: not modified (size and time unchanged).
    assert_eq!(pull_now(&world, feed.id).await.status, PullStatus::NotModified);
    // A real FireHOL netset with its header.
    let netset = world
        .admin()
        .create_feed(&FeedInput {
            name: "firehol-drop".into(),
            path: Some(testdata("feeds/spamhaus_drop-trimmed.netset").display().to_string()),
            format: Some(FeedFormat::Netset),
            ..Default::default()
        })
        .await
        .unwrap();
    let report = pull_now(&world, netset.id).await;
    assert_eq!((report.counts.entries, report.counts.added), (20, 20));
    let missing = world
        .admin()
        .create_feed(&FeedInput {
            name: "missing".into(),
            path: Some(dir.path().join("nope.txt").display().to_string()),
            format: Some(FeedFormat::Plain),
            ..Default::default()
        })
        .await
        .unwrap();
    let error = pull_now(&world, missing.id).await.error.unwrap();
    assert!(error.starts_with("cannot read ") && error.contains("nope.txt"), "{error}");
}

fn serve_misp_feed(server: &ListServer) {
    let dir = testdata("misp/crowdsec-feed");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if name.ends_with(".json") {
            let etag = (name == "manifest.json").then_some("\"m1\"");
            server.put(&format!("/misp/{name}"), std::fs::read(&path).unwrap(), etag);
        }
    }
}

async fn misp_feeds_pull_incrementally(backend: TestBackend) {
    let world = World::new(backend).await;
    let server = ListServer::start().await;
    serve_misp_feed(&server);
    let feed = world
        .admin()
        .create_feed(&feed("crowdsec", server.url("/misp/"), FeedFormat::MispFeed))
        .await
        .unwrap();
    let report = pull_now(&world, feed.id).await;
    assert_eq!(report.status, PullStatus::Ok, "{report:?}");
    assert_eq!(
        report.counts,
        PullCounts { entries: 3, added: 3, removed: 0, unchanged: 0, rejected: 0 }
    );
    let import = report.import.unwrap();
    assert_eq!(import.written.indicators["ipv4"].created, 15);
    assert_eq!(import.written.groups["report"].created, 3);
    let sourced = world
        .admin()
        .search_indicators(&IndicatorQuery {
            owner_id: Some(feed.source_id),
            limit: Some(100),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(sourced.items.len(), 15, "owned by the feed's source");
    assert!(sourced.items.iter().all(|i| i.confidence == 70 && i.tlp == tipline_model::Tlp::Green));

    // The manifest is unchanged: 304, no event fetched.
    let before = server.requests().len();
    assert_eq!(pull_now(&world, feed.id).await.status, PullStatus::NotModified);
    assert_eq!(server.requests().len(), before + 1);

    // One event changes: only it is fetched and imported.
    let manifest_path = testdata("misp/crowdsec-feed/manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    let changed = "8f09de10-6867-45c6-814d-3d91a33d3af7";
    manifest[changed]["timestamp"] = "1779999999".into();
    server.put("/misp/manifest.json", manifest.to_string(), Some("\"m2\""));
    let event_path = testdata(&format!("misp/crowdsec-feed/{changed}.json"));
    let mut event: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&event_path).unwrap()).unwrap();
    event["Event"]["timestamp"] = "1779999999".into();
    event["Event"]["Attribute"][0]["value"] = "192.0.2.77".into();
    server.put(&format!("/misp/{changed}.json"), event.to_string(), None);
    let before = server.requests().len();
    let report = pull_now(&world, feed.id).await;
    assert_eq!(
        report.counts,
        PullCounts { entries: 3, added: 1, removed: 0, unchanged: 2, rejected: 0 }
    );
    let fetched: Vec<String> = server.requests()[before..].iter().map(|(p, _)| p.clone()).collect();
    assert_eq!(fetched, ["/misp/manifest.json".to_string(), format!("/misp/{changed}.json")]);
    assert_eq!(
        report.import.unwrap().written.indicators["ipv4"],
        tipline_store::Tally { created: 1, existing: 4 }
    );

    // The same feed from a directory.
    let local = world
        .admin()
        .create_feed(&FeedInput {
            name: "crowdsec-dir".into(),
            path: Some(testdata("misp/crowdsec-feed").display().to_string()),
            format: Some(FeedFormat::MispFeed),
            ..Default::default()
        })
        .await
        .unwrap();
    let report = pull_now(&world, local.id).await;
    assert_eq!((report.counts.entries, report.counts.added), (3, 3));
}

async fn a_malformed_misp_event_is_rejected_and_retried(backend: TestBackend) {
    let world = World::new(backend).await;
    let server = ListServer::start().await;
    let good = "6a10e5d8-f1cd-42b0-8240-a4650efd83d6";
    let bad = "d177856e-6e46-44ee-8eb5-83ef1c7452c7";
    let manifest = serde_json::json!({
        good: { "info": "good", "timestamp": "10" },
        bad: { "info": "bad", "timestamp": "20" },
    });
    server.put("/m/manifest.json", manifest.to_string(), None);
    server.put(
        &format!("/m/{good}.json"),
        std::fs::read(testdata(&format!("misp/crowdsec-feed/{good}.json"))).unwrap(),
        None,
    );
    let broken = format!(
        r#"{{"Event": {{"uuid": "{bad}", "timestamp": "20", "Attribute": [{{"type": "ip-src", "value": "192.0.2.999"}}]}}}}"#
    );
    server.put(&format!("/m/{bad}.json"), broken, None);
    let feed = world
        .admin()
        .create_feed(&feed("half", server.url("/m"), FeedFormat::MispFeed))
        .await
        .unwrap();
    let report = pull_now(&world, feed.id).await;
    assert_eq!(report.status, PullStatus::Failed);
    let error = report.error.unwrap();
    assert!(
        error.contains("1 event file rejected and not imported")
            && error.contains(&format!("event {bad}: Attribute[0] (ip-src `192.0.2.999`)")),
        "{error}"
    );
    let versions = world
        .admin()
        .import_versions(&tipline_store::feed_scope(feed.id), &[good.to_string(), bad.to_string()])
        .await
        .unwrap();
    assert_eq!(
        versions.keys().collect::<Vec<_>>(),
        [&good.to_string()],
        "the good file is imported"
    );

    // Fixed upstream (same timestamp): the retry imports it; the good one is not refetched.
    let fixed = format!(
        r#"{{"Event": {{"uuid": "{bad}", "timestamp": "20", "Attribute": [{{"type": "ip-src", "value": "192.0.2.99"}}]}}}}"#
    );
    server.put(&format!("/m/{bad}.json"), fixed, None);
    let report = pull_now(&world, feed.id).await;
    assert_eq!(
        report.counts,
        PullCounts { entries: 2, added: 1, removed: 0, unchanged: 1, rejected: 0 }
    );
    assert_eq!(world.admin().get_feed(feed.id).await.unwrap().status.consecutive_failures, 0);
}
