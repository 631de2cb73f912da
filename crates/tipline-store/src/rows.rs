//! Row types as stored, and their conversion into model types.

use std::str::FromStr;

use sqlx::FromRow;
use tipline_model::intel::{Association, Group, Indicator, Sighting};
use uuid::Uuid;

use crate::{StoreError, StoreResult, from_micros};

pub(crate) fn uuid(s: &str) -> StoreResult<Uuid> {
    Uuid::parse_str(s).map_err(|_| StoreError::Corrupt(format!("`{s}` is not a uuid")))
}

pub(crate) fn parse<T: FromStr>(s: &str) -> StoreResult<T>
where
    T::Err: std::fmt::Display,
{
    s.parse().map_err(|e: T::Err| StoreError::Corrupt(e.to_string()))
}

pub(crate) fn json_list(s: &str) -> StoreResult<Vec<String>> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("bad json list `{s}`: {e}")))
}

pub(crate) fn to_json_list(items: &[String]) -> String {
    serde_json::to_string(items).expect("strings serialize")
}

impl From<sqlx::error::BoxDynError> for StoreError {
    fn from(e: sqlx::error::BoxDynError) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

pub(crate) const INDICATOR_COLUMNS: &str = "i.id, i.owner_id, i.kind, i.value, i.tlp, i.confidence, \
    i.threat_rating, i.status, i.description, i.first_seen, i.last_seen, i.observation_count, \
    i.fp_votes, i.stix_id, i.created_at, i.updated_at";

#[derive(FromRow)]
pub(crate) struct IndicatorRow {
    pub id: String,
    pub owner_id: String,
    pub kind: String,
    pub value: String,
    pub tlp: String,
    pub confidence: i64,
    pub threat_rating: i64,
    pub status: String,
    pub description: Option<String>,
    pub first_seen: i64,
    pub last_seen: i64,
    pub observation_count: i64,
    pub fp_votes: i64,
    pub stix_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl IndicatorRow {
    pub(crate) fn into_model(self) -> StoreResult<Indicator> {
        Ok(Indicator {
            id: uuid(&self.id)?,
            owner_id: uuid(&self.owner_id)?,
            kind: parse(&self.kind)?,
            value: self.value,
            tlp: parse(&self.tlp)?,
            confidence: self.confidence,
            threat_rating: self.threat_rating,
            status: parse(&self.status)?,
            description: self.description,
            tags: Vec::new(),
            attributes: Default::default(),
            first_seen: from_micros(self.first_seen),
            last_seen: from_micros(self.last_seen),
            observation_count: self.observation_count,
            false_positive_votes: self.fp_votes,
            stix_id: self.stix_id,
            created_at: from_micros(self.created_at),
            updated_at: from_micros(self.updated_at),
            sharing: None,
        })
    }
}

pub(crate) const GROUP_COLUMNS: &str = "g.id, g.owner_id, g.kind, g.name, g.description, g.tlp, \
    g.aliases, g.adversary_kind, g.country, g.motivations, g.cve, g.vendor, g.product, \
    g.known_exploited, g.first_seen, g.last_seen, g.stix_id, g.created_at, g.updated_at";

#[derive(FromRow)]
pub(crate) struct GroupRow {
    pub id: String,
    pub owner_id: String,
    pub kind: String,
    pub name: String,
    pub description: Option<String>,
    pub tlp: String,
    pub aliases: String,
    pub adversary_kind: Option<String>,
    pub country: Option<String>,
    pub motivations: String,
    pub cve: Option<String>,
    pub vendor: Option<String>,
    pub product: Option<String>,
    pub known_exploited: i64,
    pub first_seen: Option<i64>,
    pub last_seen: Option<i64>,
    pub stix_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl GroupRow {
    pub(crate) fn into_model(self) -> StoreResult<Group> {
        Ok(Group {
            id: uuid(&self.id)?,
            owner_id: uuid(&self.owner_id)?,
            kind: parse(&self.kind)?,
            name: self.name,
            description: self.description,
            tlp: parse(&self.tlp)?,
            aliases: json_list(&self.aliases)?,
            adversary_kind: self.adversary_kind.as_deref().map(parse).transpose()?,
            country: self.country,
            motivations: json_list(&self.motivations)?,
            cve: self.cve,
            vendor: self.vendor,
            product: self.product,
            known_exploited: self.known_exploited != 0,
            tags: Vec::new(),
            attributes: Default::default(),
            first_seen: self.first_seen.map(from_micros),
            last_seen: self.last_seen.map(from_micros),
            stix_id: self.stix_id,
            created_at: from_micros(self.created_at),
            updated_at: from_micros(self.updated_at),
            sharing: None,
        })
    }
}

pub(crate) const ASSOCIATION_COLUMNS: &str = "a.id, a.owner_id, a.source_id, a.source_type, \
    a.relationship, a.target_id, a.target_type, a.tlp, a.confidence, a.description, a.stix_id, \
    a.created_at";

#[derive(FromRow)]
pub(crate) struct AssociationRow {
    pub id: String,
    pub owner_id: String,
    pub source_id: String,
    pub source_type: String,
    pub relationship: String,
    pub target_id: String,
    pub target_type: String,
    pub tlp: String,
    pub confidence: i64,
    pub description: Option<String>,
    pub stix_id: Option<String>,
    pub created_at: i64,
}

impl AssociationRow {
    pub(crate) fn into_model(self) -> StoreResult<Association> {
        Ok(Association {
            id: uuid(&self.id)?,
            owner_id: uuid(&self.owner_id)?,
            source_id: uuid(&self.source_id)?,
            source_type: parse(&self.source_type)?,
            relationship: parse(&self.relationship)?,
            target_id: uuid(&self.target_id)?,
            target_type: parse(&self.target_type)?,
            tlp: parse(&self.tlp)?,
            confidence: self.confidence,
            description: self.description,
            stix_id: self.stix_id,
            created_at: from_micros(self.created_at),
            sharing: None,
        })
    }
}

pub(crate) const SIGHTING_COLUMNS: &str = "s.id, s.indicator_id, s.owner_id, s.tlp, s.seen_at, \
    s.count, s.source, s.note, s.created_at";

#[derive(FromRow)]
pub(crate) struct SightingRow {
    pub id: String,
    pub indicator_id: String,
    pub owner_id: String,
    pub tlp: String,
    pub seen_at: i64,
    pub count: i64,
    pub source: Option<String>,
    pub note: Option<String>,
    pub created_at: i64,
}

impl SightingRow {
    pub(crate) fn into_model(self) -> StoreResult<Sighting> {
        Ok(Sighting {
            id: uuid(&self.id)?,
            indicator_id: uuid(&self.indicator_id)?,
            owner_id: uuid(&self.owner_id)?,
            tlp: parse(&self.tlp)?,
            seen_at: from_micros(self.seen_at),
            count: self.count,
            source: self.source,
            note: self.note,
            created_at: from_micros(self.created_at),
        })
    }
}
