//! String-keyed tables: exact values (URLs, emails, hashes, warninglist strings) and domain
//! names with parent matching.
//!
//! Each distinct key is stored once, in a node array; a hash table of node numbers (keyed
//! by the hash of the node's string) finds it. Payloads of a node are contiguous.
//!
//! Domain lookups walk the probe's suffixes at label boundaries (`a.b.evil.com`,
//! `b.evil.com`, `evil.com`), one hash probe each. Whether a stored domain also matches
//! its subdomains is decided when the table is built ([`ParentRule`]): for indicators and
//! constituency, a public suffix (`co.uk`, `duckdns.org`) matches only itself, so an entry
//! on one never matches every name below it; warninglists keep MISP's plain suffix rule.

use std::hash::BuildHasher;

use hashbrown::HashTable;

/// When a stored domain matches names below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParentRule {
    /// Every stored domain that is not a public suffix (per the public-suffix list,
    /// ICANN and private sections) matches its subdomains; public suffixes match only
    /// themselves.
    PublicSuffixAware,
    /// Every stored domain matches its subdomains (MISP warninglist `hostname` semantics).
    AnySuffix,
}

/// Whether `name` is a public suffix: `com`, `co.uk`, `blogspot.com`, or an unknown TLD.
pub fn is_public_suffix(name: &str) -> bool {
    psl::suffix_str(name).is_some_and(|suffix| suffix.len() == name.len())
}

fn hasher() -> foldhash::fast::FixedState {
    foldhash::fast::FixedState::with_seed(0x0074_6970_6c69_6e65)
}

/// An immutable table from strings to payloads.
#[derive(Debug, Clone)]
pub struct NameTable<P> {
    keys: Vec<Box<str>>,
    /// Whether node `i` matches names below it (domain tables only).
    parent_ok: Vec<bool>,
    starts: Vec<u32>,
    payloads: Vec<P>,
    table: HashTable<u32>,
    /// Longest key in bytes: probes longer than this cannot match exactly.
    longest: usize,
    rule: ParentRule,
}

impl<P> Default for NameTable<P> {
    fn default() -> Self {
        NameTable::build(Vec::new(), ParentRule::AnySuffix)
    }
}

impl<P> NameTable<P> {
    /// Build from `(key, payload)` entries in any order; keys are taken as given (the
    /// caller canonicalizes). `rule` decides which keys also match subdomains.
    pub fn build(mut entries: Vec<(Box<str>, P)>, rule: ParentRule) -> Self {
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let state = hasher();
        let mut keys: Vec<Box<str>> = Vec::new();
        let mut starts = Vec::new();
        let mut payloads = Vec::with_capacity(entries.len());
        for (key, payload) in entries {
            if keys.last() != Some(&key) {
                keys.push(key);
                starts.push(payloads.len() as u32);
            }
            payloads.push(payload);
        }
        starts.push(payloads.len() as u32);
        let mut table = HashTable::with_capacity(keys.len());
        for (i, key) in keys.iter().enumerate() {
            let hash = state.hash_one(&**key);
            table.insert_unique(hash, i as u32, |&n| state.hash_one(&*keys[n as usize]));
        }
        let parent_ok = keys
            .iter()
            .map(|k| match rule {
                ParentRule::AnySuffix => true,
                ParentRule::PublicSuffixAware => !is_public_suffix(k),
            })
            .collect();
        let longest = keys.iter().map(|k| k.len()).max().unwrap_or(0);
        NameTable { keys, parent_ok, starts, payloads, table, longest, rule }
    }

    /// Number of payloads.
    pub fn len(&self) -> usize {
        self.payloads.len()
    }

    /// Whether the table holds nothing.
    pub fn is_empty(&self) -> bool {
        self.payloads.is_empty()
    }

    #[inline]
    fn node(&self, key: &str) -> Option<usize> {
        if key.len() > self.longest || self.keys.is_empty() {
            return None;
        }
        let hash = hasher().hash_one(key);
        self.table.find(hash, |&n| &*self.keys[n as usize] == key).map(|&n| n as usize)
    }

    #[inline]
    fn payloads_of(&self, node: usize) -> &[P] {
        &self.payloads[self.starts[node] as usize..self.starts[node + 1] as usize]
    }

    /// Call `f(key, payload)` for every payload stored under exactly `key`.
    #[inline]
    pub fn for_each_exact(&self, key: &str, mut f: impl FnMut(&str, &P)) {
        if let Some(node) = self.node(key) {
            for payload in self.payloads_of(node) {
                f(&self.keys[node], payload);
            }
        }
    }

