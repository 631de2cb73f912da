//! Precision and recall of an extractor against a labelled set (`testdata/extract/labels`):
//! what the tests, the benchmark script and the comparison with other extractors share.
//!
//! Values are compared in canonical form, per file, as sets of (kind, value): a value found
//! twice in a file counts once. A labelled URL or email address also stands for its host
//! when hosts are compared ([`with_hosts`]).

use std::collections::{BTreeMap, BTreeSet};

use tipline_model::{IndicatorKind, canonicalize};

use super::HitKind;

/// The distinct (kind, canonical value) pairs of one file.
pub type ValueSet = BTreeSet<(HitKind, String)>;

/// Canonicalize `value` as `kind` (an indicator kind's name or `cve`): the pair, or `None`
/// when the value is not valid for the kind (a false positive of whoever produced it).
pub fn canonical_pair(kind: HitKind, value: &str) -> Option<(HitKind, String)> {
    match kind {
        HitKind::Cve => {
            let upper = value.trim().to_ascii_uppercase();
            tipline_model::group::is_cve_id(&upper).then_some((HitKind::Cve, upper))
        }
        HitKind::Indicator(kind) => {
            canonicalize(kind, value).ok().map(|c| (HitKind::Indicator(c.kind), c.value))
        }
    }
}

/// Parse a label file: `kind<TAB>value` lines, `#` comments and blank lines ignored.
pub fn parse_labels(text: &str) -> Result<ValueSet, String> {
    let mut set = ValueSet::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (kind, value) = line
            .split_once('\t')
            .ok_or_else(|| format!("line {}: expected kind<TAB>value", number + 1))?;
        let kind = HitKind::parse(kind)
            .ok_or_else(|| format!("line {}: unknown kind `{kind}`", number + 1))?;
        let pair = canonical_pair(kind, value)
            .ok_or_else(|| format!("line {}: invalid {kind} `{value}`", number + 1))?;
        set.insert(pair);
    }
    Ok(set)
}

/// `labels` plus the host of every URL and the domain of every email address in it.
pub fn with_hosts(labels: &ValueSet) -> ValueSet {
    let mut out = labels.clone();
    for (kind, value) in labels {
        let host = match kind {
            HitKind::Indicator(IndicatorKind::Url) => url_host(value),
            HitKind::Indicator(IndicatorKind::Email) => value.rsplit_once('@').map(|(_, d)| d),
            _ => None,
        };
        let Some(host) = host else { continue };
        let kind = if host.starts_with('[') {
            IndicatorKind::Ipv6
        } else if host.parse::<std::net::Ipv4Addr>().is_ok() {
            IndicatorKind::Ipv4
        } else {
            IndicatorKind::Domain
        };
        if let Some(pair) = canonical_pair(HitKind::Indicator(kind), host) {
            out.insert(pair);
        }
    }
    out
}

/// The host of a canonical URL, without user information or port.
fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host.starts_with('[') {
        return host.find(']').map(|end| &host[..=end]);
    }
    Some(host.rsplit_once(':').map_or(host, |(h, _)| h))
}

/// True and false positives and false negatives of one kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Found and labelled.
    pub true_positives: usize,
    /// Found, not labelled.
    pub false_positives: usize,
    /// Labelled, not found.
    pub false_negatives: usize,
}

impl Counts {
    /// Share of what was found that is labelled (1 when nothing was found).
    pub fn precision(&self) -> f64 {
        ratio(self.true_positives, self.true_positives + self.false_positives)
    }

    /// Share of the labels that were found (1 when there are none).
    pub fn recall(&self) -> f64 {
        ratio(self.true_positives, self.true_positives + self.false_negatives)
    }

    fn add(&mut self, other: Counts) {
        self.true_positives += other.true_positives;
        self.false_positives += other.false_positives;
        self.false_negatives += other.false_negatives;
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

/// Counts per kind over any number of files, with the mistakes listed.
#[derive(Debug, Clone, Default)]
pub struct Score {
    /// Counts per kind.
    pub kinds: BTreeMap<HitKind, Counts>,
    /// `(file, kind, value)` found but not labelled.
    pub false_positives: Vec<(String, HitKind, String)>,
    /// `(file, kind, value)` labelled but not found.
    pub false_negatives: Vec<(String, HitKind, String)>,
}

impl Score {
    /// Compare what was found in `file` with its labels.
    pub fn add_file(&mut self, file: &str, labels: &ValueSet, found: &ValueSet) {
        for (kind, value) in found {
            let counts = self.kinds.entry(*kind).or_default();
            if labels.contains(&(*kind, value.clone())) {
                counts.true_positives += 1;
            } else {
                counts.false_positives += 1;
                self.false_positives.push((file.to_string(), *kind, value.clone()));
            }
        }
        for (kind, value) in labels.difference(found) {
            self.kinds.entry(*kind).or_default().false_negatives += 1;
            self.false_negatives.push((file.to_string(), *kind, value.clone()));
        }
    }

    /// The counts of every kind together.
    pub fn total(&self) -> Counts {
        let mut total = Counts::default();
        for counts in self.kinds.values() {
            total.add(*counts);
        }
        total
    }

    /// A table: kind, true and false positives, false negatives, precision, recall.
    pub fn table(&self) -> String {
        let mut out = String::from("kind      tp     fp     fn     precision  recall\n");
        let row = |name: &str, c: &Counts| {
            format!(
                "{name:<9} {:<6} {:<6} {:<6} {:<10.4} {:.4}\n",
                c.true_positives,
                c.false_positives,
                c.false_negatives,
                c.precision(),
                c.recall()
            )
        };
        for (kind, counts) in &self.kinds {
            out.push_str(&row(kind.as_str(), counts));
        }
        out.push_str(&row("all", &self.total()));
        out
    }
}
