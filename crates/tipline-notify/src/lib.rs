//! Notifications for tipline: email over SMTP rendered from templates (optionally
//! OpenPGP-signed), signed webhooks, the outbox, and the delivery worker.
//!
//! The entry point is [`Notifier`]. [`Notifier::email`] and [`Notifier::webhook`] enqueue a
//! notification through the store, which applies in one transaction the idempotency key,
//! the recipient organization's notification rules (suppression, contact roles, repeat
//! interval, digest) and the contact lookup; the message is rendered and, for email, fully
//! composed (and signed) at that moment, so what is delivered is exactly what was
//! recorded. The delivery worker ([`Notifier::run_once`], [`Notifier::run`]) closes due
//! digests, claims due notifications with a lease, delivers them (SMTP, HTTP, or the
//! outbox when no SMTP server is configured) and records the outcome, retrying transient
//! failures with exponential backoff.
//!
//! **Invariant:** nothing here sends without a stored notification; a message that is not
//! sent is recorded with the reason.

mod email;
pub mod header;
pub mod outbound;
mod outbox;
mod secret;
pub mod signing;
pub mod smtp;
pub mod templates;
pub mod webhook;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tipline_model::notify::{Channel, Classification, Severity};
use tipline_model::{ContactRole, Principal, Tlp};
use tipline_store::{
    Claimed, DeliveryOutcome, DigestGroup, Enqueued, NewNotification, NotificationPlan, Rendered,
    Store, StoreError,
};
use uuid::Uuid;

pub use outbound::{OutboundClient, OutboundSettings};
pub use secret::Secret;
pub use signing::Signer;
pub use smtp::{SmtpSettings, SmtpTls};
pub use templates::Templates;

/// What went wrong while notifying.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The store refused or failed (permissions, validation, database).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A template is missing, malformed, or failed to render.
    #[error("template error: {0}")]
    Template(String),
    /// The request or a stored value cannot make a message (a bad address...).
    #[error("invalid notification: {0}")]
    Invalid(String),
    /// The notification settings are unusable.
    #[error("notification settings: {0}")]
    Config(String),
    /// OpenPGP signing failed.
    #[error("openpgp signing failed: {0}")]
    Signing(String),
    /// An outbox file could not be written.
    #[error("outbox: {0}")]
    Outbox(String),
}

impl NotifyError {
    /// Whether the same call may succeed later (database unavailable, disk trouble);
    /// template, validation and permission errors never do.
    pub fn is_retryable(&self) -> bool {
        match self {
            NotifyError::Store(e) => e.is_retryable(),
            NotifyError::Outbox(_) => true,
            _ => false,
        }
    }
}

/// Who mail comes from.
#[derive(Debug, Clone)]
pub struct SenderSettings {
    /// `From` address (also the SMTP envelope sender).
    pub from_address: String,
    /// `From` display name.
    pub from_name: Option<String>,
    /// `Reply-To` address.
    pub reply_to: Option<String>,
    /// Signature appended to every message (after `-- `).
    pub signature: Option<String>,
}

/// Retries of failed deliveries: attempt `n` (1-based) that fails transiently is tried
/// again after `min(base * 2^(n-1), max)`, until `max_attempts` attempts were made.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Delay after the first failure.
    pub base: Duration,
    /// Longest delay.
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            base: Duration::from_secs(60),
            max: Duration::from_secs(6 * 3600),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt `attempt` (1-based).
    pub fn delay(&self, attempt: i64) -> Duration {
        let exponent = attempt.clamp(1, 31) as u32 - 1;
        self.base.saturating_mul(2u32.saturating_pow(exponent)).min(self.max)
    }
}

/// The settings of a [`Notifier`] (the binary builds them from `[smtp]` and `[notify]`).
#[derive(Debug, Clone)]
pub struct NotifierSettings {
    /// Who mail comes from.
    pub sender: SenderSettings,
    /// Ticket references are `<prefix>-<year>-<6 digits>`.
    pub ticket_prefix: String,
    /// Directory of templates that add to or replace the shipped ones.
    pub templates_dir: Option<PathBuf>,
    /// Where `.eml` files go when no SMTP server is configured.
    pub outbox_dir: PathBuf,
    /// The SMTP server; `None`: mail goes to the outbox.
    pub smtp: Option<SmtpSettings>,
    /// ASCII-armored OpenPGP secret key (and passphrase) to sign mail with.
    pub signing_key: Option<(String, Option<Secret>)>,
    /// Master secret from which each webhook endpoint's signing key is derived.
    pub webhook_secret: Option<Secret>,
    /// The outbound HTTP client of webhooks.
    pub outbound: OutboundSettings,
    /// Retries.
    pub retry: RetryPolicy,
    /// How long a worker holds a claimed notification before another may take it.
    pub lease: Duration,
    /// Most notifications claimed per pass.
    pub batch: u32,
    /// Pause between worker passes.
    pub poll_interval: Duration,
}

