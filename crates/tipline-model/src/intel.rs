//! Intelligence objects (indicators, groups, associations, sightings) and their inputs.
//!
//! Every object carries an owner and a TLP marking. Inputs are checked here (`check`), so the
//! API, the CLI and importers reject the same things with the same messages.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::group::is_cve_id;
use crate::validate::{Errors, FieldError, normalize_tag};
use crate::{
    AdversaryKind, Canonical, GroupKind, IndicatorKind, IndicatorStatus, RelationshipType, Tlp,
    canonicalize, detect,
};

/// Who an object is shared with beyond its owner. Shown only to the owner: grants name
/// other organizations (e.g. the victim of a case) and must not leak to third parties.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Sharing {
    /// Communities the object is shared to (members see GREEN and AMBER objects).
    pub shared_to: Vec<Uuid>,
    /// Organizations granted the object explicitly (they see it at any TLP).
    pub granted_to: Vec<Uuid>,
}

/// An observable value believed relevant: an IP, a domain, a hash...
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Indicator {
    /// Identifier.
    pub id: Uuid,
    /// The owning organization.
    pub owner_id: Uuid,
    /// What the value is.
    pub kind: IndicatorKind,
    /// Canonical value.
    pub value: String,
    /// TLP marking.
    pub tlp: Tlp,
    /// Confidence, 0–100.
    pub confidence: i64,
    /// Threat rating, 0–5.
    pub threat_rating: i64,
    /// Lifecycle status.
    pub status: IndicatorStatus,
    /// Free text.
    pub description: Option<String>,
    /// Normalized tags.
    pub tags: Vec<String>,
    /// Free key → value pairs.
    pub attributes: BTreeMap<String, String>,
    /// First time the value was seen.
    pub first_seen: DateTime<Utc>,
    /// Last time the value was seen.
    pub last_seen: DateTime<Utc>,
    /// How many sightings were recorded.
    pub observation_count: i64,
    /// Votes that this is a false positive.
    pub false_positive_votes: i64,
    /// The STIX id it came from, if any.
    pub stix_id: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Sharing; present only for the owner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sharing: Option<Sharing>,
}

/// Input to create or upsert an indicator. Unset fields keep their stored value on upsert
/// (or take the default on create); tags, attributes and sharing are merged.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorInput {
    /// What the value is; guessed from the value when omitted.
    #[serde(default)]
    pub kind: Option<IndicatorKind>,
    /// The value, in any accepted form (defanged input is refanged).
    pub value: String,
    /// Owner; defaults to the caller's organization.
    #[serde(default)]
    pub owner_id: Option<Uuid>,
    /// TLP; default `amber` on create.
    #[serde(default)]
    pub tlp: Option<Tlp>,
    /// 0–100; default 50 on create.
    #[serde(default)]
    pub confidence: Option<i64>,
    /// 0–5; default 0 on create.
    #[serde(default)]
    pub threat_rating: Option<i64>,
    /// Default `active` on create.
    #[serde(default)]
    pub status: Option<IndicatorStatus>,
    /// Free text (≤ 10,000 bytes).
    #[serde(default)]
    pub description: Option<String>,
    /// Tags to add.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Attributes to set.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// Communities to share to.
    #[serde(default)]
    pub shared_to: Vec<Uuid>,
    /// Organizations to grant.
    #[serde(default)]
    pub granted_to: Vec<Uuid>,
    /// When first seen; default now.
    #[serde(default)]
    pub first_seen: Option<DateTime<Utc>>,
    /// When last seen; default now.
    #[serde(default)]
    pub last_seen: Option<DateTime<Utc>>,
    /// The STIX id of the object it came from.
    #[serde(default)]
    pub stix_id: Option<String>,
}

/// An [`IndicatorInput`] that passed [`IndicatorInput::check`].
#[derive(Debug, Clone)]
pub struct CheckedIndicator {
    /// Canonical kind and value.
    pub canonical: Canonical,
    /// The input, with tags normalized and sharing deduplicated.
    pub input: IndicatorInput,
}

