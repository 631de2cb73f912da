//! Feeds: their definitions (API, CLI or the configuration file), the leases under which
//! a node pulls one, and each pull's outcome.
//!
//! Who may do what: members of the host organization read feeds and their status; host
//! administrators define, remove and pull them (the scheduler acts as the host admin).
//!
//! Leases make pulls safe with several nodes on one PostgreSQL: a node claims a due feed
//! by setting `lease_owner`/`lease_until` (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the
//! single writer on SQLite), and every write of the pull's result is fenced on
//! `lease_owner` still being that node, in the same transaction: a node whose lease was
//! taken over (it stalled past `lease_until`) has its result rolled back, never applied twice.

use chrono::{DateTime, Utc};
use sqlx::{AnyConnection, FromRow};
use tipline_model::feed::{
    CsvOptions, Feed, FeedFormat, FeedInput, FeedOrigin, FeedPull, FeedStatus, PullCounts,
    PullStatus,
};
use tipline_model::{OrgKind, Tlp};
use uuid::Uuid;

use crate::events::EventWrite;
use crate::rows::{json_list, parse, to_json_list, uuid};
use crate::sql::Sql;
use crate::{
    Backend, StoreError, StoreResult, Viewer, WriteTx, audit, from_micros, micros, new_id, now,
};

/// A node's claim on one pull of a feed. Results written under it are fenced on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullLease {
    /// The feed.
    pub feed_id: Uuid,
    /// The node holding the lease.
    pub node: String,
    /// When the pull started (the claim).
    pub started_at: DateTime<Utc>,
    /// How long a claim or renewal holds, in seconds.
    pub duration_secs: i64,
}

/// A feed claimed for a pull.
#[derive(Debug, Clone)]
pub struct ClaimedFeed {
    /// The feed as it was when claimed.
    pub feed: Feed,
    /// The lease to write its result under.
    pub lease: PullLease,
    /// `ETag` of the content last applied, for a conditional request.
    pub etag: Option<String>,
    /// `Last-Modified` of the content last applied.
    pub last_modified: Option<String>,
}

/// How a pull ended, for [`Viewer::record_pull`] (and the pulls that apply content).
#[derive(Debug, Clone)]
pub struct PullOutcome {
    /// Ok, not modified, or failed.
    pub status: PullStatus,
    /// What it found (kept as the feed's `last_counts` when `Ok`).
    pub counts: PullCounts,
    /// Why it failed.
    pub error: Option<String>,
    /// The content's validators, kept for the next conditional request (unless failed).
    pub etag: Option<String>,
    /// The content's `Last-Modified`, kept likewise.
    pub last_modified: Option<String>,
    /// When to pull next.
    pub next_pull_at: DateTime<Utc>,
}

const FEED_COLUMNS: &str = "f.id, f.name, f.source_id, o.name AS source_name, f.format, f.url, \
    f.path, f.interval_secs, f.tlp, f.confidence, f.tags, f.lenient, f.allow_empty, f.csv, \
    f.enabled, f.origin, f.next_pull_at, f.lease_owner, f.lease_until, \
    f.last_pull_at, f.last_pull_status, f.last_success_at, f.last_error, f.last_error_at, \
    f.consecutive_failures, f.last_counts, f.created_at, f.updated_at, \
    (SELECT COUNT(*) FROM listings l WHERE l.feed_id = f.id AND l.delisted_at IS NULL) AS listed";

#[derive(FromRow)]
struct FeedRow {
    id: String,
    name: String,
    source_id: String,
    source_name: String,
    format: String,
    url: Option<String>,
    path: Option<String>,
    interval_secs: i64,
    tlp: String,
    confidence: i64,
    tags: String,
    lenient: i64,
    allow_empty: i64,
    csv: Option<String>,
    enabled: i64,
    origin: String,
    next_pull_at: i64,
    lease_owner: Option<String>,
    lease_until: i64,
    last_pull_at: Option<i64>,
    last_pull_status: Option<String>,
    last_success_at: Option<i64>,
    last_error: Option<String>,
    last_error_at: Option<i64>,
    consecutive_failures: i64,
    last_counts: String,
    created_at: i64,
    updated_at: i64,
    listed: i64,
}

