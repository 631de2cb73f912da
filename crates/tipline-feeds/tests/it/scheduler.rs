//! The scheduler: due feeds are pulled once, by one node, and wait for their interval.

use std::time::Duration;

use tipline_feeds::{PullSettings, Scheduler, SchedulerSettings};
use tipline_model::feed::{FeedFormat, PullStatus};
use tipline_testkit::{TestBackend, backend_tests};

use crate::support::{ListServer, World, feed, outbound};

backend_tests!(nodes_share_due_feeds_without_pulling_one_twice, shutdown_stops_the_loop);

fn scheduler(world: &World, node: &str) -> Scheduler {
    let settings = SchedulerSettings {
        poll: Duration::from_millis(50),
        concurrency: 2,
        pull: PullSettings { retry_base_secs: 60, lease_secs: 60 },
    };
    Scheduler::new(world.store.clone(), world.host.clone(), outbound(), settings).with_node(node)
}

async fn nodes_share_due_feeds_without_pulling_one_twice(backend: TestBackend) {
    let world = World::new(backend).await;
    let server = ListServer::start().await;
    server.delay(Duration::from_millis(100));
    for i in 0..6 {
        server.put(&format!("/list-{i}.txt"), format!("192.0.2.{i}\n"), None);
        world
            .admin()
            .create_feed(&feed(
                &format!("feed-{i}"),
                server.url(&format!("/list-{i}.txt")),
                FeedFormat::Plain,
            ))
            .await
            .unwrap();
    }
    let (a, b) = (scheduler(&world, "node-a"), scheduler(&world, "node-b"));
    let (from_a, from_b) = tokio::join!(a.run_once(), b.run_once());
    let (from_a, from_b) = (from_a.unwrap(), from_b.unwrap());
    assert_eq!(from_a.len() + from_b.len(), 6, "every due feed pulled once");
    assert!(from_a.iter().chain(&from_b).all(|r| r.status == PullStatus::Ok));
    let mut pulled: Vec<String> = from_a.iter().chain(&from_b).map(|r| r.feed.clone()).collect();
    pulled.sort();
    pulled.dedup();
    assert_eq!(pulled.len(), 6, "no feed pulled by both nodes");
    for feed in world.admin().list_feeds().await.unwrap() {
        let pulls = world.admin().feed_pulls(feed.id, 10).await.unwrap();
        assert_eq!(pulls.len(), 1, "{}", feed.name);
        assert!(pulls[0].node == "node-a" || pulls[0].node == "node-b");
        assert_eq!(feed.status.listed, 1);
        assert!(feed.status.next_pull_at > chrono::Utc::now() + chrono::Duration::minutes(59));
    }
    assert!(a.run_once().await.unwrap().is_empty(), "nothing is due until the interval passes");
    // Asking for a pull makes the feed due again.
    let first = world.admin().find_feed("feed-0").await.unwrap();
    world.admin().schedule_pull_now(first.id).await.unwrap();
    let again = b.run_once().await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].feed.as_str(), again[0].status), ("feed-0", PullStatus::Ok));
}

async fn shutdown_stops_the_loop(backend: TestBackend) {
    let world = World::new(backend).await;
    let server = ListServer::start().await;
    server.put("/list.txt", "192.0.2.1\n", None);
    let created = world
        .admin()
        .create_feed(&feed("looped", server.url("/list.txt"), FeedFormat::Plain))
        .await
        .unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(scheduler(&world, "node-a").run(stopped));
    let mut listed = 0;
    for _ in 0..100 {
        listed = world.admin().get_feed(created.id).await.unwrap().status.listed;
        if listed == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(listed, 1, "the running scheduler pulled the due feed");
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), running).await.expect("stops").unwrap();
}
