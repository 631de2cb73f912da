//! What the in-memory matching index is built from and checked against: the feed of active
//! indicators, registered constituency, indicator ids filtered by visibility, and the
//! adversaries associated with indicators.
//!
//! The node-wide index holds every active indicator whatever its visibility (it is built
//! with [`Store::index_feed`], the one read of indicators that no principal filters);
//! nothing it returns leaves the process before [`Viewer::visible_indicator_ids`] has kept
//! only what the caller may see, through the same SQL rule as every other read. A
//! principal's own index (`tipline match --as-org`) is built with [`Viewer::index_feed`]
//! and holds only what that principal may see.

use std::collections::HashMap;

use serde::Serialize;
use tipline_model::{Canonical, ConstituencyKind, IndicatorKind, IndicatorStatus, OrgKind, Tlp};
use uuid::Uuid;

use crate::rows::{parse, uuid};
use crate::sql::{MAX_BINDS, Sql};
use crate::visibility::{association_visible, visible};
use crate::{Store, StoreResult, Viewer};

/// An indicator as the index needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedIndicator {
    /// Indicator id.
    pub id: Uuid,
    /// Owning organization.
    pub owner_id: Uuid,
    /// TLP marking.
    pub tlp: Tlp,
    /// Kind.
    pub kind: IndicatorKind,
    /// Canonical value.
    pub value: String,
    /// Lifecycle status (the feed returns only active ones).
    pub status: IndicatorStatus,
}

impl IndexedIndicator {
    /// Kind and value.
    pub fn canonical(&self) -> Canonical {
        Canonical { kind: self.kind, value: self.value.clone() }
    }
}

/// An adversary associated with an indicator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AdversaryRef {
    /// The adversary group's id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
}

type FeedRow = (String, String, String, String, String, String);
const FEED_COLUMNS: &str = "i.id, i.owner_id, i.tlp, i.kind, i.value, i.status";

fn feed_rows(rows: Vec<FeedRow>) -> StoreResult<Vec<IndexedIndicator>> {
    rows.into_iter()
        .map(|(id, owner, tlp, kind, value, status)| {
            Ok(IndexedIndicator {
                id: uuid(&id)?,
                owner_id: uuid(&owner)?,
                tlp: parse(&tlp)?,
                kind: parse(&kind)?,
                value,
                status: parse(&status)?,
            })
        })
        .collect()
}

/// One page of active indicators after `after` in id order, visible to `reader` when one
/// is given.
async fn feed(
    store: &Store,
    reader: Option<String>,
    after: Option<Uuid>,
    limit: i64,
) -> StoreResult<Vec<IndexedIndicator>> {
    let mut sql = match &reader {
        Some(org) => Sql::for_reader(org),
        None => Sql::new(""),
    };
    sql.push("SELECT ").push(FEED_COLUMNS).push(" FROM indicators i WHERE i.status = 'active'");
    if let Some(after) = after {
        sql.push(" AND i.id > ").bind(after.to_string());
    }
    if reader.is_some() {
        sql.push(" AND ").push(&visible("i"));
    }
    sql.push(" ORDER BY i.id LIMIT ").bind(limit);
    feed_rows(sql.fetch_all(&mut *store.pool().acquire().await?).await?)
}

/// Every active indicator (visible to `reader` when one is given), read in pages.
async fn feed_all(store: &Store, reader: Option<String>) -> StoreResult<Vec<IndexedIndicator>> {
    const PAGE: i64 = 10_000;
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = feed(store, reader.clone(), after, PAGE).await?;
        let full = page.len() as i64 == PAGE;
        after = page.last().map(|i| i.id);
        all.extend(page);
        if !full {
            return Ok(all);
        }
    }
}

impl Store {
    /// Every active indicator whatever its visibility, read in pages: what a node's shared
    /// index is built from.
    pub async fn index_feed_all(&self) -> StoreResult<Vec<IndexedIndicator>> {
        feed_all(self, None).await
    }

    /// One page (at most `limit`) of every active indicator after `after`, in id order,
    /// whatever its visibility: what a node's shared index is built from.
    pub async fn index_feed(
        &self,
        after: Option<Uuid>,
        limit: i64,
    ) -> StoreResult<Vec<IndexedIndicator>> {
        feed(self, None, after, limit).await
    }

