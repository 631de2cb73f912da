//! Notifier tests: a real SMTP server and a real HTTP endpoint on 127.0.0.1, a fresh
//! database per test on SQLite and PostgreSQL.

mod email;
mod support;
mod webhook;
