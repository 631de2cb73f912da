//! Canonical values of indicators: validation, normalization and refanging.
//!
//! Every indicator value is stored in exactly one canonical form so that equal
//! indicators compare equal as strings:
//!
//! | kind     | canonical form                                                        |
//! |----------|-----------------------------------------------------------------------|
//! | `ipv4`   | dotted quad, no leading zeros (`192.0.2.1`)                           |
//! | `ipv6`   | RFC 5952 (`2001:db8::1`, `::ffff:192.0.2.1`)                          |
//! | `cidr`   | network address and prefix, no host bits (`10.0.0.0/8`)               |
//! | `domain` | lower-case ASCII, IDNs as punycode, no trailing dot                   |
//! | `url`    | WHATWG serialization, lower-case scheme and host, no default port, no fragment |
//! | `email`  | lower-case, domain part canonical as a domain                         |
//! | hashes   | lower-case hex                                                        |
//! | `asn`    | `AS` followed by the decimal number (`AS13335`)                       |
//!
//! Input is trimmed and refanged ([`refang`]) before it is parsed. Canonicalization is
//! idempotent: `canonicalize(c.kind, &c.value) == Ok(c)` for every successful result `c`.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use idna::AsciiDenyList;
use ipnet::{Ipv4Net, Ipv6Net};
use url::{Host, ParseError, Url};

use crate::IndicatorKind;

/// A validated indicator value in canonical form, with its (possibly corrected) kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Canonical {
    /// The kind after canonicalization (a `/32` CIDR becomes an `ipv4`).
    pub kind: IndicatorKind,
    /// The canonical value.
    pub value: String,
}

/// Why a value is not a valid indicator of a kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind_name} `{value}`: {reason}")]
pub struct ValueError {
    /// The kind asked for, if one was.
    pub kind: Option<IndicatorKind>,
    /// `kind.as_str()` or `indicator` when no kind was given.
    pub kind_name: &'static str,
    /// The input as given (truncated to 200 characters).
    pub value: String,
    /// Lower-case reason without trailing punctuation.
    pub reason: String,
}

/// Longest accepted input (after trimming), in bytes.
const MAX_INPUT_BYTES: usize = 8192;
/// How much of the input an error repeats, in characters.
const MAX_ERROR_VALUE_CHARS: usize = 200;
/// How much of a fragment (an octet, a label, a scheme) a reason quotes, in characters.
const MAX_QUOTED_CHARS: usize = 40;
/// URL schemes an indicator may have.
const ALLOWED_SCHEMES: &[&str] = &["http", "https", "ftp", "ftps", "sftp", "ws", "wss"];
/// The reason [`detect`] gives when nothing fits.
const NOTHING_FITS: &str = "not an ip address, network, domain, url, email, hash or asn";

// ---------------------------------------------------------------------------------------------
// Refanging
// ---------------------------------------------------------------------------------------------

/// Undo common defanging (`hxxp`, `[.]`, `(.)`, `[dot]`, `[:]`, `[@]`, `[at]`, …).
///
/// Replaced, case-insensitively:
/// - `hxxp`, `hXXp`, `hxtp`, `h**p` (any two of `x`, `t`, `*` between `h` and `p`, other than
///   `tt`) and their `s` forms become `http` / `https`, and `fxp` / `fxps` become `ftp` / `ftps`,
///   when they start a word (at the start of the input or after a character that is not a
///   letter, digit, `.`, `-`, `_` or `+`) and are followed by `:` or `[:`;
/// - `[.]`, `(.)`, `{.}`, `\.`, `[dot]`, `(dot)`, `{dot}` become `.`;
/// - `[@]`, `(@)`, `{@}`, `[at]`, `(at)`, `{at}` become `@`;
/// - `[:]` becomes `:`, `[://]` becomes `://` and `[/]` becomes `/`.
///
/// Spaces and tabs around the bracketed word forms (`[dot]`, `(at)`, …) are removed too, so
/// `example [dot] com` becomes `example.com`. The input is scanned once: `[[.]]` becomes `[.]`.
/// Returns [`Cow::Borrowed`] when nothing was replaced.
pub fn refang(input: &str) -> Cow<'_, str> {
    let bytes = input.as_bytes();
    // Every defanged form has a bracket or a backslash, or is a scheme followed by `:`.
    if !bytes.iter().any(|b| matches!(b, b'[' | b'(' | b'{' | b'\\' | b':')) {
        return Cow::Borrowed(input);
    }
    let mut out: Option<String> = None;
    // Start of the input not yet copied to `out`.
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let Some(m) = defang_at(input, i) else {
            i += 1;
            continue;
        };
        let o = out.get_or_insert_with(|| String::with_capacity(input.len()));
        let mut pending = &input[copied..i];
        let mut end = i + m.len;
        if m.eat_spaces {
            pending = pending.trim_end_matches([' ', '\t']);
            while end < bytes.len() && matches!(bytes[end], b' ' | b'\t') {
                end += 1;
            }
        }
        o.push_str(pending);
        o.push_str(m.replacement);
        copied = end;
        i = end;
    }
    match out {
        None => Cow::Borrowed(input),
        Some(mut o) => {
            o.push_str(&input[copied..]);
            Cow::Owned(o)
        }
    }
}

/// A defanged form found by [`defang_at`].
struct Defanged {
    /// Length of the defanged form in bytes.
    len: usize,
    /// What it stands for.
    replacement: &'static str,
    /// Whether spaces and tabs around it belong to it (`example [dot] com`).
    eat_spaces: bool,
}

/// The defanged form starting at byte `i` of `input`, if any. All forms are ASCII, so a match
/// always starts and ends on a character boundary.
fn defang_at(input: &str, i: usize) -> Option<Defanged> {
    let b = &input.as_bytes()[i..];
    let found = |len, replacement, eat_spaces| Some(Defanged { len, replacement, eat_spaces });
    match b.first()? {
        open @ (b'[' | b'(' | b'{') => {
            let close = match open {
                b'[' => b']',
                b'(' => b')',
                _ => b'}',
            };
            let inner = &b[1..];
            let closed = |word: &[u8]| {
                inner.len() > word.len()
                    && inner[..word.len()].eq_ignore_ascii_case(word)
                    && inner[word.len()] == close
            };
            if closed(b".") {
                found(3, ".", false)
            } else if closed(b"dot") {
                found(5, ".", true)
            } else if closed(b"@") {
                found(3, "@", false)
            } else if closed(b"at") {
                found(4, "@", true)
            } else if *open == b'[' && closed(b":") {
                found(3, ":", false)
            } else if *open == b'[' && closed(b"://") {
                found(5, "://", false)
            } else if *open == b'[' && closed(b"/") {
                found(3, "/", false)
            } else {
                None
            }
        }
        b'\\' if b.get(1) == Some(&b'.') => found(2, ".", false),
        b'h' | b'H' if starts_word(input, i) => {
            let mid = |c: &u8| matches!(c, b'x' | b'X' | b't' | b'T' | b'*');
            if b.len() < 4 || !mid(&b[1]) || !mid(&b[2]) || !b[3].eq_ignore_ascii_case(&b'p') {
                return None;
            }
            if b[1].eq_ignore_ascii_case(&b't') && b[2].eq_ignore_ascii_case(&b't') {
                // A real `http`: nothing to undo.
                return None;
            }
            let secure = b.get(4).is_some_and(|c| c.eq_ignore_ascii_case(&b's'));
            let len = if secure { 5 } else { 4 };
            if !scheme_colon_follows(&b[len..]) {
                return None;
            }
            found(len, if secure { "https" } else { "http" }, false)
        }
        b'f' | b'F' if starts_word(input, i) => {
            if b.len() < 3 || !b[1].eq_ignore_ascii_case(&b'x') || !b[2].eq_ignore_ascii_case(&b'p')
            {
                return None;
            }
            let secure = b.get(3).is_some_and(|c| c.eq_ignore_ascii_case(&b's'));
            let len = if secure { 4 } else { 3 };
            if !scheme_colon_follows(&b[len..]) {
                return None;
            }
            found(len, if secure { "ftps" } else { "ftp" }, false)
        }
        _ => None,
    }
}

/// Whether byte `i` of `input` starts a word (for defanged schemes).
fn starts_word(input: &str, i: usize) -> bool {
    match i.checked_sub(1).map(|p| input.as_bytes()[p]) {
        None => true,
        Some(prev) => prev.is_ascii() && !prev.is_ascii_alphanumeric() && !b".-_+".contains(&prev),
    }
}

/// Whether a scheme's `:` (or a defanged `[:`) comes next.
fn scheme_colon_follows(rest: &[u8]) -> bool {
    rest.starts_with(b":") || rest.starts_with(b"[:")
}

// ---------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------

/// Validate `raw` as an indicator of `kind` and return its canonical form.
///
/// The kind may change: a `cidr` with a full-length prefix (`/32`, `/128`) becomes an `ipv4` or
/// `ipv6` address. An IPv4-mapped IPv6 address asked for as `ipv6` stays `ipv6`.
pub fn canonicalize(kind: IndicatorKind, raw: &str) -> Result<Canonical, ValueError> {
    let input = prepare(Some(kind), raw)?;
    stable(kind, input).map_err(|reason| value_error(Some(kind), raw, reason))
}

/// Guess the kind of `raw` and canonicalize it.
///
/// Tried in this order: a 32, 40 or 64 character hex string is an `md5`, `sha1` or `sha256`;
/// something with `://` or starting with an allowed scheme is a `url`; something with an `@` is
/// an `email`; an IP address, `/` and a number is a `cidr` (other things with a `/` are URLs);
/// digits and dots are an `ipv4`; hex digits and at least two colons are an `ipv6` (an
/// IPv4-mapped address becomes its `ipv4`); `AS` or `ASN` and a number is an `asn`; anything
/// else must be a `domain`. A bare number is not taken as an AS number.
///
/// Errors have no kind and the kind name `indicator`; when a kind was guessed, the reason
/// starts with it (`cidr: host bits set; …`).
pub fn detect(raw: &str) -> Result<Canonical, ValueError> {
    let input = prepare(None, raw)?;
    let refanged = refang(input);
    let Some(kind) = guess(&refanged) else {
        return stable(IndicatorKind::Domain, input).map_err(|reason| {
            let reason = if looks_like_domain(&refanged) {
                format!("domain: {reason}")
            } else if refanged.bytes().all(|b| b.is_ascii_digit()) {
                format!("{NOTHING_FITS} (an as number needs the `AS` prefix)")
            } else if has_port(&refanged) {
                format!("{NOTHING_FITS} (an address with a port must be given as a url)")
            } else {
                NOTHING_FITS.to_string()
            };
            value_error(None, raw, reason)
        });
    };
    let canonical = stable(kind, input)
        .map_err(|reason| value_error(None, raw, format!("{}: {reason}", kind.as_str())))?;
    if canonical.kind == IndicatorKind::Ipv6
        && let Some(v4) = canonical.value.parse::<Ipv6Addr>().ok().and_then(|a| a.to_ipv4_mapped())
    {
        return Ok(Canonical { kind: IndicatorKind::Ipv4, value: v4.to_string() });
    }
    Ok(canonical)
}

