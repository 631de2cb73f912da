//! MISP: event JSON (bare, REST-response and list forms), feeds (`manifest.json` plus one
//! `{uuid}.json` per event) and the mapping of events to tipline's model.
//!
//! - [`event`] reads documents into [`Event`]s, reporting problems by line and column or by
//!   event uuid and field path;
//! - [`feed`] reads a feed's manifest;
//! - [`mapping`] turns an event into an [`IntelBatch`](tipline_model::import::IntelBatch):
//!   attribute types to indicators, `tlp:` tags to TLP, galaxies to groups, `to_ids` and
//!   `distribution` as documented there and in docs/feeds.md.

pub mod event;
pub mod feed;
pub mod mapping;

pub use event::{Attribute, Event, GalaxyCluster, MispError, Object, parse_document, parse_event};
pub use feed::{ManifestEntry, parse_manifest};
pub use mapping::{MappedEvent, MispOptions, map_event};
#[cfg(test)]
mod fixtures;
