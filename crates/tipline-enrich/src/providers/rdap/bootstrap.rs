//! The IANA RDAP bootstrap for IP addresses (RFC 9224): `ipv4.json` / `ipv6.json`, each
//! `{"services": [[["192.0.0.0/8", ...], ["https://rdap.example/"]], ...]}`. The registry
//! of an address is the one whose longest prefix covers it; HTTPS URLs are preferred.

use std::net::IpAddr;
use std::time::Duration;

use ipnet::IpNet;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::error::ProviderError;
use crate::http::HttpClient;

/// A bootstrap table and when it was fetched.
type Table = Mutex<Option<(Instant, Vec<(IpNet, String)>)>>;

/// Fetched-once registry tables for IPv4 and IPv6.
#[derive(Debug)]
pub struct Bootstrap {
    base_url: String,
    ttl: Duration,
    v4: Table,
    v6: Table,
}

impl Bootstrap {
    /// Bootstrap files under `base_url`, kept for `ttl`.
    pub fn new(base_url: &str, ttl: Duration) -> Bootstrap {
        Bootstrap {
            base_url: base_url.trim_end_matches('/').to_string(),
            ttl,
            v4: Mutex::new(None),
            v6: Mutex::new(None),
        }
    }

    /// The RDAP base URL responsible for `ip`, if any.
    pub async fn registry_for(
        &self,
        http: &HttpClient,
        ip: IpAddr,
    ) -> Result<Option<String>, ProviderError> {
        let (slot, file) = match ip {
            IpAddr::V4(_) => (&self.v4, "ipv4.json"),
            IpAddr::V6(_) => (&self.v6, "ipv6.json"),
        };
        let mut table = slot.lock().await;
        if table.as_ref().is_none_or(|(at, _)| at.elapsed() > self.ttl) {
            let url = format!("{}/{file}", self.base_url);
            let response = http.send(http.get(&url), None).await?;
            if let Some(mut error) = response.error_for_status(|_| None) {
                error.detail = format!("bootstrap {file}: {}", error.detail);
                return Err(error);
            }
            let parsed = parse(&response.body)
                .map_err(|e| ProviderError::malformed(format!("bootstrap {file}: {e}")))?;
            *table = Some((Instant::now(), parsed));
        }
        let entries = &table.as_ref().expect("just filled").1;
        Ok(entries
            .iter()
            .filter(|(net, _)| net.contains(&ip))
            .max_by_key(|(net, _)| net.prefix_len())
            .map(|(_, url)| url.clone()))
    }
}

/// Parse a bootstrap file into (prefix, preferred URL) pairs.
pub fn parse(text: &str) -> Result<Vec<(IpNet, String)>, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let services =
        value.get("services").and_then(|s| s.as_array()).ok_or("missing field `services`")?;
    let mut entries = Vec::new();
    for (i, service) in services.iter().enumerate() {
        let pair = service
            .as_array()
            .filter(|p| p.len() >= 2)
            .ok_or(format!("services[{i}] is not a [prefixes, urls] pair"))?;
        let urls: Vec<&str> = pair[1]
            .as_array()
            .map(|u| u.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        let Some(url) = urls.iter().find(|u| u.starts_with("https://")).or(urls.first()) else {
            continue;
        };
        for prefix in pair[0].as_array().into_iter().flatten().filter_map(|p| p.as_str()) {
            let net: IpNet =
                prefix.parse().map_err(|_| format!("services[{i}]: `{prefix}` is not a prefix"))?;
            entries.push((net, url.to_string()));
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_is_preferred_and_prefixes_parse() {
        let text = r#"{"services": [[["74.0.0.0/8", "2001:4860::/32"], ["http://rdap.example/", "https://rdap.example/"]]]}"#;
        let entries = parse(text).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].1, "https://rdap.example/");
        assert_eq!(
            parse(r#"{"services": [[["x"], ["https://a/"]]]}"#).unwrap_err(),
            "services[0]: `x` is not a prefix"
        );
    }
}