impl NotifierSettings {
    /// Defaults: outbox delivery (no SMTP) into `outbox_dir`, from `from_address`.
    pub fn new(
        from_address: impl Into<String>,
        outbox_dir: impl Into<PathBuf>,
    ) -> NotifierSettings {
        NotifierSettings {
            sender: SenderSettings {
                from_address: from_address.into(),
                from_name: None,
                reply_to: None,
                signature: None,
            },
            ticket_prefix: "TIPLINE".into(),
            templates_dir: None,
            outbox_dir: outbox_dir.into(),
            smtp: None,
            signing_key: None,
            webhook_secret: None,
            outbound: OutboundSettings::default(),
            retry: RetryPolicy::default(),
            lease: Duration::from_secs(300),
            batch: 50,
            poll_interval: Duration::from_secs(5),
        }
    }
}

/// The time, injectable so tests can step it.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock (microsecond precision, as stored).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        tipline_store::now()
    }
}

/// An email to enqueue: to the contacts of `org_id` with the roles the rules decide (or
/// `contact_roles`), rendered from `template` with `context` as `data`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailRequest {
    /// The recipient organization.
    pub org_id: Uuid,
    /// Template name (`alert-triage`, `listing`, `test`, or one of `notify.templates_dir`).
    pub template: String,
    /// Classification (RSIT / IntelMQ type): rules match on it.
    pub classification: Classification,
    /// Severity: rules match on it.
    pub severity: Severity,
    /// TLP of the content: rules match on it.
    pub tlp: Tlp,
    /// What it is about (case id, address, listing id): the repeat interval counts per
    /// subject, and it is part of the default idempotency key.
    pub subject_ref: String,
    /// Why (`case.new`, `listing.added`): part of the default idempotency key.
    pub reason: String,
    /// Template variables, available as `data`.
    #[serde(default)]
    pub context: serde_json::Value,
    /// Contact roles to email instead of the rule's.
    #[serde(default)]
    pub contact_roles: Option<Vec<ContactRole>>,
    /// A ticket to reuse (e.g. the case's); allocated when absent.
    #[serde(default)]
    pub ticket: Option<String>,
    /// Overrides the default key `email:<org_id>:<reason>:<subject_ref>`.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// A webhook to enqueue: a signed JSON POST to `url` about organization `org_id`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookRequest {
    /// The organization the notification is for (its rules apply).
    pub org_id: Uuid,
    /// Target URL (http or https; internal addresses only when allowed in config).
    pub url: String,
    /// Classification.
    pub classification: Classification,
    /// Severity.
    pub severity: Severity,
    /// TLP of the content.
    pub tlp: Tlp,
    /// What it is about.
    pub subject_ref: String,
    /// Why; sent as `X-Tipline-Event`.
    pub reason: String,
    /// Carried in the payload as `data`.
    #[serde(default)]
    pub context: serde_json::Value,
    /// A ticket to reuse.
    #[serde(default)]
    pub ticket: Option<String>,
    /// Overrides the default key `webhook:<org_id>:<reason>:<subject_ref>`.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// What an email would look like and whom it would reach, without recording or sending
/// anything (for dry runs such as `tipline playbook test`).
#[derive(Debug, Clone, Serialize)]
pub struct EmailPreview {
    /// What the organization's rules decide (the repeat interval is not checked against
    /// history in a preview).
    pub decision: tipline_model::notify::RuleDecision,
    /// The addresses it would go to.
    pub recipients: Vec<String>,
    /// Subject line, with a placeholder ticket `<prefix>-PREVIEW`.
    pub subject: String,
    /// Plain-text body.
    pub body_text: String,
    /// HTML body.
    pub body_html: Option<String>,
}

