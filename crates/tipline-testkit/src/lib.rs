//! Test support shared by tipline's crates: a fresh database per test on either backend,
//! and [`backend_tests!`], which turns each `async fn test(backend: TestBackend)` into a
//! `sqlite::test` and a `postgres::test`.
//!
//! The PostgreSQL variants read the server URL from `TIPLINE_TEST_POSTGRES_URL` (a user
//! allowed to create databases, e.g. `postgres://postgres@127.0.0.1:55432/postgres`). Each
//! test gets its own database, dropped at the end. Without the variable the PostgreSQL
//! tests fail with a message saying so; `scripts/test` leaves them out loudly instead.
//!
//! Local servers for outbound protocols: [`smtp::SmtpServer`] (SMTP with STARTTLS or
//! implicit TLS, AUTH, scripted failures) and [`http_sink::HttpSink`] (records requests).

pub mod http_sink;
pub mod smtp;

use std::time::Duration;

use sqlx::Connection;
use tipline_store::{Store, StoreOptions, sqlite_url};

/// The environment variable naming the PostgreSQL server tests may create databases on.
pub const POSTGRES_URL_VAR: &str = "TIPLINE_TEST_POSTGRES_URL";

/// Which backend a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    /// A new SQLite file in a temporary directory.
    Sqlite,
    /// A new database on the server named by `TIPLINE_TEST_POSTGRES_URL`.
    Postgres,
}

impl std::fmt::Display for TestBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TestBackend::Sqlite => "sqlite",
            TestBackend::Postgres => "postgres",
        })
    }
}

/// A database that exists for one test.
pub struct TestDb {
    /// The URL to open it with.
    pub url: String,
    /// Which backend it is on.
    pub backend: TestBackend,
    dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl std::fmt::Debug for TestDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDb").field("backend", &self.backend).finish_non_exhaustive()
    }
}

impl TestDb {
    /// Create an empty database on `backend`.
    pub async fn new(backend: TestBackend) -> TestDb {
        match backend {
            TestBackend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = sqlite_url(&dir.path().join("tipline.db"));
                TestDb { url, backend, dir: Some(dir), postgres: None }
            }
            TestBackend::Postgres => {
                let admin_url = std::env::var(POSTGRES_URL_VAR).unwrap_or_else(|_| {
                    panic!(
                        "{POSTGRES_URL_VAR} is not set: PostgreSQL tests need a server \
                         (run ./scripts/test, which explains, or .ci/run, which starts one)"
                    )
                });
                let name = format!("tipline_test_{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::PgConnection::connect(&admin_url)
                    .await
                    .unwrap_or_else(|e| panic!("cannot connect to {POSTGRES_URL_VAR}: {e}"));
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                let _ = conn.close().await;
                let url = with_database(&admin_url, &name);
                TestDb { url, backend, dir: None, postgres: Some((admin_url, name)) }
            }
        }
    }

    /// Open the database with the schema applied.
    pub async fn store(&self) -> Store {
        let mut options = StoreOptions::new(&self.url);
        options.max_connections = 4;
        options.acquire_timeout = Duration::from_secs(30);
        Store::open(&options).await.expect("open test store")
    }

    /// The directory of an SQLite database (for tests that want files next to it).
    pub fn dir(&self) -> Option<&std::path::Path> {
        self.dir.as_ref().map(|d| d.path())
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.postgres.take() {
            // Drop on a separate thread: we may be inside an async runtime.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
                if let Ok(runtime) = runtime {
                    runtime.block_on(async {
                        if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            )))
                            .execute(&mut conn)
                            .await;
                        }
                    });
                }
            })
            .join();
        }
    }
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// Generate a `sqlite` and a `postgres` test module calling each listed
/// `async fn name(backend: TestBackend)` of the enclosing module.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::TestBackend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::TestBackend::Postgres).await
                }
            )*
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(with_database("postgres://u@h:5/postgres", "x"), "postgres://u@h:5/x");
        assert_eq!(with_database("postgres://u@h:5", "x"), "postgres://u@h:5/x");
        assert_eq!(
            with_database("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }
}
