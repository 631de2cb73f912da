//! The single pass: split the text into words with a byte-class table (gluing defanged
//! tokens in), classify the words that can hold an indicator, extend URLs, canonicalize and
//! locate each hit.

use tipline_model::{IndicatorKind, canonicalize};

use super::classify::{Cand, CandKind, WordContext, classify, find, first_char};

use super::domain::{DomainContext, is_domain};
use super::{ExtractOptions, Hit, HitKind, MAX_WORD_BYTES};

/// Letters, digits, `-`, `_` and non-ASCII bytes.
const WORD: u8 = 1;
const DOT: u8 = 2;
const COLON: u8 = 4;
const SLASH: u8 = 8;
const AT: u8 = 16;
/// `+` and `*`: inside words (email local parts, `h**p`), never meaningful alone.
const JOIN: u8 = 32;
/// Set on a word that contained a defanged token.
const DEFANGED: u8 = 64;
/// Set on a word that contained a defanged dot.
const DEFANGED_DOT: u8 = 128;
const IN_WORD: u8 = WORD | DOT | COLON | SLASH | AT | JOIN;

/// The class of every byte.
static CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = if c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c >= 0x80 {
            WORD
        } else {
            match c {
                b'.' => DOT,
                b':' => COLON,
                b'/' => SLASH,
                b'@' => AT,
                b'+' | b'*' => JOIN,
                _ => 0,
            }
        };
        b += 1;
    }
    table
};

/// Bytes a URL may contain besides defanged tokens and non-ASCII letters: RFC 3986's
/// unreserved, reserved and `%`, less `[` and `]` (only an IPv6 host has them).
static URL_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b':'
                    | b'/'
                    | b'?'
                    | b'#'
                    | b'@'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b'%'
            );
        b += 1;
    }
    table
};

/// A defanged token at the start of `b`: its length, the class of what it stands for, and
/// whether it is a word form (`[dot]`, `(at)`) that may have spaces around it. The same
/// tokens `tipline_model::refang` undoes, so canonicalizing the raw text gives the value.
fn defanged_token(b: &[u8]) -> Option<(usize, u8, bool)> {
    let first = *b.first()?;
    if first == b'\\' {
        return (b.get(1) == Some(&b'.')).then_some((2, DOT, false));
    }
    let close = match first {
        b'[' => b']',
        b'(' => b')',
        b'{' => b'}',
        _ => return None,
    };
    let inner = b.get(1..)?;
    let closed = |word: &[u8]| {
        inner.len() > word.len()
            && inner[..word.len()].eq_ignore_ascii_case(word)
            && inner[word.len()] == close
    };
    if closed(b".") {
        Some((3, DOT, false))
    } else if closed(b"dot") {
        Some((5, DOT, true))
    } else if closed(b"@") {
        Some((3, AT, false))
    } else if closed(b"at") {
        Some((4, AT, true))
    } else if first == b'[' && closed(b":") {
        Some((3, COLON, false))
    } else if first == b'[' && closed(b"://") {
        Some((5, COLON | SLASH, false))
    } else if first == b'[' && closed(b"/") {
        Some((3, SLASH, false))
    } else {
        None
    }
}

/// At a space or tab inside a word: spaces, a word-form token (`[dot]`, `(at)`), spaces and a
/// word character, as in `example [dot] com`. Returns the length up to that character and
/// the class of the token.
fn spaced_token(b: &[u8]) -> Option<(usize, u8)> {
    let blanks = |from: usize| b[from..].iter().take_while(|&&c| c == b' ' || c == b'\t').count();
    let before = blanks(0);
    let (len, class, word_form) = defanged_token(&b[before..])?;
    if !word_form {
        return None;
    }
    let after = blanks(before + len);
    let next = *b.get(before + len + after)?;
    (CLASS[next as usize] & WORD != 0).then_some((before + len + after, class))
}

