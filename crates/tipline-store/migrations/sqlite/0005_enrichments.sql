-- Enrichment cache: the last answer of each provider for each subject (an IP address or a
-- domain), shared by every organization. `normalized` is the provider's result in tipline's
-- shape (JSON), `raw` the upstream response as received (JSON text), so a later version can
-- re-normalize without calling the provider again. Rows past `expires_at` are stale: they are
-- refreshed on the next lookup and purged by `purge_expired_enrichments`.
CREATE TABLE enrichments (
    provider   TEXT NOT NULL,
    subject    TEXT NOT NULL,
    fetched_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    normalized TEXT NOT NULL,
    raw        TEXT NOT NULL,
    PRIMARY KEY (provider, subject)
);
CREATE INDEX enrichments_subject ON enrichments (subject);
CREATE INDEX enrichments_expires ON enrichments (expires_at);