/// Trim `raw` and check that it is neither empty nor too long.
fn prepare(kind: Option<IndicatorKind>, raw: &str) -> Result<&str, ValueError> {
    let input = raw.trim();
    if input.is_empty() {
        return Err(value_error(kind, raw, "empty value"));
    }
    if input.len() > MAX_INPUT_BYTES {
        return Err(value_error(kind, raw, format!("value longer than {MAX_INPUT_BYTES} bytes")));
    }
    Ok(input)
}

fn value_error(kind: Option<IndicatorKind>, raw: &str, reason: impl Into<String>) -> ValueError {
    ValueError {
        kind,
        kind_name: kind.map_or("indicator", IndicatorKind::as_str),
        value: raw.trim().chars().take(MAX_ERROR_VALUE_CHARS).collect(),
        reason: reason.into(),
    }
}

/// Canonicalize until the result no longer changes, so that canonicalization is idempotent
/// even for odd inputs (say, nested defanging like `[[.]]`).
fn stable(kind: IndicatorKind, input: &str) -> Result<Canonical, String> {
    let mut current = once(kind, input)?;
    if current.kind == kind && current.value == input {
        // Already canonical: a second pass would give the same result.
        return Ok(current);
    }
    for _ in 0..4 {
        if current.value.len() > MAX_INPUT_BYTES {
            return Err(format!("canonical value longer than {MAX_INPUT_BYTES} bytes"));
        }
        let next = once(current.kind, &current.value)?;
        if next == current {
            return Ok(current);
        }
        current = next;
    }
    Err("value has no stable canonical form".to_string())
}

/// One canonicalization pass of a trimmed, non-empty input.
fn once(kind: IndicatorKind, input: &str) -> Result<Canonical, String> {
    let refanged = refang(input);
    let s = refanged.as_ref();
    let same = |value: String| Ok(Canonical { kind, value });
    match kind {
        IndicatorKind::Ipv4 => same(canonical_ipv4(s)?.to_string()),
        IndicatorKind::Ipv6 => same(canonical_ipv6(s)?.to_string()),
        IndicatorKind::Cidr => canonical_cidr(s),
        IndicatorKind::Domain => same(canonical_domain(s)?),
        IndicatorKind::Url => same(canonical_url(s)?),
        IndicatorKind::Email => same(canonical_email(s)?),
        IndicatorKind::Md5 => same(canonical_hash(s, 32)?),
        IndicatorKind::Sha1 => same(canonical_hash(s, 40)?),
        IndicatorKind::Sha256 => same(canonical_hash(s, 64)?),
        IndicatorKind::Asn => same(canonical_asn(s)?),
    }
}

/// The kind [`detect`] tries for a refanged input, or `None` to fall back to `domain`.
fn guess(s: &str) -> Option<IndicatorKind> {
    if s.bytes().all(|b| b.is_ascii_hexdigit()) {
        match s.len() {
            32 => return Some(IndicatorKind::Md5),
            40 => return Some(IndicatorKind::Sha1),
            64 => return Some(IndicatorKind::Sha256),
            _ => {}
        }
    }
    if s.contains("://")
        || explicit_scheme(s)
            .is_some_and(|scheme| ALLOWED_SCHEMES.contains(&scheme.to_ascii_lowercase().as_str()))
    {
        return Some(IndicatorKind::Url);
    }
    if s.contains('@') {
        return Some(IndicatorKind::Email);
    }
    if let Some((before, after)) = s.split_once('/') {
        let ip_before = looks_like_ipv4(before) || looks_like_ipv6(before);
        if ip_before && !after.is_empty() && after.bytes().all(|b| b.is_ascii_digit()) {
            return Some(IndicatorKind::Cidr);
        }
        if before.contains(['.', ':']) || before.starts_with('[') {
            return Some(IndicatorKind::Url);
        }
        return None;
    }
    if looks_like_ipv4(s) {
        return Some(IndicatorKind::Ipv4);
    }
    if looks_like_ipv6(s) {
        return Some(IndicatorKind::Ipv6);
    }
    if looks_like_asn(s) {
        return Some(IndicatorKind::Asn);
    }
    None
}

/// Digits and dots, with at least one dot.
fn looks_like_ipv4(s: &str) -> bool {
    s.contains('.') && s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

/// Hex digits, colons and dots (for an embedded IPv4), with at least two colons, possibly in
/// brackets and with a zone identifier.
fn looks_like_ipv6(s: &str) -> bool {
    let s = strip_brackets(s);
    let address = s.split_once('%').map_or(s, |(address, _zone)| address);
    address.bytes().filter(|&b| b == b':').count() >= 2
        && address.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
}

/// `AS` or `ASN`, optional spaces, and a number (possibly asdot).
fn looks_like_asn(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    let Some(rest) = lower.strip_prefix("asn").or_else(|| lower.strip_prefix("as")) else {
        return false;
    };
    let rest = rest.trim_start();
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    match rest.split_once('.') {
        Some((high, low)) => digits(high) && digits(low),
        None => digits(rest),
    }
}

/// `host:port`, the host not empty and the port all digits.
fn has_port(s: &str) -> bool {
    s.rsplit_once(':').is_some_and(|(host, port)| {
        !host.is_empty() && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
    })
}

/// Characters a domain (or a wildcard pattern) can have, and a dot.
fn looks_like_domain(s: &str) -> bool {
    s.contains('.') && s.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '*'))
}

// ---------------------------------------------------------------------------------------------
// IP addresses and networks
// ---------------------------------------------------------------------------------------------

/// An `ipv4`, optionally with a `/32` suffix.
fn canonical_ipv4(s: &str) -> Result<Ipv4Addr, String> {
    let (address, prefix) = split_prefix(s);
    single_address_prefix(prefix, "32")?;
    parse_ipv4(address)
}

/// An `ipv6`, optionally in brackets and with a `/128` suffix.
fn canonical_ipv6(s: &str) -> Result<Ipv6Addr, String> {
    let (address, prefix) = split_prefix(s);
    single_address_prefix(prefix, "128")?;
    parse_ipv6(address)
}

/// Only the full-length prefix is allowed after a single address.
fn single_address_prefix(prefix: Option<&str>, full: &str) -> Result<(), String> {
    match prefix {
        Some(prefix) if prefix != full => Err(format!(
            "prefix /{} is not allowed for a single address; use kind cidr for networks",
            quote(prefix)
        )),
        _ => Ok(()),
    }
}

/// Split `address/prefix`.
fn split_prefix(s: &str) -> (&str, Option<&str>) {
    match s.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (s, None),
    }
}

/// `[address]` → `address`.
fn strip_brackets(s: &str) -> &str {
    s.strip_prefix('[').and_then(|inner| inner.strip_suffix(']')).unwrap_or(s)
}

/// A strict dotted quad: four decimal octets, no leading zeros.
fn parse_ipv4(s: &str) -> Result<Ipv4Addr, String> {
    if s.contains(':') && parse_ipv6(s).is_ok() {
        return Err("this is an ipv6 address, not an ipv4 address".to_string());
    }
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() != 4 {
        if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Err(format!("expected 4 dot-separated octets, got {}", parts.len()));
        }
        return Err("not a dotted-quad ipv4 address".to_string());
    }
    let mut octets = [0u8; 4];
    for (octet, part) in octets.iter_mut().zip(&parts) {
        if part.is_empty() {
            return Err("empty octet".to_string());
        }
        if !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("octet `{}` is not a decimal number", quote(part)));
        }
        if part.len() > 1 && part.starts_with('0') {
            return Err(format!(
                "octet `{}` has a leading zero (octal forms are ambiguous)",
                quote(part)
            ));
        }
        *octet =
            part.parse().map_err(|_| format!("octet `{}` is greater than 255", quote(part)))?;
    }
    Ok(Ipv4Addr::from(octets))
}

/// An IPv6 address, possibly in brackets; no zone identifier.
fn parse_ipv6(s: &str) -> Result<Ipv6Addr, String> {
    let s = strip_brackets(s);
    if s.contains('%') {
        return Err("zone identifiers are not allowed".to_string());
    }
    if let Ok(address) = s.parse::<Ipv6Addr>() {
        return Ok(address);
    }
    if s.parse::<Ipv4Addr>().is_ok() {
        return Err("this is an ipv4 address, not an ipv6 address".to_string());
    }
    if !s.contains(':') {
        return Err("not an ipv6 address (no `:`)".to_string());
    }
    if let Some(c) = s.chars().find(|&c| !(c.is_ascii_hexdigit() || c == ':' || c == '.')) {
        return Err(format!("unexpected character `{c}` in ipv6 address"));
    }
    if s.contains(":::") {
        return Err("`:::` is not allowed".to_string());
    }
    if s.matches("::").count() > 1 {
        return Err("`::` may appear only once".to_string());
    }
    if let Some(group) = s.split(':').find(|g| g.len() > 4 && !g.contains('.')) {
        return Err(format!("group `{}` has more than 4 hex digits", quote(group)));
    }
    Err("malformed ipv6 address".to_string())
}