impl FeedRow {
    fn into_model(self, at: i64) -> StoreResult<Feed> {
        let csv: Option<CsvOptions> = self
            .csv
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("feed {} csv options: {e}", self.id)))?;
        Ok(Feed {
            id: uuid(&self.id)?,
            name: self.name,
            source_id: uuid(&self.source_id)?,
            source_name: self.source_name,
            url: self.url,
            path: self.path,
            format: parse(&self.format)?,
            interval_secs: self.interval_secs,
            tlp: parse(&self.tlp)?,
            confidence: self.confidence,
            tags: json_list(&self.tags)?,
            lenient: self.lenient != 0,
            allow_empty: self.allow_empty != 0,
            csv,
            enabled: self.enabled != 0,
            origin: parse(&self.origin)?,
            status: FeedStatus {
                last_pull_at: self.last_pull_at.map(from_micros),
                last_pull_status: self.last_pull_status.as_deref().map(parse).transpose()?,
                last_success_at: self.last_success_at.map(from_micros),
                last_error: self.last_error,
                last_error_at: self.last_error_at.map(from_micros),
                consecutive_failures: self.consecutive_failures,
                next_pull_at: from_micros(self.next_pull_at),
                last_counts: serde_json::from_str(&self.last_counts).unwrap_or_default(),
                listed: self.listed,
                leased_by: self.lease_owner.filter(|_| self.lease_until >= at),
            },
            created_at: from_micros(self.created_at),
            updated_at: from_micros(self.updated_at),
        })
    }
}

/// The definition columns of a checked input, resolved against the store.
struct Definition {
    input: FeedInput,
    source_id: Uuid,
}

impl Definition {
    fn format(&self) -> FeedFormat {
        self.input.format.expect("checked")
    }

    fn csv_json(&self) -> Option<String> {
        self.input.csv.as_ref().map(|c| serde_json::to_string(c).expect("options serialize"))
    }
}

