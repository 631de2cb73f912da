//! From a MISP [`Event`] to an [`IntelBatch`]: which attribute types become which
//! indicators, how tags, galaxies, `to_ids` and `distribution` are honoured.
//!
//! The rules (docs/feeds.md has the same table for users):
//!
//! - Attribute types map through [`ATTRIBUTE_TYPES`]; other types (`text`, `regkey`,
//!   `ssdeep`...) are not indicators and are counted per type as skipped. Values of mapped
//!   types that are not valid (`ip-dst` `999.1.1.1`) are rejections.
//! - TLP: an attribute's `tlp:` tag, else the event's, else the importer's default. `tlp:white`
//!   is CLEAR. When several are given the most restrictive wins.
//! - `to_ids: false` (context, not for detection) halves the confidence.
//! - `distribution` 0 (organisation only) and 4 (sharing group, which tipline cannot
//!   honour) keep the object to its owner: TLP raised to at least AMBER+STRICT and no
//!   community shares. 5 inherits (attribute → object → event); 1–3 and absent change
//!   nothing.
//! - `threat_level_id` 1/2/3 (high/medium/low) becomes threat rating 4/3/2.
//! - Galaxy tags (`misp-galaxy:threat-actor="APT28"`) and clusters become adversary,
//!   malware or tool groups ([`GALAXY_GROUPS`]), found by name or alias among the groups
//!   the importer can see, created when none exists; the event's indicators `indicate`
//!   them (an attribute's own galaxy tags only its indicator).
//! - Each event becomes a report group (`report--<event uuid>`) `related-to` everything
//!   the event brought; `link` attributes are its references; `vulnerability` attributes
//!   become vulnerability groups of the report.
//! - Other tags are kept as tags (up to the 100 a record holds).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveTime};
use tipline_model::import::{Endpoint, GroupLookup, GroupRef, IntelBatch, Link, SourceVersion};
use tipline_model::intel::{GroupInput, IndicatorInput};
use tipline_model::{
    AdversaryKind, Canonical, GroupKind, IndicatorKind, RelationshipType, Tlp, canonicalize, detect,
};
use uuid::Uuid;

use super::event::{Attribute, Event, GalaxyCluster, MispError};

/// What an attribute type becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// An IPv4/IPv6 address or network.
    Address,
    /// `address|port`: the address, with the port as an attribute.
    AddressPort,
    /// A domain.
    Domain,
    /// `hostname|port`: the domain, with the port as an attribute.
    DomainPort,
    /// `domain|ip`: both, the domain `resolves-to` the address.
    DomainAddress,
    /// An email address.
    Email,
    /// A hash of this kind.
    Hash(IndicatorKind),
    /// `filename|hash`: the hash, with the file name as an attribute.
    FileHash(IndicatorKind),
    /// An autonomous system.
    Asn,
    /// A URL (an absolute one; MISP `uri` values that are only paths are skipped).
    Url,
    /// A CVE: a vulnerability group of the event's report.
    Vulnerability,
    /// An external reference of the event's report.
    Reference,
}

/// Every MISP attribute type tipline maps, alphabetical. Adding one adds a line here.
pub const ATTRIBUTE_TYPES: &[(&str, Target)] = &[
    ("AS", Target::Asn),
    ("domain", Target::Domain),
    ("domain|ip", Target::DomainAddress),
    ("email", Target::Email),
    ("email-dst", Target::Email),
    ("email-reply-to", Target::Email),
    ("email-src", Target::Email),
    ("filename|md5", Target::FileHash(IndicatorKind::Md5)),
    ("filename|sha1", Target::FileHash(IndicatorKind::Sha1)),
    ("filename|sha256", Target::FileHash(IndicatorKind::Sha256)),
    ("hostname", Target::Domain),
    ("hostname|port", Target::DomainPort),
    ("ip-dst", Target::Address),
    ("ip-dst|port", Target::AddressPort),
    ("ip-src", Target::Address),
    ("ip-src|port", Target::AddressPort),
    ("link", Target::Reference),
    ("md5", Target::Hash(IndicatorKind::Md5)),
    ("sha1", Target::Hash(IndicatorKind::Sha1)),
    ("sha256", Target::Hash(IndicatorKind::Sha256)),
    ("uri", Target::Url),
    ("url", Target::Url),
    ("vulnerability", Target::Vulnerability),
    ("whois-registrant-email", Target::Email),
];

/// Galaxy types whose clusters become groups, alphabetical. MISP's `tool` galaxy lists
/// malware families (X-Agent, GAMEFISH), so it maps to malware; `mitre-tool` to tools.
pub const GALAXY_GROUPS: &[(&str, GroupKind)] = &[
    ("android", GroupKind::Malware),
    ("backdoor", GroupKind::Malware),
    ("banker", GroupKind::Malware),
    ("botnet", GroupKind::Malware),
    ("malpedia", GroupKind::Malware),
    ("mitre-intrusion-set", GroupKind::Adversary),
    ("mitre-malware", GroupKind::Malware),
    ("mitre-tool", GroupKind::Tool),
    ("ransomware", GroupKind::Malware),
    ("rat", GroupKind::Malware),
    ("stealer", GroupKind::Malware),
    ("threat-actor", GroupKind::Adversary),
    ("tool", GroupKind::Malware),
];

