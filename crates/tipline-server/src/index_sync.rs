//! The node's matching index, loaded from the store at start and kept current from the
//! outbox: indicator events update indicators incrementally (a new delta snapshot per
//! batch), organization events reload the constituency, warninglist events recompile the
//! warninglists. Lookups never wait: every change builds a new snapshot and swaps it in.
//!
//! A background task catches up every second; handlers whose answer depends on the index
//! catch up first (one query when nothing changed), so a client sees its own writes.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use tipline_index::{
    Change, Constituency, Index, IndicatorEntry, Owner, RegisteredEntry, Warnings,
};
use tipline_model::IndicatorStatus;
use tipline_store::{IndexedIndicator, Store, StoreError, StoreResult};
use tokio::sync::Mutex;
use uuid::Uuid;

/// Events per catch-up query.
const PAGE: i64 = 10_000;

/// The index entry of a stored indicator.
pub fn entry(indicator: IndexedIndicator) -> IndicatorEntry {
    IndicatorEntry {
        id: indicator.id,
        owner: Owner::Org(indicator.owner_id),
        tlp: indicator.tlp,
        value: indicator.canonical(),
    }
}

/// The index and the outbox position it reflects.
#[derive(Debug)]
pub struct IndexSync {
    store: Store,
    index: Arc<Index>,
    /// Last outbox sequence number applied.
    position: Mutex<i64>,
}

impl IndexSync {
    /// Load everything from `store`.
    pub async fn load(store: Store) -> StoreResult<IndexSync> {
        // Events from here on are applied again by the first catch-up: applying an event
        // twice is harmless, missing one is not.
        let position = store.latest_event_seq().await?;
        let sync = IndexSync { store, index: Index::new(), position: Mutex::new(position) };
        let entries: Vec<IndicatorEntry> =
            sync.store.index_feed_all().await?.into_iter().map(entry).collect();
        let count = entries.len();
        let index = Arc::clone(&sync.index);
        tokio::task::spawn_blocking(move || index.indicators.replace_all(entries))
            .await
            .map_err(|e| StoreError::Corrupt(format!("index build failed: {e}")))?;
        sync.reload_constituency().await?;
        sync.reload_warninglists().await?;
        tracing::info!(indicators = count, "matching index loaded");
        Ok(sync)
    }

    /// The index (current as of the last catch-up).
    pub fn index(&self) -> &Arc<Index> {
        &self.index
    }

    /// Apply every outbox event written since the last catch-up.
    pub async fn catch_up(&self) -> StoreResult<()> {
        let mut position = self.position.lock().await;
        loop {
            let events = self.store.events_after(*position, PAGE).await?;
            let Some(last) = events.last() else { return Ok(()) };
            let last_seq = last.seq;
            let mut indicators = BTreeSet::new();
            let (mut organizations, mut warninglists) = (false, false);
            for event in &events {
                match event.kind.split('.').next().unwrap_or_default() {
                    "indicator" => indicators.extend(event.object_id),
                    "organization" => organizations = true,
                    "warninglist" => warninglists = true,
                    _ => {}
                }
            }
            if !indicators.is_empty() {
                self.apply_indicators(indicators.into_iter().collect()).await?;
            }
            if organizations {
                self.reload_constituency().await?;
            }
            if warninglists {
                self.reload_warninglists().await?;
            }
            *position = last_seq;
            if (events.len() as i64) < PAGE {
                return Ok(());
            }
        }
    }

    async fn apply_indicators(&self, ids: Vec<Uuid>) -> StoreResult<()> {
        let current = self.store.indexed_indicators(&ids).await?;
        let mut changes: Vec<Change> = Vec::with_capacity(ids.len());
        let mut seen = BTreeSet::new();
        for indicator in current {
            seen.insert(indicator.id);
            changes.push(if indicator.status == IndicatorStatus::Active {
                Change::Upsert(entry(indicator))
            } else {
                Change::Remove(indicator.id)
            });
        }
        changes.extend(ids.into_iter().filter(|id| !seen.contains(id)).map(Change::Remove));
        let index = Arc::clone(&self.index);
        tokio::task::spawn_blocking(move || index.indicators.apply(changes))
            .await
            .map_err(|e| StoreError::Corrupt(format!("index update failed: {e}")))
    }

    async fn reload_constituency(&self) -> StoreResult<()> {
        let registered = self.store.constituency_all().await?;
        let constituency =
            Constituency::build(registered.into_iter().map(|(org, kind, value)| RegisteredEntry {
                org,
                kind,
                value,
            }));
        self.index.constituency.store(Arc::new(constituency));
        Ok(())
    }

    async fn reload_warninglists(&self) -> StoreResult<()> {
        let lists = self.store.warninglists().await?;
        let warnings = Warnings::build(lists.iter().map(|(s, l)| (Some(s.id), l)))
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.index.warnings.store(Arc::new(warnings));
        Ok(())
    }

    /// Catch up every `interval` until the process ends (errors are logged and retried).
    pub async fn follow(self: Arc<Self>, interval: Duration) {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if let Err(error) = self.catch_up().await {
                tracing::warn!(%error, "matching index catch-up failed; retrying");
            }
        }
    }
}