impl Viewer<'_> {
    fn require_host(&self) -> StoreResult<()> {
        if self.principal.org_kind == OrgKind::Host {
            Ok(())
        } else {
            Err(StoreError::Forbidden("feeds are administered by the host organization".into()))
        }
    }

    /// Define a feed (host administrators). Its source organization is found by name or id,
    /// or created as a source organization. The first pull is due at once.
    pub async fn create_feed(&self, input: &FeedInput) -> StoreResult<Feed> {
        self.require_platform_admin()?;
        let input = input.check().map_err(StoreError::Invalid)?;
        let mut tx = self.store.write().await?;
        let definition = self.resolve_definition(&mut tx, input).await?;
        let id = self.insert_feed(&mut tx.tx, &definition, FeedOrigin::Api).await?;
        tx.commit().await?;
        self.get_feed(id).await
    }

    /// Make the feeds of the configuration file (`[[feeds]]`) the store's `config` feeds:
    /// new ones are created, changed ones updated (keeping their state and listings), and
    /// `config` feeds no longer in the file removed. A name used by a feed added through the
    /// API is an error. Returns one line per change.
    pub async fn sync_config_feeds(&self, inputs: &[FeedInput]) -> StoreResult<Vec<String>> {
        self.require_platform_admin()?;
        let mut checked = Vec::with_capacity(inputs.len());
        for (i, input) in inputs.iter().enumerate() {
            let input = input.check().map_err(|errors| {
                StoreError::Invalid(
                    errors.into_iter().map(|e| e.under(&format!("feeds[{i}]"))).collect(),
                )
            })?;
            if checked.iter().any(|c: &FeedInput| c.name.eq_ignore_ascii_case(&input.name)) {
                return Err(StoreError::invalid(
                    format!("feeds[{i}].name"),
                    format!("feed `{}` is defined twice", input.name),
                ));
            }
            checked.push(input);
        }
        let mut tx = self.store.write().await?;
        let mut changes = Vec::new();
        let existing = self.feed_rows(&mut tx.tx).await?;
        for input in checked {
            let found = existing.iter().find(|f| f.name.eq_ignore_ascii_case(&input.name));
            let definition = self.resolve_definition(&mut tx, input).await?;
            match found {
                Some(row) if row.origin == FeedOrigin::Api.as_str() => {
                    return Err(StoreError::Conflict(format!(
                        "feed `{}` is defined in the configuration file and was also added through the API; remove one",
                        row.name
                    )));
                }
                Some(row) => {
                    if self.update_feed(&mut tx.tx, row, &definition).await? {
                        changes.push(format!("updated feed `{}`", row.name));
                    }
                }
                None => {
                    self.insert_feed(&mut tx.tx, &definition, FeedOrigin::Config).await?;
                    changes.push(format!("added feed `{}`", definition.input.name));
                }
            }
        }
        let wanted: Vec<String> = inputs.iter().map(|i| i.name.trim().to_lowercase()).collect();
        for row in existing.iter().filter(|r| r.origin == FeedOrigin::Config.as_str()) {
            if !wanted.contains(&row.name.to_lowercase()) {
                self.delete_feed(&mut tx.tx, uuid(&row.id)?, &row.name).await?;
                changes.push(format!("removed feed `{}`", row.name));
            }
        }
        tx.commit().await?;
        Ok(changes)
    }

    /// Resolve the source organization of a checked input (creating a source organization
    /// when none has that name).
    async fn resolve_definition(
        &self,
        tx: &mut WriteTx<'_>,
        input: FeedInput,
    ) -> StoreResult<Definition> {
        let key = input.source.clone().expect("checked fills in the source");
        let mut sql = Sql::new("SELECT id, kind, name FROM organizations WHERE id = ");
        sql.bind(key.clone()).push(" OR lower(name) = lower(").bind(key.clone()).push(")");
        let found: Option<(String, String, String)> = sql.fetch_optional(&mut tx.tx).await?;
        let source_id = match found {
            Some((id, kind, _)) if kind == OrgKind::Source.as_str() => uuid(&id)?,
            Some((_, kind, name)) => {
                return Err(StoreError::invalid(
                    "source",
                    format!("`{name}` is a {kind} organization, not a source"),
                ));
            }
            None => self.create_source_in(tx, &key).await?,
        };
        Ok(Definition { input, source_id })
    }

    async fn insert_feed(
        &self,
        conn: &mut AnyConnection,
        definition: &Definition,
        origin: FeedOrigin,
    ) -> StoreResult<Uuid> {
        let input = &definition.input;
        let mut sql =
            Sql::new("SELECT id FROM feeds WHERE removed_at IS NULL AND lower(name) = lower(");
        sql.bind(input.name.clone()).push(")");
        if sql.fetch_optional::<(String,)>(&mut *conn).await?.is_some() {
            return Err(StoreError::Conflict(format!(
                "a feed named `{}` already exists",
                input.name
            )));
        }
        let id = new_id();
        let at = micros(now());
        let mut sql = Sql::new(
            "INSERT INTO feeds (id, name, source_id, format, url, path, interval_secs, tlp, \
             confidence, tags, lenient, allow_empty, csv, enabled, origin, next_pull_at, \
             created_at, updated_at) VALUES (",
        );
        sql.bind(id.to_string())
            .push(", ")
            .bind(input.name.clone())
            .push(", ")
            .bind(definition.source_id.to_string())
            .push(", ")
            .bind(definition.format().as_str().to_string())
            .push(", ")
            .bind(input.url.clone())
            .push(", ")
            .bind(input.path.clone())
            .push(", ")
            .bind(input.interval_secs.expect("checked"))
            .push(", ")
            .bind(input.tlp.unwrap_or(Tlp::Amber).as_str().to_string())
            .push(", ")
            .bind(input.confidence.expect("checked"))
            .push(", ")
            .bind(to_json_list(&input.tags))
            .push(", ")
            .bind(i64::from(input.lenient.unwrap_or(false)))
            .push(", ")
            .bind(i64::from(input.allow_empty.unwrap_or(false)))
            .push(", ")
            .bind(definition.csv_json())
            .push(", ")
            .bind(i64::from(input.enabled.unwrap_or(true)))
            .push(", ")
            .bind(origin.as_str().to_string())
            .push(", ")
            .bind(at)
            .push(", ")
            .bind(at)
            .push(", ")
            .bind(at)
            .push(")");
        sql.execute(&mut *conn).await?;
        audit::record(
            conn,
            &self.principal,
            "feed.create",
            "feed",
            Some(id),
            serde_json::json!({ "name": input.name, "origin": origin, "format": input.format }),
        )
        .await?;
        Ok(id)
    }

    /// Update a config feed's definition; `false` when nothing changed. A new location or
    /// format forgets the HTTP validators, so the next pull fetches in full.
    async fn update_feed(
        &self,
        conn: &mut AnyConnection,
        row: &FeedRowLite,
        definition: &Definition,
    ) -> StoreResult<bool> {
        let input = &definition.input;
        let next = FeedRowLite {
            id: row.id.clone(),
            name: input.name.clone(),
            origin: row.origin.clone(),
            source_id: definition.source_id.to_string(),
            format: definition.format().as_str().to_string(),
            url: input.url.clone(),
            path: input.path.clone(),
            interval_secs: input.interval_secs.expect("checked"),
            tlp: input.tlp.unwrap_or(Tlp::Amber).as_str().to_string(),
            confidence: input.confidence.expect("checked"),
            tags: to_json_list(&input.tags),
            lenient: i64::from(input.lenient.unwrap_or(false)),
            allow_empty: i64::from(input.allow_empty.unwrap_or(false)),
            csv: definition.csv_json(),
            enabled: i64::from(input.enabled.unwrap_or(true)),
        };
        if &next == row {
            return Ok(false);
        }
        let content_moved = next.format != row.format
            || next.url != row.url
            || next.path != row.path
            || next.csv != row.csv;
        let mut sql = Sql::new("UPDATE feeds SET name = ");
        sql.bind(next.name.clone())
            .push(", source_id = ")
            .bind(next.source_id.clone())
            .push(", format = ")
            .bind(next.format.clone())
            .push(", url = ")
            .bind(next.url.clone())
            .push(", path = ")
            .bind(next.path.clone())
            .push(", interval_secs = ")
            .bind(next.interval_secs)
            .push(", tlp = ")
            .bind(next.tlp.clone())
            .push(", confidence = ")
            .bind(next.confidence)
            .push(", tags = ")
            .bind(next.tags.clone())
            .push(", lenient = ")
            .bind(next.lenient)
            .push(", allow_empty = ")
            .bind(next.allow_empty)
            .push(", csv = ")
            .bind(next.csv.clone())
            .push(", enabled = ")
            .bind(next.enabled)
            .push(", updated_at = ")
            .bind(micros(now()));
        if content_moved {
            sql.push(", etag = NULL, last_modified = NULL");
        }
        sql.push(" WHERE id = ").bind(row.id.clone());
        sql.execute(&mut *conn).await?;
        audit::record(
            conn,
            &self.principal,
            "feed.update",
            "feed",
            Some(uuid(&row.id)?),
            serde_json::json!({ "name": next.name, "origin": "config" }),
        )
        .await?;
        Ok(true)
    }

    /// Remove a feed added through the API or CLI (host administrators). Its listings are
    /// kept as history and closed with reason `feed_removed` (no `listing.removed` events:
    /// the list did not drop them).
    pub async fn remove_feed(&self, id: Uuid) -> StoreResult<()> {
        self.require_platform_admin()?;
        let feed = self.get_feed(id).await?;
        if feed.origin == FeedOrigin::Config {
            return Err(StoreError::Conflict(format!(
                "feed `{}` is defined in the configuration file; remove it there",
                feed.name
            )));
        }
        let mut tx = self.store.write().await?;
        self.delete_feed(&mut tx.tx, id, &feed.name).await?;
        tx.commit().await
    }

    async fn delete_feed(&self, conn: &mut AnyConnection, id: Uuid, name: &str) -> StoreResult<()> {
        let at = micros(now());
        let mut sql = Sql::new(
            "UPDATE listings SET delisted_at = $1, delist_reason = 'feed_removed', updated_at = $1, \
             last_listed = COALESCE((SELECT f.confirmed_at FROM feeds f WHERE f.id = listings.feed_id), first_listed) \
             WHERE delisted_at IS NULL AND feed_id = ",
        );
        // `$1` is the first bound value.
        sql.value(at).bind(id.to_string());
        sql.execute(&mut *conn).await?;
        let mut sql = Sql::new("UPDATE feeds SET removed_at = ");
        sql.bind(at)
            .push(", enabled = 0, updated_at = ")
            .bind(at)
            .push(" WHERE id = ")
            .bind(id.to_string());
        sql.execute(&mut *conn).await?;
        audit::record(
            conn,
            &self.principal,
            "feed.remove",
            "feed",
            Some(id),
            serde_json::json!({ "name": name }),
        )
        .await
    }

    /// Every feed (members of the host organization), by name.
    pub async fn list_feeds(&self) -> StoreResult<Vec<Feed>> {
        self.require_host()?;
        let mut conn = self.store.pool().acquire().await?;
        let mut sql = Sql::new("SELECT ");
        sql.push(FEED_COLUMNS).push(
            " FROM feeds f JOIN organizations o ON o.id = f.source_id \
             WHERE f.removed_at IS NULL ORDER BY lower(f.name)",
        );
        let rows: Vec<FeedRow> = sql.fetch_all(&mut conn).await?;
        let at = micros(now());
        rows.into_iter().map(|r| r.into_model(at)).collect()
    }

    /// One feed (members of the host organization).
    pub async fn get_feed(&self, id: Uuid) -> StoreResult<Feed> {
        self.require_host()?;
        let mut conn = self.store.pool().acquire().await?;
        self.feed_in(&mut conn, id).await
    }

    async fn feed_in(&self, conn: &mut AnyConnection, id: Uuid) -> StoreResult<Feed> {
        let mut sql = Sql::new("SELECT ");
        sql.push(FEED_COLUMNS)
            .push(" FROM feeds f JOIN organizations o ON o.id = f.source_id WHERE f.removed_at IS NULL AND f.id = ")
            .bind(id.to_string());
        let row: Option<FeedRow> = sql.fetch_optional(conn).await?;
        row.ok_or_else(|| StoreError::NotFound { what: "feed", id: id.to_string() })?
            .into_model(micros(now()))
    }

    /// A feed by id or (case-insensitive) name.
    pub async fn find_feed(&self, key: &str) -> StoreResult<Feed> {
        if let Ok(id) = Uuid::parse_str(key.trim()) {
            return self.get_feed(id).await;
        }
        self.list_feeds()
            .await?
            .into_iter()
            .find(|f| f.name.eq_ignore_ascii_case(key.trim()))
            .ok_or_else(|| StoreError::NotFound { what: "feed", id: key.to_string() })
    }

    /// The feed's most recent pulls, newest first (at most `limit`, 1–1000).
    pub async fn feed_pulls(&self, id: Uuid, limit: u32) -> StoreResult<Vec<FeedPull>> {
        self.get_feed(id).await?;
        let limit = crate::indicators::page_limit(Some(limit))?;
        let mut sql = Sql::new(
            "SELECT id, node, started_at, finished_at, status, error, counts FROM feed_pulls WHERE feed_id = ",
        );
        sql.bind(id.to_string()).push(" ORDER BY finished_at DESC, id DESC LIMIT ").bind(limit);
        type Row = (String, String, i64, i64, String, Option<String>, String);
        let rows: Vec<Row> = sql.fetch_all(&mut *self.store.pool().acquire().await?).await?;
        rows.into_iter()
            .map(|(id, node, started, finished, status, error, counts)| {
                Ok(FeedPull {
                    id: uuid(&id)?,
                    node,
                    started_at: from_micros(started),
                    finished_at: from_micros(finished),
                    status: parse(&status)?,
                    error,
                    counts: serde_json::from_str(&counts).unwrap_or_default(),
                })
            })
            .collect()
    }

    /// Make a feed due now (host administrators): the scheduler pulls it at its next look.
    pub async fn schedule_pull_now(&self, id: Uuid) -> StoreResult<Feed> {
        self.require_platform_admin()?;
        self.get_feed(id).await?;
        let mut tx = self.store.write().await?;
        let mut sql = Sql::new("UPDATE feeds SET next_pull_at = ");
        sql.bind(micros(now())).push(" WHERE id = ").bind(id.to_string());
        sql.execute(&mut tx.tx).await?;
        audit::record(
            &mut tx.tx,
            &self.principal,
            "feed.schedule",
            "feed",
            Some(id),
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        self.get_feed(id).await
    }

    /// Claim the feed due soonest whose lease is free, for `lease_secs` (host admins: the
    /// scheduler). `None` when nothing is due. On PostgreSQL concurrent nodes skip rows
    /// another node is claiming (`FOR UPDATE SKIP LOCKED`).
    pub async fn claim_due_feed(
        &self,
        node: &str,
        lease_secs: i64,
    ) -> StoreResult<Option<ClaimedFeed>> {
        self.require_platform_admin()?;
        let at = micros(now());
        let mut tx = self.store.write().await?;
        let mut sql = Sql::new(
            "SELECT id FROM feeds WHERE removed_at IS NULL AND enabled = 1 AND next_pull_at <= ",
        );
        sql.bind(at)
            .push(" AND lease_until < ")
            .bind(at)
            .push(" ORDER BY next_pull_at, id LIMIT 1");
        if self.store.backend() == Backend::Postgres {
            sql.push(" FOR UPDATE SKIP LOCKED");
        }
        let Some((id,)) = sql.fetch_optional::<(String,)>(&mut tx.tx).await? else {
            return Ok(None);
        };
        let Some(lease) = self.take_lease(&mut tx, &id, node, at, lease_secs, false).await? else {
            return Ok(None);
        };
        let claimed = self.claimed(&mut tx.tx, lease).await?;
        tx.commit().await?;
        Ok(Some(claimed))
    }

    /// Claim one feed for a pull now, due or not (host administrators: `tipline feed pull`).
    /// A lease held by another node that has not expired is a conflict.
    pub async fn claim_feed(
        &self,
        id: Uuid,
        node: &str,
        lease_secs: i64,
    ) -> StoreResult<ClaimedFeed> {
        self.require_platform_admin()?;
        let feed = self.get_feed(id).await?;
        let at = micros(now());
        let mut tx = self.store.write().await?;
        let lease = self.take_lease(&mut tx, &id.to_string(), node, at, lease_secs, true).await?;
        let Some(lease) = lease else {
            return Err(StoreError::Conflict(format!(
                "feed `{}` is being pulled by node {}; try again later",
                feed.name,
                feed.status.leased_by.unwrap_or_else(|| "?".into())
            )));
        };
        let claimed = self.claimed(&mut tx.tx, lease).await?;
        tx.commit().await?;
        Ok(claimed)
    }

    async fn claimed(
        &self,
        conn: &mut AnyConnection,
        lease: PullLease,
    ) -> StoreResult<ClaimedFeed> {
        let feed = self.feed_in(&mut *conn, lease.feed_id).await?;
        let mut sql = Sql::new("SELECT etag, last_modified FROM feeds WHERE id = ");
        sql.bind(lease.feed_id.to_string());
        let (etag, last_modified): (Option<String>, Option<String>) =
            sql.fetch_optional(conn).await?.unwrap_or_default();
        Ok(ClaimedFeed { feed, lease, etag, last_modified })
    }

    async fn take_lease(
        &self,
        tx: &mut WriteTx<'_>,
        id: &str,
        node: &str,
        at: i64,
        lease_secs: i64,
        own_ok: bool,
    ) -> StoreResult<Option<PullLease>> {
        let mut sql = Sql::new("UPDATE feeds SET lease_owner = ");
        sql.bind(node.to_string())
            .push(", lease_until = ")
            .bind(at + lease_secs.max(1) * 1_000_000)
            .push(" WHERE id = ")
            .bind(id.to_string())
            .push(" AND removed_at IS NULL AND (lease_until < ")
            .bind(at);
        if own_ok {
            sql.push(" OR lease_owner = ").bind(node.to_string());
        }
        sql.push(")");
        if sql.execute(&mut tx.tx).await? == 0 {
            return Ok(None);
        }
        Ok(Some(PullLease {
            feed_id: uuid(id)?,
            node: node.to_string(),
            started_at: from_micros(at),
            duration_secs: lease_secs.max(1),
        }))
    }

    /// Extend a lease inside the caller's transaction, failing when another node took it.
    pub(crate) async fn renew_lease(
        &self,
        conn: &mut AnyConnection,
        lease: &PullLease,
        lease_secs: i64,
    ) -> StoreResult<()> {
        let mut sql = Sql::new("UPDATE feeds SET lease_until = ");
        sql.bind(micros(now()) + lease_secs.max(1) * 1_000_000)
            .push(" WHERE id = ")
            .bind(lease.feed_id.to_string())
            .push(" AND lease_owner = ")
            .bind(lease.node.clone());
        if sql.execute(conn).await? == 0 {
            return Err(lease_lost(lease));
        }
        Ok(())
    }

    /// Record a pull that changed no listings or intelligence: failed (the error is kept,
    /// the previous data stays) or not modified (the listed entries are confirmed: their
    /// indicators' `last_seen` moves to now). Fenced on the lease.
    pub async fn record_pull(&self, lease: &PullLease, outcome: &PullOutcome) -> StoreResult<()> {
        self.require_platform_admin()?;
        let mut tx = self.store.write().await?;
        if outcome.status == PullStatus::NotModified {
            touch_listed_indicators(&mut tx.tx, lease.feed_id).await?;
        }
        finish_pull(&mut tx.tx, lease, outcome).await?;
        tx.commit().await
    }

    /// The feed rows, lightly (for the config sync).
    async fn feed_rows(&self, conn: &mut AnyConnection) -> StoreResult<Vec<FeedRowLite>> {
        Sql::new(
            "SELECT id, name, origin, source_id, format, url, path, interval_secs, tlp, confidence, \
             tags, lenient, allow_empty, csv, enabled FROM feeds WHERE removed_at IS NULL",
        )
        .fetch_all(conn)
        .await
    }
}

