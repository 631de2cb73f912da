//! Indicators: upsert (one or many, transactional), get, search with cursor pagination,
//! patch, and the owners question ("who already holds this value?").

use std::collections::{BTreeMap, HashMap};

use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use tipline_model::intel::{CheckedIndicator, Holder, Indicator, IndicatorInput, IndicatorPatch};
use tipline_model::validate::FieldError;
use tipline_model::{IndicatorKind, IndicatorStatus, Tlp, canonicalize, detect};
use uuid::Uuid;

use crate::events::EventWrite;
use crate::objects::{Extras, ExtrasWrite, Table, clear};
use crate::rows::{INDICATOR_COLUMNS, IndicatorRow, parse, uuid};
use crate::sql::Sql;
use crate::visibility::visible;
use crate::{StoreError, StoreResult, Viewer, audit, micros, new_id, now};

/// Rows per multi-row `INSERT` (16 values each, below SQLite's bound-value limit).
const UPSERT_BATCH: usize = 1000;

/// What a (bulk) upsert did.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UpsertSummary {
    /// Indicators that did not exist before.
    pub created: u64,
    /// Existing indicators updated (last seen, tags merged...).
    pub updated: u64,
    /// The id of each input item, in input order (duplicates share an id).
    pub ids: Vec<Uuid>,
}

/// Filters for [`Viewer::search_indicators`]. Every filter narrows; all are optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct IndicatorQuery {
    /// Exact value (canonicalized first, so defanged or upper-case input matches).
    pub value: Option<String>,
    /// Kind of indicator.
    pub kind: Option<IndicatorKind>,
    /// Carries this tag.
    pub tag: Option<String>,
    /// Owned by this organization.
    pub owner_id: Option<Uuid>,
    /// Marked with this TLP.
    pub tlp: Option<Tlp>,
    /// In this status.
    pub status: Option<IndicatorStatus>,
    /// Changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
    /// Continue after the page that returned this cursor.
    pub cursor: Option<String>,
    /// Page size, 1–1000 (default 100).
    pub limit: Option<u32>,
}

/// One page of results, oldest change first; `next_cursor` fetches the next page.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A position in a list ordered by (updated_at, id).
pub(crate) fn encode_cursor(updated_at: i64, id: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{updated_at}:{id}"))
}

pub(crate) fn decode_cursor(cursor: &str) -> StoreResult<(i64, String)> {
    let bad = || StoreError::invalid("cursor", "not a cursor returned by this server");
    let bytes =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (at, id) = text.split_once(':').ok_or_else(bad)?;
    let at = at.parse().map_err(|_| bad())?;
    Uuid::parse_str(id).map_err(|_| bad())?;
    Ok((at, id.to_string()))
}

pub(crate) fn page_limit(limit: Option<u32>) -> StoreResult<i64> {
    match limit {
        None => Ok(100),
        Some(n @ 1..=1000) => Ok(i64::from(n)),
        Some(n) => {
            Err(StoreError::invalid("limit", format!("must be between 1 and 1000, got {n}")))
        }
    }
}

/// Filters every intelligence listing offers, over a table aliased `alias` with `id`,
/// `owner_id`, `tlp` and `updated_at` columns.
pub(crate) struct ListFilters<'a> {
    pub tag: Option<&'a str>,
    pub owner_id: Option<Uuid>,
    pub tlp: Option<Tlp>,
    pub updated_since: Option<DateTime<Utc>>,
    pub cursor: Option<&'a str>,
}

impl ListFilters<'_> {
    /// Append ` AND ...` conditions for every filter given.
    pub(crate) fn push(&self, sql: &mut Sql, alias: &str) -> StoreResult<()> {
        if let Some(tag) = self.tag {
            let tag = tipline_model::validate::normalize_tag(tag)
                .map_err(|r| StoreError::invalid("tag", r))?;
            sql.push(&format!(
                " AND EXISTS (SELECT 1 FROM object_tags t WHERE t.object_id = {alias}.id AND t.tag = "
            ))
            .bind(tag)
            .push(")");
        }
        if let Some(owner) = self.owner_id {
            sql.push(&format!(" AND {alias}.owner_id = ")).bind(owner.to_string());
        }
        if let Some(tlp) = self.tlp {
            sql.push(&format!(" AND {alias}.tlp = ")).bind(tlp.as_str().to_string());
        }
        if let Some(since) = self.updated_since {
            sql.push(&format!(" AND {alias}.updated_at >= ")).bind(micros(since));
        }
        if let Some(cursor) = self.cursor {
            let (at, id) = decode_cursor(cursor)?;
            sql.push(&format!(" AND ({alias}.updated_at > ")).bind(at);
            sql.push(&format!(" OR ({alias}.updated_at = ")).bind(at);
            sql.push(&format!(" AND {alias}.id > ")).bind(id).push("))");
        }
        Ok(())
    }
}

