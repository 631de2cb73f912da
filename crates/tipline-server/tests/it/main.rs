//! API tests: the real server on a random port, a fresh database per test, HTTP on the wire.

mod api;
mod auth;
mod bad_input;
mod enrich;
mod extraction;
mod feeds;
mod matching;
mod notify;
mod support;
mod tour;
mod visibility;
