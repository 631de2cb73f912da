//! The store conformance suite: every test runs on SQLite and on PostgreSQL.

mod admin;
mod enrichments;
mod feeds;
mod imports;
mod indicators;
mod notifications;
mod relations;
mod reports;
mod support;
