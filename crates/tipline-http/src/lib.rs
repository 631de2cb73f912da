//! Outbound HTTP for every tipline component that calls out (feed pulls today; enrichment
//! providers and playbook `http.request` steps next): one client builder, so timeouts, the
//! response body cap, the redirect policy and the guard against internal addresses are
//! the same everywhere.
//!
//! - **Timeouts**: a connect timeout and a total timeout per request (headers and body).
//! - **Body cap**: [`Outbound::read_body`] stops reading past `max_body_bytes` and fails;
//!   a response is never read into memory whole before the check.
//! - **Redirects**: at most `max_redirects`, never from `https` to `http`, and every hop
//!   passes the address guard again.
//! - **Address guard**: unless `allow_private_addresses` is set, URLs whose host is, or
//!   resolves only to, a loopback, private, link-local, unique-local, CGNAT, multicast or
//!   unspecified address are refused (server-side request forgery).
//!
//! TLS is rustls with the ring provider (installed here if the process has none), and the
//! platform's certificate verifier.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Response, StatusCode};
use url::Url;

/// Settings of the outbound client (`[outbound]` in the configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundConfig {
    /// Longest time a whole request may take, body included.
    pub timeout: Duration,
    /// Longest time to establish a connection.
    pub connect_timeout: Duration,
    /// Largest response body read, in bytes.
    pub max_body_bytes: u64,
    /// Most redirects followed.
    pub max_redirects: usize,
    /// Allow loopback, private and other internal addresses (tests, internal mirrors).
    pub allow_private_addresses: bool,
    /// `User-Agent` header.
    pub user_agent: String,
}

impl Default for OutboundConfig {
    fn default() -> Self {
        OutboundConfig {
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            max_body_bytes: 256 * 1024 * 1024,
            max_redirects: 5,
            allow_private_addresses: false,
            user_agent: concat!("tipline/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

/// Why an outbound request failed. [`HttpError::is_retryable`] says whether trying again
/// later may help.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The URL cannot be requested (bad scheme, no host).
    #[error("invalid url `{url}`: {reason}")]
    InvalidUrl {
        /// The URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The address guard refused the URL.
    #[error("refused to connect to `{url}`: {reason}")]
    Refused {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// No answer in time.
    #[error("timed out after {} requesting {url}", describe(*.after))]
    Timeout {
        /// The URL.
        url: String,
        /// The timeout.
        after: Duration,
    },
    /// The server answered with an error status.
    #[error("http {status} from {url}")]
    Status {
        /// The URL.
        url: String,
        /// The status.
        status: StatusCode,
    },
    /// The body is larger than the cap.
    #[error("response from {url} is larger than {limit} bytes")]
    TooLarge {
        /// The URL.
        url: String,
        /// The cap.
        limit: u64,
    },
    /// Connecting, TLS, a redirect or reading failed.
    #[error("request to {url} failed: {reason}")]
    Failed {
        /// The URL.
        url: String,
        /// The cause chain.
        reason: String,
    },
    /// The client cannot be built (TLS setup).
    #[error("cannot build the http client: {0}")]
    Build(String),
}

impl HttpError {
    /// Whether the same request may succeed later (timeouts, 5xx, 429, connection
    /// failures); invalid or refused URLs, 4xx and oversized bodies will not.
    pub fn is_retryable(&self) -> bool {
        match self {
            HttpError::Timeout { .. } | HttpError::Failed { .. } => true,
            HttpError::Status { status, .. } => {
                status.is_server_error() || *status == StatusCode::TOO_MANY_REQUESTS
            }
            _ => false,
        }
    }
}

/// The shared outbound client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Outbound {
    client: reqwest::Client,
    config: Arc<OutboundConfig>,
}

impl Outbound {
    /// Build the client for `config`.
    pub fn new(config: OutboundConfig) -> Result<Outbound, HttpError> {
        // One crypto provider for the process (ring; see STACK.md). Installing fails only
        // when one is installed already, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let allow_private = config.allow_private_addresses;
        let max_redirects = config.max_redirects;
        let redirect = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > max_redirects {
                return attempt.error(format!("more than {max_redirects} redirects"));
            }
            let downgrade = attempt.url().scheme() == "http"
                && attempt.previous().last().is_some_and(|p| p.scheme() == "https");
            if downgrade {
                return attempt.error("redirect from https to http refused");
            }
            if !allow_private && let Err(reason) = check_literal_host(attempt.url()) {
                return attempt.error(reason);
            }
            attempt.follow()
        });
        let mut builder = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .redirect(redirect)
            .user_agent(config.user_agent.clone())
            .no_proxy();
        if !allow_private {
            builder = builder.dns_resolver(GuardedResolver);
        }
        let client = builder.build().map_err(|e| HttpError::Build(chain(&e)))?;
        Ok(Outbound { client, config: Arc::new(config) })
    }

    /// The settings it was built with.
    pub fn config(&self) -> &OutboundConfig {
        &self.config
    }

    /// `GET url` with `headers`; any status is returned (the caller decides what 304 or 404
    /// mean), transport failures are errors.
    pub async fn get(&self, url: &str, headers: HeaderMap) -> Result<Response, HttpError> {
        let parsed = Url::parse(url)
            .map_err(|e| HttpError::InvalidUrl { url: url.to_string(), reason: e.to_string() })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(HttpError::InvalidUrl {
                url: url.to_string(),
                reason: format!("scheme must be http or https, got `{}`", parsed.scheme()),
            });
        }
        if !self.config.allow_private_addresses
            && let Err(reason) = check_literal_host(&parsed)
        {
            return Err(HttpError::Refused { url: url.to_string(), reason });
        }
        self.client.get(parsed).headers(headers).send().await.map_err(|e| self.error(url, &e))
    }

    /// Read a response's body, failing once it passes `max_body_bytes` (checked against
    /// `Content-Length` first, then while reading).
    pub async fn read_body(&self, url: &str, mut response: Response) -> Result<Vec<u8>, HttpError> {
        let limit = self.config.max_body_bytes;
        if response.content_length().is_some_and(|length| length > limit) {
            return Err(HttpError::TooLarge { url: url.to_string(), limit });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.error(url, &e))? {
            if body.len() as u64 + chunk.len() as u64 > limit {
                return Err(HttpError::TooLarge { url: url.to_string(), limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn error(&self, url: &str, e: &reqwest::Error) -> HttpError {
        if e.is_timeout() {
            return HttpError::Timeout { url: url.to_string(), after: self.config.timeout };
        }
        let reason = chain(e);
        if reason.contains("internal address") {
            return HttpError::Refused { url: url.to_string(), reason };
        }
        HttpError::Failed { url: url.to_string(), reason }
    }
}

/// `30 s`, or `500 ms` below a second.
fn describe(duration: Duration) -> String {
    if duration < Duration::from_secs(1) {
        format!("{} ms", duration.as_millis())
    } else {
        format!("{} s", duration.as_secs())
    }
}

/// An error and its causes, `: `-separated.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let message = cause.to_string();
        if !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        source = cause.source();
    }
    text
}

/// Refuse a URL whose host is an internal address literal (hostnames are checked when
/// resolved).
fn check_literal_host(url: &Url) -> Result<(), String> {
    let address = match url.host() {
        Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
        Some(url::Host::Domain(name)) if name.eq_ignore_ascii_case("localhost") => {
            return Err("`localhost` is an internal address".into());
        }
        _ => return Ok(()),
    };
    if is_internal(address) { Err(format!("{address} is an internal address")) } else { Ok(()) }
}

/// Whether an address is not on the public internet.
pub fn is_internal(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

/// Resolves names with the system resolver and drops internal addresses; a name that
/// resolves only to internal addresses fails.
struct GuardedResolver;

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| !is_internal(a.ip()))
                .collect();
            if addresses.is_empty() {
                let message = format!("`{host}` resolves only to internal addresses");
                return Err(Box::new(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    message,
                )) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addresses.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use axum::Router;
    use axum::response::Redirect;
    use axum::routing::get;

    use super::*;

    async fn server(router: Router) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        address
    }

    fn local(config: OutboundConfig) -> Outbound {
        Outbound::new(OutboundConfig { allow_private_addresses: true, ..config }).unwrap()
    }

    #[test]
    fn internal_addresses() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_internal(internal.parse().unwrap()), "{internal}");
        }
        for public in ["192.0.2.1", "8.8.8.8", "2001:db8::1", "2606:4700::1111"] {
            assert!(!is_internal(public.parse().unwrap()), "{public}");
        }
    }

