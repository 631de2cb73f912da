//! `tipline feed`: define, list, pull and remove feeds, and show their listings.
//!
//! Feeds of the configuration file (`[[feeds]]`) are brought into the database before each
//! command, as `tipline serve` does at start, so `feed list` and `feed pull` see them.
//! `feed pull` pulls in this process, under the same lease the scheduler takes, so it never
//! runs at the same time as a node's pull of the same feed.

use anyhow::bail;
use clap::{Args, Subcommand};
use tipline_feeds::{PullReport, PullSettings, pull};
use tipline_http::Outbound;
use tipline_model::Tlp;
use tipline_model::feed::{CsvOptions, Feed, FeedFormat, FeedInput, PullStatus};
use tipline_store::ListingQuery;

use super::{Context, Session};
use crate::output::{self, Table, or_dash};
use crate::progress::Bar;

/// `tipline feed ...`.
#[derive(Debug, Subcommand)]
pub enum FeedCommand {
    /// Define a feed: a list (or MISP feed) pulled on a schedule into a source organization.
    #[command(after_help = "\
Examples:
  tipline feed add spamhaus-drop --url https://www.spamhaus.org/drop/drop.txt --format spamhaus \\
      --source Spamhaus --interval-secs 43200 --tlp clear --confidence 80
  tipline feed add firehol-level1 --path /srv/lists/firehol_level1.netset --format netset
  tipline feed add phishing --url https://lists.example/phish.csv --format csv \\
      --csv-value url --csv-reference id
  tipline feed add circl-osint --url https://www.circl.lu/doc/misp/feed-osint --format misp-feed")]
    Add(Box<FeedAddArgs>),

    /// List feeds with their status: last pull, errors, listed entries, next pull.
    #[command(after_help = "\
Examples:
  tipline feed list
  tipline --json feed list")]
    List,

    /// Show one feed, its status and its recent pulls.
    #[command(after_help = "\
Examples:
  tipline feed show spamhaus-drop")]
    Show {
        /// Feed name or id.
        #[arg(value_name = "FEED")]
        feed: String,
    },

    /// Pull feeds now, whether due or not, and print what changed.
    #[command(after_help = "\
Examples:
  tipline feed pull spamhaus-drop
  tipline feed pull --all
  tipline --json feed pull spamhaus-drop")]
    Pull {
        /// Feed names or ids.
        #[arg(value_name = "FEED", required_unless_present = "all")]
        feeds: Vec<String>,
        /// Pull every enabled feed.
        #[arg(long, conflicts_with = "feeds")]
        all: bool,
    },

    /// Remove a feed added through the API or CLI; its listings stay as history.
    #[command(after_help = "\
Examples:
  tipline feed remove phishing")]
    Remove {
        /// Feed name or id.
        #[arg(value_name = "FEED")]
        feed: String,
    },

    /// Show a feed's listings: what it lists now, or (--history) every listing period.
    #[command(after_help = "\
Examples:
  tipline feed listings spamhaus-drop
  tipline feed listings spamhaus-drop --history --limit 50")]
    Listings {
        /// Feed name or id.
        #[arg(value_name = "FEED")]
        feed: String,
        /// Include delisted periods.
        #[arg(long)]
        history: bool,
        /// Most listings to print.
        #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: u32,
    },
}

/// Arguments of `tipline feed add`.
#[derive(Debug, Args)]
pub struct FeedAddArgs {
    /// Unique name.
    pub name: String,

    /// URL to pull (`http://` or `https://`; a MISP feed: its base URL).
    #[arg(long, value_name = "URL", required_unless_present = "path", conflicts_with = "path")]
    pub url: Option<String>,

    /// File to read (a MISP feed: its directory).
    #[arg(long, value_name = "PATH")]
    pub path: Option<String>,

    /// How to read it: csv, misp-feed, netset, plain or spamhaus.
    #[arg(long, value_name = "FORMAT", value_parser = parse_format)]
    pub format: FeedFormat,

    /// The source organization owning what the feed brings, name or id; created when it
    /// does not exist [default: the feed's name].
    #[arg(long, value_name = "ORG")]
    pub source: Option<String>,

    /// Seconds between pulls [default: 3600].
    #[arg(long, value_name = "SECS")]
    pub interval_secs: Option<i64>,

    /// TLP of what the feed brings [default: amber].
    #[arg(long, value_name = "TLP", value_parser = parse_tlp)]
    pub tlp: Option<Tlp>,

    /// Confidence 0-100 of what the feed brings [default: 50].
    #[arg(long, value_name = "N")]
    pub confidence: Option<i64>,

    /// A tag added to every indicator the feed brings (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,

    /// Skip bad lines instead of failing the pull.
    #[arg(long)]
    pub lenient: bool,

    /// Accept an empty list as "everything delisted".
    #[arg(long)]
    pub allow_empty: bool,

    /// Define it without the scheduler pulling it.
    #[arg(long)]
    pub disabled: bool,

