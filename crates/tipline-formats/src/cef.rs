//! ArcSight Common Event Format (CEF) lines: the header, the extension's `key=value`
//! pairs, and the observables they carry.
//!
//! A line is `[syslog header] CEF:Version|Device Vendor|Device Product|Device Version|
//! Signature ID|Name|Severity|Extension`. In the header, `\|` and `\\` are escapes; in the
//! extension, a value runs to the space before the next `key=`, and `\=`, `\\`, `\n` and
//! `\r` are escapes.
//!
//! Observables: the address fields (`src`, `dst`, `sourceTranslatedAddress`,
//! `destinationTranslatedAddress`, `dvc`, `c6a1`–`c6a4`), host names (`shost`, `dhost`,
//! `dvchost`, `sourceDnsDomain`, `destinationDnsDomain`), URLs (`request`,
//! `requestContext`), hashes (`fileHash`, `oldFileHash`), and user fields that are email
//! addresses (`suser`, `duser`). Each value is classified ([`crate::observable::classify`]),
//! so a field holding something else (`dhost=10.1.1.40`) is still read for what it is.

use std::borrow::Cow;

use crate::observable::{Observable, classify};

/// A parsed CEF record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CefRecord<'a> {
    /// CEF format version.
    pub version: Cow<'a, str>,
    /// Device vendor.
    pub vendor: Cow<'a, str>,
    /// Device product.
    pub product: Cow<'a, str>,
    /// Device version.
    pub device_version: Cow<'a, str>,
    /// Signature (event class) id.
    pub signature_id: Cow<'a, str>,
    /// Event name.
    pub name: Cow<'a, str>,
    /// Severity.
    pub severity: Cow<'a, str>,
    /// Extension fields in order.
    pub extension: Vec<(&'a str, Cow<'a, str>)>,
}

impl CefRecord<'_> {
    /// The value of extension field `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.extension.iter().find(|(k, _)| *k == key).map(|(_, v)| &**v)
    }
}

/// Why a line is not CEF.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CefError {
    /// No `CEF:` marker.
    #[error("no `CEF:` header")]
    NoHeader,
    /// Fewer than the 7 header fields before the extension.
    #[error("header has {0} of 7 `|`-separated fields")]
    ShortHeader(usize),
}

/// Extension keys that carry observables.
pub const OBSERVABLE_KEYS: &[&str] = &[
    "src",
    "dst",
    "sourceTranslatedAddress",
    "destinationTranslatedAddress",
    "dvc",
    "c6a1",
    "c6a2",
    "c6a3",
    "c6a4",
    "shost",
    "dhost",
    "dvchost",
    "sourceDnsDomain",
    "destinationDnsDomain",
    "request",
    "requestContext",
    "fileHash",
    "oldFileHash",
    "suser",
    "duser",
];

/// Parse one line (a syslog header before `CEF:` is skipped).
pub fn parse(line: &str) -> Result<CefRecord<'_>, CefError> {
    let start = line.find("CEF:").ok_or(CefError::NoHeader)?;
    let text = line[start + 4..].trim_end_matches(['\r', '\n']);
    let mut fields: Vec<Cow<'_, str>> = Vec::with_capacity(7);
    let bytes = text.as_bytes();
    let mut field_start = 0;
    let mut escaped = false;
    let mut i = 0;
    while i < bytes.len() && fields.len() < 7 {
        match bytes[i] {
            b'\\' => escaped = true,
            b'|' => {
                fields.push(unescape_header(&text[field_start..i], escaped));
                field_start = i + 1;
                escaped = false;
            }
            _ => {}
        }
        if bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        i += 1;
    }
    if fields.len() < 7 {
        return Err(CefError::ShortHeader(fields.len()));
    }
    let extension = parse_extension(&text[field_start.min(text.len())..]);
    let mut fields = fields.into_iter();
    let mut next = || fields.next().unwrap_or_default();
    Ok(CefRecord {
        version: next(),
        vendor: next(),
        product: next(),
        device_version: next(),
        signature_id: next(),
        name: next(),
        severity: next(),
        extension,
    })
}

fn unescape_header(text: &str, escaped: bool) -> Cow<'_, str> {
    if !escaped {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.replace("\\|", "|").replace("\\\\", "\\"))
}

