//! MISP warninglists (known-benign lists: cidr, hostname, string, substring, regex), as
//! published in the MISP/misp-warninglists repository (`lists/<name>/list.json`).
//!
//! A list is one JSON object: `name`, `description`, `version`, `type`, `list` (the
//! entries) and optionally `matching_attributes` (MISP attribute types it applies to).
//! Parsing checks the object against the published schema (unknown fields are errors) and
//! each entry against its type, and normalizes entries:
//!
//! | type | entry | normalized |
//! |---|---|---|
//! | `cidr` | an address or network (IPv4 or IPv6) | canonical network; host bits are cleared |
//! | `hostname` | a domain, optionally with a leading `.` | lower case, dots trimmed |
//! | `string` | any text | lower case |
//! | `substring` | any text | lower case |
//! | `regex` | a PCRE literal `/pattern/flags` or a bare pattern | Rust `regex` syntax (`i`, `m`, `s`, `x` flags become inline flags) |
//!
//! A regex tipline's engine cannot compile (look-around, back-references) is an error
//! naming the entry: a list is imported completely or not at all.

use std::net::IpAddr;

use serde::Deserialize;
use tipline_model::IndicatorKind;

/// How a list's entries match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ListType {
    /// Addresses and networks: an address matches when inside one.
    Cidr,
    /// Domains: a name matches when equal to one or below it.
    Hostname,
    /// Exact values (case-insensitive).
    String,
    /// A value matches when it contains an entry (case-insensitive).
    Substring,
    /// A value matches when a regular expression matches it.
    Regex,
}

impl ListType {
    /// The name used in list files.
    pub fn as_str(self) -> &'static str {
        match self {
            ListType::Cidr => "cidr",
            ListType::Hostname => "hostname",
            ListType::String => "string",
            ListType::Substring => "substring",
            ListType::Regex => "regex",
        }
    }
}

impl std::str::FromStr for ListType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "cidr" => ListType::Cidr,
            "hostname" => ListType::Hostname,
            "string" => ListType::String,
            "substring" => ListType::Substring,
            "regex" => ListType::Regex,
            other => {
                return Err(format!(
                    "unknown warninglist type `{other}`; expected one of: cidr, hostname, string, substring, regex"
                ));
            }
        })
    }
}

/// A parsed, validated warninglist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warninglist {
    /// Human name, unique among lists ("List of known IPv4 public DNS resolvers").
    pub name: String,
    /// What the list is.
    pub description: String,
    /// The list's version (often a date as a number).
    pub version: i64,
    /// How entries match.
    pub list_type: ListType,
    /// MISP attribute types the list applies to (empty: every type).
    pub matching_attributes: Vec<String>,
    /// Normalized entries (see the module table).
    pub entries: Vec<String>,
}

/// Why a list was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WarninglistError {
    /// Not JSON, or not the shape of a list; with line and column.
    #[error("line {line} column {column}: {reason}")]
    Json {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        reason: String,
    },
    /// An entry is not valid for the list's type.
    #[error("list[{index}] `{entry}`: {reason}")]
    Entry {
        /// 0-based position in `list`.
        index: usize,
        /// The entry as given (truncated to 100 characters).
        entry: String,
        /// What is wrong.
        reason: String,
    },
    /// A required field is empty.
    #[error("{field}: must not be empty")]
    Empty {
        /// The field.
        field: &'static str,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawList {
    name: String,
    description: String,
    version: i64,
    #[serde(rename = "type")]
    list_type: ListType,
    #[serde(default)]
    matching_attributes: Vec<String>,
    list: Vec<String>,
}