/// The definition columns of a stored feed.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
struct FeedRowLite {
    id: String,
    name: String,
    origin: String,
    source_id: String,
    format: String,
    url: Option<String>,
    path: Option<String>,
    interval_secs: i64,
    tlp: String,
    confidence: i64,
    tags: String,
    lenient: i64,
    allow_empty: i64,
    csv: Option<String>,
    enabled: i64,
}

fn lease_lost(lease: &PullLease) -> StoreError {
    StoreError::Conflict(format!(
        "node {} no longer holds the lease on feed {}; this pull's result is discarded",
        lease.node, lease.feed_id
    ))
}

/// Move `last_seen` of the indicators of a feed's open listings to now (the list still
/// has them). Not a change of the indicator: no event, `updated_at` stays.
pub(crate) async fn touch_listed_indicators(
    conn: &mut AnyConnection,
    feed_id: Uuid,
) -> StoreResult<()> {
    let mut sql = Sql::new(
        "UPDATE indicators SET last_seen = $1 WHERE last_seen < $1 AND id IN (SELECT l.indicator_id FROM listings l WHERE l.delisted_at IS NULL AND l.feed_id = ",
    );
    sql.value(micros(now())).bind(feed_id.to_string()).push(")");
    sql.execute(conn).await?;
    Ok(())
}