/// A `cidr`; a full-length prefix gives the bare address.
fn canonical_cidr(s: &str) -> Result<Canonical, String> {
    let Some((address, prefix)) = s.split_once('/') else {
        return Err("missing /prefix".to_string());
    };
    if address.is_empty() {
        return Err("missing address before the /prefix".to_string());
    }
    if prefix.is_empty() {
        return Err("empty prefix after `/`".to_string());
    }
    if !prefix.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("prefix `{}` is not a decimal number", quote(prefix)));
    }
    // Longer than any valid prefix, even with leading zeros: out of range.
    let length: u32 = prefix.parse().unwrap_or(u32::MAX);
    if strip_brackets(address).contains(':') {
        let address = parse_ipv6(address)?;
        let Some(net) = u8::try_from(length).ok().and_then(|l| Ipv6Net::new(address, l).ok())
        else {
            return Err(format!("prefix /{} is out of range for ipv6 (0-128)", quote(prefix)));
        };
        if net.prefix_len() == 128 {
            return Ok(Canonical { kind: IndicatorKind::Ipv6, value: address.to_string() });
        }
        if net.network() != address {
            return Err(format!("host bits set; the network is {}", net.trunc()));
        }
        Ok(Canonical { kind: IndicatorKind::Cidr, value: net.to_string() })
    } else {
        let address = parse_ipv4(address)?;
        let Some(net) = u8::try_from(length).ok().and_then(|l| Ipv4Net::new(address, l).ok())
        else {
            return Err(format!("prefix /{} is out of range for ipv4 (0-32)", quote(prefix)));
        };
        if net.prefix_len() == 32 {
            return Ok(Canonical { kind: IndicatorKind::Ipv4, value: address.to_string() });
        }
        if net.network() != address {
            return Err(format!("host bits set; the network is {}", net.trunc()));
        }
        Ok(Canonical { kind: IndicatorKind::Cidr, value: net.to_string() })
    }
}

// ---------------------------------------------------------------------------------------------
// Domains, URLs and email addresses
// ---------------------------------------------------------------------------------------------

/// A `domain`: one trailing dot stripped, lower-cased, IDNA (UTS 46, non-strict so underscores
/// are allowed) to ASCII, then checked label by label.
fn canonical_domain(s: &str) -> Result<String, String> {
    if s.parse::<IpAddr>().is_ok() || strip_brackets(s).parse::<Ipv6Addr>().is_ok() {
        return Err("this is an ip address, not a domain".to_string());
    }
    let name = s.strip_suffix('.').unwrap_or(s);
    if name.contains('*') {
        return Err("wildcards are not allowed".to_string());
    }
    if let Some(c) = name.chars().find(|&c| {
        c.is_whitespace()
            || c.is_control()
            || (c.is_ascii() && !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    }) {
        return Err(match c {
            c if c.is_whitespace() => "contains whitespace".to_string(),
            c if c.is_control() => "contains a control character".to_string(),
            ':' => "unexpected `:`; a domain has no port".to_string(),
            '/' => "unexpected `/`; a domain has no path".to_string(),
            '@' => "unexpected `@`; a domain has no user part".to_string(),
            c => format!("invalid character `{c}`"),
        });
    }
    let lower = name.to_ascii_lowercase();
    let ascii = idna::domain_to_ascii_cow(lower.as_bytes(), AsciiDenyList::EMPTY)
        .map_err(|_| "not a valid internationalized domain name".to_string())?;
    check_ascii_domain(&ascii)?;
    Ok(ascii.into_owned())
}

/// The checks on the ASCII form of a domain.
fn check_ascii_domain(name: &str) -> Result<(), String> {
    let labels: Vec<&str> = name.split('.').collect();
    if labels.iter().any(|label| label.is_empty()) {
        return Err("empty label".to_string());
    }
    if labels.len() < 2 {
        return Err("a domain needs at least two labels".to_string());
    }
    if name.len() > 253 {
        return Err(format!("domain is {} bytes long; the maximum is 253", name.len()));
    }
    for label in &labels {
        if label.len() > 63 {
            return Err(format!("label is {} bytes long; the maximum is 63", label.len()));
        }
        if let Some(c) = label
            .chars()
            .find(|&c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'))
        {
            return Err(format!("invalid character `{c}`"));
        }
        if label.starts_with('-') {
            return Err(format!("label `{label}` starts with a hyphen"));
        }
        if label.ends_with('-') {
            return Err(format!("label `{label}` ends with a hyphen"));
        }
    }
    if let Some(tld) = labels.last()
        && tld.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(format!("top-level label `{tld}` is all digits"));
    }
    Ok(())
}

/// The scheme of `s` if it starts with one: `scheme://`, or `scheme:` where the scheme has no
/// dot and what follows is not a port (`localhost:8080`).
fn explicit_scheme(s: &str) -> Option<&str> {
    let (scheme, rest) = s.split_once(':')?;
    let mut chars = scheme.chars();
    if !chars.next()?.is_ascii_alphabetic()
        || !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return None;
    }
    if rest.starts_with("//") {
        return Some(scheme);
    }
    let port_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let port = &rest[..port_end];
    if scheme.contains('.') || (!port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    Some(scheme)
}

/// A `url`: WHATWG parsing, with `http://` assumed when there is no scheme.
fn canonical_url(s: &str) -> Result<String, String> {
    let with_scheme: Cow<'_, str> = match explicit_scheme(s) {
        Some(scheme) => {
            let scheme = scheme.to_ascii_lowercase();
            if !ALLOWED_SCHEMES.contains(&scheme.as_str()) {
                return Err(scheme_not_allowed(&scheme));
            }
            Cow::Borrowed(s)
        }
        None => Cow::Owned(format!("http://{s}")),
    };
    let mut url = Url::parse(&with_scheme).map_err(url_error)?;
    if !ALLOWED_SCHEMES.contains(&url.scheme()) {
        return Err(scheme_not_allowed(url.scheme()));
    }
    url.set_fragment(None);
    let host = match url.host() {
        None => return Err("url has no host".to_string()),
        Some(Host::Domain(domain)) => Some(domain.to_string()),
        Some(Host::Ipv4(_) | Host::Ipv6(_)) => None,
    };
    if let Some(host) = host {
        let canonical = if url.is_special() {
            // Already lower-case and IDNA-encoded by the parser.
            host.strip_suffix('.').unwrap_or(&host).to_string()
        } else {
            canonical_opaque_host(&host)?
        };
        if canonical.is_empty() {
            return Err("url has no host".to_string());
        }
        if canonical != host {
            url.set_host(Some(&canonical)).map_err(url_error)?;
        }
    }
    let default_port = match url.scheme() {
        "sftp" => Some(22),
        "ftps" => Some(990),
        _ => None,
    };
    if default_port.is_some() && url.port() == default_port {
        url.set_port(None).map_err(|()| "cannot remove the default port".to_string())?;
    }
    if url.path().is_empty() {
        url.set_path("/");
    }
    Ok(url.into())
}

fn scheme_not_allowed(scheme: &str) -> String {
    format!(
        "scheme `{}` is not allowed; expected {}",
        quote(scheme),
        "http, https, ftp, ftps, sftp, ws or wss"
    )
}

/// The host of a URL whose scheme the WHATWG standard does not know (`sftp`, `ftps`), which the
/// parser keeps as given: percent-decoded, IDNA-encoded and lower-cased like a special host.
fn canonical_opaque_host(host: &str) -> Result<String, String> {
    let decoded = String::from_utf8(percent_decode(host))
        .map_err(|_| "host is not valid utf-8".to_string())?;
    if let Ok(v4) = parse_ipv4(&decoded) {
        return Ok(v4.to_string());
    }
    let ascii = idna::domain_to_ascii_cow(decoded.as_bytes(), AsciiDenyList::URL)
        .map_err(|_| "host is not a valid domain name".to_string())?;
    Ok(ascii.strip_suffix('.').unwrap_or(&ascii).to_string())
}

/// `%XX` escapes decoded; anything else (a stray `%` too) kept as it is.
fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(high), Some(low)) = (hex_value(bytes[i + 1]), hex_value(bytes[i + 2]))
        {
            out.push((high << 4) | low);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn url_error(e: ParseError) -> String {
    match e {
        ParseError::EmptyHost => "url has no host".to_string(),
        ParseError::IdnaError => "host is not a valid domain name".to_string(),
        ParseError::InvalidPort => "invalid port number".to_string(),
        ParseError::InvalidIpv4Address => "host is not a valid ipv4 address".to_string(),
        ParseError::InvalidIpv6Address => "host is not a valid ipv6 address".to_string(),
        ParseError::InvalidDomainCharacter => "host contains an invalid character".to_string(),
        other => format!("malformed url ({})", other.to_string().to_lowercase()),
    }
}

/// An `email`: split at the last `@`, the domain part canonical as a domain, all lower-case.
/// A leading `mailto:` is dropped.
fn canonical_email(s: &str) -> Result<String, String> {
    let s = match s.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("mailto:") => &s[7..],
        _ => s,
    };
    let Some((local, domain)) = s.rsplit_once('@') else {
        return Err("missing `@`".to_string());
    };
    if local.is_empty() {
        return Err("empty local part".to_string());
    }
    if local.chars().any(char::is_whitespace) {
        return Err("local part contains whitespace".to_string());
    }
    if local.chars().any(char::is_control) {
        return Err("local part contains a control character".to_string());
    }
    let local = local.to_lowercase();
    if local.len() > 64 {
        return Err(format!("local part is {} bytes long; the maximum is 64", local.len()));
    }
    if domain.is_empty() {
        return Err("empty domain part".to_string());
    }
    let domain = canonical_domain(domain).map_err(|reason| format!("domain part: {reason}"))?;
    Ok(format!("{local}@{domain}"))
}

// ---------------------------------------------------------------------------------------------
// Hashes and AS numbers
// ---------------------------------------------------------------------------------------------

/// A hex digest of `len` characters, lower-cased.
fn canonical_hash(s: &str, len: usize) -> Result<String, String> {
    let got = s.chars().count();
    if got != len {
        return Err(format!("expected {len} hexadecimal characters, got {got}"));
    }
    if let Some(c) = s.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(format!("not hexadecimal: unexpected character `{c}`"));
    }
    Ok(s.to_ascii_lowercase())
}