impl IndicatorInput {
    /// Validate every field and canonicalize the value.
    pub fn check(&self) -> Result<CheckedIndicator, Vec<FieldError>> {
        let mut errors = Errors::default();
        let canonical = match self.kind {
            Some(kind) => canonicalize(kind, &self.value),
            None => detect(&self.value),
        };
        let canonical = match canonical {
            Ok(c) => Some(c),
            Err(e) => {
                errors.add("value", e.to_string());
                None
            }
        };
        errors.check_range("confidence", self.confidence, 100);
        errors.check_range("threat_rating", self.threat_rating, 5);
        let common = check_common(
            &mut errors,
            self.description.as_deref(),
            &self.tags,
            &self.attributes,
            self.stix_id.as_deref(),
        );
        check_seen(&mut errors, self.first_seen, self.last_seen);
        errors.finish()?;
        let mut input = self.clone();
        input.tags = common.tags;
        dedup(&mut input.shared_to);
        dedup(&mut input.granted_to);
        Ok(CheckedIndicator { canonical: canonical.expect("checked above"), input })
    }
}

/// Changes to an indicator. Unset fields are left alone; set collections replace.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorPatch {
    /// New TLP.
    #[serde(default)]
    pub tlp: Option<Tlp>,
    /// New confidence, 0–100.
    #[serde(default)]
    pub confidence: Option<i64>,
    /// New threat rating, 0–5.
    #[serde(default)]
    pub threat_rating: Option<i64>,
    /// New status.
    #[serde(default)]
    pub status: Option<IndicatorStatus>,
    /// New description.
    #[serde(default)]
    pub description: Option<String>,
    /// Replacement tag set.
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// Replacement attributes.
    #[serde(default)]
    pub attributes: Option<BTreeMap<String, String>>,
    /// Replacement community shares.
    #[serde(default)]
    pub shared_to: Option<Vec<Uuid>>,
    /// Replacement grants.
    #[serde(default)]
    pub granted_to: Option<Vec<Uuid>>,
}

impl IndicatorPatch {
    /// Validate every field; tags come back normalized.
    pub fn check(&self) -> Result<IndicatorPatch, Vec<FieldError>> {
        let mut errors = Errors::default();
        errors.check_range("confidence", self.confidence, 100);
        errors.check_range("threat_rating", self.threat_rating, 5);
        let empty_tags = Vec::new();
        let empty_attributes = BTreeMap::new();
        let common = check_common(
            &mut errors,
            self.description.as_deref(),
            self.tags.as_ref().unwrap_or(&empty_tags),
            self.attributes.as_ref().unwrap_or(&empty_attributes),
            None,
        );
        errors.finish()?;
        let mut patch = self.clone();
        if patch.tags.is_some() {
            patch.tags = Some(common.tags);
        }
        if let Some(ids) = patch.shared_to.as_mut() {
            dedup(ids);
        }
        if let Some(ids) = patch.granted_to.as_mut() {
            dedup(ids);
        }
        Ok(patch)
    }
}

/// An adversary, campaign, incident, malware, tool, vulnerability or report.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Group {
    /// Identifier.
    pub id: Uuid,
    /// The owning organization.
    pub owner_id: Uuid,
    /// What the group is.
    pub kind: GroupKind,
    /// Name, unique per owner and kind.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// TLP marking.
    pub tlp: Tlp,
    /// Other names.
    pub aliases: Vec<String>,
    /// Adversaries: what drives them.
    pub adversary_kind: Option<AdversaryKind>,
    /// Adversaries: attributed country (ISO 3166-1 alpha-2).
    pub country: Option<String>,
    /// Adversaries: motivations (`espionage`, `financial-gain`, `ideology`, `ddos`...).
    pub motivations: Vec<String>,
    /// Vulnerabilities: CVE id.
    pub cve: Option<String>,
    /// Vulnerabilities: affected vendor.
    pub vendor: Option<String>,
    /// Vulnerabilities: affected product.
    pub product: Option<String>,
    /// Vulnerabilities: known to be exploited in the wild.
    pub known_exploited: bool,
    /// Normalized tags.
    pub tags: Vec<String>,
    /// Free key → value pairs.
    pub attributes: BTreeMap<String, String>,
    /// First seen.
    pub first_seen: Option<DateTime<Utc>>,
    /// Last seen.
    pub last_seen: Option<DateTime<Utc>>,
    /// The STIX id it came from, if any.
    pub stix_id: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Sharing; present only for the owner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sharing: Option<Sharing>,
}

