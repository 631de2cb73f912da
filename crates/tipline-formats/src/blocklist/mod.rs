//! Plain blocklists: one entry per line, as published by FireHOL (`.netset`, `.ipset`),
//! Spamhaus (DROP/EDROP: `1.10.16.0/20 ; SBL256894`), and most feeds that list addresses,
//! networks or domains one per line.
//!
//! Read line by line from any [`BufRead`], so a list of any size streams. Per line:
//!
//! - blank lines and lines starting with `#`, `;` or `//` are comments; FireHOL-style
//!   header comments (`# Maintainer      : Spamhaus.org`) are collected into [`ListHeader`];
//! - an entry is the first whitespace-separated token; text after `;` or `#` is its
//!   comment, and a Spamhaus reference in it (`SBL256894`) becomes the entry's `reference`;
//! - an IPv4 range `a.b.c.d-e.f.g.h` expands to the smallest set of CIDRs covering it;
//! - every entry is canonicalized like any indicator (`1.2.3.4/32` becomes `1.2.3.4`, a
//!   network with host bits set is an error naming the network it should be).
//!
//! Bad lines are reported with their line number and do not stop the reader: the caller
//! decides whether one bad line rejects the whole list (the default for imports) or is
//! skipped (`--lenient`).
//!
//! [`csv::CsvListReader`] reads CSV lists with a column mapping into the same entries.

pub mod csv;

use std::io::BufRead;
use std::net::Ipv4Addr;

use tipline_model::{Canonical, IndicatorKind, canonicalize, detect};

/// One entry of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListEntry {
    /// 1-based line number.
    pub line: usize,
    /// The canonical indicator.
    pub indicator: Canonical,
    /// A reference the list gives for the entry (Spamhaus `SBL…`), if any.
    pub reference: Option<String>,
    /// The rest of the line's comment, if any.
    pub comment: Option<String>,
}

/// A line that is not a valid entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}{}: {reason}", column.as_ref().map(|c| format!(", column {c}")).unwrap_or_default())]
pub struct ListError {
    /// 1-based line number.
    pub line: usize,
    /// The column (CSV: its header name or 1-based number), when the problem is in one.
    pub column: Option<String>,
    /// What is wrong, naming the offending text.
    pub reason: String,
}

impl ListError {
    /// A problem with line `line` as a whole.
    pub fn new(line: usize, reason: impl Into<String>) -> ListError {
        ListError { line, column: None, reason: reason.into() }
    }
}

/// What a list says about itself in its header comments (FireHOL's `# Key : value` lines).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListHeader {
    /// `Key : value` pairs in order of appearance, keys as written.
    pub fields: Vec<(String, String)>,
}

impl ListHeader {
    /// The value of a header field, compared case-insensitively (`maintainer`).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str())
    }
}

/// Longest line accepted, in bytes; longer lines are reported, not read into memory whole.
pub const MAX_LINE_BYTES: usize = 4096;

/// Streams the entries of a list: `Ok(entry)` per entry (several for a range), `Err` per
/// bad line. An I/O error ends the stream; [`ListReader::io_error`] then returns it.
pub struct ListReader<R> {
    reader: R,
    line: usize,
    buffer: Vec<u8>,
    pending: std::vec::IntoIter<ListEntry>,
    header: ListHeader,
    in_header: bool,
    io_error: Option<std::io::Error>,
}

impl<R: BufRead> ListReader<R> {
    /// Read a list from `reader`.
    pub fn new(reader: R) -> Self {
        ListReader {
            reader,
            line: 0,
            buffer: Vec::new(),
            pending: Vec::new().into_iter(),
            header: ListHeader::default(),
            in_header: true,
            io_error: None,
        }
    }

    /// Header fields seen so far (all of them once the first entry has been read).
    pub fn header(&self) -> &ListHeader {
        &self.header
    }

    /// The I/O error that ended the stream early, if one did.
    pub fn io_error(&mut self) -> Option<std::io::Error> {
        self.io_error.take()
    }

