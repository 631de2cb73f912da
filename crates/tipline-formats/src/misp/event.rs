//! MISP event JSON: the document forms MISP writes, read into [`Event`]s.
//!
//! Accepted documents: a bare `{"Event": {...}}` (MISP feeds, `misp export`), a REST
//! response `{"response": [{"Event": {...}}, ...]}`, a JSON array of `{"Event": ...}`, and
//! an event object without the wrapper. MISP writes numbers as strings and flags as
//! booleans, `"0"`/`"1"` or numbers; all are accepted.
//!
//! Problems are reported with their location: JSON syntax errors by line and column,
//! everything else by event uuid and field path (`event 5a0d…: Attribute[3].value: …`).
//! A problem in the event itself (no `uuid`, `Attribute` not a list) rejects the event; a
//! problem in one attribute rejects that attribute and is kept in [`Event::problems`], so
//! the caller decides whether it rejects the whole file (the default) or only the attribute.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};

/// A problem in a MISP document, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {reason}")]
pub struct MispError {
    /// `line 3, column 7`, `event <uuid>: Attribute[2].value`, `events[1]`...
    pub location: String,
    /// What is wrong, lower case.
    pub reason: String,
}

impl MispError {
    fn new(location: impl Into<String>, reason: impl Into<String>) -> MispError {
        MispError { location: location.into(), reason: reason.into() }
    }
}

/// One MISP event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The event's uuid.
    pub uuid: String,
    /// Its title.
    pub info: String,
    /// Last change, seconds since the epoch (the version used for incremental imports).
    pub timestamp: i64,
    /// The event's date.
    pub date: Option<NaiveDate>,
    /// Distribution level 0–5, if given.
    pub distribution: Option<u8>,
    /// Threat level 1 (high) – 4 (undefined), if given.
    pub threat_level: Option<u8>,
    /// The creating organization's name (`Orgc.name`).
    pub creator: Option<String>,
    /// Event tags.
    pub tags: Vec<String>,
    /// Galaxy clusters attached to the event.
    pub galaxies: Vec<GalaxyCluster>,
    /// Attributes outside objects.
    pub attributes: Vec<Attribute>,
    /// Objects and their attributes.
    pub objects: Vec<Object>,
    /// Attributes (or objects) that could not be read; they are not in the lists above.
    pub problems: Vec<MispError>,
}

/// One MISP attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    /// Where it is in the event: `Attribute[3]` or `Object[1].Attribute[0]`.
    pub path: String,
    /// The attribute's uuid, if given.
    pub uuid: Option<String>,
    /// MISP type (`ip-dst`, `filename|sha256`...).
    pub kind: String,
    /// MISP category.
    pub category: Option<String>,
    /// The value as written.
    pub value: String,
    /// Whether MISP marks it for detection (IDS) use; absent means false.
    pub to_ids: bool,
    /// Distribution level 0–5 (5: inherit the event's), if given.
    pub distribution: Option<u8>,
    /// Last change, seconds since the epoch.
    pub timestamp: Option<i64>,
    /// First seen, if given.
    pub first_seen: Option<DateTime<Utc>>,
    /// Last seen, if given.
    pub last_seen: Option<DateTime<Utc>>,
    /// Free text.
    pub comment: Option<String>,
    /// Attribute tags.
    pub tags: Vec<String>,
    /// Galaxy clusters attached to the attribute.
    pub galaxies: Vec<GalaxyCluster>,
    /// The role it plays in its object (`filename`, `dst-port`...).
    pub object_relation: Option<String>,
}

/// A MISP object: attributes that describe one thing together (a file and its hashes).
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// Where it is in the event: `Object[1]`.
    pub path: String,
    /// Template name (`file`, `ip-port`, `domain-ip`...).
    pub name: String,
    /// Distribution level 0–5, if given.
    pub distribution: Option<u8>,
    /// Its attributes.
    pub attributes: Vec<Attribute>,
}

/// A galaxy cluster (threat actor, malware family...) as embedded in an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GalaxyCluster {
    /// Galaxy type (`threat-actor`, `mitre-intrusion-set`, `malpedia`...).
    pub galaxy: String,
    /// Cluster value (`APT 29`).
    pub value: String,
    /// Other names (`meta.synonyms`).
    pub synonyms: Vec<String>,
    /// `meta.country` (ISO 3166-1 alpha-2 codes).
    pub countries: Vec<String>,
    /// Whether `meta.cfr-suspected-state-sponsor` names a state.
    pub state_sponsored: bool,
}

