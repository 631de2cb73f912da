//! A world for notifier tests: a fresh database with a partner organization and its
//! contacts, a stepping clock, and settings pointing at local servers.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use tipline_model::admin::{Contact, OrganizationInput};
use tipline_model::notify::{Classification, Notification, Severity};
use tipline_model::{ContactRole, OrgKind, Principal, Role, Tlp};
use tipline_notify::{
    Clock, EmailRequest, Notifier, NotifierSettings, RetryPolicy, SmtpSettings, SmtpTls,
};
use tipline_store::Store;
use tipline_testkit::smtp::SmtpServer;
use tipline_testkit::{TestBackend, TestDb};
use uuid::Uuid;

/// A clock tests move by hand.
#[derive(Debug)]
pub struct StepClock(Mutex<DateTime<Utc>>);

impl StepClock {
    pub fn advance(&self, by: chrono::Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for StepClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

pub struct World {
    /// Kept so the database lives as long as the world.
    _db: TestDb,
    pub store: Store,
    pub host: Principal,
    pub alpha: Uuid,
    pub clock: Arc<StepClock>,
    pub outbox: tempfile::TempDir,
}

/// The name of the partner: it carries a line break, which must never reach a header raw.
pub const ALPHA_NAME: &str = "Alpha Energy\r\nBcc: leak@attacker.example";

impl World {
    pub async fn new(backend: TestBackend) -> World {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let db = TestDb::new(backend).await;
        let store = db.store().await;
        let boot = store.bootstrap("CERT-XY", "admin@cert.example").await.unwrap().unwrap();
        let host = Principal {
            user_id: Some(boot.admin.id),
            org_id: boot.host.id,
            org_kind: OrgKind::Host,
            role: Role::Admin,
        };
        let alpha = store
            .viewer(host.clone())
            .create_organization(&OrganizationInput {
                name: ALPHA_NAME.into(),
                contacts: vec![
                    Contact { role: ContactRole::Security, email: "soc@alpha.example".into() },
                    Contact { role: ContactRole::Security, email: "ciso@alpha.example".into() },
                    Contact { role: ContactRole::Abuse, email: "abuse@alpha.example".into() },
                ],
                ..Default::default()
            })
            .await
            .unwrap()
            .id;
        let start = Utc.with_ymd_and_hms(2026, 3, 11, 9, 30, 0).unwrap();
        World {
            _db: db,
            store,
            host,
            alpha,
            clock: Arc::new(StepClock(Mutex::new(start))),
            outbox: tempfile::tempdir().unwrap(),
        }
    }

    /// Settings delivering to the outbox, with fast retries.
    pub fn settings(&self) -> NotifierSettings {
        let mut settings = NotifierSettings::new("cert@cert-xy.example", self.outbox.path());
        settings.sender.from_name = Some("CERT-XY".into());
        settings.sender.reply_to = Some("desk@cert-xy.example".into());
        settings.sender.signature = Some("CERT-XY Incident Desk\n+49 30 0000".into());
        settings.retry = RetryPolicy {
            max_attempts: 3,
            base: Duration::from_secs(60),
            max: Duration::from_secs(600),
        };
        settings
    }

    /// Settings delivering to `server` in `tls` mode, trusting its certificate.
    pub fn smtp_settings(
        &self,
        server: &SmtpServer,
        tls: SmtpTls,
        auth: Option<(&str, &str)>,
    ) -> NotifierSettings {
        let mut settings = self.settings();
        settings.smtp = Some(SmtpSettings {
            host: "127.0.0.1".into(),
            port: server.addr.port(),
            tls,
            username: auth.map(|(u, _)| u.to_string()),
            password: auth.map(|(_, p)| tipline_notify::Secret::new(p)),
            ca_pem: Some(server.cert_pem.clone().into_bytes()),
            timeout: Duration::from_secs(10),
            hello_name: Some("tipline.test".into()),
        });
        settings
    }

    pub fn notifier(&self, settings: NotifierSettings) -> Notifier {
        Notifier::new(self.store.clone(), settings).unwrap().with_clock(self.clock.clone())
    }

    pub async fn notification(&self, id: Uuid) -> Notification {
        self.store.viewer(self.host.clone()).get_notification(id).await.unwrap()
    }
}

/// An alert email to Alpha about `subject` for `reason`.
pub fn alert(world: &World, subject: &str, reason: &str) -> EmailRequest {
    EmailRequest {
        org_id: world.alpha,
        template: "alert-triage".into(),
        classification: Classification::C2Server,
        severity: Severity::High,
        tlp: Tlp::Amber,
        subject_ref: subject.into(),
        reason: reason.into(),
        context: serde_json::json!({
            "summary": "A host in your network talked to a known command-and-control server.",
            "source_ip": "192.0.2.7",
            "signature": "<ET MALWARE> beacon",
        }),
        contact_roles: None,
        ticket: None,
        idempotency_key: None,
    }
}

/// A parsed MIME entity: unfolded headers and the raw body.
#[derive(Debug)]
pub struct Entity<'a> {
    pub headers: Vec<(String, String)>,
    pub body: &'a [u8],
}

impl<'a> Entity<'a> {
    pub fn parse(bytes: &'a [u8]) -> Entity<'a> {
        let split = bytes.windows(4).position(|w| w == b"\r\n\r\n").expect("header/body separator");
        let head = std::str::from_utf8(&bytes[..split]).expect("ascii headers");
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.split("\r\n") {
            if line.starts_with(' ') || line.starts_with('\t') {
                let last = headers.last_mut().expect("continuation after a header");
                last.1.push(' ');
                last.1.push_str(line.trim());
            } else {
                let (name, value) =
                    line.split_once(':').unwrap_or_else(|| panic!("bad header line {line:?}"));
                headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
            }
        }
        Entity { headers, body: &bytes[split + 4..] }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str()).collect()
    }

