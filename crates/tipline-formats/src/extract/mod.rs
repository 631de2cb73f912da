//! Indicator extraction from free text, defanged forms included, in a single pass.
//!
//! [`extract`] reads a text (bytes; invalid UTF-8 around a word is ignored) once, left to
//! right, and returns every indicator it finds, in order: IPv4 and IPv6 addresses, CIDR
//! networks, domains (checked against the public-suffix list), URLs, email addresses, MD5,
//! SHA-1 and SHA-256 hashes, AS numbers and CVE ids. Defanged forms (`hxxp`, `[.]`, `(.)`,
//! `[dot]`, `[:]`, `[@]`, `[at]`, …, exactly those [`tipline_model::refang`] undoes) are found
//! like plain ones. Each [`Hit`] carries the canonical value
//! ([`tipline_model::canonicalize`]), the raw text it came from, and where that text is.
//!
//! How it works: a byte-class table splits the text into *words* (runs of characters an
//! indicator can contain, with defanged tokens such as `[.]` or ` [dot] ` glued in), and
//! each word that could hold an indicator (it has a dot, colon, `@`, or is a hex run of a
//! hash's length, or starts like a CVE id or AS number) is classified by hand-written rules;
//! URLs are then extended over the characters a URL may contain. Nothing is matched twice
//! and no regular expression runs per kind. The precision rules (file names, detection
//! names, code identifiers, version numbers, …) are in `docs/extraction.md` and in
//! [`classify`]'s and [`domain`]'s module docs.
//!
//! Text only: a word within 32 bytes of a NUL or another control character (other than tab,
//! line and page breaks and escape) is taken for binary data and skipped.
//!
//! Memory is bounded: [`extract_reader`] reads in chunks of [`CHUNK_BYTES`] cut at line
//! ends, and words longer than [`MAX_WORD_BYTES`] are skipped without being classified.

mod classify;
mod domain;
mod scan;
pub mod score;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashSet};
use std::io::BufRead;

use serde::Serialize;
use tipline_model::IndicatorKind;
use tipline_model::intel::IndicatorInput;

pub use scan::Scanner;

/// What an extracted value is: an indicator kind, or a CVE id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HitKind {
    /// An indicator of this kind.
    Indicator(IndicatorKind),
    /// A CVE identifier (`CVE-2021-44228`); in tipline a vulnerability, not an indicator.
    Cve,
}

impl HitKind {
    /// Every kind, in the order of the docs.
    pub const ALL: &'static [HitKind] = &[
        HitKind::Indicator(IndicatorKind::Ipv4),
        HitKind::Indicator(IndicatorKind::Ipv6),
        HitKind::Indicator(IndicatorKind::Cidr),
        HitKind::Indicator(IndicatorKind::Domain),
        HitKind::Indicator(IndicatorKind::Url),
        HitKind::Indicator(IndicatorKind::Email),
        HitKind::Indicator(IndicatorKind::Md5),
        HitKind::Indicator(IndicatorKind::Sha1),
        HitKind::Indicator(IndicatorKind::Sha256),
        HitKind::Indicator(IndicatorKind::Asn),
        HitKind::Cve,
    ];

    /// The name used in output: an indicator kind's name, or `cve`.
    pub fn as_str(self) -> &'static str {
        match self {
            HitKind::Indicator(kind) => kind.as_str(),
            HitKind::Cve => "cve",
        }
    }

    /// The indicator kind, unless this is a CVE id.
    pub fn indicator(self) -> Option<IndicatorKind> {
        match self {
            HitKind::Indicator(kind) => Some(kind),
            HitKind::Cve => None,
        }
    }

    /// The kind named `name` (`ipv4`, …, `cve`).
    pub fn parse(name: &str) -> Option<HitKind> {
        HitKind::ALL.iter().copied().find(|k| k.as_str().eq_ignore_ascii_case(name.trim()))
    }
}

