//! `tipline match`: stream records (plain lines, JSON lines, Suricata EVE, CEF) from a file
//! or standard input, extract their observables, and write one JSON line per record that
//! hits an indicator (every record with `--all`): the indicators hit (value, kind, owner,
//! TLP, associated adversaries), the organizations the record's values belong to, and the
//! warninglists they are on.
//!
//! Against the configured database (acting as the host admin, or `--as-org`: the index
//! then holds only what that organization may see), or standalone with `--indicators`,
//! `--constituency` and `--warninglists` files and no database at all.

pub mod pipeline;
pub mod sources;

use std::collections::HashMap;
use std::io::{BufWriter, Read, Write};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, bail};
use serde::Serialize;
use tipline_formats::observable::{Observable, Observed};
use tipline_formats::record::{RecordFormat, record_format};
use tipline_index::{
    Constituency, Index, Matcher, Owner, OwnerId, Probe, RegisteredEntry, Warnings, canonical_of,
};
use tipline_model::{ConstituencyKind, IndicatorKind, Tlp};
use uuid::Uuid;

use self::pipeline::{Counts, LineMatcher};
use super::Context;
use crate::cli::MatchArgs;

pub async fn run(context: &Context, args: MatchArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let format = record_format(&args.format).with_context(|| {
        let names: Vec<_> =
            tipline_formats::record::RECORD_FORMATS.iter().map(|f| f.name).collect();
        format!("unknown record format `{}`; expected one of: {}", args.format, names.join(", "))
    })?;
    let index = Index::default();
    let mut names = Names::default();
    let mut adversaries: HashMap<Uuid, Vec<String>> = HashMap::new();
    if args.indicators.is_empty() {
        if args.constituency.is_some() || !args.warninglists.is_empty() {
            bail!(
                "--constituency and --warninglists go with --indicators (standalone matching); without them the database provides all three"
            );
        }
        load_from_store(context, &args, &index, &mut names, &mut adversaries).await?;
    } else {
        load_from_files(&args, &index, &mut names)?;
    }
    let matcher = Matcher::new(&index);
    names.owners = (0..matcher.indicators.owner_count())
        .map(|i| match matcher.indicators.owner(OwnerId(i as u32)) {
            Owner::Org(id) => OwnerName { id: Some(*id), name: names.orgs.get(id).cloned() },
            Owner::File(file) => OwnerName { id: None, name: Some(file.to_string()) },
        })
        .collect();
    let built = started.elapsed();
    tracing::info!(
        indicators = matcher.indicators.len(),
        constituency = matcher.constituency.len(),
        warninglists = matcher.warnings.list_count(),
        build_secs = built.as_secs_f64(),
        "index built"
    );
    let record_matcher = RecordMatcher {
        matcher,
        format,
        fields: args.fields.clone(),
        all: args.all,
        names,
        adversaries,
    };
    let workers = args
        .threads
        .map(usize::from)
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2));
    let input: Box<dyn Read + Send> = match args.input.as_deref() {
        None => Box::new(std::io::stdin()),
        Some(path) if path.as_os_str() == "-" => Box::new(std::io::stdin()),
        Some(path) => Box::new(
            std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?,
        ),
    };
    let summary = tokio::task::spawn_blocking(move || {
        let stdout = std::io::stdout();
        let mut output = BufWriter::with_capacity(1 << 20, stdout.lock());
        let summary = pipeline::run(input, &mut output, &record_matcher, workers);
        let _ = output.flush();
        summary
    })
    .await
    .context("the matching threads failed")??;
    if summary.counts.bad_lines > 0 {
        tracing::warn!(
            lines = summary.counts.bad_lines,
            format = format.name,
            "lines are not records of the format"
        );
    }
    if args.stats {
        let elapsed = started.elapsed().as_secs_f64();
        let matching = (elapsed - built.as_secs_f64()).max(1e-9);
        let stats = serde_json::json!({
            "lines": summary.counts.lines,
            "bad_lines": summary.counts.bad_lines,
            "matched_records": summary.counts.matched_records,
            "hits": summary.counts.hits,
            "bytes": summary.bytes,
            "index_build_secs": built.as_secs_f64(),
            "elapsed_secs": elapsed,
            "lines_per_sec": summary.counts.lines as f64 / matching,
            "first_match_secs": summary.first_output.map(|t| t.duration_since(started).as_secs_f64()),
            "workers": workers,
        });
        eprintln!("{stats}");
    }
    Ok(())
}

