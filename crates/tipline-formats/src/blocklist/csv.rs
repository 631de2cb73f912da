//! CSV lists with a column mapping ([`CsvOptions`]): which column holds the value, and
//! optionally which hold a reference and a comment. Columns are header names
//! (case-insensitive) or 1-based numbers.
//!
//! Records stream from any [`Read`]er and come out as the same [`ListEntry`] items as plain
//! lists (a value may be an address, network, IPv4 range or any indicator). Lines starting
//! with the comment prefix are skipped, also before the header; blank lines are skipped.
//! A bad record is reported with its line and column and reading goes on; a header that
//! lacks a named column is reported once and ends the stream (no record could be read).

use std::io::Read;

use tipline_model::feed::CsvOptions;

use super::{ListEntry, ListError, MAX_LINE_BYTES, parse_value, spamhaus_reference};

/// Streams the entries of a CSV list.
pub struct CsvListReader<R> {
    records: ::csv::Reader<NewlineIndex<R>>,
    options: CsvOptions,
    columns: Option<Columns>,
    pending: std::vec::IntoIter<ListEntry>,
    failed: bool,
    record: ::csv::ByteRecord,
}

/// A reader that remembers where its newlines are, so a record's byte offset gives its
/// line (the csv crate does not count blank lines).
struct NewlineIndex<R> {
    inner: R,
    consumed: u64,
    newlines: Vec<u64>,
}

impl<R: Read> Read for NewlineIndex<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for (i, &b) in buf[..n].iter().enumerate() {
            if b == b'\n' {
                self.newlines.push(self.consumed + i as u64);
            }
        }
        self.consumed += n as u64;
        Ok(n)
    }
}

impl<R> NewlineIndex<R> {
    /// 1-based line of byte `offset`.
    fn line_of(&self, offset: u64) -> usize {
        self.newlines.partition_point(|&newline| newline < offset) + 1
    }
}

/// Resolved 0-based positions of the mapped columns, and how to name them in errors.
#[derive(Debug, Clone)]
struct Columns {
    value: (usize, String),
    reference: Option<(usize, String)>,
    comment: Option<(usize, String)>,
}

impl<R: Read> CsvListReader<R> {
    /// Read `reader` as CSV mapped by `options` (checked by `FeedInput::check`; a bad
    /// delimiter falls back to `,`).
    pub fn new(reader: R, options: &CsvOptions) -> Self {
        let records = ::csv::ReaderBuilder::new()
            .delimiter(options.delimiter_byte().unwrap_or(b','))
            .has_headers(false)
            .flexible(true)
            .from_reader(NewlineIndex { inner: reader, consumed: 0, newlines: Vec::new() });
        CsvListReader {
            records,
            options: options.clone(),
            columns: None,
            pending: Vec::new().into_iter(),
            failed: false,
            record: ::csv::ByteRecord::new(),
        }
    }

    /// Resolve the mapped columns against `header` (or, without a header, by number).
    fn resolve(&self, header: Option<&[String]>) -> Result<Columns, String> {
        let find = |column: &str| -> Result<(usize, String), String> {
            let column = column.trim();
            if let Ok(number) = column.parse::<usize>()
                && number >= 1
            {
                return Ok((number - 1, number.to_string()));
            }
            let header = header.unwrap_or_default();
            header
                .iter()
                .position(|name| name.trim().eq_ignore_ascii_case(column))
                .map(|i| (i, column.to_string()))
                .ok_or_else(|| {
                    format!("column `{column}` is not in the header ({})", header.join(", "))
                })
        };
        Ok(Columns {
            value: find(&self.options.value_column)?,
            reference: self.options.reference_column.as_deref().map(find).transpose()?,
            comment: self.options.comment_column.as_deref().map(find).transpose()?,
        })
    }

    fn is_comment_or_blank(&self, fields: &[String]) -> bool {
        let first = fields.first().map(|f| f.trim_start()).unwrap_or_default();
        let prefix = self.options.comment_prefix.as_str();
        (fields.iter().all(|f| f.trim().is_empty()))
            || (!prefix.is_empty() && first.starts_with(prefix))
    }

    fn entries(&self, line: usize, fields: &[String]) -> Result<Vec<ListEntry>, ListError> {
        let columns = self.columns.as_ref().expect("resolved before records");
        let cell = |(index, _): &(usize, String)| {
            fields.get(*index).map(|f| f.trim()).filter(|f| !f.is_empty())
        };
        let (_, value_name) = &columns.value;
        let value = cell(&columns.value).ok_or_else(|| ListError {
            line,
            column: Some(value_name.clone()),
            reason: "no value".into(),
        })?;
        let reference = columns.reference.as_ref().and_then(cell).map(str::to_string);
        let comment = columns.comment.as_ref().and_then(cell).map(str::to_string);
        let reference = reference.or_else(|| comment.as_deref().and_then(spamhaus_reference));
        let indicators = parse_value(value).map_err(|reason| ListError {
            line,
            column: Some(value_name.clone()),
            reason,
        })?;
        Ok(indicators
            .into_iter()
            .map(|indicator| ListEntry {
                line,
                indicator,
                reference: reference.clone(),
                comment: comment.clone(),
            })
            .collect())
    }
}