    /// The `boundary` parameter of the Content-Type.
    pub fn boundary(&self) -> String {
        let content_type = self.header("content-type").expect("content-type");
        let at = content_type.find("boundary=").expect("boundary parameter") + 9;
        content_type[at..].split(';').next().unwrap().trim().trim_matches('"').to_string()
    }

    /// The body parts of a multipart entity, exactly as RFC 2046 delimits them: from after
    /// the delimiter line to before the CRLF that precedes the next delimiter.
    pub fn parts(&self) -> Vec<&'a [u8]> {
        let delimiter = format!("--{}", self.boundary());
        let body = self.body;
        let mut starts = Vec::new();
        let mut i = 0;
        while let Some(found) = find(&body[i..], delimiter.as_bytes()) {
            let at = i + found;
            if at == 0 || body[..at].ends_with(b"\r\n") {
                starts.push(at);
            }
            i = at + delimiter.len();
        }
        starts
            .windows(2)
            .map(|w| {
                let line_end = w[0] + find(&body[w[0]..], b"\r\n").unwrap() + 2;
                &body[line_end..w[1] - 2]
            })
            .collect()
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Decode a quoted-printable or 7bit/8bit part body to text.
pub fn decoded_text(part: &Entity<'_>) -> String {
    let body = String::from_utf8_lossy(part.body).into_owned();
    match part.header("content-transfer-encoding") {
        Some(enc) if enc.eq_ignore_ascii_case("quoted-printable") => {
            let joined = body.replace("=\r\n", "");
            let bytes = joined.as_bytes();
            let mut out = Vec::new();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'='
                    && i + 2 < bytes.len()
                    && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
                {
                    out.push(b);
                    i += 3;
                    continue;
                }
                out.push(bytes[i]);
                i += 1;
            }
            String::from_utf8_lossy(&out).into_owned()
        }
        Some(enc) if enc.eq_ignore_ascii_case("base64") => {
            use base64::Engine;
            let compact: String = body.split_whitespace().collect();
            String::from_utf8_lossy(
                &base64::engine::general_purpose::STANDARD.decode(compact).unwrap(),
            )
            .into_owned()
        }
        _ => body,
    }
}
