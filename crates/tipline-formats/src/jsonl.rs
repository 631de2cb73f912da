//! JSON lines: one JSON object per line, observables read from named fields (dotted paths,
//! `src.ip`) or, when no field is named, from every string value (each classified whole,
//! or scanned as free text when it is a sentence).

use std::borrow::Cow;

use serde_json::Value;

use crate::observable::{Observable, classify, scan_text};
use crate::suricata::{each_string, lookup};

/// Parse one line as a JSON object.
pub fn parse(line: &str) -> Result<Value, String> {
    let value: Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
    if !value.is_object() {
        return Err("the line is JSON but not an object".into());
    }
    Ok(value)
}

/// The observables of `record`: from `fields` when given, else from every string.
pub fn observables(record: &Value, fields: &[String], out: &mut Vec<Observable<'static>>) {
    if fields.is_empty() {
        walk(record, &mut String::new(), out);
        return;
    }
    for field in fields {
        let Some(value) = lookup(record, field) else { continue };
        each_string(value, &mut |text| {
            if let Some(observed) = classify(text) {
                out.push(Observable {
                    field: Cow::Owned(field.clone()),
                    value: observed.into_owned(),
                });
            }
        });
    }
}

fn walk(value: &Value, path: &mut String, out: &mut Vec<Observable<'static>>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                walk(child, path, out);
                path.truncate(len);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| walk(item, path, out)),
        Value::String(text) => match classify(text) {
            Some(observed) => out
                .push(Observable { field: Cow::Owned(path.clone()), value: observed.into_owned() }),
            None if text.contains(' ') => scan_text(text, |observed| {
                out.push(Observable {
                    field: Cow::Owned(path.clone()),
                    value: observed.into_owned(),
                })
            }),
            None => {}
        },
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observed(line: &str, fields: &[&str]) -> Vec<String> {
        let record = parse(line).unwrap();
        let fields: Vec<String> = fields.iter().map(|s| s.to_string()).collect();
        let mut out = Vec::new();
        observables(&record, &fields, &mut out);
        out.iter().map(|o| format!("{}={}", o.field, o.value.text())).collect()
    }

    #[test]
    fn named_fields_or_everything() {
        let line = r#"{"src":{"ip":"192.0.2.1"},"dst":"evil.example","note":"seen 198.51.100.2 twice","n":5,"tags":["x","a@b.example"]}"#;
        assert_eq!(observed(line, &["src.ip", "missing"]), ["src.ip=192.0.2.1"]);
        assert_eq!(
            observed(line, &[]),
            ["dst=evil.example", "note=198.51.100.2", "src.ip=192.0.2.1", "tags=a@b.example"]
        );
        assert!(parse("[]").is_err());
    }
}
