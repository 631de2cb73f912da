//! `tipline extract`: the indicators in text files or standard input, as JSON lines, or
//! imported as a report with its indicators and vulnerabilities in one transaction.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use anyhow::Context as _;
use serde::Serialize;
use tipline_formats::extract::{
    ExtractOptions, Hit, HitKind, count_kinds, extract_reader, import_inputs,
};
use tipline_model::GroupKind;
use tipline_model::intel::{GroupInput, IndicatorInput};
use tipline_store::ReportImport;

use super::Context;
use crate::cli::ExtractArgs;
use crate::output;

/// One output line: the file and the hit.
#[derive(Serialize)]
struct Line<'a> {
    file: &'a str,
    #[serde(flatten)]
    hit: &'a Hit,
}

pub async fn run(context: &Context, args: ExtractArgs) -> anyhow::Result<()> {
    if args.import {
        return import(context, args).await;
    }
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut failed: Option<std::io::Error> = None;
    for path in &args.files {
        let name = display_name(path);
        scan_file(path, &args, &mut |hit| {
            if failed.is_some() {
                return;
            }
            let line =
                serde_json::to_string(&Line { file: &name, hit: &hit }).expect("a hit serializes");
            if let Err(e) = writeln!(out, "{line}") {
                failed = Some(e);
            }
        })?;
        if let Some(e) = failed.take() {
            return Err(e.into());
        }
    }
    out.flush()?;
    Ok(())
}

/// Run the extractor over one file (or standard input), applying `--kind` and `--unique`.
fn scan_file(path: &Path, args: &ExtractArgs, sink: &mut dyn FnMut(Hit)) -> anyhow::Result<()> {
    let options = ExtractOptions { hosts: args.hosts };
    let mut seen: HashSet<(HitKind, String)> = HashSet::new();
    let mut filtered = |hit: Hit| {
        if !args.kinds.is_empty() && !args.kinds.contains(&hit.kind) {
            return;
        }
        if args.unique && !seen.insert((hit.kind, hit.value.clone())) {
            return;
        }
        sink(hit);
    };
    let reader: Box<dyn BufRead> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        Box::new(BufReader::with_capacity(1 << 16, file))
    };
    extract_reader(reader, options, &mut filtered)
        .with_context(|| format!("cannot read {}", display_name(path)))
}

fn display_name(path: &Path) -> String {
    if path.as_os_str() == "-" { "-".to_string() } else { path.display().to_string() }
}

/// `--import`: everything found in every file, once, as one report.
async fn import(context: &Context, args: ExtractArgs) -> anyhow::Result<()> {
    let mut found: Vec<Hit> = Vec::new();
    let mut seen: HashSet<(HitKind, String)> = HashSet::new();
    for path in &args.files {
        scan_file(path, &args, &mut |hit| {
            if seen.insert((hit.kind, hit.value.clone())) {
                found.push(hit);
            }
        })?;
    }
    let session = context.session().await?;
    let result = import_found(context, &session, &args, &found).await;
    session.close().await;
    result
}

async fn import_found(
    context: &Context,
    session: &super::Session,
    args: &ExtractArgs,
    found: &[Hit],
) -> anyhow::Result<()> {
    let viewer = session.acting(args.as_org.as_deref()).await?;
    let owner_id = session.optional_org_id(args.owner.as_deref()).await?;
    let shared_to = session.community_ids(&args.share).await?;
    let counts = count_kinds(found);
    let template = IndicatorInput {
        owner_id,
        tlp: args.tlp,
        tags: args.tags.clone(),
        shared_to: shared_to.clone(),
        ..Default::default()
    };
    let (indicators, cves) = import_inputs(found, &template);
    let input = ReportImport {
        report: GroupInput {
            kind: Some(GroupKind::Report),
            name: args.report_name.clone().unwrap_or_default(),
            description: args.description.clone(),
            owner_id,
            tlp: args.tlp,
            tags: args.tags.clone(),
            shared_to,
            ..Default::default()
        },
        indicators,
        cves,
    };
    let imported = viewer.import_report(&input).await?;
    if context.json {
        return output::json(&serde_json::json!({ "found": counts, "import": imported }));
    }
    let found_text = if counts.is_empty() {
        "nothing".to_string()
    } else {
        counts.iter().map(|(kind, n)| format!("{n} {kind}")).collect::<Vec<_>>().join(", ")
    };
    output::lines([
        format!("found {found_text}"),
        format!(
            "report `{}` {} ({})",
            input.report.name,
            if imported.report_created { "created" } else { "reused" },
            imported.report_id
        ),
        format!(
            "indicators: {} created, {} updated; vulnerabilities: {} created, {} reused; \
             associations ({}): {} created",
            imported.indicators_created,
            imported.indicators_updated,
            imported.vulnerabilities_created,
            imported.vulnerabilities_reused,
            imported.relationship,
            imported.associations_created
        ),
    ])
}