/// A candidate in the raw text: kind, start, end, where an email's `@` ends, and the canonical
/// value when it is known by construction.
type Span = (CandKind, usize, usize, Option<usize>, Option<(IndicatorKind, String)>);

/// Scans texts (or consecutive chunks of one text) for indicators.
#[derive(Debug)]
pub struct Scanner {
    options: ExtractOptions,
    /// Offset of the current chunk in the whole input.
    base: usize,
    /// Line number of the current position.
    line: usize,
    /// Absolute offset of the start of the current line.
    line_start: usize,
    /// The refanged word, and for each of its bytes the raw span it came from.
    norm: Vec<u8>,
    raw_starts: Vec<usize>,
    raw_ends: Vec<usize>,
    cands: Vec<Cand>,
    /// The candidates' kinds, raw spans and (for emails) where the `@` ends.
    /// and the canonical value when [`canonical_by_construction`] has it.
    spans: Vec<Span>,
    /// The current chunk has control bytes: words must be checked for binary context.
    binary: bool,
}

impl Scanner {
    /// A scanner at the start of an input.
    pub fn new(options: ExtractOptions) -> Scanner {
        Scanner {
            options,
            base: 0,
            line: 1,
            line_start: 0,
            norm: Vec::new(),
            raw_starts: Vec::new(),
            raw_ends: Vec::new(),
            cands: Vec::new(),
            spans: Vec::new(),
            binary: false,
        }
    }

    /// Scan the next chunk of the input, handing each hit to `sink`. A chunk should end at
    /// a line end or a space: a word cut in two is seen as two words.
    pub fn scan(&mut self, text: &[u8], sink: &mut dyn FnMut(Hit)) {
        let n = text.len();
        self.binary = contains_control(text);
        let mut i = 0;
        while i < n {
            // Separators; every line end of the text passes here (words, defanged tokens and
            // URLs never hold one), so lines are counted on the way.
            for &b in &text[i..] {
                if CLASS[b as usize] & IN_WORD != 0 {
                    break;
                }
                if b == b'\n' {
                    self.line += 1;
                    self.line_start = self.base + i + 1;
                }
                i += 1;
            }
            if i >= n {
                break;
            }
            let start = i;
            let mut flags = 0u8;
            loop {
                for &b in &text[i..] {
                    let class = CLASS[b as usize];
                    if class & IN_WORD == 0 {
                        break;
                    }
                    flags |= class;
                    i += 1;
                }
                if i < n {
                    match text[i] {
                        b'[' | b'(' | b'{' | b'\\' => {
                            if let Some((len, class, _)) = defanged_token(&text[i..]) {
                                flags |= class | DEFANGED | defanged_dot(class);
                                i += len;
                                continue;
                            }
                        }
                        b' ' | b'\t' => {
                            if let Some((len, class)) = spaced_token(&text[i..]) {
                                flags |= class | DEFANGED | defanged_dot(class);
                                i += len;
                                continue;
                            }
                        }
                        _ => {}
                    }
                }
                break;
            }
            let end = i;
            if end - start <= MAX_WORD_BYTES {
                let resume = self.word(text, start, end, flags, sink);
                i = i.max(resume);
            }
        }
        self.base += n;
    }

