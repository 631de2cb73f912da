//! Notifications and notification rules: enqueueing with idempotency, rules, throttling and
//! digests applied in one transaction; the delivery queue (claims with leases); listing and
//! acknowledgement.
//!
//! Who may do what:
//! - enqueue: writers of the host organization, for any organization; writers of another
//!   organization, only to their own;
//! - read and acknowledge: the host organization sees every notification, others only
//!   those sent to them; any user of the recipient organization may acknowledge;
//! - rules: host administrators write any rule; a partner's administrators write their own
//!   organization's rules, never `locked` ones, never locked themselves, and with a repeat
//!   interval of at least [`PARTNER_MIN_REPEAT_SECS`]; everyone reads their own rules and
//!   the host defaults;
//! - the delivery queue (claim, finish, digests): host principals only (the worker).

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};
use tipline_model::notify::{
    Channel, Classification, DigestInterval, Notification, NotificationRule, NotificationRuleInput,
    NotificationStatus, PARTNER_MIN_REPEAT_SECS, RuleDecision, RuleFacts, Severity,
};
use tipline_model::{ContactRole, OrgKind, Role, Tlp};
use uuid::Uuid;

use crate::events::EventWrite;
use crate::indicators::{ListFilters, next_cursor, page_limit};
use crate::rows::{json_list, parse, to_json_list, uuid};
use crate::sql::Sql;
use crate::{
    Backend, Page, StoreError, StoreResult, Viewer, WriteTx, audit, from_micros, micros, new_id,
};

/// A notification to enqueue.
#[derive(Debug, Clone)]
pub struct NewNotification {
    /// The recipient organization.
    pub org_id: Uuid,
    /// `email` or `webhook`.
    pub channel: Channel,
    /// Template name (letters, digits, `-`, `_`, `.`).
    pub template: String,
    /// Classification of what is reported.
    pub classification: Classification,
    /// Severity.
    pub severity: Severity,
    /// TLP of the content.
    pub tlp: Tlp,
    /// What it is about: a case id, an address, a listing (1–500 bytes). The repeat
    /// interval of the rules counts per (organization, channel, classification, subject).
    pub subject_ref: String,
    /// Why: `case.new`, `listing.added`... (1–200 bytes).
    pub reason: String,
    /// The key that makes a second request a no-op; default
    /// `<channel>:<org id>:<reason>:<subject_ref>`.
    pub idempotency_key: Option<String>,
    /// A ticket reference to reuse (e.g. the case's); a new one is allocated when absent.
    pub ticket: Option<String>,
    /// Contact roles to email instead of those the rules name (the rules still decide
    /// suppression, repeats and digests).
    pub contact_roles: Option<Vec<ContactRole>>,
    /// The URL to POST to (webhook channel only).
    pub webhook_url: Option<String>,
    /// Template variables, kept for digests and audit.
    pub context: serde_json::Value,
}

impl NewNotification {
    /// The idempotency key this request uses.
    pub fn key(&self) -> String {
        self.idempotency_key.clone().unwrap_or_else(|| {
            format!("{}:{}:{}:{}", self.channel, self.org_id, self.reason, self.subject_ref)
        })
    }

    fn check(&self) -> StoreResult<()> {
        let mut errors = tipline_model::validate::Errors::default();
        errors.check_text("subject_ref", &self.subject_ref, 500, true);
        errors.check_text("reason", &self.reason, 200, true);
        if self.template.is_empty()
            || self.template.len() > 100
            || !self.template.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            || self.template.starts_with('.')
        {
            errors.add(
                "template",
                format!(
                    "`{}` is not a template name (letters, digits, `-`, `_`, `.`)",
                    self.template
                ),
            );
        }
        if let Some(key) = &self.idempotency_key {
            errors.check_text("idempotency_key", key, 500, true);
        }
        if let Some(ticket) = &self.ticket {
            errors.check_text("ticket", ticket, 100, true);
            if ticket.chars().any(|c| c.is_control()) {
                errors.add("ticket", "must not contain control characters");
            }
        }
        match (self.channel, &self.webhook_url) {
            (Channel::Webhook, None) => errors.add("webhook_url", "required for webhooks"),
            (Channel::Webhook, Some(url))
                if !(url.starts_with("https://") || url.starts_with("http://")) =>
            {
                errors.add("webhook_url", format!("`{url}` is not an http(s) URL"))
            }
            (Channel::Email, Some(_)) => errors.add("webhook_url", "only for webhooks"),
            _ => {}
        }
        errors.finish().map_err(StoreError::Invalid)
    }
}

/// What the store decided for a notification, handed to the renderer inside the enqueueing
/// transaction.
#[derive(Debug, Clone, Serialize)]
pub struct NotificationPlan {
    /// The new notification's id.
    pub id: Uuid,
    /// Its ticket reference.
    pub ticket: String,
    /// The recipient organization's id.
    pub org_id: Uuid,
    /// The recipient organization's name.
    pub org_name: String,
    /// Email addresses (the contacts of the decided roles) or the webhook URL.
    pub recipients: Vec<String>,
    /// The rule decision.
    pub decision: RuleDecision,
    /// The status it will have.
    pub status: NotificationStatus,
    /// Why, when suppressed.
    pub status_reason: Option<String>,
    /// When it is made.
    pub created_at: DateTime<Utc>,
}

impl NotificationPlan {
    /// Whether a deliverable message must be rendered (it will be sent, not suppressed or
    /// held for a digest).
    pub fn deliverable(&self) -> bool {
        self.status == NotificationStatus::Queued
    }
}

/// The rendered notification the renderer returns.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// Subject line (email) or a one-line summary (webhook).
    pub subject: String,
    /// Plain-text body (email) or the JSON payload (webhook).
    pub body_text: String,
    /// HTML body (email).
    pub body_html: Option<String>,
    /// The complete message to deliver, when deliverable: RFC 5322 bytes for email (kept as
    /// text: MIME encoding makes it 7-bit), the JSON body for webhooks.
    pub raw_message: Option<String>,
}

/// The result of enqueueing: the notification and whether this call created it (`false`:
/// the idempotency key was known, nothing new happened).
#[derive(Debug, Clone, Serialize)]
pub struct Enqueued {
    /// The notification (new, or the one recorded for this key before).
    pub notification: Notification,
    /// Whether it was created now.
    pub created: bool,
}