impl std::fmt::Display for HitKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for HitKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One indicator found in a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hit {
    /// What was found.
    pub kind: HitKind,
    /// The canonical value (refanged, normalized as `tipline_model::canonicalize` does; CVE
    /// ids upper-case).
    pub value: String,
    /// The text as it appears in the input (invalid UTF-8 replaced by U+FFFD).
    pub raw: String,
    /// Byte offset of `raw` in the input.
    pub offset: usize,
    /// Line of `offset`, from 1.
    pub line: usize,
    /// Column of `offset` in its line, in bytes, from 1.
    pub column: usize,
}

/// What to report besides the indicators themselves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExtractOptions {
    /// Also report the host of every URL and the domain of every email address as a hit of
    /// its own (a `domain`, `ipv4` or `ipv6` whose `raw` and `offset` point inside the URL or
    /// address). Off by default: hits then never overlap.
    pub hosts: bool,
}

/// Size of the pieces [`extract_reader`] scans at a time.
pub const CHUNK_BYTES: usize = 1 << 20;

/// Words longer than this are not classified (no indicator is this long; such runs are
/// base64 blobs or binary).
pub const MAX_WORD_BYTES: usize = 8192;

/// Every indicator in `text`, in order of offset.
pub fn extract(text: &[u8], options: ExtractOptions) -> Vec<Hit> {
    // Report text has about one indicator per 100 bytes; lists have more.
    let mut hits = Vec::with_capacity(text.len() / 128);
    Scanner::new(options).scan(text, &mut |hit| hits.push(hit));
    hits
}

/// Extract from a reader, handing each hit to `sink` as soon as it is found. The input is
/// read in chunks of about [`CHUNK_BYTES`], each cut after its last line end (or its last
/// space or tab, or anywhere if a chunk has neither), so memory stays bounded whatever the
/// input. Offsets and lines are those of the whole input.
pub fn extract_reader<R: BufRead>(
    mut reader: R,
    options: ExtractOptions,
    sink: &mut dyn FnMut(Hit),
) -> std::io::Result<()> {
    let mut scanner = Scanner::new(options);
    let mut buffer: Vec<u8> = Vec::with_capacity(CHUNK_BYTES * 2);
    let mut eof = false;
    while !eof || !buffer.is_empty() {
        while !eof && buffer.len() < CHUNK_BYTES {
            let available = reader.fill_buf()?;
            if available.is_empty() {
                eof = true;
                break;
            }
            let take = available.len().min(CHUNK_BYTES * 2 - buffer.len());
            buffer.extend_from_slice(&available[..take]);
            reader.consume(take);
        }
        let cut = if eof { buffer.len() } else { chunk_cut(&buffer) };
        scanner.scan(&buffer[..cut], sink);
        buffer.drain(..cut);
    }
    Ok(())
}

/// Where to end a chunk of `buffer` (which is not the end of the input): after the last line
/// end, else after the last space or tab, else at the end.
fn chunk_cut(buffer: &[u8]) -> usize {
    if let Some(i) = memchr::memrchr(b'\n', buffer) {
        return i + 1;
    }
    if let Some(i) = memchr::memrchr2(b' ', b'\t', buffer) {
        return i + 1;
    }
    buffer.len()
}

/// How many hits of each kind, by kind name.
pub fn count_kinds(hits: &[Hit]) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for hit in hits {
        *counts.entry(hit.kind.as_str()).or_default() += 1;
    }
    counts
}

/// What to import from `hits`: one indicator input per distinct kind and value (a copy of
/// `template` with its kind and value set), and the distinct CVE ids, in order of first
/// appearance.
pub fn import_inputs(
    hits: &[Hit],
    template: &IndicatorInput,
) -> (Vec<IndicatorInput>, Vec<String>) {
    let mut seen: HashSet<(HitKind, &str)> = HashSet::new();
    let (mut indicators, mut cves) = (Vec::new(), Vec::new());
    for hit in hits {
        if !seen.insert((hit.kind, hit.value.as_str())) {
            continue;
        }
        match hit.kind.indicator() {
            Some(kind) => indicators.push(IndicatorInput {
                kind: Some(kind),
                value: hit.value.clone(),
                ..template.clone()
            }),
            None => cves.push(hit.value.clone()),
        }
    }
    (indicators, cves)
}