    /// Classify the word `text[start..end]`; returns where scanning resumes (past a URL that
    /// runs beyond the word).
    fn word(
        &mut self,
        text: &[u8],
        start: usize,
        end: usize,
        flags: u8,
        sink: &mut dyn FnMut(Hit),
    ) -> usize {
        let len = end - start;
        if flags & (DOT | COLON | AT) == 0 {
            // Only hashes, CVE ids and AS numbers have none of these.
            let word = &text[start..end];
            if word == b"AS" || word == b"ASN" {
                return self.spaced_asn(text, start, end, sink).unwrap_or(end);
            }
            let maybe = len >= 32
                || (len >= 13 && word[..4].eq_ignore_ascii_case(b"cve-"))
                || (len >= 3 && word.starts_with(b"AS"));
            if !maybe {
                return end;
            }
        }
        if self.binary && binary_context(text, start, end) {
            return end;
        }
        let defanged = flags & DEFANGED != 0;
        if defanged {
            self.normalize(text, start, end);
        }
        let word: &[u8] = if defanged { &self.norm } else { &text[start..end] };
        let context = WordContext {
            defanged: flags & DEFANGED_DOT != 0,
            after_version: flags & DOT != 0 && after_version_word(&text[..start]),
            before_paren: text.get(end) == Some(&b'('),
        };
        let mut cands = std::mem::take(&mut self.cands);
        cands.clear();
        classify(word, context, &mut cands);
        let word_len = word.len();
        // Where each candidate is in the raw text, and where an email's `@` ends.
        let mut spans = std::mem::take(&mut self.spans);
        spans.clear();
        for cand in &cands {
            if cand.start >= cand.end || cand.end > word_len {
                continue;
            }
            let (raw_start, raw_end) = if defanged {
                (self.raw_starts[cand.start], self.raw_ends[cand.end - 1])
            } else {
                (start + cand.start, start + cand.end)
            };
            let at_end = if cand.kind == CandKind::Email {
                let word: &[u8] = if defanged { &self.norm } else { &text[start..end] };
                word[cand.start..cand.end].iter().position(|&b| b == b'@').map(|at| {
                    if defanged {
                        self.raw_ends[cand.start + at]
                    } else {
                        start + cand.start + at + 1
                    }
                })
            } else {
                None
            };
            let fast = match cand.kind {
                CandKind::Ipv4 => Some(IndicatorKind::Ipv4),
                CandKind::Domain => Some(IndicatorKind::Domain),
                CandKind::Md5 => Some(IndicatorKind::Md5),
                CandKind::Sha1 => Some(IndicatorKind::Sha1),
                CandKind::Sha256 => Some(IndicatorKind::Sha256),
                _ => None,
            }
            .and_then(|kind| {
                let word: &[u8] = if defanged { &self.norm } else { &text[start..end] };
                canonical_by_construction(kind, &word[cand.start..cand.end]).map(|v| (kind, v))
            });
            spans.push((cand.kind, raw_start, raw_end, at_end, fast));
        }
        self.cands = cands;
        let mut resume = end;
        // Raw offset up to which a reported URL covers the word.
        let mut covered = start;
        for (kind, raw_start, raw_end, at_end, fast) in spans.drain(..) {
            if raw_start < covered {
                continue;
            }
            match kind {
                CandKind::Url | CandKind::BareUrl => {
                    let url_end = self.url(text, raw_start, kind == CandKind::Url, sink);
                    covered = url_end;
                    resume = resume.max(url_end);
                }
                CandKind::Email => {
                    self.emit_simple(text, kind, raw_start, raw_end, sink);
                    if self.options.hosts
                        && let Some(mut domain_start) = at_end
                    {
                        while domain_start < raw_end && matches!(text[domain_start], b' ' | b'\t') {
                            domain_start += 1;
                        }
                        self.emit_indicator(
                            text,
                            IndicatorKind::Domain,
                            domain_start,
                            raw_end,
                            sink,
                        );
                    }
                }
                kind => match fast {
                    Some((indicator, value)) => {
                        self.emit_checked(text, indicator, value, raw_start, raw_end, sink);
                    }
                    None => self.emit_simple(text, kind, raw_start, raw_end, sink),
                },
            }
        }
        self.spans = spans;
        resume
    }

