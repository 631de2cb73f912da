//! Matching one observed value against all three parts of an [`Index`] at once: the
//! indicators it hits, the organizations it belongs to, the warninglists it is on.

use std::net::IpAddr;
use std::sync::Arc;

use tipline_formats::observable::Observed;
use tipline_model::{Canonical, IndicatorKind, canonicalize};

use crate::{
    Constituency, Index, IndicatorRef, IndicatorSnapshot, Probe, Victim, WarningHit, Warnings,
};

/// What one observed value matched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observation {
    /// Indicators hit, with the indicator value that matched (a containing network, a
    /// parent domain, or the value itself).
    pub hits: Vec<(Canonical, IndicatorRef)>,
    /// Organizations the value belongs to.
    pub victims: Vec<Victim>,
    /// Warninglists the value is on.
    pub warnings: Vec<WarningHit>,
}

impl Observation {
    /// Whether nothing matched.
    pub fn is_empty(&self) -> bool {
        self.hits.is_empty() && self.victims.is_empty() && self.warnings.is_empty()
    }
}

/// A consistent view of an [`Index`] for a batch of lookups.
#[derive(Debug, Clone)]
pub struct Matcher {
    /// Indicators.
    pub indicators: Arc<IndicatorSnapshot>,
    /// Constituency.
    pub constituency: Arc<Constituency>,
    /// Warninglists.
    pub warnings: Arc<Warnings>,
}

impl Matcher {
    /// The current state of `index`.
    pub fn new(index: &Index) -> Matcher {
        Matcher {
            indicators: index.indicators.snapshot(),
            constituency: index.constituency.load_full(),
            warnings: index.warnings.load_full(),
        }
    }

    /// Match an address (the hot path of log matching: no allocation unless it hits).
    #[inline]
    pub fn observe_ip(&self, ip: IpAddr, asn_of: &dyn Fn(IpAddr) -> Option<u32>) -> Observation {
        let mut observation = Observation::default();
        self.indicators
            .for_each(Probe::Ip(ip), |m, r| observation.hits.push((m.canonical(r.kind), *r)));
        observation.victims = self.constituency.lookup_ip(ip, asn_of(ip));
        observation.warnings = self.warnings.check_ip(ip);
        observation
    }

    /// Match a canonical value: its indicators (a URL also by its host, an email by its
    /// domain), victims and warnings.
    pub fn observe(
        &self,
        value: &Canonical,
        asn_of: &dyn Fn(IpAddr) -> Option<u32>,
    ) -> Observation {
        let mut observation = Observation::default();
        Probe::expand(value, |probe| {
            self.indicators.for_each(probe, |m, r| observation.hits.push((m.canonical(r.kind), *r)))
        });
        observation.victims = self.constituency.lookup(value, asn_of);
        observation.warnings = self.warnings.check(value);
        observation
    }

    /// Match an observed value from a record.
    pub fn observe_observed(
        &self,
        observed: &Observed<'_>,
        asn_of: &dyn Fn(IpAddr) -> Option<u32>,
    ) -> Observation {
        match observed {
            Observed::Ip(ip) => self.observe_ip(*ip, asn_of),
            other => match canonical_of(other) {
                Some(value) => self.observe(&value, asn_of),
                None => Observation::default(),
            },
        }
    }
}

/// The canonical value of an observed one (URLs are normalized; the others are already
/// in canonical form when the scanner produced them).
pub fn canonical_of(observed: &Observed<'_>) -> Option<Canonical> {
    let (kind, text) = match observed {
        Observed::Ip(IpAddr::V4(ip)) => (IndicatorKind::Ipv4, ip.to_string()),
        Observed::Ip(IpAddr::V6(ip)) => (IndicatorKind::Ipv6, ip.to_string()),
        Observed::Domain(name) => (IndicatorKind::Domain, name.to_string()),
        Observed::Email(email) => (IndicatorKind::Email, email.to_string()),
        Observed::Hash(kind, hash) => (*kind, hash.to_string()),
        Observed::Asn(n) => (IndicatorKind::Asn, format!("AS{n}")),
        Observed::Url(url) => return canonicalize(IndicatorKind::Url, url).ok(),
    };
    Some(Canonical { kind, value: text })
}

#[cfg(test)]
mod tests {
    use tipline_formats::warninglist::parse;
    use tipline_model::{ConstituencyKind, Tlp, detect};
    use uuid::Uuid;

    use super::*;
    use crate::{IndicatorEntry, Owner, RegisteredEntry};

    #[test]
    fn one_value_against_all_three() {
        let index = Index::default();
        index.indicators.replace_all([IndicatorEntry {
            id: Uuid::from_u128(1),
            owner: Owner::File("drop.txt".into()),
            tlp: Tlp::Clear,
            value: detect("203.0.113.0/24").unwrap(),
        }]);
        index.constituency.store(Arc::new(Constituency::build([RegisteredEntry {
            org: Uuid::from_u128(9),
            kind: ConstituencyKind::Cidr,
            value: "203.0.113.0/25".into(),
        }])));
        let list = parse(br#"{"name":"test-net","description":"","version":1,"type":"cidr","list":["203.0.113.0/24"]}"#)
            .unwrap();
        index.warnings.store(Arc::new(Warnings::build([(None, &list)]).unwrap()));
        let matcher = Matcher::new(&index);
        let observation = matcher.observe_ip("203.0.113.5".parse().unwrap(), &|_| None);
        assert_eq!(observation.hits[0].0.value, "203.0.113.0/24");
        assert_eq!(observation.victims[0].org_id, Uuid::from_u128(9));
        assert_eq!(observation.warnings[0].list, "test-net");
        let url = Observed::Url("HTTP://203.0.113.5/x".into());
        let observation = matcher.observe_observed(&url, &|_| None);
        assert_eq!(observation.hits.len(), 1, "a URL matches by its host");
        assert!(matcher.observe_ip("198.51.100.1".parse().unwrap(), &|_| None).is_empty());
    }
}
