//! Precision and recall per kind on the labelled set, of tipline's extractor or of another
//! extractor's predictions (used by `bench/extract.sh`).
//!
//! ```text
//! extract_eval LABELS_DIR REPORTS_DIR [--hosts] [--errors] [--predictions FILE.jsonl]
//! ```
//!
//! Without `--predictions`, tipline's extractor runs on every labelled report. A predictions
//! file has one JSON object per line: `{"file": "unit42-iocs/Conti_IOCs.txt", "kind":
//! "domain", "value": "bestarg.com"}` (`file` relative to REPORTS_DIR; kinds as tipline names
//! them; values are canonicalized before comparing). `--hosts` adds the hosts of labelled URLs
//! and emails to the labels (and asks tipline's extractor for hosts too).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tipline_formats::extract::score::{Score, ValueSet, canonical_pair, parse_labels, with_hosts};
use tipline_formats::extract::{ExtractOptions, HitKind, extract};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().any(|a| a == name);
    let predictions =
        args.iter().position(|a| a == "--predictions").map(|i| PathBuf::from(&args[i + 1]));
    let positional: Vec<&String> = args
        .iter()
        .enumerate()
        .filter(|(i, a)| !a.starts_with("--") && (*i == 0 || args[i - 1] != "--predictions"))
        .map(|(_, a)| a)
        .collect();
    let [labels_dir, reports_dir] = positional[..] else {
        return Err(
            "usage: extract_eval LABELS_DIR REPORTS_DIR [--hosts] [--errors] [--predictions FILE]"
                .into(),
        );
    };
    let hosts = flag("--hosts");
    let mut predicted: BTreeMap<String, ValueSet> = BTreeMap::new();
    if let Some(path) = &predictions {
        for line in std::fs::read_to_string(path)?.lines().filter(|l| !l.trim().is_empty()) {
            let record: serde_json::Value = serde_json::from_str(line)?;
            let (Some(file), Some(kind), Some(value)) =
                (record["file"].as_str(), record["kind"].as_str(), record["value"].as_str())
            else {
                return Err(format!("bad prediction line: {line}").into());
            };
            let set = predicted.entry(file.to_string()).or_default();
            if let Some(kind) = HitKind::parse(kind) {
                // A value that is not valid for its kind is kept as a (raw) false positive.
                set.insert(
                    canonical_pair(kind, value).unwrap_or((kind, format!("invalid:{value}"))),
                );
            }
        }
    }
    let mut score = Score::default();
    for label_file in label_files(Path::new(labels_dir))? {
        let relative = label_file
            .strip_prefix(labels_dir)?
            .to_string_lossy()
            .trim_end_matches(".tsv")
            .to_string();
        let labels = parse_labels(&std::fs::read_to_string(&label_file)?)
            .map_err(|e| format!("{}: {e}", label_file.display()))?;
        let labels = if hosts { with_hosts(&labels) } else { labels };
        let found: ValueSet = if predictions.is_some() {
            predicted.remove(&relative).unwrap_or_default()
        } else {
            let text = std::fs::read(Path::new(reports_dir).join(&relative))?;
            extract(&text, ExtractOptions { hosts })
                .into_iter()
                .map(|h| (h.kind, h.value))
                .collect()
        };
        score.add_file(&relative, &labels, &found);
    }
    print!("{}", score.table());
    if flag("--errors") {
        for (file, kind, value) in &score.false_positives {
            println!("false positive  {file}  {kind}  {value}");
        }
        for (file, kind, value) in &score.false_negatives {
            println!("false negative  {file}  {kind}  {value}");
        }
    }
    Ok(())
}

/// Every `.tsv` file under `dir`, sorted.
fn label_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            files.extend(label_files(&path)?);
        } else if path.extension().is_some_and(|e| e == "tsv") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}
