//! Credentials never leave through errors, logs, debug output or status reports.

use std::io::Write;
use std::sync::{Arc, Mutex};

use tipline_enrich::{LookupOptions, Secret, Subject};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{enricher, nothing_enabled, shodan_config};

const KEY: &str = "sk-live-7f3a9c1e5b";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_key_appears_in_no_error_log_or_report() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    // The server echoes the request URL (with the key) in its error, as some proxies do.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_string(format!(
            r#"{{"error": "bad key in /shodan/host/192.0.2.1?key={KEY}"}}"#
        )))
        .mount(&server)
        .await;
    let mut config = shodan_config(&server.uri());
    config.shodan.api_key = Some(Secret::new(KEY));
    let subject = Subject::parse("192.0.2.1").unwrap();
    let enricher = enricher(&config, None);
    let error = enricher.lookup("shodan", &subject, LookupOptions::default()).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "shodan: credentials refused: HTTP 401: bad key in /shodan/host/192.0.2.1?key=*** (permanent)"
    );

    // A connection failure (nothing listens) must not print the URL with its key either.
    let mut config = shodan_config("http://127.0.0.1:9");
    config.shodan.api_key = Some(Secret::new(KEY));
    config.shodan.max_retries = Some(0);
    let refused = crate::support::enricher(&config, None)
        .lookup("shodan", &subject, LookupOptions::default())
        .await
        .unwrap_err();
    assert!(refused.to_string().starts_with("shodan: connection failed: "), "{refused}");

    let mut censys = nothing_enabled();
    censys.censys.enabled = true;
    censys.censys.token = Some(Secret::new(KEY));
    let everything = [
        error.to_string(),
        refused.to_string(),
        serde_json::to_string(&error).unwrap(),
        serde_json::to_string(&enricher.statuses()).unwrap(),
        format!("{config:?}"),
        format!("{censys:?}"),
        serde_json::to_string(&config).unwrap(),
        String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned(),
    ];
    for text in everything {
        assert!(!text.contains(KEY), "the key leaked: {text}");
    }
    assert!(!captured.0.lock().unwrap().is_empty(), "something was logged");
}
