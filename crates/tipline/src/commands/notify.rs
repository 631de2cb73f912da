//! `tipline notify` (test mail, rules, webhook keys, one delivery pass) and `tipline outbox`.

use anyhow::{Context as _, bail};
use tipline_model::Tlp;
use tipline_model::notify::{Classification, NotificationRule, NotificationStatus, Severity};
use tipline_notify::{EmailRequest, Notifier};
use tipline_store::NotificationQuery;

use super::{Context, OrgNames, Session};
use crate::cli::{NotifyCommand, NotifyRulesCommand, NotifyTestArgs, OutboxCommand};
use crate::output::{self, Table, or_dash};

pub async fn run(context: &Context, command: NotifyCommand) -> anyhow::Result<()> {
    let session = context.session().await?;
    let result = execute(context, &session, command).await;
    session.close().await;
    result
}

pub async fn outbox(context: &Context, command: OutboxCommand) -> anyhow::Result<()> {
    let session = context.session().await?;
    let result = match command {
        OutboxCommand::List => list_outbox(context, &session).await,
    };
    session.close().await;
    result
}

/// The notifier of this installation's configuration.
pub fn notifier(context: &Context, session: &Session) -> anyhow::Result<Notifier> {
    let settings = context.config.notifier_settings(&context.paths)?;
    Notifier::new(session.store.clone(), settings).context("cannot set up notifications")
}

async fn execute(
    context: &Context,
    session: &Session,
    command: NotifyCommand,
) -> anyhow::Result<()> {
    match command {
        NotifyCommand::Test(args) => test(context, session, args).await,
        NotifyCommand::Rules(NotifyRulesCommand::Show { org }) => {
            let org = session.admin().find_organization(&org).await?;
            let rules = session.admin().effective_notification_rules(org.id).await?;
            if context.json {
                return output::json(&rules);
            }
            output::lines([format!(
                "notification rules of {} (tried in this order; the first that matches decides):",
                org.name
            )])?;
            rules_table(&rules, &session.org_names().await?)
                .print("no rules: the built-in default applies (send to security contacts)")
        }
        NotifyCommand::WebhookKey { url } => {
            let key = notifier(context, session)?.webhook_key(&url)?;
            if context.json {
                output::json(&serde_json::json!({ "url": url, "key": key }))
            } else {
                output::lines([key])
            }
        }
        NotifyCommand::Deliver => {
            let report = notifier(context, session)?.run_once().await?;
            if context.json {
                output::json(&report)
            } else {
                output::lines([format!(
                    "digests made {}, sent {}, to the outbox {}, to retry {}, failed {}",
                    report.digests, report.sent, report.outboxed, report.retried, report.failed
                )])
            }
        }
    }
}

async fn test(context: &Context, session: &Session, args: NotifyTestArgs) -> anyhow::Result<()> {
    let notifier = notifier(context, session)?;
    let org = session.admin().find_organization(&args.to).await?;
    let data = match &args.data {
        Some(text) => {
            let value: serde_json::Value =
                serde_json::from_str(text).context("--data: not a JSON object")?;
            if !value.is_object() {
                bail!("--data: not a JSON object");
            }
            value
        }
        None => serde_json::json!({}),
    };
    let run = uuid::Uuid::now_v7();
    let request = EmailRequest {
        org_id: org.id,
        template: args.template,
        classification: Classification::Test,
        severity: Severity::Info,
        tlp: Tlp::Green,
        subject_ref: format!("test {run}"),
        reason: "test".into(),
        context: data,
        contact_roles: (!args.roles.is_empty()).then_some(args.roles),
        ticket: None,
        idempotency_key: Some(format!("test:{run}")),
    };
    let enqueued = notifier.email(&session.host, &request).await?;
    let report = notifier.run_once().await?;
    let notification = session.admin().get_notification(enqueued.notification.id).await?;
    if context.json {
        return output::json(
            &serde_json::json!({ "notification": notification, "worker": report }),
        );
    }
    let destination = match (notification.status, notifier.smtp_server()) {
        (NotificationStatus::Sent, Some(server)) => format!("sent through {server}"),
        (NotificationStatus::Outbox, _) => format!(
            "no SMTP server configured: written to {}",
            notification.outbox_path.clone().unwrap_or_default()
        ),
        (status, _) => format!(
            "{status}: {}",
            notification
                .last_error
                .clone()
                .or(notification.status_reason.clone())
                .unwrap_or_default()
        ),
    };
    output::fields(&[
        ("ticket", notification.ticket.clone()),
        ("subject", notification.subject.clone()),
        ("to", or_dash(Some(notification.recipients.join(", ")))),
        ("status", notification.status.to_string()),
        ("result", destination),
        ("signed", or_dash(notifier.signing_fingerprint())),
    ])?;
    if matches!(notification.status, NotificationStatus::Failed) {
        bail!("the test notification was not delivered");
    }
    Ok(())
}

fn rules_table(rules: &[NotificationRule], names: &OrgNames) -> Table {
    let mut table = Table::new(&["#", "SCOPE", "MATCH", "DECISION", "REPEAT", "DIGEST", "ID"]);
    for (i, rule) in rules.iter().enumerate() {
        let scope = match (rule.org_id, rule.locked) {
            (None, true) => "host default (locked)".to_string(),
            (None, false) => "host default".to_string(),
            (Some(org), true) => format!("{} (locked)", names.name(org)),
            (Some(org), false) => names.name(org),
        };
        let mut conditions = Vec::new();
        if let Some(c) = rule.classification {
            conditions.push(c.to_string());
        }
        if let Some(s) = rule.min_severity {
            conditions.push(format!("severity>={s}"));
        }
        if let Some(t) = rule.min_tlp {
            conditions.push(format!("tlp>={t}"));
        }
        let decision = if rule.suppress {
            "suppress".to_string()
        } else {
            let roles: Vec<&str> = rule.contact_roles.iter().map(|r| r.as_str()).collect();
            format!("send to {}", roles.join(", "))
        };
        table.row(vec![
            (i + 1).to_string(),
            scope,
            if conditions.is_empty() { "any".into() } else { conditions.join(" ") },
            decision,
            rule.repeat_interval_secs
                .map(tipline_store::notifications::human_duration)
                .unwrap_or_else(|| "-".into()),
            rule.digest.to_string(),
            rule.id.to_string(),
        ]);
    }
    table
}

async fn list_outbox(context: &Context, session: &Session) -> anyhow::Result<()> {
    let mut items = Vec::new();
    let mut query =
        NotificationQuery { status: Some(NotificationStatus::Outbox), ..Default::default() };
    loop {
        let page = session.admin().list_notifications(&query).await?;
        items.extend(page.items);
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => break,
        }
    }
    if context.json {
        return output::json(&items);
    }
    let names = session.org_names().await?;
    let mut table = Table::new(&["TICKET", "ORG", "TO", "SUBJECT", "FILE"]);
    for n in items {
        table.row(vec![
            n.ticket,
            names.name(n.org_id),
            n.recipients.join(", "),
            n.subject,
            or_dash(n.outbox_path),
        ]);
    }
    table.print("the outbox is empty")
}