    /// The current state of the indicators `ids` (any status), for updating the index
    /// after outbox events; ids that no longer exist are left out.
    pub async fn indexed_indicators(&self, ids: &[Uuid]) -> StoreResult<Vec<IndexedIndicator>> {
        let mut found = Vec::with_capacity(ids.len());
        let mut conn = self.pool().acquire().await?;
        for chunk in ids.chunks(MAX_BINDS) {
            let mut sql = Sql::new("SELECT ");
            sql.push(FEED_COLUMNS)
                .push(" FROM indicators i WHERE i.id IN (")
                .bind_list(chunk.iter().map(Uuid::to_string))
                .push(")");
            found.extend(feed_rows(sql.fetch_all(&mut conn).await?)?);
        }
        Ok(found)
    }

    /// The position of the newest outbox event (0 when there is none).
    pub async fn latest_event_seq(&self) -> StoreResult<i64> {
        let row: Option<(i64,)> = Sql::new("SELECT COALESCE(MAX(seq), 0) FROM events")
            .fetch_optional(&mut *self.pool().acquire().await?)
            .await?;
        Ok(row.map_or(0, |(seq,)| seq))
    }

    /// Every registered constituency entry of every organization, as
    /// `(organization, kind, value)`: what a node's shared index is built from.
    pub async fn constituency_all(&self) -> StoreResult<Vec<(Uuid, ConstituencyKind, String)>> {
        constituency(self, None).await
    }
}

async fn constituency(
    store: &Store,
    only: Option<Uuid>,
) -> StoreResult<Vec<(Uuid, ConstituencyKind, String)>> {
    let mut sql = Sql::new("SELECT org_id, kind, value FROM org_constituency");
    if let Some(org) = only {
        sql.push(" WHERE org_id = ").bind(org.to_string());
    }
    sql.push(" ORDER BY org_id, kind, value");
    let rows: Vec<(String, String, String)> =
        sql.fetch_all(&mut *store.pool().acquire().await?).await?;
    rows.into_iter().map(|(org, kind, value)| Ok((uuid(&org)?, parse(&kind)?, value))).collect()
}