    /// `AS 13335`: the word `AS` or `ASN`, blanks and a number.
    fn spaced_asn(
        &mut self,
        text: &[u8],
        start: usize,
        end: usize,
        sink: &mut dyn FnMut(Hit),
    ) -> Option<usize> {
        let word = &text[start..end];
        if word != b"AS" && word != b"ASN" {
            return None;
        }
        let blanks = text[end..].iter().take_while(|&&c| c == b' ').count();
        if blanks == 0 || blanks > 2 {
            return None;
        }
        let digits_start = end + blanks;
        let digits = text[digits_start..].iter().take_while(|c| c.is_ascii_digit()).count();
        let digits_end = digits_start + digits;
        if digits == 0 || digits > 10 {
            return None;
        }
        if let Some(&next) = text.get(digits_end)
            && (CLASS[next as usize] & (WORD | COLON | SLASH | AT | JOIN) != 0
                || (next == b'.' && text.get(digits_end + 1).is_some_and(u8::is_ascii_digit)))
        {
            return None;
        }
        self.emit_simple(text, CandKind::Asn, start, digits_end, sink);
        Some(digits_end)
    }

    /// Fill `norm`, `raw_starts` and `raw_ends` with the refanged word and its raw spans.
    fn normalize(&mut self, text: &[u8], start: usize, end: usize) {
        self.norm.clear();
        self.raw_starts.clear();
        self.raw_ends.clear();
        let mut i = start;
        while i < end {
            let token = match text[i] {
                b'[' | b'(' | b'{' | b'\\' => defanged_token(&text[i..end]).map(|(l, c, _)| (l, c)),
                b' ' | b'\t' => spaced_token(&text[i..end]),
                _ => None,
            };
            match token {
                Some((len, class)) => {
                    let replacement: &[u8] = match class {
                        DOT => b".",
                        AT => b"@",
                        COLON => b":",
                        SLASH => b"/",
                        _ => b"://",
                    };
                    for &r in replacement {
                        self.norm.push(r);
                        self.raw_starts.push(i);
                        self.raw_ends.push(i + len);
                    }
                    i += len;
                }
                None => {
                    self.norm.push(text[i]);
                    self.raw_starts.push(i);
                    self.raw_ends.push(i + 1);
                    i += 1;
                }
            }
        }
    }

    /// Extend a URL starting at `start` over the raw text, check its host, and report it
    /// (and its host, if asked). Returns where the URL ends.
    fn url(
        &mut self,
        text: &[u8],
        start: usize,
        has_scheme: bool,
        sink: &mut dyn FnMut(Hit),
    ) -> usize {
        let end = url_end(text, start);
        let host_start = if has_scheme {
            match scheme_marker_end(text, start, end) {
                Some(h) => h,
                None => return end,
            }
        } else {
            start
        };
        let Some((host_start, host_end)) = host_span(text, host_start, end) else {
            return end;
        };
        let Some(host_kind) = host_indicator(&text[host_start..host_end]) else {
            return end;
        };
        let raw = as_text(&text[start..end]);
        if let Ok(c) = canonicalize(IndicatorKind::Url, &raw) {
            self.emit(text, HitKind::Indicator(c.kind), c.value, start, end, sink);
            if self.options.hosts {
                self.emit_indicator(text, host_kind, host_start, host_end, sink);
            }
        }
        end
    }

    /// Canonicalize and report a candidate that is not a URL.
    fn emit_simple(
        &mut self,
        text: &[u8],
        kind: CandKind,
        start: usize,
        end: usize,
        sink: &mut dyn FnMut(Hit),
    ) {
        let indicator = match kind {
            CandKind::Ipv4 => IndicatorKind::Ipv4,
            CandKind::Ipv6 => IndicatorKind::Ipv6,
            CandKind::Cidr => IndicatorKind::Cidr,
            CandKind::Domain => IndicatorKind::Domain,
            CandKind::Email => IndicatorKind::Email,
            CandKind::Md5 => IndicatorKind::Md5,
            CandKind::Sha1 => IndicatorKind::Sha1,
            CandKind::Sha256 => IndicatorKind::Sha256,
            CandKind::Asn => IndicatorKind::Asn,
            CandKind::Cve => {
                let value = as_text(&text[start..end]).to_ascii_uppercase();
                self.emit(text, HitKind::Cve, value, start, end, sink);
                return;
            }
            CandKind::Url | CandKind::BareUrl => return,
        };
        if indicator == IndicatorKind::Cidr {
            let raw = as_text(&text[start..end]);
            match canonicalize(IndicatorKind::Cidr, &raw) {
                Ok(c) => self.emit(text, HitKind::Indicator(c.kind), c.value, start, end, sink),
                Err(_) => {
                    // A prefix with host bits set (`192.0.2.7/24`): the address is named.
                    let slash = text[start..end].iter().position(|&b| b == b'/').unwrap_or(0);
                    self.emit_indicator(text, IndicatorKind::Ipv4, start, start + slash, sink);
                }
            }
            return;
        }
        self.emit_indicator(text, indicator, start, end, sink);
    }