async fn load_from_store(
    context: &Context,
    args: &MatchArgs,
    index: &Index,
    names: &mut Names,
    adversaries: &mut HashMap<Uuid, Vec<String>>,
) -> anyhow::Result<()> {
    let session = context.session().await?;
    let viewer = session.acting(args.as_org.as_deref()).await?;
    let entries = viewer.index_feed_all().await?;
    index.indicators.replace_all(entries.into_iter().map(tipline_server::index_entry));
    let registered = viewer.constituency_entries().await?;
    index.constituency.store(Arc::new(Constituency::build(
        registered.into_iter().map(|(org, kind, value)| RegisteredEntry { org, kind, value }),
    )));
    let lists = session.store.warninglists().await?;
    index.warnings.store(Arc::new(Warnings::build(
        lists.iter().map(|(summary, list)| (Some(summary.id), list)),
    )?));
    for (indicator, groups) in viewer.adversaries_of(None).await? {
        adversaries.insert(indicator, groups.into_iter().map(|g| g.name).collect());
    }
    names.orgs =
        session.admin().list_organizations().await?.into_iter().map(|o| (o.id, o.name)).collect();
    names.org_ids = true;
    session.close().await;
    Ok(())
}

fn load_from_files(args: &MatchArgs, index: &Index, names: &mut Names) -> anyhow::Result<()> {
    let entries = sources::load_indicators(
        &args.indicators,
        args.indicators_format.as_deref(),
        args.tlp.unwrap_or(Tlp::Clear),
        args.lenient,
    )?;
    index.indicators.replace_all(entries);
    if let Some(path) = &args.constituency {
        let (registered, orgs) = sources::load_constituency(path)?;
        index.constituency.store(Arc::new(Constituency::build(registered)));
        names.orgs = orgs;
    }
    if !args.warninglists.is_empty() {
        let lists = sources::load_warninglists(&args.warninglists)?;
        index.warnings.store(Arc::new(Warnings::build(lists.iter().map(|(_, l)| (None, l)))?));
    }
    Ok(())
}

/// How owners and organizations are named in the output.
#[derive(Debug, Default)]
struct Names {
    owners: Vec<OwnerName>,
    orgs: HashMap<Uuid, String>,
    /// Whether organization ids are real (from the store) and printed.
    org_ids: bool,
}

#[derive(Debug, Clone)]
struct OwnerName {
    id: Option<Uuid>,
    name: Option<String>,
}

struct RecordMatcher {
    matcher: Matcher,
    format: &'static RecordFormat,
    fields: Vec<String>,
    all: bool,
    names: Names,
    adversaries: HashMap<Uuid, Vec<String>>,
}

/// One output line.
#[derive(Serialize)]
struct RecordOut<'a> {
    line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    hits: Vec<HitOut<'a>>,
    victims: Vec<VictimOut<'a>>,
    warnings: Vec<WarningOut<'a>>,
}

#[derive(Serialize)]
struct HitOut<'a> {
    observed: String,
    field: &'a str,
    value: String,
    kind: IndicatorKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    indicator_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Option<&'a str>,
    tlp: Tlp,
    adversaries: &'a [String],
}

#[derive(Serialize)]
struct VictimOut<'a> {
    observed: String,
    field: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    org_id: Option<Uuid>,
    org: Option<&'a str>,
    by: ConstituencyKind,
    registered: String,
}

#[derive(Serialize)]
struct WarningOut<'a> {
    observed: String,
    field: &'a str,
    list: String,
    entry: String,
}

fn no_asn(_: IpAddr) -> Option<u32> {
    None
}

impl LineMatcher for RecordMatcher {
    type Scratch = ();

