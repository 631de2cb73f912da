//! Observables in records: what a log line or alert mentions that intelligence can match
//! (addresses, domains, URLs, emails, hashes, ASNs), and the fast scanner that finds them
//! in free text (plain log lines, CEF messages).
//!
//! The scanner is built for line rate, not for reports: it splits text at delimiters and
//! classifies each token without allocating for addresses. It does not refang
//! (`evil[.]example`) and reads a domain only when its top-level domain is on the
//! public-suffix list (`invoice.pdf` is not a domain). The report extractor in
//! [`crate::extract`] is the tool for prose.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};

use tipline_model::IndicatorKind;

/// A value a record mentions, classified. Strings are lower case (URLs keep their path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observed<'a> {
    /// An IPv4 or IPv6 address.
    Ip(IpAddr),
    /// A domain name, lower-case ASCII.
    Domain(Cow<'a, str>),
    /// A URL as written (scheme and host lower-cased by the consumer's canonicalization).
    Url(Cow<'a, str>),
    /// An email address, lower case.
    Email(Cow<'a, str>),
    /// A hash, lower-case hex: MD5, SHA-1 or SHA-256.
    Hash(IndicatorKind, Cow<'a, str>),
    /// An autonomous system number.
    Asn(u32),
}

impl Observed<'_> {
    /// The value as text.
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            Observed::Ip(ip) => Cow::Owned(ip.to_string()),
            Observed::Domain(s) | Observed::Url(s) | Observed::Email(s) | Observed::Hash(_, s) => {
                Cow::Borrowed(s)
            }
            Observed::Asn(n) => Cow::Owned(format!("AS{n}")),
        }
    }

    /// The indicator kind the value is.
    pub fn kind(&self) -> IndicatorKind {
        match self {
            Observed::Ip(IpAddr::V4(_)) => IndicatorKind::Ipv4,
            Observed::Ip(IpAddr::V6(_)) => IndicatorKind::Ipv6,
            Observed::Domain(_) => IndicatorKind::Domain,
            Observed::Url(_) => IndicatorKind::Url,
            Observed::Email(_) => IndicatorKind::Email,
            Observed::Hash(kind, _) => *kind,
            Observed::Asn(_) => IndicatorKind::Asn,
        }
    }

    /// An owned copy.
    pub fn into_owned(self) -> Observed<'static> {
        match self {
            Observed::Ip(ip) => Observed::Ip(ip),
            Observed::Domain(s) => Observed::Domain(Cow::Owned(s.into_owned())),
            Observed::Url(s) => Observed::Url(Cow::Owned(s.into_owned())),
            Observed::Email(s) => Observed::Email(Cow::Owned(s.into_owned())),
            Observed::Hash(k, s) => Observed::Hash(k, Cow::Owned(s.into_owned())),
            Observed::Asn(n) => Observed::Asn(n),
        }
    }
}

/// An observable with the record field it came from (`src_ip`, `dst`, `http.hostname`; for
/// plain lines, `line`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observable<'a> {
    /// The field (or `line` for free text).
    pub field: Cow<'a, str>,
    /// The value.
    pub value: Observed<'a>,
}

/// Classify a whole value (a field of a structured record): `None` when it is none of the
/// kinds (or empty).
pub fn classify(text: &str) -> Option<Observed<'_>> {
    let text = text.trim();
    if text.is_empty() || text.len() > 2048 {
        return None;
    }
    let bytes = text.as_bytes();
    if (bytes[0].is_ascii_digit() || bytes.contains(&b':'))
        && let Some(ip) = parse_ip(text)
    {
        return Some(Observed::Ip(ip));
    }
    if let Some(scheme_end) = text.find("://") {
        let scheme = &text[..scheme_end];
        if !scheme.is_empty() && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+') {
            return Some(Observed::Url(Cow::Borrowed(text)));
        }
        return None;
    }
    if let Some((local, domain)) = text.rsplit_once('@') {
        if !local.is_empty() && !local.contains(char::is_whitespace) && is_domain(domain) {
            return Some(Observed::Email(lower(text)));
        }
        return None;
    }
    if let Some(kind) = hash_kind(bytes) {
        return Some(Observed::Hash(kind, lower(text)));
    }
    if (text.starts_with("AS") || text.starts_with("as"))
        && text.len() > 2
        && text[2..].bytes().all(|b| b.is_ascii_digit())
        && let Ok(n) = text[2..].parse()
    {
        return Some(Observed::Asn(n));
    }
    let name = text.strip_suffix('.').unwrap_or(text);
    if is_domain(name) {
        return Some(Observed::Domain(lower(name)));
    }
    None
}

