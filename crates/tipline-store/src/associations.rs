//! Associations between objects, and the neighbourhood query (everything associated with
//! an object within one or two hops), both filtered so that an association never reveals
//! an object its reader may not see.

use std::collections::BTreeSet;

use sqlx::AnyConnection;
use tipline_model::Tlp;
use tipline_model::intel::{Association, AssociationInput, Neighbourhood, ObjectType};
use uuid::Uuid;

use crate::events::EventWrite;
use crate::objects::{Extras, ExtrasWrite};
use crate::rows::{
    ASSOCIATION_COLUMNS, AssociationRow, GROUP_COLUMNS, GroupRow, INDICATOR_COLUMNS, IndicatorRow,
};
use crate::sql::Sql;
use crate::visibility::{association_visible, visible};
use crate::{StoreError, StoreResult, Viewer, audit, micros, new_id, now};

impl Viewer<'_> {
    /// Create an association between two objects the principal can see.
    pub async fn create_association(&self, input: &AssociationInput) -> StoreResult<Association> {
        self.require_write()?;
        let input = input.check().map_err(StoreError::Invalid)?;
        let relationship = input.relationship.expect("checked");
        let mut tx = self.store.write().await?;
        let conn: &mut AnyConnection = &mut tx.tx;
        let owner = self.resolve_owner(conn, input.owner_id).await?;
        self.check_sharing(conn, owner, &input.shared_to, &input.granted_to, "").await?;
        let source_type = self.object_type(conn, input.source_id).await?.ok_or_else(|| {
            StoreError::invalid(
                "source_id",
                format!("no indicator or group {} visible to you", input.source_id),
            )
        })?;
        let target_type = self.object_type(conn, input.target_id).await?.ok_or_else(|| {
            StoreError::invalid(
                "target_id",
                format!("no indicator or group {} visible to you", input.target_id),
            )
        })?;
        let mut sql = Sql::new("SELECT id FROM associations WHERE owner_id = ");
        sql.bind(owner.to_string())
            .push(" AND source_id = ")
            .bind(input.source_id.to_string())
            .push(" AND relationship = ")
            .bind(relationship.as_str().to_string())
            .push(" AND target_id = ")
            .bind(input.target_id.to_string());
        if let Some((existing,)) = sql.fetch_optional::<(String,)>(&mut *conn).await? {
            return Err(StoreError::Conflict(format!(
                "this association already exists ({existing})"
            )));
        }
        let id = new_id();
        let at = micros(now());
        let mut sql = Sql::new(
            "INSERT INTO associations (id, owner_id, source_id, source_type, relationship, target_id, \
             target_type, tlp, confidence, description, stix_id, created_at, updated_at) VALUES (",
        );
        sql.bind(id.to_string())
            .push(", ")
            .bind(owner.to_string())
            .push(", ")
            .bind(input.source_id.to_string())
            .push(", ")
            .bind(source_type.as_str().to_string())
            .push(", ")
            .bind(relationship.as_str().to_string())
            .push(", ")
            .bind(input.target_id.to_string())
            .push(", ")
            .bind(target_type.as_str().to_string())
            .push(", ")
            .bind(input.tlp.unwrap_or(Tlp::Amber).as_str().to_string())
            .push(", ")
            .bind(input.confidence.unwrap_or(50))
            .push(", ")
            .bind(input.description.clone())
            .push(", ")
            .bind(input.stix_id.clone())
            .push(", ")
            .bind(at)
            .push(", ")
            .bind(at)
            .push(")");
        sql.execute(&mut *conn).await?;
        let mut extras = ExtrasWrite::default();
        extras.add(id, &[], &Default::default(), &input.shared_to, &input.granted_to);
        extras.write(conn).await?;
        let mut events = EventWrite::default();
        events.add(
            "association.created",
            Some(id),
            Some(owner),
            serde_json::json!({ "id": id, "source_id": input.source_id, "relationship": relationship, "target_id": input.target_id }),
            at,
        );
        events.write(conn).await?;
        audit::record(
            conn,
            &self.principal,
            "association.create",
            "association",
            Some(id),
            serde_json::json!({ "relationship": relationship }),
        )
        .await?;
        tx.commit().await?;
        self.get_association(id).await
    }

    /// Whether `id` is an indicator or a group visible to the principal.
    async fn object_type(
        &self,
        conn: &mut AnyConnection,
        id: Uuid,
    ) -> StoreResult<Option<ObjectType>> {
        for (object_type, table) in
            [(ObjectType::Indicator, "indicators"), (ObjectType::Group, "intel_groups")]
        {
            let mut sql = Sql::for_reader(&self.org());
            sql.push(&format!("SELECT x.id FROM {table} x WHERE x.id = "))
                .bind(id.to_string())
                .push(" AND ")
                .push(&visible("x"));
            if sql.fetch_optional::<(String,)>(&mut *conn).await?.is_some() {
                return Ok(Some(object_type));
            }
        }
        Ok(None)
    }

    /// One association, if it and both its ends are visible.
    pub async fn get_association(&self, id: Uuid) -> StoreResult<Association> {
        let mut sql = Sql::for_reader(&self.org());
        sql.push("SELECT ")
            .push(ASSOCIATION_COLUMNS)
            .push(" FROM associations a WHERE a.id = ")
            .bind(id.to_string())
            .push(" AND ")
            .push(&association_visible("a"));
        let mut conn = self.store.pool().acquire().await?;
        let rows: Vec<AssociationRow> = sql.fetch_all(&mut conn).await?;
        self.finish_associations(&mut conn, rows)
            .await?
            .pop()
            .ok_or_else(|| StoreError::NotFound { what: "association", id: id.to_string() })
    }

    /// Associations touching `object` (either end), visible with both ends.
    pub async fn associations_of(&self, object: Uuid) -> StoreResult<Vec<Association>> {
        let mut conn = self.store.pool().acquire().await?;
        let rows = self.edges(&mut conn, &[object]).await?;
        self.finish_associations(&mut conn, rows).await
    }

    async fn edges(
        &self,
        conn: &mut AnyConnection,
        frontier: &[Uuid],
    ) -> StoreResult<Vec<AssociationRow>> {
        let mut sql = Sql::for_reader(&self.org());
        let keys: Vec<String> = frontier.iter().map(Uuid::to_string).collect();
        sql.push("SELECT ")
            .push(ASSOCIATION_COLUMNS)
            .push(" FROM associations a WHERE (a.source_id IN (")
            .bind_list(keys.clone())
            .push(") OR a.target_id IN (")
            .bind_list(keys)
            .push(")) AND ")
            .push(&association_visible("a"))
            .push(" ORDER BY a.created_at, a.id LIMIT 5001");
        let rows: Vec<AssociationRow> = sql.fetch_all(conn).await?;
        if rows.len() > 5000 {
            return Err(StoreError::invalid(
                "depth",
                "more than 5000 associations in reach; ask for depth 1",
            ));
        }
        Ok(rows)
    }

    /// Everything associated with `root` within `depth` hops (1 or 2): the objects reached
    /// and the associations walked. The root must be visible; every association and object
    /// returned is visible to the principal.
    pub async fn neighbourhood(&self, root: Uuid, depth: u8) -> StoreResult<Neighbourhood> {
        if !(1..=2).contains(&depth) {
            return Err(StoreError::invalid("depth", format!("must be 1 or 2, got {depth}")));
        }
        let mut conn = self.store.pool().acquire().await?;
        if self.object_type(&mut conn, root).await?.is_none() {
            return Err(StoreError::NotFound { what: "object", id: root.to_string() });
        }
        let mut reached: BTreeSet<Uuid> = BTreeSet::from([root]);
        let mut frontier = vec![root];
        let mut rows: Vec<AssociationRow> = Vec::new();
        let mut seen_edges: BTreeSet<String> = BTreeSet::new();
        for _ in 0..depth {
            let found = self.edges(&mut conn, &frontier).await?;
            let mut next = Vec::new();
            for row in found {
                if !seen_edges.insert(row.id.clone()) {
                    continue;
                }
                for end in [&row.source_id, &row.target_id] {
                    let end = crate::rows::uuid(end)?;
                    if reached.insert(end) {
                        next.push(end);
                    }
                }
                rows.push(row);
            }
            if next.is_empty() {
                break;
            }
            frontier = next;
        }
        let ids: Vec<String> = reached.iter().map(Uuid::to_string).collect();
        let mut sql = Sql::for_reader(&self.org());
        sql.push("SELECT ")
            .push(INDICATOR_COLUMNS)
            .push(" FROM indicators i WHERE i.id IN (")
            .bind_list(ids.clone())
            .push(") AND ")
            .push(&visible("i"))
            .push(" ORDER BY i.id");
        let indicator_rows: Vec<IndicatorRow> = sql.fetch_all(&mut conn).await?;
        let mut sql = Sql::for_reader(&self.org());
        sql.push("SELECT ")
            .push(GROUP_COLUMNS)
            .push(" FROM intel_groups g WHERE g.id IN (")
            .bind_list(ids)
            .push(") AND ")
            .push(&visible("g"))
            .push(" ORDER BY g.id");
        let group_rows: Vec<GroupRow> = sql.fetch_all(&mut conn).await?;
        Ok(Neighbourhood {
            root,
            indicators: self.finish_indicators(&mut conn, indicator_rows).await?,
            groups: self.finish_groups(&mut conn, group_rows).await?,
            associations: self.finish_associations(&mut conn, rows).await?,
        })
    }

    async fn finish_associations(
        &self,
        conn: &mut AnyConnection,
        rows: Vec<AssociationRow>,
    ) -> StoreResult<Vec<Association>> {
        let mut items =
            rows.into_iter().map(AssociationRow::into_model).collect::<StoreResult<Vec<_>>>()?;
        let owned: Vec<Uuid> =
            items.iter().filter(|a| self.sees_sharing_of(a.owner_id)).map(|a| a.id).collect();
        let mut extras = Extras::load(conn, &[], &owned, false).await?;
        for item in &mut items {
            item.sharing = extras.sharing.remove(&item.id);
        }
        Ok(items)
    }
}
