//! The failure modes every HTTP provider must handle the same way, run once per provider
//! (Shodan, Censys v3, Censys v2, RDAP): 401, 429 with Retry-After, 5xx then success,
//! malformed JSON and a response slower than the timeout. Each asserts the exact error or
//! result and counts the requests the local server received.

use std::time::Duration;

use tipline_enrich::{EnrichConfig, LookupOptions, Source, Subject};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::enricher;

/// How one HTTP provider is set up and what it says.
pub struct HttpCase {
    pub provider: &'static str,
    pub subject: &'static str,
    /// The path the provider requests for `subject`.
    pub path: &'static str,
    /// A successful body.
    pub ok_body: String,
    /// A 401 body and the exact error it must become (`None`: the provider needs no key).
    pub unauthorized: Option<(String, &'static str)>,
    /// A 429 body and the text the provider extracts from it.
    pub rate_limited: (String, &'static str),
    /// The exact error of a malformed body `{"oops": ` .
    pub malformed: &'static str,
    /// Configure the provider against `server_uri`, retries fast.
    pub configure: fn(&str) -> EnrichConfig,
    /// Extra setup on the server (RDAP's bootstrap file).
    pub prepare: Option<fn(&MockServer) -> futures::future::BoxFuture<'_, ()>>,
}

async fn server(case: &HttpCase) -> MockServer {
    let server = MockServer::start().await;
    if let Some(prepare) = case.prepare {
        prepare(&server).await;
    }
    server
}

/// Answer GET `path` with `response` (the first `times` requests only, when given).
async fn mount(server: &MockServer, path_: &str, response: ResponseTemplate, times: Option<u64>) {
    let mock = Mock::given(method("GET")).and(path(path_)).respond_with(response);
    match times {
        Some(times) => mock.up_to_n_times(times).with_priority(1).mount(server).await,
        None => mock.with_priority(2).mount(server).await,
    }
}

fn received(requests: &[wiremock::Request], p: &str) -> usize {
    requests.iter().filter(|r| r.url.path() == p).count()
}

pub async fn check(case: HttpCase) {
    let subject = Subject::parse(case.subject).unwrap();
    let lookup = |config: EnrichConfig| {
        let subject = subject.clone();
        async move {
            let enricher = enricher(&config, None);
            enricher.lookup(case.provider, &subject, LookupOptions::default()).await
        }
    };

    if let Some((body, expected)) = &case.unauthorized {
        let server = server(&case).await;
        mount(&server, case.path, ResponseTemplate::new(401).set_body_string(body.clone()), None)
            .await;
        let error = lookup((case.configure)(&server.uri())).await.unwrap_err();
        assert_eq!(error.to_string(), *expected, "{}: 401", case.provider);
        assert!(!error.retryable);
        assert_eq!(
            received(&server.received_requests().await.unwrap(), case.path),
            1,
            "401 is not retried"
        );
    }

    // 429 with Retry-After: 1, then success: one retry after at least a second.
    {
        let server = server(&case).await;
        mount(
            &server,
            case.path,
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_string(case.rate_limited.0.clone()),
            Some(1),
        )
        .await;
        mount(
            &server,
            case.path,
            ResponseTemplate::new(200).set_body_string(case.ok_body.clone()),
            None,
        )
        .await;
        let config = (case.configure)(&server.uri());
        let enricher = enricher(&config, None);
        let started = std::time::Instant::now();
        let answer =
            enricher.lookup(case.provider, &subject, LookupOptions::default()).await.unwrap();
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "{}: Retry-After honoured",
            case.provider
        );
        assert_eq!(answer.source, Source::Upstream);
        assert_eq!(answer.record.normalized["found"], true, "{}", case.provider);
        assert_eq!(received(&server.received_requests().await.unwrap(), case.path), 2);
        let counters =
            enricher.statuses().into_iter().find(|s| s.name == case.provider).unwrap().counters;
        assert_eq!((counters.calls, counters.retries, counters.errors), (2, 1, 0));
    }

    // 429 asking for longer than max_retry_wait_secs: fails at once, retryable.
    {
        let server = server(&case).await;
        mount(
            &server,
            case.path,
            ResponseTemplate::new(429)
                .insert_header("retry-after", "120")
                .set_body_string(case.rate_limited.0.clone()),
            None,
        )
        .await;
        let error = lookup((case.configure)(&server.uri())).await.unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "{}: rate limited: HTTP 429: {}; asked to wait 120s, more than max_retry_wait_secs (retryable)",
                case.provider, case.rate_limited.1
            )
        );
        assert_eq!(received(&server.received_requests().await.unwrap(), case.path), 1);
    }

    // 503 twice, then success.
    {
        let server = server(&case).await;
        mount(
            &server,
            case.path,
            ResponseTemplate::new(503).set_body_string("upstream maintenance"),
            Some(2),
        )
        .await;
        mount(
            &server,
            case.path,
            ResponseTemplate::new(200).set_body_string(case.ok_body.clone()),
            None,
        )
        .await;
        let answer = lookup((case.configure)(&server.uri())).await.unwrap();
        assert_eq!(answer.record.normalized["found"], true);
        assert_eq!(received(&server.received_requests().await.unwrap(), case.path), 3);
    }

    // 503 every time: three attempts (max_retries = 2), then a retryable error.
    {
        let server = server(&case).await;
        mount(&server, case.path, ResponseTemplate::new(503), None).await;
        let error = lookup((case.configure)(&server.uri())).await.unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("{}: provider error: HTTP 503 (after 3 attempts) (retryable)", case.provider)
        );
        assert_eq!(error.attempts, 3);
        assert_eq!(received(&server.received_requests().await.unwrap(), case.path), 3);
    }

    // Malformed JSON: permanent, not retried.
    {
        let server = server(&case).await;
        mount(&server, case.path, ResponseTemplate::new(200).set_body_string("{\"oops\": "), None)
            .await;
        let error = lookup((case.configure)(&server.uri())).await.unwrap_err();
        assert_eq!(error.to_string(), case.malformed);
        assert_eq!(received(&server.received_requests().await.unwrap(), case.path), 1);
    }

    // Slower than the 1 s timeout: three attempts, then a retryable timeout.
    {
        let server = server(&case).await;
        mount(
            &server,
            case.path,
            ResponseTemplate::new(200)
                .set_body_string(case.ok_body.clone())
                .set_delay(Duration::from_secs(3)),
            None,
        )
        .await;
        let error = lookup((case.configure)(&server.uri())).await.unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "{}: timed out: no answer within 1s (after 3 attempts) (retryable)",
                case.provider
            )
        );
        assert_eq!(received(&server.received_requests().await.unwrap(), case.path), 3);
    }
}