/// Input to create a group.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupInput {
    /// What the group is.
    pub kind: Option<GroupKind>,
    /// Name (1–300 bytes), unique per owner and kind.
    pub name: String,
    /// Owner; defaults to the caller's organization.
    #[serde(default)]
    pub owner_id: Option<Uuid>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// TLP; default `amber`.
    #[serde(default)]
    pub tlp: Option<Tlp>,
    /// Other names.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Adversaries only.
    #[serde(default)]
    pub adversary_kind: Option<AdversaryKind>,
    /// Adversaries only: ISO 3166-1 alpha-2.
    #[serde(default)]
    pub country: Option<String>,
    /// Adversaries only.
    #[serde(default)]
    pub motivations: Vec<String>,
    /// Vulnerabilities only: `CVE-YYYY-NNNN`.
    #[serde(default)]
    pub cve: Option<String>,
    /// Vulnerabilities only.
    #[serde(default)]
    pub vendor: Option<String>,
    /// Vulnerabilities only.
    #[serde(default)]
    pub product: Option<String>,
    /// Vulnerabilities only.
    #[serde(default)]
    pub known_exploited: Option<bool>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Attributes.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// Communities to share to.
    #[serde(default)]
    pub shared_to: Vec<Uuid>,
    /// Organizations to grant.
    #[serde(default)]
    pub granted_to: Vec<Uuid>,
    /// First seen.
    #[serde(default)]
    pub first_seen: Option<DateTime<Utc>>,
    /// Last seen.
    #[serde(default)]
    pub last_seen: Option<DateTime<Utc>>,
    /// The STIX id of the object it came from.
    #[serde(default)]
    pub stix_id: Option<String>,
}

impl GroupInput {
    /// Validate every field; returns the normalized input.
    pub fn check(&self) -> Result<GroupInput, Vec<FieldError>> {
        let mut errors = Errors::default();
        let kind = self.kind;
        if kind.is_none() {
            errors.add("kind", format!("required; one of: {}", GroupKind::NAMES));
        }
        errors.check_text("name", &self.name, 300, true);
        let common = check_common(
            &mut errors,
            self.description.as_deref(),
            &self.tags,
            &self.attributes,
            self.stix_id.as_deref(),
        );
        check_seen(&mut errors, self.first_seen, self.last_seen);
        let adversary = kind == Some(GroupKind::Adversary);
        let vulnerability = kind == Some(GroupKind::Vulnerability);
        for (field, set) in [
            ("adversary_kind", self.adversary_kind.is_some()),
            ("country", self.country.is_some()),
            ("motivations", !self.motivations.is_empty()),
        ] {
            if set && !adversary {
                errors.add(field, "only allowed for adversaries");
            }
        }
        for (field, set) in [
            ("cve", self.cve.is_some()),
            ("vendor", self.vendor.is_some()),
            ("product", self.product.is_some()),
            ("known_exploited", self.known_exploited.is_some()),
        ] {
            if set && !vulnerability {
                errors.add(field, "only allowed for vulnerabilities");
            }
        }
        if let Some(country) = &self.country
            && !crate::admin::is_country_code(country)
        {
            errors.add("country", format!("`{country}` is not an ISO 3166-1 alpha-2 code"));
        }
        if let Some(cve) = &self.cve
            && !is_cve_id(cve)
        {
            errors.add("cve", format!("`{cve}` is not a CVE id (CVE-YYYY-NNNN)"));
        }
        let mut aliases = Vec::new();
        for (i, alias) in self.aliases.iter().enumerate() {
            let alias = alias.trim();
            if alias.is_empty() || alias.len() > 300 {
                errors.add(format!("aliases[{i}]"), "must be 1 to 300 bytes");
            } else if !aliases.iter().any(|a: &String| a.eq_ignore_ascii_case(alias))
                && !alias.eq_ignore_ascii_case(self.name.trim())
            {
                aliases.push(alias.to_string());
            }
        }
        let mut motivations = Vec::new();
        for (i, motivation) in self.motivations.iter().enumerate() {
            match normalize_tag(motivation) {
                Ok(m) if !motivations.contains(&m) => motivations.push(m),
                Ok(_) => {}
                Err(reason) => errors.add(format!("motivations[{i}]"), reason),
            }
        }
        errors.finish()?;
        let mut input = self.clone();
        input.name = self.name.trim().to_string();
        input.aliases = aliases;
        input.motivations = motivations;
        input.tags = common.tags;
        input.country = self.country.as_ref().map(|c| c.trim().to_ascii_uppercase());
        input.cve = self.cve.as_ref().map(|c| c.trim().to_ascii_uppercase());
        dedup(&mut input.shared_to);
        dedup(&mut input.granted_to);
        Ok(input)
    }
}

