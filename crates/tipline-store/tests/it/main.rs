//! The store conformance suite: every test runs on SQLite and on PostgreSQL.

mod admin;
mod indicators;
mod relations;
mod reports;
mod support;