    /// CSV: the column holding the value (header name or number from 1).
    #[arg(long, value_name = "COLUMN", help_heading = "CSV")]
    pub csv_value: Option<String>,

    /// CSV: the column holding the listing's reference.
    #[arg(long, value_name = "COLUMN", help_heading = "CSV")]
    pub csv_reference: Option<String>,

    /// CSV: the column holding a comment.
    #[arg(long, value_name = "COLUMN", help_heading = "CSV")]
    pub csv_comment: Option<String>,

    /// CSV: the field delimiter [default: ,].
    #[arg(long, value_name = "CHAR", help_heading = "CSV")]
    pub csv_delimiter: Option<String>,

    /// CSV: the first record is data, not a header (columns are numbers).
    #[arg(long, help_heading = "CSV")]
    pub csv_no_header: bool,
}

pub async fn run(context: &Context, command: FeedCommand) -> anyhow::Result<()> {
    let session = context.session().await?;
    let result = async {
        sync_config_feeds(context, &session).await?;
        execute(context, &session, command).await
    }
    .await;
    session.close().await;
    result
}

/// Make the configuration's `[[feeds]]` the database's config feeds.
pub async fn sync_config_feeds(context: &Context, session: &Session) -> anyhow::Result<()> {
    let changes = session.admin().sync_config_feeds(&context.config.feeds).await?;
    for change in changes {
        tracing::info!("{change} (configuration file)");
    }
    Ok(())
}

async fn execute(context: &Context, session: &Session, command: FeedCommand) -> anyhow::Result<()> {
    let admin = session.admin();
    match command {
        FeedCommand::Add(args) => {
            let feed = admin.create_feed(&input(*args)).await?;
            if context.json {
                return output::json(&feed);
            }
            output::lines([format!(
                "added feed {} ({}, {}) into source {}; first pull due now ({})",
                feed.name,
                feed.format,
                location(&feed),
                feed.source_name,
                feed.id
            )])
        }
        FeedCommand::List => {
            let feeds = admin.list_feeds().await?;
            if context.json {
                return output::json(&feeds);
            }
            let mut table = Table::new(&[
                "NAME",
                "FORMAT",
                "SOURCE",
                "LISTED",
                "LAST PULL",
                "STATUS",
                "NEXT PULL",
                "LAST ERROR",
            ]);
            for feed in feeds {
                table.row(vec![
                    feed.name,
                    feed.format.to_string(),
                    feed.source_name,
                    feed.status.listed.to_string(),
                    or_dash(feed.status.last_pull_at.map(output::time)),
                    or_dash(feed.status.last_pull_status),
                    if feed.enabled {
                        output::time(feed.status.next_pull_at)
                    } else {
                        "disabled".into()
                    },
                    or_dash(
                        feed.status.last_error.filter(|_| feed.status.consecutive_failures > 0),
                    ),
                ]);
            }
            table.print("no feeds")
        }
        FeedCommand::Show { feed } => {
            let feed = admin.find_feed(&feed).await?;
            let pulls = admin.feed_pulls(feed.id, 10).await?;
            if context.json {
                return output::json(&serde_json::json!({ "feed": feed, "pulls": pulls }));
            }
            let status = &feed.status;
            let counts = status.last_counts;
            output::fields(&[
                ("name", feed.name.clone()),
                ("id", feed.id.to_string()),
                ("source", feed.source_name.clone()),
                ("location", location(&feed)),
                ("format", feed.format.to_string()),
                ("origin", feed.origin.to_string()),
                ("interval", format!("{} s", feed.interval_secs)),
                ("tlp", feed.tlp.to_string()),
                ("confidence", feed.confidence.to_string()),
                ("tags", if feed.tags.is_empty() { "-".into() } else { feed.tags.join(", ") }),
                ("enabled", feed.enabled.to_string()),
                ("listed", status.listed.to_string()),
                ("last success", or_dash(status.last_success_at.map(output::time))),
                ("last error", or_dash(status.last_error.clone())),
                ("failures", status.consecutive_failures.to_string()),
                ("next pull", output::time(status.next_pull_at)),
                (
                    "last counts",
                    format!(
                        "{} entries, {} added, {} removed, {} unchanged, {} rejected",
                        counts.entries,
                        counts.added,
                        counts.removed,
                        counts.unchanged,
                        counts.rejected
                    ),
                ),
            ])?;
            let mut table =
                Table::new(&["FINISHED", "STATUS", "NODE", "ADDED", "REMOVED", "ERROR"]);
            for pull in pulls {
                table.row(vec![
                    output::time(pull.finished_at),
                    pull.status.to_string(),
                    pull.node,
                    pull.counts.added.to_string(),
                    pull.counts.removed.to_string(),
                    or_dash(pull.error),
                ]);
            }
            output::lines([""])?;
            table.print("no pulls yet")
        }
        FeedCommand::Pull { feeds, all } => {
            let targets = if all {
                admin.list_feeds().await?.into_iter().filter(|f| f.enabled).collect()
            } else {
                let mut targets = Vec::with_capacity(feeds.len());
                for key in &feeds {
                    targets.push(admin.find_feed(key).await?);
                }
                targets
            };
            let outbound = Outbound::new(context.config.outbound.client_config())?;
            let scheduler = &context.config.scheduler;
            let settings = PullSettings {
                retry_base_secs: scheduler.retry_base_secs as i64,
                lease_secs: scheduler.lease_secs as i64,
            };
            let node = format!("cli:{}", std::process::id());
            let mut reports = Vec::with_capacity(targets.len());
            for feed in targets {
                let claimed = admin.claim_feed(feed.id, &node, settings.lease_secs).await?;
                let progress = Bar::for_terminal(feed.name.clone());
                reports
                    .push(pull(&admin, &outbound, &claimed, &settings, progress.as_ref()).await?);
            }
            if context.json {
                output::json(&reports)?;
            } else {
                output::lines(reports.iter().map(describe_pull))?;
            }
            let failed: Vec<&str> = reports
                .iter()
                .filter(|r| r.status == PullStatus::Failed)
                .map(|r| r.feed.as_str())
                .collect();
            if !failed.is_empty() {
                bail!("pull failed: {} (previous listings kept)", failed.join(", "));
            }
            Ok(())
        }
        FeedCommand::Remove { feed } => {
            let feed = admin.find_feed(&feed).await?;
            admin.remove_feed(feed.id).await?;
            if context.json {
                return output::json(&serde_json::json!({ "removed": feed.id }));
            }
            output::lines([format!(
                "removed feed {} ({}); its listings stay as history",
                feed.name, feed.id
            )])
        }
        FeedCommand::Listings { feed, history, limit } => {
            let feed = admin.find_feed(&feed).await?;
            let mut query = ListingQuery {
                feed_id: Some(feed.id),
                current: (!history).then_some(true),
                limit: Some(limit),
                ..Default::default()
            };
            let mut listings = Vec::new();
            loop {
                let page = admin.search_listings(&query).await?;
                listings.extend(page.items);
                match page.next_cursor {
                    Some(cursor) if listings.len() < limit as usize => query.cursor = Some(cursor),
                    _ => break,
                }
            }
            listings.truncate(limit as usize);
            if context.json {
                return output::json(&listings);
            }
            let mut table = Table::new(&[
                "VALUE",
                "KIND",
                "REFERENCE",
                "FIRST LISTED",
                "LAST LISTED",
                "DELISTED",
            ]);
            for listing in listings {
                table.row(vec![
                    listing.value,
                    listing.kind.to_string(),
                    or_dash(listing.reference),
                    output::time(listing.first_listed),
                    output::time(listing.last_listed),
                    or_dash(listing.delisted_at.map(output::time)),
                ]);
            }
            table.print("no listings")
        }
    }
}

