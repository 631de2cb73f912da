-- tipline core schema (SQLite). Timestamps are microseconds since the Unix epoch (UTC),
-- identifiers UUIDv7 text, flags 0/1 integers: the same representation as on PostgreSQL.

CREATE TABLE organizations (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('host', 'partner', 'source')),
    sector      TEXT,
    country     TEXT,
    description TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX organizations_name ON organizations (lower(name));
CREATE UNIQUE INDEX organizations_one_host ON organizations (kind) WHERE kind = 'host';

CREATE TABLE org_contacts (
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    role   TEXT NOT NULL CHECK (role IN ('security', 'abuse', 'noc')),
    email  TEXT NOT NULL,
    PRIMARY KEY (org_id, role, email)
);

CREATE TABLE org_constituency (
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    kind   TEXT NOT NULL CHECK (kind IN ('cidr', 'asn', 'domain')),
    value  TEXT NOT NULL,
    PRIMARY KEY (org_id, kind, value)
);

CREATE TABLE source_subscriptions (
    org_id    TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    source_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    PRIMARY KEY (org_id, source_id)
);
CREATE INDEX source_subscriptions_source ON source_subscriptions (source_id, org_id);

CREATE TABLE communities (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT,
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX communities_name ON communities (lower(name));

CREATE TABLE community_members (
    community_id TEXT NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
    org_id       TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    joined_at    BIGINT NOT NULL,
    PRIMARY KEY (community_id, org_id)
);
CREATE INDEX community_members_org ON community_members (org_id, community_id);

CREATE TABLE users (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email      TEXT NOT NULL,
    name       TEXT,
    role       TEXT NOT NULL CHECK (role IN ('admin', 'analyst', 'viewer')),
    disabled   BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (email);
CREATE INDEX users_org ON users (org_id);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    hash         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    expires_at   BIGINT,
    revoked_at   BIGINT
);
CREATE UNIQUE INDEX api_tokens_prefix ON api_tokens (prefix);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE indicators (
    id                TEXT PRIMARY KEY,
    owner_id          TEXT NOT NULL REFERENCES organizations (id),
    kind              TEXT NOT NULL,
    value             TEXT NOT NULL,
    tlp               TEXT NOT NULL CHECK (tlp IN ('clear', 'green', 'amber', 'amber+strict', 'red')),
    confidence        BIGINT NOT NULL,
    threat_rating     BIGINT NOT NULL,
    status            TEXT NOT NULL,
    description       TEXT,
    first_seen        BIGINT NOT NULL,
    last_seen         BIGINT NOT NULL,
    observation_count BIGINT NOT NULL DEFAULT 0,
    fp_votes          BIGINT NOT NULL DEFAULT 0,
    stix_id           TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE UNIQUE INDEX indicators_owner_value ON indicators (owner_id, kind, value);
CREATE INDEX indicators_value ON indicators (value, kind);
CREATE INDEX indicators_updated ON indicators (updated_at, id);
CREATE INDEX indicators_stix ON indicators (stix_id) WHERE stix_id IS NOT NULL;

CREATE TABLE intel_groups (
    id              TEXT PRIMARY KEY,
    owner_id        TEXT NOT NULL REFERENCES organizations (id),
    kind            TEXT NOT NULL,
    name            TEXT NOT NULL,
    description     TEXT,
    tlp             TEXT NOT NULL CHECK (tlp IN ('clear', 'green', 'amber', 'amber+strict', 'red')),
    aliases         TEXT NOT NULL DEFAULT '[]',
    adversary_kind  TEXT,
    country         TEXT,
    motivations     TEXT NOT NULL DEFAULT '[]',
    cve             TEXT,
    vendor          TEXT,
    product         TEXT,
    known_exploited BIGINT NOT NULL DEFAULT 0,
    first_seen      BIGINT,
    last_seen       BIGINT,
    stix_id         TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX intel_groups_owner_name ON intel_groups (owner_id, kind, lower(name));
CREATE INDEX intel_groups_updated ON intel_groups (updated_at, id);
CREATE INDEX intel_groups_stix ON intel_groups (stix_id) WHERE stix_id IS NOT NULL;

CREATE TABLE associations (
    id           TEXT PRIMARY KEY,
    owner_id     TEXT NOT NULL REFERENCES organizations (id),
    source_id    TEXT NOT NULL,
    source_type  TEXT NOT NULL CHECK (source_type IN ('indicator', 'group')),
    relationship TEXT NOT NULL,
    target_id    TEXT NOT NULL,
    target_type  TEXT NOT NULL CHECK (target_type IN ('indicator', 'group')),
    tlp          TEXT NOT NULL CHECK (tlp IN ('clear', 'green', 'amber', 'amber+strict', 'red')),
    confidence   BIGINT NOT NULL,
    description  TEXT,
    stix_id      TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX associations_edge ON associations (owner_id, source_id, relationship, target_id);
CREATE INDEX associations_source ON associations (source_id);
CREATE INDEX associations_target ON associations (target_id);

CREATE TABLE sightings (
    id           TEXT PRIMARY KEY,
    indicator_id TEXT NOT NULL REFERENCES indicators (id) ON DELETE CASCADE,
    owner_id     TEXT NOT NULL REFERENCES organizations (id),
    tlp          TEXT NOT NULL CHECK (tlp IN ('clear', 'green', 'amber', 'amber+strict', 'red')),
    seen_at      BIGINT NOT NULL,
    count        BIGINT NOT NULL,
    source       TEXT,
    note         TEXT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX sightings_indicator ON sightings (indicator_id, seen_at);
CREATE INDEX sightings_created ON sightings (created_at, id);

-- Tags, attributes, community shares and explicit grants of any intelligence object
-- (indicator, group, association, sighting): object ids are UUIDs, unique across tables.
CREATE TABLE object_tags (
    object_id TEXT NOT NULL,
    tag       TEXT NOT NULL,
    PRIMARY KEY (object_id, tag)
);
CREATE INDEX object_tags_tag ON object_tags (tag, object_id);

CREATE TABLE object_attributes (
    object_id TEXT NOT NULL,
    key       TEXT NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (object_id, key)
);

CREATE TABLE object_shares (
    object_id    TEXT NOT NULL,
    community_id TEXT NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
    PRIMARY KEY (object_id, community_id)
);
CREATE INDEX object_shares_community ON object_shares (community_id, object_id);

CREATE TABLE object_grants (
    object_id  TEXT NOT NULL,
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (object_id, org_id)
);
CREATE INDEX object_grants_org ON object_grants (org_id, object_id);

CREATE TABLE audit_log (
    id            TEXT PRIMARY KEY,
    at            BIGINT NOT NULL,
    actor_user_id TEXT,
    actor_org_id  TEXT,
    action        TEXT NOT NULL,
    object_type   TEXT NOT NULL,
    object_id     TEXT,
    detail        TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at);

-- Transactional outbox: written in the same transaction as the change it reports;
-- playbook workers claim events from here.
CREATE TABLE events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL,
    object_id  TEXT,
    org_id     TEXT,
    payload    TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