/// An `asn`: `AS13335`, `ASN13335`, `AS 13335`, `13335` or asdot `AS1.10`.
fn canonical_asn(s: &str) -> Result<String, String> {
    const EXPECTED: &str = "not an as number (expected e.g. `AS13335`, `13335` or asdot `AS1.10`)";
    let lower = s.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("asn")
        .or_else(|| lower.strip_prefix("as"))
        .map_or(lower.as_str(), str::trim_start);
    if rest.is_empty() {
        return Err("missing the as number".to_string());
    }
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    let number = match rest.split_once('.') {
        Some((high, low)) => {
            if !digits(high) || !digits(low) {
                return Err(EXPECTED.to_string());
            }
            let part = |p: &str| {
                p.parse::<u16>()
                    .map_err(|_| format!("asdot part {} is out of range 0-65535", quote(p)))
            };
            (u32::from(part(high)?) << 16) | u32::from(part(low)?)
        }
        None => {
            if !digits(rest) {
                return Err(EXPECTED.to_string());
            }
            rest.parse::<u32>()
                .map_err(|_| format!("as number {} is out of range 0-4294967295", quote(rest)))?
        }
    };
    Ok(format!("AS{number}"))
}

/// `s` for quoting in a reason, shortened to [`MAX_QUOTED_CHARS`] characters.
fn quote(s: &str) -> Cow<'_, str> {
    match s.char_indices().nth(MAX_QUOTED_CHARS) {
        None => Cow::Borrowed(s),
        Some((end, _)) => Cow::Owned(format!("{}…", &s[..end])),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use IndicatorKind::{Asn, Cidr, Domain, Email, Ipv4, Ipv6, Md5, Sha1, Sha256, Url};

    /// Canonicalize as `kind`, or [`detect`] when `kind` is `None`.
    fn run(kind: Option<IndicatorKind>, input: &str) -> Result<Canonical, ValueError> {
        match kind {
            Some(kind) => canonicalize(kind, input),
            None => detect(input),
        }
    }

    /// `input` (as `kind`, or detected when `None`) is valid with this kind and canonical value,
    /// and the canonical value is a fixed point.
    #[track_caller]
    fn check(
        kind: Option<IndicatorKind>,
        input: &str,
        expected_kind: IndicatorKind,
        expected_value: &str,
    ) {
        let canonical = match run(kind, input) {
            Ok(canonical) => canonical,
            Err(e) => panic!("{input:?} as {kind:?}: unexpected error: {e}"),
        };
        assert_eq!(
            (canonical.kind, canonical.value.as_str()),
            (expected_kind, expected_value),
            "{input:?} as {kind:?}"
        );
        assert_eq!(
            canonicalize(canonical.kind, &canonical.value),
            Ok(canonical.clone()),
            "canonical value of {input:?} is not a fixed point"
        );
        assert_eq!(
            refang(&canonical.value),
            canonical.value,
            "refang changes the canonical value of {input:?}"
        );
    }

    /// `input` (as `kind`, or detected when `None`) is invalid with this message.
    #[track_caller]
    fn check_err(kind: Option<IndicatorKind>, input: &str, expected_message: &str) {
        match run(kind, input) {
            Ok(canonical) => panic!("{input:?} as {kind:?}: expected an error, got {canonical:?}"),
            Err(e) => {
                assert_eq!(e.to_string(), expected_message, "{input:?} as {kind:?}");
                assert_eq!(e.kind, kind);
                assert_eq!(e.kind_name, kind.map_or("indicator", IndicatorKind::as_str));
                assert_reason_style(&e);
            }
        }
    }

    #[track_caller]
    fn assert_reason_style(e: &ValueError) {
        assert!(!e.reason.is_empty(), "empty reason: {e:?}");
        assert!(!e.reason.starts_with(|c: char| c.is_uppercase()), "reason not lower case: {e:?}");
        assert!(
            !e.reason.ends_with(['.', ';', ':', '!', ',']),
            "reason with trailing punctuation: {e:?}"
        );
        assert!(e.value.chars().count() <= 200, "value not truncated: {e:?}");
    }

    // -----------------------------------------------------------------------------------------
    // refang
    // -----------------------------------------------------------------------------------------

    #[test]
    fn refang_undoes_defanging() {
        let cases = [
            ("hxxp://evil.com", "http://evil.com"),
            ("hXXp://evil.com", "http://evil.com"),
            ("HXXP://evil.com", "http://evil.com"),
            ("hxxps://evil.com", "https://evil.com"),
            ("hXXpS://evil.com", "https://evil.com"),
            ("hxtp://evil.com", "http://evil.com"),
            ("htxp://evil.com", "http://evil.com"),
            ("h**p://evil.com", "http://evil.com"),
            ("h**ps://evil.com", "https://evil.com"),
            ("hxxp[://]evil.com", "http://evil.com"),
            ("hxxps[:]//evil.com", "https://evil.com"),
            ("fxp://files.evil.com", "ftp://files.evil.com"),
            ("FXPS://files.evil.com", "ftps://files.evil.com"),
            ("see hxxp://a.com and hxxps://b.com", "see http://a.com and https://b.com"),
            ("(hxxp://a.com)", "(http://a.com)"),
            ("\"hxxp://a.com\"", "\"http://a.com\""),
            ("evil[.]com", "evil.com"),
            ("evil(.)com", "evil.com"),
            ("evil{.}com", "evil.com"),
            ("evil[dot]com", "evil.com"),
            ("evil[DOT]com", "evil.com"),
            ("evil(dot)com", "evil.com"),
            ("evil{Dot}com", "evil.com"),
            ("evil [dot] com", "evil.com"),
            ("evil\t(dot)\tcom", "evil.com"),
            ("evil\\.com", "evil.com"),
            ("1[.]2[.]3[.]4", "1.2.3.4"),
            ("evil.com[:]8080", "evil.com:8080"),
            ("evil.com[/]login", "evil.com/login"),
            ("john[@]example.com", "john@example.com"),
            ("john(@)example.com", "john@example.com"),
            ("john{@}example.com", "john@example.com"),
            ("john[at]example.com", "john@example.com"),
            ("john(AT)example.com", "john@example.com"),
            ("john{at}example.com", "john@example.com"),
            ("john [at] example [dot] com", "john@example.com"),
            ("hxxps[://]evil[.]com[/]a", "https://evil.com/a"),
            // Scanned once.
            ("evil[[.]]com", "evil[.]com"),
        ];
        for (input, expected) in cases {
            let got = refang(input);
            assert_eq!(got, expected, "refang({input:?})");
            assert!(matches!(got, Cow::Owned(_)), "refang({input:?}) should allocate");
        }
    }

    #[test]
    fn refang_leaves_other_text_alone() {
        let unchanged = [
            "",
            "http://evil.com",
            "HTTP://evil.com",
            "https://evil.com/a(b)c[d]{e}",
            "ftp://evil.com",
            // Not at the start of a word.
            "ahxxp://evil.com",
            "evil.hxxp:1",
            // No scheme separator follows.
            "hxxp.evil.com",
            "hxxp",
            "fxp.example.com",
            "[::1]",
            "[2001:db8::1]:443",
            "[:/]",
            "evil[.com",
            "evil[ dot ]com",
            "evil dot com",
            "john at example.com",
            "münchen.de",
            "\\d+",
        ];
        for input in unchanged {
            assert!(
                matches!(refang(input), Cow::Borrowed(s) if s == input),
                "refang({input:?}) should return the input"
            );
        }
    }

    // -----------------------------------------------------------------------------------------
    // Common rules
    // -----------------------------------------------------------------------------------------

    #[test]
    fn input_is_trimmed() {
        check(Some(Ipv4), "  192.0.2.1\n", Ipv4, "192.0.2.1");
        check(Some(Domain), "\texample.com ", Domain, "example.com");
        check(None, " \u{a0}example.com\r\n", Domain, "example.com");
    }

    #[test]
    fn empty_and_too_long_inputs() {
        for kind in IndicatorKind::ALL {
            let name = kind.as_str();
            check_err(Some(*kind), "", &format!("invalid {name} ``: empty value"));
            check_err(Some(*kind), " \t\n ", &format!("invalid {name} ``: empty value"));
            let long = "a".repeat(8193);
            check_err(
                Some(*kind),
                &long,
                &format!("invalid {name} `{}`: value longer than 8192 bytes", "a".repeat(200)),
            );
        }
        check_err(None, "   ", "invalid indicator ``: empty value");
        check_err(
            None,
            &"a".repeat(9000),
            &format!("invalid indicator `{}`: value longer than 8192 bytes", "a".repeat(200)),
        );
        // 8192 bytes is still fine.
        let path = "x".repeat(8192 - "http://a.com/".len());
        let url = format!("http://a.com/{path}");
        check(Some(Url), &url, Url, &url);
    }

    #[test]
    fn error_value_is_truncated_to_200_characters() {
        let label = "é".repeat(300);
        check_err(
            Some(Domain),
            &label,
            &format!("invalid domain `{}`: a domain needs at least two labels", "é".repeat(200)),
        );
        let e = canonicalize(Md5, &"z".repeat(250)).unwrap_err();
        assert_eq!(e.value, "z".repeat(200));
        assert_eq!(e.reason, "expected 32 hexadecimal characters, got 250");
        assert_eq!(e.kind, Some(Md5));
        assert_eq!(e.kind_name, "md5");
    }

    // -----------------------------------------------------------------------------------------
    // ipv4
    // -----------------------------------------------------------------------------------------

    #[test]
    fn ipv4_valid() {
        let k = Some(Ipv4);
        check(k, "192.0.2.1", Ipv4, "192.0.2.1");
        check(k, "0.0.0.0", Ipv4, "0.0.0.0");
        check(k, "255.255.255.255", Ipv4, "255.255.255.255");
        check(k, "10.0.0.1/32", Ipv4, "10.0.0.1");
        check(k, "1[.]2[.]3[.]4", Ipv4, "1.2.3.4");
        check(k, "10(.)0(.)0(.)1", Ipv4, "10.0.0.1");
        check(k, "192.168.1[dot]1", Ipv4, "192.168.1.1");
        check(k, "8\\.8\\.8\\.8", Ipv4, "8.8.8.8");
    }

    #[test]
    fn ipv4_invalid() {
        let k = Some(Ipv4);
        check_err(
            k,
            "010.1.1.1",
            "invalid ipv4 `010.1.1.1`: octet `010` has a leading zero (octal forms are ambiguous)",
        );
        check_err(
            k,
            "1.2.3.00",
            "invalid ipv4 `1.2.3.00`: octet `00` has a leading zero (octal forms are ambiguous)",
        );
        check_err(k, "1.2.3", "invalid ipv4 `1.2.3`: expected 4 dot-separated octets, got 3");
        check_err(
            k,
            "1.2.3.4.5",
            "invalid ipv4 `1.2.3.4.5`: expected 4 dot-separated octets, got 5",
        );
        check_err(k, "16843009", "invalid ipv4 `16843009`: expected 4 dot-separated octets, got 1");
        check_err(k, "1.2.3.256", "invalid ipv4 `1.2.3.256`: octet `256` is greater than 255");
        check_err(
            k,
            "1.2.3.99999999999999999999",
            "invalid ipv4 `1.2.3.99999999999999999999`: octet `99999999999999999999` is greater than 255",
        );
        check_err(k, "1..3.4", "invalid ipv4 `1..3.4`: empty octet");
        check_err(
            k,
            "0x7f.0.0.1",
            "invalid ipv4 `0x7f.0.0.1`: octet `0x7f` is not a decimal number",
        );
        check_err(k, "1.2.3.-4", "invalid ipv4 `1.2.3.-4`: octet `-4` is not a decimal number");
        check_err(
            k,
            "10.0.0.0/8",
            "invalid ipv4 `10.0.0.0/8`: prefix /8 is not allowed for a single address; use kind cidr for networks",
        );
        check_err(
            k,
            "::ffff:1.2.3.4",
            "invalid ipv4 `::ffff:1.2.3.4`: this is an ipv6 address, not an ipv4 address",
        );
        check_err(k, "evil.com", "invalid ipv4 `evil.com`: not a dotted-quad ipv4 address");
    }

    // -----------------------------------------------------------------------------------------
    // ipv6
    // -----------------------------------------------------------------------------------------

    #[test]
    fn ipv6_valid() {
        let k = Some(Ipv6);
        check(k, "2001:db8::1", Ipv6, "2001:db8::1");
        check(k, "2001:DB8::1", Ipv6, "2001:db8::1");
        check(k, "2001:0DB8:0000:0000:0000:0000:0000:0001", Ipv6, "2001:db8::1");
        check(k, "2001:db8:0:0:1:0:0:1", Ipv6, "2001:db8::1:0:0:1");
        check(k, "2001:db8:0:0:0:1:0:0", Ipv6, "2001:db8::1:0:0");
        check(k, "2001:db8:0:1:1:1:1:1", Ipv6, "2001:db8:0:1:1:1:1:1");
        check(k, "::1", Ipv6, "::1");
        check(k, "::", Ipv6, "::");
        check(k, "FE80::", Ipv6, "fe80::");
        check(k, "[2001:db8::1]", Ipv6, "2001:db8::1");
        check(k, "[2001:DB8::1]/128", Ipv6, "2001:db8::1");
        check(k, "2001:db8::1/128", Ipv6, "2001:db8::1");
        // Embedded IPv4.
        check(k, "::ffff:1.2.3.4", Ipv6, "::ffff:1.2.3.4");
        check(k, "::FFFF:102:304", Ipv6, "::ffff:1.2.3.4");
        check(k, "64:ff9b::192.0.2.33", Ipv6, "64:ff9b::c000:221");
        check(k, "::1.2.3.4", Ipv6, "::102:304");
        // Defanged.
        check(k, "2001[:]db8[:][:]1", Ipv6, "2001:db8::1");
    }

    #[test]
    fn ipv6_invalid() {
        let k = Some(Ipv6);
        check_err(
            k,
            "fe80::1%eth0",
            "invalid ipv6 `fe80::1%eth0`: zone identifiers are not allowed",
        );
        check_err(
            k,
            "[fe80::1%25eth0]",
            "invalid ipv6 `[fe80::1%25eth0]`: zone identifiers are not allowed",
        );
        check_err(
            k,
            "1.2.3.4",
            "invalid ipv6 `1.2.3.4`: this is an ipv4 address, not an ipv6 address",
        );
        check_err(k, "2001:db8::1::2", "invalid ipv6 `2001:db8::1::2`: `::` may appear only once");
        check_err(k, "2001:db8:::1", "invalid ipv6 `2001:db8:::1`: `:::` is not allowed");
        check_err(
            k,
            "2001:db8::12345",
            "invalid ipv6 `2001:db8::12345`: group `12345` has more than 4 hex digits",
        );
        check_err(
            k,
            "2001:db8::g",
            "invalid ipv6 `2001:db8::g`: unexpected character `g` in ipv6 address",
        );
        check_err(
            k,
            "1:2:3:4:5:6:7:8:9",
            "invalid ipv6 `1:2:3:4:5:6:7:8:9`: malformed ipv6 address",
        );
        check_err(k, "::ffff:1.2.3.256", "invalid ipv6 `::ffff:1.2.3.256`: malformed ipv6 address");
        check_err(k, "evil.com", "invalid ipv6 `evil.com`: not an ipv6 address (no `:`)");
        check_err(
            k,
            "2001:db8::/64",
            "invalid ipv6 `2001:db8::/64`: prefix /64 is not allowed for a single address; use kind cidr for networks",
        );
    }

    // -----------------------------------------------------------------------------------------
    // cidr
    // -----------------------------------------------------------------------------------------

    #[test]
    fn cidr_valid() {
        let k = Some(Cidr);
        check(k, "10.0.0.0/8", Cidr, "10.0.0.0/8");
        check(k, "192.168.1.0/24", Cidr, "192.168.1.0/24");
        check(k, "0.0.0.0/0", Cidr, "0.0.0.0/0");
        check(k, "10.0.0.0/08", Cidr, "10.0.0.0/8");
        check(k, "10[.]0[.]0[.]0/8", Cidr, "10.0.0.0/8");
        check(k, "2001:DB8::/32", Cidr, "2001:db8::/32");
        check(k, "2001:db8:0:0::/64", Cidr, "2001:db8::/64");
        check(k, "[2001:db8::]/48", Cidr, "2001:db8::/48");
        check(k, "::/0", Cidr, "::/0");
        check(k, "::ffff:0:0/96", Cidr, "::ffff:0.0.0.0/96");
        // Full-length prefixes are addresses.
        check(k, "192.0.2.1/32", Ipv4, "192.0.2.1");
        check(k, "2001:db8::1/128", Ipv6, "2001:db8::1");
        check(k, "::ffff:1.2.3.4/128", Ipv6, "::ffff:1.2.3.4");
    }

    #[test]
    fn cidr_invalid() {
        let k = Some(Cidr);
        check_err(
            k,
            "10.0.0.1/24",
            "invalid cidr `10.0.0.1/24`: host bits set; the network is 10.0.0.0/24",
        );
        check_err(
            k,
            "2001:db8::1/32",
            "invalid cidr `2001:db8::1/32`: host bits set; the network is 2001:db8::/32",
        );
        check_err(
            k,
            "10.0.0.0/33",
            "invalid cidr `10.0.0.0/33`: prefix /33 is out of range for ipv4 (0-32)",
        );
        check_err(
            k,
            "2001:db8::/129",
            "invalid cidr `2001:db8::/129`: prefix /129 is out of range for ipv6 (0-128)",
        );
        check_err(
            k,
            "10.0.0.0/99999999999",
            "invalid cidr `10.0.0.0/99999999999`: prefix /99999999999 is out of range for ipv4 (0-32)",
        );
        check_err(k, "10.0.0.0", "invalid cidr `10.0.0.0`: missing /prefix");
        check_err(k, "2001:db8::", "invalid cidr `2001:db8::`: missing /prefix");
        check_err(k, "10.0.0.0/", "invalid cidr `10.0.0.0/`: empty prefix after `/`");
        check_err(k, "/24", "invalid cidr `/24`: missing address before the /prefix");
        check_err(k, "10.0.0.0/x", "invalid cidr `10.0.0.0/x`: prefix `x` is not a decimal number");
        check_err(
            k,
            "10.0.0.0/-8",
            "invalid cidr `10.0.0.0/-8`: prefix `-8` is not a decimal number",
        );
        check_err(
            k,
            "010.0.0.0/8",
            "invalid cidr `010.0.0.0/8`: octet `010` has a leading zero (octal forms are ambiguous)",
        );
        check_err(
            k,
            "fe80::%eth0/64",
            "invalid cidr `fe80::%eth0/64`: zone identifiers are not allowed",
        );
        check_err(k, "evil.com/24", "invalid cidr `evil.com/24`: not a dotted-quad ipv4 address");
    }

    // -----------------------------------------------------------------------------------------
    // domain
    // -----------------------------------------------------------------------------------------

    #[test]
    fn domain_valid() {
        let k = Some(Domain);
        check(k, "example.com", Domain, "example.com");
        check(k, "Example.COM.", Domain, "example.com");
        check(k, "www.Sub.Example.co.uk", Domain, "www.sub.example.co.uk");
        check(k, "_dmarc.example.com", Domain, "_dmarc.example.com");
        check(k, "a_b.example.com", Domain, "a_b.example.com");
        check(k, "a-b--c.example", Domain, "a-b--c.example");
        check(k, "123.example.com", Domain, "123.example.com");
        check(k, "1.2.3.com", Domain, "1.2.3.com");
        check(k, "x.y", Domain, "x.y");
        // Defanged.
        check(k, "evil[.]com", Domain, "evil.com");
        check(k, "evil(.)com", Domain, "evil.com");
        check(k, "evil{.}com", Domain, "evil.com");
        check(k, "evil[dot]com", Domain, "evil.com");
        check(k, "evil [DOT] com", Domain, "evil.com");
        check(k, "evil\\.com", Domain, "evil.com");
        check(k, "evil[.]com[.]", Domain, "evil.com");
        // IDNs.
        check(k, "BÜCHER.example", Domain, "xn--bcher-kva.example");
        check(k, "münchen.de", Domain, "xn--mnchen-3ya.de");
        check(k, "MÜNCHEN.DE", Domain, "xn--mnchen-3ya.de");
        check(k, "xn--mnchen-3ya.de", Domain, "xn--mnchen-3ya.de");
        check(k, "XN--MNCHEN-3YA.DE", Domain, "xn--mnchen-3ya.de");
        check(k, "пример.рф", Domain, "xn--e1afmkfd.xn--p1ai");
        check(k, "ПРИМЕР.РФ", Domain, "xn--e1afmkfd.xn--p1ai");
        check(k, "例え.テスト", Domain, "xn--r8jz45g.xn--zckzah");
        check(k, "faß.de", Domain, "xn--fa-hia.de");
        check(k, "example。com", Domain, "example.com");
        check(k, "münchen[.]de", Domain, "xn--mnchen-3ya.de");
        // Limits.
        let label = "a".repeat(63);
        check(k, &format!("{label}.com"), Domain, &format!("{label}.com"));
        let long = format!("{label}.{label}.{label}.{}.com", "b".repeat(57));
        assert_eq!(long.len(), 253);
        check(k, &long, Domain, &long);
    }

    #[test]
    fn domain_invalid() {
        let k = Some(Domain);
        check_err(k, "*.evil.com", "invalid domain `*.evil.com`: wildcards are not allowed");
        check_err(k, "evil*.com", "invalid domain `evil*.com`: wildcards are not allowed");
        check_err(k, "localhost", "invalid domain `localhost`: a domain needs at least two labels");
        check_err(k, "com.", "invalid domain `com.`: a domain needs at least two labels");
        check_err(k, "evil..com", "invalid domain `evil..com`: empty label");
        check_err(k, ".evil.com", "invalid domain `.evil.com`: empty label");
        check_err(k, "evil.com..", "invalid domain `evil.com..`: empty label");
        check_err(k, ".", "invalid domain `.`: empty label");
        check_err(k, "-evil.com", "invalid domain `-evil.com`: label `-evil` starts with a hyphen");
        check_err(k, "evil-.com", "invalid domain `evil-.com`: label `evil-` ends with a hyphen");
        check_err(k, "evil.com-", "invalid domain `evil.com-`: label `com-` ends with a hyphen");
        check_err(k, "evil .com", "invalid domain `evil .com`: contains whitespace");
        check_err(
            k,
            "evil\u{7}.com",
            "invalid domain `evil\u{7}.com`: contains a control character",
        );
        check_err(
            k,
            "evil.com/login",
            "invalid domain `evil.com/login`: unexpected `/`; a domain has no path",
        );
        check_err(
            k,
            "evil.com:8080",
            "invalid domain `evil.com:8080`: unexpected `:`; a domain has no port",
        );
        check_err(
            k,
            "john@evil.com",
            "invalid domain `john@evil.com`: unexpected `@`; a domain has no user part",
        );
        check_err(k, "evil!.com", "invalid domain `evil!.com`: invalid character `!`");
        check_err(k, "1.2.3.4", "invalid domain `1.2.3.4`: this is an ip address, not a domain");
        check_err(
            k,
            "[2001:db8::1]",
            "invalid domain `[2001:db8::1]`: this is an ip address, not a domain",
        );
        check_err(
            k,
            "1.2.3.999",
            "invalid domain `1.2.3.999`: top-level label `999` is all digits",
        );
        check_err(
            k,
            "example.123",
            "invalid domain `example.123`: top-level label `123` is all digits",
        );
        check_err(
            k,
            "xn--abc.com",
            "invalid domain `xn--abc.com`: not a valid internationalized domain name",
        );
        check_err(
            k,
            "ex\u{fffd}ample.com",
            "invalid domain `ex\u{fffd}ample.com`: not a valid internationalized domain name",
        );
        let label = "a".repeat(64);
        check_err(
            k,
            &format!("{label}.com"),
            &format!("invalid domain `{label}.com`: label is 64 bytes long; the maximum is 63"),
        );
        let a = "a".repeat(63);
        let long = format!("{a}.{a}.{a}.{}.com", "b".repeat(58));
        check_err(
            k,
            &long,
            &format!(
                "invalid domain `{}`: domain is 254 bytes long; the maximum is 253",
                &long[..200]
            ),
        );
    }

    // -----------------------------------------------------------------------------------------
    // url
    // -----------------------------------------------------------------------------------------

    #[test]
    fn url_valid() {
        let k = Some(Url);
        check(k, "hxxp://Evil[.]com:80/a?b=c#frag", Url, "http://evil.com/a?b=c");
        check(k, "http://example.com", Url, "http://example.com/");
        check(k, "HTTPS://EXAMPLE.COM:443", Url, "https://example.com/");
        check(k, "https://example.com:8443/X?Q=1", Url, "https://example.com:8443/X?Q=1");
        check(k, "http://evil.com/a/../b/./c", Url, "http://evil.com/b/c");
        check(k, "http://evil.com./", Url, "http://evil.com/");
        check(k, "http://user:pass@evil.com/", Url, "http://user:pass@evil.com/");
        check(k, "http://1.2.3.4/a b", Url, "http://1.2.3.4/a%20b");
        check(k, "http://[2001:DB8::1]:8080/", Url, "http://[2001:db8::1]:8080/");
        check(k, "http:evil.com", Url, "http://evil.com/");
        // No scheme: http is assumed.
        check(k, "evil.com", Url, "http://evil.com/");
        check(k, "evil.com/login.php?u=1#top", Url, "http://evil.com/login.php?u=1");
        check(k, "evil.com:8080/x", Url, "http://evil.com:8080/x");
        check(k, "localhost:8080", Url, "http://localhost:8080/");
        check(k, "1.2.3.4:443", Url, "http://1.2.3.4:443/");
        check(k, "evil.com/?next=http://other.com", Url, "http://evil.com/?next=http://other.com");
        // Defanged.
        check(k, "hXXps://evil[.]com/path", Url, "https://evil.com/path");
        check(k, "hxxps[://]evil[.]com[/]path", Url, "https://evil.com/path");
        check(k, "hxxp[:]//evil(.)com", Url, "http://evil.com/");
        check(k, "h**p://evil[dot]com", Url, "http://evil.com/");
        check(k, "fxp://files[.]evil[.]com/a", Url, "ftp://files.evil.com/a");
        // IDNs.
        check(k, "http://BÜCHER.example/Straße", Url, "http://xn--bcher-kva.example/Stra%C3%9Fe");
        check(k, "ws://münchen.de/chat", Url, "ws://xn--mnchen-3ya.de/chat");
        // Other schemes and their default ports.
        check(k, "ftp://files.example.com:21/", Url, "ftp://files.example.com/");
        check(k, "wss://example.com:443/", Url, "wss://example.com/");
        check(k, "SFTP://Evil.COM:22", Url, "sftp://evil.com/");
        check(k, "sftp://evil.com:2222/x", Url, "sftp://evil.com:2222/x");
        check(k, "ftps://Bücher.de:990/x#y", Url, "ftps://xn--bcher-kva.de/x");
        check(k, "sftp://1.2.3.4/", Url, "sftp://1.2.3.4/");
        check(k, "sftp://[2001:DB8::1]:22/", Url, "sftp://[2001:db8::1]/");
    }

    #[test]
    fn url_invalid() {
        let k = Some(Url);
        check_err(k, "http://", "invalid url `http://`: url has no host");
        check_err(k, "https:///", "invalid url `https:///`: url has no host");
        check_err(k, "sftp:/x", "invalid url `sftp:/x`: url has no host");
        check_err(k, "sftp://", "invalid url `sftp://`: url has no host");
        check_err(
            k,
            "mailto:john@example.com",
            "invalid url `mailto:john@example.com`: scheme `mailto` is not allowed; expected http, https, ftp, ftps, sftp, ws or wss",
        );
        check_err(
            k,
            "javascript:alert(1)",
            "invalid url `javascript:alert(1)`: scheme `javascript` is not allowed; expected http, https, ftp, ftps, sftp, ws or wss",
        );
        check_err(
            k,
            "FILE:///etc/passwd",
            "invalid url `FILE:///etc/passwd`: scheme `file` is not allowed; expected http, https, ftp, ftps, sftp, ws or wss",
        );
        check_err(
            k,
            "http://evil.com:99999/",
            "invalid url `http://evil.com:99999/`: invalid port number",
        );
        check_err(
            k,
            "http://[::1/",
            "invalid url `http://[::1/`: host is not a valid ipv6 address",
        );
        check_err(
            k,
            "http://1.2.3.256/",
            "invalid url `http://1.2.3.256/`: host is not a valid ipv4 address",
        );
        check_err(
            k,
            "http://ev<il.com/",
            "invalid url `http://ev<il.com/`: host is not a valid domain name",
        );
    }

    // -----------------------------------------------------------------------------------------
    // email
    // -----------------------------------------------------------------------------------------

    #[test]
    fn email_valid() {
        let k = Some(Email);
        check(k, "john.doe@example.com", Email, "john.doe@example.com");
        check(k, "John.Doe@Example.COM", Email, "john.doe@example.com");
        check(k, "john@example.com.", Email, "john@example.com");
        check(k, "first.last+tag@sub.example.org", Email, "first.last+tag@sub.example.org");
        check(k, "mailto:John@Example.com", Email, "john@example.com");
        // Split at the last `@`.
        check(k, "\"a@b\"@example.com", Email, "\"a@b\"@example.com");
        // Defanged.
        check(k, "John.Doe[@]Example[.]com", Email, "john.doe@example.com");
        check(k, "john(at)example(dot)com", Email, "john@example.com");
        check(k, "john [at] example [dot] com", Email, "john@example.com");
        check(k, "john{@}example{.}com", Email, "john@example.com");
        // IDNs.
        check(k, "user@münchen.de", Email, "user@xn--mnchen-3ya.de");
        check(k, "Jörg@Bücher.example", Email, "jörg@xn--bcher-kva.example");
        let local = "a".repeat(64);
        check(k, &format!("{local}@example.com"), Email, &format!("{local}@example.com"));
    }

    #[test]
    fn email_invalid() {
        let k = Some(Email);
        check_err(k, "example.com", "invalid email `example.com`: missing `@`");
        check_err(k, "@example.com", "invalid email `@example.com`: empty local part");
        check_err(k, "john@", "invalid email `john@`: empty domain part");
        check_err(
            k,
            "jo hn@example.com",
            "invalid email `jo hn@example.com`: local part contains whitespace",
        );
        check_err(
            k,
            "jo\u{1}hn@example.com",
            "invalid email `jo\u{1}hn@example.com`: local part contains a control character",
        );
        let local = "a".repeat(65);
        check_err(
            k,
            &format!("{local}@example.com"),
            &format!(
                "invalid email `{local}@example.com`: local part is 65 bytes long; the maximum is 64"
            ),
        );
        check_err(
            k,
            "john@localhost",
            "invalid email `john@localhost`: domain part: a domain needs at least two labels",
        );
        check_err(
            k,
            "john@*.example.com",
            "invalid email `john@*.example.com`: domain part: wildcards are not allowed",
        );
        check_err(
            k,
            "john@1.2.3.4",
            "invalid email `john@1.2.3.4`: domain part: this is an ip address, not a domain",
        );
        check_err(
            k,
            "john@exa mple.com",
            "invalid email `john@exa mple.com`: domain part: contains whitespace",
        );
        check_err(
            k,
            "john@-example.com",
            "invalid email `john@-example.com`: domain part: label `-example` starts with a hyphen",
        );
    }

    // -----------------------------------------------------------------------------------------
    // hashes
    // -----------------------------------------------------------------------------------------

    const MD5: &str = "d41d8cd98f00b204e9800998ecf8427e";
    const SHA1: &str = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
    const SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn hashes_valid() {
        check(Some(Md5), MD5, Md5, MD5);
        check(Some(Md5), &MD5.to_uppercase(), Md5, MD5);
        check(Some(Sha1), SHA1, Sha1, SHA1);
        check(Some(Sha1), &format!(" {} ", SHA1.to_uppercase()), Sha1, SHA1);
        check(Some(Sha256), SHA256, Sha256, SHA256);
        check(Some(Sha256), &SHA256.to_uppercase(), Sha256, SHA256);
    }

    #[test]
    fn hashes_invalid() {
        check_err(
            Some(Md5),
            &MD5[1..],
            &format!("invalid md5 `{}`: expected 32 hexadecimal characters, got 31", &MD5[1..]),
        );
        check_err(
            Some(Sha1),
            MD5,
            &format!("invalid sha1 `{MD5}`: expected 40 hexadecimal characters, got 32"),
        );
        check_err(
            Some(Sha256),
            SHA1,
            &format!("invalid sha256 `{SHA1}`: expected 64 hexadecimal characters, got 40"),
        );
        let not_hex = format!("{}g", &MD5[1..]);
        check_err(
            Some(Md5),
            &not_hex,
            &format!("invalid md5 `{not_hex}`: not hexadecimal: unexpected character `g`"),
        );
        let accented = "é".repeat(32);
        check_err(
            Some(Md5),
            &accented,
            &format!("invalid md5 `{accented}`: not hexadecimal: unexpected character `é`"),
        );
        let spaced = format!("{} {}", &SHA256[..32], &SHA256[33..]);
        check_err(
            Some(Sha256),
            &spaced,
            &format!("invalid sha256 `{spaced}`: not hexadecimal: unexpected character ` `"),
        );
    }

    // -----------------------------------------------------------------------------------------
    // asn
    // -----------------------------------------------------------------------------------------

    #[test]
    fn asn_valid() {
        let k = Some(Asn);
        check(k, "AS13335", Asn, "AS13335");
        check(k, "as13335", Asn, "AS13335");
        check(k, "ASN13335", Asn, "AS13335");
        check(k, "asn13335", Asn, "AS13335");
        check(k, "AS 13335", Asn, "AS13335");
        check(k, "ASN  13335", Asn, "AS13335");
        check(k, "13335", Asn, "AS13335");
        check(k, "AS013335", Asn, "AS13335");
        check(k, "AS0", Asn, "AS0");
        check(k, "AS4294967295", Asn, "AS4294967295");
        check(k, "AS1.10", Asn, "AS65546");
        check(k, "1.10", Asn, "AS65546");
        check(k, "AS0.0", Asn, "AS0");
        check(k, "AS65535.65535", Asn, "AS4294967295");
    }

    #[test]
    fn asn_invalid() {
        let k = Some(Asn);
        let expected = "not an as number (expected e.g. `AS13335`, `13335` or asdot `AS1.10`)";
        check_err(k, "AS", "invalid asn `AS`: missing the as number");
        check_err(k, "ASN ", "invalid asn `ASN`: missing the as number");
        check_err(k, "AS-1", &format!("invalid asn `AS-1`: {expected}"));
        check_err(k, "ASx", &format!("invalid asn `ASx`: {expected}"));
        check_err(k, "AS1.2.3", &format!("invalid asn `AS1.2.3`: {expected}"));
        check_err(k, "AS1.", &format!("invalid asn `AS1.`: {expected}"));
        check_err(k, "hello", &format!("invalid asn `hello`: {expected}"));
        check_err(
            k,
            "AS4294967296",
            "invalid asn `AS4294967296`: as number 4294967296 is out of range 0-4294967295",
        );
        check_err(
            k,
            "AS65536.1",
            "invalid asn `AS65536.1`: asdot part 65536 is out of range 0-65535",
        );
        check_err(
            k,
            "AS1.65536",
            "invalid asn `AS1.65536`: asdot part 65536 is out of range 0-65535",
        );
    }

    // -----------------------------------------------------------------------------------------
    // detect
    // -----------------------------------------------------------------------------------------

    #[test]
    fn detect_valid() {
        check(None, MD5, Md5, MD5);
        check(None, &SHA1.to_uppercase(), Sha1, SHA1);
        check(None, SHA256, Sha256, SHA256);
        check(None, "hxxp://Evil[.]com:80/a?b=c#frag", Url, "http://evil.com/a?b=c");
        check(None, "https://example.com", Url, "https://example.com/");
        check(None, "hxxps[://]evil[.]com", Url, "https://evil.com/");
        check(None, "http:evil.com", Url, "http://evil.com/");
        check(None, "evil.com/login.php", Url, "http://evil.com/login.php");
        check(None, "1.2.3.4/login", Url, "http://1.2.3.4/login");
        check(None, "[2001:db8::1]/x", Url, "http://[2001:db8::1]/x");
        check(None, "http://user@evil.com/", Url, "http://user@evil.com/");
        check(None, "john@example.com", Email, "john@example.com");
        check(None, "John.Doe[@]Example[.]com", Email, "john.doe@example.com");
        check(None, "mailto:john@example.com", Email, "john@example.com");
        check(None, "10.0.0.0/8", Cidr, "10.0.0.0/8");
        check(None, "10[.]0[.]0[.]0/8", Cidr, "10.0.0.0/8");
        check(None, "2001:DB8::/32", Cidr, "2001:db8::/32");
        check(None, "192.0.2.1/32", Ipv4, "192.0.2.1");
        check(None, "2001:db8::1/128", Ipv6, "2001:db8::1");
        check(None, "::ffff:1.2.3.4/128", Ipv4, "1.2.3.4");
        check(None, "192.0.2.1", Ipv4, "192.0.2.1");
        check(None, "192[.]0[.]2[.]1", Ipv4, "192.0.2.1");
        check(None, "2001:DB8::1", Ipv6, "2001:db8::1");
        check(None, "[2001:db8::1]", Ipv6, "2001:db8::1");
        check(None, "cafe::", Ipv6, "cafe::");
        check(None, "::ffff:1.2.3.4", Ipv4, "1.2.3.4");
        check(None, "::FFFF:C000:0201", Ipv4, "192.0.2.1");
        check(None, "64:ff9b::192.0.2.33", Ipv6, "64:ff9b::c000:221");
        check(None, "AS13335", Asn, "AS13335");
        check(None, "asn 13335", Asn, "AS13335");
        check(None, "AS1.10", Asn, "AS65546");
        check(None, "example.com", Domain, "example.com");
        check(None, "evil[.]com", Domain, "evil.com");
        check(None, "Example.COM.", Domain, "example.com");
        check(None, "münchen.de", Domain, "xn--mnchen-3ya.de");
        check(None, "пример.рф", Domain, "xn--e1afmkfd.xn--p1ai");
        check(None, "deadbeef.com", Domain, "deadbeef.com");
        check(None, "as13335.net", Domain, "as13335.net");
    }

    #[test]
    fn detect_invalid() {
        check_err(
            None,
            "13335",
            "invalid indicator `13335`: not an ip address, network, domain, url, email, hash or asn (an as number needs the `AS` prefix)",
        );
        check_err(
            None,
            "hello world",
            "invalid indicator `hello world`: not an ip address, network, domain, url, email, hash or asn",
        );
        check_err(
            None,
            "localhost",
            "invalid indicator `localhost`: not an ip address, network, domain, url, email, hash or asn",
        );
        check_err(
            None,
            &MD5[1..],
            &format!(
                "invalid indicator `{}`: not an ip address, network, domain, url, email, hash or asn",
                &MD5[1..]
            ),
        );
        check_err(
            None,
            "evil.com:8080",
            "invalid indicator `evil.com:8080`: not an ip address, network, domain, url, email, hash or asn (an address with a port must be given as a url)",
        );
        check_err(
            None,
            "10.0.0.1/24",
            "invalid indicator `10.0.0.1/24`: cidr: host bits set; the network is 10.0.0.0/24",
        );
        check_err(
            None,
            "10.0.0.0/33",
            "invalid indicator `10.0.0.0/33`: cidr: prefix /33 is out of range for ipv4 (0-32)",
        );
        check_err(
            None,
            "010.1.1.1",
            "invalid indicator `010.1.1.1`: ipv4: octet `010` has a leading zero (octal forms are ambiguous)",
        );
        check_err(
            None,
            "1.2.3",
            "invalid indicator `1.2.3`: ipv4: expected 4 dot-separated octets, got 3",
        );
        check_err(
            None,
            "fe80::1%eth0",
            "invalid indicator `fe80::1%eth0`: ipv6: zone identifiers are not allowed",
        );
        check_err(
            None,
            "*.evil.com",
            "invalid indicator `*.evil.com`: domain: wildcards are not allowed",
        );
        check_err(None, "evil..com", "invalid indicator `evil..com`: domain: empty label");
        check_err(
            None,
            "john@localhost",
            "invalid indicator `john@localhost`: email: domain part: a domain needs at least two labels",
        );
        check_err(
            None,
            "gopher://evil.com",
            "invalid indicator `gopher://evil.com`: url: scheme `gopher` is not allowed; expected http, https, ftp, ftps, sftp, ws or wss",
        );
        check_err(
            None,
            "AS99999999999",
            "invalid indicator `AS99999999999`: asn: as number 99999999999 is out of range 0-4294967295",
        );
    }

    // -----------------------------------------------------------------------------------------
    // Properties
    // -----------------------------------------------------------------------------------------

    /// A valid ASCII label of 1 to 16 characters.
    fn label() -> impl Strategy<Value = String> {
        "[a-z0-9]{1,8}(-[a-z0-9]{1,7})?"
    }

    /// A valid ASCII domain with a letters-only top-level label.
    fn ascii_domain() -> impl Strategy<Value = String> {
        (prop::collection::vec(label(), 1..4), "[a-z]{2,6}")
            .prop_map(|(labels, tld)| format!("{}.{tld}", labels.join(".")))
    }

    /// An internationalized domain.
    fn unicode_domain() -> impl Strategy<Value = String> {
        (
            prop::collection::vec("[a-zäöüéñçøжяпрдю]{1,10}", 1..3),
            prop::sample::select(vec!["de", "com", "рф", "испытание"]),
        )
            .prop_map(|(labels, tld)| format!("{}.{tld}", labels.join(".")))
    }

    /// Strings made of the pieces of indicators and defanging, to exercise the parsers.
    fn indicator_soup() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop::sample::select(vec![
                "a", "Z", "0", "1", "9", "f", "x", "é", "ж", ".", ":", "::", "/", "@", "%", "[",
                "]", "(", ")", "{", "}", "[.]", "[dot]", "(at)", "[:]", "\\", "-", "_", "*", " ",
                "#", "?", "=", "hxxp", "http://", "AS", "xn--", "255", "010", "ffff",
            ]),
            0..24,
        )
        .prop_map(|pieces| pieces.concat())
    }

    /// Canonicalizing any successful result again gives the same result, and errors are
    /// well-formed.
    fn assert_fixed_point(kind: Option<IndicatorKind>, input: &str) -> Result<(), TestCaseError> {
        match run(kind, input) {
            Ok(c) => {
                prop_assert_eq!(canonicalize(c.kind, &c.value), Ok(c.clone()));
                prop_assert!(c.value.len() <= 8192);
                prop_assert_eq!(c.value.trim(), c.value.as_str());
            }
            Err(e) => {
                prop_assert_eq!(e.kind, kind);
                prop_assert!(!e.reason.is_empty());
                prop_assert!(!e.reason.ends_with(['.', ';', ':', '!', ',']), "{:?}", e);
                prop_assert!(e.value.chars().count() <= 200);
            }
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn ipv4_round_trip(bits in any::<u32>()) {
            let value = Ipv4Addr::from(bits).to_string();
            let expected = Canonical { kind: Ipv4, value: value.clone() };
            prop_assert_eq!(refang(&value), Cow::Borrowed(value.as_str()));
            prop_assert_eq!(canonicalize(Ipv4, &value), Ok(expected.clone()));
            prop_assert_eq!(canonicalize(Ipv4, &format!("{value}/32")), Ok(expected.clone()));
            prop_assert_eq!(canonicalize(Ipv4, &value.replace('.', "[.]")), Ok(expected.clone()));
            prop_assert_eq!(detect(&value), Ok(expected));
        }

        #[test]
        fn ipv6_round_trip(bits in any::<u128>()) {
            let address = Ipv6Addr::from(bits);
            let value = address.to_string();
            let expected = Canonical { kind: Ipv6, value: value.clone() };
            prop_assert_eq!(refang(&value), Cow::Borrowed(value.as_str()));
            prop_assert_eq!(canonicalize(Ipv6, &value), Ok(expected.clone()));
            prop_assert_eq!(canonicalize(Ipv6, &value.to_uppercase()), Ok(expected.clone()));
            prop_assert_eq!(canonicalize(Ipv6, &format!("[{value}]")), Ok(expected.clone()));
            let segments = address.segments().map(|s| format!("{s:04X}")).join(":");
            prop_assert_eq!(canonicalize(Ipv6, &segments), Ok(expected.clone()));
            let detected = match address.to_ipv4_mapped() {
                Some(v4) => Canonical { kind: Ipv4, value: v4.to_string() },
                None => expected,
            };
            prop_assert_eq!(detect(&value), Ok(detected));
        }

        #[test]
        fn ipv4_cidr_round_trip(bits in any::<u32>(), prefix in 0u8..=32) {
            let net = Ipv4Net::new(Ipv4Addr::from(bits), prefix).unwrap().trunc();
            let value = net.to_string();
            prop_assert_eq!(refang(&value), Cow::Borrowed(value.as_str()));
            let c = canonicalize(Cidr, &value).unwrap();
            if prefix == 32 {
                prop_assert_eq!(&c, &Canonical { kind: Ipv4, value: net.addr().to_string() });
            } else {
                prop_assert_eq!(&c, &Canonical { kind: Cidr, value: value.clone() });
            }
            prop_assert_eq!(canonicalize(c.kind, &c.value), Ok(c.clone()));
            prop_assert_eq!(detect(&value), Ok(c));
        }

        #[test]
        fn ipv6_cidr_round_trip(bits in any::<u128>(), prefix in 0u8..=128) {
            let net = Ipv6Net::new(Ipv6Addr::from(bits), prefix).unwrap().trunc();
            let value = net.to_string();
            prop_assert_eq!(refang(&value), Cow::Borrowed(value.as_str()));
            let c = canonicalize(Cidr, &value).unwrap();
            if prefix == 128 {
                prop_assert_eq!(&c, &Canonical { kind: Ipv6, value: net.addr().to_string() });
            } else {
                prop_assert_eq!(&c, &Canonical { kind: Cidr, value: value.clone() });
            }
            prop_assert_eq!(canonicalize(c.kind, &c.value), Ok(c));
        }

        #[test]
        fn domain_round_trip(domain in ascii_domain()) {
            let expected = Canonical { kind: Domain, value: domain.clone() };
            prop_assert_eq!(refang(&domain), Cow::Borrowed(domain.as_str()));
            prop_assert_eq!(canonicalize(Domain, &domain), Ok(expected.clone()));
            prop_assert_eq!(canonicalize(Domain, &format!("{}.", domain.to_uppercase())), Ok(expected.clone()));
            prop_assert_eq!(canonicalize(Domain, &domain.replace('.', "[.]")), Ok(expected.clone()));
            prop_assert_eq!(canonicalize(Domain, &domain.replace('.', " [dot] ")), Ok(expected.clone()));
            prop_assert_eq!(detect(&domain), Ok(expected));
        }

        #[test]
        fn unicode_domain_round_trip(domain in unicode_domain()) {
            let c = canonicalize(Domain, &domain).unwrap();
            prop_assert_eq!(c.kind, Domain);
            prop_assert!(c.value.is_ascii());
            prop_assert_eq!(refang(&c.value), Cow::Borrowed(c.value.as_str()));
            prop_assert_eq!(canonicalize(Domain, &c.value), Ok(c.clone()));
            prop_assert_eq!(canonicalize(Domain, &domain.to_uppercase()), Ok(c.clone()));
            prop_assert_eq!(detect(&domain), Ok(c));
        }

        #[test]
        fn url_round_trip(domain in ascii_domain(), path in "(/[a-zA-Z0-9._~-]{0,8}){0,3}", query in "(\\?[a-z0-9=&]{0,8})?") {
            let url = format!("http://{domain}{path}{query}");
            let c = canonicalize(Url, &url).unwrap();
            prop_assert_eq!(c.kind, Url);
            prop_assert_eq!(refang(&c.value), Cow::Borrowed(c.value.as_str()));
            prop_assert_eq!(canonicalize(Url, &c.value), Ok(c.clone()));
            prop_assert_eq!(canonicalize(Url, &url.replacen("http", "hxxp", 1).replace('.', "[.]")), Ok(c.clone()));
            prop_assert_eq!(detect(&url), Ok(c));
        }

        #[test]
        fn email_round_trip(local in "[a-z0-9]{1,10}([.+_-][a-z0-9]{1,10})?", domain in ascii_domain()) {
            let value = format!("{local}@{domain}");
            let expected = Canonical { kind: Email, value: value.clone() };
            prop_assert_eq!(refang(&value), Cow::Borrowed(value.as_str()));
            prop_assert_eq!(canonicalize(Email, &value), Ok(expected.clone()));
            prop_assert_eq!(canonicalize(Email, &value.to_uppercase()), Ok(expected.clone()));
            prop_assert_eq!(canonicalize(Email, &value.replace('@', "[at]").replace('.', "[.]")), Ok(expected.clone()));
            prop_assert_eq!(detect(&value), Ok(expected));
        }

        #[test]
        fn hash_round_trip(md5 in "[0-9a-fA-F]{32}", sha1 in "[0-9a-fA-F]{40}", sha256 in "[0-9a-fA-F]{64}") {
            for (kind, raw) in [(Md5, md5), (Sha1, sha1), (Sha256, sha256)] {
                let expected = Canonical { kind, value: raw.to_lowercase() };
                prop_assert_eq!(refang(&expected.value), Cow::Borrowed(expected.value.as_str()));
                prop_assert_eq!(canonicalize(kind, &raw), Ok(expected.clone()));
                prop_assert_eq!(canonicalize(kind, &expected.value), Ok(expected.clone()));
                prop_assert_eq!(detect(&raw), Ok(expected));
            }
        }

        #[test]
        fn asn_round_trip(number in any::<u32>()) {
            let value = format!("AS{number}");
            let expected = Canonical { kind: Asn, value: value.clone() };
            prop_assert_eq!(refang(&value), Cow::Borrowed(value.as_str()));
            prop_assert_eq!(canonicalize(Asn, &value), Ok(expected.clone()));
            prop_assert_eq!(canonicalize(Asn, &number.to_string()), Ok(expected.clone()));
            prop_assert_eq!(canonicalize(Asn, &format!("asn {number}")), Ok(expected.clone()));
            prop_assert_eq!(canonicalize(Asn, &format!("AS{}.{}", number >> 16, number & 0xffff)), Ok(expected.clone()));
            prop_assert_eq!(detect(&value), Ok(expected));
        }

        #[test]
        fn never_panics_on_arbitrary_strings(input in "\\PC{0,64}") {
            for kind in IndicatorKind::ALL {
                assert_fixed_point(Some(*kind), &input)?;
            }
            assert_fixed_point(None, &input)?;
            let _ = refang(&input);
        }

        #[test]
        fn never_panics_on_indicator_like_strings(input in indicator_soup()) {
            for kind in IndicatorKind::ALL {
                assert_fixed_point(Some(*kind), &input)?;
            }
            assert_fixed_point(None, &input)?;
        }

        #[test]
        fn never_panics_on_arbitrary_bytes_as_text(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let input = String::from_utf8_lossy(&bytes);
            for kind in IndicatorKind::ALL {
                assert_fixed_point(Some(*kind), &input)?;
            }
            assert_fixed_point(None, &input)?;
        }
    }
}
