//! Where standalone `tipline match` gets what it matches against: indicator files (one
//! registration list of file formats), a constituency file and warninglist files.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, bail};
use tipline_formats::blocklist::ListReader;
use tipline_formats::warninglist::{self, Warninglist};
use tipline_index::{IndicatorEntry, Owner, RegisteredEntry};
use tipline_model::admin::ConstituencyEntry;
use tipline_model::{Tlp, canonicalize, detect};
use uuid::Uuid;

/// Reads one indicator file: calls `add` for each indicator, returns how many lines were
/// rejected (with the first few reasons in `rejected`).
type Loader = fn(
    &Path,
    &mut dyn FnMut(tipline_model::Canonical, Option<Tlp>),
    &mut Vec<String>,
) -> anyhow::Result<()>;

/// An indicator file format.
pub struct IndicatorFileFormat {
    /// Name in `--indicators-format NAME`.
    pub name: &'static str,
    /// File name endings that select it when no format is named.
    pub extensions: &'static [&'static str],
    /// One line for help texts.
    pub description: &'static str,
    load: Loader,
}

/// Every indicator file format, alphabetical. STIX 2.1 bundles and CSV with a column
/// mapping join this list when their parsers land in `tipline-formats`.
pub const INDICATOR_FILE_FORMATS: &[IndicatorFileFormat] = &[
    IndicatorFileFormat {
        name: "jsonl",
        extensions: &["jsonl", "ndjson"],
        description: "JSON lines: {\"value\": ..., \"kind\": ..., \"tlp\": ...} (kind and tlp optional)",
        load: load_jsonl,
    },
    IndicatorFileFormat {
        name: "plain",
        extensions: &["netset", "ipset", "txt", "list"],
        description: "one value per line: FireHOL netset/ipset, Spamhaus DROP, plain lists",
        load: load_plain,
    },
];

/// The format named `name`, or the one a file's extension selects (default `plain`).
pub fn indicator_format(
    name: Option<&str>,
    path: &Path,
) -> anyhow::Result<&'static IndicatorFileFormat> {
    if let Some(name) = name {
        return INDICATOR_FILE_FORMATS.iter().find(|f| f.name == name).with_context(|| {
            let names: Vec<_> = INDICATOR_FILE_FORMATS
                .iter()
                .map(|f| format!("{} ({})", f.name, f.description))
                .collect();
            format!("unknown indicator file format `{name}`; expected one of: {}", names.join("; "))
        });
    }
    let extension =
        path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
    Ok(INDICATOR_FILE_FORMATS
        .iter()
        .find(|f| f.extensions.contains(&extension.as_str()))
        .unwrap_or(&INDICATOR_FILE_FORMATS[1]))
}

/// Load indicator files into entries owned by each file; at most `max_errors` bad lines
/// per file are tolerated only with `lenient`.
pub fn load_indicators(
    paths: &[PathBuf],
    format: Option<&str>,
    default_tlp: Tlp,
    lenient: bool,
) -> anyhow::Result<Vec<IndicatorEntry>> {
    let mut entries = Vec::new();
    let mut next_id = 1u128;
    for path in paths {
        let loader = indicator_format(format, path)?;
        let owner = Owner::File(Arc::from(path.display().to_string()));
        let mut rejected = Vec::new();
        (loader.load)(
            path,
            &mut |value, tlp| {
                entries.push(IndicatorEntry {
                    id: Uuid::from_u128(next_id),
                    owner: owner.clone(),
                    tlp: tlp.unwrap_or(default_tlp),
                    value,
                });
                next_id += 1;
            },
            &mut rejected,
        )?;
        if !rejected.is_empty() && !lenient {
            bail!(
                "{}: {} invalid line(s), nothing loaded (use --lenient to skip them): {}",
                path.display(),
                rejected.len(),
                rejected.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
            );
        }
        for reason in rejected.iter().take(5) {
            tracing::warn!(file = %path.display(), "skipped {reason}");
        }
    }
    Ok(entries)
}

fn open(path: &Path) -> anyhow::Result<BufReader<File>> {
    Ok(BufReader::new(File::open(path).with_context(|| format!("cannot open {}", path.display()))?))
}

