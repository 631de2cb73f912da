//! Groups: adversaries, campaigns, incidents, malware, tools, vulnerabilities, reports.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use tipline_model::intel::{Group, GroupInput};
use tipline_model::{GroupKind, Tlp};
use uuid::Uuid;

use crate::events::EventWrite;
use crate::indicators::{ListFilters, Page, next_cursor, page_limit};
use crate::objects::{Extras, ExtrasWrite};
use crate::rows::{GROUP_COLUMNS, GroupRow, to_json_list};
use crate::sql::Sql;
use crate::visibility::visible;
use crate::{StoreError, StoreResult, Viewer, audit, micros, new_id, now};

/// Filters for [`Viewer::search_groups`].
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GroupQuery {
    /// Kind of group.
    pub kind: Option<GroupKind>,
    /// Name or alias, case-insensitive exact match.
    pub name: Option<String>,
    /// Carries this tag.
    pub tag: Option<String>,
    /// Owned by this organization.
    pub owner_id: Option<Uuid>,
    /// Marked with this TLP.
    pub tlp: Option<Tlp>,
    /// Changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
    /// Continue after the page that returned this cursor.
    pub cursor: Option<String>,
    /// Page size, 1–1000 (default 100).
    pub limit: Option<u32>,
}

impl Viewer<'_> {
    /// Create a group. Its name must be unique for its owner and kind.
    pub async fn create_group(&self, input: &GroupInput) -> StoreResult<Group> {
        self.require_write()?;
        let mut tx = self.store.write().await?;
        let id = self.create_group_in(&mut tx.tx, input).await?;
        tx.commit().await?;
        self.get_group(id).await
    }

    /// The body of [`Viewer::create_group`], inside the caller's transaction.
    pub(crate) async fn create_group_in(
        &self,
        conn: &mut AnyConnection,
        input: &GroupInput,
    ) -> StoreResult<Uuid> {
        self.require_write()?;
        let input = input.check().map_err(StoreError::Invalid)?;
        let kind = input.kind.expect("checked");
        let owner = self.resolve_owner(conn, input.owner_id).await?;
        self.check_sharing(conn, owner, &input.shared_to, &input.granted_to, "").await?;
        let mut sql = Sql::new("SELECT id FROM intel_groups WHERE owner_id = ");
        sql.bind(owner.to_string())
            .push(" AND kind = ")
            .bind(kind.as_str().to_string())
            .push(" AND lower(name) = lower(")
            .bind(input.name.clone())
            .push(")");
        if let Some((existing,)) = sql.fetch_optional::<(String,)>(&mut *conn).await? {
            return Err(StoreError::Conflict(format!(
                "this owner already has a {kind} named `{}` ({existing})",
                input.name
            )));
        }
        let at = micros(now());
        let mut events = EventWrite::default();
        let id = insert_group(conn, owner, &input, at, &mut events).await?;
        events.write(conn).await?;
        audit::record(
            conn,
            &self.principal,
            "group.create",
            "group",
            Some(id),
            serde_json::json!({ "kind": kind, "name": input.name }),
        )
        .await?;
        Ok(id)
    }

    /// One group, if the principal may see it.
    pub async fn get_group(&self, id: Uuid) -> StoreResult<Group> {
        let mut sql = Sql::for_reader(&self.org());
        sql.push("SELECT ")
            .push(GROUP_COLUMNS)
            .push(" FROM intel_groups g WHERE g.id = ")
            .bind(id.to_string())
            .push(" AND ")
            .push(&visible("g"));
        let mut conn = self.store.pool().acquire().await?;
        let row: Option<GroupRow> = sql.fetch_optional(&mut conn).await?;
        let row = row.ok_or_else(|| StoreError::NotFound { what: "group", id: id.to_string() })?;
        Ok(self.finish_groups(&mut conn, vec![row]).await?.remove(0))
    }

    /// Groups the principal may see that match every filter, by last change then id.
    pub async fn search_groups(&self, query: &GroupQuery) -> StoreResult<Page<Group>> {
        let limit = page_limit(query.limit)?;
        let mut sql = Sql::for_reader(&self.org());
        sql.push("SELECT ")
            .push(GROUP_COLUMNS)
            .push(" FROM intel_groups g WHERE ")
            .push(&visible("g"));
        if let Some(kind) = query.kind {
            sql.push(" AND g.kind = ").bind(kind.as_str().to_string());
        }
        if let Some(name) = &query.name {
            // Aliases are a JSON list of strings; match the quoted name inside it.
            let quoted =
                serde_json::to_string(&name.trim().to_lowercase()).expect("string serializes");
            sql.push(" AND (lower(g.name) = ")
                .bind(name.trim().to_lowercase())
                .push(" OR lower(g.aliases) LIKE ")
                .bind(format!("%{}%", escape_like(&quoted)))
                .push(" ESCAPE '\\')");
        }
        let filters = ListFilters {
            tag: query.tag.as_deref(),
            owner_id: query.owner_id,
            tlp: query.tlp,
            updated_since: query.updated_since,
            cursor: query.cursor.as_deref(),
        };
        filters.push(&mut sql, "g")?;
        sql.push(" ORDER BY g.updated_at, g.id LIMIT ").bind(limit + 1);
        let mut conn = self.store.pool().acquire().await?;
        let mut rows: Vec<GroupRow> = sql.fetch_all(&mut conn).await?;
        let next_cursor = next_cursor(&mut rows, limit, |r| (r.updated_at, &r.id));
        let items = self.finish_groups(&mut conn, rows).await?;
        Ok(Page { items, next_cursor })
    }

    pub(crate) async fn finish_groups(
        &self,
        conn: &mut AnyConnection,
        rows: Vec<GroupRow>,
    ) -> StoreResult<Vec<Group>> {
        let mut items =
            rows.into_iter().map(GroupRow::into_model).collect::<StoreResult<Vec<_>>>()?;
        let ids: Vec<Uuid> = items.iter().map(|g| g.id).collect();
        let owned: Vec<Uuid> =
            items.iter().filter(|g| self.sees_sharing_of(g.owner_id)).map(|g| g.id).collect();
        let mut extras = Extras::load(conn, &ids, &owned, true).await?;
        for item in &mut items {
            item.tags = extras.tags.remove(&item.id).unwrap_or_default();
            item.attributes = extras.attributes.remove(&item.id).unwrap_or_default();
            item.sharing = extras.sharing.remove(&item.id);
        }
        Ok(items)
    }
}