/// Cut the extra row a page query fetched (`LIMIT limit + 1`) and return the cursor of the
/// next page, if there is one. `key` gives a row's (updated_at, id).
pub(crate) fn next_cursor<R>(
    rows: &mut Vec<R>,
    limit: i64,
    key: impl Fn(&R) -> (i64, &str),
) -> Option<String> {
    if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| {
            let (at, id) = key(r);
            encode_cursor(at, id)
        })
    } else {
        None
    }
}

/// An indicator after merging the inputs for one (owner, kind, value) with what is stored.
/// Scalar fields stay `None` unless some input set them, so an upsert that does not mention
/// a field keeps the stored value (and a new indicator takes the default).
struct Merged {
    id: Uuid,
    existed: bool,
    owner: Uuid,
    kind: IndicatorKind,
    value: String,
    tlp: Option<Tlp>,
    confidence: Option<i64>,
    threat_rating: Option<i64>,
    status: Option<IndicatorStatus>,
    description: Option<String>,
    stix_id: Option<String>,
    first_seen: i64,
    last_seen: i64,
    created_at: i64,
    observation_count: i64,
    fp_votes: i64,
    tags: Vec<String>,
    attributes: BTreeMap<String, String>,
    shared_to: Vec<Uuid>,
    granted_to: Vec<Uuid>,
}

impl Merged {
    fn new(owner: Uuid, kind: IndicatorKind, value: String, at: i64) -> Merged {
        Merged {
            id: new_id(),
            existed: false,
            owner,
            kind,
            value,
            tlp: None,
            confidence: None,
            threat_rating: None,
            status: None,
            description: None,
            stix_id: None,
            first_seen: i64::MAX,
            last_seen: i64::MIN,
            created_at: at,
            observation_count: 0,
            fp_votes: 0,
            tags: Vec::new(),
            attributes: BTreeMap::new(),
            shared_to: Vec::new(),
            granted_to: Vec::new(),
        }
    }

    /// Fold an input into this one; later inputs win for scalar fields.
    fn absorb(&mut self, input: &IndicatorInput, at: i64) {
        self.tlp = input.tlp.or(self.tlp);
        self.confidence = input.confidence.or(self.confidence);
        self.threat_rating = input.threat_rating.or(self.threat_rating);
        self.status = input.status.or(self.status);
        if input.description.is_some() {
            self.description.clone_from(&input.description);
        }
        if input.stix_id.is_some() {
            self.stix_id.clone_from(&input.stix_id);
        }
        self.first_seen = self.first_seen.min(input.first_seen.map(micros).unwrap_or(at));
        self.last_seen = self.last_seen.max(input.last_seen.map(micros).unwrap_or(at));
        merge_into(&mut self.tags, &input.tags);
        merge_into(&mut self.shared_to, &input.shared_to);
        merge_into(&mut self.granted_to, &input.granted_to);
        self.attributes.extend(input.attributes.iter().map(|(k, v)| (k.clone(), v.clone())));
    }

    /// Fold in the stored row: it keeps its id and creation time, and its values for
    /// every field no input set.
    fn absorb_stored(&mut self, row: IndicatorRow) -> StoreResult<()> {
        self.id = uuid(&row.id)?;
        self.existed = true;
        self.created_at = row.created_at;
        self.observation_count = row.observation_count;
        self.fp_votes = row.fp_votes;
        self.first_seen = self.first_seen.min(row.first_seen);
        self.last_seen = self.last_seen.max(row.last_seen);
        self.tlp = Some(self.tlp.unwrap_or(parse(&row.tlp)?));
        self.confidence = Some(self.confidence.unwrap_or(row.confidence));
        self.threat_rating = Some(self.threat_rating.unwrap_or(row.threat_rating));
        self.status = Some(self.status.unwrap_or(parse(&row.status)?));
        if self.description.is_none() {
            self.description = row.description;
        }
        if self.stix_id.is_none() {
            self.stix_id = row.stix_id;
        }
        Ok(())
    }
}

