-- Notifications (email, webhook), the per-organization rules that decide them, and the
-- ticket counter. A digest is itself a notification (template `digest`); the items it
-- carries point to it through `digest_id`.

CREATE TABLE notification_rules (
    id                   TEXT PRIMARY KEY,
    org_id               TEXT REFERENCES organizations (id) ON DELETE CASCADE,
    classification       TEXT,
    min_severity         TEXT CHECK (min_severity IN ('info', 'low', 'medium', 'high', 'critical')),
    min_tlp              TEXT CHECK (min_tlp IN ('clear', 'green', 'amber', 'amber+strict', 'red')),
    suppress             BIGINT NOT NULL DEFAULT 0,
    contact_roles        TEXT NOT NULL DEFAULT '["security"]',
    repeat_interval_secs BIGINT,
    digest               TEXT NOT NULL DEFAULT 'none' CHECK (digest IN ('none', 'hourly', 'daily', 'weekly')),
    locked               BIGINT NOT NULL DEFAULT 0,
    note                 TEXT,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE INDEX notification_rules_org ON notification_rules (org_id);

-- Host defaults every installation starts with: repeat at most every 30 days, and every
-- 7 days for infected or compromised systems (they may be cleaned and re-infected).
INSERT INTO notification_rules (id, org_id, classification, contact_roles, repeat_interval_secs, note, created_at, updated_at) VALUES
    ('00000000-0000-7000-8000-000000000001', NULL, NULL, '["security"]', 2592000, 'host default: the same subject at most every 30 days', 0, 0),
    ('00000000-0000-7000-8000-000000000002', NULL, 'infected-system', '["security"]', 604800, 'host default: infected systems at most every 7 days', 0, 0),
    ('00000000-0000-7000-8000-000000000003', NULL, 'system-compromise', '["security"]', 604800, 'host default: compromised systems at most every 7 days', 0, 0);

CREATE TABLE notification_tickets (
    year BIGINT PRIMARY KEY,
    last BIGINT NOT NULL
);

CREATE TABLE notifications (
    id              TEXT PRIMARY KEY,
    ticket          TEXT NOT NULL,
    org_id          TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
    template        TEXT NOT NULL,
    classification  TEXT NOT NULL,
    severity        TEXT NOT NULL,
    tlp             TEXT NOT NULL CHECK (tlp IN ('clear', 'green', 'amber', 'amber+strict', 'red')),
    subject_ref     TEXT NOT NULL,
    reason          TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    recipients      TEXT NOT NULL DEFAULT '[]',
    subject         TEXT NOT NULL,
    body_text       TEXT NOT NULL,
    body_html       TEXT,
    raw_message     TEXT,
    context         TEXT NOT NULL DEFAULT '{}',
    status          TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed', 'suppressed', 'pending_digest', 'digested', 'outbox')),
    status_reason   TEXT,
    rule_id         TEXT,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT,
    lease_owner     TEXT,
    lease_until     BIGINT,
    last_error      TEXT,
    sent_at         BIGINT,
    digest_id       TEXT,
    digest_due_at   BIGINT,
    outbox_path     TEXT,
    acknowledged_at BIGINT,
    acknowledged_by TEXT,
    ack_note        TEXT,
    created_by_org  TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX notifications_idempotency ON notifications (idempotency_key);
CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
CREATE INDEX notifications_digest_due ON notifications (status, digest_due_at);
CREATE INDEX notifications_subject ON notifications (org_id, channel, classification, subject_ref, created_at);
CREATE INDEX notifications_org ON notifications (org_id, updated_at, id);
CREATE INDEX notifications_updated ON notifications (updated_at, id);
