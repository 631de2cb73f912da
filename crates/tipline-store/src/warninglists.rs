//! MISP warninglists: stored known-benign lists. They are public reference data, not
//! intelligence (no owner, no TLP): every principal may read them; the host organization's
//! analysts and admins import them. A list is keyed by its name: importing it again
//! replaces its entries, and writes a `warninglist.created` or `warninglist.updated`
//! event so every node's index reloads its lists.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tipline_formats::warninglist::{ListType, Warninglist};
use tipline_model::OrgKind;
use uuid::Uuid;

use crate::events::EventWrite;
use crate::rows::{json_list, to_json_list, uuid};
use crate::sql::Sql;
use crate::{Store, StoreError, StoreResult, Viewer, audit, from_micros, micros, new_id, now};

/// A stored list, without its entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct WarninglistSummary {
    /// Identifier.
    pub id: Uuid,
    /// Unique name.
    pub name: String,
    /// What the list is.
    pub description: String,
    /// The list's own version.
    pub version: i64,
    /// `cidr`, `hostname`, `string`, `substring` or `regex`.
    pub list_type: String,
    /// MISP attribute types the list applies to (empty: every type).
    pub matching_attributes: Vec<String>,
    /// Number of entries.
    pub entry_count: i64,
    /// When first imported.
    pub created_at: DateTime<Utc>,
    /// When last replaced.
    pub updated_at: DateTime<Utc>,
}

type SummaryRow = (String, String, String, i64, String, String, i64, i64, i64);
const SUMMARY_COLUMNS: &str = "id, name, description, version, list_type, matching_attributes, entry_count, created_at, updated_at";

fn summary(row: SummaryRow) -> StoreResult<WarninglistSummary> {
    let (id, name, description, version, list_type, attributes, count, created, updated) = row;
    Ok(WarninglistSummary {
        id: uuid(&id)?,
        name,
        description,
        version,
        list_type,
        matching_attributes: json_list(&attributes)?,
        entry_count: count,
        created_at: from_micros(created),
        updated_at: from_micros(updated),
    })
}

impl Store {
    /// Every stored list with its entries, by name: what the index compiles.
    pub async fn warninglists(&self) -> StoreResult<Vec<(WarninglistSummary, Warninglist)>> {
        let mut conn = self.pool().acquire().await?;
        let summaries = summaries(&mut conn).await?;
        let entries: Vec<(String, String)> =
            Sql::new("SELECT id, entries FROM warninglists").fetch_all(&mut conn).await?;
        let mut entries: std::collections::HashMap<String, String> = entries.into_iter().collect();
        summaries
            .into_iter()
            .map(|summary| {
                let list_type: ListType = summary.list_type.parse().map_err(StoreError::Corrupt)?;
                let stored = entries.remove(&summary.id.to_string()).unwrap_or_default();
                let list = Warninglist {
                    name: summary.name.clone(),
                    description: summary.description.clone(),
                    version: summary.version,
                    list_type,
                    matching_attributes: summary.matching_attributes.clone(),
                    entries: json_list(&stored)?,
                };
                Ok((summary, list))
            })
            .collect()
    }
}

/// Every stored list without entries, by name.
async fn summaries(conn: &mut sqlx::AnyConnection) -> StoreResult<Vec<WarninglistSummary>> {
    let mut sql = Sql::new("SELECT ");
    sql.push(SUMMARY_COLUMNS).push(" FROM warninglists ORDER BY name");
    let rows: Vec<SummaryRow> = sql.fetch_all(conn).await?;
    rows.into_iter().map(summary).collect()
}

impl Viewer<'_> {
    /// Store a list, replacing the one with the same name; returns it and whether it was
    /// new. Analysts and admins of the host organization only.
    pub async fn import_warninglist(
        &self,
        list: &Warninglist,
    ) -> StoreResult<(WarninglistSummary, bool)> {
        self.require_write()?;
        if self.principal.org_kind != OrgKind::Host {
            return Err(StoreError::Forbidden(
                "only the host organization imports warninglists".into(),
            ));
        }
        let at = micros(now());
        let mut tx = self.store.write().await?;
        let mut sql = Sql::new("SELECT id FROM warninglists WHERE name = ");
        sql.bind(list.name.clone());
        let existing: Option<(String,)> = sql.fetch_optional(&mut tx.tx).await?;
        let entries = to_json_list(&list.entries);
        let attributes = to_json_list(&list.matching_attributes);
        let (id, created) = match existing {
            Some((id,)) => {
                let mut sql = Sql::new("UPDATE warninglists SET description = ");
                sql.bind(list.description.clone())
                    .push(", version = ")
                    .bind(list.version)
                    .push(", list_type = ")
                    .bind(list.list_type.as_str().to_string())
                    .push(", matching_attributes = ")
                    .bind(attributes)
                    .push(", entries = ")
                    .bind(entries)
                    .push(", entry_count = ")
                    .bind(list.entries.len() as i64)
                    .push(", updated_at = ")
                    .bind(at)
                    .push(" WHERE id = ")
                    .bind(id.clone());
                sql.execute(&mut tx.tx).await?;
                (uuid(&id)?, false)
            }
            None => {
                let id = new_id();
                let mut sql = Sql::new(
                    "INSERT INTO warninglists (id, name, description, version, list_type, \
                     matching_attributes, entries, entry_count, created_at, updated_at) VALUES (",
                );
                sql.bind(id.to_string())
                    .push(", ")
                    .bind(list.name.clone())
                    .push(", ")
                    .bind(list.description.clone())
                    .push(", ")
                    .bind(list.version)
                    .push(", ")
                    .bind(list.list_type.as_str().to_string())
                    .push(", ")
                    .bind(attributes)
                    .push(", ")
                    .bind(entries)
                    .push(", ")
                    .bind(list.entries.len() as i64)
                    .push(", ")
                    .bind(at)
                    .push(", ")
                    .bind(at)
                    .push(")");
                sql.execute(&mut tx.tx).await?;
                (id, true)
            }
        };
        let mut events = EventWrite::default();
        events.add(
            if created { "warninglist.created" } else { "warninglist.updated" },
            Some(id),
            None,
            serde_json::json!({ "id": id, "name": list.name, "entries": list.entries.len() }),
            at,
        );
        events.write(&mut tx.tx).await?;
        audit::record(
            &mut tx.tx,
            &self.principal,
            "warninglist.import",
            "warninglist",
            Some(id),
            serde_json::json!({ "name": list.name, "version": list.version, "entries": list.entries.len() }),
        )
        .await?;
        tx.commit().await?;
        let mut sql = Sql::new("SELECT ");
        sql.push(SUMMARY_COLUMNS).push(" FROM warninglists WHERE id = ").bind(id.to_string());
        let row: SummaryRow =
            sql.fetch_optional(&mut *self.store.pool().acquire().await?)
                .await?
                .ok_or_else(|| StoreError::NotFound { what: "warninglist", id: id.to_string() })?;
        Ok((summary(row)?, created))
    }

    /// Every stored list (without entries), by name. Any principal.
    pub async fn list_warninglists(&self) -> StoreResult<Vec<WarninglistSummary>> {
        summaries(&mut *self.store.pool().acquire().await?).await
    }
}