/// A notification claimed for delivery by one worker until `lease_until`.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The notification.
    pub notification: Notification,
    /// The message to deliver (see [`Rendered::raw_message`]).
    pub raw_message: String,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// Accepted by the server or endpoint; `detail` is its reply.
    Sent {
        /// The server's reply, e.g. `250 2.0.0 queued as 123`.
        detail: Option<String>,
    },
    /// A transient failure: try again at `at`.
    Retry {
        /// What went wrong (the SMTP reply or HTTP status).
        error: String,
        /// When to try again.
        at: DateTime<Utc>,
    },
    /// A permanent failure (or the last attempt failed): give up.
    Failed {
        /// What went wrong.
        error: String,
    },
    /// No transport configured: written to an outbox file.
    Outbox {
        /// The file.
        path: String,
    },
}

/// Notifications held for one digest: same organization, channel and recipients, due at the
/// same time.
#[derive(Debug, Clone)]
pub struct DigestGroup {
    /// Recipient organization.
    pub org_id: Uuid,
    /// Channel.
    pub channel: Channel,
    /// Recipients (addresses or URL).
    pub recipients: Vec<String>,
    /// When the digest is due.
    pub due_at: DateTime<Utc>,
    /// The notifications it carries, oldest first, with their template variables.
    pub items: Vec<(Notification, serde_json::Value)>,
}

/// Filters of [`Viewer::list_notifications`].
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// Only notifications to this organization.
    pub org_id: Option<Uuid>,
    /// Only this status (`queued`, `sent`, `failed`, `suppressed`, `pending_digest`,
    /// `digested`, `outbox`).
    #[param(value_type = Option<String>)]
    pub status: Option<NotificationStatus>,
    /// Only this channel.
    #[param(value_type = Option<String>)]
    pub channel: Option<Channel>,
    /// Only this classification.
    #[param(value_type = Option<String>)]
    pub classification: Option<Classification>,
    /// Only this ticket.
    pub ticket: Option<String>,
    /// Only about this subject.
    pub subject_ref: Option<String>,
    /// Only acknowledged (`true`) or unacknowledged (`false`) ones.
    pub acknowledged: Option<bool>,
    /// Only those changed at or after this time.
    pub updated_since: Option<DateTime<Utc>>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–1000 (default 100).
    pub limit: Option<u32>,
}

const NOTIFICATION_COLUMNS: &str = "n.id, n.ticket, n.org_id, n.channel, n.template, \
    n.classification, n.severity, n.tlp, n.subject_ref, n.reason, n.idempotency_key, \
    n.recipients, n.subject, n.body_text, n.body_html, n.status, n.status_reason, n.rule_id, \
    n.attempts, n.next_attempt_at, n.last_error, n.sent_at, n.digest_id, n.digest_due_at, \
    n.outbox_path, n.acknowledged_at, n.acknowledged_by, n.ack_note, n.created_by_org, \
    n.created_at, n.updated_at";

#[derive(FromRow)]
struct NotificationRow {
    id: String,
    ticket: String,
    org_id: String,
    channel: String,
    template: String,
    classification: String,
    severity: String,
    tlp: String,
    subject_ref: String,
    reason: String,
    idempotency_key: String,
    recipients: String,
    subject: String,
    body_text: String,
    body_html: Option<String>,
    status: String,
    status_reason: Option<String>,
    rule_id: Option<String>,
    attempts: i64,
    next_attempt_at: Option<i64>,
    last_error: Option<String>,
    sent_at: Option<i64>,
    digest_id: Option<String>,
    digest_due_at: Option<i64>,
    outbox_path: Option<String>,
    acknowledged_at: Option<i64>,
    acknowledged_by: Option<String>,
    ack_note: Option<String>,
    created_by_org: String,
    created_at: i64,
    updated_at: i64,
}

impl NotificationRow {
    fn into_model(self) -> StoreResult<Notification> {
        let opt_uuid = |s: Option<String>| s.as_deref().map(uuid).transpose();
        Ok(Notification {
            id: uuid(&self.id)?,
            ticket: self.ticket,
            org_id: uuid(&self.org_id)?,
            channel: parse(&self.channel)?,
            template: self.template,
            classification: parse(&self.classification)?,
            severity: parse(&self.severity)?,
            tlp: parse(&self.tlp)?,
            subject_ref: self.subject_ref,
            reason: self.reason,
            idempotency_key: self.idempotency_key,
            recipients: json_list(&self.recipients)?,
            subject: self.subject,
            body_text: self.body_text,
            body_html: self.body_html,
            status: parse(&self.status)?,
            status_reason: self.status_reason,
            rule_id: opt_uuid(self.rule_id)?,
            attempts: self.attempts,
            next_attempt_at: self.next_attempt_at.map(from_micros),
            last_error: self.last_error,
            sent_at: self.sent_at.map(from_micros),
            digest_id: opt_uuid(self.digest_id)?,
            digest_due_at: self.digest_due_at.map(from_micros),
            outbox_path: self.outbox_path,
            acknowledged_at: self.acknowledged_at.map(from_micros),
            acknowledged_by: opt_uuid(self.acknowledged_by)?,
            ack_note: self.ack_note,
            created_by_org: uuid(&self.created_by_org)?,
            created_at: from_micros(self.created_at),
            updated_at: from_micros(self.updated_at),
        })
    }
}

const RULE_COLUMNS: &str = "r.id, r.org_id, r.classification, r.min_severity, r.min_tlp, \
    r.suppress, r.contact_roles, r.repeat_interval_secs, r.digest, r.locked, r.note, \
    r.created_at, r.updated_at";