fn lower(text: &str) -> Cow<'_, str> {
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(text.to_ascii_lowercase())
    } else {
        Cow::Borrowed(text)
    }
}

/// An address, also written with a port (`192.0.2.1:443`, `[2001:db8::1]:443`).
pub fn parse_ip(text: &str) -> Option<IpAddr> {
    if let Some(v4) = parse_ipv4(text.as_bytes()) {
        return Some(IpAddr::V4(v4));
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = text.strip_prefix('[') {
        let inside = rest.split_once(']').map_or(rest, |(inside, _)| inside);
        return inside.parse().ok();
    }
    let (host, port) = text.rsplit_once(':')?;
    if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) {
        return parse_ipv4(host.as_bytes()).map(IpAddr::V4);
    }
    None
}

/// A dotted quad without leading zeros beyond one digit ("010" is rejected, as the
/// canonical form never has it), without allocating.
#[inline]
pub fn parse_ipv4(bytes: &[u8]) -> Option<Ipv4Addr> {
    if bytes.len() < 7 || bytes.len() > 15 {
        return None;
    }
    let mut octets = [0u8; 4];
    let mut part = 0;
    let mut value: u32 = 0;
    let mut digits = 0;
    for &b in bytes {
        match b {
            b'0'..=b'9' => {
                if digits == 1 && value == 0 {
                    return None;
                }
                value = value * 10 + u32::from(b - b'0');
                digits += 1;
                if value > 255 {
                    return None;
                }
            }
            b'.' => {
                if digits == 0 || part == 3 {
                    return None;
                }
                octets[part] = value as u8;
                part += 1;
                value = 0;
                digits = 0;
            }
            _ => return None,
        }
    }
    if part != 3 || digits == 0 {
        return None;
    }
    octets[3] = value as u8;
    Some(Ipv4Addr::from(octets))
}

fn hash_kind(bytes: &[u8]) -> Option<IndicatorKind> {
    let kind = match bytes.len() {
        32 => IndicatorKind::Md5,
        40 => IndicatorKind::Sha1,
        64 => IndicatorKind::Sha256,
        _ => return None,
    };
    bytes.iter().all(u8::is_ascii_hexdigit).then_some(kind)
}

/// Whether `name` looks like a domain: at least two labels of letters, digits and hyphens
/// (underscores allowed, as DNS records use them), and a top-level domain on the
/// public-suffix list.
pub fn is_domain(name: &str) -> bool {
    if name.len() < 3 || name.len() > 253 || !name.contains('.') {
        return false;
    }
    for label in name.split('.') {
        if label.is_empty()
            || label.len() > 63
            || label.starts_with('-')
            || label.ends_with('-')
            || !label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return false;
        }
    }
    let tld = name.rsplit('.').next().unwrap_or_default();
    if tld.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let lower = tld.to_ascii_lowercase();
    SPECIAL_USE_TLDS.contains(&lower.as_str())
        || psl::suffix(lower.as_bytes()).is_some_and(|s| s.is_known())
}

/// Top-level names reserved for testing, documentation and internal networks (RFC 2606,
/// RFC 6761, RFC 7686, ICANN's `internal`): not on the public-suffix list, yet names under
/// them appear in logs and lab data.
const SPECIAL_USE_TLDS: &[&str] =
    &["example", "home", "internal", "invalid", "lan", "local", "localhost", "onion", "test"];

/// Byte classes for the scanner: 1 = ends a token; 2 = may appear in an address, domain,
/// URL, email or hash (letters, digits, `.`, `:`, `-`, `_`, `@`, `/`, `[`, `]`...).
const DELIMITER: u8 = 1;
static CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let delimiters = b" \t\r\n\"'<>(){},;|=`\\";
    let mut i = 0;
    while i < delimiters.len() {
        table[delimiters[i] as usize] = DELIMITER;
        i += 1;
    }
    table
};

#[inline]
fn is_delimiter(b: u8) -> bool {
    CLASS[b as usize] == DELIMITER
}

