//! Header values built from template output or stored data: one line, no control
//! characters, bounded length, so no input can start a header of its own.

/// `value` as a safe header value: every control character (CR and LF included) becomes a
/// space, runs of whitespace collapse to one space, the ends are trimmed, and the result is
/// cut to at most `max_chars` characters.
pub fn sanitize(value: &str, max_chars: usize) -> String {
    let cleaned: String =
        value.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>();
    let collapsed = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed.chars().take(max_chars).collect()
}

/// Longest subject line kept (characters).
pub const MAX_SUBJECT_CHARS: usize = 200;

/// The subject with the ticket reference in front (`[TIPLINE-2026-000123] ...`), unless the
/// rendered subject already carries it.
pub fn subject_with_ticket(ticket: &str, rendered: &str) -> String {
    let subject = sanitize(rendered, MAX_SUBJECT_CHARS);
    let tag = format!("[{}]", sanitize(ticket, 100));
    if subject.contains(&tag) { subject } else { format!("{tag} {subject}").trim_end().to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_breaks_cannot_start_headers() {
        assert_eq!(
            sanitize("Alert\r\nBcc: victim@example.org", 200),
            "Alert Bcc: victim@example.org"
        );
        assert_eq!(sanitize("a\n\n\tb\u{0}c", 200), "a b c");
        assert_eq!(sanitize("  x  ", 200), "x");
        assert_eq!(sanitize("ééééé", 3), "ééé");
    }

    #[test]
    fn ticket_is_prefixed_once() {
        assert_eq!(subject_with_ticket("T-1", "Alert"), "[T-1] Alert");
        assert_eq!(subject_with_ticket("T-1", "Re: [T-1] Alert"), "Re: [T-1] Alert");
        assert_eq!(subject_with_ticket("T-1", "\r\n"), "[T-1]");
    }
}
