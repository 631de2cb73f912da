//! Feeds and listings: a source organization's list pulled on a schedule, and the history
//! of what each list said about each network or value.
//!
//! A feed belongs to a **source** organization, which owns everything the feed brings in
//! (indicators, listings) and gives it a default TLP, confidence and tags. Each pull of a
//! blocklist is compared with the previous one: a value that appears opens a [`Listing`]
//! (`first_listed`), a value still present moves its `last_listed`, a value that disappears
//! is delisted (`delisted_at`). A value listed again later opens a new listing, so the
//! history of listing periods is kept.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::validate::{Errors, FieldError, normalize_tag};
use crate::{IndicatorKind, Tlp};

crate::string_enum! {
    /// How a feed's content is read. The one registration list of feed formats: adding a
    /// format adds a variant here and its reader in the feed puller.
    pub enum FeedFormat as "feed format" {
        /// CSV with a column mapping (`csv` options name the value column).
        Csv = "csv",
        /// A MISP feed: `manifest.json` plus one `{uuid}.json` event per manifest entry.
        MispFeed = "misp-feed" | "misp",
        /// FireHOL `.netset` / `.ipset`: networks or addresses one per line, `#` comments.
        Netset = "netset" | "ipset",
        /// One address, network, range or domain per line, with `#`, `;` or `//` comments.
        Plain = "plain" | "txt",
        /// Spamhaus DROP/EDROP: `network ; SBL…` lines; the SBL id becomes the listing reference.
        Spamhaus = "spamhaus" | "drop" | "edrop",
    }
}

impl FeedFormat {
    /// Whether pulls of this format are lists whose entries are tracked as listings
    /// (everything but MISP feeds, which bring events).
    pub fn is_list(self) -> bool {
        !matches!(self, FeedFormat::MispFeed)
    }
}

crate::string_enum! {
    /// Where a feed's definition comes from.
    pub enum FeedOrigin as "feed origin" {
        /// `[[feeds]]` in the configuration file; changed only by editing it.
        Config = "config",
        /// Added through the API or `tipline feed add`.
        Api = "api",
    }
}

crate::string_enum! {
    /// How a pull ended.
    pub enum PullStatus as "pull status" {
        /// Fetched and applied.
        Ok = "ok",
        /// The server (or file) said nothing changed; listings were confirmed as still listed.
        NotModified = "not_modified",
        /// Fetching or reading failed; nothing changed.
        Failed = "failed",
    }
}

/// How to read a CSV list: which column holds the value and which hold the reference and
/// a comment. Columns are header names or 1-based numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CsvOptions {
    /// Column with the address, network, domain or other indicator value.
    pub value_column: String,
    /// Column with a reference for the listing (an id at the list's maintainer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_column: Option<String>,
    /// Column with a free-text comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment_column: Option<String>,
    /// Field delimiter, one ASCII character (`,` by default; `\t` for tabs).
    #[serde(default = "default_delimiter")]
    pub delimiter: String,
    /// Whether the first record is a header (default true; required to name columns).
    #[serde(default = "default_true")]
    pub has_header: bool,
    /// Lines starting with this are comments (default `#`).
    #[serde(default = "default_comment_prefix")]
    pub comment_prefix: String,
}

fn default_delimiter() -> String {
    ",".into()
}

fn default_true() -> bool {
    true
}

fn default_comment_prefix() -> String {
    "#".into()
}

impl CsvOptions {
    /// Options reading `value_column` of a comma-separated file with a header.
    pub fn new(value_column: impl Into<String>) -> CsvOptions {
        CsvOptions {
            value_column: value_column.into(),
            reference_column: None,
            comment_column: None,
            delimiter: default_delimiter(),
            has_header: true,
            comment_prefix: default_comment_prefix(),
        }
    }

    /// The delimiter as a byte (`\t` written as two characters is accepted).
    pub fn delimiter_byte(&self) -> Result<u8, String> {
        match self.delimiter.as_str() {
            "\\t" | "\t" => Ok(b'\t'),
            d if d.len() == 1 && d.is_ascii() => Ok(d.as_bytes()[0]),
            d => Err(format!("must be one ASCII character, got `{d}`")),
        }
    }