/// The mapping of a MISP type, if tipline maps it.
pub fn target_of(misp_type: &str) -> Option<Target> {
    ATTRIBUTE_TYPES.iter().find(|(name, _)| *name == misp_type).map(|(_, target)| *target)
}

/// How to map: who owns the result and the defaults the event does not set.
#[derive(Debug, Clone)]
pub struct MispOptions {
    /// Owner of everything created (default: the importer's organization).
    pub owner_id: Option<Uuid>,
    /// TLP when neither the attribute nor the event has a `tlp:` tag.
    pub tlp: Tlp,
    /// Confidence of `to_ids: true` attributes (halved for `to_ids: false`).
    pub confidence: i64,
    /// Tags added to every indicator and report.
    pub tags: Vec<String>,
    /// Communities to share to (not for distribution 0 or 4).
    pub shared_to: Vec<Uuid>,
}

impl Default for MispOptions {
    fn default() -> Self {
        MispOptions {
            owner_id: None,
            tlp: Tlp::Amber,
            confidence: 50,
            tags: Vec::new(),
            shared_to: Vec::new(),
        }
    }
}

/// An event turned into a batch, with what was left out.
#[derive(Debug, Clone, Default)]
pub struct MappedEvent {
    /// What to write.
    pub batch: IntelBatch,
    /// Attributes of types tipline does not map, counted per MISP type.
    pub skipped: BTreeMap<String, u64>,
    /// Attributes of mapped types whose values are invalid.
    pub rejected: Vec<MispError>,
}

/// Most tags one record holds (the model's limit).
const MAX_TAGS: usize = 100;
/// Most references a report keeps as attributes (the model allows 100 attributes).
const MAX_REFERENCES: usize = 90;

/// Map one event.
pub fn map_event(event: &Event, options: &MispOptions) -> MappedEvent {
    let mut builder = Builder::new(event, options);
    for attribute in &event.attributes {
        builder.attribute(attribute, None, &[]);
    }
    for object in &event.objects {
        let context: Vec<&Attribute> = object.attributes.iter().collect();
        let start = builder.batch.indicators.len();
        for attribute in &object.attributes {
            builder.attribute(attribute, object.distribution, &context);
        }
        if object.name == "domain-ip" {
            builder.resolve_within(start);
        }
    }
    builder.finish()
}

/// Per-record marking: TLP, community shares, confidence.
#[derive(Debug, Clone)]
struct Marking {
    tlp: Tlp,
    shared_to: Vec<Uuid>,
}

struct Builder<'a> {
    event: &'a Event,
    options: &'a MispOptions,
    event_marking: Marking,
    event_tags: Vec<String>,
    threat_rating: Option<i64>,
    batch: IntelBatch,
    indicator_index: HashMap<(IndicatorKind, String), usize>,
    group_index: HashMap<(GroupKind, String), usize>,
    /// Groups every indicator of the event indicates (event galaxy tags).
    event_groups: Vec<usize>,
    references: Vec<String>,
    skipped: BTreeMap<String, u64>,
    rejected: Vec<MispError>,
    report: usize,
}

