//! Store errors: each says what failed and whether trying again may help.

use tipline_model::validate::FieldError;

/// Result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The input failed validation; nothing was written.
    #[error("invalid input: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// The object does not exist, or the principal may not see it (indistinguishable on purpose).
    #[error("{what} {id} not found")]
    NotFound {
        /// What was looked up (`indicator`, `organization`...).
        what: &'static str,
        /// Its id or key.
        id: String,
    },
    /// The principal may not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The change conflicts with existing data (a duplicate name...).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database URL or options are wrong.
    #[error("{0}")]
    Config(String),
    /// The database cannot be reached or migrated.
    #[error("{0}")]
    Unavailable(String),
    /// Stored data that cannot be decoded (a bug or manual tampering).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl StoreError {
    /// A single-field validation error.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> StoreError {
        StoreError::Invalid(vec![FieldError::new(field, reason)])
    }

    /// Whether the same operation may succeed if tried again (lock timeouts, lost
    /// connections, serialization failures); validation and permission errors never do.
    pub fn is_retryable(&self) -> bool {
        match self {
            StoreError::Unavailable(_) => true,
            StoreError::Database(e) => {
                matches!(
                    e,
                    sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed
                ) || e.as_database_error().is_some_and(|d| {
                    matches!(d.code().as_deref(), Some("40001" | "40P01" | "5" | "6" | "517"))
                })
            }
            _ => false,
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let Some(db) = e.as_database_error()
            && db.is_unique_violation()
        {
            return StoreError::Conflict(db.message().to_string());
        }
        StoreError::Database(e)
    }
}
