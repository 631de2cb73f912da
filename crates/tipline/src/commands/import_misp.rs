//! `tipline import FILE --format misp`: MISP event documents and feed directories.
//!
//! A file is one transaction. A directory holding `manifest.json` is a MISP feed: each of
//! its event files is imported as a file of its own (one transaction each, a rejected file
//! does not stop the others). Events already imported with the same `timestamp` (by the
//! same owner) are skipped.

use std::path::Path;

use anyhow::{Context as _, bail};
use tipline_feeds::{ImportReport, MispImport, import_document};
use tipline_formats::misp::{MispOptions, parse_manifest};
use tipline_model::Tlp;
use tipline_store::{Viewer, owner_scope};

use super::Context;
use super::import::{ImportArgs, Resolved};
use crate::output;
use crate::progress::Bar;

pub async fn run(
    context: &Context,
    viewer: &Viewer<'_>,
    args: &ImportArgs,
    resolved: &Resolved,
) -> anyhow::Result<()> {
    let import = MispImport {
        options: MispOptions {
            owner_id: resolved.owner_id,
            tlp: args.tlp.unwrap_or(Tlp::Amber),
            confidence: args.confidence.unwrap_or(50),
            tags: args.tags.clone(),
            shared_to: resolved.shared_to.clone(),
        },
        scope: owner_scope(resolved.owner_id.unwrap_or(resolved.acting_org)),
        lenient: args.lenient,
    };
    let files = files_of(&args.file)?;
    let mut reports = Vec::with_capacity(files.len());
    for file in &files {
        let bytes =
            std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        let progress = Bar::for_terminal(file.display().to_string());
        let report = import_document(viewer, &bytes, &import, progress.as_ref()).await?;
        reports.push((file.display().to_string(), report));
    }
    let rejected_files: Vec<&str> =
        reports.iter().filter(|(_, r)| !r.committed).map(|(f, _)| f.as_str()).collect();
    if context.json {
        let json: Vec<_> = reports
            .iter()
            .map(|(file, report)| serde_json::json!({ "file": file, "report": report }))
            .collect();
        output::json(&json)?;
    } else {
        for (file, report) in &reports {
            output::lines(describe(file, report))?;
        }
    }
    if !rejected_files.is_empty() {
        bail!(
            "nothing imported from {} (use --lenient to import the valid part)",
            rejected_files.join(", ")
        );
    }
    Ok(())
}

/// The file itself, or the event files a feed directory's manifest lists.
fn files_of(path: &Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let manifest_path = path.join("manifest.json");
    let manifest = std::fs::read(&manifest_path).with_context(|| {
        format!("{} is a directory but has no readable manifest.json", path.display())
    })?;
    let entries =
        parse_manifest(&manifest).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(entries.iter().map(|entry| path.join(entry.file_name())).collect())
}

/// The report for people: counts per kind, what was skipped and rejected.
fn describe(file: &str, report: &ImportReport) -> Vec<String> {
    let mut lines = Vec::new();
    let verdict = if report.committed { "imported" } else { "rejected" };
    lines.push(format!(
        "{verdict} {file}: {} event{}, {} unchanged",
        report.documents,
        if report.documents == 1 { "" } else { "s" },
        report.unchanged
    ));
    let tallies =
        |title: &str, tallies: &std::collections::BTreeMap<String, tipline_store::Tally>| {
            let parts: Vec<String> = tallies
                .iter()
                .map(|(kind, t)| format!("{kind} {} new, {} existing", t.created, t.existing))
                .collect();
            (!parts.is_empty()).then(|| format!("  {title}: {}", parts.join("; ")))
        };
    lines.extend(tallies("indicators", &report.written.indicators));
    lines.extend(tallies("groups", &report.written.groups));
    if report.written.associations > 0 {
        lines.push(format!("  associations: {} new", report.written.associations));
    }
    if !report.skipped.is_empty() {
        let parts: Vec<String> = report.skipped.iter().map(|(t, n)| format!("{t} {n}")).collect();
        lines.push(format!("  skipped (not indicators): {}", parts.join(", ")));
    }
    if !report.rejected.is_empty() {
        lines.push(format!(
            "  {} problem{}:",
            report.rejected.len(),
            if report.rejected.len() == 1 { "" } else { "s" }
        ));
        lines.extend(report.rejected.iter().map(|r| format!("    {r}")));
    }
    lines
}
