//! Suricata EVE JSON events.