/// What one worker pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct WorkerReport {
    /// Digests made from held notifications.
    pub digests: usize,
    /// Delivered.
    pub sent: usize,
    /// Failed transiently, to be retried.
    pub retried: usize,
    /// Given up.
    pub failed: usize,
    /// Written to the outbox.
    pub outboxed: usize,
}

/// Sends notifications. Cheap to clone; one per process.
#[derive(Clone)]
pub struct Notifier {
    store: Store,
    settings: Arc<NotifierSettings>,
    templates: Arc<Templates>,
    signer: Option<Arc<Signer>>,
    smtp: Option<smtp::SmtpSender>,
    http: OutboundClient,
    clock: Arc<dyn Clock>,
    worker_id: String,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("smtp", &self.smtp)
            .field("signer", &self.signer)
            .field("worker_id", &self.worker_id)
            .finish_non_exhaustive()
    }
}

/// The notification facts the templates and payloads share.
struct Facts<'a> {
    classification: Classification,
    severity: Severity,
    tlp: Tlp,
    subject_ref: &'a str,
    reason: &'a str,
}

/// What an email and a webhook request have in common, as the store takes it.
struct Common<'a> {
    org_id: Uuid,
    facts: Facts<'a>,
    context: &'a serde_json::Value,
    ticket: &'a Option<String>,
    idempotency_key: &'a Option<String>,
}

impl Common<'_> {
    fn new_notification(
        &self,
        channel: Channel,
        template: &str,
        contact_roles: Option<Vec<ContactRole>>,
        webhook_url: Option<String>,
    ) -> NewNotification {
        NewNotification {
            org_id: self.org_id,
            channel,
            template: template.to_string(),
            classification: self.facts.classification,
            severity: self.facts.severity,
            tlp: self.facts.tlp,
            subject_ref: self.facts.subject_ref.to_string(),
            reason: self.facts.reason.to_string(),
            idempotency_key: self.idempotency_key.clone(),
            ticket: self.ticket.clone(),
            contact_roles,
            webhook_url,
            context: self.context.clone(),
        }
    }
}

macro_rules! common_of {
    ($request:expr) => {
        Common {
            org_id: $request.org_id,
            facts: Facts {
                classification: $request.classification,
                severity: $request.severity,
                tlp: $request.tlp,
                subject_ref: &$request.subject_ref,
                reason: &$request.reason,
            },
            context: &$request.context,
            ticket: &$request.ticket,
            idempotency_key: &$request.idempotency_key,
        }
    };
}

impl Notifier {
    /// Load templates and the signing key, and build the transports (nothing connects yet).
    pub fn new(store: Store, settings: NotifierSettings) -> Result<Notifier, NotifyError> {
        let templates = Templates::load(settings.templates_dir.as_deref())?;
        let signer = match &settings.signing_key {
            Some((armored, passphrase)) => {
                Some(Arc::new(Signer::from_armored(armored, passphrase.as_ref())?))
            }
            None => None,
        };
        let smtp = settings.smtp.as_ref().map(smtp::SmtpSender::new).transpose()?;
        let http = OutboundClient::new(settings.outbound.clone())
            .map_err(|e| NotifyError::Config(e.to_string()))?;
        settings.sender.from_address.parse::<lettre::Address>().map_err(|e| {
            NotifyError::Config(format!(
                "notify.from: `{}` is not an email address: {e}",
                settings.sender.from_address
            ))
        })?;
        Ok(Notifier {
            store,
            settings: Arc::new(settings),
            templates: Arc::new(templates),
            signer,
            smtp,
            http,
            clock: Arc::new(SystemClock),
            worker_id: format!("notify-{}", Uuid::now_v7()),
        })
    }

