//! Sightings: an indicator seen by an organization at a time.

use sqlx::AnyConnection;
use tipline_model::Tlp;
use tipline_model::intel::{Sighting, SightingInput};
use uuid::Uuid;

use crate::events::EventWrite;
use crate::objects::ExtrasWrite;
use crate::rows::{SIGHTING_COLUMNS, SightingRow};
use crate::sql::Sql;
use crate::visibility::{sighting_visible, visible};
use crate::{StoreError, StoreResult, Viewer, audit, micros, new_id, now};

impl Viewer<'_> {
    /// Record a sighting of an indicator the principal can see. The indicator's observation
    /// count grows by the sighting's count. Writes a `sighting.created` event.
    pub async fn create_sighting(&self, input: &SightingInput) -> StoreResult<Sighting> {
        self.require_write()?;
        let input = input.check().map_err(StoreError::Invalid)?;
        let mut tx = self.store.write().await?;
        let conn: &mut AnyConnection = &mut tx.tx;
        let owner = self.resolve_owner(conn, input.owner_id).await?;
        self.check_sharing(conn, owner, &input.shared_to, &input.granted_to, "").await?;
        let mut sql = Sql::for_reader(&self.org());
        sql.push("SELECT i.id FROM indicators i WHERE i.id = ")
            .bind(input.indicator_id.to_string())
            .push(" AND ")
            .push(&visible("i"));
        if sql.fetch_optional::<(String,)>(&mut *conn).await?.is_none() {
            return Err(StoreError::invalid(
                "indicator_id",
                format!("no indicator {} visible to you", input.indicator_id),
            ));
        }
        let id = new_id();
        let at = micros(now());
        let count = input.count.unwrap_or(1);
        let mut sql = Sql::new(
            "INSERT INTO sightings (id, indicator_id, owner_id, tlp, seen_at, count, source, note, created_at) VALUES (",
        );
        sql.bind(id.to_string())
            .push(", ")
            .bind(input.indicator_id.to_string())
            .push(", ")
            .bind(owner.to_string())
            .push(", ")
            .bind(input.tlp.unwrap_or(Tlp::Amber).as_str().to_string())
            .push(", ")
            .bind(input.seen_at.map(micros).unwrap_or(at))
            .push(", ")
            .bind(count)
            .push(", ")
            .bind(input.source.clone())
            .push(", ")
            .bind(input.note.clone())
            .push(", ")
            .bind(at)
            .push(")");
        sql.execute(&mut *conn).await?;
        let mut sql = Sql::new("UPDATE indicators SET observation_count = observation_count + ");
        sql.bind(count).push(" WHERE id = ").bind(input.indicator_id.to_string());
        sql.execute(&mut *conn).await?;
        let mut extras = ExtrasWrite::default();
        extras.add(id, &[], &Default::default(), &input.shared_to, &input.granted_to);
        extras.write(conn).await?;
        let mut events = EventWrite::default();
        events.add(
            "sighting.created",
            Some(id),
            Some(owner),
            serde_json::json!({ "id": id, "indicator_id": input.indicator_id, "count": count }),
            at,
        );
        events.write(conn).await?;
        audit::record(
            conn,
            &self.principal,
            "sighting.create",
            "sighting",
            Some(id),
            serde_json::json!({ "indicator_id": input.indicator_id }),
        )
        .await?;
        tx.commit().await?;
        self.get_sighting(id).await
    }

    /// One sighting, if it and its indicator are visible.
    pub async fn get_sighting(&self, id: Uuid) -> StoreResult<Sighting> {
        let mut sql = Sql::for_reader(&self.org());
        sql.push("SELECT ")
            .push(SIGHTING_COLUMNS)
            .push(" FROM sightings s WHERE s.id = ")
            .bind(id.to_string())
            .push(" AND ")
            .push(&sighting_visible("s"));
        let row: Option<SightingRow> =
            sql.fetch_optional(&mut *self.store.pool().acquire().await?).await?;
        row.ok_or_else(|| StoreError::NotFound { what: "sighting", id: id.to_string() })?
            .into_model()
    }

    /// Visible sightings, newest first, optionally of one indicator (at most `limit`).
    pub async fn list_sightings(
        &self,
        indicator_id: Option<Uuid>,
        limit: Option<u32>,
    ) -> StoreResult<Vec<Sighting>> {
        let limit = crate::indicators::page_limit(limit)?;
        let mut sql = Sql::for_reader(&self.org());
        sql.push("SELECT ")
            .push(SIGHTING_COLUMNS)
            .push(" FROM sightings s WHERE ")
            .push(&sighting_visible("s"));
        if let Some(indicator) = indicator_id {
            sql.push(" AND s.indicator_id = ").bind(indicator.to_string());
        }
        sql.push(" ORDER BY s.seen_at DESC, s.id DESC LIMIT ").bind(limit);
        let rows: Vec<SightingRow> =
            sql.fetch_all(&mut *self.store.pool().acquire().await?).await?;
        rows.into_iter().map(SightingRow::into_model).collect()
    }
}
