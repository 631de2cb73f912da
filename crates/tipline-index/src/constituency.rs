//! Constituency: which member organization registered an address, network, ASN or domain
//! ("who is the victim?").
//!
//! Rules, in order: an address belongs to the organizations registering the **longest**
//! prefix that contains it; without one, to those registering its autonomous system (when
//! the caller knows it, e.g. from a GeoIP ASN database); a domain belongs to those
//! registering the **most specific** registered domain at or above it (a public suffix
//! covers only itself); an ASN to those registering it. Ties return every organization.
//! URLs are looked up by their host, emails by their domain.

use std::net::IpAddr;

use serde::Serialize;
use tipline_model::{Canonical, ConstituencyKind, IndicatorKind};
use uuid::Uuid;

use crate::names::ParentRule;
use crate::tables::{ExactKind, Key, Matched, Probe, Tables};

/// One registered entry: an organization's network, ASN or domain, in canonical form (as
/// `tipline_model::admin::ConstituencyEntry::canonical` makes it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredEntry {
    /// The registering organization.
    pub org: Uuid,
    /// What the value is.
    pub kind: ConstituencyKind,
    /// `192.0.2.0/24` (addresses as `/32` or `/128`), `AS64500`, or `example.org`.
    pub value: String,
}

/// An organization an observed value belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Victim {
    /// The organization.
    pub org_id: Uuid,
    /// Which kind of registration matched.
    pub by: ConstituencyKind,
    /// The registered value that matched (`192.0.2.0/24`, `AS64500`, `example.org`).
    pub registered: String,
}

/// An immutable constituency table.
#[derive(Debug, Default, Clone)]
pub struct Constituency {
    tables: Tables<Uuid>,
    entries: usize,
}

impl Constituency {
    /// Build from registered entries; entries whose value is malformed are skipped (they
    /// were validated when registered).
    pub fn build(entries: impl IntoIterator<Item = RegisteredEntry>) -> Constituency {
        let keyed: Vec<(Key, Uuid)> = entries
            .into_iter()
            .filter_map(|e| {
                let kind = match e.kind {
                    ConstituencyKind::Cidr => IndicatorKind::Cidr,
                    ConstituencyKind::Asn => IndicatorKind::Asn,
                    ConstituencyKind::Domain => IndicatorKind::Domain,
                };
                Some((Key::of(&Canonical { kind, value: e.value })?, e.org))
            })
            .collect();
        let entries = keyed.len();
        Constituency { tables: Tables::build(keyed, ParentRule::PublicSuffixAware), entries }
    }

    /// Number of registered entries.
    pub fn len(&self) -> usize {
        self.entries
    }

    /// Whether nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// The organizations an address belongs to: longest registered prefix, else the
    /// registrants of `asn`.
    pub fn lookup_ip(&self, ip: IpAddr, asn: Option<u32>) -> Vec<Victim> {
        let mut best: Vec<Victim> = Vec::new();
        let mut best_len = None;
        self.tables.for_each(Probe::Ip(ip), |matched, org| {
            let len = matched.prefix_len();
            // Innermost first: once a prefix is taken, shorter ones are ignored.
            if best_len.is_none() || best_len == len {
                best_len = len;
                push(&mut best, *org, ConstituencyKind::Cidr, matched);
            }
        });
        if best.is_empty()
            && let Some(asn) = asn
        {
            return self.lookup_asn(asn);
        }
        best
    }

    /// The organizations registering the most specific domain at or above `name`.
    pub fn lookup_domain(&self, name: &str) -> Vec<Victim> {
        let mut best: Vec<Victim> = Vec::new();
        let mut best_len = 0;
        self.tables.for_each(Probe::Domain(name), |matched, org| {
            let len = matched.to_string().len();
            if best.is_empty() || len == best_len {
                best_len = len;
                push(&mut best, *org, ConstituencyKind::Domain, matched);
            }
        });
        best
    }

    /// The organizations registering autonomous system `asn`.
    pub fn lookup_asn(&self, asn: u32) -> Vec<Victim> {
        let mut found = Vec::new();
        let key = format!("AS{asn}");
        self.tables.for_each(Probe::Exact(ExactKind::Asn, &key), |matched, org| {
            push(&mut found, *org, ConstituencyKind::Asn, matched)
        });
        found
    }

