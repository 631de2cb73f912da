//! The store conformance suite: every test runs on SQLite and on PostgreSQL.

mod admin;
mod feeds;
mod imports;
mod indicators;
mod relations;
mod support;
