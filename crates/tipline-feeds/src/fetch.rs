//! Fetching a feed's content: over HTTP with a conditional GET (`If-None-Match`,
//! `If-Modified-Since`; `304 Not Modified` means nothing changed), or from a file whose
//! size and modification time play the part of an `ETag`.

use std::fmt;
use std::path::PathBuf;

use reqwest::StatusCode;
use reqwest::header::{
    ETAG, HeaderMap, HeaderValue, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED,
};
use tipline_http::{HttpError, Outbound};
use tipline_model::feed::Feed;

/// Where a feed's content is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// An `http(s)://` URL.
    Url(String),
    /// A file (or, for a MISP feed, a directory).
    Path(PathBuf),
}

impl Location {
    /// The location of a feed.
    pub fn of(feed: &Feed) -> Location {
        match (&feed.url, &feed.path) {
            (Some(url), _) => Location::Url(url.clone()),
            (None, Some(path)) => Location::Path(PathBuf::from(path)),
            (None, None) => Location::Path(PathBuf::new()),
        }
    }

    /// The location of `name` inside this one (a MISP feed's `manifest.json` and event
    /// files): joined to the URL as a directory, or to the path.
    pub fn child(&self, name: &str) -> Location {
        match self {
            Location::Url(base) => {
                let base = base.trim_end_matches('/');
                Location::Url(format!("{base}/{name}"))
            }
            Location::Path(dir) => Location::Path(dir.join(name)),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Url(url) => f.write_str(url),
            Location::Path(path) => write!(f, "{}", path.display()),
        }
    }
}

/// What identifies a version of the content: the server's `ETag` and `Last-Modified`, or a
/// file's size and modification time (as `etag`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// `ETag`.
    pub etag: Option<String>,
    /// `Last-Modified`.
    pub last_modified: Option<String>,
}

/// The result of a fetch.
#[derive(Debug)]
pub enum Fetched {
    /// Unchanged since the content the validators describe.
    NotModified,
    /// New content and its validators.
    Content {
        /// The bytes.
        body: Vec<u8>,
        /// Its validators.
        validators: Validators,
    },
}

/// Why fetching failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// An HTTP failure.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// A file cannot be read.
    #[error("cannot read {path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

/// Fetch `location`; with `previous` validators, only if it changed since.
pub async fn fetch(
    outbound: &Outbound,
    location: &Location,
    previous: &Validators,
) -> Result<Fetched, FetchError> {
    match location {
        Location::Url(url) => fetch_url(outbound, url, previous).await,
        Location::Path(path) => fetch_file(outbound, path, previous).await,
    }
}

async fn fetch_url(
    outbound: &Outbound,
    url: &str,
    previous: &Validators,
) -> Result<Fetched, FetchError> {
    let mut headers = HeaderMap::new();
    let header =
        |value: &Option<String>| value.as_deref().and_then(|v| HeaderValue::from_str(v).ok());
    if let Some(etag) = header(&previous.etag) {
        headers.insert(IF_NONE_MATCH, etag);
    }
    if let Some(modified) = header(&previous.last_modified) {
        headers.insert(IF_MODIFIED_SINCE, modified);
    }
    let response = outbound.get(url, headers).await?;
    let status = response.status();
    if status == StatusCode::NOT_MODIFIED
        && (previous.etag.is_some() || previous.last_modified.is_some())
    {
        return Ok(Fetched::NotModified);
    }
    if !status.is_success() {
        return Err(HttpError::Status { url: url.to_string(), status }.into());
    }
    let text =
        |name| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let validators = Validators { etag: text(ETAG), last_modified: text(LAST_MODIFIED) };
    let body = outbound.read_body(url, response).await?;
    Ok(Fetched::Content { body, validators })
}

async fn fetch_file(
    outbound: &Outbound,
    path: &std::path::Path,
    previous: &Validators,
) -> Result<Fetched, FetchError> {
    let failed = |e: std::io::Error| FetchError::File {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let metadata = tokio::fs::metadata(path).await.map_err(failed)?;
    let modified = metadata
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let etag = format!("file:{}:{modified}", metadata.len());
    if previous.etag.as_deref() == Some(etag.as_str()) {
        return Ok(Fetched::NotModified);
    }
    let limit = outbound.config().max_body_bytes;
    if metadata.len() > limit {
        return Err(FetchError::File {
            path: path.display().to_string(),
            reason: format!("larger than {limit} bytes"),
        });
    }
    let body = tokio::fs::read(path).await.map_err(failed)?;
    Ok(Fetched::Content { body, validators: Validators { etag: Some(etag), last_modified: None } })
}
