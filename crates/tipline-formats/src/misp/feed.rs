//! MISP feeds: a `manifest.json` listing the feed's events, each in `{uuid}.json` next to it.
//!
//! The manifest maps each event uuid to a summary holding at least the event's `timestamp`,
//! which is all an incremental pull needs to decide what to fetch.

use serde_json::Value;

use super::event::MispError;

/// One event listed in a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestEntry {
    /// The event's uuid (lower case); its file is `{uuid}.json`.
    pub uuid: String,
    /// Its title.
    pub info: String,
    /// Its last change, seconds since the epoch.
    pub timestamp: i64,
}

impl ManifestEntry {
    /// The name of the event's file in the feed.
    pub fn file_name(&self) -> String {
        format!("{}.json", self.uuid)
    }
}

/// The events of a manifest, oldest change first. Keys must be uuids (they become file
/// names and URLs, so nothing else is accepted).
pub fn parse_manifest(bytes: &[u8]) -> Result<Vec<ManifestEntry>, MispError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        let message = e.to_string();
        let reason = message.rfind(" at line ").map_or(message.as_str(), |i| &message[..i]);
        MispError {
            location: format!("manifest.json line {}, column {}", e.line(), e.column()),
            reason: format!("malformed JSON: {reason}"),
        }
    })?;
    let map = value.as_object().ok_or_else(|| MispError {
        location: "manifest.json".into(),
        reason: "expected an object of event uuid → event summary".into(),
    })?;
    let mut entries = Vec::with_capacity(map.len());
    for (key, summary) in map {
        let fail = |reason: String| MispError { location: format!("manifest.json: {key}"), reason };
        if !is_uuid(key) {
            return Err(fail("not an event uuid".into()));
        }
        let timestamp = match summary.get("timestamp") {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        }
        .ok_or_else(|| fail("timestamp: expected an integer".into()))?;
        let info = summary.get("info").and_then(Value::as_str).unwrap_or_default();
        entries.push(ManifestEntry {
            uuid: key.to_ascii_lowercase(),
            info: info.trim().to_string(),
            timestamp,
        });
    }
    entries.sort_by(|a, b| (a.timestamp, &a.uuid).cmp(&(b.timestamp, &b.uuid)));
    Ok(entries)
}

/// `8-4-4-4-12` hexadecimal digits.
fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_manifest_oldest_first() {
        let text = r#"{
          "d177856e-6e46-44ee-8eb5-83ef1c7452c7": {"info": "b", "timestamp": "1779411630", "Tag": []},
          "6A10E5D8-F1CD-42B0-8240-A4650EFD83D6": {"info": "a", "timestamp": 1779109245}}"#;
        let entries = parse_manifest(text.as_bytes()).unwrap();
        assert_eq!(entries[0].uuid, "6a10e5d8-f1cd-42b0-8240-a4650efd83d6");
        assert_eq!(entries[0].file_name(), "6a10e5d8-f1cd-42b0-8240-a4650efd83d6.json");
        assert_eq!((entries[1].info.as_str(), entries[1].timestamp), ("b", 1_779_411_630));
    }

    #[test]
    fn malformed_manifests() {
        let error = |text: &str| parse_manifest(text.as_bytes()).unwrap_err().to_string();
        assert_eq!(error("[1]"), "manifest.json: expected an object of event uuid → event summary");
        assert_eq!(
            error(r#"{"../etc/passwd": {"timestamp": 1}}"#),
            "manifest.json: ../etc/passwd: not an event uuid"
        );
        assert_eq!(
            error(r#"{"6a10e5d8-f1cd-42b0-8240-a4650efd83d6": {"timestamp": "x"}}"#),
            "manifest.json: 6a10e5d8-f1cd-42b0-8240-a4650efd83d6: timestamp: expected an integer"
        );
        assert_eq!(
            error("{\"a\":"),
            "manifest.json line 1, column 5: malformed JSON: EOF while parsing a value"
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in ".{0,300}") {
            let _ = parse_manifest(text.as_bytes());
        }
    }
}