/// Insert a checked group owned by `owner` with its tags, attributes and sharing, adding
/// its `group.created` event to `events`. The caller checked ownership and sharing.
pub(crate) async fn insert_group(
    conn: &mut AnyConnection,
    owner: Uuid,
    input: &GroupInput,
    at: i64,
    events: &mut EventWrite,
) -> StoreResult<Uuid> {
    let kind = input.kind.expect("checked");
    let id = new_id();
    let mut sql = Sql::new(
        "INSERT INTO intel_groups (id, owner_id, kind, name, description, tlp, aliases, \
         adversary_kind, country, motivations, cve, vendor, product, known_exploited, \
         first_seen, last_seen, stix_id, created_at, updated_at) VALUES (",
    );
    sql.bind(id.to_string())
        .push(", ")
        .bind(owner.to_string())
        .push(", ")
        .bind(kind.as_str().to_string())
        .push(", ")
        .bind(input.name.clone())
        .push(", ")
        .bind(input.description.clone())
        .push(", ")
        .bind(input.tlp.unwrap_or(Tlp::Amber).as_str().to_string())
        .push(", ")
        .bind(to_json_list(&input.aliases))
        .push(", ")
        .bind(input.adversary_kind.map(|k| k.as_str().to_string()))
        .push(", ")
        .bind(input.country.clone())
        .push(", ")
        .bind(to_json_list(&input.motivations))
        .push(", ")
        .bind(input.cve.clone())
        .push(", ")
        .bind(input.vendor.clone())
        .push(", ")
        .bind(input.product.clone())
        .push(", ")
        .bind(i64::from(input.known_exploited.unwrap_or(false)))
        .push(", ")
        .bind(input.first_seen.map(micros))
        .push(", ")
        .bind(input.last_seen.map(micros))
        .push(", ")
        .bind(input.stix_id.clone())
        .push(", ")
        .bind(at)
        .push(", ")
        .bind(at)
        .push(")");
    sql.execute(&mut *conn).await?;
    let mut extras = ExtrasWrite::default();
    extras.add(id, &input.tags, &input.attributes, &input.shared_to, &input.granted_to);
    extras.write(conn).await?;
    events.add(
        "group.created",
        Some(id),
        Some(owner),
        serde_json::json!({ "id": id, "kind": kind, "name": input.name, "owner_id": owner }),
        at,
    );
    Ok(id)
}

/// Escape `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern.
pub(crate) fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