/// A typed, directed relationship between two objects (indicators or groups).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Association {
    /// Identifier.
    pub id: Uuid,
    /// The owning organization.
    pub owner_id: Uuid,
    /// The object the relationship starts from.
    pub source_id: Uuid,
    /// `indicator` or `group`.
    pub source_type: ObjectType,
    /// The relationship type.
    pub relationship: RelationshipType,
    /// The object it points to.
    pub target_id: Uuid,
    /// `indicator` or `group`.
    pub target_type: ObjectType,
    /// TLP marking.
    pub tlp: Tlp,
    /// Confidence, 0–100.
    pub confidence: i64,
    /// Free text.
    pub description: Option<String>,
    /// The STIX id it came from, if any.
    pub stix_id: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Sharing; present only for the owner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sharing: Option<Sharing>,
}

crate::string_enum! {
    /// Which table an object lives in.
    pub enum ObjectType as "object type" {
        /// An indicator.
        Indicator = "indicator",
        /// A group.
        Group = "group",
    }
}

/// Input to create an association.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssociationInput {
    /// Id of the source object (indicator or group).
    pub source_id: Uuid,
    /// Relationship type, e.g. `indicates`, `uses`.
    pub relationship: Option<RelationshipType>,
    /// Id of the target object.
    pub target_id: Uuid,
    /// Owner; defaults to the caller's organization.
    #[serde(default)]
    pub owner_id: Option<Uuid>,
    /// TLP; default `amber`.
    #[serde(default)]
    pub tlp: Option<Tlp>,
    /// 0–100; default 50.
    #[serde(default)]
    pub confidence: Option<i64>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Communities to share to.
    #[serde(default)]
    pub shared_to: Vec<Uuid>,
    /// Organizations to grant.
    #[serde(default)]
    pub granted_to: Vec<Uuid>,
    /// The STIX id of the relationship it came from.
    #[serde(default)]
    pub stix_id: Option<String>,
}

impl AssociationInput {
    /// Validate every field.
    pub fn check(&self) -> Result<AssociationInput, Vec<FieldError>> {
        let mut errors = Errors::default();
        if self.relationship.is_none() {
            errors.add("relationship", format!("required; one of: {}", RelationshipType::NAMES));
        }
        if self.source_id == self.target_id {
            errors.add("target_id", "an object cannot be associated with itself");
        }
        errors.check_range("confidence", self.confidence, 100);
        check_common(
            &mut errors,
            self.description.as_deref(),
            &[],
            &BTreeMap::new(),
            self.stix_id.as_deref(),
        );
        errors.finish()?;
        let mut input = self.clone();
        dedup(&mut input.shared_to);
        dedup(&mut input.granted_to);
        Ok(input)
    }
}

/// An indicator seen by an organization at a time.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Sighting {
    /// Identifier.
    pub id: Uuid,
    /// The indicator seen.
    pub indicator_id: Uuid,
    /// The organization that saw it (owner of the sighting).
    pub owner_id: Uuid,
    /// TLP of the sighting itself.
    pub tlp: Tlp,
    /// When it was seen.
    pub seen_at: DateTime<Utc>,
    /// How many times.
    pub count: i64,
    /// Where the sighting came from (`alert`, `submission`, a sensor name...).
    pub source: Option<String>,
    /// Free text.
    pub note: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// Input to record a sighting.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SightingInput {
    /// The indicator seen (must be visible to the caller).
    pub indicator_id: Uuid,
    /// Owner; defaults to the caller's organization.
    #[serde(default)]
    pub owner_id: Option<Uuid>,
    /// TLP; default `amber`.
    #[serde(default)]
    pub tlp: Option<Tlp>,
    /// When; default now.
    #[serde(default)]
    pub seen_at: Option<DateTime<Utc>>,
    /// How many times (≥ 1); default 1.
    #[serde(default)]
    pub count: Option<i64>,
    /// Where it came from.
    #[serde(default)]
    pub source: Option<String>,
    /// Free text.
    #[serde(default)]
    pub note: Option<String>,
    /// Communities to share to.
    #[serde(default)]
    pub shared_to: Vec<Uuid>,
    /// Organizations to grant.
    #[serde(default)]
    pub granted_to: Vec<Uuid>,
}

