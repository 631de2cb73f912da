//! One pull of a claimed feed: fetch (conditionally), read by the feed's format, apply, and
//! record the outcome under the lease.
//!
//! - Not modified (HTTP 304, or a file with the same size and time): the listed entries
//!   are confirmed, nothing else changes.
//! - Fetch or read failure: nothing changes (no listing is removed); the error is recorded
//!   and the feed retried after an exponential backoff (`retry_base_secs` doubling per
//!   consecutive failure, at most the feed's interval).
//! - A list with bad lines fails the pull unless the feed is `lenient`; an empty list fails
//!   when entries are listed, unless the feed has `allow_empty` (a truncated download must
//!   not delist everything).
//! - MISP feeds: the manifest is fetched conditionally; events whose timestamp is newer
//!   than the one recorded are fetched and imported in chunks (each chunk one transaction
//!   that renews the lease). A rejected event file fails the pull (after the others are
//!   imported) so it is retried.

use std::time::Duration;

use chrono::Utc;
use tipline_formats::blocklist::csv::CsvListReader;
use tipline_formats::blocklist::{ListEntry, ListError, ListReader};
use tipline_formats::misp::{MispOptions, parse_event, parse_manifest};
use tipline_http::Outbound;
use tipline_model::feed::{CsvOptions, Feed, FeedFormat, PullCounts, PullStatus};
use tipline_model::import::IntelBatch;
use tipline_store::{
    ClaimedFeed, ImportSummary, ListedEntry, PullOutcome, StoreError, Viewer, feed_scope,
};

use crate::fetch::{FetchError, Fetched, Location, Validators, fetch};
use crate::misp::{MispImport, map_file, write};
use crate::progress::Progress;
use crate::report::{ImportReport, PullReport};

/// How pulls behave (`[scheduler]` in the configuration).
#[derive(Debug, Clone)]
pub struct PullSettings {
    /// First retry delay after a failure, in seconds; doubles per consecutive failure.
    pub retry_base_secs: i64,
    /// How long a claim holds, in seconds (renewed by MISP feed chunks).
    pub lease_secs: i64,
}

impl Default for PullSettings {
    fn default() -> Self {
        PullSettings { retry_base_secs: 60, lease_secs: 600 }
    }
}

/// MISP events fetched and written per transaction.
const MISP_CHUNK: usize = 25;
/// Bad lines quoted in a failed pull's error.
const QUOTED_ERRORS: usize = 3;

/// When to retry after the `failures`-th consecutive failure: `base · 2^(failures-1)`, at
/// most the feed's interval (or `base` when the interval is shorter).
pub fn retry_delay(failures: i64, base_secs: i64, interval_secs: i64) -> Duration {
    let exponent = (failures.max(1) - 1).min(30) as u32;
    let delay = base_secs.max(1).saturating_mul(1i64 << exponent);
    Duration::from_secs(delay.min(interval_secs.max(base_secs)).max(1) as u64)
}

/// Why a pull failed before applying anything (recorded on the feed).
enum Failure {
    /// Fetching or reading the content failed.
    Content(String),
    /// The store failed; the outcome may not be recordable (a lost lease).
    Store(StoreError),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Store(e)
    }
}

impl From<FetchError> for Failure {
    fn from(e: FetchError) -> Self {
        Failure::Content(e.to_string())
    }
}

/// Pull a claimed feed and record the outcome. Only store failures are errors (then the
/// outcome may not be recorded: the lease was lost or the database is down); everything
/// else is a report, `Failed` included.
pub async fn pull(
    viewer: &Viewer<'_>,
    outbound: &Outbound,
    claimed: &ClaimedFeed,
    settings: &PullSettings,
    progress: &dyn Progress,
) -> Result<PullReport, StoreError> {
    let feed = &claimed.feed;
    let result = if feed.format == FeedFormat::MispFeed {
        pull_misp(viewer, outbound, claimed, progress).await
    } else {
        pull_list(viewer, outbound, claimed, progress).await
    };
    progress.finish();
    let message = match result {
        Ok(report) => return Ok(report),
        Err(Failure::Content(message)) => message,
        Err(Failure::Store(error)) => {
            // Record what can be recorded; a lost lease or a dead database cannot be.
            let message = error.to_string();
            if !matches!(error, StoreError::Conflict(_)) {
                let _ = viewer.record_pull(&claimed.lease, &failed(feed, settings, &message)).await;
            }
            return Err(error);
        }
    };
    let outcome = failed(feed, settings, &message);
    viewer.record_pull(&claimed.lease, &outcome).await?;
    tracing::warn!(feed = %feed.name, error = %message, retry_at = %outcome.next_pull_at, "feed pull failed");
    Ok(PullReport {
        feed: feed.name.clone(),
        status: PullStatus::Failed,
        counts: PullCounts::default(),
        error: Some(message),
        import: None,
        next_pull_at: outcome.next_pull_at,
    })
}

