//! The audit log: who changed what, written in the same transaction as the change.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::AnyConnection;
use tipline_model::Principal;
use uuid::Uuid;

use crate::rows::uuid;
use crate::sql::Sql;
use crate::{StoreResult, Viewer, from_micros, micros, new_id, now};

/// One audit entry.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Identifier.
    pub id: Uuid,
    /// When.
    pub at: DateTime<Utc>,
    /// The user who acted, if a person did.
    pub actor_user_id: Option<Uuid>,
    /// The organization that acted.
    pub actor_org_id: Option<Uuid>,
    /// What was done, e.g. `indicator.create`, `token.revoke`.
    pub action: String,
    /// What kind of object.
    pub object_type: String,
    /// Which object.
    pub object_id: Option<Uuid>,
    /// Details (never secrets).
    pub detail: serde_json::Value,
}

pub(crate) async fn record(
    conn: &mut AnyConnection,
    actor: &Principal,
    action: &str,
    object_type: &str,
    object_id: Option<Uuid>,
    detail: serde_json::Value,
) -> StoreResult<()> {
    let mut sql = Sql::new(
        "INSERT INTO audit_log (id, at, actor_user_id, actor_org_id, action, object_type, object_id, detail) VALUES (",
    );
    sql.bind(new_id().to_string())
        .push(", ")
        .bind(micros(now()))
        .push(", ")
        .bind(actor.user_id.map(|u| u.to_string()))
        .push(", ")
        .bind(Some(actor.org_id.to_string()))
        .push(", ")
        .bind(action.to_string())
        .push(", ")
        .bind(object_type.to_string())
        .push(", ")
        .bind(object_id.map(|u| u.to_string()))
        .push(", ")
        .bind(detail.to_string())
        .push(")");
    sql.execute(conn).await?;
    Ok(())
}

impl Viewer<'_> {
    /// The most recent audit entries (platform admins: all; others: their organization's).
    pub async fn audit_log(&self, limit: u32) -> StoreResult<Vec<AuditEntry>> {
        if self.principal.role != tipline_model::Role::Admin {
            return Err(crate::StoreError::Forbidden(
                "only administrators may read the audit log".into(),
            ));
        }
        let limit = crate::indicators::page_limit(Some(limit))?;
        let mut sql = Sql::new(
            "SELECT id, at, actor_user_id, actor_org_id, action, object_type, object_id, detail FROM audit_log",
        );
        if !self.principal.is_platform_admin() {
            sql.push(" WHERE actor_org_id = ").bind(self.org());
        }
        sql.push(" ORDER BY at DESC, id DESC LIMIT ").bind(limit);
        type Row =
            (String, i64, Option<String>, Option<String>, String, String, Option<String>, String);
        let rows: Vec<Row> = sql.fetch_all(&mut *self.store.pool().acquire().await?).await?;
        rows.into_iter()
            .map(|(id, at, user, org, action, object_type, object_id, detail)| {
                Ok(AuditEntry {
                    id: uuid(&id)?,
                    at: from_micros(at),
                    actor_user_id: user.as_deref().map(uuid).transpose()?,
                    actor_org_id: org.as_deref().map(uuid).transpose()?,
                    action,
                    object_type,
                    object_id: object_id.as_deref().map(uuid).transpose()?,
                    detail: serde_json::from_str(&detail).unwrap_or_default(),
                })
            })
            .collect()
    }
}
