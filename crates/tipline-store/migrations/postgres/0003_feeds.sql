-- Feeds, their pulls, the listings they record, and versions of imported documents
-- (PostgreSQL). Same representation as 0001: microsecond timestamps, UUIDv7 text ids.

-- A source organization's list, pulled on a schedule. Definition columns first, then the
-- pull state the scheduler keeps. A removed feed keeps its row (its listings refer to it)
-- with removed_at set; its name is free again.
CREATE TABLE feeds (
    id                   TEXT PRIMARY KEY,
    name                 TEXT NOT NULL,
    source_id            TEXT NOT NULL REFERENCES organizations (id),
    format               TEXT NOT NULL,
    url                  TEXT,
    path                 TEXT,
    interval_secs        BIGINT NOT NULL,
    tlp                  TEXT NOT NULL CHECK (tlp IN ('clear', 'green', 'amber', 'amber+strict', 'red')),
    confidence           BIGINT NOT NULL,
    tags                 TEXT NOT NULL DEFAULT '[]',
    lenient              BIGINT NOT NULL DEFAULT 0,
    allow_empty          BIGINT NOT NULL DEFAULT 0,
    csv                  TEXT,
    enabled              BIGINT NOT NULL DEFAULT 1,
    origin               TEXT NOT NULL CHECK (origin IN ('config', 'api')),
    -- HTTP validators of the last content applied (file feeds: size and mtime).
    etag                 TEXT,
    last_modified        TEXT,
    next_pull_at         BIGINT NOT NULL,
    -- A node claims a pull by setting the lease; another node may take it once it expires.
    lease_owner          TEXT,
    lease_until          BIGINT NOT NULL DEFAULT 0,
    last_pull_at         BIGINT,
    last_pull_status     TEXT,
    last_success_at      BIGINT,
    -- When the list was last confirmed (applied or not modified): the last_listed of
    -- every open listing of the feed.
    confirmed_at         BIGINT,
    last_error           TEXT,
    last_error_at        BIGINT,
    consecutive_failures BIGINT NOT NULL DEFAULT 0,
    last_counts          TEXT NOT NULL DEFAULT '{}',
    removed_at           BIGINT,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE UNIQUE INDEX feeds_name ON feeds (lower(name)) WHERE removed_at IS NULL;
CREATE INDEX feeds_due ON feeds (next_pull_at) WHERE removed_at IS NULL;

-- Every pull's outcome, newest last.
CREATE TABLE feed_pulls (
    id          TEXT PRIMARY KEY,
    feed_id     TEXT NOT NULL REFERENCES feeds (id),
    node        TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('ok', 'not_modified', 'failed')),
    error       TEXT,
    counts      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX feed_pulls_feed ON feed_pulls (feed_id, finished_at);

-- Listing periods: a value on a feed's list from first_listed until delisted_at (open
-- while NULL). Relisting opens a new row, so the history stays. Owned by the feed's source
-- and marked with the feed's TLP, so the visibility rule applies as to any intelligence.
-- net_lo/net_hi are the first and last address of an address or network as 32 hex digits
-- of its IPv6 form (IPv4 as ::ffff:a.b.c.d), so "listings inside this network" is a text
-- range comparison on both backends.
CREATE TABLE listings (
    id            TEXT PRIMARY KEY,
    feed_id       TEXT NOT NULL REFERENCES feeds (id),
    owner_id      TEXT NOT NULL REFERENCES organizations (id),
    tlp           TEXT NOT NULL CHECK (tlp IN ('clear', 'green', 'amber', 'amber+strict', 'red')),
    kind          TEXT NOT NULL,
    value         TEXT NOT NULL,
    net_lo        TEXT,
    net_hi        TEXT,
    reference     TEXT,
    comment       TEXT,
    indicator_id  TEXT,
    first_listed  BIGINT NOT NULL,
    -- Set when delisted (the last pull that still listed it); open listings use the
    -- feed's confirmed_at.
    last_listed   BIGINT NOT NULL,
    delisted_at   BIGINT,
    delist_reason TEXT CHECK (delist_reason IN ('dropped', 'feed_removed')),
    updated_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX listings_open ON listings (feed_id, kind, value) WHERE delisted_at IS NULL;
CREATE INDEX listings_range ON listings (net_lo, net_hi) WHERE net_lo IS NOT NULL;
CREATE INDEX listings_value ON listings (value, kind);
CREATE INDEX listings_feed ON listings (feed_id, updated_at, id);
-- Whether an indicator is still listed anywhere (before it expires on a delisting).
CREATE INDEX listings_indicator ON listings (indicator_id) WHERE delisted_at IS NULL;
CREATE INDEX listings_updated ON listings (updated_at, id);

-- Which version of each source document was imported, per scope (`feed:<id>` for a
-- feed, `owner:<org id>` for one-off imports): MISP event uuid → event timestamp.
CREATE TABLE import_versions (
    scope       TEXT NOT NULL,
    key         TEXT NOT NULL,
    version     BIGINT NOT NULL,
    label       TEXT,
    imported_at BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
);