    fn emit_indicator(
        &mut self,
        text: &[u8],
        kind: IndicatorKind,
        start: usize,
        end: usize,
        sink: &mut dyn FnMut(Hit),
    ) {
        if let Some(value) = canonical_by_construction(kind, &text[start..end]) {
            self.emit_checked(text, kind, value, start, end, sink);
            return;
        }
        let raw = as_text(&text[start..end]);
        // These kinds are canonically lower-case: lower-casing first saves canonicalize a
        // second pass (it stops as soon as its input is canonical).
        let lower_case = !matches!(kind, IndicatorKind::Url | IndicatorKind::Asn)
            && raw.bytes().any(|b| b.is_ascii_uppercase());
        let result = if lower_case {
            canonicalize(kind, &raw.to_ascii_lowercase())
        } else {
            canonicalize(kind, &raw)
        };
        if let Ok(c) = result {
            self.emit(text, HitKind::Indicator(c.kind), c.value, start, end, sink);
        }
    }

    /// Report a value from [`canonical_by_construction`]; debug builds (every test) check it
    /// against `canonicalize` of the raw text.
    fn emit_checked(
        &mut self,
        text: &[u8],
        kind: IndicatorKind,
        value: String,
        start: usize,
        end: usize,
        sink: &mut dyn FnMut(Hit),
    ) {
        debug_assert_eq!(
            canonicalize(kind, &as_text(&text[start..end])).map(|c| (c.kind, c.value)),
            Ok((kind, value.clone())),
            "fast path disagrees with canonicalize"
        );
        self.emit(text, HitKind::Indicator(kind), value, start, end, sink);
    }

    fn emit(
        &mut self,
        text: &[u8],
        kind: HitKind,
        value: String,
        start: usize,
        end: usize,
        sink: &mut dyn FnMut(Hit),
    ) {
        let offset = self.base + start;
        sink(Hit {
            kind,
            value,
            raw: as_text(&text[start..end]).into_owned(),
            offset,
            line: self.line,
            column: offset - self.line_start + 1,
        });
    }
}

/// The canonical value of a plain (not defanged) hash, IPv4 address or ASCII domain the
/// classifier has already checked, when it can be had without `canonicalize`'s general
/// machinery: lower-cased hex, a dotted quad without leading zeros, a lower-case ASCII name
/// without `xn--` labels. `None` means: ask `canonicalize`. (Debug builds, so every test,
/// check that both agree.)
fn canonical_by_construction(kind: IndicatorKind, raw: &[u8]) -> Option<String> {
    match kind {
        IndicatorKind::Md5 | IndicatorKind::Sha1 | IndicatorKind::Sha256 => {
            let len = match kind {
                IndicatorKind::Md5 => 32,
                IndicatorKind::Sha1 => 40,
                _ => 64,
            };
            (raw.len() == len && all_in(raw, &HEX_BYTE)).then(|| {
                let mut value = raw.to_vec();
                value.make_ascii_lowercase();
                String::from_utf8(value).unwrap_or_default()
            })
        }
        IndicatorKind::Ipv4 => {
            let mut parts = 0;
            for part in raw.split(|&b| b == b'.') {
                parts += 1;
                let ok = !part.is_empty()
                    && part.len() <= 3
                    && part.iter().all(u8::is_ascii_digit)
                    && (part.len() == 1 || part[0] != b'0')
                    && (part.len() < 3 || part <= &b"255"[..]);
                if !ok {
                    return None;
                }
            }
            (parts == 4).then(|| String::from_utf8(raw.to_vec()).unwrap_or_default())
        }
        IndicatorKind::Domain => {
            let plain = all_in(raw, &PLAIN_DOMAIN_BYTE)
                && !raw.starts_with(b"xn--")
                && find(raw, b"--").is_none()
                && raw.last() != Some(&b'.');
            plain.then(|| String::from_utf8(raw.to_vec()).unwrap_or_default())
        }
        _ => None,
    }
}