fn failed(feed: &Feed, settings: &PullSettings, message: &str) -> PullOutcome {
    let delay = retry_delay(
        feed.status.consecutive_failures + 1,
        settings.retry_base_secs,
        feed.interval_secs,
    );
    PullOutcome {
        status: PullStatus::Failed,
        counts: PullCounts::default(),
        error: Some(message.to_string()),
        etag: None,
        last_modified: None,
        next_pull_at: Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default(),
    }
}

/// A successful outcome: the content's validators, due again after the interval.
fn success(
    feed: &Feed,
    status: PullStatus,
    counts: PullCounts,
    validators: Validators,
) -> PullOutcome {
    PullOutcome {
        status,
        counts,
        error: None,
        etag: validators.etag,
        last_modified: validators.last_modified,
        next_pull_at: Utc::now() + chrono::Duration::seconds(feed.interval_secs),
    }
}

/// Fetch `location` conditionally on the validators of the content last applied. When it
/// did not change, the pull is recorded as not modified and its report is the `Err` side.
async fn fetch_changed(
    viewer: &Viewer<'_>,
    outbound: &Outbound,
    claimed: &ClaimedFeed,
    location: &Location,
    progress: &dyn Progress,
) -> Result<Result<(Vec<u8>, Validators), PullReport>, Failure> {
    let feed = &claimed.feed;
    progress.stage("fetching", None);
    let previous =
        Validators { etag: claimed.etag.clone(), last_modified: claimed.last_modified.clone() };
    match fetch(outbound, location, &previous).await? {
        Fetched::Content { body, validators } => Ok(Ok((body, validators))),
        Fetched::NotModified => {
            let outcome = success(feed, PullStatus::NotModified, PullCounts::default(), previous);
            viewer.record_pull(&claimed.lease, &outcome).await?;
            Ok(Err(PullReport {
                feed: feed.name.clone(),
                status: PullStatus::NotModified,
                counts: PullCounts {
                    entries: feed.status.listed,
                    unchanged: feed.status.listed,
                    ..Default::default()
                },
                error: None,
                import: None,
                next_pull_at: outcome.next_pull_at,
            }))
        }
    }
}

async fn pull_list(
    viewer: &Viewer<'_>,
    outbound: &Outbound,
    claimed: &ClaimedFeed,
    progress: &dyn Progress,
) -> Result<PullReport, Failure> {
    let feed = &claimed.feed;
    let location = Location::of(feed);
    let (body, validators) =
        match fetch_changed(viewer, outbound, claimed, &location, progress).await? {
            Ok(content) => content,
            Err(not_modified) => return Ok(not_modified),
        };
    progress.stage("reading", None);
    let (entries, errors) = read_list(feed.format, feed.csv.as_ref(), &body, progress);
    if !errors.is_empty() && !feed.lenient {
        let quoted: Vec<String> =
            errors.iter().take(QUOTED_ERRORS).map(ToString::to_string).collect();
        return Err(Failure::Content(format!(
            "{location}: {} bad line{}, nothing applied (set lenient to skip bad lines): {}",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" },
            quoted.join("; ")
        )));
    }
    if entries.is_empty() && feed.status.listed > 0 && !feed.allow_empty {
        return Err(Failure::Content(format!(
            "{location}: the list is empty but {} entries are listed; nothing applied (set allow_empty to accept an empty list)",
            feed.status.listed
        )));
    }
    progress.stage("writing", Some(entries.len() as u64));
    let outcome = success(feed, PullStatus::Ok, PullCounts::default(), validators);
    let next = outcome.next_pull_at;
    let rejected = errors.len() as i64;
    let counts = viewer.apply_list_pull(claimed, entries, rejected, outcome).await?;
    progress.advance(counts.entries as u64);
    tracing::info!(feed = %feed.name, added = counts.added, removed = counts.removed, unchanged = counts.unchanged, rejected = counts.rejected, "feed pulled");
    Ok(PullReport {
        feed: feed.name.clone(),
        status: PullStatus::Ok,
        counts,
        error: None,
        import: None,
        next_pull_at: next,
    })
}

/// Read a list body with the reader of its format.
pub fn read_list(
    format: FeedFormat,
    csv: Option<&CsvOptions>,
    body: &[u8],
    progress: &dyn Progress,
) -> (Vec<ListedEntry>, Vec<ListError>) {
    let items: Box<dyn Iterator<Item = Result<ListEntry, ListError>>> = match (format, csv) {
        (FeedFormat::Csv, Some(options)) => Box::new(CsvListReader::new(body, options)),
        (FeedFormat::Csv, None) => {
            return (Vec::new(), vec![ListError::new(0, "csv feed without column mapping")]);
        }
        (FeedFormat::Netset | FeedFormat::Plain | FeedFormat::Spamhaus, _) => {
            Box::new(ListReader::new(body))
        }
        (FeedFormat::MispFeed, _) => {
            return (Vec::new(), vec![ListError::new(0, "a MISP feed is not a list")]);
        }
    };
    let (mut entries, mut errors) = (Vec::new(), Vec::new());
    for item in items {
        match item {
            Ok(entry) => {
                entries.push(ListedEntry {
                    indicator: entry.indicator,
                    reference: entry.reference,
                    comment: entry.comment,
                });
                if entries.len() % 1024 == 0 {
                    progress.advance(1024);
                }
            }
            Err(error) => errors.push(error),
        }
    }
    (entries, errors)
}

