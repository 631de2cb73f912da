//! Persistence for tipline: SQLite (embedded default) and PostgreSQL behind one API.
//!
//! Only this crate speaks SQL. Intelligence (indicators, groups, associations, sightings) is
//! read and written only through a [`Viewer`], which carries the [`Principal`] a request acts
//! as and applies the visibility rule of DESIGN.md §3 inside every query
//! ([`visibility`]). Administrative records (organizations, communities, users, tokens) are
//! also reached through a `Viewer`, which checks the principal's role.
//!
//! Representation, identical on both backends: ids are UUIDv7 text, timestamps are
//! microseconds since the Unix epoch in `BIGINT`, flags are `0`/`1` integers, small lists
//! (aliases, motivations) are JSON text. SQL is written once with `$n` placeholders, which
//! both SQLite and PostgreSQL accept.

mod admin;
mod associations;
pub mod audit;
mod enrichments;
mod error;
mod events;
mod feeds;
pub mod groups;
mod import;
mod indicators;
mod listings;
pub mod matching;
pub mod notifications;
mod objects;
mod reports;
mod rows;
mod sightings;
mod sql;
mod tokens;
pub mod visibility;
pub mod warninglists;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, ConnectOptions, Connection, Executor, Transaction};
pub use tipline_model::Principal;
use tokio::sync::{Mutex, MutexGuard};
use uuid::Uuid;

pub use enrichments::EnrichmentRecord;
pub use error::{StoreError, StoreResult};
pub use events::Event;
pub use feeds::{ClaimedFeed, PullLease, PullOutcome};
pub use import::{ImportSummary, Tally, feed_scope, owner_scope};
pub use indicators::{IndicatorQuery, Page, UpsertSummary};
pub use listings::{ListedEntry, ListingQuery};
pub use matching::{AdversaryRef, IndexedIndicator};
pub use notifications::{
    Claimed, DeliveryOutcome, DigestGroup, Enqueued, NewNotification, NotificationPlan,
    NotificationQuery, Rendered,
};
pub use reports::{REPORT_RELATIONSHIP, ReportImport, ReportImported};
pub use tokens::{TOKEN_PREFIX, hash_token};
pub use warninglists::WarninglistSummary;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Which database engine a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file (or memory) database: one writer at a time.
    Sqlite,
    /// A PostgreSQL server: many nodes may share it.
    Postgres,
}

impl Backend {
    /// The backend a database URL selects (`sqlite:` or `postgres://`/`postgresql://`).
    pub fn of_url(url: &str) -> StoreResult<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::Config(format!(
                "database url must start with `sqlite:` or `postgres://`, got `{}`",
                redact_url(url)
            )))
        }
    }

    /// Lower-case name, for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// How to open a store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// `sqlite:///path/to/file.db` or `postgres://user@host/db`.
    pub url: String,
    /// Maximum pool size.
    pub max_connections: u32,
    /// How long to wait for a connection or an SQLite lock.
    pub acquire_timeout: Duration,
}

