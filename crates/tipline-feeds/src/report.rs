//! What an import or a pull did, for people (the command line prints it) and programs
//! (the API returns it).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tipline_model::feed::{PullCounts, PullStatus};
use tipline_store::ImportSummary;
use utoipa::ToSchema;

/// A part of the input that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Rejection {
    /// Where: `line 3, column 7`, `event <uuid>: Attribute[2] (ip-dst `x`)`...
    pub location: String,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.location, self.reason)
    }
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImportReport {
    /// The format read (`misp`).
    pub format: String,
    /// Whether anything was written. `false` when the input was rejected as a whole:
    /// without `lenient`, one problem rejects the file.
    pub committed: bool,
    /// Source documents read (MISP events).
    pub documents: u64,
    /// Documents skipped because this version of them was imported before.
    pub unchanged: u64,
    /// What was written, per kind.
    pub written: ImportSummary,
    /// Attributes of types tipline does not import, per type.
    pub skipped: BTreeMap<String, u64>,
    /// Problems found. With `lenient` these parts were left out and the rest imported;
    /// without it nothing was imported.
    pub rejected: Vec<Rejection>,
}

impl ImportReport {
    pub(crate) fn add_skipped(&mut self, skipped: &BTreeMap<String, u64>) {
        for (kind, count) in skipped {
            *self.skipped.entry(kind.clone()).or_default() += count;
        }
    }
}

/// What a pull did.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PullReport {
    /// The feed.
    pub feed: String,
    /// How it ended.
    pub status: PullStatus,
    /// What it found (see `PullCounts`).
    pub counts: PullCounts,
    /// Why it failed.
    pub error: Option<String>,
    /// For MISP feeds: what the imported events wrote.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub import: Option<ImportReport>,
    /// When it is due again.
    pub next_pull_at: DateTime<Utc>,
}