/// Find the observables in free text, calling `f` for each (in order, duplicates
/// included). Allocates only for values that need lower-casing.
pub fn scan_text<'a>(text: &'a str, mut f: impl FnMut(Observed<'a>)) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && is_delimiter(bytes[i]) {
            i += 1;
        }
        let start = i;
        // What the token holds decides which (if any) classifier runs.
        let (mut dots, mut colons, mut letters) = (0u32, 0u32, false);
        while i < bytes.len() {
            let b = bytes[i];
            if is_delimiter(b) {
                break;
            }
            dots += u32::from(b == b'.');
            colons += u32::from(b == b':');
            letters |= b.is_ascii_alphabetic();
            i += 1;
        }
        // Trailing punctuation is not part of a value ("1.2.3.4:", "x.com.", "ip]").
        let mut end = i;
        while end > start && matches!(bytes[end - 1], b'.' | b':' | b'!' | b'?' | b']') {
            if bytes[end - 1] == b']' && bytes[start] == b'[' {
                break;
            }
            dots -= u32::from(bytes[end - 1] == b'.');
            colons -= u32::from(bytes[end - 1] == b':');
            end -= 1;
        }
        let len = end - start;
        if len < 3 {
            continue;
        }
        let token = &text[start..end];
        if dots == 3 && colons == 0 && !letters {
            if let Some(ip) = parse_ipv4(token.as_bytes()) {
                f(Observed::Ip(IpAddr::V4(ip)));
            }
            continue;
        }
        // Times (`10:00:01`) and MAC addresses have colons but are not IPv6: an IPv6
        // address has `::` or seven colons.
        let maybe_ipv6 = colons >= 2 && (colons == 7 || token.contains("::"));
        let worth_classifying =
            dots > 0 || maybe_ipv6 || (colons == 0 && matches!(len, 32 | 40 | 64));
        if !worth_classifying {
            continue;
        }
        if let Some(observed) = classify(token) {
            f(observed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &str) -> Vec<String> {
        let mut found = Vec::new();
        scan_text(text, |o| found.push(format!("{:?}:{}", o.kind(), o.text())));
        found
    }

    #[test]
    fn classifies_whole_values() {
        assert_eq!(classify("192.0.2.1"), Some(Observed::Ip("192.0.2.1".parse().unwrap())));
        assert_eq!(classify("192.0.2.1:443"), Some(Observed::Ip("192.0.2.1".parse().unwrap())));
        assert_eq!(
            classify("[2001:db8::1]:443"),
            Some(Observed::Ip("2001:db8::1".parse().unwrap()))
        );
        assert_eq!(classify("Evil.Example."), Some(Observed::Domain("evil.example".into())));
        assert_eq!(classify("invoice.pdf"), None);
        assert_eq!(classify("AS64500"), Some(Observed::Asn(64500)));
        assert_eq!(classify("SOC@Example.org"), Some(Observed::Email("soc@example.org".into())));
        assert_eq!(
            classify("D41D8CD98F00B204E9800998ECF8427E"),
            Some(Observed::Hash(IndicatorKind::Md5, "d41d8cd98f00b204e9800998ecf8427e".into()))
        );
        assert_eq!(
            classify("https://x.example/a"),
            Some(Observed::Url("https://x.example/a".into()))
        );
        assert_eq!(classify("010.1.1.1"), None);
        assert_eq!(classify(""), None);
    }

    #[test]
    fn scans_log_lines() {
        let line = "Jan 24 11:00:06 fw1 kernel: DROP IN=eth0 SRC=203.0.113.9 DST=[2001:db8::2]:22 \
                    host=Mail.Evil.example. url=\"http://evil.example/a?b\" md5=d41d8cd98f00b204e9800998ecf8427e \
                    from <a@b.example> file.txt 1.2.3 999.1.1.1";
        assert_eq!(
            scan(line),
            [
                "Ipv4:203.0.113.9",
                "Ipv6:2001:db8::2",
                "Domain:mail.evil.example",
                "Url:http://evil.example/a?b",
                "Md5:d41d8cd98f00b204e9800998ecf8427e",
                "Email:a@b.example",
            ]
        );
    }

    proptest::proptest! {
        #[test]
        fn scanning_never_panics(text in "\\PC{0,200}") {
            scan_text(&text, |_| {});
            let _ = classify(&text);
        }
    }
}
