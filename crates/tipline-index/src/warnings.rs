//! Warninglists in memory: "is this value known benign?" (a public DNS resolver, a cloud
//! range, a top-1000 site, the hash of an empty file). A hit names the list.
//!
//! All lists are compiled together: `cidr` entries into one prefix table, `hostname`
//! entries (and `string` entries written with a leading dot) into one domain table that
//! matches subdomains, `string` entries into one exact table, `substring` entries into one
//! Aho-Corasick automaton and `regex` entries into one `RegexSet`, each entry remembering
//! its list. A list applies only to the indicator kinds of its `matching_attributes`.
//! Values are compared in lower case. An address is checked against `cidr` lists, a domain
//! against `hostname`, `string`, `substring` and `regex` lists, any other value against
//! `string`, `substring` and `regex` lists; a URL is also checked by its host, an email by
//! its domain (as the indicator index does).

use std::net::IpAddr;

use aho_corasick::AhoCorasick;
use regex::RegexSet;
use serde::Serialize;
use tipline_formats::warninglist::{ListType, Warninglist};
use tipline_model::{Canonical, IndicatorKind};
use uuid::Uuid;

use crate::names::ParentRule;
use crate::tables::{ExactKind, Key, Probe, Tables};

/// A set of indicator kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct KindMask(u16);

impl KindMask {
    fn of(kinds: Option<&[IndicatorKind]>) -> KindMask {
        match kinds {
            None => KindMask(u16::MAX),
            Some(kinds) => KindMask(kinds.iter().fold(0, |m, k| m | (1 << *k as u16))),
        }
    }

    fn has(self, kind: IndicatorKind) -> bool {
        self.0 & (1 << kind as u16) != 0
    }
}

/// A list as the matcher knows it.
#[derive(Debug, Clone)]
struct ListInfo {
    id: Option<Uuid>,
    name: String,
    kinds: KindMask,
}

/// A value found on a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct WarningHit {
    /// The list's id in the store (absent for lists read from files).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list_id: Option<Uuid>,
    /// The list's name, e.g. "List of known IPv4 public DNS resolvers".
    pub list: String,
    /// The value that is on the list (the observed value, or its host or domain).
    pub value: String,
    /// The entry that matched (a network, domain, string, substring or pattern).
    pub entry: String,
}

impl WarningHit {
    /// The hit as a sentence: "8.8.8.8 is on list 'List of known IPv4 public DNS resolvers'".
    pub fn message(&self) -> String {
        format!("{} is on list '{}'", self.value, self.list)
    }
}

/// Compiled warninglists.
#[derive(Debug, Default)]
pub struct Warnings {
    lists: Vec<ListInfo>,
    /// Payload: list number.
    tables: Tables<u32>,
    substrings: Option<AhoCorasick>,
    substring_lists: Vec<(u32, String)>,
    regexes: Option<RegexSet>,
    regex_lists: Vec<(u32, String)>,
}

/// Why lists could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("warninglist `{list}`: {reason}")]
pub struct WarningsError {
    /// The list at fault.
    pub list: String,
    /// What is wrong.
    pub reason: String,
}

impl Warnings {
    /// Compile lists (with their store ids, when they have one).
    pub fn build<'a>(
        lists: impl IntoIterator<Item = (Option<Uuid>, &'a Warninglist)>,
    ) -> Result<Warnings, WarningsError> {
        let mut infos = Vec::new();
        let mut entries: Vec<(Key, u32)> = Vec::new();
        let mut substrings = Vec::new();
        let mut patterns = Vec::new();
        for (id, list) in lists {
            let number = infos.len() as u32;
            infos.push(ListInfo {
                id,
                name: list.name.clone(),
                kinds: KindMask::of(list.kinds().as_deref()),
            });
            for entry in &list.entries {
                match list.list_type {
                    ListType::Cidr => {
                        let canonical =
                            Canonical { kind: IndicatorKind::Cidr, value: entry.clone() };
                        let key = Key::of(&canonical).ok_or_else(|| WarningsError {
                            list: list.name.clone(),
                            reason: format!("`{entry}` is not a network"),
                        })?;
                        entries.push((key, number));
                    }
                    ListType::Hostname => {
                        entries.push((Key::Domain(entry.as_str().into()), number))
                    }
                    ListType::String => match entry.strip_prefix('.') {
                        Some(domain) => entries.push((Key::Domain(domain.into()), number)),
                        None => entries
                            .push((Key::Exact(ExactKind::Text, entry.as_str().into()), number)),
                    },
                    ListType::Substring => substrings.push((number, entry.clone())),
                    ListType::Regex => patterns.push((number, entry.clone())),
                }
            }
        }
        let substring_automaton = if substrings.is_empty() {
            None
        } else {
            Some(AhoCorasick::new(substrings.iter().map(|(_, s)| s.as_str())).map_err(|e| {
                WarningsError { list: "substring lists".into(), reason: e.to_string() }
            })?)
        };
        let regexes =
            if patterns.is_empty() {
                None
            } else {
                Some(RegexSet::new(patterns.iter().map(|(_, p)| p.as_str())).map_err(|e| {
                    WarningsError { list: "regex lists".into(), reason: e.to_string() }
                })?)
            };
        Ok(Warnings {
            lists: infos,
            tables: Tables::build(entries, ParentRule::AnySuffix),
            substrings: substring_automaton,
            substring_lists: substrings,
            regexes,
            regex_lists: patterns,
        })
    }

    /// Number of lists.
    pub fn list_count(&self) -> usize {
        self.lists.len()
    }