    /// Read one line into `buffer`, at most `MAX_LINE_BYTES` of it; `Ok(false)` at the end.
    fn read_line(&mut self) -> std::io::Result<Option<bool>> {
        self.buffer.clear();
        let mut too_long = false;
        loop {
            let available = self.reader.fill_buf()?;
            if available.is_empty() {
                return Ok(if self.buffer.is_empty() && !too_long { None } else { Some(too_long) });
            }
            let (chunk, found_newline) = match available.iter().position(|&b| b == b'\n') {
                Some(i) => (&available[..i], Some(i)),
                None => (available, None),
            };
            if self.buffer.len() + chunk.len() > MAX_LINE_BYTES {
                too_long = true;
            } else {
                self.buffer.extend_from_slice(chunk);
            }
            let consumed = found_newline.map_or(available.len(), |i| i + 1);
            self.reader.consume(consumed);
            if found_newline.is_some() {
                return Ok(Some(too_long));
            }
        }
    }

    fn parse_line(&mut self, text: &str) -> Result<Vec<ListEntry>, String> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Ok(Vec::new());
        }
        if let Some(comment) = trimmed
            .strip_prefix('#')
            .or_else(|| trimmed.strip_prefix(';'))
            .or_else(|| trimmed.strip_prefix("//"))
        {
            if self.in_header
                && let Some((key, value)) = comment.split_once(':')
                && !key.trim().is_empty()
                && key.trim().len() <= 40
                && !key.contains("http")
            {
                self.header.fields.push((key.trim().to_string(), value.trim().to_string()));
            }
            return Ok(Vec::new());
        }
        self.in_header = false;
        let (value, comment) = split_comment(trimmed);
        let reference = comment.and_then(spamhaus_reference);
        let comment = comment.map(str::to_string).filter(|c| !c.is_empty());
        let indicators = parse_value(value)?;
        Ok(indicators
            .into_iter()
            .map(|indicator| ListEntry {
                line: self.line,
                indicator,
                reference: reference.clone(),
                comment: comment.clone(),
            })
            .collect())
    }
}

impl<R: BufRead> Iterator for ListReader<R> {
    type Item = Result<ListEntry, ListError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(entry) = self.pending.next() {
                return Some(Ok(entry));
            }
            let too_long = match self.read_line() {
                Ok(None) => return None,
                Ok(Some(too_long)) => too_long,
                Err(e) => {
                    self.io_error = Some(e);
                    return None;
                }
            };
            self.line += 1;
            let line = self.line;
            if too_long {
                return Some(Err(ListError::new(
                    line,
                    format!("line longer than {MAX_LINE_BYTES} bytes"),
                )));
            }
            let buffer = std::mem::take(&mut self.buffer);
            let text = match std::str::from_utf8(&buffer) {
                Ok(text) => text.trim_end_matches('\r').to_string(),
                Err(e) => {
                    self.buffer = buffer;
                    return Some(Err(ListError::new(
                        line,
                        format!("not UTF-8 (byte {})", e.valid_up_to() + 1),
                    )));
                }
            };
            self.buffer = buffer;
            match self.parse_line(&text) {
                Ok(entries) => self.pending = entries.into_iter(),
                Err(reason) => return Some(Err(ListError::new(line, reason))),
            }
        }
    }
}

/// Split `1.2.3.0/24 ; SBL123` or `1.2.3.4 # note` into the value and the comment.
fn split_comment(line: &str) -> (&str, Option<&str>) {
    let cut = line.find([';', '#']).unwrap_or(line.len());
    let (before, after) = line.split_at(cut);
    let value = before.split_whitespace().next().unwrap_or_default();
    let comment = after.get(1..).map(str::trim);
    (value, comment)
}

/// A Spamhaus listing reference (`SBL256894`) in a comment.
pub(crate) fn spamhaus_reference(comment: &str) -> Option<String> {
    comment
        .split(|c: char| !c.is_ascii_alphanumeric())
        .find(|word| {
            word.len() > 3
                && word[..3].eq_ignore_ascii_case("SBL")
                && word[3..].bytes().all(|b| b.is_ascii_digit())
        })
        .map(str::to_ascii_uppercase)
}