    /// Call `f(key, payload)` for every payload stored under `name` or under one of its
    /// parent domains that matches subdomains, most specific first. Parents are tried at
    /// label boundaries; under [`ParentRule::PublicSuffixAware`] only with at least two
    /// labels (a one-label parent is a top-level domain: always a public suffix).
    #[inline]
    pub fn for_each_domain(&self, name: &str, mut f: impl FnMut(&str, &P)) {
        self.for_each_exact(name, &mut f);
        let bytes = name.as_bytes();
        let mut i = 0;
        while let Some(dot) = memchr_dot(&bytes[i..]) {
            let parent = &name[i + dot + 1..];
            i += dot + 1;
            if self.rule == ParentRule::PublicSuffixAware && memchr_dot(parent.as_bytes()).is_none()
            {
                break;
            }
            if let Some(node) = self.node(parent)
                && self.parent_ok[node]
            {
                for payload in self.payloads_of(node) {
                    f(&self.keys[node], payload);
                }
            }
        }
    }

    /// Every entry, as `(key, payload)`, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &P)> + '_ {
        (0..self.keys.len())
            .flat_map(move |n| self.payloads_of(n).iter().map(move |p| (&*self.keys[n], p)))
    }

    /// Heap bytes used (keys, tables, payloads at their inline size).
    pub fn heap_bytes(&self) -> usize {
        self.keys.iter().map(|k| k.len()).sum::<usize>()
            + self.keys.capacity() * size_of::<Box<str>>()
            + self.parent_ok.capacity()
            + self.starts.capacity() * 4
            + self.payloads.capacity() * size_of::<P>()
            + self.table.capacity() * 5
    }
}

#[inline]
fn memchr_dot(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'.')
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn domains(table: &NameTable<usize>, name: &str) -> Vec<(String, usize)> {
        let mut found = Vec::new();
        table.for_each_domain(name, |k, &p| found.push((k.to_string(), p)));
        found
    }

    #[test]
    fn parents_match_but_public_suffixes_only_match_themselves() {
        let table = NameTable::build(
            vec![
                ("evil.com".into(), 1usize),
                ("b.evil.com".into(), 2),
                ("co.uk".into(), 3),
                ("com".into(), 4),
                ("duckdns.org".into(), 5),
                ("bad.co.uk".into(), 6),
            ],
            ParentRule::PublicSuffixAware,
        );
        assert_eq!(
            domains(&table, "a.b.evil.com"),
            [("b.evil.com".to_string(), 2), ("evil.com".to_string(), 1)]
        );
        assert_eq!(domains(&table, "evil.com"), [("evil.com".to_string(), 1)]);
        assert!(domains(&table, "notevil.com").is_empty());
        assert!(domains(&table, "x.example.co.uk").is_empty());
        assert_eq!(domains(&table, "co.uk"), [("co.uk".to_string(), 3)]);
        assert_eq!(domains(&table, "com"), [("com".to_string(), 4)]);
        assert!(domains(&table, "me.duckdns.org").is_empty(), "private-section suffix");
        assert_eq!(domains(&table, "www.bad.co.uk"), [("bad.co.uk".to_string(), 6)]);

        let any = NameTable::build(vec![("duckdns.org".into(), 1usize)], ParentRule::AnySuffix);
        assert_eq!(domains(&any, "me.duckdns.org"), [("duckdns.org".to_string(), 1)]);
    }

    #[test]
    fn exact_lookups_share_payloads() {
        let table = NameTable::build(
            vec![("a".into(), 1usize), ("b".into(), 2), ("a".into(), 3)],
            ParentRule::AnySuffix,
        );
        let mut found = Vec::new();
        table.for_each_exact("a", |_, &p| found.push(p));
        assert_eq!(found, [1, 3]);
        assert_eq!(table.iter().count(), 3);
        table.for_each_exact("c", |_, _| panic!("no such key"));
    }

    /// A domain from a small random label tree, so that parents and children collide.
    fn name() -> impl Strategy<Value = String> {
        let label = prop_oneof![Just("a"), Just("b"), Just("evil"), Just("x-1"), Just("c0")];
        let tld =
            prop_oneof![Just("com"), Just("uk"), Just("co.uk"), Just("test"), Just("github.io")];
        (proptest::collection::vec(label, 0..4), tld).prop_map(|(labels, tld)| {
            let mut parts: Vec<&str> = labels;
            parts.push(tld);
            parts.join(".")
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn domains_match_brute_force(
            stored in proptest::collection::vec(name(), 0..40),
            probes in proptest::collection::vec(name(), 1..40),
        ) {
            let entries: Vec<(Box<str>, usize)> =
                stored.iter().enumerate().map(|(i, n)| (n.as_str().into(), i)).collect();
            let table = NameTable::build(entries.clone(), ParentRule::PublicSuffixAware);
            for probe in probes.iter().chain(&stored) {
                let mut expected: Vec<(String, usize)> = entries
                    .iter()
                    .filter(|(key, _)| {
                        **key == **probe
                            || (probe.ends_with(&format!(".{key}")) && !is_public_suffix(key))
                    })
                    .map(|(k, p)| (k.to_string(), *p))
                    .collect();
                expected.sort();
                let mut found = domains(&table, probe);
                found.sort();
                prop_assert_eq!(found, expected, "probe {}", probe);
            }
        }
    }
}
