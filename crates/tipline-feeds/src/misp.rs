//! MISP imports: a document (a file, an API request body) or a feed's events, mapped by
//! `tipline_formats::misp` and written through the store in one transaction per file.
//!
//! Incremental: each event's `timestamp` is recorded per scope (the feed, or the owner of
//! one-off imports); an event whose timestamp is not newer than the recorded one is skipped
//! as unchanged. Strictness is per file: without `lenient`, one problem in a file (bad JSON,
//! an unreadable attribute, an invalid value of a mapped type) rejects the whole file and
//! nothing of it is written; with `lenient`, the problems are left out and listed.

use std::collections::HashMap;

use tipline_formats::misp::{Event, MispError, MispOptions, map_event, parse_document};
use tipline_model::import::IntelBatch;
use tipline_store::{PullLease, StoreError, Viewer};

use crate::progress::Progress;
use crate::report::{ImportReport, Rejection};

/// How to import MISP data.
#[derive(Debug, Clone)]
pub struct MispImport {
    /// Owner, default TLP and confidence, tags and sharing of what is created.
    pub options: MispOptions,
    /// Where versions are recorded (`tipline_store::feed_scope` / `owner_scope`).
    pub scope: String,
    /// Import the valid part of a file with problems.
    pub lenient: bool,
}

/// Events of one file, mapped: what to write and what the report says about them.
pub(crate) struct Mapped {
    pub batch: IntelBatch,
    pub report: ImportReport,
}

impl From<MispError> for Rejection {
    fn from(e: MispError) -> Self {
        Rejection { location: e.location, reason: e.reason }
    }
}

/// Map the events of one file, skipping those whose recorded version is current. In
/// strict mode a file with any rejection maps to an empty batch.
pub(crate) fn map_file(
    events: Vec<Result<Event, MispError>>,
    versions: &HashMap<String, i64>,
    import: &MispImport,
) -> Mapped {
    let mut report = ImportReport { format: "misp".into(), ..Default::default() };
    let mut batch = IntelBatch::default();
    for event in events {
        report.documents += 1;
        let event = match event {
            Ok(event) => event,
            Err(error) => {
                report.rejected.push(error.into());
                continue;
            }
        };
        if versions.get(&event.uuid).is_some_and(|&stored| stored >= event.timestamp) {
            report.unchanged += 1;
            continue;
        }
        let mapped = map_event(&event, &import.options);
        report.rejected.extend(event.problems.iter().cloned().map(Rejection::from));
        report.rejected.extend(mapped.rejected.into_iter().map(Rejection::from));
        report.add_skipped(&mapped.skipped);
        batch.append(mapped.batch);
    }
    if !import.lenient && !report.rejected.is_empty() {
        batch = IntelBatch::default();
    }
    Mapped { batch, report }
}

/// The uuids of the readable events of a file.
pub(crate) fn uuids(events: &[Result<Event, MispError>]) -> Vec<String> {
    events.iter().filter_map(|e| e.as_ref().ok()).map(|e| e.uuid.clone()).collect()
}

/// Import one MISP document (any form `parse_document` reads) in one transaction.
/// A file rejected as a whole comes back with `committed: false`.
pub async fn import_document(
    viewer: &Viewer<'_>,
    bytes: &[u8],
    import: &MispImport,
    progress: &dyn Progress,
) -> Result<ImportReport, StoreError> {
    progress.stage("reading", None);
    let events = match parse_document(bytes) {
        Ok(events) => events,
        Err(error) => {
            progress.finish();
            return Ok(ImportReport {
                format: "misp".into(),
                rejected: vec![error.into()],
                ..Default::default()
            });
        }
    };
    let versions = viewer.import_versions(&import.scope, &uuids(&events)).await?;
    progress.stage("mapping", Some(events.len() as u64));
    let Mapped { batch, mut report } = map_file(events, &versions, import);
    progress.advance(report.documents);
    if !import.lenient && !report.rejected.is_empty() {
        progress.finish();
        return Ok(report);
    }
    progress.stage("writing", Some(batch.indicators.len() as u64));
    report.written = write(viewer, &batch, import, None).await?;
    report.committed = true;
    progress.advance(batch.indicators.len() as u64);
    progress.finish();
    Ok(report)
}

/// Write a batch (nothing to write is not a transaction).
pub(crate) async fn write(
    viewer: &Viewer<'_>,
    batch: &IntelBatch,
    import: &MispImport,
    lease: Option<&PullLease>,
) -> Result<tipline_store::ImportSummary, StoreError> {
    if batch.is_empty() {
        return Ok(Default::default());
    }
    viewer.import_batch(batch, &import.scope, lease).await
}