fn input(args: FeedAddArgs) -> FeedInput {
    let csv = args.csv_value.map(|value| CsvOptions {
        reference_column: args.csv_reference,
        comment_column: args.csv_comment,
        delimiter: args.csv_delimiter.unwrap_or_else(|| ",".into()),
        has_header: !args.csv_no_header,
        ..CsvOptions::new(value)
    });
    FeedInput {
        name: args.name,
        source: args.source,
        url: args.url,
        path: args.path,
        format: Some(args.format),
        interval_secs: args.interval_secs,
        tlp: args.tlp,
        confidence: args.confidence,
        tags: args.tags,
        lenient: Some(args.lenient),
        allow_empty: Some(args.allow_empty),
        csv,
        enabled: Some(!args.disabled),
    }
}

fn location(feed: &Feed) -> String {
    feed.url.clone().or_else(|| feed.path.clone()).unwrap_or_default()
}

/// One line per pull: what changed, or why it failed.
fn describe_pull(report: &PullReport) -> String {
    let c = report.counts;
    match report.status {
        PullStatus::Failed => format!(
            "{}: failed: {}; retry at {}",
            report.feed,
            report.error.as_deref().unwrap_or("unknown error"),
            output::time(report.next_pull_at)
        ),
        PullStatus::NotModified => {
            format!("{}: not modified; {} entries still listed", report.feed, c.entries)
        }
        PullStatus::Ok => match &report.import {
            Some(import) => {
                let indicators: u64 = import.written.indicators.values().map(|t| t.created).sum();
                format!(
                    "{}: {} events, {} imported, {} unchanged, {} rejected; {} new indicators",
                    report.feed, c.entries, c.added, c.unchanged, c.rejected, indicators
                )
            }
            None => format!(
                "{}: {} entries, {} added, {} removed, {} unchanged, {} rejected",
                report.feed, c.entries, c.added, c.removed, c.unchanged, c.rejected
            ),
        },
    }
}

fn parse_format(s: &str) -> Result<FeedFormat, String> {
    s.parse().map_err(|e: tipline_model::UnknownName| e.to_string())
}

fn parse_tlp(s: &str) -> Result<Tlp, String> {
    s.parse().map_err(|e: tipline_model::UnknownName| e.to_string())
}