impl StoreOptions {
    /// Defaults for `url`: 8 connections, 10 s timeouts.
    pub fn new(url: impl Into<String>) -> Self {
        StoreOptions {
            url: url.into(),
            max_connections: 8,
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

/// The SQLite URL of a database file, created if missing.
pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// A handle to the database. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite has one writer: writes queue here instead of spinning on `SQLITE_BUSY`.
    write_lock: Option<Arc<Mutex<()>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("backend", &self.backend).finish_non_exhaustive()
    }
}

impl Store {
    /// Connect to the database named by `options.url` (without migrating).
    pub async fn connect(options: &StoreOptions) -> StoreResult<Store> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(&options.url)?;
        let connect_options = AnyConnectOptions::from_str(&options.url)
            .map_err(|e| {
                StoreError::Config(format!(
                    "invalid database url `{}`: {e}",
                    redact_url(&options.url)
                ))
            })?
            .disable_statement_logging();
        let mut pool_options = AnyPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout);
        if backend == Backend::Sqlite {
            let busy_ms = options.acquire_timeout.as_millis();
            pool_options = pool_options.after_connect(move |conn, _meta| {
                Box::pin(async move {
                    for pragma in [
                        "PRAGMA journal_mode = WAL".to_string(),
                        "PRAGMA synchronous = NORMAL".to_string(),
                        "PRAGMA foreign_keys = ON".to_string(),
                        // 64 MiB of page cache per connection: a bulk upsert of 10,000
                        // indicators otherwise spills pages to disk mid-transaction.
                        "PRAGMA cache_size = -65536".to_string(),
                        "PRAGMA temp_store = MEMORY".to_string(),
                        format!("PRAGMA busy_timeout = {busy_ms}"),
                    ] {
                        conn.execute(sqlx::AssertSqlSafe(pragma)).await?;
                    }
                    Ok(())
                })
            });
        }
        if backend == Backend::Postgres {
            pool_options = pool_options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    // Plan every execution with its parameters. sqlx prepares statements, and
                    // PostgreSQL otherwise switches to a generic plan after five runs; one made
                    // while a table was nearly empty (a seq scan) then stays as it grows.
                    conn.execute("SET plan_cache_mode = force_custom_plan").await?;
                    Ok(())
                })
            });
        }
        let unavailable = |e: &dyn std::fmt::Display| {
            StoreError::Unavailable(format!(
                "cannot connect to {} database `{}`: {e}",
                backend.as_str(),
                redact_url(&options.url)
            ))
        };
        // One direct connection first: the pool retries until its timeout and then reports
        // only "pool timed out", hiding the cause (refused, bad password, no such file).
        let probe = tokio::time::timeout(options.acquire_timeout, connect_options.connect())
            .await
            .map_err(|_| unavailable(&"timed out"))?
            .map_err(|e| unavailable(&e))?;
        let _ = probe.close().await;
        let pool = pool_options.connect_with(connect_options).await.map_err(|e| unavailable(&e))?;
        let write_lock = (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(())));
        Ok(Store { pool, backend, write_lock })
    }

    /// Connect and bring the schema up to date.
    pub async fn open(options: &StoreOptions) -> StoreResult<Store> {
        let store = Store::connect(options).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Apply pending migrations of this backend.
    pub async fn migrate(&self) -> StoreResult<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Unavailable(format!("database migration failed: {e}")))
    }

    /// Which engine this store uses.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Close every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Act as `principal`: the only way to read or write intelligence.
    pub fn viewer(&self, principal: Principal) -> Viewer<'_> {
        Viewer { store: self, principal }
    }

    /// Begin a write transaction. On SQLite writers queue on a process-wide lock and take the
    /// database lock up front (`BEGIN IMMEDIATE`), so a transaction never fails half-way
    /// because another writer got there first.
    pub(crate) async fn write(&self) -> StoreResult<WriteTx<'_>> {
        match &self.write_lock {
            Some(lock) => {
                let guard = lock.lock().await;
                let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
                Ok(WriteTx { tx, _guard: Some(guard) })
            }
            None => Ok(WriteTx { tx: self.pool.begin().await?, _guard: None }),
        }
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

/// A write transaction (and, on SQLite, the process's write turn).
pub(crate) struct WriteTx<'a> {
    pub(crate) tx: Transaction<'static, Any>,
    _guard: Option<MutexGuard<'a, ()>>,
}

impl WriteTx<'_> {
    pub(crate) async fn commit(self) -> StoreResult<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

/// A principal's window onto the store. Every read of intelligence made through it returns
/// only what the principal may see; every write checks the principal's role and ownership.
#[derive(Debug, Clone)]
pub struct Viewer<'a> {
    store: &'a Store,
    principal: Principal,
}

impl Viewer<'_> {
    /// Who this viewer acts as.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    pub(crate) fn org(&self) -> String {
        self.principal.org_id.to_string()
    }

    pub(crate) fn require_write(&self) -> StoreResult<()> {
        if self.principal.can_write() {
            Ok(())
        } else {
            Err(StoreError::Forbidden("your role may only read".into()))
        }
    }

    pub(crate) fn require_platform_admin(&self) -> StoreResult<()> {
        if self.principal.is_platform_admin() {
            Ok(())
        } else {
            Err(StoreError::Forbidden(
                "only administrators of the host organization may do this".into(),
            ))
        }
    }
}

/// The current time, truncated to microseconds (what the database keeps).
pub fn now() -> DateTime<Utc> {
    from_micros(Utc::now().timestamp_micros())
}

pub(crate) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub(crate) fn from_micros(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}

pub(crate) fn new_id() -> Uuid {
    Uuid::now_v7()
}

/// A database URL with any password replaced by `***`, for messages and logs.
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((credentials, host)) = rest.split_once('@')
        && let Some((user, _password)) = credentials.split_once(':')
    {
        return format!("{scheme}://{user}:***@{host}");
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact_url("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite:///tmp/x.db"), "sqlite:///tmp/x.db");
    }
}
