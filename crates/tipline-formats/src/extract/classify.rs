//! What indicators a word holds. A word is a run of characters an indicator can contain
//! (letters, digits, `-`, `_`, `.`, `:`, `/`, `@`, `+`, `*`), already refanged: `[.]` is a
//! `.` here. The rules, in the order they are tried:
//!
//! 1. Leading and trailing punctuation is not part of an indicator (`(evil.com).`).
//! 2. A scheme and `://` start a URL when the scheme is one an indicator may have (`http`,
//!    `https`, `ftp`, `ftps`, `sftp`, `ws`, `wss`, or a defanged `hxxp`, `h**p`, `fxp`, …);
//!    the scanner extends it over the characters a URL may contain. After another scheme
//!    (`tcp://`, `smb://`) only the host is taken.
//! 3. An `@` with a valid local part before it and a domain after it is an email address.
//! 4. A colon: the word is an IPv6 address or network if it parses as one (with at least two
//!    groups); else `host:port` gives the host (and `host:port/path` a URL); else the parts
//!    around the colon are classified on their own (`C2:1.2.3.4`, `sha256:…`).
//! 5. A slash: `ipv4/prefix` is a CIDR network (a prefix with host bits gives the address);
//!    `host/path`, where the host is an IP address or a domain, is a URL without scheme;
//!    anything else (`Win32/Agent.TV`, `and/or`, paths) holds nothing.
//! 6. Dots only: four decimal numbers are an IPv4 address (not after `version`, `v`, …),
//!    two of them joined by `-` a range of two addresses; otherwise a domain by the rules of
//!    [`super::domain`].
//! 7. A hex run of exactly 32, 40 or 64 digits between non-alphanumeric characters is an MD5,
//!    SHA-1 or SHA-256 hash (also `<sha256>.exe`); `CVE-YYYY-NNNN…` a CVE id, also inside a
//!    detection name (`Win32/Exploit.CVE-2017-11882.CP`); `AS` or `ASN` (upper-case) and a
//!    number an AS number.

use super::domain::{DomainContext, is_domain};

/// What a candidate is; [`Cand::Url`] and [`Cand::BareUrl`] are extended over the raw text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CandKind {
    Ipv4,
    Ipv6,
    Cidr,
    Domain,
    Email,
    Md5,
    Sha1,
    Sha256,
    Asn,
    Cve,
    /// A URL with a scheme, starting here.
    Url,
    /// A URL without a scheme (`evil.com/x`), starting here.
    BareUrl,
}

/// A candidate indicator: its kind and its span in the (refanged) word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Cand {
    pub kind: CandKind,
    pub start: usize,
    pub end: usize,
}

/// What surrounds a word.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct WordContext {
    /// The word had a defanged dot.
    pub defanged: bool,
    /// An IPv4-looking word here is a version number (the word before is `version`, `v`, …).
    pub after_version: bool,
    /// The word is followed by `(`: a function call, not a domain.
    pub before_paren: bool,
}

/// How deep colon-separated parts are split.
const MAX_DEPTH: u8 = 6;

/// Push the candidates in `word` onto `out`, in order.
pub(super) fn classify(word: &[u8], context: WordContext, out: &mut Vec<Cand>) {
    span(word, 0, word.len(), context, 0, out);
}

fn is_alnum_or_high(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80
}

/// Trim punctuation around `[start, end)` of `word`; non-ASCII characters that are not
/// letters or digits (curly quotes, dashes) and invalid UTF-8 are trimmed too.
fn trim(word: &[u8], mut start: usize, mut end: usize) -> (usize, usize) {
    while start < end && !is_alnum_or_high(word[start]) {
        start += 1;
    }
    while start < end && word[start] >= 0x80 {
        match first_char(&word[start..end]) {
            Some((c, len)) if !c.is_alphanumeric() => start += len,
            None => start += 1,
            _ => break,
        }
        while start < end && !is_alnum_or_high(word[start]) {
            start += 1;
        }
    }
    while end > start {
        let last = word[end - 1];
        if last < 0x80 {
            if last.is_ascii_alphanumeric() {
                break;
            }
            end -= 1;
            continue;
        }
        match last_char(&word[start..end]) {
            Some((c, len)) if !c.is_alphanumeric() => end -= len,
            None => end -= 1,
            _ => break,
        }
    }
    (start, end)
}