/// Every event of a document: each one read, or the problem that rejects it. A document
/// that is not JSON, or not a MISP document at all, is one error.
pub fn parse_document(bytes: &[u8]) -> Result<Vec<Result<Event, MispError>>, MispError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        let message = e.to_string();
        let reason = message.rfind(" at line ").map_or(message.as_str(), |i| &message[..i]);
        MispError::new(
            format!("line {}, column {}", e.line(), e.column()),
            format!("malformed JSON: {reason}"),
        )
    })?;
    let not_misp = || {
        MispError::new(
            "document",
            "not a MISP event: expected {\"Event\": …}, {\"response\": […]}, a list of events or an event object",
        )
    };
    let wrapped: Vec<(String, &Value)> = match &value {
        Value::Object(map) if map.contains_key("Event") => vec![("Event".into(), &map["Event"])],
        Value::Object(map) if map.contains_key("response") => match &map["response"] {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| (format!("response[{i}]"), unwrap_event(item)))
                .collect(),
            item @ Value::Object(_) => vec![("response".into(), unwrap_event(item))],
            _ => return Err(not_misp()),
        },
        Value::Object(map) if map.contains_key("uuid") && map.contains_key("Attribute") => {
            vec![("event".into(), &value)]
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| (format!("events[{i}]"), unwrap_event(item)))
            .collect(),
        _ => return Err(not_misp()),
    };
    Ok(wrapped.into_iter().map(|(location, value)| read_event(&location, value)).collect())
}

/// Parse one event document (a MISP feed's `{uuid}.json`), which must hold exactly one event.
pub fn parse_event(bytes: &[u8]) -> Result<Event, MispError> {
    let mut events = parse_document(bytes)?;
    match events.len() {
        1 => events.remove(0),
        n => Err(MispError::new("document", format!("expected one event, found {n}"))),
    }
}

fn unwrap_event(item: &Value) -> &Value {
    item.get("Event").unwrap_or(item)
}

fn read_event(location: &str, value: &Value) -> Result<Event, MispError> {
    let map = value.as_object().ok_or_else(|| {
        MispError::new(location, format!("expected an object, found {}", kind_of(value)))
    })?;
    let uuid = match string(map, "uuid") {
        Ok(Some(uuid)) if !uuid.trim().is_empty() => uuid.trim().to_ascii_lowercase(),
        Ok(_) => return Err(MispError::new(format!("{location}.uuid"), "required")),
        Err(reason) => return Err(MispError::new(format!("{location}.uuid"), reason)),
    };
    let at = |field: &str| format!("event {uuid}: {field}");
    let fail = |field: &str, reason: String| MispError::new(at(field), reason);
    let timestamp = integer(map, "timestamp")
        .map_err(|r| fail("timestamp", r))?
        .ok_or_else(|| fail("timestamp", "required".into()))?;
    let info = string(map, "info").map_err(|r| fail("info", r))?.unwrap_or_default();
    let date = string(map, "date")
        .map_err(|r| fail("date", r))?
        .map(|d| {
            NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
                .map_err(|_| fail("date", format!("`{d}` is not a date (YYYY-MM-DD)")))
        })
        .transpose()?;
    let distribution = level(map, "distribution").map_err(|r| fail("distribution", r))?;
    let threat_level = level(map, "threat_level_id").map_err(|r| fail("threat_level_id", r))?;
    let creator = map
        .get("Orgc")
        .and_then(|o| o.get("name"))
        .and_then(Value::as_str)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let tags = tags(map).map_err(|r| fail("Tag", r))?;
    let galaxies = galaxies(map);
    let mut problems = Vec::new();
    let mut attributes = Vec::new();
    for (i, item) in list(map, "Attribute").map_err(|r| fail("Attribute", r))?.iter().enumerate() {
        match read_attribute(&format!("Attribute[{i}]"), item) {
            Ok(Some(attribute)) => attributes.push(attribute),
            Ok(None) => {}
            Err((path, reason)) => problems.push(fail(&path, reason)),
        }
    }
    let mut objects = Vec::new();
    for (i, item) in list(map, "Object").map_err(|r| fail("Object", r))?.iter().enumerate() {
        let path = format!("Object[{i}]");
        match read_object(&path, item) {
            Ok(Some((object, object_problems))) => {
                problems.extend(object_problems.into_iter().map(|(p, r)| fail(&p, r)));
                objects.push(object);
            }
            Ok(None) => {}
            Err(reason) => problems.push(fail(&path, reason)),
        }
    }
    Ok(Event {
        uuid,
        info: info.trim().to_string(),
        timestamp,
        date,
        distribution,
        threat_level,
        creator,
        tags,
        galaxies,
        attributes,
        objects,
        problems,
    })
}