    fn check(&self, errors: &mut Errors) {
        if let Err(reason) = self.delimiter_byte() {
            errors.add("csv.delimiter", reason);
        }
        for (field, column) in [
            ("csv.value_column", Some(&self.value_column)),
            ("csv.reference_column", self.reference_column.as_ref()),
            ("csv.comment_column", self.comment_column.as_ref()),
        ] {
            let Some(column) = column else { continue };
            if column.trim().is_empty() {
                errors.add(field, "must not be empty");
            } else if !self.has_header && column.trim().parse::<usize>().is_err() {
                errors.add(field, "without a header row, columns are numbers (1 is the first)");
            } else if column.trim() == "0" {
                errors.add(field, "columns are numbered from 1");
            }
        }
    }
}

/// Input to define a feed (API, CLI, or a `[[feeds]]` table of the configuration).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedInput {
    /// Unique name (1–100 bytes), used by `tipline feed pull NAME`.
    pub name: String,
    /// The source organization that owns what the feed brings (name or id); created as a
    /// source organization when none has that name. Default: the feed's name.
    #[serde(default)]
    pub source: Option<String>,
    /// `http://` or `https://` URL to pull (a MISP feed: its base URL). Give `url` or `path`.
    #[serde(default)]
    pub url: Option<String>,
    /// A file on the server (a MISP feed: its directory). Give `url` or `path`.
    #[serde(default)]
    pub path: Option<String>,
    /// How to read it.
    pub format: Option<FeedFormat>,
    /// Seconds between pulls (default 3600).
    #[serde(default)]
    pub interval_secs: Option<i64>,
    /// TLP of what the feed brings (default `amber`; MISP `tlp:` tags override per event).
    #[serde(default)]
    pub tlp: Option<Tlp>,
    /// Confidence 0–100 of what the feed brings (default 50).
    #[serde(default)]
    pub confidence: Option<i64>,
    /// Tags added to every indicator the feed brings.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Import the valid part of a pull that has bad entries (default false: a bad entry
    /// fails the whole pull and nothing changes).
    #[serde(default)]
    pub lenient: Option<bool>,
    /// Accept a pull with no entries as "everything delisted" (default false: an empty
    /// pull of a list that had entries fails, so a truncated download delists nothing).
    #[serde(default)]
    pub allow_empty: Option<bool>,
    /// CSV column mapping; required for `csv`, refused for other formats.
    #[serde(default)]
    pub csv: Option<CsvOptions>,
    /// Whether the scheduler pulls it (default true).
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// Default seconds between pulls.
pub const DEFAULT_INTERVAL_SECS: i64 = 3600;

impl FeedInput {
    /// Validate every field; the result has tags normalized and defaults filled in.
    pub fn check(&self) -> Result<FeedInput, Vec<FieldError>> {
        let mut errors = Errors::default();
        errors.check_text("name", &self.name, 100, true);
        if let Some(source) = &self.source {
            errors.check_text("source", source, 200, true);
        }
        match (&self.url, &self.path) {
            (Some(_), Some(_)) => errors.add("url", "give either url or path, not both"),
            (None, None) => errors.add("url", "required (or path)"),
            (Some(url), None) => match url::Url::parse(url.trim()) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
                Ok(u) => {
                    errors.add("url", format!("scheme must be http or https, got `{}`", u.scheme()))
                }
                Err(e) => errors.add("url", format!("`{url}` is not a url: {e}")),
            },
            (None, Some(path)) => errors.check_text("path", path, 4096, true),
        }
        match self.format {
            None => errors.add("format", format!("required; one of: {}", FeedFormat::NAMES)),
            Some(FeedFormat::Csv) => match &self.csv {
                Some(csv) => csv.check(&mut errors),
                None => errors.add("csv", "required for format csv (csv.value_column at least)"),
            },
            Some(format) if self.csv.is_some() => {
                errors.add("csv", format!("only allowed for format csv, not {format}"))
            }
            Some(_) => {}
        }
        if let Some(interval) = self.interval_secs
            && !(1..=366 * 86_400).contains(&interval)
        {
            errors.add("interval_secs", format!("must be between 1 and 31622400, got {interval}"));
        }
        errors.check_range("confidence", self.confidence, 100);
        let mut tags = Vec::with_capacity(self.tags.len());
        for (i, tag) in self.tags.iter().enumerate() {
            match normalize_tag(tag) {
                Ok(tag) => tags.push(tag),
                Err(reason) => errors.add(format!("tags[{i}]"), reason),
            }
        }
        tags.sort();
        tags.dedup();
        if tags.len() > 50 {
            errors.add("tags", "at most 50 tags");
        }
        errors.finish()?;
        Ok(FeedInput {
            name: self.name.trim().to_string(),
            source: Some(self.source.as_deref().unwrap_or(&self.name).trim().to_string()),
            url: self.url.as_ref().map(|u| u.trim().to_string()),
            path: self.path.clone(),
            format: self.format,
            interval_secs: Some(self.interval_secs.unwrap_or(DEFAULT_INTERVAL_SECS)),
            tlp: Some(self.tlp.unwrap_or(Tlp::Amber)),
            confidence: Some(self.confidence.unwrap_or(50)),
            tags,
            lenient: Some(self.lenient.unwrap_or(false)),
            allow_empty: Some(self.allow_empty.unwrap_or(false)),
            csv: self.csv.clone(),
            enabled: Some(self.enabled.unwrap_or(true)),
        })
    }
}