    /// The lists a canonical value (or its host or domain) is on, one hit per list.
    pub fn check(&self, value: &Canonical) -> Vec<WarningHit> {
        let mut hits = Vec::new();
        Probe::expand(value, |probe| {
            let (kind, text): (IndicatorKind, std::borrow::Cow<'_, str>) = match probe {
                Probe::Ip(ip) => (kind_of_ip(ip), ip.to_string().into()),
                Probe::Net(..) => (IndicatorKind::Cidr, value.value.as_str().into()),
                Probe::Domain(name) => (IndicatorKind::Domain, name.into()),
                Probe::Exact(_, text) => (value.kind, text.into()),
            };
            self.check_probe(probe, kind, &text, &mut hits);
        });
        hits
    }

    /// The lists an address is on (the fast path for log matching).
    pub fn check_ip(&self, ip: IpAddr) -> Vec<WarningHit> {
        let mut hits = Vec::new();
        self.check_probe(Probe::Ip(ip), kind_of_ip(ip), &ip.to_string(), &mut hits);
        hits
    }

    fn check_probe(
        &self,
        probe: Probe<'_>,
        kind: IndicatorKind,
        text: &str,
        hits: &mut Vec<WarningHit>,
    ) {
        let mut add = |number: u32, entry: &str| {
            let info = &self.lists[number as usize];
            if info.kinds.has(kind) && !hits.iter().any(|h: &WarningHit| h.list == info.name) {
                hits.push(WarningHit {
                    list_id: info.id,
                    list: info.name.clone(),
                    value: text.to_string(),
                    entry: entry.to_string(),
                });
            }
        };
        match probe {
            Probe::Ip(_) | Probe::Net(..) => {
                self.tables.for_each(probe, |m, &n| add(n, &m.to_string()));
                return;
            }
            Probe::Domain(_) => self.tables.for_each(probe, |m, &n| add(n, &m.to_string())),
            Probe::Exact(..) => {}
        }
        let lower = text.to_lowercase();
        self.tables.for_each(Probe::Exact(ExactKind::Text, &lower), |m, &n| add(n, &m.to_string()));
        if let Some(automaton) = &self.substrings {
            for found in automaton.find_overlapping_iter(&lower) {
                let (n, entry) = &self.substring_lists[found.pattern().as_usize()];
                add(*n, entry);
            }
        }
        if let Some(set) = &self.regexes {
            for i in set.matches(text).iter() {
                let (n, pattern) = &self.regex_lists[i];
                add(*n, pattern);
            }
        }
    }
}

fn kind_of_ip(ip: IpAddr) -> IndicatorKind {
    if ip.is_ipv4() { IndicatorKind::Ipv4 } else { IndicatorKind::Ipv6 }
}

#[cfg(test)]
mod tests {
    use tipline_formats::warninglist::parse;
    use tipline_model::detect;

    use super::*;

    fn list(name: &str, list_type: &str, attributes: &[&str], entries: &[&str]) -> Warninglist {
        let text = serde_json::json!({
            "name": name, "description": "", "version": 1, "type": list_type,
            "matching_attributes": attributes, "list": entries,
        });
        parse(text.to_string().as_bytes()).unwrap()
    }

    fn names(warnings: &Warnings, value: &str) -> Vec<String> {
        warnings.check(&detect(value).unwrap()).into_iter().map(|h| h.list).collect()
    }

    #[test]
    fn every_type_matches_and_names_its_list() {
        let lists = [
            list("dns", "cidr", &["ip-src", "ip-dst"], &["8.8.8.8", "2001:4860:4860::8888"]),
            list("cloud", "cidr", &["ip-dst"], &["8.8.8.0/24"]),
            list("ddns", "hostname", &["domain", "hostname"], &[".duckdns.org"]),
            list("top", "string", &["domain", "url"], &["google.com", ".google.ad"]),
            list("sandbox", "substring", &["domain", "url"], &["malwr"]),
            list("contacts", "regex", &["email-src"], &[r"/^(abuse|soc)\@.*$/i"]),
            list("empty", "string", &["md5"], &["d41d8cd98f00b204e9800998ecf8427e"]),
        ];
        let warnings = Warnings::build(lists.iter().map(|l| (None, l))).unwrap();
        assert_eq!(names(&warnings, "8.8.8.8"), ["dns", "cloud"]);
        assert_eq!(names(&warnings, "8.8.8.9"), ["cloud"]);
        assert_eq!(names(&warnings, "2001:4860:4860::8888"), ["dns"]);
        assert_eq!(names(&warnings, "evil.duckdns.org"), ["ddns"]);
        assert_eq!(names(&warnings, "google.com"), ["top"]);
        assert!(names(&warnings, "www.google.com").is_empty(), "string lists are exact");
        assert_eq!(names(&warnings, "maps.google.ad"), ["top"]);
        assert_eq!(names(&warnings, "x.malwr.example"), ["sandbox"]);
        assert_eq!(names(&warnings, "http://me.duckdns.org/x"), ["ddns"]);
        assert_eq!(names(&warnings, "ABUSE@example.org"), ["contacts"]);
        assert!(
            names(&warnings, "abuse.example.org").is_empty(),
            "regex list applies to emails only"
        );
        assert_eq!(names(&warnings, "d41d8cd98f00b204e9800998ecf8427e"), ["empty"]);
        let hit = &warnings.check_ip("8.8.8.8".parse().unwrap())[0];
        assert_eq!(hit.message(), "8.8.8.8 is on list 'dns'");
        assert_eq!(hit.entry, "8.8.8.8");
    }
}
