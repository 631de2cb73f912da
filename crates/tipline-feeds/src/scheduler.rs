//! The feed scheduler: runs inside `tipline serve`, claims due feeds under a lease and
//! pulls them, a few at a time.
//!
//! Safe with several nodes on one PostgreSQL: a feed is claimed by one node at a time
//! (`FOR UPDATE SKIP LOCKED`), and a node that stalls past its lease loses the feed to
//! another node and has its late result rolled back (see `tipline_store::feeds`). On SQLite
//! there is one process. A node's id names it in leases and pull records.

use std::time::Duration;

use tipline_http::Outbound;
use tipline_model::Principal;
use tipline_store::{Store, StoreError};
use tokio::sync::watch;

use crate::progress::Silent;
use crate::pull::{PullSettings, pull};
use crate::report::PullReport;

/// How the scheduler runs (`[scheduler]` in the configuration).
#[derive(Debug, Clone)]
pub struct SchedulerSettings {
    /// How often to look for due feeds.
    pub poll: Duration,
    /// Feeds pulled at the same time by this node.
    pub concurrency: usize,
    /// Lease and retry behaviour of each pull.
    pub pull: PullSettings,
}

impl Default for SchedulerSettings {
    fn default() -> Self {
        SchedulerSettings {
            poll: Duration::from_secs(10),
            concurrency: 2,
            pull: PullSettings::default(),
        }
    }
}

/// Pulls due feeds as the host organization's administrator.
#[derive(Debug, Clone)]
pub struct Scheduler {
    store: Store,
    host: Principal,
    outbound: Outbound,
    settings: SchedulerSettings,
    node: String,
}

impl Scheduler {
    /// A scheduler for `store`, acting as `host` (the host organization's admin principal).
    pub fn new(
        store: Store,
        host: Principal,
        outbound: Outbound,
        settings: SchedulerSettings,
    ) -> Scheduler {
        Scheduler { store, host, outbound, settings, node: node_id() }
    }

    /// The same scheduler under another node id (tests run several "nodes" in a process).
    pub fn with_node(mut self, node: impl Into<String>) -> Scheduler {
        self.node = node.into();
        self
    }

    /// This node's id in leases and pull records.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Claim and pull one due feed, if any.
    pub async fn pull_next(&self) -> Result<Option<PullReport>, StoreError> {
        let viewer = self.store.viewer(self.host.clone());
        let Some(claimed) =
            viewer.claim_due_feed(&self.node, self.settings.pull.lease_secs).await?
        else {
            return Ok(None);
        };
        pull(&viewer, &self.outbound, &claimed, &self.settings.pull, &Silent).await.map(Some)
    }

    /// Pull due feeds until none is due; the reports of the pulls made.
    pub async fn run_once(&self) -> Result<Vec<PullReport>, StoreError> {
        let mut reports = Vec::new();
        while let Some(report) = self.pull_next().await? {
            reports.push(report);
        }
        Ok(reports)
    }

    /// Run until `shutdown` turns true: `concurrency` workers each pull due feeds, then
    /// wait `poll` (or for shutdown). A pull in progress at shutdown is finished.
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        tracing::info!(node = %self.node, concurrency = self.settings.concurrency, "feed scheduler started");
        let mut workers = Vec::new();
        for _ in 0..self.settings.concurrency.max(1) {
            let scheduler = self.clone();
            let mut shutdown = shutdown.clone();
            workers.push(tokio::spawn(async move {
                loop {
                    if *shutdown.borrow() {
                        break;
                    }
                    match scheduler.pull_next().await {
                        Ok(Some(_)) => continue,
                        Ok(None) => {}
                        Err(error) => {
                            tracing::warn!(node = %scheduler.node, %error, "feed scheduler")
                        }
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(scheduler.settings.poll) => {}
                        _ = shutdown.changed() => {}
                    }
                }
            }));
        }
        for worker in workers {
            let _ = worker.await;
        }
        tracing::info!(node = %self.node, "feed scheduler stopped");
    }
}

/// `host:pid:random`, unique per process.
fn node_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok().map(|h| h.trim().to_string()))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".into());
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}:{}:{}", std::process::id(), &random[..6])
}
