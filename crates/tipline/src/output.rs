//! Printing results: aligned plain-text tables and `key  value` lines for people, JSON for
//! `--json`. Everything goes through a locked stdout so a closed pipe is an error, not a panic.

use std::io::Write;

use chrono::{DateTime, Utc};
use serde::Serialize;

/// Print `value` as pretty JSON.
pub fn json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    // Serialize first: serde_json's error would hide an `io::Error` such as a closed pipe.
    let text = serde_json::to_string_pretty(value)?;
    lines([text])
}

/// Print lines of text.
pub fn lines<I, S>(lines: I) -> anyhow::Result<()>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out = std::io::stdout().lock();
    for line in lines {
        writeln!(out, "{}", line.as_ref())?;
    }
    out.flush()?;
    Ok(())
}

/// Print `key  value` pairs with the values aligned.
pub fn fields(pairs: &[(&str, String)]) -> anyhow::Result<()> {
    lines(format_fields(pairs))
}

fn format_fields(pairs: &[(&str, String)]) -> Vec<String> {
    let width = pairs.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
    pairs
        .iter()
        .map(|(key, value)| format!("{key:<width$}  {value}").trim_end().to_string())
        .collect()
}

/// A table printed with aligned columns under upper-case headers.
#[derive(Debug)]
pub struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with these column headers.
    pub fn new(headers: &[&'static str]) -> Table {
        Table { headers: headers.to_vec(), rows: Vec::new() }
    }

    /// Append a row (one cell per header).
    pub fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.headers.len());
        self.rows.push(cells);
    }

    /// Print the table, or `empty` when it has no rows.
    pub fn print(&self, empty: &str) -> anyhow::Result<()> {
        if self.rows.is_empty() {
            return lines([empty]);
        }
        lines(self.render())
    }

    fn render(&self) -> Vec<String> {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let render_row = |cells: &mut dyn Iterator<Item = &str>| {
            let line: Vec<String> =
                cells.zip(&widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
            line.join("  ").trim_end().to_string()
        };
        let mut out = vec![render_row(&mut self.headers.iter().copied())];
        for row in &self.rows {
            out.push(render_row(&mut row.iter().map(String::as_str)));
        }
        out
    }
}

/// A timestamp for tables: `2025-01-31 12:00:00Z`.
pub fn time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%SZ").to_string()
}

/// An optional value, `-` when absent.
pub fn or_dash(value: Option<impl ToString>) -> String {
    value.map(|v| v.to_string()).filter(|v| !v.is_empty()).unwrap_or_else(|| "-".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns() {
        let mut table = Table::new(&["NAME", "KIND"]);
        table.row(vec!["Host".into(), "host".into()]);
        table.row(vec!["CERT-XY Überwachung".into(), "partner".into()]);
        assert_eq!(
            table.render(),
            [
                "NAME                 KIND",
                "Host                 host",
                "CERT-XY Überwachung  partner"
            ]
        );
    }

    #[test]
    fn fields_align_values() {
        let pairs = [("name", "Host".to_string()), ("description", String::new())];
        assert_eq!(format_fields(&pairs), ["name         Host", "description"]);
    }
}
