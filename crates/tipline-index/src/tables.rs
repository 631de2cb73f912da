//! [`Tables`]: one immutable table per kind of key (IPv4 and IPv6 prefixes, domains, exact
//! values), built together from `(Key, payload)` entries and asked with a [`Probe`].

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use tipline_model::{Canonical, IndicatorKind};

use crate::names::{NameTable, ParentRule};
use crate::prefix::{Address, PrefixTable};

/// Kinds of values matched exactly, as strings in canonical form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ExactKind {
    /// A canonical URL.
    Url,
    /// A canonical email address.
    Email,
    /// Lower-case hex MD5.
    Md5,
    /// Lower-case hex SHA-1.
    Sha1,
    /// Lower-case hex SHA-256.
    Sha256,
    /// `AS<n>`.
    Asn,
    /// Any other text (warninglist `string` entries of no known kind).
    Text,
}

const EXACT_KINDS: usize = 7;

impl ExactKind {
    fn slot(self) -> usize {
        self as usize
    }

    /// The exact kind of an indicator kind, if it is matched exactly.
    pub fn of(kind: IndicatorKind) -> Option<ExactKind> {
        Some(match kind {
            IndicatorKind::Url => ExactKind::Url,
            IndicatorKind::Email => ExactKind::Email,
            IndicatorKind::Md5 => ExactKind::Md5,
            IndicatorKind::Sha1 => ExactKind::Sha1,
            IndicatorKind::Sha256 => ExactKind::Sha256,
            IndicatorKind::Asn => ExactKind::Asn,
            IndicatorKind::Ipv4 | IndicatorKind::Ipv6 | IndicatorKind::Cidr => return None,
            IndicatorKind::Domain => return None,
        })
    }

    /// The indicator kind of values of this kind, if there is one.
    pub fn indicator_kind(self) -> Option<IndicatorKind> {
        Some(match self {
            ExactKind::Url => IndicatorKind::Url,
            ExactKind::Email => IndicatorKind::Email,
            ExactKind::Md5 => IndicatorKind::Md5,
            ExactKind::Sha1 => IndicatorKind::Sha1,
            ExactKind::Sha256 => IndicatorKind::Sha256,
            ExactKind::Asn => IndicatorKind::Asn,
            ExactKind::Text => return None,
        })
    }
}

/// What an entry is stored under.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// An IPv4 network (a host address is a /32).
    V4(u32, u8),
    /// An IPv6 network (a host address is a /128).
    V6(u128, u8),
    /// A domain name, lower-case ASCII; matches its subdomains unless a public suffix.
    Domain(Box<str>),
    /// A value matched exactly.
    Exact(ExactKind, Box<str>),
}

impl Key {
    /// The key of a canonical indicator value (`None` only for a malformed CIDR, which
    /// canonical values never are).
    pub fn of(canonical: &Canonical) -> Option<Key> {
        let value = canonical.value.as_str();
        Some(match canonical.kind {
            IndicatorKind::Ipv4 => Key::V4(u32::from(value.parse::<Ipv4Addr>().ok()?), 32),
            IndicatorKind::Ipv6 => Key::V6(u128::from(value.parse::<Ipv6Addr>().ok()?), 128),
            IndicatorKind::Cidr => {
                let (address, len) = value.split_once('/')?;
                let len: u8 = len.parse().ok()?;
                match address.parse::<IpAddr>().ok()? {
                    IpAddr::V4(a) if len <= 32 => Key::V4(u32::from(a), len),
                    IpAddr::V6(a) if len <= 128 => Key::V6(u128::from(a), len),
                    _ => return None,
                }
            }
            IndicatorKind::Domain => Key::Domain(value.into()),
            kind => Key::Exact(ExactKind::of(kind)?, value.into()),
        })
    }

    /// The indicator kind and canonical value this key stands for.
    pub fn canonical(&self) -> Canonical {
        Matched::from_key(self).canonical(match self {
            Key::Exact(kind, _) => kind.indicator_kind().unwrap_or(IndicatorKind::Domain),
            _ => IndicatorKind::Domain,
        })
    }
}

/// The stored key a probe matched: a network or a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matched<'a> {
    /// An IPv4 network.
    V4(u32, u8),
    /// An IPv6 network.
    V6(u128, u8),
    /// A domain or exact string.
    Name(&'a str),
}

impl Matched<'_> {
    fn from_key(key: &Key) -> Matched<'_> {
        match key {
            Key::V4(net, len) => Matched::V4(*net, *len),
            Key::V6(net, len) => Matched::V6(*net, *len),
            Key::Domain(name) | Key::Exact(_, name) => Matched::Name(name),
        }
    }

    /// The prefix length for networks (`None` for strings).
    pub fn prefix_len(&self) -> Option<u8> {
        match self {
            Matched::V4(_, len) | Matched::V6(_, len) => Some(*len),
            Matched::Name(_) => None,
        }
    }

    /// The canonical indicator this key is (networks become `ipv4`/`ipv6` at full
    /// length, `cidr` otherwise; strings take `string_kind`).
    pub fn canonical(&self, string_kind: IndicatorKind) -> Canonical {
        let kind = match self {
            Matched::V4(_, 32) => IndicatorKind::Ipv4,
            Matched::V6(_, 128) => IndicatorKind::Ipv6,
            Matched::V4(..) | Matched::V6(..) => IndicatorKind::Cidr,
            Matched::Name(_) => string_kind,
        };
        Canonical { kind, value: self.to_string() }
    }
}