/// Parse one `list.json` document.
pub fn parse(bytes: &[u8]) -> Result<Warninglist, WarninglistError> {
    let raw: RawList = serde_json::from_slice(bytes).map_err(|e| WarninglistError::Json {
        line: e.line(),
        column: e.column(),
        reason: strip_position(&e.to_string()),
    })?;
    if raw.name.trim().is_empty() {
        return Err(WarninglistError::Empty { field: "name" });
    }
    let mut entries = Vec::with_capacity(raw.list.len());
    for (index, entry) in raw.list.iter().enumerate() {
        let trimmed = entry.trim();
        if trimmed.is_empty() {
            continue;
        }
        let normalized = normalize(raw.list_type, trimmed).map_err(|reason| {
            WarninglistError::Entry { index, entry: entry.chars().take(100).collect(), reason }
        })?;
        entries.push(normalized);
    }
    entries.sort();
    entries.dedup();
    Ok(Warninglist {
        name: raw.name.trim().to_string(),
        description: raw.description,
        version: raw.version,
        list_type: raw.list_type,
        matching_attributes: raw.matching_attributes,
        entries,
    })
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

fn normalize(list_type: ListType, entry: &str) -> Result<String, String> {
    match list_type {
        ListType::Cidr => normalize_network(entry),
        ListType::Hostname => {
            let name = entry.trim_matches('.').to_ascii_lowercase();
            if name.is_empty() || name.contains(char::is_whitespace) || name.contains('/') {
                return Err("not a host name".into());
            }
            Ok(name)
        }
        ListType::String | ListType::Substring => Ok(entry.to_lowercase()),
        ListType::Regex => {
            let pattern = translate_regex(entry)?;
            regex::Regex::new(&pattern).map_err(|e| {
                format!("not a regular expression tipline can run: {}", first_line(&e.to_string()))
            })?;
            Ok(pattern)
        }
    }
}

fn first_line(text: &str) -> String {
    text.lines().rev().find(|l| l.starts_with("error:")).unwrap_or(text).to_string()
}

/// An address or network as a canonical network (`192.0.2.1/32`, `2001:db8::/32`).
fn normalize_network(entry: &str) -> Result<String, String> {
    let (address, len) = match entry.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (entry, None),
    };
    let ip: IpAddr = address.parse().map_err(|_| "not an ip address or network".to_string())?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len: u8 = match len {
        None => max,
        Some(l) => l
            .parse()
            .ok()
            .filter(|l| *l <= max)
            .ok_or_else(|| format!("prefix length `{l}` is not 0-{max}"))?,
    };
    Ok(match ip {
        IpAddr::V4(a) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            format!("{}/{len}", std::net::Ipv4Addr::from(u32::from(a) & mask))
        }
        IpAddr::V6(a) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            format!("{}/{len}", std::net::Ipv6Addr::from(u128::from(a) & mask))
        }
    })
}

/// A MISP (PCRE) regex literal `/pattern/flags` in Rust `regex` syntax; a bare pattern is
/// taken as is.
pub fn translate_regex(entry: &str) -> Result<String, String> {
    let Some(body) = entry.strip_prefix('/') else {
        return Ok(entry.to_string());
    };
    let end = body.rfind('/').ok_or("regex literal has no closing `/`")?;
    let (pattern, flags) = (&body[..end], &body[end + 1..]);
    let mut inline = String::new();
    for flag in flags.chars() {
        match flag {
            'i' | 'm' | 's' | 'x' => inline.push(flag),
            'u' | 'D' => {}
            other => return Err(format!("unsupported regex flag `{other}`")),
        }
    }
    // PCRE allows `\@` (an escaped character that needs none); Rust's parser does not.
    let pattern = unescape_needless(pattern);
    Ok(if inline.is_empty() { pattern } else { format!("(?{inline}){pattern}") })
}

/// Drop backslashes before characters that need no escaping (`\@`, `\/`, `\-` outside
/// classes is kept), which PCRE accepts and Rust's regex rejects.
fn unescape_needless(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\'
            && let Some(&next) = chars.peek()
            && matches!(
                next,
                '@' | '/' | '\'' | '"' | '%' | '=' | ':' | ',' | ';' | '<' | '>' | '!' | '`' | '~'
            )
        {
            out.push(next);
            chars.next();
            continue;
        }
        out.push(c);
    }
    out
}

impl Warninglist {
    /// The indicator kinds the list applies to, from its MISP `matching_attributes`
    /// (`None`: every kind). Attribute types with no tipline kind are ignored.
    pub fn kinds(&self) -> Option<Vec<IndicatorKind>> {
        if self.matching_attributes.is_empty() {
            return None;
        }
        let mut kinds = Vec::new();
        for attribute in &self.matching_attributes {
            for kind in attribute_kinds(attribute) {
                if !kinds.contains(kind) {
                    kinds.push(*kind);
                }
            }
        }
        Some(kinds)
    }
}