    #[tokio::test]
    async fn the_guard_refuses_internal_hosts() {
        let outbound = Outbound::new(OutboundConfig::default()).unwrap();
        for url in
            ["http://127.0.0.1:9/x", "http://[::1]/x", "http://localhost/x", "http://10.0.0.1/"]
        {
            let error = outbound.get(url, HeaderMap::new()).await.unwrap_err();
            assert!(matches!(error, HttpError::Refused { .. }), "{url}: {error}");
            assert!(!error.is_retryable());
        }
        let error = outbound.get("ftp://example.com/x", HeaderMap::new()).await.unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid url `ftp://example.com/x`: scheme must be http or https, got `ftp`"
        );
    }

    #[tokio::test]
    async fn body_cap_redirect_limit_and_timeout() {
        let address = server(
            Router::new()
                .route("/big", get(|| async { "x".repeat(2000) }))
                .route("/small", get(|| async { "ok" }))
                .route("/loop", get(|| async { Redirect::temporary("/loop") }))
                .route("/hop", get(|| async { Redirect::temporary("/small") }))
                .route(
                    "/slow",
                    get(|| async {
                        tokio::time::sleep(Duration::from_secs(5)).await;
                        "late"
                    }),
                ),
        )
        .await;
        let outbound = local(OutboundConfig {
            max_body_bytes: 1000,
            timeout: Duration::from_millis(500),
            ..OutboundConfig::default()
        });
        let url = |path: &str| format!("http://{address}{path}");
        let response = outbound.get(&url("/big"), HeaderMap::new()).await.unwrap();
        let error = outbound.read_body(&url("/big"), response).await.unwrap_err();
        assert!(matches!(error, HttpError::TooLarge { limit: 1000, .. }), "{error}");
        let response = outbound.get(&url("/hop"), HeaderMap::new()).await.unwrap();
        assert_eq!(outbound.read_body(&url("/hop"), response).await.unwrap(), b"ok");
        let error = outbound.get(&url("/loop"), HeaderMap::new()).await.unwrap_err();
        assert!(error.to_string().contains("more than 5 redirects"), "{error}");
        let error = outbound.get(&url("/slow"), HeaderMap::new()).await.unwrap_err();
        assert!(matches!(error, HttpError::Timeout { .. }), "{error}");
        assert!(error.is_retryable());
    }
}