impl fmt::Display for Matched<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Matched::V4(net, 32) => write!(f, "{}", Ipv4Addr::from(*net)),
            Matched::V4(net, len) => write!(f, "{}/{len}", Ipv4Addr::from(*net)),
            Matched::V6(net, 128) => write!(f, "{}", Ipv6Addr::from(*net)),
            Matched::V6(net, len) => write!(f, "{}/{len}", Ipv6Addr::from(*net)),
            Matched::Name(name) => f.write_str(name),
        }
    }
}

/// A value to look up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe<'a> {
    /// An address: every network containing it.
    Ip(IpAddr),
    /// A network: every network containing all of it.
    Net(IpAddr, u8),
    /// A domain name (lower-case ASCII): itself and its parents.
    Domain(&'a str),
    /// A value matched exactly.
    Exact(ExactKind, &'a str),
}

impl<'a> Probe<'a> {
    /// The probes a canonical value stands for: itself, and for a URL its host (an
    /// address or a domain), for an email its domain.
    pub fn expand(canonical: &'a Canonical, mut f: impl FnMut(Probe<'a>)) {
        let value = canonical.value.as_str();
        match canonical.kind {
            IndicatorKind::Ipv4 | IndicatorKind::Ipv6 => {
                if let Ok(ip) = value.parse() {
                    f(Probe::Ip(ip));
                }
            }
            IndicatorKind::Cidr => {
                if let Some((address, len)) = value.split_once('/')
                    && let (Ok(ip), Ok(len)) = (address.parse(), len.parse())
                {
                    f(Probe::Net(ip, len));
                }
            }
            IndicatorKind::Domain => f(Probe::Domain(value)),
            IndicatorKind::Url => {
                f(Probe::Exact(ExactKind::Url, value));
                if let Some(host) = url_host(value) {
                    Probe::host(host, f);
                }
            }
            IndicatorKind::Email => {
                f(Probe::Exact(ExactKind::Email, value));
                if let Some((_, domain)) = value.rsplit_once('@') {
                    f(Probe::Domain(domain));
                }
            }
            kind => {
                if let Some(exact) = ExactKind::of(kind) {
                    f(Probe::Exact(exact, value));
                }
            }
        }
    }

    /// The probe for a host name or address (IPv6 in brackets or not).
    pub fn host(host: &'a str, mut f: impl FnMut(Probe<'a>)) {
        let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        match bare.parse::<IpAddr>() {
            Ok(ip) => f(Probe::Ip(ip)),
            Err(_) => f(Probe::Domain(host)),
        }
    }
}

/// The host of a canonical URL (`scheme://[userinfo@]host[:port]/...`).
pub fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host_port.starts_with('[') {
        &host_port[..host_port.find(']').map_or(host_port.len(), |i| i + 1)]
    } else {
        host_port.split(':').next().unwrap_or(host_port)
    };
    (!host.is_empty()).then_some(host)
}

/// Immutable tables for every kind of key.
#[derive(Debug, Clone)]
pub struct Tables<P> {
    v4: PrefixTable<u32, P>,
    v6: PrefixTable<u128, P>,
    domains: NameTable<P>,
    exact: [NameTable<P>; EXACT_KINDS],
}

impl<P> Default for Tables<P> {
    fn default() -> Self {
        Tables::build(Vec::new(), ParentRule::PublicSuffixAware)
    }
}