/// Hex digits.
static HEX_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_hexdigit();
        b += 1;
    }
    table
};

/// What a lower-case ASCII domain is made of.
static PLAIN_DOMAIN_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'-' | b'_');
        b += 1;
    }
    table
};

/// Whether every byte of `bytes` is in `set` (without branching, so that it vectorizes).
fn all_in(bytes: &[u8], set: &[bool; 256]) -> bool {
    bytes.iter().fold(true, |all, &b| all & set[b as usize])
}

/// Whether `text` has a byte [`binary_context`] looks for (checked without branching, so
/// that text without any skips the per-word check).
fn contains_control(text: &[u8]) -> bool {
    text.chunks(64).any(|chunk| chunk.iter().fold(false, |seen, &b| seen | is_control(b)))
}

fn is_control(b: u8) -> bool {
    (b < 0x20 && !(b'\t'..=b'\r').contains(&b) && b != 0x1b) || b == 0x7f
}

/// How far around a word [`binary_context`] looks, in bytes.
const BINARY_WINDOW: usize = 32;

/// Whether the word `text[start..end]` sits in binary data: a NUL or another control byte
/// (other than tab, line feed, vertical tab, form feed, carriage return and escape) within
/// [`BINARY_WINDOW`] bytes of it, or in it.
fn binary_context(text: &[u8], start: usize, end: usize) -> bool {
    let from = start.saturating_sub(BINARY_WINDOW);
    let to = (end + BINARY_WINDOW).min(text.len());
    text[from..to].iter().any(|&b| {
        (b < 0x20 && !matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0x1b)) || b == 0x7f
    })
}

/// `bytes` as text, invalid UTF-8 replaced (without copying when valid).
fn as_text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

fn defanged_dot(class: u8) -> u8 {
    if class == DOT { DEFANGED_DOT } else { 0 }
}

/// Whether the word before `before`'s end (and one or more spaces) is `version`, `ver`,
/// `v`, `build` or `release`.
fn after_version_word(before: &[u8]) -> bool {
    let blanks = before.iter().rev().take_while(|&&b| b == b' ').count();
    if blanks == 0 {
        return false;
    }
    let before = &before[..before.len() - blanks];
    let word_len = before.iter().rev().take(8).take_while(|b| b.is_ascii_alphabetic()).count();
    if word_len == 0 || word_len > 7 {
        return false;
    }
    let word = &before[before.len() - word_len..];
    ["version", "ver", "v", "build", "release"]
        .iter()
        .any(|w| w.as_bytes().eq_ignore_ascii_case(word))
}

