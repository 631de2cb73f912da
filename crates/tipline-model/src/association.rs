//! Associations: typed, directed relationships between intelligence objects.

crate::string_enum! {
    /// The STIX 2.1 relationship types tipline understands.
    pub enum RelationshipType as "relationship type" {
        /// Source is attributed to target (campaign → adversary).
        AttributedTo = "attributed-to",
        /// Source communicates with target (malware → infrastructure).
        CommunicatesWith = "communicates-with",
        /// Source is a variant of target.
        VariantOf = "variant-of",
        /// Source exploits target (malware → vulnerability).
        Exploits = "exploits",
        /// Source indicates target (indicator → malware/adversary/campaign).
        Indicates = "indicates",
        /// Source is located at target.
        LocatedAt = "located-at",
        /// Generic relation.
        RelatedTo = "related-to",
        /// Source resolves to target (domain → IP).
        ResolvesTo = "resolves-to",
        /// Source targets target (adversary → victim).
        Targets = "targets",
        /// Source uses target (adversary → malware/tool/infrastructure).
        Uses = "uses",
        /// Source is controlled by / hosted on target.
        ControlledBy = "controlled-by",
        /// Source is a duplicate of target.
        DuplicateOf = "duplicate-of",
        /// Source was derived from target.
        DerivedFrom = "derived-from",
        /// Source is hosted on target.
        Hosts = "hosts",
        /// Source delivers target.
        Delivers = "delivers",
        /// Source drops target.
        Drops = "drops",
        /// Source downloads target.
        Downloads = "downloads",
        /// Source has been revoked by target.
        RevokedBy = "revoked-by",
    }
}