impl SightingInput {
    /// Validate every field.
    pub fn check(&self) -> Result<SightingInput, Vec<FieldError>> {
        let mut errors = Errors::default();
        if let Some(count) = self.count
            && !(1..=1_000_000_000).contains(&count)
        {
            errors.add("count", format!("must be between 1 and 1000000000, got {count}"));
        }
        if let Some(source) = &self.source {
            errors.check_text("source", source, 200, true);
        }
        if let Some(note) = &self.note {
            errors.check_text("note", note, 10_000, false);
        }
        errors.finish()?;
        let mut input = self.clone();
        dedup(&mut input.shared_to);
        dedup(&mut input.granted_to);
        Ok(input)
    }
}

/// One owner holding a value, as answered by the owners query.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Holder {
    /// The indicator.
    pub indicator_id: Uuid,
    /// The owning organization.
    pub owner_id: Uuid,
    /// Its name.
    pub owner_name: String,
    /// Its kind (`host`, `partner`, `source`).
    pub owner_kind: crate::OrgKind,
    /// The owner's confidence.
    pub confidence: i64,
    /// The owner's marking.
    pub tlp: Tlp,
    /// The owner's status of the indicator.
    pub status: IndicatorStatus,
    /// When the owner last saw it.
    pub last_seen: DateTime<Utc>,
}

/// Everything associated with an object within one or two hops, filtered by visibility.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Neighbourhood {
    /// The object asked about.
    pub root: Uuid,
    /// Indicators reached (the root included when it is one).
    pub indicators: Vec<Indicator>,
    /// Groups reached (the root included when it is one).
    pub groups: Vec<Group>,
    /// The associations walked.
    pub associations: Vec<Association>,
}

struct Common {
    tags: Vec<String>,
}

fn check_common(
    errors: &mut Errors,
    description: Option<&str>,
    tags: &[String],
    attributes: &BTreeMap<String, String>,
    stix_id: Option<&str>,
) -> Common {
    if let Some(description) = description {
        errors.check_text("description", description, 10_000, false);
    }
    let mut normalized = Vec::with_capacity(tags.len());
    for (i, tag) in tags.iter().enumerate() {
        match normalize_tag(tag) {
            Ok(tag) => normalized.push(tag),
            Err(reason) => errors.add(format!("tags[{i}]"), reason),
        }
    }
    normalized.sort();
    normalized.dedup();
    if tags.len() > 100 {
        errors.add("tags", "at most 100 tags");
    }
    if attributes.len() > 100 {
        errors.add("attributes", "at most 100 attributes");
    }
    for (key, value) in attributes {
        if key.trim().is_empty() || key.len() > 128 {
            errors.add(format!("attributes.{key}"), "key must be 1 to 128 bytes");
        }
        if value.len() > 4096 {
            errors.add(format!("attributes.{key}"), "value longer than 4096 bytes");
        }
    }
    if let Some(stix_id) = stix_id
        && !is_stix_id(stix_id)
    {
        errors.add("stix_id", format!("`{stix_id}` is not a STIX id (type--uuid)"));
    }
    Common { tags: normalized }
}

fn check_seen(errors: &mut Errors, first: Option<DateTime<Utc>>, last: Option<DateTime<Utc>>) {
    if let (Some(first), Some(last)) = (first, last)
        && first > last
    {
        errors.add("first_seen", "must not be after last_seen");
    }
}

/// Whether `s` has the STIX identifier shape `type--uuid`.
pub fn is_stix_id(s: &str) -> bool {
    match s.split_once("--") {
        Some((kind, uuid)) => {
            !kind.is_empty()
                && kind.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && Uuid::parse_str(uuid).is_ok()
        }
        None => false,
    }
}

fn dedup(ids: &mut Vec<Uuid>) {
    ids.sort();
    ids.dedup();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_fields_belong_to_their_kind() {
        let input = GroupInput {
            kind: Some(GroupKind::Malware),
            name: "Emotet".into(),
            cve: Some("CVE-2021-44228".into()),
            country: Some("RU".into()),
            ..Default::default()
        };
        let errors = input.check().unwrap_err();
        assert_eq!(
            errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["country: only allowed for adversaries", "cve: only allowed for vulnerabilities"]
        );
    }

    #[test]
    fn stix_ids() {
        assert!(is_stix_id("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"));
        assert!(!is_stix_id("indicator-8e2e2d2b"));
        assert!(!is_stix_id("Indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"));
    }
}
