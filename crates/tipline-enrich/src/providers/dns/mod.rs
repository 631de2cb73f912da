//! `dns`: forward resolution of domains (A, AAAA, CNAME, MX, NS) and reverse resolution
//! (PTR) of addresses, through the resolver configured here (also used by `dnsbl`).

use std::sync::Arc;

use futures::future::BoxFuture;
use hickory_resolver::proto::rr::RecordType;
use serde::Serialize;

use super::{BuildContext, Built, Fetched, Provider, Registration};
use crate::config::{ConfigProblem, EnrichConfig, provider_config};
use crate::error::ProviderError;
use crate::policy::Policy;
use crate::resolver::{Answer, ResolverHandle, reverse_name};
use crate::subject::{Subject, SubjectKind};

provider_config! {
    /// `[enrich.dns]`: DNS resolution.
    pub struct DnsConfig {
        /// Answer lookups (on by default: it needs no credentials).
        pub enabled: bool = true,
        /// The nameserver to ask, `IP` or `IP:PORT` (`TIPLINE_DNS_NAMESERVER`); default: the
        /// first `nameserver` of /etc/resolv.conf.
        pub nameserver: Option<String> = None,
    }
}

/// The `dns` line of the registration table.
pub const REGISTRATION: Registration = Registration {
    name: "dns",
    subjects: &[SubjectKind::Ip, SubjectKind::Domain],
    policy: default_policy,
    overrides: |config| config.dns.overrides(),
    validate,
    build,
};

fn default_policy() -> Policy {
    Policy {
        requests_per_second: 50.0,
        burst: 50,
        max_concurrency: 16,
        timeout_secs: 5,
        max_retries: 2,
        retry_base_ms: 200,
        max_retry_wait_secs: 5,
        cache_ttl_secs: 3600,
        store_cache: true,
    }
}

fn validate(config: &EnrichConfig) -> Result<(), ConfigProblem> {
    if let Some(nameserver) = &config.dns.nameserver {
        crate::resolver::parse_nameserver(nameserver)
            .map_err(|e| ConfigProblem::new("enrich.dns.nameserver", e))?;
    }
    Ok(())
}

fn build(config: &EnrichConfig, context: &BuildContext) -> Result<Built, ConfigProblem> {
    let built = if !config.dns.enabled {
        Built::Disabled("enabled = false".into())
    } else if let Some(reason) = context.resolver.unavailable() {
        Built::Disabled(reason.to_string())
    } else {
        Built::Enabled(Arc::new(Dns { resolver: context.resolver.clone() }))
    };
    Ok(built)
}

/// Normalized `dns` result.
#[derive(Debug, Default, Serialize)]
struct DnsRecord {
    /// For a domain: IPv4 addresses.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    a: Vec<String>,
    /// For a domain: IPv6 addresses.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    aaaa: Vec<String>,
    /// For a domain: canonical names.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    cname: Vec<String>,
    /// For a domain: mail exchangers (`preference host`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    mx: Vec<String>,
    /// For a domain: name servers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ns: Vec<String>,
    /// For an address: PTR names.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ptr: Vec<String>,
    /// Whether the name exists (false on NXDOMAIN).
    exists: bool,
}

struct Dns {
    resolver: ResolverHandle,
}

impl Dns {
    async fn resolve(&self, subject: &Subject) -> Result<Fetched, ProviderError> {
        let mut record = DnsRecord::default();
        match subject {
            Subject::Ip(ip) => {
                let zone = if ip.is_ipv4() { "in-addr.arpa" } else { "ip6.arpa" };
                let answer =
                    self.resolver.lookup(&reverse_name(*ip, zone), RecordType::PTR).await?;
                record.exists = answer != Answer::NxDomain;
                record.ptr = records(answer);
            }
            Subject::Domain(domain) => {
                let mut exists = false;
                for (record_type, into) in [
                    (RecordType::A, &mut record.a),
                    (RecordType::AAAA, &mut record.aaaa),
                    (RecordType::CNAME, &mut record.cname),
                    (RecordType::MX, &mut record.mx),
                    (RecordType::NS, &mut record.ns),
                ] {
                    let answer = self.resolver.lookup(domain, record_type).await?;
                    exists |= answer != Answer::NxDomain;
                    *into = records(answer);
                }
                record.exists = exists;
            }
        }
        Ok(Fetched::local(&record))
    }
}

fn records(answer: Answer) -> Vec<String> {
    match answer {
        Answer::Records(mut records) => {
            records.sort();
            records
        }
        Answer::NxDomain | Answer::NoData => Vec::new(),
    }
}

impl Provider for Dns {
    fn fetch<'a>(&'a self, subject: &'a Subject) -> BoxFuture<'a, Result<Fetched, ProviderError>> {
        Box::pin(self.resolve(subject))
    }
}
