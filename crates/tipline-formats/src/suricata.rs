//! Suricata EVE JSON events (one JSON object per line) and the observables they carry.
//!
//! Read from every event type that has them: `src_ip`, `dest_ip`; `http.hostname`,
//! `http.url` (a path is joined to the host as `http://host/path`), `http.http_refer`;
//! `tls.sni`; `dns.rrname`, `dns.rdata` and the answers of EVE v2 (`dns.answers[].rdata`,
//! `dns.grouped.*[]`); `fileinfo.md5|sha1|sha256`; `smtp.helo`, `smtp.mail_from`,
//! `smtp.rcpt_to[]`, `email.from`, `email.to[]`. Values are classified
//! ([`crate::observable::classify`]), so a field holding an address where a name is
//! expected (`http.hostname: "192.168.86.28"`) is read as an address.

use std::borrow::Cow;

use serde_json::Value;

use crate::observable::{Observable, Observed, classify};

/// Why a line is not an EVE event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an EVE JSON object: {0}")]
pub struct EveError(pub String);

/// Parse one EVE line.
pub fn parse(line: &str) -> Result<Value, EveError> {
    let value: Value = serde_json::from_str(line).map_err(|e| EveError(e.to_string()))?;
    if !value.is_object() {
        return Err(EveError("the line is JSON but not an object".into()));
    }
    Ok(value)
}

/// Paths (`section.field`) whose string values are observables.
const PATHS: &[&str] = &[
    "src_ip",
    "dest_ip",
    "http.hostname",
    "http.http_refer",
    "tls.sni",
    "dns.rrname",
    "dns.rdata",
    "fileinfo.md5",
    "fileinfo.sha1",
    "fileinfo.sha256",
    "smtp.helo",
    "smtp.mail_from",
    "smtp.rcpt_to",
    "email.from",
    "email.to",
];

/// The observables of an EVE event, each named by its path.
pub fn observables(event: &Value, out: &mut Vec<Observable<'static>>) {
    for path in PATHS {
        let Some(value) = lookup(event, path) else { continue };
        each_string(value, &mut |text| push(out, path, text));
    }
    if let Some(url) = lookup(event, "http.url").and_then(Value::as_str) {
        let full = if url.starts_with('/') {
            lookup(event, "http.hostname")
                .and_then(Value::as_str)
                .map(|host| format!("http://{host}{url}"))
        } else {
            Some(url.to_string())
        };
        if let Some(full) = full
            && let Some(Observed::Url(u)) = classify(&full)
        {
            out.push(Observable {
                field: Cow::Borrowed("http.url"),
                value: Observed::Url(Cow::Owned(u.into_owned())),
            });
        }
    }
    if let Some(Value::Array(answers)) = lookup(event, "dns.answers") {
        for answer in answers {
            for key in ["rrname", "rdata"] {
                if let Some(text) = answer.get(key).and_then(Value::as_str) {
                    push(
                        out,
                        if key == "rdata" { "dns.answers.rdata" } else { "dns.answers.rrname" },
                        text,
                    );
                }
            }
        }
    }
    if let Some(Value::Object(grouped)) = lookup(event, "dns.grouped") {
        for values in grouped.values() {
            each_string(values, &mut |text| push(out, "dns.grouped", text));
        }
    }
}

fn push(out: &mut Vec<Observable<'static>>, field: &'static str, text: &str) {
    if let Some(observed) = classify(text) {
        // Mail fields carry display names: `"Eve" <eve@example.org>`.
        out.push(Observable { field: Cow::Borrowed(field), value: observed.into_owned() });
    } else if let Some(inner) = text.rsplit_once('<').and_then(|(_, r)| r.strip_suffix('>'))
        && let Some(observed) = classify(inner)
    {
        out.push(Observable { field: Cow::Borrowed(field), value: observed.into_owned() });
    }
}

/// The value at a dotted path of objects.
pub fn lookup<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(value, |v, key| v.get(key))
}

/// Call `f` for a string, or for each string of an array.
pub fn each_string(value: &Value, f: &mut dyn FnMut(&str)) {
    match value {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter().for_each(|item| each_string(item, f)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observed(line: &str) -> Vec<String> {
        let event = parse(line).unwrap();
        let mut out = Vec::new();
        observables(&event, &mut out);
        out.iter().map(|o| format!("{}={}", o.field, o.value.text())).collect()
    }

    #[test]
    fn alert_with_tls_and_http() {
        let line = r#"{"timestamp":"2026-03-02T10:00:00.000000+0000","event_type":"alert","src_ip":"192.168.7.10","src_port":50000,"dest_ip":"198.51.100.70","dest_port":443,"alert":{"signature":"TEST alert"},"tls":{"sni":"L2.example"},"http":{"hostname":"evil.example","url":"\/dd.xml"}}"#;
        assert_eq!(
            observed(line),
            [
                "src_ip=192.168.7.10",
                "dest_ip=198.51.100.70",
                "http.hostname=evil.example",
                "tls.sni=l2.example",
                "http.url=http://evil.example/dd.xml",
            ]
        );
    }

    #[test]
    fn dns_fileinfo_and_mail() {
        let line = r#"{"event_type":"dns","src_ip":"2001:db8::1","dest_ip":"192.0.2.53","dns":{"type":"answer","rrname":"clients.mail.example","rdata":"203.0.113.1","answers":[{"rrname":"x.example","rdata":"192.0.2.9"}],"grouped":{"A":["192.0.2.10"]}},"fileinfo":{"md5":"0123456789abcdef0123456789abcdef"},"email":{"from":"\"Eve\" <eve@evil.example>","to":["a@b.example"]}}"#;
        assert_eq!(
            observed(line),
            [
                "src_ip=2001:db8::1",
                "dest_ip=192.0.2.53",
                "dns.rrname=clients.mail.example",
                "dns.rdata=203.0.113.1",
                "fileinfo.md5=0123456789abcdef0123456789abcdef",
                "email.from=eve@evil.example",
                "email.to=a@b.example",
                "dns.answers.rrname=x.example",
                "dns.answers.rdata=192.0.2.9",
                "dns.grouped=192.0.2.10",
            ]
        );
    }

    #[test]
    fn not_eve() {
        assert!(parse("[1]").is_err());
        assert!(parse("{").unwrap_err().to_string().starts_with("not an EVE JSON object: EOF"));
    }
}