    fn line(&self, text: &str, line: u64, _: &mut (), out: &mut Vec<u8>, counts: &mut Counts) {
        let mut observables: Vec<Observable<'_>> = Vec::new();
        if let Err(error) = (self.format.extract)(text, &self.fields, &mut observables) {
            counts.bad_lines += 1;
            if self.all {
                let record = RecordOut {
                    line,
                    error: Some(error),
                    hits: vec![],
                    victims: vec![],
                    warnings: vec![],
                };
                write_line(out, &record);
            }
            return;
        }
        let mut hits: Vec<HitOut<'_>> = Vec::new();
        // Canonical forms of the non-address observables, computed once.
        let canonicals: Vec<_> = observables
            .iter()
            .map(|o| match o.value {
                Observed::Ip(_) => None,
                ref other => canonical_of(other),
            })
            .collect();
        for (observable, canonical) in observables.iter().zip(&canonicals) {
            let mut on_hit = |matched: tipline_index::Matched<'_>,
                              r: &tipline_index::IndicatorRef| {
                let owner = &self.names.owners[r.owner.0 as usize];
                let file_entry = owner.id.is_none();
                // One hit per indicator (file entries have no id: one per value and file).
                let duplicate = hits.iter().any(|h| {
                    if file_entry {
                        h.owner == owner.name.as_deref() && h.value == matched.to_string()
                    } else {
                        h.indicator_id == Some(r.id)
                    }
                });
                if duplicate {
                    return;
                }
                hits.push(HitOut {
                    observed: observable.value.text().into_owned(),
                    field: &observable.field,
                    value: matched.to_string(),
                    kind: matched.canonical(r.kind).kind,
                    indicator_id: (!file_entry).then_some(r.id),
                    owner_id: owner.id,
                    owner: owner.name.as_deref(),
                    tlp: r.tlp,
                    adversaries: self.adversaries.get(&r.id).map_or(&[], Vec::as_slice),
                });
            };
            match (&observable.value, canonical) {
                (Observed::Ip(ip), _) => {
                    self.matcher.indicators.for_each(Probe::Ip(*ip), &mut on_hit)
                }
                (_, Some(canonical)) => Probe::expand(canonical, |probe| {
                    self.matcher.indicators.for_each(probe, &mut on_hit)
                }),
                _ => {}
            }
        }
        if hits.is_empty() && !self.all {
            return;
        }
        counts.hits += hits.len() as u64;
        if !hits.is_empty() {
            counts.matched_records += 1;
        }
        let mut victims: Vec<VictimOut<'_>> = Vec::new();
        let mut warnings: Vec<WarningOut<'_>> = Vec::new();
        for (observable, canonical) in observables.iter().zip(&canonicals) {
            let observed = observable.value.text();
            let (found, listed) = match (&observable.value, canonical) {
                (Observed::Ip(ip), _) => (
                    self.matcher.constituency.lookup_ip(*ip, None),
                    self.matcher.warnings.check_ip(*ip),
                ),
                (_, Some(canonical)) => (
                    self.matcher.constituency.lookup(canonical, &no_asn),
                    self.matcher.warnings.check(canonical),
                ),
                _ => continue,
            };
            for victim in found {
                if victims.iter().any(|v| v.org_id == Some(victim.org_id) && v.observed == observed)
                {
                    continue;
                }
                victims.push(VictimOut {
                    observed: observed.to_string(),
                    field: &observable.field,
                    org_id: self.names.org_ids.then_some(victim.org_id),
                    org: self.names.orgs.get(&victim.org_id).map(String::as_str),
                    by: victim.by,
                    registered: victim.registered,
                });
            }
            for warning in listed {
                if warnings.iter().any(|w| w.list == warning.list && w.observed == observed) {
                    continue;
                }
                warnings.push(WarningOut {
                    observed: observed.to_string(),
                    field: &observable.field,
                    list: warning.list,
                    entry: warning.entry,
                });
            }
        }
        write_line(out, &RecordOut { line, error: None, hits, victims, warnings });
    }
}

fn write_line(out: &mut Vec<u8>, record: &RecordOut<'_>) {
    // Serializing plain data into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, record);
    out.push(b'\n');
}
