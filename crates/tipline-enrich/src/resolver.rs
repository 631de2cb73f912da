//! The DNS resolver DNS and DNSBL lookups go through: hickory-resolver, configured
//! explicitly (no hosts file, no resolver cache: tipline caches answers itself), against the
//! nameserver of `[enrich.dns]` or, when none is given, the first `nameserver` of
//! `/etc/resolv.conf`.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, RecordType};

use crate::error::{FailureKind, ProviderError};

/// A shared resolver, or why there is none.
#[derive(Clone)]
pub struct ResolverHandle {
    resolver: Result<Arc<TokioResolver>, String>,
    nameserver: Option<SocketAddr>,
}

impl std::fmt::Debug for ResolverHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResolverHandle").field("nameserver", &self.nameserver).finish()
    }
}

/// An answer: the records of the asked type, or none (NXDOMAIN or no data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Records found: their text form (addresses, names, TXT strings).
    Records(Vec<String>),
    /// The name does not exist (NXDOMAIN).
    NxDomain,
    /// The name exists but has no record of this type.
    NoData,
}

impl ResolverHandle {
    /// A resolver asking `nameserver` (`IP` or `IP:PORT`), or the system's first nameserver.
    pub fn new(nameserver: Option<&str>, timeout: Duration) -> Result<ResolverHandle, String> {
        let address = match nameserver {
            Some(text) => parse_nameserver(text)?,
            None => match system_nameserver() {
                Some(address) => address,
                None => {
                    return Ok(ResolverHandle {
                        resolver: Err(
                            "no nameserver configured and none in /etc/resolv.conf".into()
                        ),
                        nameserver: None,
                    });
                }
            },
        };
        let mut udp = ConnectionConfig::udp();
        udp.port = address.port();
        let mut tcp = ConnectionConfig::tcp();
        tcp.port = address.port();
        let server = NameServerConfig::new(address.ip(), true, vec![udp, tcp]);
        let mut options = ResolverOpts::default();
        options.timeout = timeout;
        options.attempts = 1;
        options.cache_size = 0;
        options.use_hosts_file = ResolveHosts::Never;
        options.ndots = 0;
        let resolver = TokioResolver::builder_with_config(
            ResolverConfig::from_name_servers(vec![server]),
            TokioRuntimeProvider::default(),
        )
        .with_options(options)
        .build()
        .map_err(|e| format!("cannot build the DNS resolver: {e}"))?;
        Ok(ResolverHandle { resolver: Ok(Arc::new(resolver)), nameserver: Some(address) })
    }

    /// Why there is no resolver, if there is none.
    pub fn unavailable(&self) -> Option<&str> {
        self.resolver.as_ref().err().map(String::as_str)
    }

    /// The nameserver asked.
    pub fn nameserver(&self) -> Option<SocketAddr> {
        self.nameserver
    }

    /// Look `name` up for records of `record_type` (A, AAAA, PTR, TXT, CNAME, MX, NS).
    pub async fn lookup(
        &self,
        name: &str,
        record_type: RecordType,
    ) -> Result<Answer, ProviderError> {
        let resolver = self
            .resolver
            .as_ref()
            .map_err(|reason| ProviderError::new(FailureKind::Network, reason.clone()))?;
        let fqdn = if name.ends_with('.') { name.to_string() } else { format!("{name}.") };
        match resolver.lookup(fqdn.as_str(), record_type).await {
            Ok(lookup) => {
                let records: Vec<String> = lookup
                    .answers()
                    .iter()
                    .filter(|r| r.record_type() == record_type)
                    .filter_map(|r| rdata_text(&r.data))
                    .collect();
                Ok(if records.is_empty() { Answer::NoData } else { Answer::Records(records) })
            }
            Err(NetError::Dns(DnsError::NoRecordsFound(no_records))) => {
                Ok(if no_records.response_code == ResponseCode::NXDomain {
                    Answer::NxDomain
                } else {
                    Answer::NoData
                })
            }
            Err(NetError::Timeout) => Err(ProviderError::new(
                FailureKind::Timeout,
                format!("no DNS answer for {fqdn} {record_type}"),
            )),
            Err(NetError::Dns(DnsError::ResponseCode(code))) => {
                let kind = if code == ResponseCode::Refused {
                    FailureKind::Rejected
                } else {
                    FailureKind::Upstream
                };
                Err(ProviderError::new(kind, format!("DNS {code} for {fqdn} {record_type}")))
            }
            Err(other) => Err(ProviderError::new(
                FailureKind::Network,
                format!("DNS lookup of {fqdn} {record_type} failed: {other}"),
            )),
        }
    }
}

fn rdata_text(data: &RData) -> Option<String> {
    match data {
        RData::A(a) => Some(a.0.to_string()),
        RData::AAAA(aaaa) => Some(aaaa.0.to_string()),
        RData::PTR(ptr) => Some(ptr.0.to_ascii().trim_end_matches('.').to_string()),
        RData::CNAME(cname) => Some(cname.0.to_ascii().trim_end_matches('.').to_string()),
        RData::NS(ns) => Some(ns.0.to_ascii().trim_end_matches('.').to_string()),
        RData::MX(mx) => {
            Some(format!("{} {}", mx.preference, mx.exchange.to_ascii().trim_end_matches('.')))
        }
        RData::TXT(txt) => {
            Some(txt.txt_data.iter().map(|part| String::from_utf8_lossy(part)).collect::<String>())
        }
        _ => None,
    }
}

/// `IP` (port 53) or `IP:PORT`, IPv6 as `[::1]:5353`.
pub fn parse_nameserver(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    if let Ok(address) = text.parse::<SocketAddr>() {
        return Ok(address);
    }
    text.parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| format!("`{text}` is not an IP address or IP:PORT"))
}

fn system_nameserver() -> Option<SocketAddr> {
    let text = std::fs::read_to_string("/etc/resolv.conf").ok()?;
    text.lines().find_map(|line| {
        let rest = line.trim().strip_prefix("nameserver")?;
        rest.trim().parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, 53))
    })
}

/// The reverse-lookup name of `ip` under `zone`: reversed octets for IPv4
/// (`2.0.0.127.zone`), reversed nibbles for IPv6.
pub fn reverse_name(ip: IpAddr, zone: &str) -> String {
    let labels: Vec<String> = match ip {
        IpAddr::V4(v4) => v4.octets().iter().rev().map(u8::to_string).collect(),
        IpAddr::V6(v6) => v6
            .octets()
            .iter()
            .rev()
            .flat_map(|byte| [byte & 0x0f, byte >> 4])
            .map(|nibble| format!("{nibble:x}"))
            .collect(),
    };
    format!("{}.{}", labels.join("."), zone.trim_end_matches('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverse_names() {
        assert_eq!(
            reverse_name("127.0.0.2".parse().unwrap(), "zen.spamhaus.org"),
            "2.0.0.127.zen.spamhaus.org"
        );
        assert_eq!(
            reverse_name("2001:db8::1".parse().unwrap(), "in-addr.example."),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.in-addr.example"
        );
    }

    #[test]
    fn nameservers_parse() {
        assert_eq!(parse_nameserver("127.0.0.1").unwrap().to_string(), "127.0.0.1:53");
        assert_eq!(parse_nameserver("127.0.0.1:5353").unwrap().port(), 5353);
        assert_eq!(parse_nameserver("[::1]:5353").unwrap().port(), 5353);
        assert_eq!(
            parse_nameserver("dns.example").unwrap_err(),
            "`dns.example` is not an IP address or IP:PORT"
        );
    }
}