    /// The organizations a canonical value belongs to (see the module rules); `asn_of`
    /// resolves an address's autonomous system when the caller can.
    pub fn lookup(&self, value: &Canonical, asn_of: &dyn Fn(IpAddr) -> Option<u32>) -> Vec<Victim> {
        let mut found = Vec::new();
        Probe::expand(value, |probe| {
            if !found.is_empty() {
                return;
            }
            found = match probe {
                Probe::Ip(ip) => self.lookup_ip(ip, asn_of(ip)),
                Probe::Net(ip, len) => {
                    let mut best = Vec::new();
                    let mut best_len = None;
                    self.tables.for_each(Probe::Net(ip, len), |matched, org| {
                        if best_len.is_none() || best_len == matched.prefix_len() {
                            best_len = matched.prefix_len();
                            push(&mut best, *org, ConstituencyKind::Cidr, matched);
                        }
                    });
                    best
                }
                Probe::Domain(name) => self.lookup_domain(name),
                Probe::Exact(ExactKind::Asn, value) => value
                    .strip_prefix("AS")
                    .and_then(|n| n.parse().ok())
                    .map(|n| self.lookup_asn(n))
                    .unwrap_or_default(),
                Probe::Exact(..) => Vec::new(),
            };
        });
        found
    }
}

fn push(found: &mut Vec<Victim>, org: Uuid, by: ConstituencyKind, matched: Matched<'_>) {
    if found.iter().any(|v| v.org_id == org) {
        return;
    }
    let registered = match matched {
        Matched::V4(net, len) => format!("{}/{len}", std::net::Ipv4Addr::from(net)),
        Matched::V6(net, len) => format!("{}/{len}", std::net::Ipv6Addr::from(net)),
        Matched::Name(name) => name.to_string(),
    };
    found.push(Victim { org_id: org, by, registered });
}

#[cfg(test)]
mod tests {
    use tipline_model::detect;

    use super::*;

    fn org(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn entry(n: u128, kind: ConstituencyKind, value: &str) -> RegisteredEntry {
        RegisteredEntry { org: org(n), kind, value: value.into() }
    }

    fn table() -> Constituency {
        use ConstituencyKind::*;
        Constituency::build([
            entry(1, Cidr, "192.0.2.0/24"),
            entry(2, Cidr, "192.0.2.128/25"),
            entry(3, Cidr, "192.0.2.128/25"),
            entry(4, Cidr, "192.0.2.7/32"),
            entry(5, Asn, "AS64500"),
            entry(6, Domain, "example.org"),
            entry(7, Domain, "mail.example.org"),
            entry(8, Domain, "co.uk"),
            entry(9, Cidr, "2001:db8::/32"),
        ])
    }

    fn orgs(victims: &[Victim]) -> Vec<u128> {
        victims.iter().map(|v| v.org_id.as_u128()).collect()
    }

    #[test]
    fn most_specific_wins_and_ties_return_all() {
        let table = table();
        let lookup = |v: &str| orgs(&table.lookup(&detect(v).unwrap(), &|_| Some(64500)));
        assert_eq!(lookup("192.0.2.7"), [4]);
        assert_eq!(lookup("192.0.2.200"), [2, 3]);
        assert_eq!(lookup("192.0.2.5"), [1]);
        assert_eq!(lookup("203.0.113.1"), [5], "falls back to the address's ASN");
        assert_eq!(lookup("AS64500"), [5]);
        assert_eq!(lookup("a.mail.example.org"), [7]);
        assert_eq!(lookup("www.example.org"), [6]);
        assert_eq!(lookup("https://www.example.org/x"), [6]);
        assert_eq!(lookup("soc@mail.example.org"), [7]);
        assert_eq!(lookup("http://192.0.2.7/"), [4]);
        assert!(lookup("www.example.co.uk").is_empty(), "a public suffix covers only itself");
        assert_eq!(lookup("2001:db8::1"), [9]);
        assert_eq!(lookup("192.0.2.128/26"), [2, 3]);
        let no_asn = orgs(&table.lookup(&detect("203.0.113.1").unwrap(), &|_| None));
        assert!(no_asn.is_empty());
        let victim = &table.lookup_ip("192.0.2.7".parse().unwrap(), None)[0];
        assert_eq!(victim.registered, "192.0.2.7/32");
        assert_eq!(victim.by, ConstituencyKind::Cidr);
    }
}