type Problem = (String, String);

/// An object and the problems of its attributes; `None` when it is deleted.
fn read_object(path: &str, value: &Value) -> Result<Option<(Object, Vec<Problem>)>, String> {
    let map =
        value.as_object().ok_or_else(|| format!("expected an object, found {}", kind_of(value)))?;
    if flag(map, "deleted")? {
        return Ok(None);
    }
    let name = string(map, "name").map_err(|r| format!("name: {r}"))?.unwrap_or_default();
    let distribution = level(map, "distribution").map_err(|r| format!("distribution: {r}"))?;
    let mut attributes = Vec::new();
    let mut problems = Vec::new();
    for (i, item) in
        list(map, "Attribute").map_err(|r| format!("Attribute: {r}"))?.iter().enumerate()
    {
        match read_attribute(&format!("{path}.Attribute[{i}]"), item) {
            Ok(Some(attribute)) => attributes.push(attribute),
            Ok(None) => {}
            Err(problem) => problems.push(problem),
        }
    }
    Ok(Some((Object { path: path.to_string(), name, distribution, attributes }, problems)))
}

/// An attribute; `None` when it is deleted; `Err((path, reason))` when unreadable.
fn read_attribute(path: &str, value: &Value) -> Result<Option<Attribute>, Problem> {
    let fail = |field: &str, reason: String| {
        let path = if field.is_empty() { path.to_string() } else { format!("{path}.{field}") };
        (path, reason)
    };
    let map = value
        .as_object()
        .ok_or_else(|| fail("", format!("expected an object, found {}", kind_of(value))))?;
    if flag(map, "deleted").map_err(|r| fail("deleted", r))? {
        return Ok(None);
    }
    let kind = string(map, "type")
        .map_err(|r| fail("type", r))?
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| fail("type", "required".into()))?;
    let value = string(map, "value")
        .map_err(|r| fail("value", r))?
        .ok_or_else(|| fail("value", "required".into()))?;
    let seen = |field: &str| -> Result<Option<DateTime<Utc>>, Problem> {
        match string(map, field).map_err(|r| fail(field, r))? {
            None => Ok(None),
            Some(text) if text.trim().is_empty() => Ok(None),
            Some(text) => DateTime::parse_from_rfc3339(text.trim())
                .map(|t| Some(t.with_timezone(&Utc)))
                .map_err(|_| fail(field, format!("`{text}` is not an RFC 3339 time"))),
        }
    };
    Ok(Some(Attribute {
        path: path.to_string(),
        uuid: string(map, "uuid").map_err(|r| fail("uuid", r))?,
        kind: kind.trim().to_string(),
        category: string(map, "category").map_err(|r| fail("category", r))?,
        value,
        to_ids: flag(map, "to_ids").map_err(|r| fail("to_ids", r))?,
        distribution: level(map, "distribution").map_err(|r| fail("distribution", r))?,
        timestamp: integer(map, "timestamp").map_err(|r| fail("timestamp", r))?,
        first_seen: seen("first_seen")?,
        last_seen: seen("last_seen")?,
        comment: string(map, "comment")
            .map_err(|r| fail("comment", r))?
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty()),
        tags: tags(map).map_err(|r| fail("Tag", r))?,
        galaxies: galaxies(map),
        object_relation: string(map, "object_relation").map_err(|r| fail("object_relation", r))?,
    }))
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A text field; numbers are accepted as their decimal text.
fn string(map: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(format!("expected a string, found {}", kind_of(other))),
    }
}

/// An integer field, written as a number or a string of digits.
fn integer(map: &Map<String, Value>, key: &str) -> Result<Option<i64>, String> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            n.as_i64().map(Some).ok_or_else(|| format!("expected an integer, found {n}"))
        }
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => {
            s.trim().parse().map(Some).map_err(|_| format!("expected an integer, found `{s}`"))
        }
        Some(other) => Err(format!("expected an integer, found {}", kind_of(other))),
    }
}

/// A small level (distribution 0–5, threat level 1–4).
fn level(map: &Map<String, Value>, key: &str) -> Result<Option<u8>, String> {
    match integer(map, key)? {
        None => Ok(None),
        Some(n @ 0..=9) => Ok(Some(n as u8)),
        Some(n) => Err(format!("expected a level from 0 to 9, found {n}")),
    }
}