impl<R: Read> Iterator for CsvListReader<R> {
    type Item = Result<ListEntry, ListError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(entry) = self.pending.next() {
                return Some(Ok(entry));
            }
            if self.failed {
                return None;
            }
            let offset_before = self.records.position().byte();
            match self.records.read_byte_record(&mut self.record) {
                Ok(false) => return None,
                Ok(true) => {}
                Err(e) => {
                    let offset = e.position().map_or(offset_before, |p| p.byte());
                    let line = self.records.get_ref().line_of(offset);
                    if matches!(e.kind(), ::csv::ErrorKind::Io(_)) {
                        self.failed = true;
                    }
                    return Some(Err(ListError::new(line, format!("malformed csv: {e}"))));
                }
            }
            // The record's own position may point at blank lines skipped before it; the
            // byte before the reader's position is the record's last (terminating) byte.
            let end = self.records.position().byte();
            let line = self.records.get_ref().line_of(end.saturating_sub(1).max(offset_before));
            if self.record.as_slice().len() > MAX_LINE_BYTES {
                return Some(Err(ListError::new(
                    line,
                    format!("record longer than {MAX_LINE_BYTES} bytes"),
                )));
            }
            let mut fields = Vec::with_capacity(self.record.len());
            for (i, field) in self.record.iter().enumerate() {
                match std::str::from_utf8(field) {
                    Ok(text) => fields.push(text.to_string()),
                    Err(e) => {
                        return Some(Err(ListError {
                            line,
                            column: Some((i + 1).to_string()),
                            reason: format!("not UTF-8 (byte {})", e.valid_up_to() + 1),
                        }));
                    }
                }
            }
            if self.is_comment_or_blank(&fields) {
                continue;
            }
            if self.columns.is_none() {
                let header = self.options.has_header.then_some(fields.as_slice());
                match self.resolve(header) {
                    Ok(columns) => self.columns = Some(columns),
                    Err(reason) => {
                        self.failed = true;
                        return Some(Err(ListError::new(line, reason)));
                    }
                }
                if self.options.has_header {
                    continue;
                }
            }
            match self.entries(line, &fields) {
                Ok(entries) => self.pending = entries.into_iter(),
                Err(error) => return Some(Err(error)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: impl AsRef<[u8]>, options: &CsvOptions) -> (Vec<ListEntry>, Vec<String>) {
        let (mut entries, mut errors) = (Vec::new(), Vec::new());
        for item in CsvListReader::new(text.as_ref(), options) {
            match item {
                Ok(entry) => entries.push(entry),
                Err(error) => errors.push(error.to_string()),
            }
        }
        (entries, errors)
    }

    fn values(entries: &[ListEntry]) -> Vec<(usize, &str, Option<&str>)> {
        entries
            .iter()
            .map(|e| (e.line, e.indicator.value.as_str(), e.reference.as_deref()))
            .collect()
    }

    #[test]
    fn named_columns_after_comment_lines() {
        let text = "# Feodo-style export\n# generated 2024-01-01\n\
                    first_seen,dst_ip,dst_port,malware,id\n\
                    2024-01-01,192.0.2.10,443,Dridex,F-1\n\
                    \n\
                    2024-01-02,\"198.51.100.0/24\",8080,QakBot,F-2\n";
        let options = CsvOptions {
            reference_column: Some("ID".into()),
            comment_column: Some("malware".into()),
            ..CsvOptions::new("dst_ip")
        };
        let (entries, errors) = read(text, &options);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            values(&entries),
            [(4, "192.0.2.10", Some("F-1")), (6, "198.51.100.0/24", Some("F-2"))]
        );
        assert_eq!(entries[1].comment.as_deref(), Some("QakBot"));
    }

    #[test]
    fn numbered_columns_without_header_and_other_delimiters() {
        let text = "192.0.2.1;SBL100\n203.0.113.0/28;SBL200\n";
        let options = CsvOptions {
            delimiter: ";".into(),
            has_header: false,
            comment_column: Some("2".into()),
            ..CsvOptions::new("1")
        };
        let (entries, errors) = read(text, &options);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            values(&entries),
            [(1, "192.0.2.1", Some("SBL100")), (2, "203.0.113.0/28", Some("SBL200"))],
            "a Spamhaus reference in the comment column becomes the reference"
        );
        let tabs = CsvOptions { delimiter: "\\t".into(), ..options };
        let (entries, _) = read("evil.example\tx\n", &tabs);
        assert_eq!(entries[0].indicator.value, "evil.example");
    }

    #[test]
    fn bad_records_name_line_and_column_and_reading_goes_on() {
        let text = "ip,note\n192.0.2.300,a\n,b\n\"unterminated\n";
        let (entries, errors) = read(text, &CsvOptions::new("ip"));
        assert!(entries.is_empty());
        assert_eq!(
            errors[..2],
            [
                "line 2, column ip: invalid indicator `192.0.2.300`: ipv4: octet `300` is greater than 255",
                "line 3, column ip: no value",
            ]
        );
        let (entries, errors) = read(b"ip\n192.0.2.1\n\xff\xfe\n", &CsvOptions::new("ip"));
        assert_eq!(values(&entries), [(2, "192.0.2.1", None)]);
        assert_eq!(errors.len(), 1, "{errors:?}");
    }

    #[test]
    fn a_missing_column_is_reported_once() {
        let (entries, errors) = read("a,b\n1,2\n3,4\n", &CsvOptions::new("ip"));
        assert!(entries.is_empty());
        assert_eq!(errors, ["line 1: column `ip` is not in the header (a, b)"]);
        let (_, errors) = read("1,2\n", &CsvOptions { has_header: false, ..CsvOptions::new("5") });
        assert_eq!(errors, ["line 1, column 5: no value"]);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in ".{0,300}", column in "[a-z0-9]{1,3}") {
            let _ = CsvListReader::new(text.as_bytes(), &CsvOptions::new(column)).count();
        }
    }
}