/// Split `k1=v1 with spaces k2=v2` into pairs.
fn parse_extension(text: &str) -> Vec<(&str, Cow<'_, str>)> {
    let bytes = text.as_bytes();
    // Positions of unescaped `=` that follow a key token.
    let mut keys: Vec<(usize, usize)> = Vec::new(); // (key start, `=` position)
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'=' => {
                let key_start = text[..i].rfind(' ').map_or(0, |s| s + 1);
                let key = &text[key_start..i];
                if !key.is_empty()
                    && key.bytes().all(|b| {
                        b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'[' | b']' | b'-')
                    })
                {
                    keys.push((key_start, i));
                }
            }
            _ => {}
        }
        i += 1;
    }
    let mut pairs = Vec::with_capacity(keys.len());
    for (n, &(key_start, eq)) in keys.iter().enumerate() {
        let value_end = keys.get(n + 1).map_or(text.len(), |&(next_key, _)| next_key);
        let value = text[eq + 1..value_end].trim();
        pairs.push((&text[key_start..eq], unescape_value(value)));
    }
    pairs
}

fn unescape_value(value: &str) -> Cow<'_, str> {
    if !value.contains('\\') {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The observables of a CEF line, each named by its extension key.
pub fn observables<'a>(record: &'a CefRecord<'a>, out: &mut Vec<Observable<'a>>) {
    for (key, value) in &record.extension {
        if !OBSERVABLE_KEYS.contains(key) {
            continue;
        }
        let Some(observed) = classify(value) else { continue };
        // User names are observables only when they are email addresses.
        if matches!(*key, "suser" | "duser")
            && !matches!(observed, crate::observable::Observed::Email(_))
        {
            continue;
        }
        out.push(Observable { field: Cow::Borrowed(key), value: observed });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observed(line: &str) -> Vec<String> {
        let record = parse(line).unwrap();
        let mut out = Vec::new();
        observables(&record, &mut out);
        out.iter().map(|o| format!("{}={}", o.field, o.value.text())).collect()
    }

    #[test]
    fn header_and_extension() {
        let line = "Mar 02 10:11:12 fw CEF:0|Acme|Edge \\| Gate|2.1|Log|https|Unknown|\
                    act=Accept msg=Referred connection: 10.9.9.9 frag\\=0x4000 TCP src=192.168.7.10 \
                    cs2Label=Rule Name dst=198.51.100.80";
        let record = parse(line).unwrap();
        assert_eq!(record.vendor, "Acme");
        assert_eq!(record.product, "Edge | Gate");
        assert_eq!(record.name, "https");
        assert_eq!(record.get("msg"), Some("Referred connection: 10.9.9.9 frag=0x4000 TCP"));
        assert_eq!(record.get("cs2Label"), Some("Rule Name"));
        assert_eq!(record.get("dst"), Some("198.51.100.80"));
        assert_eq!(observed(line), ["src=192.168.7.10", "dst=198.51.100.80"]);
    }

    #[test]
    fn observables_of_every_kind() {
        let line = "CEF:0|Acme|Sensor|1.0|18|Web request|low|src=203.0.113.4 spt=40000 \
                    dst=198.51.100.143 request=https://www.example.com/cart duser=alice suser=Bob@Example.com \
                    fileHash=BC8BBE52F041FD17318F08A0F73762CE c6a3=::1 dhost=Evil.Example   ";
        assert_eq!(
            observed(line),
            [
                "src=203.0.113.4",
                "dst=198.51.100.143",
                "request=https://www.example.com/cart",
                "suser=bob@example.com",
                "fileHash=bc8bbe52f041fd17318f08a0f73762ce",
                "c6a3=::1",
                "dhost=evil.example",
            ]
        );
    }

    #[test]
    fn not_cef() {
        assert_eq!(parse("hello").unwrap_err(), CefError::NoHeader);
        assert_eq!(
            parse("CEF:0|a|b").unwrap_err().to_string(),
            "header has 2 of 7 `|`-separated fields"
        );
        assert!(parse("CEF:0|a|b|c|d|e|f|").unwrap().extension.is_empty());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,200}") {
            let line = format!("CEF:0|a|b|c|d|e|f|{text}");
            if let Ok(record) = parse(&line) {
                let mut out = Vec::new();
                observables(&record, &mut out);
            }
            let _ = parse(&text);
        }
    }
}
