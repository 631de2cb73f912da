//! Integration tests of feeds and imports: real HTTP against local servers, real files,
//! every test on SQLite and PostgreSQL.

mod imports;
mod pulls;
mod scheduler;
mod support;