/// One entry's value: an address, network, IPv4 range, or any other indicator.
pub(crate) fn parse_value(value: &str) -> Result<Vec<Canonical>, String> {
    if let Some((start, end)) = value.split_once('-')
        && let (Ok(start), Ok(end)) = (start.parse::<Ipv4Addr>(), end.parse::<Ipv4Addr>())
    {
        if start > end {
            return Err(format!("range `{value}` ends before it starts"));
        }
        return Ok(range_to_cidrs(start, end));
    }
    // `address/prefix` is a network; other values with a slash (URLs) are detected.
    let looks_like_network = value.split_once('/').is_some_and(|(address, prefix)| {
        !address.is_empty()
            && address.bytes().all(|b| b.is_ascii_hexdigit() || b == b'.' || b == b':')
            && prefix.bytes().all(|b| b.is_ascii_digit())
    });
    let parsed =
        if looks_like_network { canonicalize(IndicatorKind::Cidr, value) } else { detect(value) };
    parsed.map(|c| vec![c]).map_err(|e| e.to_string())
}

/// The smallest list of CIDR blocks covering `start..=end`.
pub fn range_to_cidrs(start: Ipv4Addr, end: Ipv4Addr) -> Vec<Canonical> {
    let (mut lo, hi) = (u64::from(u32::from(start)), u64::from(u32::from(end)));
    let mut out = Vec::new();
    while lo <= hi {
        // Largest block aligned at `lo` that does not pass `hi`.
        let mut size = if lo == 0 { 1u64 << 32 } else { 1u64 << lo.trailing_zeros().min(32) };
        while lo + size - 1 > hi {
            size >>= 1;
        }
        let prefix = 32 - size.trailing_zeros();
        let address = Ipv4Addr::from(lo as u32);
        out.push(if prefix == 32 {
            Canonical { kind: IndicatorKind::Ipv4, value: address.to_string() }
        } else {
            Canonical { kind: IndicatorKind::Cidr, value: format!("{address}/{prefix}") }
        });
        lo += size;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (Vec<ListEntry>, Vec<ListError>, ListHeader) {
        let mut reader = ListReader::new(text.as_bytes());
        let (mut entries, mut errors) = (Vec::new(), Vec::new());
        for item in reader.by_ref() {
            match item {
                Ok(entry) => entries.push(entry),
                Err(error) => errors.push(error),
            }
        }
        assert!(reader.io_error().is_none());
        (entries, errors, reader.header().clone())
    }

    fn values(entries: &[ListEntry]) -> Vec<String> {
        entries.iter().map(|e| e.indicator.value.clone()).collect()
    }

    #[test]
    fn firehol_netset_with_header() {
        let text = "#\n# spamhaus_drop\n#\n# Maintainer      : Spamhaus.org\n\
                    # List source URL : http://www.spamhaus.org/drop/drop.txt\n#\n\
                    1.10.16.0/20\n1.19.0.0/16\n";
        let (entries, errors, header) = read(text);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(values(&entries), ["1.10.16.0/20", "1.19.0.0/16"]);
        assert_eq!(entries[0].line, 7);
        assert_eq!(header.get("maintainer"), Some("Spamhaus.org"));
        assert_eq!(header.get("List source URL"), Some("http://www.spamhaus.org/drop/drop.txt"));
    }

    #[test]
    fn spamhaus_drop_references() {
        let text = "; Spamhaus DROP List 2024/01/01 - (c) 2024 The Spamhaus Project\n\
                    ; Last-Modified: Mon, 01 Jan 2024 00:00:00 GMT\n\
                    1.10.16.0/20 ; SBL256894\n\
                    2.56.192.0/22 ; sbl459831 \r\n";
        let (entries, errors, _) = read(text);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(values(&entries), ["1.10.16.0/20", "2.56.192.0/22"]);
        assert_eq!(entries[0].reference.as_deref(), Some("SBL256894"));
        assert_eq!(entries[1].reference.as_deref(), Some("SBL459831"));
    }

    #[test]
    fn addresses_ranges_domains_and_comments() {
        let text = "192.0.2.1\n192.0.2.7/32 # single\n2001:DB8::1\n198.51.100.0-198.51.100.9\n\
                    evil[.]example\nhxxp://evil[.]example/a/b\n";
        let (entries, errors, _) = read(text);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            values(&entries),
            [
                "192.0.2.1",
                "192.0.2.7",
                "2001:db8::1",
                "198.51.100.0/29",
                "198.51.100.8/31",
                "evil.example",
                "http://evil.example/a/b"
            ]
        );
        assert_eq!(entries[1].comment.as_deref(), Some("single"));
        assert_eq!(entries[4].line, 4, "a range's blocks keep the range's line");
    }

    #[test]
    fn bad_lines_are_reported_with_their_number_and_reading_goes_on() {
        let text = "10.0.0.1/8\n192.0.2.300\n198.51.100.9-198.51.100.1\n203.0.113.5\n";
        let (entries, errors, _) = read(text);
        assert_eq!(values(&entries), ["203.0.113.5"]);
        let messages: Vec<_> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "line 1: invalid cidr `10.0.0.1/8`: host bits set; the network is 10.0.0.0/8",
                "line 2: invalid indicator `192.0.2.300`: ipv4: octet `300` is greater than 255",
                "line 3: range `198.51.100.9-198.51.100.1` ends before it starts",
            ]
        );
    }

    #[test]
    fn long_and_binary_lines_are_errors_not_crashes() {
        let mut text = "x".repeat(MAX_LINE_BYTES + 10).into_bytes();
        text.extend_from_slice(b"\n\xff\xfe\n192.0.2.1");
        let mut reader = ListReader::new(text.as_slice());
        let items: Vec<_> = reader.by_ref().collect();
        assert_eq!(items.len(), 3);
        assert_eq!(
            items[0].as_ref().unwrap_err().to_string(),
            "line 1: line longer than 4096 bytes"
        );
        assert_eq!(items[1].as_ref().unwrap_err().to_string(), "line 2: not UTF-8 (byte 1)");
        assert_eq!(items[2].as_ref().unwrap().indicator.value, "192.0.2.1");
    }

    #[test]
    fn ranges_cover_exactly() {
        let cidrs = range_to_cidrs("0.0.0.0".parse().unwrap(), "255.255.255.255".parse().unwrap());
        assert_eq!(cidrs.iter().map(|c| c.value.as_str()).collect::<Vec<_>>(), ["0.0.0.0/0"]);
        let cidrs = range_to_cidrs("10.0.0.1".parse().unwrap(), "10.0.0.1".parse().unwrap());
        assert_eq!(cidrs[0].value, "10.0.0.1");
    }

    proptest::proptest! {
        #[test]
        fn range_blocks_are_disjoint_and_cover_the_range(a: u32, len in 0u32..100_000) {
            let start = a.min(u32::MAX - len);
            let end = start + len;
            let blocks = range_to_cidrs(Ipv4Addr::from(start), Ipv4Addr::from(end));
            let mut next = u64::from(start);
            for block in blocks {
                let (address, prefix) = match block.value.split_once('/') {
                    Some((a, p)) => (a.parse::<Ipv4Addr>().unwrap(), p.parse::<u32>().unwrap()),
                    None => (block.value.parse::<Ipv4Addr>().unwrap(), 32),
                };
                proptest::prop_assert_eq!(u64::from(u32::from(address)), next);
                next += 1u64 << (32 - prefix);
            }
            proptest::prop_assert_eq!(next, u64::from(end) + 1);
        }

        #[test]
        fn never_panics(text in ".{0,300}") {
            let _ = ListReader::new(text.as_bytes()).count();
        }
    }
}