impl<'a> Builder<'a> {
    fn new(event: &'a Event, options: &'a MispOptions) -> Builder<'a> {
        let event_marking = marking(
            tlp_of(&event.tags).unwrap_or(options.tlp),
            event.distribution,
            &options.shared_to,
        );
        let mut event_tags = options.tags.clone();
        event_tags.extend(event.tags.iter().filter(|t| tlp_tag(t).is_none()).cloned());
        event_tags.truncate(MAX_TAGS);
        let threat_rating = match event.threat_level {
            Some(1) => Some(4),
            Some(2) => Some(3),
            Some(3) => Some(2),
            _ => None,
        };
        let mut builder = Builder {
            event,
            options,
            event_marking,
            event_tags,
            threat_rating,
            batch: IntelBatch::default(),
            indicator_index: HashMap::new(),
            group_index: HashMap::new(),
            event_groups: Vec::new(),
            references: Vec::new(),
            skipped: BTreeMap::new(),
            rejected: Vec::new(),
            report: 0,
        };
        builder.report = builder.add_report();
        for (galaxy, value) in event.tags.iter().filter_map(|t| galaxy_tag(t)) {
            if let Some(group) = builder.galaxy_group(galaxy, value, &event.galaxies)
                && !builder.event_groups.contains(&group)
            {
                builder.event_groups.push(group);
            }
        }
        builder
    }

    fn add_report(&mut self) -> usize {
        let event = self.event;
        let name = if event.info.is_empty() {
            format!("MISP event {}", event.uuid)
        } else {
            truncate(&event.info, 300).to_string()
        };
        let mut attributes = BTreeMap::from([("misp_event".to_string(), event.uuid.clone())]);
        if let Some(creator) = &event.creator {
            attributes.insert("misp_creator".into(), truncate(creator, 4096).to_string());
        }
        let stix_id = Uuid::parse_str(&event.uuid).ok().map(|u| format!("report--{u}"));
        let input = GroupInput {
            kind: Some(GroupKind::Report),
            name,
            owner_id: self.options.owner_id,
            tlp: Some(self.event_marking.tlp),
            tags: self.event_tags.clone(),
            attributes,
            shared_to: self.event_marking.shared_to.clone(),
            first_seen: event.date.map(|d| d.and_time(NaiveTime::MIN).and_utc()),
            stix_id: stix_id.clone(),
            ..Default::default()
        };
        let lookup = if stix_id.is_some() { GroupLookup::ByStixId } else { GroupLookup::ByName };
        self.batch.groups.push(GroupRef { lookup, input });
        self.batch.groups.len() - 1
    }

    /// The group of a galaxy cluster (found or added), if its galaxy maps to groups.
    fn galaxy_group(
        &mut self,
        galaxy: &str,
        value: &str,
        clusters: &[GalaxyCluster],
    ) -> Option<usize> {
        let kind = GALAXY_GROUPS.iter().find(|(g, _)| *g == galaxy).map(|(_, k)| *k)?;
        let cluster = clusters.iter().find(|c| c.galaxy == galaxy && c.value == value);
        // MITRE galaxies name clusters `APT28 - G0007`: the id is an alias.
        let (name, mitre_id) = match value.rsplit_once(" - ") {
            Some((name, id)) if is_mitre_id(id) => (name.trim(), Some(id.trim())),
            _ => (value.trim(), None),
        };
        if name.is_empty() {
            return None;
        }
        let key = (kind, name.to_lowercase());
        if let Some(&index) = self.group_index.get(&key) {
            return Some(index);
        }
        let mut aliases: Vec<String> = mitre_id.map(str::to_string).into_iter().collect();
        if let Some(cluster) = cluster {
            aliases.extend(cluster.synonyms.iter().filter(|s| s.len() <= 300).cloned());
        }
        let adversary = kind == GroupKind::Adversary;
        let country = cluster
            .and_then(|c| c.countries.first())
            .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()))
            .filter(|_| adversary)
            .map(|c| c.to_ascii_uppercase());
        let adversary_kind = (adversary && cluster.is_some_and(|c| c.state_sponsored))
            .then_some(AdversaryKind::NationState);
        let input = GroupInput {
            kind: Some(kind),
            name: truncate(name, 300).to_string(),
            owner_id: self.options.owner_id,
            tlp: Some(self.event_marking.tlp),
            aliases,
            adversary_kind,
            country,
            shared_to: self.event_marking.shared_to.clone(),
            ..Default::default()
        };
        self.batch.groups.push(GroupRef { lookup: GroupLookup::ByName, input });
        let index = self.batch.groups.len() - 1;
        self.group_index.insert(key, index);
        self.link(
            Endpoint::Group(self.report),
            RelationshipType::RelatedTo,
            Endpoint::Group(index),
        );
        Some(index)
    }

    fn link(&mut self, source: Endpoint, relationship: RelationshipType, target: Endpoint) {
        let marking = match source {
            Endpoint::Indicator(i) => {
                let input = &self.batch.indicators[i];
                Marking { tlp: input.tlp.unwrap_or(Tlp::Amber), shared_to: input.shared_to.clone() }
            }
            Endpoint::Group(_) => self.event_marking.clone(),
        };
        let duplicate =
            self.batch.links.iter().any(|l| {
                l.source == source && l.relationship == relationship && l.target == target
            });
        if !duplicate {
            self.batch.links.push(Link {
                source,
                relationship,
                target,
                owner_id: self.options.owner_id,
                tlp: marking.tlp,
                shared_to: marking.shared_to,
            });
        }
    }

    fn reject(&mut self, attribute: &Attribute, reason: String) {
        self.rejected.push(MispError {
            location: format!(
                "event {}: {} ({} `{}`)",
                self.event.uuid,
                attribute.path,
                attribute.kind,
                truncate(&attribute.value, 100)
            ),
            reason,
        });
    }

    fn skip(&mut self, attribute: &Attribute) {
        *self.skipped.entry(attribute.kind.clone()).or_default() += 1;
    }

    /// Map one attribute; `context` holds its object's attributes (for file names and ports).
    fn attribute(
        &mut self,
        attribute: &Attribute,
        object_distribution: Option<u8>,
        context: &[&Attribute],
    ) {
        let Some(target) = target_of(&attribute.kind) else {
            self.skip(attribute);
            return;
        };
        let value = attribute.value.trim();
        let (first, second) = match value.split_once('|') {
            Some((a, b)) => (a.trim(), Some(b.trim())),
            None => (value, None),
        };
        let pair = |this: &mut Self| -> Option<(&'_ str, &'_ str)> {
            match second {
                Some(second) => Some((first, second)),
                None => {
                    this.reject(attribute, "expected two values separated by `|`".into());
                    None
                }
            }
        };
        let distribution = match attribute.distribution {
            Some(5) | None => object_distribution.filter(|d| *d != 5),
            level => level,
        };
        let mut extra = BTreeMap::new();
        let result = match target {
            Target::Reference => {
                if self.references.len() < MAX_REFERENCES && value.len() <= 4096 {
                    self.references.push(value.to_string());
                }
                return;
            }
            Target::Vulnerability => {
                let cve = value.to_ascii_uppercase();
                if !tipline_model::group::is_cve_id(&cve) {
                    self.reject(attribute, format!("`{value}` is not a CVE id (CVE-YYYY-NNNN)"));
                    return;
                }
                self.vulnerability(&cve);
                return;
            }
            Target::Address => address(value),
            Target::AddressPort => {
                let Some((address_part, port)) = pair(self) else { return };
                extra.insert("port".to_string(), port.to_string());
                address(address_part)
            }
            Target::Domain => canonicalize(IndicatorKind::Domain, value).map_err(|e| e.to_string()),
            Target::DomainPort => {
                let Some((host, port)) = pair(self) else { return };
                extra.insert("port".to_string(), port.to_string());
                canonicalize(IndicatorKind::Domain, host).map_err(|e| e.to_string())
            }
            Target::DomainAddress => {
                let Some((domain, ip)) = pair(self) else { return };
                let (domain, ip) = (
                    canonicalize(IndicatorKind::Domain, domain).map_err(|e| e.to_string()),
                    address(ip),
                );
                match (domain, ip) {
                    (Ok(domain), Ok(ip)) => {
                        let d = self.indicator(attribute, distribution, domain, BTreeMap::new());
                        let i = self.indicator(attribute, distribution, ip, BTreeMap::new());
                        self.link(
                            Endpoint::Indicator(d),
                            RelationshipType::ResolvesTo,
                            Endpoint::Indicator(i),
                        );
                    }
                    (Err(reason), _) | (_, Err(reason)) => self.reject(attribute, reason),
                }
                return;
            }
            Target::Email => canonicalize(IndicatorKind::Email, value).map_err(|e| e.to_string()),
            Target::Hash(kind) => {
                if let Some(name) = sibling(context, "filename") {
                    extra.insert("filename".to_string(), name);
                }
                canonicalize(kind, value).map_err(|e| e.to_string())
            }
            Target::FileHash(kind) => {
                let Some((name, hash)) = pair(self) else { return };
                extra.insert("filename".to_string(), name.to_string());
                canonicalize(kind, hash).map_err(|e| e.to_string())
            }
            Target::Asn => canonicalize(IndicatorKind::Asn, value).map_err(|e| e.to_string()),
            Target::Url => {
                // `uri` also holds bare paths (`/gate.php`): context, not an indicator.
                if attribute.kind == "uri" && !value.contains("//") {
                    self.skip(attribute);
                    return;
                }
                canonicalize(IndicatorKind::Url, value).map_err(|e| e.to_string())
            }
        };
        if matches!(target, Target::Address | Target::AddressPort)
            && let Some(port) = sibling(context, "dst-port").or_else(|| sibling(context, "port"))
        {
            extra.entry("port".to_string()).or_insert(port);
        }
        match result {
            Ok(canonical) => {
                let index = self.indicator(attribute, distribution, canonical, extra);
                let own_groups: Vec<usize> = attribute
                    .tags
                    .iter()
                    .filter_map(|t| galaxy_tag(t))
                    .filter_map(|(galaxy, value)| {
                        let clusters =
                            [attribute.galaxies.as_slice(), &self.event.galaxies].concat();
                        self.galaxy_group(galaxy, value, &clusters)
                    })
                    .collect();
                for group in own_groups {
                    self.link(
                        Endpoint::Indicator(index),
                        RelationshipType::Indicates,
                        Endpoint::Group(group),
                    );
                }
            }
            Err(reason) => self.reject(attribute, reason),
        }
    }

    fn vulnerability(&mut self, cve: &str) {
        let key = (GroupKind::Vulnerability, cve.to_lowercase());
        if self.group_index.contains_key(&key) {
            return;
        }
        let input = GroupInput {
            kind: Some(GroupKind::Vulnerability),
            name: cve.to_string(),
            cve: Some(cve.to_string()),
            owner_id: self.options.owner_id,
            tlp: Some(self.event_marking.tlp),
            shared_to: self.event_marking.shared_to.clone(),
            ..Default::default()
        };
        self.batch.groups.push(GroupRef { lookup: GroupLookup::ByName, input });
        let index = self.batch.groups.len() - 1;
        self.group_index.insert(key, index);
        self.link(
            Endpoint::Group(self.report),
            RelationshipType::RelatedTo,
            Endpoint::Group(index),
        );
    }

    /// Add (or merge into) the indicator for `canonical`; returns its position.
    fn indicator(
        &mut self,
        attribute: &Attribute,
        distribution: Option<u8>,
        canonical: Canonical,
        extra: BTreeMap<String, String>,
    ) -> usize {
        let event = self.event;
        let tlp = tlp_of(&attribute.tags).unwrap_or(self.event_marking.tlp);
        let distribution = distribution.or(event.distribution);
        let marking = marking(tlp, distribution, &self.event_marking.shared_to);
        let confidence =
            if attribute.to_ids { self.options.confidence } else { self.options.confidence / 2 };
        let seconds = |s: i64| DateTime::from_timestamp(s, 0);
        let changed = attribute.timestamp.and_then(seconds).or_else(|| seconds(event.timestamp));
        let last_seen = attribute.last_seen.or(changed).or(attribute.first_seen);
        let first_seen = attribute.first_seen.or(changed).map(|f| match last_seen {
            Some(last) if f > last => last,
            _ => f,
        });
        let mut attributes = BTreeMap::from([
            ("misp_event".to_string(), event.uuid.clone()),
            ("misp_type".to_string(), attribute.kind.clone()),
            ("misp_to_ids".to_string(), attribute.to_ids.to_string()),
        ]);
        if let Some(category) = &attribute.category {
            attributes.insert("misp_category".into(), truncate(category, 4096).to_string());
        }
        for (key, value) in extra {
            attributes.insert(key, truncate(&value, 4096).to_string());
        }
        let mut tags = self.event_tags.clone();
        tags.extend(attribute.tags.iter().filter(|t| tlp_tag(t).is_none()).cloned());
        tags.truncate(MAX_TAGS);
        let key = (canonical.kind, canonical.value.clone());
        if let Some(&index) = self.indicator_index.get(&key) {
            // The same value twice in one event: most restrictive marking, highest
            // confidence, widest time span, every tag and attribute.
            let existing = &mut self.batch.indicators[index];
            let restricted = existing.shared_to.is_empty() || marking.shared_to.is_empty();
            existing.tlp = Some(existing.tlp.unwrap_or(Tlp::Clear).max(marking.tlp));
            if restricted {
                existing.shared_to.clear();
            }
            existing.confidence = existing.confidence.max(Some(confidence));
            existing.first_seen = match (existing.first_seen, first_seen) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            existing.last_seen = existing.last_seen.max(last_seen);
            for tag in tags {
                if !existing.tags.contains(&tag) && existing.tags.len() < MAX_TAGS {
                    existing.tags.push(tag);
                }
            }
            existing.attributes.extend(attributes);
            return index;
        }
        self.batch.indicators.push(IndicatorInput {
            kind: Some(canonical.kind),
            value: canonical.value,
            owner_id: self.options.owner_id,
            tlp: Some(marking.tlp),
            confidence: Some(confidence),
            threat_rating: self.threat_rating,
            description: attribute.comment.as_deref().map(|c| truncate(c, 10_000).to_string()),
            tags,
            attributes,
            shared_to: marking.shared_to,
            first_seen,
            last_seen,
            ..Default::default()
        });
        let index = self.batch.indicators.len() - 1;
        self.indicator_index.insert(key, index);
        index
    }

    /// Within a `domain-ip` object (indicators from `start` on): each domain resolves to
    /// each address.
    fn resolve_within(&mut self, start: usize) {
        let indicators = &self.batch.indicators[start..];
        let of = |kinds: &[IndicatorKind]| -> Vec<usize> {
            indicators
                .iter()
                .enumerate()
                .filter(|(_, i)| i.kind.is_some_and(|k| kinds.contains(&k)))
                .map(|(j, _)| start + j)
                .collect()
        };
        let domains = of(&[IndicatorKind::Domain]);
        let addresses = of(&[IndicatorKind::Ipv4, IndicatorKind::Ipv6]);
        for &d in &domains {
            for &a in &addresses {
                self.link(
                    Endpoint::Indicator(d),
                    RelationshipType::ResolvesTo,
                    Endpoint::Indicator(a),
                );
            }
        }
    }

    fn finish(mut self) -> MappedEvent {
        let report = self.report;
        for (i, reference) in std::mem::take(&mut self.references).into_iter().enumerate() {
            self.batch.groups[report]
                .input
                .attributes
                .insert(format!("reference_{}", i + 1), reference);
        }
        for index in 0..self.batch.indicators.len() {
            self.link(
                Endpoint::Group(report),
                RelationshipType::RelatedTo,
                Endpoint::Indicator(index),
            );
            for group in self.event_groups.clone() {
                self.link(
                    Endpoint::Indicator(index),
                    RelationshipType::Indicates,
                    Endpoint::Group(group),
                );
            }
        }
        self.batch.versions.push(SourceVersion {
            key: self.event.uuid.clone(),
            version: self.event.timestamp,
            label: Some(self.event.info.clone()).filter(|i| !i.is_empty()),
        });
        MappedEvent { batch: self.batch, skipped: self.skipped, rejected: self.rejected }
    }
}