impl Viewer<'_> {
    /// Every active indicator this principal may see, read in pages: a principal's own
    /// index.
    pub async fn index_feed_all(&self) -> StoreResult<Vec<IndexedIndicator>> {
        feed_all(self.store, Some(self.org())).await
    }

    /// One page of the active indicators this principal may see, after `after` in id
    /// order: a principal's own index.
    pub async fn index_feed(
        &self,
        after: Option<Uuid>,
        limit: i64,
    ) -> StoreResult<Vec<IndexedIndicator>> {
        feed(self.store, Some(self.org()), after, limit).await
    }

    /// Which of `ids` are indicators this principal may see, each with its owner's name:
    /// how match results from the shared index are filtered, with the same SQL rule as
    /// every other read (owners of visible indicators are named, as `owners` does).
    pub async fn visible_indicator_ids(&self, ids: &[Uuid]) -> StoreResult<HashMap<Uuid, String>> {
        let mut visible_ids = HashMap::with_capacity(ids.len());
        if ids.is_empty() {
            return Ok(visible_ids);
        }
        let mut conn = self.store.pool().acquire().await?;
        for chunk in ids.chunks(MAX_BINDS - 1) {
            let mut sql = Sql::for_reader(&self.org());
            sql.push(
                "SELECT i.id, o.name FROM indicators i JOIN organizations o ON o.id = i.owner_id \
                 WHERE i.id IN (",
            )
            .bind_list(chunk.iter().map(Uuid::to_string))
            .push(") AND ")
            .push(&visible("i"));
            for (id, owner) in sql.fetch_all::<(String, String)>(&mut conn).await? {
                visible_ids.insert(uuid(&id)?, owner);
            }
        }
        Ok(visible_ids)
    }

    /// The names of the organizations `ids` that this principal may know as constituency
    /// holders (see [`Viewer::constituency_entries`]): any for the host organization, its
    /// own for others.
    pub async fn constituency_org_names(&self, ids: &[Uuid]) -> StoreResult<HashMap<Uuid, String>> {
        let allowed: Vec<&Uuid> = ids
            .iter()
            .filter(|id| self.principal.org_kind == OrgKind::Host || **id == self.principal.org_id)
            .collect();
        let mut names = HashMap::new();
        if allowed.is_empty() {
            return Ok(names);
        }
        let mut sql = Sql::new("SELECT id, name FROM organizations WHERE id IN (");
        sql.bind_list(allowed.iter().map(|id| id.to_string())).push(")");
        for (id, name) in
            sql.fetch_all::<(String, String)>(&mut *self.store.pool().acquire().await?).await?
        {
            names.insert(uuid(&id)?, name);
        }
        Ok(names)
    }

    /// Whether this principal may know which organization holds `org`'s constituency.
    pub fn may_see_constituency_of(&self, org: Uuid) -> bool {
        self.principal.org_kind == OrgKind::Host || org == self.principal.org_id
    }

    /// The constituency entries this principal may know: every organization's for the
    /// host organization (it runs the platform), only its own for others.
    pub async fn constituency_entries(&self) -> StoreResult<Vec<(Uuid, ConstituencyKind, String)>> {
        let only = (self.principal.org_kind != OrgKind::Host).then_some(self.principal.org_id);
        constituency(self.store, only).await
    }

    /// The adversaries associated with indicators, directly or through one group between
    /// them (indicator → malware → adversary), counting only associations this principal
    /// may see with both of their ends. `ids`: the indicators to ask about (`None`: every
    /// visible one).
    pub async fn adversaries_of(
        &self,
        ids: Option<&[Uuid]>,
    ) -> StoreResult<HashMap<Uuid, Vec<AdversaryRef>>> {
        let mut found: HashMap<Uuid, Vec<AdversaryRef>> = HashMap::new();
        let chunks: Vec<Option<&[Uuid]>> = match ids {
            None => vec![None],
            Some([]) => return Ok(found),
            Some(ids) => ids.chunks(MAX_BINDS / 2 - 1).map(Some).collect(),
        };
        let mut conn = self.store.pool().acquire().await?;
        for chunk in chunks {
            let mut sql = Sql::for_reader(&self.org());
            let edges = format!(
                "edges AS (SELECT a.source_id AS x, a.target_id AS y FROM associations a WHERE {v} \
                 UNION ALL SELECT a.target_id AS x, a.source_id AS y FROM associations a WHERE {v})",
                v = association_visible("a")
            );
            sql.push("WITH ").push(&edges).push(
                " SELECT e1.x, g.id, g.name FROM edges e1 \
                 JOIN intel_groups g ON g.id = e1.y AND g.kind = 'adversary' \
                 WHERE EXISTS (SELECT 1 FROM indicators ii WHERE ii.id = e1.x)",
            );
            if let Some(chunk) = chunk {
                sql.push(" AND e1.x IN (").bind_list(chunk.iter().map(Uuid::to_string)).push(")");
            }
            sql.push(
                " UNION SELECT e1.x, g.id, g.name FROM edges e1 \
                 JOIN intel_groups m ON m.id = e1.y AND m.kind <> 'adversary' \
                 JOIN edges e2 ON e2.x = m.id \
                 JOIN intel_groups g ON g.id = e2.y AND g.kind = 'adversary' \
                 WHERE EXISTS (SELECT 1 FROM indicators ii WHERE ii.id = e1.x)",
            );
            if let Some(chunk) = chunk {
                sql.push(" AND e1.x IN (").bind_list(chunk.iter().map(Uuid::to_string)).push(")");
            }
            let rows: Vec<(String, String, String)> = sql.fetch_all(&mut conn).await?;
            for (indicator, group, name) in rows {
                let list = found.entry(uuid(&indicator)?).or_default();
                let id = uuid(&group)?;
                if !list.iter().any(|a| a.id == id) {
                    list.push(AdversaryRef { id, name });
                }
            }
        }
        for list in found.values_mut() {
            list.sort_by(|a, b| a.name.cmp(&b.name));
        }
        Ok(found)
    }
}
