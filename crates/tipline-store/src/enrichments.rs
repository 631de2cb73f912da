//! The enrichment cache: one row per (provider, subject) with the normalized result, the raw
//! upstream response and when it was fetched and expires.
//!
//! Enrichments describe public facts about an address or a domain (who routes it, what it
//! serves), not intelligence anyone owns: the cache is shared by every organization and read
//! through [`Store`], not a `Viewer`. The API shows an indicator's enrichments only after the
//! `Viewer` has returned the indicator, so visibility still decides who learns the subject.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::sql::Sql;
use crate::{Store, StoreError, StoreResult, from_micros, micros};

/// One provider's answer about one subject, as cached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EnrichmentRecord {
    /// The provider that answered (`shodan`, `geoip`...).
    pub provider: String,
    /// What was looked up: a canonical IP address or domain.
    pub subject: String,
    /// When the provider answered.
    pub fetched_at: DateTime<Utc>,
    /// When the answer goes stale and is fetched again.
    pub expires_at: DateTime<Utc>,
    /// The result in tipline's shape (documented per provider in docs/enrichment.md).
    #[schema(value_type = Object)]
    pub normalized: serde_json::Value,
    /// The upstream response as received (JSON), when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub raw: Option<serde_json::Value>,
}

type Row = (String, String, i64, i64, String, Option<String>);

fn record(
    (provider, subject, fetched_at, expires_at, normalized, raw): Row,
) -> StoreResult<EnrichmentRecord> {
    let normalized = serde_json::from_str(&normalized).map_err(|e| {
        StoreError::Corrupt(format!("enrichment {provider}/{subject}: normalized is not JSON: {e}"))
    })?;
    // Raw responses are kept as received; one that is not JSON is returned as a JSON string.
    let raw = raw.map(|raw| serde_json::from_str(&raw).unwrap_or(serde_json::Value::String(raw)));
    Ok(EnrichmentRecord {
        provider,
        subject,
        fetched_at: from_micros(fetched_at),
        expires_at: from_micros(expires_at),
        normalized,
        raw,
    })
}

const COLUMNS: &str = "provider, subject, fetched_at, expires_at, normalized, raw";
/// The same columns with the raw response left out (it can be large; most reads skip it).
const COLUMNS_WITHOUT_RAW: &str = "provider, subject, fetched_at, expires_at, normalized, NULL";

impl Store {
    /// The cached answer of `provider` about `subject`, fresh or stale (compare
    /// `expires_at`), with its raw response when `with_raw`.
    pub async fn get_enrichment(
        &self,
        provider: &str,
        subject: &str,
        with_raw: bool,
    ) -> StoreResult<Option<EnrichmentRecord>> {
        let columns = if with_raw { COLUMNS } else { COLUMNS_WITHOUT_RAW };
        let mut sql = Sql::new(&format!("SELECT {columns} FROM enrichments WHERE provider = "));
        sql.bind(provider.to_string()).push(" AND subject = ").bind(subject.to_string());
        let row: Option<Row> = sql.fetch_optional(&mut *self.pool().acquire().await?).await?;
        row.map(record).transpose()
    }

    /// Every cached answer about `subject`, by provider name, without raw responses.
    pub async fn enrichments_of(&self, subject: &str) -> StoreResult<Vec<EnrichmentRecord>> {
        let mut sql =
            Sql::new(&format!("SELECT {COLUMNS_WITHOUT_RAW} FROM enrichments WHERE subject = "));
        sql.bind(subject.to_string()).push(" ORDER BY provider");
        let rows: Vec<Row> = sql.fetch_all(&mut *self.pool().acquire().await?).await?;
        rows.into_iter().map(record).collect()
    }

    /// Store (or replace) an answer; `raw` is the upstream response text.
    pub async fn put_enrichment(&self, record: &EnrichmentRecord, raw: &str) -> StoreResult<()> {
        let mut sql = Sql::new(&format!("INSERT INTO enrichments ({COLUMNS}) VALUES ("));
        sql.bind(record.provider.clone())
            .push(", ")
            .bind(record.subject.clone())
            .push(", ")
            .bind(micros(record.fetched_at))
            .push(", ")
            .bind(micros(record.expires_at))
            .push(", ")
            .bind(record.normalized.to_string())
            .push(", ")
            .bind(raw.to_string())
            .push(
                ") ON CONFLICT (provider, subject) DO UPDATE SET fetched_at = excluded.fetched_at, \
                 expires_at = excluded.expires_at, normalized = excluded.normalized, raw = excluded.raw",
            );
        let mut tx = self.write().await?;
        sql.execute(&mut tx.tx).await?;
        tx.commit().await
    }

    /// Delete answers that expired before `before`; returns how many.
    pub async fn purge_expired_enrichments(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let mut sql = Sql::new("DELETE FROM enrichments WHERE expires_at < ");
        sql.bind(micros(before));
        let mut tx = self.write().await?;
        let deleted = sql.execute(&mut tx.tx).await?;
        tx.commit().await?;
        Ok(deleted)
    }
}