    /// The same notifier reading time from `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Notifier {
        self.clock = clock;
        self
    }

    /// The loaded templates.
    pub fn templates(&self) -> &Templates {
        &self.templates
    }

    /// The SMTP server mail goes to (`host:port (mode)`), or `None` for the outbox.
    pub fn smtp_server(&self) -> Option<&str> {
        self.smtp.as_ref().map(|s| s.server())
    }

    /// The signing key's fingerprint, when mail is signed.
    pub fn signing_fingerprint(&self) -> Option<String> {
        self.signer.as_ref().map(|s| s.fingerprint())
    }

    /// The key the receiver of webhooks at `url` verifies signatures with.
    pub fn webhook_key(&self, url: &str) -> Result<String, NotifyError> {
        let secret = self.settings.webhook_secret.as_ref().ok_or_else(|| {
            NotifyError::Config(
                "notify.webhook_secret is not set; webhooks cannot be signed".into(),
            )
        })?;
        Ok(webhook::endpoint_key(secret.expose(), url))
    }

    fn variables(
        &self,
        plan: &NotificationPlan,
        facts: &Facts<'_>,
        data: &serde_json::Value,
    ) -> serde_json::Value {
        serde_json::json!({
            "ticket": plan.ticket,
            "org": { "id": plan.org_id, "name": plan.org_name },
            "classification": facts.classification,
            "taxonomy": facts.classification.taxonomy(),
            "severity": facts.severity,
            "tlp": facts.tlp,
            "subject_ref": facts.subject_ref,
            "reason": facts.reason,
            "created_at": plan.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "signature": self.settings.sender.signature.clone().unwrap_or_default(),
            "from": self.settings.sender.from_address,
            "data": if data.is_null() { serde_json::json!({}) } else { data.clone() },
        })
    }

    /// Render an email for `plan`: subject, bodies, and the composed message when it will
    /// be delivered.
    fn render_email(
        &self,
        plan: &NotificationPlan,
        template: &str,
        vars: &serde_json::Value,
    ) -> Result<Rendered, NotifyError> {
        let rendered = self.templates.render(template, vars)?;
        let (body_text, body_html) = email::bodies(&self.settings.sender, &rendered);
        let raw_message = if plan.deliverable() {
            let composition = email::Composition {
                sender: &self.settings.sender,
                org_name: &plan.org_name,
                recipients: &plan.recipients,
                ticket: &plan.ticket,
                id: plan.id,
                rendered: &rendered,
                date: plan.created_at.into(),
            };
            let bytes = email::compose(&composition, self.signer.as_deref())?;
            Some(String::from_utf8(bytes).map_err(|_| {
                NotifyError::Invalid("the composed message is not 7-bit text".into())
            })?)
        } else {
            None
        };
        Ok(Rendered {
            subject: email::subject(&plan.ticket, &rendered),
            body_text,
            body_html,
            raw_message,
        })
    }

    /// Enqueue an email notification as `principal` (see [`EmailRequest`]). Returns the
    /// recorded notification (status `queued`, `pending_digest` or `suppressed` with its
    /// reason) and whether this call created it; a known idempotency key returns the
    /// earlier notification unchanged. Delivery is the worker's job.
    pub async fn email(
        &self,
        principal: &Principal,
        request: &EmailRequest,
    ) -> Result<Enqueued, NotifyError> {
        if !self.templates.has(&request.template) {
            return Err(NotifyError::Template(format!(
                "unknown template `{}`; available: {}",
                request.template,
                self.templates.names().join(", ")
            )));
        }
        let common = common_of!(request);
        let input = common.new_notification(
            Channel::Email,
            &request.template,
            request.contact_roles.clone(),
            None,
        );
        let facts = &common.facts;
        let viewer = self.store.viewer(principal.clone());
        viewer
            .enqueue_notification(&input, &self.settings.ticket_prefix, self.clock.now(), |plan| {
                let vars = self.variables(plan, facts, &request.context);
                self.render_email(plan, &request.template, &vars)
            })
            .await
    }

    /// Render `request` and apply the rules as [`Notifier::email`] would, recording and
    /// sending nothing.
    pub async fn preview_email(
        &self,
        principal: &Principal,
        request: &EmailRequest,
    ) -> Result<EmailPreview, NotifyError> {
        let viewer = self.store.viewer(principal.clone());
        let org = viewer.get_organization(request.org_id).await?;
        let facts = tipline_model::notify::RuleFacts {
            classification: request.classification,
            severity: request.severity,
            tlp: request.tlp,
        };
        let decision = viewer.decide_notification(request.org_id, facts).await?;
        let roles = request.contact_roles.clone().unwrap_or_else(|| decision.contact_roles.clone());
        let mut recipients: Vec<String> = org
            .contacts
            .iter()
            .filter(|c| roles.contains(&c.role))
            .map(|c| c.email.clone())
            .collect();
        recipients.sort();
        recipients.dedup();
        let plan = NotificationPlan {
            id: Uuid::nil(),
            ticket: format!("{}-PREVIEW", self.settings.ticket_prefix),
            org_id: org.id,
            org_name: org.name,
            recipients: recipients.clone(),
            decision: decision.clone(),
            status: tipline_model::notify::NotificationStatus::Suppressed,
            status_reason: None,
            created_at: self.clock.now(),
        };
        let common = common_of!(request);
        let vars = self.variables(&plan, &common.facts, &request.context);
        let rendered = self.render_email(&plan, &request.template, &vars)?;
        Ok(EmailPreview {
            decision,
            recipients,
            subject: rendered.subject,
            body_text: rendered.body_text,
            body_html: rendered.body_html,
        })
    }

    /// Enqueue a webhook notification as `principal` (see [`WebhookRequest`]).
    pub async fn webhook(
        &self,
        principal: &Principal,
        request: &WebhookRequest,
    ) -> Result<Enqueued, NotifyError> {
        self.webhook_key(&request.url)?;
        self.http.check_url(&request.url).map_err(|e| NotifyError::Invalid(format!("url: {e}")))?;
        let common = common_of!(request);
        let input =
            common.new_notification(Channel::Webhook, "webhook", None, Some(request.url.clone()));
        let facts = &common.facts;
        let viewer = self.store.viewer(principal.clone());
        viewer
            .enqueue_notification(&input, &self.settings.ticket_prefix, self.clock.now(), |plan| {
                let mut payload = self.variables(plan, facts, &request.context);
                if let Some(object) = payload.as_object_mut() {
                    object.remove("signature");
                    object.remove("from");
                    object.insert("id".into(), serde_json::json!(plan.id));
                    object.insert("event".into(), serde_json::json!(request.reason));
                }
                let body = payload.to_string();
                Ok::<_, NotifyError>(Rendered {
                    subject: header::subject_with_ticket(
                        &plan.ticket,
                        &format!("{} {}", request.classification, request.subject_ref),
                    ),
                    body_text: body.clone(),
                    body_html: None,
                    raw_message: plan.deliverable().then_some(body),
                })
            })
            .await
    }

    fn render_digest(
        &self,
        plan: &NotificationPlan,
        group: &DigestGroup,
    ) -> Result<Rendered, NotifyError> {
        let items: Vec<serde_json::Value> = group
            .items
            .iter()
            .map(|(n, data)| {
                serde_json::json!({
                    "id": n.id,
                    "ticket": n.ticket,
                    "subject": n.subject,
                    "classification": n.classification,
                    "taxonomy": n.classification.taxonomy(),
                    "severity": n.severity,
                    "tlp": n.tlp,
                    "subject_ref": n.subject_ref,
                    "reason": n.reason,
                    "created_at": n.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    "data": data,
                })
            })
            .collect();
        let facts = Facts {
            classification: Classification::Other,
            severity: group.items.iter().map(|(n, _)| n.severity).max().unwrap_or(Severity::Info),
            tlp: group.items.iter().map(|(n, _)| n.tlp).max().unwrap_or(Tlp::Amber),
            subject_ref: "digest",
            reason: "digest",
        };
        let mut vars = self.variables(plan, &facts, &serde_json::Value::Null);
        vars["items"] = serde_json::Value::Array(items.clone());
        match group.channel {
            Channel::Email => self.render_email(plan, "digest", &vars),
            Channel::Webhook => {
                let body = serde_json::json!({
                    "id": plan.id,
                    "ticket": plan.ticket,
                    "event": "digest",
                    "org": vars["org"],
                    "created_at": vars["created_at"],
                    "items": items,
                })
                .to_string();
                Ok(Rendered {
                    subject: header::subject_with_ticket(
                        &plan.ticket,
                        &format!("digest of {} notifications", group.items.len()),
                    ),
                    body_text: body.clone(),
                    body_html: None,
                    raw_message: Some(body),
                })
            }
        }
    }

    /// One pass of the delivery worker: turn due digests into notifications, then claim
    /// due notifications (with a lease) and deliver them, recording each outcome.
    pub async fn run_once(&self) -> Result<WorkerReport, NotifyError> {
        let host = self.store.host_principal().await?.ok_or_else(|| {
            NotifyError::Config("tipline is not initialized (no host organization)".into())
        })?;
        let viewer = self.store.viewer(host);
        let mut report = WorkerReport::default();
        let now = self.clock.now();
        for group in viewer.due_digests(now).await? {
            let made = viewer
                .close_digest(&group, &self.settings.ticket_prefix, now, |plan| {
                    self.render_digest(plan, &group)
                })
                .await?;
            report.digests += usize::from(made.created);
        }
        let claimed = viewer
            .claim_notifications(
                &self.worker_id,
                self.clock.now(),
                self.settings.lease,
                self.settings.batch,
            )
            .await?;
        for item in claimed {
            let outcome = self.deliver(&item).await;
            match &outcome {
                DeliveryOutcome::Sent { .. } => report.sent += 1,
                DeliveryOutcome::Retry { .. } => report.retried += 1,
                DeliveryOutcome::Failed { .. } => report.failed += 1,
                DeliveryOutcome::Outbox { .. } => report.outboxed += 1,
            }
            if let DeliveryOutcome::Retry { error, .. } | DeliveryOutcome::Failed { error } =
                &outcome
            {
                tracing::warn!(ticket = %item.notification.ticket, %error, "notification delivery failed");
            }
            viewer
                .finish_delivery(item.notification.id, &self.worker_id, &outcome, self.clock.now())
                .await?;
        }
        Ok(report)
    }

    /// Run worker passes every `poll_interval` until `shutdown` completes. Errors of a
    /// pass are logged and the next pass tries again.
    pub async fn run(&self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            match self.run_once().await {
                Ok(report) if report != WorkerReport::default() => {
                    tracing::info!(?report, "notification worker pass")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "notification worker pass failed"),
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(self.settings.poll_interval) => {}
            }
        }
    }

    async fn deliver(&self, item: &Claimed) -> DeliveryOutcome {
        let n = &item.notification;
        let result = match n.channel {
            Channel::Email => match &self.smtp {
                None => {
                    return match outbox::write_eml(
                        &self.settings.outbox_dir,
                        &n.ticket,
                        n.id,
                        item.raw_message.as_bytes(),
                    ) {
                        Ok(path) => DeliveryOutcome::Outbox { path: path.display().to_string() },
                        Err(e) => self.retry_or_fail(n.attempts, e.to_string()),
                    };
                }
                Some(smtp) => {
                    smtp.send(
                        &self.settings.sender.from_address,
                        &n.recipients,
                        item.raw_message.as_bytes(),
                    )
                    .await
                }
            },
            Channel::Webhook => {
                let url = n.recipients.first().cloned().unwrap_or_default();
                match self.webhook_key(&url) {
                    Err(e) => Err(smtp::SendFailure::Permanent(e.to_string())),
                    Ok(key) => {
                        let delivery = webhook::WebhookDelivery {
                            url: &url,
                            body: item.raw_message.as_bytes(),
                            key: &key,
                            id: n.id,
                            reason: &n.reason,
                            ticket: &n.ticket,
                            timestamp: self.clock.now().timestamp(),
                        };
                        webhook::deliver(&self.http, &delivery).await
                    }
                }
            }
        };
        match result {
            Ok(reply) => DeliveryOutcome::Sent { detail: Some(reply) },
            Err(smtp::SendFailure::Permanent(error)) => DeliveryOutcome::Failed { error },
            Err(smtp::SendFailure::Retryable(error)) => self.retry_or_fail(n.attempts, error),
        }
    }

    fn retry_or_fail(&self, attempts: i64, error: String) -> DeliveryOutcome {
        let policy = self.settings.retry;
        if attempts >= i64::from(policy.max_attempts) {
            DeliveryOutcome::Failed { error: format!("gave up after {attempts} attempts: {error}") }
        } else {
            let delay = chrono::Duration::from_std(policy.delay(attempts))
                .unwrap_or(chrono::Duration::hours(1));
            DeliveryOutcome::Retry { error, at: self.clock.now() + delay }
        }
    }
}

/// Check that `address` is an email address mail can be sent from or to.
pub fn check_address(address: &str) -> Result<(), String> {
    address.parse::<lettre::Address>().map(|_| ()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy {
            max_attempts: 5,
            base: Duration::from_secs(10),
            max: Duration::from_secs(60),
        };
        let delays: Vec<u64> = (1..=5).map(|n| policy.delay(n).as_secs()).collect();
        assert_eq!(delays, [10, 20, 40, 60, 60]);
    }
}
