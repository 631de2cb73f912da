//! The one way tipline's notification code makes outbound HTTP requests: a reqwest client
//! with timeouts, a response body cap, and a guard that refuses loopback, private,
//! link-local and other internal addresses (checked on every DNS answer, so redirects and
//! DNS rebinding cannot reach them either) unless a network is explicitly allowed.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// How the client behaves.
#[derive(Debug, Clone)]
pub struct OutboundSettings {
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Connection timeout.
    pub connect_timeout: Duration,
    /// Largest response body read (the rest is dropped).
    pub max_body_bytes: usize,
    /// Redirects followed at most (each target is guarded like the first).
    pub max_redirects: usize,
    /// Internal networks requests may reach anyway (e.g. `127.0.0.0/8` for a local relay).
    pub allowed_networks: Vec<IpNet>,
}

impl Default for OutboundSettings {
    fn default() -> Self {
        OutboundSettings {
            timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(5),
            max_body_bytes: 64 * 1024,
            max_redirects: 3,
            allowed_networks: Vec::new(),
        }
    }
}

/// Whether `ip` is internal: loopback, private (RFC 1918, unique local), link-local,
/// shared (CGNAT), unspecified, broadcast, multicast, or an IPv4-mapped internal address.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
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

/// Why a request was refused or failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    /// The target is an internal address that is not allowed.
    #[error("refusing to connect to internal address {0}")]
    Internal(String),
    /// The URL is not http(s) or has no host.
    #[error("invalid url `{0}`")]
    BadUrl(String),
    /// Transport failure (DNS, connect, TLS, timeout).
    #[error("{0}")]
    Transport(String),
}

struct GuardedResolver {
    allowed: Arc<Vec<IpNet>>,
}

fn allowed(ip: IpAddr, networks: &[IpNet]) -> bool {
    !is_internal(ip) || networks.iter().any(|n| n.contains(&ip))
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allowed_networks = self.allowed.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let permitted: Vec<SocketAddr> =
                addrs.iter().copied().filter(|a| allowed(a.ip(), &allowed_networks)).collect();
            if permitted.is_empty() {
                let error: Box<dyn std::error::Error + Send + Sync> =
                    Box::new(OutboundError::Internal(format!("{host} ({addrs:?})")));
                return Err(error);
            }
            Ok(Box::new(permitted.into_iter()) as Addrs)
        })
    }
}

/// The guarded HTTP client.
#[derive(Debug, Clone)]
pub struct OutboundClient {
    client: reqwest::Client,
    settings: Arc<OutboundSettings>,
}

/// A response: status and (capped) body text.
#[derive(Debug, Clone)]
pub struct OutboundResponse {
    /// HTTP status.
    pub status: reqwest::StatusCode,
    /// The first `max_body_bytes` of the body, lossily decoded.
    pub body: String,
}

impl OutboundClient {
    /// Build the client.
    pub fn new(settings: OutboundSettings) -> Result<OutboundClient, OutboundError> {
        // tipline uses ring everywhere (reqwest is built without a provider of its own);
        // the binary installs it at start, this covers library users and tests.
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let allowed_networks = Arc::new(settings.allowed_networks.clone());
        let redirect_networks = allowed_networks.clone();
        let max_redirects = settings.max_redirects;
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= max_redirects {
                return attempt.error(format!("more than {max_redirects} redirects"));
            }
            let literal = attempt.url().host_str().and_then(|h| {
                h.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().ok()
            });
            match literal {
                Some(ip) if !allowed(ip, &redirect_networks) => {
                    attempt.error(OutboundError::Internal(ip.to_string()))
                }
                _ => attempt.follow(),
            }
        });
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.connect_timeout)
            .redirect(policy)
            .dns_resolver(Arc::new(GuardedResolver { allowed: allowed_networks }))
            .user_agent(concat!("tipline/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| OutboundError::Transport(format!("cannot build the HTTP client: {e}")))?;
        Ok(OutboundClient { client, settings: Arc::new(settings) })
    }

    /// Check a URL before use: http(s), a host, and not an internal address literal.
    pub fn check_url(&self, url: &str) -> Result<url::Url, OutboundError> {
        let parsed = url::Url::parse(url).map_err(|_| OutboundError::BadUrl(url.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(OutboundError::BadUrl(url.to_string()));
        }
        match parsed.host() {
            None => Err(OutboundError::BadUrl(url.to_string())),
            Some(url::Host::Ipv4(ip))
                if !allowed(IpAddr::V4(ip), &self.settings.allowed_networks) =>
            {
                Err(OutboundError::Internal(ip.to_string()))
            }
            Some(url::Host::Ipv6(ip))
                if !allowed(IpAddr::V6(ip), &self.settings.allowed_networks) =>
            {
                Err(OutboundError::Internal(ip.to_string()))
            }
            Some(_) => Ok(parsed),
        }
    }

    /// POST `body` as JSON with extra `headers`; the response status and capped body.
    pub async fn post_json(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Result<OutboundResponse, OutboundError> {
        let url = self.check_url(url)?;
        let mut request = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_vec());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let mut response = request.send().await.map_err(|e| describe(&e))?;
        let status = response.status();
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| describe(&e))? {
            let room = self.settings.max_body_bytes.saturating_sub(bytes.len());
            bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if room <= chunk.len() {
                break;
            }
        }
        Ok(OutboundResponse { status, body: String::from_utf8_lossy(&bytes).into_owned() })
    }
}

fn describe(e: &reqwest::Error) -> OutboundError {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        if let Some(internal) = cause.downcast_ref::<OutboundError>() {
            return internal.clone();
        }
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    OutboundError::Transport(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_ranges() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "192.0.2.1", "2001:db8::1", "100.128.0.1"] {
            assert!(!is_internal(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn urls_are_checked() {
        let client = OutboundClient::new(OutboundSettings::default()).unwrap();
        assert_eq!(
            client.check_url("http://127.0.0.1:9/x").unwrap_err(),
            OutboundError::Internal("127.0.0.1".into())
        );
        assert_eq!(
            client.check_url("http://[::1]/x").unwrap_err(),
            OutboundError::Internal("::1".into())
        );
        assert!(matches!(client.check_url("ftp://example.org/"), Err(OutboundError::BadUrl(_))));
        assert!(client.check_url("https://hooks.example.org/x").is_ok());
        let allowing = OutboundClient::new(OutboundSettings {
            allowed_networks: vec!["127.0.0.0/8".parse().unwrap()],
            ..Default::default()
        })
        .unwrap();
        assert!(allowing.check_url("http://127.0.0.1:9/x").is_ok());
    }
}
