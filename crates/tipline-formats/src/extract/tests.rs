//! Table tests of the extractor.

use super::*;

/// Extract from `text` and compare `kind value` lines.
fn check(text: &str, expected: &[&str]) {
    let hits = extract(text.as_bytes(), ExtractOptions::default());
    let got: Vec<String> = hits.iter().map(|h| format!("{} {}", h.kind, h.value)).collect();
    assert_eq!(got, expected, "in {text:?}");
}

#[test]
fn basics() {
    check(
        "C2 at 185.178.209[.]193 and hxxp://evil[.]com/gate.php.",
        &["ipv4 185.178.209.193", "url http://evil.com/gate.php"],
    );
}
