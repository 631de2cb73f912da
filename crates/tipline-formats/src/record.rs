//! Record formats `tipline match` reads: how a line of input becomes observables. One
//! entry per format in [`RECORD_FORMATS`]; adding a format adds its module and one line.

use std::borrow::Cow;

use crate::observable::{Observable, scan_text};

/// Reads the observables of one line into `out`; `fields` are the user's field names
/// (used by formats with named fields). An `Err` says why the line is not a record.
pub type Extract = for<'a> fn(&'a str, &[String], &mut Vec<Observable<'a>>) -> Result<(), String>;

/// A record format.
#[derive(Debug, Clone, Copy)]
pub struct RecordFormat {
    /// Name in `--format NAME`.
    pub name: &'static str,
    /// One line for help texts.
    pub description: &'static str,
    /// The extractor.
    pub extract: Extract,
}

/// Every record format, alphabetical.
pub const RECORD_FORMATS: &[RecordFormat] = &[
    RecordFormat {
        name: "cef",
        description: "ArcSight CEF lines (a syslog header is skipped)",
        extract: cef,
    },
    RecordFormat { name: "eve", description: "Suricata EVE JSON lines", extract: eve },
    RecordFormat {
        name: "jsonl",
        description: "JSON lines; observables from --field paths, or every string",
        extract: jsonl,
    },
    RecordFormat {
        name: "plain",
        description: "free-text lines (logs, lists): every address, domain, URL, email, hash",
        extract: plain,
    },
];

/// The record format called `name`.
pub fn record_format(name: &str) -> Option<&'static RecordFormat> {
    RECORD_FORMATS.iter().find(|f| f.name == name)
}

fn plain<'a>(line: &'a str, _: &[String], out: &mut Vec<Observable<'a>>) -> Result<(), String> {
    scan_text(line, |value| out.push(Observable { field: Cow::Borrowed("line"), value }));
    Ok(())
}

fn cef<'a>(line: &'a str, _: &[String], out: &mut Vec<Observable<'a>>) -> Result<(), String> {
    let record = crate::cef::parse(line).map_err(|e| e.to_string())?;
    let mut found = Vec::new();
    crate::cef::observables(&record, &mut found);
    out.extend(found.into_iter().map(|o| Observable {
        field: Cow::Owned(o.field.into_owned()),
        value: o.value.into_owned(),
    }));
    Ok(())
}

fn eve<'a>(line: &'a str, _: &[String], out: &mut Vec<Observable<'a>>) -> Result<(), String> {
    let event = crate::suricata::parse(line).map_err(|e| e.to_string())?;
    let mut found = Vec::new();
    crate::suricata::observables(&event, &mut found);
    out.extend(found);
    Ok(())
}

fn jsonl<'a>(
    line: &'a str,
    fields: &[String],
    out: &mut Vec<Observable<'a>>,
) -> Result<(), String> {
    let record = crate::jsonl::parse(line)?;
    let mut found = Vec::new();
    crate::jsonl::observables(&record, fields, &mut found);
    out.extend(found);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_alphabetical_and_found_by_name() {
        let names: Vec<_> = RECORD_FORMATS.iter().map(|f| f.name).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        let mut out = Vec::new();
        (record_format("plain").unwrap().extract)("a 192.0.2.1 b", &[], &mut out).unwrap();
        assert_eq!(out[0].value.text(), "192.0.2.1");
        assert!((record_format("cef").unwrap().extract)("nope", &[], &mut out).is_err());
        assert!(record_format("xml").is_none());
    }
}