async fn pull_misp(
    viewer: &Viewer<'_>,
    outbound: &Outbound,
    claimed: &ClaimedFeed,
    progress: &dyn Progress,
) -> Result<PullReport, Failure> {
    let feed = &claimed.feed;
    let base = Location::of(feed);
    let manifest_location = base.child("manifest.json");
    let (body, validators) =
        match fetch_changed(viewer, outbound, claimed, &manifest_location, progress).await? {
            Ok(content) => content,
            Err(not_modified) => return Ok(not_modified),
        };
    let manifest = parse_manifest(&body).map_err(|e| Failure::Content(format!("{base}: {e}")))?;
    let import = MispImport {
        options: MispOptions {
            owner_id: Some(feed.source_id),
            tlp: feed.tlp,
            confidence: feed.confidence,
            tags: feed.tags.clone(),
            shared_to: Vec::new(),
        },
        scope: feed_scope(feed.id),
        lenient: feed.lenient,
    };
    let uuids: Vec<String> = manifest.iter().map(|m| m.uuid.clone()).collect();
    let versions = viewer.import_versions(&import.scope, &uuids).await?;
    let changed: Vec<_> = manifest
        .iter()
        .filter(|m| versions.get(&m.uuid).is_none_or(|&stored| stored < m.timestamp))
        .collect();
    let mut report = ImportReport { format: "misp".into(), committed: true, ..Default::default() };
    report.documents = manifest.len() as u64;
    report.unchanged = (manifest.len() - changed.len()) as u64;
    let mut rejected_files = 0i64;
    let mut imported = 0i64;
    progress.stage("importing events", Some(changed.len() as u64));
    for chunk in changed.chunks(MISP_CHUNK) {
        let mut batch = IntelBatch::default();
        for entry in chunk {
            let location = base.child(&entry.file_name());
            let body = match fetch(outbound, &location, &Validators::default()).await? {
                Fetched::Content { body, .. } => body,
                Fetched::NotModified => Vec::new(),
            };
            let event = parse_event(&body).and_then(|event| {
                if event.uuid == entry.uuid {
                    Ok(event)
                } else {
                    Err(tipline_formats::misp::MispError {
                        location: location.to_string(),
                        reason: format!("holds event {}, not {}", event.uuid, entry.uuid),
                    })
                }
            });
            let mapped = map_file(vec![event], &versions, &import);
            report.add_skipped(&mapped.report.skipped);
            report.unchanged += mapped.report.unchanged;
            if mapped.report.rejected.is_empty() || import.lenient {
                imported += 1;
            }
            if !mapped.report.rejected.is_empty() {
                rejected_files += 1;
                report.rejected.extend(mapped.report.rejected);
            }
            batch.append(mapped.batch);
            progress.advance(1);
        }
        let written: ImportSummary = write(viewer, &batch, &import, Some(&claimed.lease)).await?;
        report.written.add(&written);
    }
    let counts = PullCounts {
        entries: manifest.len() as i64,
        added: imported,
        removed: 0,
        unchanged: report.unchanged as i64,
        rejected: rejected_files,
    };
    if rejected_files > 0 && !import.lenient {
        let first = report.rejected.first().map(ToString::to_string).unwrap_or_default();
        return Err(Failure::Content(format!(
            "{base}: {rejected_files} event file{} rejected and not imported (set lenient to import their valid part): {first}",
            if rejected_files == 1 { "" } else { "s" }
        )));
    }
    let outcome = success(feed, PullStatus::Ok, counts, validators);
    let next = outcome.next_pull_at;
    viewer.record_pull(&claimed.lease, &outcome).await?;
    tracing::info!(feed = %feed.name, events = imported, unchanged = counts.unchanged, rejected = rejected_files, "misp feed pulled");
    Ok(PullReport {
        feed: feed.name.clone(),
        status: PullStatus::Ok,
        counts,
        error: None,
        import: Some(report),
        next_pull_at: next,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_interval() {
        let delays: Vec<u64> = (1..=8).map(|n| retry_delay(n, 60, 3600).as_secs()).collect();
        assert_eq!(delays, [60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(
            retry_delay(3, 60, 10).as_secs(),
            60,
            "never later than the base when the interval is shorter"
        );
        assert_eq!(retry_delay(1000, 60, 86_400).as_secs(), 86_400);
    }
}
