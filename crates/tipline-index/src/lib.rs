//! In-memory matching for tipline: the three questions asked of every alert, log line and
//! feed entry, answered in well under a microsecond.
//!
//! - *Is this known bad, and to whom?* [`IndicatorIndex`]: IPv4/IPv6 addresses and networks
//!   (every containing indicator, not only the longest prefix), domains with parent
//!   matching bounded by the public-suffix list, URLs, emails, hashes and ASNs. Hits carry
//!   the indicator id, owner and TLP, so callers filter by visibility without a store round
//!   trip per hit.
//! - *Who is the victim?* [`Constituency`]: longest-prefix CIDR, else ASN, else domain
//!   suffix; the most specific registration wins, ties return all.
//! - *Is this known benign?* [`Warnings`]: MISP warninglists (cidr, hostname, string,
//!   substring, regex); a hit names the list.
//!
//! Pure: no I/O, no async. The structures are immutable snapshots behind
//! [`arc_swap::ArcSwap`]: readers never wait, writers build the next snapshot and swap it.
//! [`Index`] bundles the three for a server or a command.

pub mod constituency;
pub mod indicators;
pub mod matcher;
pub mod names;
pub mod prefix;
pub mod tables;
pub mod warnings;

use std::sync::Arc;

use arc_swap::ArcSwap;

pub use constituency::{Constituency, RegisteredEntry, Victim};
pub use indicators::{
    Change, IndicatorEntry, IndicatorIndex, IndicatorRef, IndicatorSnapshot, Owner, OwnerId,
};
pub use matcher::{Matcher, Observation, canonical_of};
pub use tables::{ExactKind, Key, Matched, Probe};
pub use warnings::{WarningHit, Warnings, WarningsError};

/// Everything a node matches against, each part swapped independently.
#[derive(Debug, Default)]
pub struct Index {
    /// Indicators.
    pub indicators: IndicatorIndex,
    /// Member organizations' registered address space.
    pub constituency: ArcSwap<Constituency>,
    /// Known-benign lists.
    pub warnings: ArcSwap<Warnings>,
}

impl Index {
    /// An empty index.
    pub fn new() -> Arc<Index> {
        Arc::new(Index::default())
    }
}