/// A validation error of input `i`, placed under `items[i]` in a bulk request.
fn place(bulk: bool, i: usize, e: FieldError) -> FieldError {
    if bulk { e.under(&format!("items[{i}]")) } else { e }
}

fn merge_into<T: Clone + PartialEq>(into: &mut Vec<T>, items: &[T]) {
    for item in items {
        if !into.contains(item) {
            into.push(item.clone());
        }
    }
}

impl Viewer<'_> {
    /// Create or update one indicator (see [`Viewer::upsert_indicators`]); returns it and
    /// whether it was created.
    pub async fn upsert_indicator(&self, input: &IndicatorInput) -> StoreResult<(Indicator, bool)> {
        let summary = self.upsert_many(std::slice::from_ref(input), false).await?;
        let indicator = self.get_indicator(summary.ids[0]).await?;
        Ok((indicator, summary.created == 1))
    }

    /// Create or update many indicators in one transaction. Every item is validated first;
    /// if any is invalid nothing is written and the error lists every bad item as
    /// `items[i].field`. An existing (owner, kind, value) keeps its id: `last_seen` moves
    /// forward, `first_seen` back, tags, attributes and sharing are merged, and fields given
    /// in the input replace stored ones while fields not given keep their stored values.
    /// Writes one `indicator.created` or `indicator.updated` event per indicator.
    pub async fn upsert_indicators(&self, inputs: &[IndicatorInput]) -> StoreResult<UpsertSummary> {
        self.upsert_many(inputs, true).await
    }

    async fn upsert_many(
        &self,
        inputs: &[IndicatorInput],
        bulk: bool,
    ) -> StoreResult<UpsertSummary> {
        let checked = self.check_indicators(inputs, bulk)?;
        let mut tx = self.store.write().await?;
        let summary = self.upsert_audited(&mut tx.tx, inputs.len(), &checked, bulk).await?;
        tx.commit().await?;
        Ok(summary)
    }

    /// Validate and upsert inside the caller's transaction, with the audit entry
    /// [`Viewer::upsert_indicators`] writes.
    pub(crate) async fn upsert_in(
        &self,
        conn: &mut AnyConnection,
        inputs: &[IndicatorInput],
        bulk: bool,
    ) -> StoreResult<UpsertSummary> {
        let checked = self.check_indicators(inputs, bulk)?;
        self.upsert_audited(conn, inputs.len(), &checked, bulk).await
    }

    async fn upsert_audited(
        &self,
        conn: &mut AnyConnection,
        items: usize,
        checked: &[CheckedIndicator],
        bulk: bool,
    ) -> StoreResult<UpsertSummary> {
        let (summary, _) = self.upsert_checked(conn, checked, bulk).await?;
        let (action, object_id) = if bulk {
            ("indicator.bulk_upsert", None)
        } else {
            (
                if summary.created == 1 { "indicator.create" } else { "indicator.upsert" },
                summary.ids.first().copied(),
            )
        };
        audit::record(
            conn,
            &self.principal,
            action,
            "indicator",
            object_id,
            serde_json::json!({ "items": items, "created": summary.created, "updated": summary.updated }),
        )
        .await?;
        Ok(summary)
    }

    /// Check the principal may write and validate every input; errors name each bad item
    /// as `items[i].field` when `bulk`.
    pub(crate) fn check_indicators(
        &self,
        inputs: &[IndicatorInput],
        bulk: bool,
    ) -> StoreResult<Vec<CheckedIndicator>> {
        self.require_write()?;
        let mut errors: Vec<FieldError> = Vec::new();
        let mut checked = Vec::with_capacity(inputs.len());
        for (i, input) in inputs.iter().enumerate() {
            match input.check() {
                Ok(c) => checked.push(c),
                Err(errs) => errors.extend(errs.into_iter().map(|e| place(bulk, i, e))),
            }
        }
        if errors.is_empty() { Ok(checked) } else { Err(StoreError::Invalid(errors)) }
    }

    /// Upsert checked indicators inside the caller's transaction (see
    /// [`Viewer::upsert_indicators`]), writing their outbox events; no audit entry. Also
    /// returns, per input, whether it created its indicator.
    pub(crate) async fn upsert_checked(
        &self,
        conn: &mut AnyConnection,
        checked: &[CheckedIndicator],
        bulk: bool,
    ) -> StoreResult<(UpsertSummary, Vec<bool>)> {
        let at = micros(now());
        // Resolve owners and check sharing once per distinct combination.
        let mut owners: HashMap<Option<Uuid>, Uuid> = HashMap::new();
        let mut sharing_checked: Vec<(Uuid, Vec<Uuid>, Vec<Uuid>)> = Vec::new();
        let mut merged: Vec<Merged> = Vec::new();
        let mut index: HashMap<(Uuid, IndicatorKind, String), usize> = HashMap::new();
        let mut slots = Vec::with_capacity(checked.len());
        for (i, c) in checked.iter().enumerate() {
            let owner = match owners.get(&c.input.owner_id) {
                Some(owner) => *owner,
                None => {
                    let owner =
                        self.resolve_owner(conn, c.input.owner_id).await.map_err(|e| match e {
                            StoreError::Invalid(errs) => StoreError::Invalid(
                                errs.into_iter().map(|e| place(bulk, i, e)).collect(),
                            ),
                            other => other,
                        })?;
                    owners.insert(c.input.owner_id, owner);
                    owner
                }
            };
            let (shares, grants) = (&c.input.shared_to, &c.input.granted_to);
            if (!shares.is_empty() || !grants.is_empty())
                && !sharing_checked
                    .iter()
                    .any(|(o, s, g)| *o == owner && s == shares && g == grants)
            {
                let field_prefix = if bulk { format!("items[{i}].") } else { String::new() };
                self.check_sharing(conn, owner, shares, grants, &field_prefix).await?;
                sharing_checked.push((owner, shares.clone(), grants.clone()));
            }
            let key = (owner, c.canonical.kind, c.canonical.value.clone());
            let slot = *index.entry(key).or_insert_with(|| {
                merged.push(Merged::new(owner, c.canonical.kind, c.canonical.value.clone(), at));
                merged.len() - 1
            });
            merged[slot].absorb(&c.input, at);
            slots.push(slot);
        }

        let mut events = EventWrite::default();
        let mut extras = ExtrasWrite::default();
        let (mut created, mut updated) = (0u64, 0u64);
        for batch in merged.chunks_mut(UPSERT_BATCH) {
            fold_stored(conn, batch).await?;
            let mut sql = Sql::new(
                "INSERT INTO indicators (id, owner_id, kind, value, tlp, confidence, threat_rating, \
                 status, description, first_seen, last_seen, observation_count, fp_votes, stix_id, \
                 created_at, updated_at) VALUES ",
            );
            for (j, m) in batch.iter().enumerate() {
                sql.push(if j == 0 { "(" } else { ", (" });
                sql.bind(m.id.to_string())
                    .push(", ")
                    .bind(m.owner.to_string())
                    .push(", ")
                    .bind(m.kind.as_str().to_string())
                    .push(", ")
                    .bind(m.value.clone())
                    .push(", ")
                    .bind(m.tlp.unwrap_or(Tlp::Amber).as_str().to_string())
                    .push(", ")
                    .bind(m.confidence.unwrap_or(50))
                    .push(", ")
                    .bind(m.threat_rating.unwrap_or(0))
                    .push(", ")
                    .bind(m.status.unwrap_or(IndicatorStatus::Active).as_str().to_string())
                    .push(", ")
                    .bind(m.description.clone())
                    .push(", ")
                    .bind(m.first_seen)
                    .push(", ")
                    .bind(m.last_seen)
                    .push(", ")
                    .bind(m.observation_count)
                    .push(", ")
                    .bind(m.fp_votes)
                    .push(", ")
                    .bind(m.stix_id.clone())
                    .push(", ")
                    .bind(m.created_at)
                    .push(", ")
                    .bind(at)
                    .push(")");
            }
            sql.push(
                " ON CONFLICT (owner_id, kind, value) DO UPDATE SET tlp = excluded.tlp, \
                 confidence = excluded.confidence, threat_rating = excluded.threat_rating, \
                 status = excluded.status, description = excluded.description, \
                 first_seen = CASE WHEN excluded.first_seen < indicators.first_seen \
                     THEN excluded.first_seen ELSE indicators.first_seen END, \
                 last_seen = CASE WHEN excluded.last_seen > indicators.last_seen \
                     THEN excluded.last_seen ELSE indicators.last_seen END, \
                 stix_id = excluded.stix_id, updated_at = excluded.updated_at",
            );
            if self.store.backend() == crate::Backend::Sqlite {
                // One writer at a time: what fold_stored read is what the insert met.
                sql.execute(&mut *conn).await?;
            } else {
                // Another node may have inserted the same key between our read and this
                // write; RETURNING gives the id that is actually stored.
                sql.push(" RETURNING id, kind, value");
                let stored: Vec<(String, String, String)> = sql.fetch_all(&mut *conn).await?;
                let mut actual: HashMap<(&str, &str), &str> = HashMap::with_capacity(stored.len());
                for (id, kind, value) in &stored {
                    actual.insert((kind.as_str(), value.as_str()), id.as_str());
                }
                for m in batch.iter_mut() {
                    if let Some(id) = actual.get(&(m.kind.as_str(), m.value.as_str())) {
                        m.id = uuid(id)?;
                    }
                }
            }
            for m in batch.iter_mut() {
                if m.existed {
                    updated += 1;
                } else {
                    created += 1;
                }
                extras.add(m.id, &m.tags, &m.attributes, &m.shared_to, &m.granted_to);
                events.add(
                    if m.existed { "indicator.updated" } else { "indicator.created" },
                    Some(m.id),
                    Some(m.owner),
                    serde_json::json!({ "id": m.id, "kind": m.kind, "value": m.value, "owner_id": m.owner }),
                    at,
                );
            }
        }
        extras.write(conn).await?;
        events.write(conn).await?;
        let ids = slots.iter().map(|&s| merged[s].id).collect();
        let new = slots.iter().map(|&s| !merged[s].existed).collect();
        Ok((UpsertSummary { created, updated, ids }, new))
    }

    /// One indicator, if the principal may see it.
    pub async fn get_indicator(&self, id: Uuid) -> StoreResult<Indicator> {
        let mut sql = Sql::for_reader(&self.org());
        sql.push("SELECT ")
            .push(INDICATOR_COLUMNS)
            .push(" FROM indicators i WHERE i.id = ")
            .bind(id.to_string())
            .push(" AND ")
            .push(&visible("i"));
        let mut conn = self.store.pool().acquire().await?;
        let row: Option<IndicatorRow> = sql.fetch_optional(&mut conn).await?;
        let row =
            row.ok_or_else(|| StoreError::NotFound { what: "indicator", id: id.to_string() })?;
        let mut items = self.finish_indicators(&mut conn, vec![row]).await?;
        Ok(items.remove(0))
    }

    /// Indicators the principal may see that match every given filter, ordered by last
    /// change then id, one page at a time.
    pub async fn search_indicators(&self, query: &IndicatorQuery) -> StoreResult<Page<Indicator>> {
        let limit = page_limit(query.limit)?;
        let mut sql = Sql::for_reader(&self.org());
        sql.push("SELECT ")
            .push(INDICATOR_COLUMNS)
            .push(" FROM indicators i WHERE ")
            .push(&visible("i"));
        if let Some(value) = &query.value {
            let canonical = match query.kind {
                Some(kind) => canonicalize(kind, value),
                None => detect(value),
            }
            .map_err(|e| StoreError::invalid("value", e.to_string()))?;
            sql.push(" AND i.kind = ").bind(canonical.kind.as_str().to_string());
            sql.push(" AND i.value = ").bind(canonical.value);
        } else if let Some(kind) = query.kind {
            sql.push(" AND i.kind = ").bind(kind.as_str().to_string());
        }
        if let Some(status) = query.status {
            sql.push(" AND i.status = ").bind(status.as_str().to_string());
        }
        let filters = ListFilters {
            tag: query.tag.as_deref(),
            owner_id: query.owner_id,
            tlp: query.tlp,
            updated_since: query.updated_since,
            cursor: query.cursor.as_deref(),
        };
        filters.push(&mut sql, "i")?;
        sql.push(" ORDER BY i.updated_at, i.id LIMIT ").bind(limit + 1);
        let mut conn = self.store.pool().acquire().await?;
        let mut rows: Vec<IndicatorRow> = sql.fetch_all(&mut conn).await?;
        let next_cursor = next_cursor(&mut rows, limit, |r| (r.updated_at, &r.id));
        let items = self.finish_indicators(&mut conn, rows).await?;
        Ok(Page { items, next_cursor })
    }

    /// Which owners hold `value` (of `kind`, guessed when absent), among those the principal
    /// may see, most recently seen first.
    pub async fn owners(
        &self,
        value: &str,
        kind: Option<IndicatorKind>,
    ) -> StoreResult<Vec<Holder>> {
        let canonical = match kind {
            Some(kind) => canonicalize(kind, value),
            None => detect(value),
        }
        .map_err(|e| StoreError::invalid("value", e.to_string()))?;
        let mut sql = Sql::for_reader(&self.org());
        sql.push(
            "SELECT i.id, i.owner_id, o.name, o.kind, i.confidence, i.tlp, i.status, i.last_seen \
             FROM indicators i JOIN organizations o ON o.id = i.owner_id WHERE i.kind = ",
        )
        .bind(canonical.kind.as_str().to_string())
        .push(" AND i.value = ")
        .bind(canonical.value)
        .push(" AND ")
        .push(&visible("i"))
        .push(" ORDER BY i.last_seen DESC, o.name");
        type HolderRow = (String, String, String, String, i64, String, String, i64);
        let rows: Vec<HolderRow> = sql.fetch_all(&mut *self.store.pool().acquire().await?).await?;
        rows.into_iter()
            .map(|(id, owner, name, kind, confidence, tlp, status, last_seen)| {
                Ok(Holder {
                    indicator_id: uuid(&id)?,
                    owner_id: uuid(&owner)?,
                    owner_name: name,
                    owner_kind: parse(&kind)?,
                    confidence,
                    tlp: parse(&tlp)?,
                    status: parse(&status)?,
                    last_seen: crate::from_micros(last_seen),
                })
            })
            .collect()
    }

    /// Change an indicator the principal owns (or writes for). Collections given replace
    /// the stored ones. Writes an `indicator.updated` event.
    pub async fn patch_indicator(
        &self,
        id: Uuid,
        patch: &IndicatorPatch,
    ) -> StoreResult<Indicator> {
        self.require_write()?;
        let patch = patch.check().map_err(StoreError::Invalid)?;
        let existing = self.get_indicator(id).await?;
        let mut tx = self.store.write().await?;
        let conn: &mut AnyConnection = &mut tx.tx;
        let owner = self.resolve_owner(conn, Some(existing.owner_id)).await?;
        self.check_sharing(
            conn,
            owner,
            patch.shared_to.as_deref().unwrap_or_default(),
            patch.granted_to.as_deref().unwrap_or_default(),
            "",
        )
        .await?;
        let at = micros(now());
        let mut sql = Sql::new("UPDATE indicators SET updated_at = ");
        sql.bind(at);
        if let Some(tlp) = patch.tlp {
            sql.push(", tlp = ").bind(tlp.as_str().to_string());
        }
        if let Some(confidence) = patch.confidence {
            sql.push(", confidence = ").bind(confidence);
        }
        if let Some(rating) = patch.threat_rating {
            sql.push(", threat_rating = ").bind(rating);
        }
        if let Some(status) = patch.status {
            sql.push(", status = ").bind(status.as_str().to_string());
        }
        if let Some(description) = &patch.description {
            sql.push(", description = ").bind(description.clone());
        }
        sql.push(" WHERE id = ").bind(id.to_string());
        sql.execute(&mut *conn).await?;
        replace_extras(conn, id, &patch).await?;
        let mut events = EventWrite::default();
        events.add(
            "indicator.updated",
            Some(id),
            Some(owner),
            serde_json::json!({ "id": id, "kind": existing.kind, "value": existing.value, "owner_id": owner }),
            at,
        );
        events.write(conn).await?;
        audit::record(
            conn,
            &self.principal,
            "indicator.update",
            "indicator",
            Some(id),
            serde_json::to_value(&patch).unwrap_or_default(),
        )
        .await?;
        tx.commit().await?;
        self.get_indicator(id).await
    }

    /// Attach tags, attributes and (for owned ones) sharing to indicator rows.
    pub(crate) async fn finish_indicators(
        &self,
        conn: &mut AnyConnection,
        rows: Vec<IndicatorRow>,
    ) -> StoreResult<Vec<Indicator>> {
        let mut items =
            rows.into_iter().map(IndicatorRow::into_model).collect::<StoreResult<Vec<_>>>()?;
        let ids: Vec<Uuid> = items.iter().map(|i| i.id).collect();
        let owned: Vec<Uuid> =
            items.iter().filter(|i| self.sees_sharing_of(i.owner_id)).map(|i| i.id).collect();
        let mut extras = Extras::load(conn, &ids, &owned, true).await?;
        for item in &mut items {
            item.tags = extras.tags.remove(&item.id).unwrap_or_default();
            item.attributes = extras.attributes.remove(&item.id).unwrap_or_default();
            item.sharing = extras.sharing.remove(&item.id);
        }
        Ok(items)
    }

    /// Whether the principal may see whom an object of `owner` is shared with: its owner,
    /// and the host organization for the sources it curates.
    pub(crate) fn sees_sharing_of(&self, owner: Uuid) -> bool {
        owner == self.principal.org_id
    }
}