#[derive(FromRow)]
struct RuleRow {
    id: String,
    org_id: Option<String>,
    classification: Option<String>,
    min_severity: Option<String>,
    min_tlp: Option<String>,
    suppress: i64,
    contact_roles: String,
    repeat_interval_secs: Option<i64>,
    digest: String,
    locked: i64,
    note: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl RuleRow {
    fn into_model(self) -> StoreResult<NotificationRule> {
        Ok(NotificationRule {
            id: uuid(&self.id)?,
            org_id: self.org_id.as_deref().map(uuid).transpose()?,
            classification: self.classification.as_deref().map(parse).transpose()?,
            min_severity: self.min_severity.as_deref().map(parse).transpose()?,
            min_tlp: self.min_tlp.as_deref().map(parse).transpose()?,
            suppress: self.suppress != 0,
            contact_roles: json_list(&self.contact_roles)?
                .iter()
                .map(|r| parse(r))
                .collect::<StoreResult<_>>()?,
            repeat_interval_secs: self.repeat_interval_secs.map(|s| s.max(0) as u64),
            digest: parse(&self.digest)?,
            locked: self.locked != 0,
            note: self.note,
            created_at: from_micros(self.created_at),
            updated_at: from_micros(self.updated_at),
        })
    }
}

/// `7 days`, `1 hour`, `90 seconds`: a repeat interval for messages.
pub fn human_duration(secs: u64) -> String {
    let unit = |n: u64, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    match secs {
        s if s > 0 && s % 86_400 == 0 => unit(s / 86_400, "day"),
        s if s > 0 && s % 3600 == 0 => unit(s / 3600, "hour"),
        s if s > 0 && s % 60 == 0 => unit(s / 60, "minute"),
        s => unit(s, "second"),
    }
}

async fn load_rules(
    conn: &mut AnyConnection,
    org: Option<Uuid>,
) -> StoreResult<Vec<NotificationRule>> {
    let mut sql = Sql::new("SELECT ");
    sql.push(RULE_COLUMNS).push(" FROM notification_rules r WHERE r.org_id IS NULL");
    if let Some(org) = org {
        sql.push(" OR r.org_id = ").bind(org.to_string());
    }
    sql.push(" ORDER BY r.id");
    let rows: Vec<RuleRow> = sql.fetch_all(conn).await?;
    rows.into_iter().map(RuleRow::into_model).collect()
}

async fn notification_by(
    conn: &mut AnyConnection,
    column: &str,
    value: String,
) -> StoreResult<Option<Notification>> {
    let mut sql = Sql::new("SELECT ");
    sql.push(NOTIFICATION_COLUMNS)
        .push(&format!(" FROM notifications n WHERE n.{column} = "))
        .bind(value);
    let row: Option<NotificationRow> = sql.fetch_optional(conn).await?;
    row.map(NotificationRow::into_model).transpose()
}

/// The next ticket number of `year`, `<prefix>-<year>-<6 digits>`. The UPDATE locks the
/// year's row until commit on PostgreSQL; SQLite writers are serialized anyway.
async fn allocate_ticket(
    conn: &mut AnyConnection,
    prefix: &str,
    at: DateTime<Utc>,
) -> StoreResult<String> {
    use chrono::Datelike;
    let year = i64::from(at.year());
    let mut sql = Sql::new("INSERT INTO notification_tickets (year, last) VALUES (");
    sql.bind(year).push(", 0) ON CONFLICT (year) DO NOTHING");
    sql.execute(&mut *conn).await?;
    let mut sql = Sql::new("UPDATE notification_tickets SET last = last + 1 WHERE year = ");
    sql.bind(year);
    sql.execute(&mut *conn).await?;
    let mut sql = Sql::new("SELECT last FROM notification_tickets WHERE year = ");
    sql.bind(year);
    let (last,): (i64,) = sql
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::Corrupt("ticket counter vanished".into()))?;
    Ok(format!("{prefix}-{year}-{last:06}"))
}

struct Insert<'a> {
    id: Uuid,
    ticket: &'a str,
    input: &'a NewNotification,
    plan: &'a NotificationPlan,
    rendered: &'a Rendered,
    digest_due_at: Option<DateTime<Utc>>,
    created_by_org: Uuid,
}

async fn insert_notification(conn: &mut AnyConnection, row: Insert<'_>) -> StoreResult<()> {
    let at = micros(row.plan.created_at);
    let next_attempt = (row.plan.status == NotificationStatus::Queued).then_some(at);
    let mut sql = Sql::new(
        "INSERT INTO notifications (id, ticket, org_id, channel, template, classification, \
         severity, tlp, subject_ref, reason, idempotency_key, recipients, subject, body_text, \
         body_html, raw_message, context, status, status_reason, rule_id, next_attempt_at, \
         digest_due_at, created_by_org, created_at, updated_at) VALUES (",
    );
    let input = row.input;
    sql.bind(row.id.to_string())
        .push(", ")
        .bind(row.ticket.to_string())
        .push(", ")
        .bind(input.org_id.to_string())
        .push(", ")
        .bind(input.channel.as_str().to_string())
        .push(", ")
        .bind(input.template.clone())
        .push(", ")
        .bind(input.classification.as_str().to_string())
        .push(", ")
        .bind(input.severity.as_str().to_string())
        .push(", ")
        .bind(input.tlp.as_str().to_string())
        .push(", ")
        .bind(input.subject_ref.clone())
        .push(", ")
        .bind(input.reason.clone())
        .push(", ")
        .bind(input.key())
        .push(", ")
        .bind(to_json_list(&row.plan.recipients))
        .push(", ")
        .bind(row.rendered.subject.clone())
        .push(", ")
        .bind(row.rendered.body_text.clone())
        .push(", ")
        .bind(row.rendered.body_html.clone())
        .push(", ")
        .bind(row.rendered.raw_message.clone())
        .push(", ")
        .bind(input.context.to_string())
        .push(", ")
        .bind(row.plan.status.as_str().to_string())
        .push(", ")
        .bind(row.plan.status_reason.clone())
        .push(", ")
        .bind(row.plan.decision.rule_id.map(|u| u.to_string()))
        .push(", ")
        .bind(next_attempt)
        .push(", ")
        .bind(row.digest_due_at.map(micros))
        .push(", ")
        .bind(row.created_by_org.to_string())
        .push(", ")
        .bind(at)
        .push(", ")
        .bind(at)
        .push(")");
    sql.execute(conn).await?;
    Ok(())
}

fn event_payload(n: &Notification) -> serde_json::Value {
    serde_json::json!({
        "ticket": n.ticket,
        "org_id": n.org_id,
        "channel": n.channel,
        "status": n.status,
        "status_reason": n.status_reason,
        "classification": n.classification,
        "subject_ref": n.subject_ref,
        "reason": n.reason,
    })
}