impl<P> Tables<P> {
    /// Build from entries in any order; `rule` decides which domains match subdomains.
    pub fn build(entries: Vec<(Key, P)>, rule: ParentRule) -> Tables<P> {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        let mut domains = Vec::new();
        let mut exact: [Vec<(Box<str>, P)>; EXACT_KINDS] = Default::default();
        for (key, payload) in entries {
            match key {
                Key::V4(net, len) => v4.push((net, len, payload)),
                Key::V6(net, len) => v6.push((net, len, payload)),
                Key::Domain(name) => domains.push((name, payload)),
                Key::Exact(kind, value) => exact[kind.slot()].push((value, payload)),
            }
        }
        Tables {
            v4: PrefixTable::build(v4),
            v6: PrefixTable::build(v6),
            domains: NameTable::build(domains, rule),
            exact: exact.map(|entries| NameTable::build(entries, ParentRule::AnySuffix)),
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.v4.len()
            + self.v6.len()
            + self.domains.len()
            + self.exact.iter().map(NameTable::len).sum::<usize>()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Call `f(matched, payload)` for every entry `probe` matches: for an address every
    /// containing network (innermost first), for a domain itself then its parents.
    #[inline]
    pub fn for_each(&self, probe: Probe<'_>, mut f: impl FnMut(Matched<'_>, &P)) {
        match probe {
            Probe::Ip(IpAddr::V4(a)) => {
                self.v4.for_each_containing(u32::from(a), |n, l, p| f(Matched::V4(n, l), p))
            }
            Probe::Ip(IpAddr::V6(a)) => {
                self.v6.for_each_containing(u128::from(a), |n, l, p| f(Matched::V6(n, l), p))
            }
            Probe::Net(IpAddr::V4(a), len) => {
                self.v4.for_each_containing(u32::from(a).network(len.min(32)), |n, l, p| {
                    if l <= len {
                        f(Matched::V4(n, l), p)
                    }
                })
            }
            Probe::Net(IpAddr::V6(a), len) => {
                self.v6.for_each_containing(u128::from(a).network(len.min(128)), |n, l, p| {
                    if l <= len {
                        f(Matched::V6(n, l), p)
                    }
                })
            }
            Probe::Domain(name) => {
                self.domains.for_each_domain(name, |k, p| f(Matched::Name(k), p))
            }
            Probe::Exact(kind, value) => {
                self.exact[kind.slot()].for_each_exact(value, |k, p| f(Matched::Name(k), p))
            }
        }
    }

    /// Whether an IPv4 address is inside any stored network (the fastest question).
    #[inline]
    pub fn contains_v4(&self, address: Ipv4Addr) -> bool {
        self.v4.contains(u32::from(address))
    }

    /// Every entry with its key.
    pub fn iter(&self) -> impl Iterator<Item = (Key, &P)> + '_ {
        let v4 = self.v4.iter().map(|(n, l, p)| (Key::V4(n, l), p));
        let v6 = self.v6.iter().map(|(n, l, p)| (Key::V6(n, l), p));
        let domains = self.domains.iter().map(|(k, p)| (Key::Domain(k.into()), p));
        let exact = self.exact.iter().enumerate().flat_map(|(slot, table)| {
            let kind = EXACT_ORDER[slot];
            table.iter().map(move |(k, p)| (Key::Exact(kind, k.into()), p))
        });
        v4.chain(v6).chain(domains).chain(exact)
    }

    /// Heap bytes used by the tables (payloads at their inline size).
    pub fn heap_bytes(&self) -> usize {
        self.v4.heap_bytes()
            + self.v6.heap_bytes()
            + self.domains.heap_bytes()
            + self.exact.iter().map(NameTable::heap_bytes).sum::<usize>()
    }
}

const EXACT_ORDER: [ExactKind; EXACT_KINDS] = [
    ExactKind::Url,
    ExactKind::Email,
    ExactKind::Md5,
    ExactKind::Sha1,
    ExactKind::Sha256,
    ExactKind::Asn,
    ExactKind::Text,
];

#[cfg(test)]
mod tests {
    use tipline_model::detect;

    use super::*;

    #[test]
    fn exact_order_matches_slots() {
        for (slot, kind) in EXACT_ORDER.iter().enumerate() {
            assert_eq!(kind.slot(), slot);
        }
    }

    #[test]
    fn keys_round_trip_to_canonical_values() {
        for value in ["192.0.2.1", "10.0.0.0/8", "2001:db8::/32", "2001:db8::1", "0.0.0.0/0"] {
            let canonical = detect(value).unwrap();
            assert_eq!(Key::of(&canonical).unwrap().canonical(), canonical, "{value}");
        }
    }

    #[test]
    fn urls_and_emails_expand_to_their_hosts() {
        let mut probes = Vec::new();
        let url = detect("http://user@[2001:db8::1]:8080/x?y").unwrap();
        Probe::expand(&url, |p| probes.push(format!("{p:?}")));
        assert_eq!(probes.len(), 2);
        assert!(probes[1].contains("2001:db8::1"), "{probes:?}");
        assert_eq!(url_host("https://evil.example/a"), Some("evil.example"));
        assert_eq!(url_host("http://a:b@evil.example:81"), Some("evil.example"));
        let mut probes = Vec::new();
        let email = detect("x@mail.evil.example").unwrap();
        Probe::expand(&email, |p| probes.push(p));
        assert_eq!(probes[1], Probe::Domain("mail.evil.example"));
    }

    #[test]
    fn networks_probe_only_what_contains_them() {
        let entries = ["10.0.0.0/8", "10.1.0.0/16", "10.1.2.3"]
            .iter()
            .map(|v| (Key::of(&detect(v).unwrap()).unwrap(), *v))
            .collect();
        let tables = Tables::build(entries, ParentRule::PublicSuffixAware);
        let mut found = Vec::new();
        tables.for_each(Probe::Net("10.1.0.0".parse().unwrap(), 16), |m, p| {
            found.push((m.to_string(), *p))
        });
        assert_eq!(
            found,
            [("10.1.0.0/16".into(), "10.1.0.0/16"), ("10.0.0.0/8".into(), "10.0.0.0/8")]
        );
        assert_eq!(tables.iter().count(), 3);
    }
}