/// What one pull found, compared with the previous pull. For MISP feeds the units are
/// events: `entries` in the manifest, `added` imported, `unchanged` skipped as already
/// imported, `rejected` malformed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PullCounts {
    /// Distinct entries in the pulled list.
    pub entries: i64,
    /// Entries newly listed (a relisting counts here).
    pub added: i64,
    /// Entries delisted (present before, absent now).
    pub removed: i64,
    /// Entries listed before and still listed.
    pub unchanged: i64,
    /// Lines or events rejected as malformed (only a lenient feed gets this far with some).
    pub rejected: i64,
}

/// The state of a feed's pulls.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FeedStatus {
    /// When the last pull (of any outcome) finished.
    pub last_pull_at: Option<DateTime<Utc>>,
    /// How it ended.
    pub last_pull_status: Option<PullStatus>,
    /// When a pull last succeeded (including "not modified").
    pub last_success_at: Option<DateTime<Utc>>,
    /// The last failure's message.
    pub last_error: Option<String>,
    /// When the last failure happened.
    pub last_error_at: Option<DateTime<Utc>>,
    /// Failures since the last success (drives the retry backoff).
    pub consecutive_failures: i64,
    /// When the scheduler pulls next.
    pub next_pull_at: DateTime<Utc>,
    /// Counts of the last successful pull that fetched content.
    pub last_counts: PullCounts,
    /// Entries currently listed.
    pub listed: i64,
    /// The node pulling it right now, if one holds the lease.
    pub leased_by: Option<String>,
}

/// A feed with its status.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Feed {
    /// Identifier.
    pub id: Uuid,
    /// Unique name.
    pub name: String,
    /// The source organization owning what it brings.
    pub source_id: Uuid,
    /// That organization's name.
    pub source_name: String,
    /// URL pulled, if it is pulled over HTTP.
    pub url: Option<String>,
    /// File or directory read, if it is read from disk.
    pub path: Option<String>,
    /// How it is read.
    pub format: FeedFormat,
    /// Seconds between pulls.
    pub interval_secs: i64,
    /// TLP of what it brings.
    pub tlp: Tlp,
    /// Confidence of what it brings.
    pub confidence: i64,
    /// Tags added to what it brings.
    pub tags: Vec<String>,
    /// Whether bad entries are skipped instead of failing the pull.
    pub lenient: bool,
    /// Whether an empty pull may delist everything.
    pub allow_empty: bool,
    /// CSV column mapping.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csv: Option<CsvOptions>,
    /// Whether the scheduler pulls it.
    pub enabled: bool,
    /// Configuration file or API.
    pub origin: FeedOrigin,
    /// Pull state.
    pub status: FeedStatus,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change of the definition.
    pub updated_at: DateTime<Utc>,
}

