//! The transactional outbox: events written in the same transaction as the change they
//! report (`indicator.created`, ...), read later by automation.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::AnyConnection;
use uuid::Uuid;

use crate::rows::uuid;
use crate::sql::{MAX_BINDS, Sql};
use crate::{Store, StoreResult, from_micros, new_id};

/// An event as stored in the outbox.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// Position in the outbox (strictly increasing).
    pub seq: i64,
    /// Identifier (doubles as an idempotency key for whatever the event triggers).
    pub id: Uuid,
    /// What happened, e.g. `indicator.created`.
    pub kind: String,
    /// The object it concerns.
    pub object_id: Option<Uuid>,
    /// The organization that owns the object.
    pub org_id: Option<Uuid>,
    /// Details.
    pub payload: serde_json::Value,
    /// When it was written.
    pub created_at: DateTime<Utc>,
}

/// One outbox row: id, kind, object id, organization id, payload, time.
type EventRow = (String, &'static str, Option<String>, Option<String>, String, i64);

/// Events to insert at the end of a transaction.
#[derive(Default)]
pub(crate) struct EventWrite {
    rows: Vec<EventRow>,
}

impl EventWrite {
    pub(crate) fn add(
        &mut self,
        kind: &'static str,
        object_id: Option<Uuid>,
        org_id: Option<Uuid>,
        payload: serde_json::Value,
        at: i64,
    ) {
        self.rows.push((
            new_id().to_string(),
            kind,
            object_id.map(|u| u.to_string()),
            org_id.map(|u| u.to_string()),
            payload.to_string(),
            at,
        ));
    }

    pub(crate) async fn write(self, conn: &mut AnyConnection) -> StoreResult<()> {
        for chunk in self.rows.chunks(MAX_BINDS / 6) {
            let mut sql = Sql::new(
                "INSERT INTO events (id, kind, object_id, org_id, payload, created_at) VALUES ",
            );
            for (i, (id, kind, object, org, payload, at)) in chunk.iter().enumerate() {
                sql.push(if i == 0 { "(" } else { ", (" });
                sql.bind(id.clone())
                    .push(", ")
                    .bind(kind.to_string())
                    .push(", ")
                    .bind(object.clone())
                    .push(", ")
                    .bind(org.clone())
                    .push(", ")
                    .bind(payload.clone())
                    .push(", ")
                    .bind(*at)
                    .push(")");
            }
            sql.execute(&mut *conn).await?;
        }
        Ok(())
    }
}

impl Store {
    /// Outbox events after position `after_seq`, oldest first (at most `limit`).
    pub async fn events_after(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<Event>> {
        let mut sql = Sql::new(
            "SELECT seq, id, kind, object_id, org_id, payload, created_at FROM events WHERE seq > ",
        );
        sql.bind(after_seq).push(" ORDER BY seq LIMIT ").bind(limit);
        type Row = (i64, String, String, Option<String>, Option<String>, String, i64);
        let rows: Vec<Row> = sql.fetch_all(&mut *self.pool().acquire().await?).await?;
        rows.into_iter()
            .map(|(seq, id, kind, object_id, org_id, payload, created_at)| {
                Ok(Event {
                    seq,
                    id: uuid(&id)?,
                    kind,
                    object_id: object_id.as_deref().map(uuid).transpose()?,
                    org_id: org_id.as_deref().map(uuid).transpose()?,
                    payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
                    created_at: from_micros(created_at),
                })
            })
            .collect()
    }
}