fn load_plain(
    path: &Path,
    add: &mut dyn FnMut(tipline_model::Canonical, Option<Tlp>),
    rejected: &mut Vec<String>,
) -> anyhow::Result<()> {
    let mut reader = ListReader::new(open(path)?);
    for item in reader.by_ref() {
        match item {
            Ok(entry) => add(entry.indicator, None),
            Err(error) => rejected.push(error.to_string()),
        }
    }
    if let Some(error) = reader.io_error() {
        return Err(error).with_context(|| format!("cannot read {}", path.display()));
    }
    Ok(())
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonIndicator {
    value: String,
    #[serde(default)]
    kind: Option<tipline_model::IndicatorKind>,
    #[serde(default)]
    tlp: Option<Tlp>,
}

fn load_jsonl(
    path: &Path,
    add: &mut dyn FnMut(tipline_model::Canonical, Option<Tlp>),
    rejected: &mut Vec<String>,
) -> anyhow::Result<()> {
    for (n, line) in open(path)?.lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let parsed: Result<JsonIndicator, String> =
            serde_json::from_str(&line).map_err(|e| e.to_string());
        let canonical = parsed.and_then(|j| {
            let value = match j.kind {
                Some(kind) => canonicalize(kind, &j.value),
                None => detect(&j.value),
            };
            value.map(|v| (v, j.tlp)).map_err(|e| e.to_string())
        });
        match canonical {
            Ok((value, tlp)) => add(value, tlp),
            Err(reason) => rejected.push(format!("line {}: {reason}", n + 1)),
        }
    }
    Ok(())
}

/// Load a constituency file: one registration per line, `VALUE ORGANIZATION NAME` (a
/// network, address, `AS<n>` or domain, then the organization's name); `#` starts a
/// comment. Returns the entries and the organization names by the ids given to them.
pub fn load_constituency(
    path: &Path,
) -> anyhow::Result<(Vec<RegisteredEntry>, HashMap<Uuid, String>)> {
    let mut entries = Vec::new();
    let mut ids: HashMap<String, Uuid> = HashMap::new();
    for (n, line) in open(path)?.lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {}", path.display()))?;
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let Some((value, org)) = line.split_once(char::is_whitespace) else {
            bail!("{} line {}: expected `VALUE ORGANIZATION`, got `{line}`", path.display(), n + 1);
        };
        let entry = ConstituencyEntry { kind: None, value: value.to_string() }
            .canonical()
            .map_err(|reason| anyhow::anyhow!("{} line {}: {reason}", path.display(), n + 1))?;
        let next = ids.len() as u128 + 1;
        let org = *ids.entry(org.trim().to_string()).or_insert_with(|| Uuid::from_u128(next));
        entries.push(RegisteredEntry {
            org,
            kind: entry.kind.expect("canonical entries have a kind"),
            value: entry.value,
        });
    }
    Ok((entries, ids.into_iter().map(|(name, id)| (id, name)).collect()))
}

/// Read warninglists from `list.json` files or directories of them (searched
/// recursively for `list.json`), in path order.
pub fn load_warninglists(paths: &[PathBuf]) -> anyhow::Result<Vec<(PathBuf, Warninglist)>> {
    let mut files = Vec::new();
    for path in paths {
        collect_list_files(path, &mut files)?;
    }
    files.sort();
    files
        .into_iter()
        .map(|file| {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let list = warninglist::parse(&bytes).with_context(|| format!("{}", file.display()))?;
            Ok((file, list))
        })
        .collect()
}

fn collect_list_files(path: &Path, files: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if path.is_dir() {
        for entry in
            std::fs::read_dir(path).with_context(|| format!("cannot read {}", path.display()))?
        {
            let entry = entry.with_context(|| format!("cannot read {}", path.display()))?;
            let child = entry.path();
            if child.is_dir() {
                collect_list_files(&child, files)?;
            } else if child.file_name().is_some_and(|n| n == "list.json") {
                files.push(child);
            }
        }
        Ok(())
    } else if path.exists() {
        files.push(path.to_path_buf());
        Ok(())
    } else {
        bail!("{} does not exist", path.display())
    }
}