/// The tipline indicator kinds a MISP attribute type covers.
pub fn attribute_kinds(attribute: &str) -> &'static [IndicatorKind] {
    use IndicatorKind::*;
    match attribute.to_ascii_lowercase().as_str() {
        "ip-src" | "ip-dst" | "ip-src|port" | "ip-dst|port" | "ip" => &[Ipv4, Ipv6, Cidr],
        "domain|ip" => &[Ipv4, Ipv6, Cidr, Domain],
        "domain" | "hostname" | "hostname|port" => &[Domain],
        "url" | "uri" | "link" => &[Url],
        "email"
        | "email-src"
        | "email-dst"
        | "target-email"
        | "email-reply-to"
        | "whois-registrant-email" => &[Email],
        "md5" | "filename|md5" => &[Md5],
        "sha1" | "filename|sha1" => &[Sha1],
        "sha256" | "filename|sha256" => &[Sha256],
        "as" => &[Asn],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(list_type: &str, entries: &[&str]) -> String {
        serde_json::json!({
            "name": "Test list", "description": "d", "version": 3, "type": list_type,
            "matching_attributes": ["ip-src", "domain"], "list": entries
        })
        .to_string()
    }

    #[test]
    fn entries_are_normalized_per_type() {
        let parsed =
            parse(list("cidr", &["8.8.8.8", "10.1.2.3/8", "FE80::/10", "1.2.3.4/32"]).as_bytes())
                .unwrap();
        assert_eq!(parsed.entries, ["1.2.3.4/32", "10.0.0.0/8", "8.8.8.8/32", "fe80::/10"]);
        let kinds = parsed.kinds().unwrap();
        assert!(kinds.contains(&IndicatorKind::Ipv4) && kinds.contains(&IndicatorKind::Domain));
        let parsed = parse(list("hostname", &[".Example.COM", "a.b."]).as_bytes()).unwrap();
        assert_eq!(parsed.entries, ["a.b", "example.com"]);
        let parsed = parse(list("string", &["AAA", "  "]).as_bytes()).unwrap();
        assert_eq!(parsed.entries, ["aaa"]);
        let parsed =
            parse(list("regex", &[r"/^(security|noc|soc|abuse)\@.*\..*$/i"]).as_bytes()).unwrap();
        assert_eq!(parsed.entries, [r"(?i)^(security|noc|soc|abuse)@.*\..*$"]);
        assert_eq!(parsed.list_type, ListType::Regex);
    }

    #[test]
    fn malformed_lists_are_rejected_with_their_location() {
        let check = |text: &str, expected: &str| {
            assert_eq!(parse(text.as_bytes()).unwrap_err().to_string(), expected);
        };
        check(
            &list("cidr", &["8.8.8.8", "8.8.8.300"]),
            "list[1] `8.8.8.300`: not an ip address or network",
        );
        check(
            &list("cidr", &["10.0.0.0/33"]),
            "list[0] `10.0.0.0/33`: prefix length `33` is not 0-32",
        );
        check(
            "{\"name\": \"x\",\n \"list\": 5}",
            "line 2 column 10: invalid type: integer `5`, expected a sequence",
        );
        check(
            r#"{"name": "x", "description": "", "version": 1, "type": "glob", "list": []}"#,
            "line 1 column 61: unknown variant `glob`, expected one of `cidr`, `hostname`, `string`, `substring`, `regex`",
        );
        check(
            r#"{"name": "x", "description": "", "version": 1, "type": "string", "list": [], "extra": 1}"#,
            "line 1 column 84: unknown field `extra`, expected one of `name`, `description`, `version`, `type`, `matching_attributes`, `list`",
        );
        check(
            r#"{"name": " ", "description": "", "version": 1, "type": "string", "list": []}"#,
            "name: must not be empty",
        );
        check(
            &list("regex", &["/(?<=a)b/"]),
            "list[0] `/(?<=a)b/`: not a regular expression tipline can run: error: look-around, including look-ahead and look-behind, is not supported",
        );
        check(
            &list("{", &[]),
            "line 1 column 100: unknown variant `{`, expected one of `cidr`, `hostname`, `string`, `substring`, `regex`",
        );
    }

    #[test]
    fn attribute_types_map_to_kinds() {
        assert_eq!(attribute_kinds("AS"), [IndicatorKind::Asn]);
        assert!(attribute_kinds("ssdeep").is_empty());
        let none = Warninglist {
            name: "x".into(),
            description: String::new(),
            version: 1,
            list_type: ListType::String,
            matching_attributes: vec![],
            entries: vec![],
        };
        assert_eq!(none.kinds(), None);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in ".{0,200}") {
            let _ = parse(text.as_bytes());
        }
    }
}