/// The marking of a record of TLP `tlp` at distribution level `distribution`.
fn marking(tlp: Tlp, distribution: Option<u8>, shared_to: &[Uuid]) -> Marking {
    if matches!(distribution, Some(0) | Some(4)) {
        Marking { tlp: tlp.max(Tlp::AmberStrict), shared_to: Vec::new() }
    } else {
        Marking { tlp, shared_to: shared_to.to_vec() }
    }
}

/// An address or network (`ip-src`, `ip-dst`), not any other kind of value.
fn address(value: &str) -> Result<Canonical, String> {
    let canonical = detect(value).map_err(|e| e.to_string())?;
    match canonical.kind {
        IndicatorKind::Ipv4 | IndicatorKind::Ipv6 | IndicatorKind::Cidr => Ok(canonical),
        other => Err(format!("`{value}` is {other}, not an ip address or network")),
    }
}

/// The value of the attribute playing `relation` in the same object.
fn sibling(context: &[&Attribute], relation: &str) -> Option<String> {
    context
        .iter()
        .find(|a| a.object_relation.as_deref() == Some(relation))
        .map(|a| a.value.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The TLP of a `tlp:` tag (`tlp:white` is CLEAR), if it is one tipline knows.
fn tlp_tag(tag: &str) -> Option<Tlp> {
    let lower = tag.trim().to_ascii_lowercase();
    if !lower.starts_with("tlp:") {
        return None;
    }
    lower.parse().ok()
}

/// The most restrictive TLP among `tags`.
fn tlp_of(tags: &[String]) -> Option<Tlp> {
    tags.iter().filter_map(|t| tlp_tag(t)).max()
}

/// `misp-galaxy:threat-actor="APT28"` → (`threat-actor`, `APT28`).
fn galaxy_tag(tag: &str) -> Option<(&str, &str)> {
    let rest = tag.trim().strip_prefix("misp-galaxy:")?;
    let (galaxy, value) = rest.split_once('=')?;
    let value = value.trim().trim_matches('"');
    (!value.is_empty()).then_some((galaxy.trim(), value))
}

/// `G0007`, `S0161`, `T1193`: MITRE ATT&CK ids.
fn is_mitre_id(s: &str) -> bool {
    let s = s.trim();
    s.len() >= 5
        && matches!(s.as_bytes()[0], b'G' | b'S' | b'T' | b'C' | b'M')
        && s[1..].bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

/// `s` cut to at most `max` bytes at a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::misp::event::parse_event;

    fn map(text: &str, options: &MispOptions) -> MappedEvent {
        map_event(&parse_event(text.as_bytes()).unwrap(), options)
    }

    fn event(attributes: &str, extra: &str) -> String {
        format!(
            r#"{{"Event": {{"uuid": "5a0d5bf4-99c8-4f15-9879-22b1950d210f", "timestamp": "1511183733",
            "info": "Test event", "date": "2017-11-16" {extra}, "Attribute": [{attributes}]}}}}"#
        )
    }

    fn values(mapped: &MappedEvent) -> Vec<(String, String)> {
        mapped
            .batch
            .indicators
            .iter()
            .map(|i| (i.kind.unwrap().to_string(), i.value.clone()))
            .collect()
    }

    #[test]
    fn attribute_types_map_to_indicators() {
        let attributes = [
            ("ip-src", "192.0.2.1"),
            ("ip-dst", "2001:DB8::1"),
            ("ip-dst", "198.51.100.0/24"),
            ("ip-dst|port", "203.0.113.5|8443"),
            ("domain", "Evil.Example"),
            ("hostname", "c2.evil.example"),
            ("hostname|port", "mail.evil.example|25"),
            ("domain|ip", "www.evil.example|192.0.2.80"),
            ("url", "hxxp://evil[.]example/gate.php"),
            ("uri", "/gate.php"),
            ("email-src", "Phish@Evil.Example"),
            ("md5", "0749BAE92CA336A02C83D126E04EC628"),
            (
                "filename|sha256",
                "a.exe|b3c4ae251f8094fa15b510051835c657eaef2a6cea46075d3aec964b14a99f68",
            ),
            ("AS", "64500"),
            ("vulnerability", "cve-2017-0199"),
            ("link", "https://blog.example/report"),
            ("regkey|value", "HKLM\\Run|x"),
            ("text", "free text"),
        ]
        .iter()
        .map(|(t, v)| {
            format!(r#"{{"type": "{t}", "value": "{}", "to_ids": true}}"#, v.replace('\\', "\\\\"))
        })
        .collect::<Vec<_>>()
        .join(", ");
        let mapped = map(&event(&attributes, ""), &MispOptions::default());
        assert!(mapped.rejected.is_empty(), "{:?}", mapped.rejected);
        assert_eq!(
            values(&mapped),
            [
                ("ipv4", "192.0.2.1"),
                ("ipv6", "2001:db8::1"),
                ("cidr", "198.51.100.0/24"),
                ("ipv4", "203.0.113.5"),
                ("domain", "evil.example"),
                ("domain", "c2.evil.example"),
                ("domain", "mail.evil.example"),
                ("domain", "www.evil.example"),
                ("ipv4", "192.0.2.80"),
                ("url", "http://evil.example/gate.php"),
                ("email", "phish@evil.example"),
                ("md5", "0749bae92ca336a02c83d126e04ec628"),
                ("sha256", "b3c4ae251f8094fa15b510051835c657eaef2a6cea46075d3aec964b14a99f68"),
                ("asn", "AS64500"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
        assert_eq!(
            mapped.skipped,
            BTreeMap::from([("regkey|value".into(), 1), ("text".into(), 1), ("uri".into(), 1)])
        );
        let indicators = &mapped.batch.indicators;
        assert_eq!(indicators[3].attributes["port"], "8443");
        assert_eq!(indicators[12].attributes["filename"], "a.exe");
        let groups: Vec<_> = mapped
            .batch
            .groups
            .iter()
            .map(|g| (g.input.kind.unwrap(), g.input.name.as_str()))
            .collect();
        assert_eq!(
            groups,
            [(GroupKind::Report, "Test event"), (GroupKind::Vulnerability, "CVE-2017-0199")]
        );
        let report = &mapped.batch.groups[0].input;
        assert_eq!(report.stix_id.as_deref(), Some("report--5a0d5bf4-99c8-4f15-9879-22b1950d210f"));
        assert_eq!(report.attributes["reference_1"], "https://blog.example/report");
        let resolves: Vec<_> = mapped
            .batch
            .links
            .iter()
            .filter(|l| l.relationship == RelationshipType::ResolvesTo)
            .map(|l| (l.source, l.target))
            .collect();
        assert_eq!(resolves, [(Endpoint::Indicator(7), Endpoint::Indicator(8))]);
        assert_eq!(
            mapped.batch.versions,
            [SourceVersion {
                key: "5a0d5bf4-99c8-4f15-9879-22b1950d210f".into(),
                version: 1_511_183_733,
                label: Some("Test event".into())
            }]
        );
    }

    #[test]
    fn invalid_values_are_rejected_with_their_location() {
        let mapped = map(
            &event(
                r#"{"type": "ip-dst", "value": "999.1.1.1"}, {"type": "ip-src", "value": "evil.example"},
                   {"type": "filename|md5", "value": "nohash"}, {"type": "vulnerability", "value": "log4shell"}"#,
                "",
            ),
            &MispOptions::default(),
        );
        let messages: Vec<String> = mapped.rejected.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "event 5a0d5bf4-99c8-4f15-9879-22b1950d210f: Attribute[0] (ip-dst `999.1.1.1`): invalid indicator `999.1.1.1`: ipv4: octet `999` is greater than 255",
                "event 5a0d5bf4-99c8-4f15-9879-22b1950d210f: Attribute[1] (ip-src `evil.example`): `evil.example` is domain, not an ip address or network",
                "event 5a0d5bf4-99c8-4f15-9879-22b1950d210f: Attribute[2] (filename|md5 `nohash`): expected two values separated by `|`",
                "event 5a0d5bf4-99c8-4f15-9879-22b1950d210f: Attribute[3] (vulnerability `log4shell`): `log4shell` is not a CVE id (CVE-YYYY-NNNN)",
            ]
        );
        assert!(mapped.batch.indicators.is_empty());
    }

    #[test]
    fn tlp_to_ids_and_distribution() {
        let community = Uuid::from_u128(7);
        let options = MispOptions {
            tlp: Tlp::Amber,
            confidence: 80,
            shared_to: vec![community],
            ..Default::default()
        };
        let attributes = r#"
            {"type": "ip-dst", "value": "192.0.2.1", "to_ids": true},
            {"type": "ip-dst", "value": "192.0.2.2", "to_ids": false},
            {"type": "ip-dst", "value": "192.0.2.3", "to_ids": true, "Tag": [{"name": "tlp:red"}]},
            {"type": "ip-dst", "value": "192.0.2.4", "to_ids": true, "distribution": "0"},
            {"type": "ip-dst", "value": "192.0.2.5", "to_ids": true, "distribution": "4"},
            {"type": "ip-dst", "value": "192.0.2.6", "to_ids": true, "distribution": "5"}"#;
        let marking = |mapped: &MappedEvent| -> Vec<(Tlp, i64, bool)> {
            mapped
                .batch
                .indicators
                .iter()
                .map(|i| (i.tlp.unwrap(), i.confidence.unwrap(), i.shared_to == [community]))
                .collect()
        };
        let mapped = map(&event(attributes, r#", "Tag": [{"name": "tlp:white"}]"#), &options);
        assert_eq!(
            marking(&mapped),
            [
                (Tlp::Clear, 80, true),
                (Tlp::Clear, 40, true),
                (Tlp::Red, 80, true),
                (Tlp::AmberStrict, 80, false),
                (Tlp::AmberStrict, 80, false),
                (Tlp::Clear, 80, true),
            ]
        );
        assert_eq!(mapped.batch.indicators[1].attributes["misp_to_ids"], "false");
        assert_eq!(mapped.batch.indicators[0].tags, Vec::<String>::new(), "tlp tags are not kept");
        // An event at distribution 0: everything stays with its owner, even inheriting attributes.
        let mapped =
            map(&event(attributes, r#", "distribution": 0, "threat_level_id": "1""#), &options);
        assert!(
            marking(&mapped).iter().all(|(tlp, _, shared)| *tlp >= Tlp::AmberStrict && !shared)
        );
        assert_eq!(mapped.batch.indicators[0].threat_rating, Some(4));
        assert_eq!(mapped.batch.groups[0].input.tlp, Some(Tlp::AmberStrict));
    }

    #[test]
    fn galaxies_become_groups_the_indicators_indicate() {
        let text = r#"{"Event": {"uuid": "u", "timestamp": 1, "info": "Sednit",
            "Tag": [{"name": "misp-galaxy:threat-actor=\"Sofacy\""},
                    {"name": "misp-galaxy:mitre-malware=\"XAgentOSX - S0161\""},
                    {"name": "misp-galaxy:mitre-attack-pattern=\"Spearphishing - T1193\""},
                    {"name": "osint:source-type=\"blog-post\""}],
            "Galaxy": [{"type": "threat-actor", "GalaxyCluster": [{"value": "Sofacy",
                "meta": {"synonyms": ["APT28", "Fancy Bear"], "country": ["ru"],
                         "cfr-suspected-state-sponsor": ["Russian Federation"]}}]}],
            "Attribute": [{"type": "domain", "value": "evil.example", "to_ids": true,
                "Tag": [{"name": "misp-galaxy:threat-actor=\"APT 29\""}]}]}}"#;
        let mapped = map(text, &MispOptions::default());
        let groups: Vec<_> = mapped
            .batch
            .groups
            .iter()
            .map(|g| (g.input.kind.unwrap(), g.input.name.as_str(), g.input.aliases.clone()))
            .collect();
        assert_eq!(
            groups,
            [
                (GroupKind::Report, "Sednit", vec![]),
                (GroupKind::Adversary, "Sofacy", vec!["APT28".to_string(), "Fancy Bear".into()]),
                (GroupKind::Malware, "XAgentOSX", vec!["S0161".to_string()]),
                (GroupKind::Adversary, "APT 29", vec![]),
            ]
        );
        assert_eq!(mapped.batch.groups[1].input.country.as_deref(), Some("RU"));
        assert_eq!(mapped.batch.groups[1].input.adversary_kind, Some(AdversaryKind::NationState));
        assert_eq!(mapped.batch.groups[0].lookup, GroupLookup::ByName, "no uuid, no stix id");
        let indicates: Vec<_> = mapped
            .batch
            .links
            .iter()
            .filter(|l| l.relationship == RelationshipType::Indicates)
            .map(|l| l.target)
            .collect();
        assert_eq!(indicates, [Endpoint::Group(3), Endpoint::Group(1), Endpoint::Group(2)]);
        assert_eq!(
            mapped.batch.indicators[0].tags,
            [
                "misp-galaxy:threat-actor=\"Sofacy\"",
                "misp-galaxy:mitre-malware=\"XAgentOSX - S0161\"",
                "misp-galaxy:mitre-attack-pattern=\"Spearphishing - T1193\"",
                "osint:source-type=\"blog-post\"",
                "misp-galaxy:threat-actor=\"APT 29\"",
            ]
        );
    }

    #[test]
    fn objects_lend_file_names_and_ports_and_resolve_domains() {
        let text = r#"{"Event": {"uuid": "u", "timestamp": 1, "Object": [
            {"name": "file", "Attribute": [
                {"type": "filename", "object_relation": "filename", "value": "Bulletin.doc"},
                {"type": "sha1", "object_relation": "sha1", "value": "68064fc152e23d56e541714af52651cb4ba81aaf"}]},
            {"name": "ip-port", "Attribute": [
                {"type": "ip-dst", "object_relation": "ip", "value": "192.0.2.9"},
                {"type": "port", "object_relation": "dst-port", "value": "443"}]},
            {"name": "domain-ip", "distribution": "0", "Attribute": [
                {"type": "domain", "object_relation": "domain", "value": "evil.example"},
                {"type": "ip-dst", "object_relation": "ip", "value": "192.0.2.10", "distribution": "5"}]}]}}"#;
        let mapped = map(text, &MispOptions::default());
        let indicators = &mapped.batch.indicators;
        assert_eq!(indicators[0].attributes["filename"], "Bulletin.doc");
        assert_eq!(indicators[1].attributes["port"], "443");
        assert_eq!(indicators[3].tlp, Some(Tlp::AmberStrict), "inherits the object's distribution");
        assert!(mapped.batch.links.iter().any(|l| l.relationship == RelationshipType::ResolvesTo
            && l.source == Endpoint::Indicator(2)
            && l.target == Endpoint::Indicator(3)));
        assert_eq!(mapped.skipped, BTreeMap::from([("filename".into(), 1), ("port".into(), 1)]));
    }

    #[test]
    fn the_same_value_twice_merges() {
        let mapped = map(
            &event(
                r#"{"type": "ip-dst", "value": "192.0.2.1", "to_ids": false, "timestamp": 100},
                   {"type": "ip-src", "value": "192.0.2.1", "to_ids": true, "timestamp": 200, "Tag": [{"name": "tlp:red"}]}"#,
                "",
            ),
            &MispOptions { confidence: 60, ..Default::default() },
        );
        assert_eq!(mapped.batch.indicators.len(), 1);
        let indicator = &mapped.batch.indicators[0];
        assert_eq!((indicator.tlp, indicator.confidence), (Some(Tlp::Red), Some(60)));
        assert_eq!(indicator.first_seen.unwrap().timestamp(), 100);
        assert_eq!(indicator.last_seen.unwrap().timestamp(), 200);
    }
}