/// Load stored rows for a batch of merged indicators and fold them in.
async fn fold_stored(conn: &mut AnyConnection, batch: &mut [Merged]) -> StoreResult<()> {
    let mut by_owner: HashMap<Uuid, Vec<usize>> = HashMap::new();
    for (j, m) in batch.iter().enumerate() {
        by_owner.entry(m.owner).or_default().push(j);
    }
    for (owner, members) in by_owner {
        let mut positions: HashMap<(String, String), usize> = HashMap::with_capacity(members.len());
        for &j in &members {
            positions.insert((batch[j].kind.as_str().to_string(), batch[j].value.clone()), j);
        }
        let mut sql = Sql::new("SELECT ");
        sql.push(INDICATOR_COLUMNS)
            .push(" FROM indicators i WHERE i.owner_id = ")
            .bind(owner.to_string())
            .push(" AND i.value IN (")
            .bind_list(members.iter().map(|&j| batch[j].value.clone()))
            .push(")");
        let rows: Vec<IndicatorRow> = sql.fetch_all(&mut *conn).await?;
        for row in rows {
            if let Some(&j) = positions.get(&(row.kind.clone(), row.value.clone())) {
                batch[j].absorb_stored(row)?;
            }
        }
    }
    Ok(())
}

/// Replace the tag, attribute, share and grant sets a patch gives.
pub(crate) async fn replace_extras(
    conn: &mut AnyConnection,
    id: Uuid,
    patch: &IndicatorPatch,
) -> StoreResult<()> {
    let mut extras = ExtrasWrite::default();
    if let Some(tags) = &patch.tags {
        clear(conn, Table::Tags, id).await?;
        extras.add(id, tags, &BTreeMap::new(), &[], &[]);
    }
    if let Some(attributes) = &patch.attributes {
        clear(conn, Table::Attributes, id).await?;
        extras.add(id, &[], attributes, &[], &[]);
    }
    if let Some(shared_to) = &patch.shared_to {
        clear(conn, Table::Shares, id).await?;
        extras.add(id, &[], &BTreeMap::new(), shared_to, &[]);
    }
    if let Some(granted_to) = &patch.granted_to {
        clear(conn, Table::Grants, id).await?;
        extras.add(id, &[], &BTreeMap::new(), &[], granted_to);
    }
    extras.write(conn).await
}
