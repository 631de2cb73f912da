//! What can be enriched: an IP address or a domain, in canonical form.

use std::fmt;
use std::net::IpAddr;

use tipline_model::{IndicatorKind, detect};

/// The kind of a [`Subject`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubjectKind {
    /// An IPv4 or IPv6 address.
    Ip,
    /// A domain name.
    Domain,
}

impl SubjectKind {
    /// `ip` or `domain`.
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Ip => "ip",
            SubjectKind::Domain => "domain",
        }
    }
}

/// A value to enrich.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subject {
    /// An address.
    Ip(IpAddr),
    /// A domain, lower case, ASCII (IDNA).
    Domain(String),
}

impl Subject {
    /// Parse any value (defanged input accepted) into an IP address or a domain.
    pub fn parse(value: &str) -> Result<Subject, String> {
        let canonical = detect(value).map_err(|e| e.to_string())?;
        match canonical.kind {
            IndicatorKind::Ipv4 | IndicatorKind::Ipv6 => canonical
                .value
                .parse()
                .map(Subject::Ip)
                .map_err(|_| format!("`{}` is not an IP address", canonical.value)),
            IndicatorKind::Domain => Ok(Subject::Domain(canonical.value)),
            other => Err(format!(
                "`{value}` is of kind {other}; only IP addresses and domains can be enriched"
            )),
        }
    }

    /// Its kind.
    pub fn kind(&self) -> SubjectKind {
        match self {
            Subject::Ip(_) => SubjectKind::Ip,
            Subject::Domain(_) => SubjectKind::Domain,
        }
    }

    /// The address, if this is one.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Subject::Ip(ip) => Some(*ip),
            Subject::Domain(_) => None,
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Ip(ip) => write!(f, "{ip}"),
            Subject::Domain(domain) => f.write_str(domain),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_into_subjects() {
        assert_eq!(Subject::parse("192.0.2[.]1").unwrap().to_string(), "192.0.2.1");
        assert_eq!(Subject::parse("2001:DB8::1").unwrap().to_string(), "2001:db8::1");
        assert_eq!(
            Subject::parse("WWW.Example.COM").unwrap(),
            Subject::Domain("www.example.com".into())
        );
        assert_eq!(
            Subject::parse("http://example.com/x").unwrap_err(),
            "`http://example.com/x` is of kind url; only IP addresses and domains can be enriched"
        );
    }
}