/// Write a pull's outcome to its feed (releasing the lease) and its history row, fenced on
/// the lease: when another node took the lease, nothing is written and the caller's
/// transaction must roll back.
pub(crate) async fn finish_pull(
    conn: &mut AnyConnection,
    lease: &PullLease,
    outcome: &PullOutcome,
) -> StoreResult<()> {
    let at = micros(now());
    let mut sql = Sql::new("UPDATE feeds SET lease_owner = NULL, lease_until = 0, last_pull_at = ");
    sql.bind(at)
        .push(", last_pull_status = ")
        .bind(outcome.status.as_str().to_string())
        .push(", next_pull_at = ")
        .bind(micros(outcome.next_pull_at));
    match outcome.status {
        PullStatus::Ok | PullStatus::NotModified => {
            sql.push(", last_success_at = ")
                .bind(at)
                .push(", confirmed_at = ")
                .bind(at)
                .push(", consecutive_failures = 0, etag = ")
                .bind(outcome.etag.clone())
                .push(", last_modified = ")
                .bind(outcome.last_modified.clone());
            if outcome.status == PullStatus::Ok {
                sql.push(", last_counts = ").bind(counts_json(&outcome.counts));
            }
        }
        PullStatus::Failed => {
            sql.push(", last_error = ")
                .bind(outcome.error.clone())
                .push(", last_error_at = ")
                .bind(at)
                .push(", consecutive_failures = consecutive_failures + 1");
        }
    }
    sql.push(" WHERE id = ")
        .bind(lease.feed_id.to_string())
        .push(" AND lease_owner = ")
        .bind(lease.node.clone());
    if sql.execute(&mut *conn).await? == 0 {
        return Err(lease_lost(lease));
    }
    if outcome.status == PullStatus::Ok {
        // "Feed updated": what automation triggers on after new content was applied.
        let mut sql = Sql::new("SELECT source_id, name FROM feeds WHERE id = ");
        sql.bind(lease.feed_id.to_string());
        let (source, name): (String, String) =
            sql.fetch_optional(&mut *conn).await?.ok_or_else(|| lease_lost(lease))?;
        let mut events = EventWrite::default();
        events.add(
            "feed.pulled",
            Some(lease.feed_id),
            Some(uuid(&source)?),
            serde_json::json!({ "feed_id": lease.feed_id, "feed": name, "counts": outcome.counts }),
            at,
        );
        events.write(conn).await?;
    }
    let mut sql = Sql::new(
        "INSERT INTO feed_pulls (id, feed_id, node, started_at, finished_at, status, error, counts) VALUES (",
    );
    sql.bind(new_id().to_string())
        .push(", ")
        .bind(lease.feed_id.to_string())
        .push(", ")
        .bind(lease.node.clone())
        .push(", ")
        .bind(micros(lease.started_at))
        .push(", ")
        .bind(at)
        .push(", ")
        .bind(outcome.status.as_str().to_string())
        .push(", ")
        .bind(outcome.error.clone())
        .push(", ")
        .bind(counts_json(&outcome.counts))
        .push(")");
    sql.execute(conn).await?;
    Ok(())
}

fn counts_json(counts: &PullCounts) -> String {
    serde_json::to_string(counts).expect("counts serialize")
}