/// Where a URL starting at `start` ends: over URL bytes, defanged tokens, non-ASCII letters
/// and a bracketed IPv6 host, then without trailing punctuation or unbalanced `)`.
fn url_end(text: &[u8], start: usize) -> usize {
    let n = text.len();
    let mut i = start;
    let limit = (start + MAX_WORD_BYTES).min(n);
    while i < limit {
        let c = text[i];
        if URL_BYTE[c as usize] {
            if matches!(c, b'(' | b'{' | b'[')
                && let Some((len, _, _)) = defanged_token(&text[i..])
            {
                i += len;
            } else {
                i += 1;
            }
            continue;
        }
        if let Some((len, _, _)) = defanged_token(&text[i..]) {
            i += len;
            continue;
        }
        if c == b'[' && i >= 2 && (&text[i - 2..i] == b"//" || text[i - 1] == b'@') {
            if let Some(close) = text[i..limit.min(i + 48)].iter().position(|&b| b == b']') {
                let inside = &text[i + 1..i + close];
                if !inside.is_empty()
                    && inside.iter().all(|b| b.is_ascii_hexdigit() || matches!(b, b':' | b'.'))
                {
                    i += close + 1;
                    continue;
                }
            }
            break;
        }
        if c >= 0x80 {
            match first_char(&text[i..]) {
                Some((ch, len)) if ch.is_alphanumeric() => {
                    i += len;
                    continue;
                }
                _ => break,
            }
        }
        break;
    }
    let mut end = i;
    while let Some(&last) = text[start..end].last() {
        match last {
            b'.' | b',' | b';' | b':' | b'!' | b'?' | b'\'' | b'*' | b'+' => end -= 1,
            b')' => {
                let url = &text[start..end];
                let open = url.iter().filter(|&&b| b == b'(').count();
                let close = url.iter().filter(|&&b| b == b')').count();
                if close > open && !url.ends_with(b"(.)") && !url.ends_with(b"(dot)") {
                    end -= 1;
                } else {
                    break;
                }
            }
            _ => break,
        }
    }
    end
}

/// The end of the scheme and `://` (or `[://]`, `[:]//`) of the URL at `start`.
fn scheme_marker_end(text: &[u8], start: usize, end: usize) -> Option<usize> {
    let url = &text[start..end];
    let scheme = url.iter().take_while(|b| b.is_ascii_alphabetic() || **b == b'*').count();
    let rest = &url[scheme..];
    for marker in [&b"://"[..], b"[://]", b"[:]//"] {
        if rest.starts_with(marker) {
            return Some(start + scheme + marker.len());
        }
    }
    None
}

/// The host of the URL whose authority starts at `from` (user information skipped), up to
/// a port, path, query or fragment.
fn host_span(text: &[u8], from: usize, end: usize) -> Option<(usize, usize)> {
    let mut start = from;
    if text.get(start) == Some(&b'[') {
        let close = text[start..end].iter().position(|&b| b == b']')?;
        return Some((start, start + close + 1));
    }
    let mut i = start;
    while i < end {
        match text[i] {
            b'/' | b'?' | b'#' | b':' | b'\\' => break,
            b'@' => {
                start = i + 1;
                i += 1;
            }
            b'[' | b'(' | b'{' => match defanged_token(&text[i..end]) {
                Some((len, class, _)) => {
                    if class & (COLON | SLASH) != 0 {
                        break;
                    }
                    if class == AT {
                        start = i + len;
                    }
                    i += len;
                }
                None => break,
            },
            _ => i += 1,
        }
    }
    (i > start).then_some((start, i))
}

/// What a URL's host is: an IP address or a domain (checked like one in a URL).
fn host_indicator(raw_host: &[u8]) -> Option<IndicatorKind> {
    let text = std::str::from_utf8(raw_host).ok()?;
    let refanged = tipline_model::refang(text);
    let host = refanged.as_ref();
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner.parse::<std::net::Ipv6Addr>().is_ok().then_some(IndicatorKind::Ipv6);
    }
    if host.parse::<std::net::Ipv4Addr>().is_ok() {
        return Some(IndicatorKind::Ipv4);
    }
    let host = host.strip_suffix('.').unwrap_or(host);
    is_domain(host.as_bytes(), DomainContext { defanged: true, strong: true })
        .then_some(IndicatorKind::Domain)
}
