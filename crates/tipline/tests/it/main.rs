//! Integration tests of the `tipline` binary: each runs the real executable on a fresh data
//! directory, in an environment cleared of the developer's `TIPLINE_*` variables.

mod admin;
mod cli;
mod config;
mod enrich;
mod extract;
mod feeds;
mod init;
mod matching;
mod notify;
mod serve;
mod support;
