-- MISP warninglists: known-benign lists (public DNS resolvers, cloud ranges, top sites...).
-- They are public reference data, not intelligence: no owner, no TLP. Entries are kept as
-- one JSON array (normalized as tipline_formats::warninglist makes them) and replaced whole.
CREATE TABLE warninglists (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    description         TEXT NOT NULL,
    version             BIGINT NOT NULL,
    list_type           TEXT NOT NULL CHECK (list_type IN ('cidr', 'hostname', 'string', 'substring', 'regex')),
    matching_attributes TEXT NOT NULL DEFAULT '[]',
    entries             TEXT NOT NULL DEFAULT '[]',
    entry_count         BIGINT NOT NULL,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE UNIQUE INDEX warninglists_name ON warninglists (name);

-- The index feed pages active indicators by id.
CREATE INDEX indicators_status_id ON indicators (status, id);