/// One pull of a feed, as recorded in its history.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FeedPull {
    /// Identifier.
    pub id: Uuid,
    /// The node that pulled.
    pub node: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it finished.
    pub finished_at: DateTime<Utc>,
    /// How it ended.
    pub status: PullStatus,
    /// Why it failed.
    pub error: Option<String>,
    /// What it found.
    pub counts: PullCounts,
}

/// One listing period: a value on a feed's list from `first_listed` until it disappeared
/// (`delisted_at`), or until now when `delisted_at` is absent.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Listing {
    /// Identifier.
    pub id: Uuid,
    /// The feed whose list it is on.
    pub feed_id: Uuid,
    /// The source organization (owner of the listing).
    pub owner_id: Uuid,
    /// TLP of the listing (the feed's).
    pub tlp: Tlp,
    /// What is listed.
    pub kind: IndicatorKind,
    /// The canonical value (an address, network, domain...).
    pub value: String,
    /// The list's own reference for the entry (Spamhaus `SBL…`), if any.
    pub reference: Option<String>,
    /// The list's comment for the entry, if any.
    pub comment: Option<String>,
    /// The indicator the listing upserted (owned by the source).
    pub indicator_id: Option<Uuid>,
    /// The first pull that listed it (this period).
    pub first_listed: DateTime<Utc>,
    /// The last pull that listed it.
    pub last_listed: DateTime<Utc>,
    /// The pull that found it gone; absent while listed.
    pub delisted_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> FeedInput {
        FeedInput {
            name: "drop".into(),
            url: Some("https://lists.example/drop.txt".into()),
            format: Some(FeedFormat::Spamhaus),
            ..Default::default()
        }
    }

    fn reasons(input: FeedInput) -> Vec<String> {
        input.check().unwrap_err().iter().map(ToString::to_string).collect()
    }

    #[test]
    fn defaults_fill_in() {
        let checked = input().check().unwrap();
        assert_eq!(checked.source.as_deref(), Some("drop"));
        assert_eq!(checked.interval_secs, Some(DEFAULT_INTERVAL_SECS));
        assert_eq!(checked.tlp, Some(Tlp::Amber));
        assert_eq!(checked.confidence, Some(50));
        assert_eq!(checked.lenient, Some(false));
        assert_eq!(checked.enabled, Some(true));
    }

    #[test]
    fn every_problem_is_named() {
        assert_eq!(
            reasons(FeedInput {
                name: " ".into(),
                url: Some("ftp://x.example/list".into()),
                path: None,
                format: Some(FeedFormat::Netset),
                csv: Some(CsvOptions::new("ip")),
                interval_secs: Some(0),
                confidence: Some(101),
                ..Default::default()
            }),
            [
                "name: must not be empty",
                "url: scheme must be http or https, got `ftp`",
                "csv: only allowed for format csv, not netset",
                "interval_secs: must be between 1 and 31622400, got 0",
                "confidence: must be between 0 and 100, got 101",
            ]
        );
        assert_eq!(
            reasons(FeedInput { path: Some("/x".into()), ..input() }),
            ["url: give either url or path, not both"]
        );
        assert_eq!(
            reasons(FeedInput { format: Some(FeedFormat::Csv), ..input() }),
            ["csv: required for format csv (csv.value_column at least)"]
        );
        let csv = CsvOptions { delimiter: ";;".into(), has_header: false, ..CsvOptions::new("ip") };
        assert_eq!(
            reasons(FeedInput { format: Some(FeedFormat::Csv), csv: Some(csv), ..input() }),
            [
                "csv.delimiter: must be one ASCII character, got `;;`",
                "csv.value_column: without a header row, columns are numbers (1 is the first)",
            ]
        );
    }

    #[test]
    fn format_names_and_aliases() {
        assert_eq!("ipset".parse::<FeedFormat>().unwrap(), FeedFormat::Netset);
        assert_eq!("misp".parse::<FeedFormat>().unwrap(), FeedFormat::MispFeed);
        assert_eq!(FeedFormat::NAMES, "csv, misp-feed, netset, plain, spamhaus");
        assert!(!FeedFormat::MispFeed.is_list());
        assert_eq!(
            CsvOptions { delimiter: "\\t".into(), ..CsvOptions::new("1") }.delimiter_byte(),
            Ok(b'\t')
        );
    }
}