/// A flag: a boolean, `0`/`1` as number or string, or `"true"`/`"false"`; absent is false.
fn flag(map: &Map<String, Value>, key: &str) -> Result<bool, String> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::Number(n)) if n.as_i64() == Some(0) => Ok(false),
        Some(Value::Number(n)) if n.as_i64() == Some(1) => Ok(true),
        Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "0" | "false" | "" => Ok(false),
            "1" | "true" => Ok(true),
            _ => Err(format!("expected true or false, found `{s}`")),
        },
        Some(other) => Err(format!("expected true or false, found {}", kind_of(other))),
    }
}

/// A list field; absent or null is empty.
fn list<'a>(map: &'a Map<String, Value>, key: &str) -> Result<&'a [Value], String> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(format!("expected a list, found {}", kind_of(other))),
    }
}

/// The names of `Tag: [{"name": ...}]`.
fn tags(map: &Map<String, Value>) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    for (i, tag) in list(map, "Tag")?.iter().enumerate() {
        match tag.get("name") {
            Some(Value::String(name)) if !name.trim().is_empty() => {
                names.push(name.trim().to_string())
            }
            _ => return Err(format!("[{i}]: expected an object with a `name` string")),
        }
    }
    Ok(names)
}

/// Galaxy clusters of `Galaxy: [{"type": ..., "GalaxyCluster": [...]}]`. Galaxies are
/// context, not data: entries of an unexpected shape are left out rather than reported.
fn galaxies(map: &Map<String, Value>) -> Vec<GalaxyCluster> {
    let mut clusters = Vec::new();
    let Some(Value::Array(galaxies)) = map.get("Galaxy") else { return clusters };
    for galaxy in galaxies {
        let galaxy_type = galaxy.get("type").and_then(Value::as_str).unwrap_or_default();
        let Some(Value::Array(items)) = galaxy.get("GalaxyCluster") else { continue };
        for cluster in items {
            let Some(value) = cluster.get("value").and_then(Value::as_str) else { continue };
            let galaxy = cluster.get("type").and_then(Value::as_str).unwrap_or(galaxy_type);
            let meta = |key: &str| -> Vec<String> {
                match cluster.get("meta").and_then(|m| m.get(key)) {
                    Some(Value::Array(items)) => items
                        .iter()
                        .filter_map(Value::as_str)
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect(),
                    Some(Value::String(s)) if !s.trim().is_empty() => vec![s.trim().to_string()],
                    _ => Vec::new(),
                }
            };
            clusters.push(GalaxyCluster {
                galaxy: galaxy.to_string(),
                value: value.trim().to_string(),
                synonyms: meta("synonyms"),
                countries: meta("country"),
                state_sponsored: !meta("cfr-suspected-state-sponsor").is_empty(),
            });
        }
    }
    clusters
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Result<Event, MispError> {
        parse_event(text.as_bytes())
    }

    const MINIMAL: &str = r#"{"Event": {"uuid": "5A0D5BF4-99C8-4F15-9879-22B1950D210F",
        "timestamp": "1511183733", "info": " Test ", "date": "2017-11-16", "distribution": 3,
        "threat_level_id": "1", "Orgc": {"name": "CIRCL"},
        "Tag": [{"name": "tlp:white"}],
        "Attribute": [
          {"type": "ip-dst", "value": "192.0.2.1", "to_ids": "1", "timestamp": 1511183000,
           "first_seen": "2017-11-01T00:00:00.000000+00:00", "comment": ""},
          {"type": "md5", "value": "0749bae92ca336a02c83d126e04ec628", "deleted": true}],
        "Object": [{"name": "ip-port", "Attribute": [
          {"type": "ip-dst", "value": "198.51.100.7", "object_relation": "ip"},
          {"type": "port", "value": 443, "object_relation": "dst-port"}]}]}}"#;

    #[test]
    fn reads_an_event_with_tolerant_types() {
        let event = one(MINIMAL).unwrap();
        assert_eq!(event.uuid, "5a0d5bf4-99c8-4f15-9879-22b1950d210f");
        assert_eq!((event.info.as_str(), event.timestamp), ("Test", 1_511_183_733));
        assert_eq!((event.distribution, event.threat_level), (Some(3), Some(1)));
        assert_eq!(event.creator.as_deref(), Some("CIRCL"));
        assert_eq!(event.tags, ["tlp:white"]);
        assert_eq!(event.attributes.len(), 1, "deleted attributes are left out");
        let attribute = &event.attributes[0];
        assert!(attribute.to_ids);
        assert_eq!(attribute.comment, None);
        assert_eq!(attribute.first_seen.unwrap().to_rfc3339(), "2017-11-01T00:00:00+00:00");
        assert_eq!(event.objects[0].attributes[1].value, "443");
        assert_eq!(event.objects[0].attributes[1].path, "Object[0].Attribute[1]");
        assert!(event.problems.is_empty());
    }

    #[test]
    fn every_document_form() {
        let event = r#"{"uuid": "u1", "timestamp": 1, "Attribute": []}"#;
        for document in [
            format!(r#"{{"Event": {event}}}"#),
            format!(r#"{{"response": [{{"Event": {event}}}]}}"#),
            format!(r#"[{{"Event": {event}}}]"#),
            event.to_string(),
        ] {
            let events = parse_document(document.as_bytes()).unwrap();
            assert_eq!(events.len(), 1, "{document}");
            assert_eq!(events[0].as_ref().unwrap().uuid, "u1");
        }
    }

    #[test]
    fn malformed_documents_name_their_location() {
        let error = |text: &str| match parse_document(text.as_bytes()) {
            Err(e) => e.to_string(),
            Ok(events) => events
                .into_iter()
                .map(|e| match e {
                    Ok(event) => event
                        .problems
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; "),
                    Err(e) => e.to_string(),
                })
                .filter(|message: &String| !message.is_empty())
                .collect::<Vec<_>>()
                .join("; "),
        };
        assert_eq!(
            error("{\"Event\": {\"uuid\": \"u\",\n \"timestamp\": 1,"),
            "line 2, column 16: malformed JSON: EOF while parsing a value"
        );
        assert_eq!(
            error("{\"hello\": 1}"),
            "document: not a MISP event: expected {\"Event\": …}, {\"response\": […]}, a list of events or an event object"
        );
        assert_eq!(error(r#"{"Event": {"timestamp": 1}}"#), "Event.uuid: required");
        assert_eq!(
            error(r#"{"response": [{"Event": {"uuid": "u", "timestamp": "soon"}}]}"#),
            "event u: timestamp: expected an integer, found `soon`"
        );
        assert_eq!(
            error(r#"{"Event": {"uuid": "u", "timestamp": 1, "Attribute": {"a": 1}}}"#),
            "event u: Attribute: expected a list, found an object"
        );
        assert_eq!(
            error(
                r#"{"Event": {"uuid": "u", "timestamp": 1, "Attribute": [
                {"type": "md5", "value": ["x"]}, {"value": "x"}, 7,
                {"type": "url", "value": "http://x.example", "to_ids": "maybe"}],
                "Object": [{"Attribute": [{"type": "ip-dst", "value": "192.0.2.1", "last_seen": "yesterday"}]}]}}"#
            ),
            "event u: Attribute[0].value: expected a string, found a list; \
             event u: Attribute[1].type: required; \
             event u: Attribute[2]: expected an object, found a number; \
             event u: Attribute[3].to_ids: expected true or false, found `maybe`; \
             event u: Object[0].Attribute[0].last_seen: `yesterday` is not an RFC 3339 time"
        );
        assert_eq!(
            error(r#"[{"Event": {"uuid": "u", "timestamp": 1}}, "x"]"#),
            "events[1]: expected an object, found a string"
        );
    }

    #[test]
    fn galaxies_carry_synonyms_and_country() {
        let event =
            one(r#"{"Event": {"uuid": "u", "timestamp": 1, "Galaxy": [{"type": "threat-actor",
            "GalaxyCluster": [{"type": "threat-actor", "value": "APT 29",
              "meta": {"synonyms": ["APT29", "Cozy Bear"], "country": ["RU"],
                       "cfr-suspected-state-sponsor": ["Russian Federation"]}},
              {"value": 5}]}, "junk"]}}"#)
            .unwrap();
        assert_eq!(
            event.galaxies,
            [GalaxyCluster {
                galaxy: "threat-actor".into(),
                value: "APT 29".into(),
                synonyms: vec!["APT29".into(), "Cozy Bear".into()],
                countries: vec!["RU".into()],
                state_sponsored: true,
            }]
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in ".{0,400}") {
            let _ = parse_document(text.as_bytes());
        }

        #[test]
        fn never_panics_on_event_shapes(value in "[0-9a-z\"]{0,8}", key in "(uuid|timestamp|Attribute|Object|Tag|Galaxy|to_ids|type|value|distribution)") {
            let text = format!(r#"{{"Event": {{"uuid": "u", "timestamp": 1, "{key}": {value}, "Attribute": [{{"type": "ip-dst", "value": "192.0.2.1", "{key}": {value}}}]}}}}"#);
            let _ = parse_document(text.as_bytes());
        }
    }
}