/// The first character of `bytes` and its length, if `bytes` starts with valid UTF-8.
pub(super) fn first_char(bytes: &[u8]) -> Option<(char, usize)> {
    let len = match bytes.first()? {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    };
    let c = std::str::from_utf8(bytes.get(..len)?).ok()?.chars().next()?;
    Some((c, len))
}

/// The last character of `bytes` and its length, if `bytes` ends with valid UTF-8.
fn last_char(bytes: &[u8]) -> Option<(char, usize)> {
    let mut start = bytes.len().checked_sub(1)?;
    while start > 0 && bytes.len() - start < 4 && (bytes[start] & 0xc0) == 0x80 {
        start -= 1;
    }
    let c = std::str::from_utf8(&bytes[start..]).ok()?.chars().next()?;
    Some((c, bytes.len() - start))
}

fn span(word: &[u8], start: usize, end: usize, cx: WordContext, depth: u8, out: &mut Vec<Cand>) {
    if depth > MAX_DEPTH {
        return;
    }
    let (s, e) = trim(word, start, end);
    if s >= e {
        return;
    }
    let t = &word[s..e];
    let push = |out: &mut Vec<Cand>, kind, a: usize, b: usize| {
        out.push(Cand { kind, start: s + a, end: s + b })
    };
    let first_colon = memchr::memchr(b':', t);
    let first_at = || memchr::memchr(b'@', t);

    // 2. A scheme.
    if let Some(p) = first_colon.and_then(|c| find(&t[c..], b"://").map(|p| p + c)) {
        let scheme_start = t[..p]
            .iter()
            .rposition(|&b| !(b.is_ascii_alphabetic() || b == b'*'))
            .map_or(0, |q| q + 1);
        if scheme_start < p {
            if url_scheme(&t[scheme_start..p]) {
                push(out, CandKind::Url, scheme_start, t.len());
            } else {
                let host_start = p + 3;
                let host_end = t[host_start..]
                    .iter()
                    .position(|&b| b == b'/')
                    .map_or(t.len(), |q| q + host_start);
                span(word, s + host_start, s + host_end, cx, depth + 1, out);
            }
            return;
        }
    }

    // 3. An email address.
    if let Some(at) = first_at() {
        let local_start = t[..at]
            .iter()
            .rposition(|&b| {
                !(b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-'))
            })
            .map_or(0, |q| q + 1);
        let local = &t[local_start..at];
        let mut domain_end = t[at + 1..]
            .iter()
            .position(|&b| !(is_alnum_or_high(b) || matches!(b, b'.' | b'-' | b'_')))
            .map_or(t.len(), |q| q + at + 1);
        while domain_end > at + 1 && matches!(t[domain_end - 1], b'.' | b'-' | b'_') {
            domain_end -= 1;
        }
        let domain = &t[at + 1..domain_end];
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && local[0] != b'.'
            && local[local.len() - 1] != b'.'
            && find(local, b"..").is_none();
        if local_ok && is_domain(domain, DomainContext { defanged: cx.defanged, strong: true }) {
            push(out, CandKind::Email, local_start, domain_end);
        } else if local.is_empty() {
            span(word, s + at + 1, e, cx, depth + 1, out);
        }
        return;
    }

    // 4. A colon.
    if let Some(colon) = first_colon {
        if let Some(kind) = ipv6_or_network(t) {
            push(out, kind, 0, t.len());
            return;
        }
        let (left, right) = (&t[..colon], &t[colon + 1..]);
        let digits = right.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits > 0
            && digits <= 5
            && let Some(kind) = host_kind(left, cx)
        {
            if right.get(digits) == Some(&b'/') {
                push(out, CandKind::BareUrl, 0, t.len());
            } else {
                push(out, kind, 0, colon);
            }
            return;
        }
        span(word, s, s + colon, cx, depth + 1, out);
        span(word, s + colon + 1, e, cx, depth + 1, out);
        return;
    }

    // 5. A slash.
    if let Some(slash) = memchr::memchr(b'/', t) {
        let (left, right) = (&t[..slash], &t[slash + 1..]);
        if is_dotted_quad(left) {
            let digits = right.iter().take_while(|b| b.is_ascii_digit()).count();
            if digits > 0 && digits <= 3 && digits == right.len() {
                push(out, CandKind::Cidr, 0, t.len());
            } else {
                push(out, CandKind::BareUrl, 0, t.len());
            }
        } else if is_domain(left, DomainContext { defanged: cx.defanged, strong: false }) {
            push(out, CandKind::BareUrl, 0, t.len());
        } else {
            embedded_cves(t, s, out);
        }
        return;
    }

    // 6. Dots.
    if memchr::memchr(b'.', t).is_some() {
        if is_dotted_quad(t) {
            if !cx.after_version {
                push(out, CandKind::Ipv4, 0, t.len());
            }
            return;
        }
        if let Some(dash) = memchr::memchr(b'-', t)
            && is_dotted_quad(&t[..dash])
            && is_dotted_quad(&t[dash + 1..])
        {
            push(out, CandKind::Ipv4, 0, dash);
            push(out, CandKind::Ipv4, dash + 1, t.len());
            return;
        }
        if !cx.before_paren && is_domain(t, DomainContext { defanged: cx.defanged, strong: false })
        {
            push(out, CandKind::Domain, 0, t.len());
            return;
        }
        hashes(t, s, out);
        embedded_cves(t, s, out);
        return;
    }

    // 7. Hashes, CVE ids, AS numbers.
    if t.len() >= 32 {
        hashes(t, s, out);
        return;
    }
    if t.len() >= 13 && t[..4].eq_ignore_ascii_case(b"cve-") {
        if let Ok(text) = std::str::from_utf8(t)
            && tipline_model::group::is_cve_id(text)
        {
            push(out, CandKind::Cve, 0, t.len());
        }
        return;
    }
    if asn_word(t) {
        push(out, CandKind::Asn, 0, t.len());
    }
}

/// Where `needle` (short) first occurs in `haystack` (short words: no searcher to build).
pub(super) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let first = needle[0];
    let mut from = 0;
    while let Some(p) = memchr::memchr(first, &haystack[from..]) {
        let at = from + p;
        if haystack[at..].starts_with(needle) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// `AS` or `ASN` (upper-case) followed by 1 to 10 digits.
pub(super) fn asn_word(t: &[u8]) -> bool {
    let digits = if t.starts_with(b"ASN") {
        &t[3..]
    } else if t.starts_with(b"AS") {
        &t[2..]
    } else {
        return false;
    };
    !digits.is_empty() && digits.len() <= 10 && digits.iter().all(u8::is_ascii_digit)
}

/// CVE ids inside a longer word, as in the detection name `Win32/Exploit.CVE-2017-11882.CP`.
fn embedded_cves(t: &[u8], offset: usize, out: &mut Vec<Cand>) {
    let mut from = 0;
    while let Some(p) = memchr::memchr2(b'C', b'c', &t[from..]).map(|p| p + from) {
        from = p + 1;
        if p > 0 && t[p - 1].is_ascii_alphanumeric() {
            continue;
        }
        if t.len() - p < 13 || !t[p..p + 4].eq_ignore_ascii_case(b"cve-") {
            continue;
        }
        let year_end = p + 8;
        let digits = t[year_end + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
        let end = year_end + 1 + digits;
        if t[year_end] != b'-' || (end < t.len() && t[end].is_ascii_alphanumeric()) {
            continue;
        }
        if let Ok(text) = std::str::from_utf8(&t[p..end])
            && tipline_model::group::is_cve_id(text)
        {
            out.push(Cand { kind: CandKind::Cve, start: offset + p, end: offset + end });
            from = end;
        }
    }
}

/// Hex runs of a hash's length in `t`, between non-alphanumeric characters.
fn hashes(t: &[u8], offset: usize, out: &mut Vec<Cand>) {
    // The common case: the whole word is the hash.
    let whole = match t.len() {
        32 => Some(CandKind::Md5),
        40 => Some(CandKind::Sha1),
        64 => Some(CandKind::Sha256),
        _ => None,
    };
    if let Some(kind) = whole
        && t.iter().fold(true, |all, b| all & b.is_ascii_hexdigit())
    {
        out.push(Cand { kind, start: offset, end: offset + t.len() });
        return;
    }
    let mut i = 0;
    while i < t.len() {
        if !t[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let run_start = i;
        let mut hex = true;
        while i < t.len() && t[i].is_ascii_alphanumeric() {
            hex &= t[i].is_ascii_hexdigit();
            i += 1;
        }
        let kind = match i - run_start {
            32 => CandKind::Md5,
            40 => CandKind::Sha1,
            64 => CandKind::Sha256,
            _ => continue,
        };
        if hex && (i == t.len() || t[i] < 0x80) && (run_start == 0 || t[run_start - 1] < 0x80) {
            out.push(Cand { kind, start: offset + run_start, end: offset + i });
        }
    }
}

/// Whether `scheme` (letters and `*`) is a URL scheme an indicator may have, possibly
/// defanged as `tipline_model::refang` undoes it.
fn url_scheme(scheme: &[u8]) -> bool {
    let lower: Vec<u8> = scheme.iter().map(u8::to_ascii_lowercase).collect();
    match lower.as_slice() {
        b"http" | b"https" | b"ftp" | b"ftps" | b"sftp" | b"ws" | b"wss" | b"fxp" | b"fxps" => true,
        [b'h', a, b, b'p', rest @ ..] => {
            let mid = |c: &u8| matches!(c, b'x' | b't' | b'*');
            mid(a) && mid(b) && (rest.is_empty() || rest == b"s")
        }
        _ => false,
    }
}

/// Four dot-separated runs of 1 to 3 decimal digits.
fn is_dotted_quad(t: &[u8]) -> bool {
    let mut parts = 0;
    for part in t.split(|&b| b == b'.') {
        parts += 1;
        if parts > 4 || part.is_empty() || part.len() > 3 || !part.iter().all(u8::is_ascii_digit) {
            return false;
        }
    }
    parts == 4
}

/// The kind of `left` as the host of `host:port`: an IPv4 address or a domain.
fn host_kind(left: &[u8], cx: WordContext) -> Option<CandKind> {
    if is_dotted_quad(left) {
        return Some(CandKind::Ipv4);
    }
    is_domain(left, DomainContext { defanged: cx.defanged, strong: false })
        .then_some(CandKind::Domain)
}

/// `t` as an IPv6 address (`Ipv6`) or network (`Cidr`), with at least two non-empty groups.
fn ipv6_or_network(t: &[u8]) -> Option<CandKind> {
    if t.len() > 43 + 4 {
        return None;
    }
    let text = std::str::from_utf8(t).ok()?;
    let (address, prefix) = match text.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (text, None),
    };
    address.parse::<std::net::Ipv6Addr>().ok()?;
    let groups = address.split(':').filter(|g| !g.is_empty()).count();
    if groups < 2 {
        return None;
    }
    match prefix {
        None => Some(CandKind::Ipv6),
        Some(p) if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) => {
            Some(CandKind::Cidr)
        }
        Some(_) => None,
    }
}