impl Viewer<'_> {
    fn is_host(&self) -> bool {
        self.principal().org_kind == OrgKind::Host
    }

    fn require_host_worker(&self) -> StoreResult<()> {
        if self.is_host() && self.principal().can_write() {
            Ok(())
        } else {
            Err(StoreError::Forbidden(
                "only the host organization's writers run the notification queue".into(),
            ))
        }
    }

    /// Enqueue a notification, applying in one transaction: idempotency (a known key returns
    /// the notification recorded for it, `created: false`), the organization's rules
    /// (suppression, contact roles, repeat interval, digest), contact lookup and ticket
    /// allocation. `render` is called inside the transaction with what was decided and
    /// returns the subject and bodies; a suppressed or held notification is recorded too,
    /// with its reason, and the outbox event `notification.<status>` is written with it.
    pub async fn enqueue_notification<E, F>(
        &self,
        input: &NewNotification,
        ticket_prefix: &str,
        now: DateTime<Utc>,
        render: F,
    ) -> Result<Enqueued, E>
    where
        E: From<StoreError>,
        F: FnOnce(&NotificationPlan) -> Result<Rendered, E>,
    {
        self.require_write()?;
        if !self.is_host() && input.org_id != self.principal().org_id {
            return Err(StoreError::Forbidden(
                "only the host organization may notify other organizations".into(),
            )
            .into());
        }
        input.check()?;
        let key = input.key();
        let mut tx = self.store.write().await?;
        if let Some(existing) = notification_by(&mut tx.tx, "idempotency_key", key.clone()).await? {
            return Ok(Enqueued { notification: existing, created: false });
        }
        let (org_name, contacts) = org_and_contacts(&mut tx.tx, input.org_id).await?;
        let rules = load_rules(&mut tx.tx, Some(input.org_id)).await?;
        let facts = RuleFacts {
            classification: input.classification,
            severity: input.severity,
            tlp: input.tlp,
        };
        let decision = RuleDecision::decide(&rules, &facts);
        let roles = input.contact_roles.clone().unwrap_or_else(|| decision.contact_roles.clone());
        let recipients: Vec<String> = match input.channel {
            Channel::Email => {
                let mut emails: Vec<String> = contacts
                    .iter()
                    .filter(|(role, _)| roles.contains(role))
                    .map(|(_, email)| email.clone())
                    .collect();
                emails.sort();
                emails.dedup();
                emails
            }
            Channel::Webhook => input.webhook_url.iter().cloned().collect(),
        };
        let rule_name = |id: Option<Uuid>| match id {
            Some(id) => format!("rule {id}"),
            None => "the built-in default".to_string(),
        };
        let mut status = NotificationStatus::Queued;
        let mut status_reason = None;
        let mut digest_due_at = None;
        if decision.suppress {
            status = NotificationStatus::Suppressed;
            status_reason = Some(format!(
                "suppressed by {} for {} notifications to {org_name}",
                rule_name(decision.rule_id),
                input.classification
            ));
        } else if let Some(previous) =
            self.previous_on_subject(&mut tx.tx, input, &decision, now).await?
        {
            status = NotificationStatus::Suppressed;
            status_reason = Some(format!(
                "throttled: {} about `{}` was recorded at {} ({}); {} allows one every {}",
                previous.ticket,
                input.subject_ref,
                previous.created_at.format("%Y-%m-%d %H:%M:%SZ"),
                previous.status,
                rule_name(decision.rule_id),
                human_duration(decision.repeat_interval_secs.unwrap_or_default())
            ));
        } else if recipients.is_empty() {
            status = NotificationStatus::Suppressed;
            let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            status_reason =
                Some(format!("{org_name} has no contact with role {}", roles.join(" or ")));
        } else if let Some(due) = decision.digest.due_after(now) {
            status = NotificationStatus::PendingDigest;
            status_reason = Some(format!(
                "held for the {} digest due {}",
                decision.digest,
                due.format("%Y-%m-%d %H:%M:%SZ")
            ));
            digest_due_at = Some(due);
        }
        let id = new_id();
        let ticket = match &input.ticket {
            Some(ticket) => ticket.clone(),
            None => allocate_ticket(&mut tx.tx, ticket_prefix, now).await?,
        };
        let plan = NotificationPlan {
            id,
            ticket: ticket.clone(),
            org_id: input.org_id,
            org_name,
            recipients,
            decision,
            status,
            status_reason,
            created_at: now,
        };
        let rendered = render(&plan)?;
        let insert = Insert {
            id,
            ticket: &ticket,
            input,
            plan: &plan,
            rendered: &rendered,
            digest_due_at,
            created_by_org: self.principal().org_id,
        };
        match insert_notification(&mut tx.tx, insert).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => {
                // Another node enqueued the same key between our check and insert.
                drop(tx);
                let mut conn = self.store.pool().acquire().await.map_err(StoreError::from)?;
                let existing = notification_by(&mut conn, "idempotency_key", key).await?;
                return existing
                    .map(|notification| Enqueued { notification, created: false })
                    .ok_or_else(|| {
                        StoreError::Corrupt("idempotency conflict without a row".into()).into()
                    });
            }
            Err(e) => return Err(e.into()),
        }
        let notification = notification_by(&mut tx.tx, "id", id.to_string())
            .await?
            .ok_or_else(|| StoreError::Corrupt("inserted notification vanished".into()))?;
        self.finish_write(&mut tx, &notification, "notification.create", now).await?;
        tx.commit().await?;
        Ok(Enqueued { notification, created: true })
    }

    /// The most recent notification about the same subject within the decided repeat
    /// interval that reached (or is on its way to) the organization.
    async fn previous_on_subject(
        &self,
        conn: &mut AnyConnection,
        input: &NewNotification,
        decision: &RuleDecision,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Notification>> {
        let Some(interval) = decision.repeat_interval_secs.filter(|&s| s > 0) else {
            return Ok(None);
        };
        let since = now - Duration::seconds(interval.min(i64::MAX as u64) as i64);
        let mut sql = Sql::new("SELECT ");
        sql.push(NOTIFICATION_COLUMNS)
            .push(" FROM notifications n WHERE n.org_id = ")
            .bind(input.org_id.to_string())
            .push(" AND n.channel = ")
            .bind(input.channel.as_str().to_string())
            .push(" AND n.classification = ")
            .bind(input.classification.as_str().to_string())
            .push(" AND n.subject_ref = ")
            .bind(input.subject_ref.clone())
            .push(" AND n.created_at > ")
            .bind(micros(since))
            .push(
                " AND n.status NOT IN ('failed', 'suppressed') ORDER BY n.created_at DESC LIMIT 1",
            );
        let row: Option<NotificationRow> = sql.fetch_optional(conn).await?;
        row.map(NotificationRow::into_model).transpose()
    }

    /// The outbox event and audit entry of a change to `n`.
    async fn finish_write(
        &self,
        tx: &mut WriteTx<'_>,
        n: &Notification,
        action: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let kind: &'static str = match (action, n.status) {
            ("notification.acknowledge", _) => "notification.acknowledged",
            (_, NotificationStatus::Queued) => "notification.queued",
            (_, NotificationStatus::Sent) => "notification.sent",
            (_, NotificationStatus::Failed) => "notification.failed",
            (_, NotificationStatus::Suppressed) => "notification.suppressed",
            (_, NotificationStatus::PendingDigest) => "notification.pending_digest",
            (_, NotificationStatus::Digested) => "notification.digested",
            (_, NotificationStatus::Outbox) => "notification.outbox",
        };
        let mut events = EventWrite::default();
        events.add(kind, Some(n.id), Some(n.org_id), event_payload(n), micros(now));
        events.write(&mut tx.tx).await?;
        audit::record(
            &mut tx.tx,
            self.principal(),
            action,
            "notification",
            Some(n.id),
            serde_json::json!({ "ticket": n.ticket, "status": n.status }),
        )
        .await
    }

    /// One notification: the host sees any, others only those sent to them.
    pub async fn get_notification(&self, id: Uuid) -> StoreResult<Notification> {
        let mut conn = self.store.pool().acquire().await?;
        match notification_by(&mut conn, "id", id.to_string()).await? {
            Some(n) if self.is_host() || n.org_id == self.principal().org_id => Ok(n),
            _ => Err(StoreError::NotFound { what: "notification", id: id.to_string() }),
        }
    }

    /// Notifications matching every given filter, ordered by last change then id, one page
    /// at a time. The host sees every organization's; others only their own.
    pub async fn list_notifications(
        &self,
        query: &NotificationQuery,
    ) -> StoreResult<Page<Notification>> {
        let limit = page_limit(query.limit)?;
        let mut sql = Sql::new("SELECT ");
        sql.push(NOTIFICATION_COLUMNS).push(" FROM notifications n WHERE 1 = 1");
        if !self.is_host() {
            sql.push(" AND n.org_id = ").bind(self.org());
        }
        if let Some(org) = query.org_id {
            sql.push(" AND n.org_id = ").bind(org.to_string());
        }
        if let Some(status) = query.status {
            sql.push(" AND n.status = ").bind(status.as_str().to_string());
        }
        if let Some(channel) = query.channel {
            sql.push(" AND n.channel = ").bind(channel.as_str().to_string());
        }
        if let Some(classification) = query.classification {
            sql.push(" AND n.classification = ").bind(classification.as_str().to_string());
        }
        if let Some(ticket) = &query.ticket {
            sql.push(" AND n.ticket = ").bind(ticket.clone());
        }
        if let Some(subject) = &query.subject_ref {
            sql.push(" AND n.subject_ref = ").bind(subject.clone());
        }
        match query.acknowledged {
            Some(true) => sql.push(" AND n.acknowledged_at IS NOT NULL"),
            Some(false) => sql.push(" AND n.acknowledged_at IS NULL"),
            None => &mut sql,
        };
        let filters = ListFilters {
            tag: None,
            owner_id: None,
            tlp: None,
            updated_since: query.updated_since,
            cursor: query.cursor.as_deref(),
        };
        filters.push(&mut sql, "n")?;
        sql.push(" ORDER BY n.updated_at, n.id LIMIT ").bind(limit + 1);
        let mut conn = self.store.pool().acquire().await?;
        let mut rows: Vec<NotificationRow> = sql.fetch_all(&mut conn).await?;
        let next_cursor = next_cursor(&mut rows, limit, |r| (r.updated_at, &r.id));
        let items =
            rows.into_iter().map(NotificationRow::into_model).collect::<StoreResult<_>>()?;
        Ok(Page { items, next_cursor })
    }

    /// Record that the recipient organization has seen a notification (any user of that
    /// organization, or a host writer on its behalf). Acknowledging twice keeps the first
    /// acknowledgement. Writes the event `notification.acknowledged`.
    pub async fn acknowledge_notification(
        &self,
        id: Uuid,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<Notification> {
        let existing = self.get_notification(id).await?;
        if existing.org_id != self.principal().org_id
            && !(self.is_host() && self.principal().can_write())
        {
            return Err(StoreError::Forbidden(
                "only the recipient organization acknowledges a notification".into(),
            ));
        }
        if let Some(note) = note
            && note.len() > 2000
        {
            return Err(StoreError::invalid("note", "longer than 2000 bytes"));
        }
        if existing.acknowledged_at.is_some() {
            return Ok(existing);
        }
        let mut tx = self.store.write().await?;
        let mut sql = Sql::new("UPDATE notifications SET acknowledged_at = ");
        sql.bind(micros(now))
            .push(", acknowledged_by = ")
            .bind(self.principal().user_id.map(|u| u.to_string()))
            .push(", ack_note = ")
            .bind(note.map(str::to_string))
            .push(", updated_at = ")
            .bind(micros(now))
            .push(" WHERE id = ")
            .bind(id.to_string())
            .push(" AND acknowledged_at IS NULL");
        sql.execute(&mut tx.tx).await?;
        let n = notification_by(&mut tx.tx, "id", id.to_string())
            .await?
            .ok_or_else(|| StoreError::NotFound { what: "notification", id: id.to_string() })?;
        self.finish_write(&mut tx, &n, "notification.acknowledge", now).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Claim up to `limit` queued notifications that are due, for `worker` until
    /// `now + lease`. Each claim counts as an attempt. A worker that dies loses its lease
    /// and the notification is claimed again after it expires. PostgreSQL skips rows
    /// another worker is claiming (`FOR UPDATE SKIP LOCKED`); SQLite serializes writers.
    pub async fn claim_notifications(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease: std::time::Duration,
        limit: u32,
    ) -> StoreResult<Vec<Claimed>> {
        self.require_host_worker()?;
        let until = now + Duration::from_std(lease).unwrap_or(Duration::minutes(5));
        let mut tx = self.store.write().await?;
        let mut sql = Sql::new(
            "SELECT id FROM notifications WHERE status = 'queued' AND next_attempt_at <= ",
        );
        sql.bind(micros(now))
            .push(" AND (lease_until IS NULL OR lease_until <= ")
            .bind(micros(now))
            .push(") ORDER BY next_attempt_at, id LIMIT ")
            .bind(i64::from(limit));
        if self.store.backend() == Backend::Postgres {
            sql.push(" FOR UPDATE SKIP LOCKED");
        }
        let ids: Vec<(String,)> = sql.fetch_all(&mut tx.tx).await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = ids.into_iter().map(|(id,)| id).collect();
        let mut sql = Sql::new("UPDATE notifications SET lease_owner = ");
        sql.bind(worker.to_string())
            .push(", lease_until = ")
            .bind(micros(until))
            .push(", attempts = attempts + 1, updated_at = ")
            .bind(micros(now))
            .push(" WHERE id IN (")
            .bind_list(ids.iter().cloned())
            .push(")");
        sql.execute(&mut tx.tx).await?;
        let mut sql = Sql::new("SELECT ");
        sql.push(NOTIFICATION_COLUMNS)
            .push(", n.raw_message FROM notifications n WHERE n.id IN (")
            .bind_list(ids)
            .push(") ORDER BY n.next_attempt_at, n.id");
        #[derive(FromRow)]
        struct ClaimRow {
            #[sqlx(flatten)]
            row: NotificationRow,
            raw_message: Option<String>,
        }
        let rows: Vec<ClaimRow> = sql.fetch_all(&mut tx.tx).await?;
        tx.commit().await?;
        rows.into_iter()
            .map(|r| {
                Ok(Claimed {
                    raw_message: r.raw_message.unwrap_or_default(),
                    notification: r.row.into_model()?,
                })
            })
            .collect()
    }

    /// Record how a claimed delivery ended. Returns `false` (and changes nothing) when
    /// `worker` no longer holds the lease: another worker took the notification over.
    pub async fn finish_delivery(
        &self,
        id: Uuid,
        worker: &str,
        outcome: &DeliveryOutcome,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.require_host_worker()?;
        let mut tx = self.store.write().await?;
        let mut sql = Sql::new(
            "UPDATE notifications SET lease_owner = NULL, lease_until = NULL, updated_at = ",
        );
        sql.bind(micros(now));
        match outcome {
            DeliveryOutcome::Sent { detail } => {
                sql.push(", status = 'sent', sent_at = ").bind(micros(now));
                sql.push(", next_attempt_at = NULL, status_reason = ").bind(detail.clone());
            }
            DeliveryOutcome::Retry { error, at } => {
                sql.push(", last_error = ").bind(error.clone());
                sql.push(", next_attempt_at = ").bind(micros(*at));
            }
            DeliveryOutcome::Failed { error } => {
                sql.push(", status = 'failed', next_attempt_at = NULL, last_error = ")
                    .bind(error.clone());
            }
            DeliveryOutcome::Outbox { path } => {
                sql.push(", status = 'outbox', next_attempt_at = NULL, outbox_path = ")
                    .bind(path.clone())
                    .push(
                        ", status_reason = 'no SMTP server is configured; written to the outbox'",
                    );
            }
        }
        sql.push(" WHERE id = ")
            .bind(id.to_string())
            .push(" AND status = 'queued' AND lease_owner = ")
            .bind(worker.to_string());
        if sql.execute(&mut tx.tx).await? == 0 {
            return Ok(false);
        }
        let n = notification_by(&mut tx.tx, "id", id.to_string())
            .await?
            .ok_or_else(|| StoreError::NotFound { what: "notification", id: id.to_string() })?;
        if n.status != NotificationStatus::Queued {
            self.finish_write(&mut tx, &n, "notification.deliver", now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Notifications held for digests that are due at `now`, grouped by organization,
    /// channel, recipients and due time.
    pub async fn due_digests(&self, now: DateTime<Utc>) -> StoreResult<Vec<DigestGroup>> {
        self.require_host_worker()?;
        let mut sql = Sql::new("SELECT ");
        sql.push(NOTIFICATION_COLUMNS)
            .push(", n.context FROM notifications n WHERE n.status = 'pending_digest' AND n.digest_due_at <= ")
            .bind(micros(now))
            .push(" ORDER BY n.org_id, n.channel, n.digest_due_at, n.recipients, n.created_at, n.id");
        #[derive(FromRow)]
        struct DigestRow {
            #[sqlx(flatten)]
            row: NotificationRow,
            context: String,
        }
        let rows: Vec<DigestRow> = sql.fetch_all(&mut *self.store.pool().acquire().await?).await?;
        let mut groups: Vec<DigestGroup> = Vec::new();
        for r in rows {
            let context = serde_json::from_str(&r.context).unwrap_or(serde_json::Value::Null);
            let n = r.row.into_model()?;
            let due = n.digest_due_at.unwrap_or(now);
            match groups.last_mut() {
                Some(g)
                    if g.org_id == n.org_id
                        && g.channel == n.channel
                        && g.due_at == due
                        && g.recipients == n.recipients =>
                {
                    g.items.push((n, context))
                }
                _ => groups.push(DigestGroup {
                    org_id: n.org_id,
                    channel: n.channel,
                    recipients: n.recipients.clone(),
                    due_at: due,
                    items: vec![(n, context)],
                }),
            }
        }
        Ok(groups)
    }

    /// Turn a due digest group into one queued notification (template `digest`) and mark
    /// its items `digested`, in one transaction. Idempotent per group: closing the same
    /// group again returns the digest made the first time.
    pub async fn close_digest<E, F>(
        &self,
        group: &DigestGroup,
        ticket_prefix: &str,
        now: DateTime<Utc>,
        render: F,
    ) -> Result<Enqueued, E>
    where
        E: From<StoreError>,
        F: FnOnce(&NotificationPlan) -> Result<Rendered, E>,
    {
        self.require_host_worker()?;
        let items = || group.items.iter().map(|(n, _)| n);
        let all_same = |c: Classification| items().all(|n| n.classification == c);
        let first = items().next().ok_or_else(|| StoreError::invalid("items", "empty digest"))?;
        let classification = if all_same(first.classification) {
            first.classification
        } else {
            Classification::Other
        };
        let input = NewNotification {
            org_id: group.org_id,
            channel: group.channel,
            template: "digest".into(),
            classification,
            severity: items().map(|n| n.severity).max().unwrap_or(Severity::Info),
            tlp: items().map(|n| n.tlp).max().unwrap_or(Tlp::Amber),
            subject_ref: format!("digest {}", group.due_at.format("%Y-%m-%dT%H:%MZ")),
            reason: "digest".into(),
            idempotency_key: Some(format!(
                "digest:{}:{}:{}:{}",
                group.channel,
                group.org_id,
                micros(group.due_at),
                group.recipients.join(",")
            )),
            ticket: None,
            contact_roles: None,
            webhook_url: None,
            context: serde_json::json!({ "items": items().map(|n| n.id).collect::<Vec<_>>() }),
        };
        let key = input.key();
        let mut tx = self.store.write().await?;
        if let Some(existing) = notification_by(&mut tx.tx, "idempotency_key", key).await? {
            return Ok(Enqueued { notification: existing, created: false });
        }
        let (org_name, _) = org_and_contacts(&mut tx.tx, group.org_id).await?;
        let id = new_id();
        let ticket = allocate_ticket(&mut tx.tx, ticket_prefix, now).await?;
        let plan = NotificationPlan {
            id,
            ticket: ticket.clone(),
            org_id: group.org_id,
            org_name,
            recipients: group.recipients.clone(),
            decision: RuleDecision { digest: DigestInterval::Immediate, ..RuleDecision::builtin() },
            status: NotificationStatus::Queued,
            status_reason: Some(format!("digest of {} notifications", group.items.len())),
            created_at: now,
        };
        let rendered = render(&plan)?;
        let insert = Insert {
            id,
            ticket: &ticket,
            input: &input,
            plan: &plan,
            rendered: &rendered,
            digest_due_at: None,
            created_by_org: self.principal().org_id,
        };
        insert_notification(&mut tx.tx, insert).await?;
        let mut sql = Sql::new("UPDATE notifications SET status = 'digested', digest_id = ");
        sql.bind(id.to_string())
            .push(", updated_at = ")
            .bind(micros(now))
            .push(" WHERE status = 'pending_digest' AND id IN (")
            .bind_list(items().map(|n| n.id.to_string()))
            .push(")");
        sql.execute(&mut tx.tx).await?;
        let notification = notification_by(&mut tx.tx, "id", id.to_string())
            .await?
            .ok_or_else(|| StoreError::Corrupt("inserted digest vanished".into()))?;
        self.finish_write(&mut tx, &notification, "notification.digest", now).await?;
        tx.commit().await?;
        Ok(Enqueued { notification, created: true })
    }

    // ----- rules -----

    fn may_read_rules_of(&self, org: Option<Uuid>) -> bool {
        self.is_host() || org.is_none_or(|o| o == self.principal().org_id)
    }

    /// The host defaults (`org` absent) or one organization's own rules, oldest first.
    pub async fn list_notification_rules(
        &self,
        org: Option<Uuid>,
    ) -> StoreResult<Vec<NotificationRule>> {
        if !self.may_read_rules_of(org) {
            return Err(StoreError::NotFound {
                what: "organization",
                id: org.map(|o| o.to_string()).unwrap_or_default(),
            });
        }
        let mut conn = self.store.pool().acquire().await?;
        let rules = load_rules(&mut conn, org).await?;
        Ok(rules.into_iter().filter(|r| r.org_id == org).collect())
    }

    /// Every rule that applies to `org` (its own and the host defaults), in the order they
    /// are tried (see `tipline_model::notify::select_rule`).
    pub async fn effective_notification_rules(
        &self,
        org: Uuid,
    ) -> StoreResult<Vec<NotificationRule>> {
        if !self.may_read_rules_of(Some(org)) {
            return Err(StoreError::NotFound { what: "organization", id: org.to_string() });
        }
        let mut conn = self.store.pool().acquire().await?;
        let mut rules = load_rules(&mut conn, Some(org)).await?;
        rules.sort_by_key(|r| (r.tier(), std::cmp::Reverse(r.specificity()), r.id));
        Ok(rules)
    }

    /// What the rules decide for a notification to `org` with these facts (a preview; the
    /// repeat interval is not checked against history here).
    pub async fn decide_notification(
        &self,
        org: Uuid,
        facts: RuleFacts,
    ) -> StoreResult<RuleDecision> {
        let rules = self.effective_notification_rules(org).await?;
        Ok(RuleDecision::decide(&rules, &facts))
    }

    /// One rule, if the principal may read it.
    pub async fn get_notification_rule(&self, id: Uuid) -> StoreResult<NotificationRule> {
        let mut sql = Sql::new("SELECT ");
        sql.push(RULE_COLUMNS)
            .push(" FROM notification_rules r WHERE r.id = ")
            .bind(id.to_string());
        let row: Option<RuleRow> =
            sql.fetch_optional(&mut *self.store.pool().acquire().await?).await?;
        match row.map(RuleRow::into_model).transpose()? {
            Some(rule) if self.may_read_rules_of(rule.org_id) => Ok(rule),
            _ => Err(StoreError::NotFound { what: "notification rule", id: id.to_string() }),
        }
    }

    /// Check that the principal may write `input` (and, on update, change `existing`).
    fn check_rule_write(
        &self,
        input: &NotificationRuleInput,
        existing: Option<&NotificationRule>,
    ) -> StoreResult<()> {
        let p = self.principal();
        if p.is_platform_admin() {
            return Ok(());
        }
        if p.role != Role::Admin {
            return Err(StoreError::Forbidden(
                "only administrators edit notification rules".into(),
            ));
        }
        let own = Some(p.org_id);
        if input.org_id != own || existing.is_some_and(|r| r.org_id != own) {
            return Err(StoreError::Forbidden(
                "you may only edit your own organization's notification rules".into(),
            ));
        }
        if existing.is_some_and(|r| r.locked) {
            return Err(StoreError::Forbidden(
                "this rule is locked by the host organization".into(),
            ));
        }
        if input.locked {
            return Err(StoreError::invalid("locked", "only the host organization locks rules"));
        }
        if let Some(secs) = input.repeat_interval_secs
            && secs < PARTNER_MIN_REPEAT_SECS
        {
            return Err(StoreError::invalid(
                "repeat_interval_secs",
                format!("must be at least {PARTNER_MIN_REPEAT_SECS} (one hour), got {secs}"),
            ));
        }
        Ok(())
    }

    /// Create a rule: a host default (`org_id` absent) or an organization's own.
    pub async fn create_notification_rule(
        &self,
        input: &NotificationRuleInput,
    ) -> StoreResult<NotificationRule> {
        let input = input.check().map_err(StoreError::Invalid)?;
        self.check_rule_write(&input, None)?;
        let mut tx = self.store.write().await?;
        if let Some(org) = input.org_id {
            org_and_contacts(&mut tx.tx, org).await?;
        }
        let id = new_id();
        let at = micros(crate::now());
        let mut sql = Sql::new(
            "INSERT INTO notification_rules (id, org_id, classification, min_severity, min_tlp, \
             suppress, contact_roles, repeat_interval_secs, digest, locked, note, created_at, \
             updated_at) VALUES (",
        );
        sql.bind(id.to_string()).push(", ");
        push_rule_values(&mut sql, &input);
        sql.push(", ").bind(at).push(", ").bind(at).push(")");
        sql.execute(&mut tx.tx).await?;
        self.rule_written(&mut tx, "notification_rule.create", id, input.org_id).await?;
        tx.commit().await?;
        self.get_notification_rule(id).await
    }

    /// Replace a rule's conditions and decision (its organization cannot change).
    pub async fn update_notification_rule(
        &self,
        id: Uuid,
        input: &NotificationRuleInput,
    ) -> StoreResult<NotificationRule> {
        let input = input.check().map_err(StoreError::Invalid)?;
        let existing = self.get_notification_rule(id).await?;
        if input.org_id != existing.org_id {
            return Err(StoreError::invalid("org_id", "a rule's organization cannot change"));
        }
        self.check_rule_write(&input, Some(&existing))?;
        let mut tx = self.store.write().await?;
        let mut sql = Sql::new(
            "UPDATE notification_rules SET (org_id, classification, min_severity, min_tlp, suppress, contact_roles, repeat_interval_secs, digest, locked, note, updated_at) = (",
        );
        push_rule_values(&mut sql, &input);
        sql.push(", ").bind(micros(crate::now())).push(") WHERE id = ").bind(id.to_string());
        sql.execute(&mut tx.tx).await?;
        self.rule_written(&mut tx, "notification_rule.update", id, input.org_id).await?;
        tx.commit().await?;
        self.get_notification_rule(id).await
    }

    /// Delete a rule.
    pub async fn delete_notification_rule(&self, id: Uuid) -> StoreResult<()> {
        let existing = self.get_notification_rule(id).await?;
        let as_input = NotificationRuleInput { org_id: existing.org_id, ..Default::default() };
        self.check_rule_write(&as_input, Some(&existing))?;
        let mut tx = self.store.write().await?;
        let mut sql = Sql::new("DELETE FROM notification_rules WHERE id = ");
        sql.bind(id.to_string());
        sql.execute(&mut tx.tx).await?;
        self.rule_written(&mut tx, "notification_rule.delete", id, existing.org_id).await?;
        tx.commit().await
    }

    async fn rule_written(
        &self,
        tx: &mut WriteTx<'_>,
        action: &'static str,
        id: Uuid,
        org: Option<Uuid>,
    ) -> StoreResult<()> {
        let kind = match action {
            "notification_rule.create" => "notification_rule.created",
            "notification_rule.update" => "notification_rule.updated",
            _ => "notification_rule.deleted",
        };
        let at = micros(crate::now());
        let mut events = EventWrite::default();
        events.add(kind, Some(id), org, serde_json::json!({ "org_id": org }), at);
        events.write(&mut tx.tx).await?;
        audit::record(
            &mut tx.tx,
            self.principal(),
            action,
            "notification_rule",
            Some(id),
            serde_json::json!({ "org_id": org }),
        )
        .await
    }
}

fn push_rule_values(sql: &mut Sql, input: &NotificationRuleInput) {
    let roles: Vec<String> = input.contact_roles.iter().map(|r| r.as_str().to_string()).collect();
    sql.bind(input.org_id.map(|u| u.to_string()))
        .push(", ")
        .bind(input.classification.map(|c| c.as_str().to_string()))
        .push(", ")
        .bind(input.min_severity.map(|s| s.as_str().to_string()))
        .push(", ")
        .bind(input.min_tlp.map(|t| t.as_str().to_string()))
        .push(", ")
        .bind(i64::from(input.suppress))
        .push(", ")
        .bind(to_json_list(&roles))
        .push(", ")
        .bind(input.repeat_interval_secs.map(|s| s as i64))
        .push(", ")
        .bind(input.digest.unwrap_or(DigestInterval::Immediate).as_str().to_string())
        .push(", ")
        .bind(i64::from(input.locked))
        .push(", ")
        .bind(input.note.clone());
}

/// An organization's name and contacts (role, email); not found if it does not exist.
async fn org_and_contacts(
    conn: &mut AnyConnection,
    org: Uuid,
) -> StoreResult<(String, Vec<(ContactRole, String)>)> {
    let mut sql = Sql::new("SELECT name FROM organizations WHERE id = ");
    sql.bind(org.to_string());
    let (name,): (String,) = sql
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound { what: "organization", id: org.to_string() })?;
    let mut sql = Sql::new("SELECT role, email FROM org_contacts WHERE org_id = ");
    sql.bind(org.to_string()).push(" ORDER BY role, email");
    let rows: Vec<(String, String)> = sql.fetch_all(conn).await?;
    let contacts = rows
        .into_iter()
        .map(|(role, email)| Ok((parse(&role)?, email)))
        .collect::<StoreResult<_>>()?;
    Ok((name, contacts))
}
