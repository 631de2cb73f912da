//! `tipline indicator`: add (upsert) and search indicators, as the host admin or, with
//! `--as-org`, as another organization's analyst.

use serde_json::json;
use tipline_model::intel::{Indicator, IndicatorInput};
use tipline_store::IndicatorQuery;

use super::{Context, Session};
use crate::cli::{IndicatorAddArgs, IndicatorCommand, IndicatorSearchArgs};
use crate::output::{self, Table};

/// The largest page the store serves.
const MAX_PAGE: u32 = 1000;

pub async fn run(context: &Context, command: IndicatorCommand) -> anyhow::Result<()> {
    let session = context.session().await?;
    let result = match command {
        IndicatorCommand::Add(args) => add(context, &session, args).await,
        IndicatorCommand::Search(args) => search(context, &session, args).await,
    };
    session.close().await;
    result
}

async fn add(context: &Context, session: &Session, args: IndicatorAddArgs) -> anyhow::Result<()> {
    let viewer = session.acting(args.as_org.as_deref()).await?;
    let owner_id = session.optional_org_id(args.owner.as_deref()).await?;
    let shared_to = session.community_ids(&args.share).await?;
    let mut granted_to = Vec::with_capacity(args.grant.len());
    for org in &args.grant {
        granted_to.push(session.org_id(org).await?);
    }
    let input = IndicatorInput {
        kind: args.kind,
        value: args.value,
        owner_id,
        tlp: args.tlp,
        confidence: args.confidence,
        tags: args.tags,
        shared_to,
        granted_to,
        ..Default::default()
    };
    let (indicator, created) = viewer.upsert_indicator(&input).await?;
    if context.json {
        return output::json(&json!({ "created": created, "indicator": indicator }));
    }
    let names = session.org_names().await?;
    output::lines([format!(
        "{} {} {} (tlp {}, confidence {}, owner {}) {}",
        if created { "created" } else { "updated" },
        indicator.kind,
        indicator.value,
        indicator.tlp,
        indicator.confidence,
        names.name(indicator.owner_id),
        indicator.id
    )])
}

async fn search(
    context: &Context,
    session: &Session,
    args: IndicatorSearchArgs,
) -> anyhow::Result<()> {
    let viewer = session.acting(args.as_org.as_deref()).await?;
    let owner_id = session.optional_org_id(args.owner.as_deref()).await?;
    let mut query = IndicatorQuery {
        value: args.value,
        kind: args.kind,
        tag: args.tag,
        owner_id,
        tlp: args.tlp,
        ..Default::default()
    };
    let mut found: Vec<Indicator> = Vec::new();
    loop {
        let remaining = args.limit - found.len() as u32;
        query.limit = Some(remaining.min(MAX_PAGE));
        let page = viewer.search_indicators(&query).await?;
        found.extend(page.items);
        match page.next_cursor {
            Some(cursor) if (found.len() as u32) < args.limit => query.cursor = Some(cursor),
            _ => break,
        }
    }
    found.truncate(args.limit as usize);
    if context.json {
        return output::json(&found);
    }
    let names = session.org_names().await?;
    let mut table =
        Table::new(&["VALUE", "KIND", "TLP", "CONFIDENCE", "OWNER", "TAGS", "UPDATED", "ID"]);
    for indicator in found {
        table.row(vec![
            indicator.value,
            indicator.kind.to_string(),
            indicator.tlp.to_string(),
            indicator.confidence.to_string(),
            names.name(indicator.owner_id),
            if indicator.tags.is_empty() { "-".into() } else { indicator.tags.join(",") },
            output::time(indicator.updated_at),
            indicator.id.to_string(),
        ]);
    }
    table.print("no indicators found")
}
