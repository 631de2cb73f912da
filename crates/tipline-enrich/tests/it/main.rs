//! Integration tests of the enrichment crate: every provider against a local server
//! (HTTP replaying recorded responses, real DNS over UDP, MaxMind test databases).

mod censys;
mod dns;
mod dns_server;
mod framework;
mod geoip;
mod http_compliance;
mod rdap;
mod secrets;
mod shodan;
mod support;
