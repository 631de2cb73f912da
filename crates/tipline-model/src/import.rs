//! A batch of intelligence written together: what an importer (MISP today) turns one
//! input file into, and the store writes in one transaction.
//!
//! Indicators are upserted as usual. Groups are *references*: the store first looks for a
//! group the importer may already see (an adversary named `APT28` or with that alias,
//! owned by anyone), and creates one owned by the importer only when none exists. Links
//! join indicators and groups of the batch by position. Versions record which version of
//! each source document the batch holds, so the next import can skip unchanged ones.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::intel::{GroupInput, IndicatorInput};
use crate::{RelationshipType, Tlp};

/// Everything one import writes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IntelBatch {
    /// Indicators to upsert.
    pub indicators: Vec<IndicatorInput>,
    /// Groups to find or create.
    pub groups: Vec<GroupRef>,
    /// Associations between members of the batch.
    pub links: Vec<Link>,
    /// Versions of the source documents in the batch (MISP: event uuid → `timestamp`).
    pub versions: Vec<SourceVersion>,
}

/// How a [`GroupRef`] finds an existing group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupLookup {
    /// A visible group of the same kind whose name or an alias equals the input's name or
    /// one of its aliases (case-insensitive); vulnerabilities also by CVE id.
    ByName,
    /// A group of the importer's owner with the input's `stix_id` (reports made per
    /// source document, so two documents with the same title stay two reports).
    ByStixId,
}

/// A group the batch refers to.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupRef {
    /// How to find an existing one.
    pub lookup: GroupLookup,
    /// What to create when none is found (its `name` and `aliases` are the lookup keys).
    pub input: GroupInput,
}

/// One end of a [`Link`]: a position in the batch's indicators or groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Endpoint {
    /// `indicators[i]`.
    Indicator(usize),
    /// `groups[i]`.
    Group(usize),
}

/// An association to create (unless the same owner already has it).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Link {
    /// Where it starts.
    pub source: Endpoint,
    /// What it says.
    pub relationship: RelationshipType,
    /// Where it ends.
    pub target: Endpoint,
    /// Owner; default the importer's organization.
    pub owner_id: Option<Uuid>,
    /// Marking.
    pub tlp: Tlp,
    /// Communities it is shared to.
    pub shared_to: Vec<Uuid>,
}

/// A source document and the version of it the batch holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceVersion {
    /// Identifier of the document within its scope (a MISP event uuid).
    pub key: String,
    /// Its version (a MISP event `timestamp`); larger is newer.
    pub version: i64,
    /// A human label (the event's `info`), for listings of what was imported.
    pub label: Option<String>,
}

impl IntelBatch {
    /// Whether the batch writes nothing at all.
    pub fn is_empty(&self) -> bool {
        self.indicators.is_empty()
            && self.groups.is_empty()
            && self.links.is_empty()
            && self.versions.is_empty()
    }

    /// Append `other`, shifting its link positions past this batch's items.
    pub fn append(&mut self, other: IntelBatch) {
        let (indicators, groups) = (self.indicators.len(), self.groups.len());
        let shift = |end: Endpoint| match end {
            Endpoint::Indicator(i) => Endpoint::Indicator(i + indicators),
            Endpoint::Group(i) => Endpoint::Group(i + groups),
        };
        self.indicators.extend(other.indicators);
        self.groups.extend(other.groups);
        self.links.extend(other.links.into_iter().map(|link| Link {
            source: shift(link.source),
            target: shift(link.target),
            ..link
        }));
        self.versions.extend(other.versions);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GroupKind;

    #[test]
    fn append_shifts_link_positions() {
        let batch = |value: &str| IntelBatch {
            indicators: vec![IndicatorInput { value: value.into(), ..Default::default() }],
            groups: vec![GroupRef {
                lookup: GroupLookup::ByName,
                input: GroupInput {
                    kind: Some(GroupKind::Adversary),
                    name: "APT28".into(),
                    ..Default::default()
                },
            }],
            links: vec![Link {
                source: Endpoint::Indicator(0),
                relationship: RelationshipType::Indicates,
                target: Endpoint::Group(0),
                owner_id: None,
                tlp: Tlp::Green,
                shared_to: Vec::new(),
            }],
            versions: Vec::new(),
        };
        let mut all = batch("192.0.2.1");
        all.append(batch("192.0.2.2"));
        assert_eq!(all.indicators.len(), 2);
        assert_eq!(all.links[1].source, Endpoint::Indicator(1));
        assert_eq!(all.links[1].target, Endpoint::Group(1));
    }
}
