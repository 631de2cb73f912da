//! The indicator index: every active indicator by value, answering "is this known bad, and
//! to whom?" with the indicator ids, owners and TLP of every hit.
//!
//! Readers take an immutable [`IndicatorSnapshot`] (one atomic load) and never wait.
//! Changes go through [`IndicatorIndex::apply`], which builds a new snapshot and swaps it
//! in: a snapshot is a large `base` (shared between snapshots, rebuilt rarely) plus a
//! small `delta` of entries added since, and the set of indicator ids whose `base` entry
//! is no longer current (`dead`). Each change rebuilds only the delta; when the delta
//! outgrows an eighth of the base (at least 4,096, at most 262,144 entries), the base is
//! rebuilt from the live entries of both, off the readers' path.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use tipline_model::{Canonical, IndicatorKind, Tlp};
use uuid::Uuid;

use crate::names::ParentRule;
use crate::tables::{Key, Matched, Probe, Tables};

type FastState = foldhash::fast::RandomState;

/// Who holds an indicator: an organization (from the store), or a file given on the
/// command line (standalone matching).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Owner {
    /// An organization of the store.
    Org(Uuid),
    /// A list file, by the name it was given as.
    File(Arc<str>),
}

/// Index of an [`Owner`] in a snapshot's owner table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OwnerId(pub u32);

/// What a hit carries: enough to decide visibility and to report it without asking the
/// store per hit (24 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndicatorRef {
    /// The indicator (for file entries, a number local to the run).
    pub id: Uuid,
    /// Its owner, see [`IndicatorSnapshot::owner`].
    pub owner: OwnerId,
    /// Its TLP marking.
    pub tlp: Tlp,
    /// Its kind.
    pub kind: IndicatorKind,
}

/// An indicator to index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorEntry {
    /// Indicator id.
    pub id: Uuid,
    /// Owner.
    pub owner: Owner,
    /// TLP marking.
    pub tlp: Tlp,
    /// Kind and canonical value.
    pub value: Canonical,
}

/// A change to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Add the indicator, or replace the entry with its id.
    Upsert(IndicatorEntry),
    /// Drop the indicator with this id (no longer active, or deleted).
    Remove(Uuid),
}

/// One immutable state of the index.
#[derive(Debug, Default)]
pub struct IndicatorSnapshot {
    base: Arc<Tables<IndicatorRef>>,
    delta: Tables<IndicatorRef>,
    /// Whether `delta` holds anything (checked on every lookup).
    has_delta: bool,
    dead: Arc<HashSet<Uuid, FastState>>,
    owners: Arc<Vec<Owner>>,
}

impl IndicatorSnapshot {
    /// Call `f(matched, indicator)` for every live indicator `probe` matches. Within the
    /// base and within the delta, networks come innermost first and domains most
    /// specific first.
    #[inline]
    pub fn for_each(&self, probe: Probe<'_>, mut f: impl FnMut(Matched<'_>, &IndicatorRef)) {
        if self.dead.is_empty() {
            self.base.for_each(probe, &mut f);
        } else {
            self.base.for_each(probe, |m, r| {
                if !self.dead.contains(&r.id) {
                    f(m, r)
                }
            });
        }
        if self.has_delta {
            self.delta.for_each(probe, f);
        }
    }

    /// Every hit of `probe`, as `(matched canonical value, indicator)`.
    pub fn lookup(&self, probe: Probe<'_>) -> Vec<(Canonical, IndicatorRef)> {
        let mut hits = Vec::new();
        self.for_each(probe, |m, r| hits.push((m.canonical(r.kind), *r)));
        hits
    }

    /// Whether an IPv4 address is inside any indicator (dead entries included: a cheap
    /// pre-check before [`IndicatorSnapshot::for_each`]).
    #[inline]
    pub fn may_contain_v4(&self, address: std::net::Ipv4Addr) -> bool {
        self.base.contains_v4(address) || self.delta.contains_v4(address)
    }

    /// The owner behind an [`OwnerId`] of this snapshot.
    pub fn owner(&self, id: OwnerId) -> &Owner {
        &self.owners[id.0 as usize]
    }

    /// Number of owners in the owner table ([`OwnerId`]s are below it).
    pub fn owner_count(&self) -> usize {
        self.owners.len()
    }

    /// Number of live indicators.
    pub fn len(&self) -> usize {
        self.base.len() - self.dead_in_base() + self.delta.len()
    }

    /// Whether no indicator is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn dead_in_base(&self) -> usize {
        if self.dead.is_empty() {
            return 0;
        }
        self.base.iter().filter(|(_, r)| self.dead.contains(&r.id)).count()
    }

    /// Every live entry with its key.
    pub fn entries(&self) -> impl Iterator<Item = (Key, &IndicatorRef)> + '_ {
        self.base.iter().filter(|(_, r)| !self.dead.contains(&r.id)).chain(self.delta.iter())
    }

    /// Heap bytes of the tables (not the owner table or the dead set).
    pub fn heap_bytes(&self) -> usize {
        self.base.heap_bytes() + self.delta.heap_bytes()
    }
}

/// The writer's side: what the next snapshot is made of.
#[derive(Debug, Default)]
struct Writer {
    base: Arc<Tables<IndicatorRef>>,
    base_len: usize,
    delta: HashMap<Uuid, (Key, IndicatorRef), FastState>,
    dead: Arc<HashSet<Uuid, FastState>>,
    owners: Arc<Vec<Owner>>,
    owner_ids: HashMap<Owner, OwnerId, FastState>,
}

impl Writer {
    fn owner_id(&mut self, owner: Owner) -> OwnerId {
        if let Some(id) = self.owner_ids.get(&owner) {
            return *id;
        }
        let id = OwnerId(self.owners.len() as u32);
        Arc::make_mut(&mut self.owners).push(owner.clone());
        self.owner_ids.insert(owner, id);
        id
    }

    fn entry(&mut self, entry: IndicatorEntry) -> Option<(Key, IndicatorRef)> {
        let key = Key::of(&entry.value)?;
        let owner = self.owner_id(entry.owner);
        Some((key, IndicatorRef { id: entry.id, owner, tlp: entry.tlp, kind: entry.value.kind }))
    }

    /// The delta size that triggers a rebuild of the base.
    fn compaction_threshold(&self) -> usize {
        (self.base_len / 8).clamp(4096, 262_144)
    }

    fn snapshot(&self) -> IndicatorSnapshot {
        let delta = self.delta.values().map(|(k, r)| (k.clone(), *r)).collect();
        IndicatorSnapshot {
            base: self.base.clone(),
            delta: Tables::build(delta, ParentRule::PublicSuffixAware),
            has_delta: !self.delta.is_empty(),
            dead: self.dead.clone(),
            owners: self.owners.clone(),
        }
    }

    fn compact(&mut self) {
        let dead = std::mem::take(&mut self.dead);
        let mut entries: Vec<(Key, IndicatorRef)> =
            Vec::with_capacity(self.base_len + self.delta.len());
        entries
            .extend(self.base.iter().filter(|(_, r)| !dead.contains(&r.id)).map(|(k, r)| (k, *r)));
        entries.extend(self.delta.drain().map(|(_, e)| e));
        self.base_len = entries.len();
        self.base = Arc::new(Tables::build(entries, ParentRule::PublicSuffixAware));
    }
}

/// The shared, always-readable indicator index.
#[derive(Debug, Default)]
pub struct IndicatorIndex {
    current: ArcSwap<IndicatorSnapshot>,
    writer: Mutex<Writer>,
}

impl IndicatorIndex {
    /// An index of `entries` (a full build; ids are assumed unique).
    pub fn build(entries: impl IntoIterator<Item = IndicatorEntry>) -> IndicatorIndex {
        let index = IndicatorIndex::default();
        index.replace_all(entries);
        index
    }

    /// The current snapshot (one atomic load; hold it for a batch of lookups).
    pub fn snapshot(&self) -> Arc<IndicatorSnapshot> {
        self.current.load_full()
    }

    /// Replace everything with `entries` (a full rebuild; lookups keep using the previous
    /// snapshot until it is done).
    pub fn replace_all(&self, entries: impl IntoIterator<Item = IndicatorEntry>) {
        let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let mut fresh = Writer::default();
        let built: Vec<(Key, IndicatorRef)> =
            entries.into_iter().filter_map(|e| fresh.entry(e)).collect();
        fresh.base_len = built.len();
        fresh.base = Arc::new(Tables::build(built, ParentRule::PublicSuffixAware));
        *writer = fresh;
        self.current.store(Arc::new(writer.snapshot()));
    }

    /// Apply changes in order and publish the result as one new snapshot.
    pub fn apply(&self, changes: impl IntoIterator<Item = Change>) {
        let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let mut dead: Option<HashSet<Uuid, FastState>> = None;
        for change in changes {
            let id = match &change {
                Change::Upsert(entry) => entry.id,
                Change::Remove(id) => *id,
            };
            // Whatever the base holds for this id is no longer current.
            dead.get_or_insert_with(|| (*writer.dead).clone()).insert(id);
            writer.delta.remove(&id);
            if let Change::Upsert(entry) = change
                && let Some(entry) = writer.entry(entry)
            {
                writer.delta.insert(id, entry);
            }
        }
        if let Some(dead) = dead {
            writer.dead = Arc::new(dead);
        }
        if writer.delta.len() > writer.compaction_threshold() {
            writer.compact();
        }
        self.current.store(Arc::new(writer.snapshot()));
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use tipline_model::detect;

    use super::*;

    fn entry(n: u128, value: &str, owner: &str) -> IndicatorEntry {
        IndicatorEntry {
            id: Uuid::from_u128(n),
            owner: Owner::File(owner.into()),
            tlp: Tlp::Green,
            value: detect(value).unwrap(),
        }
    }

    fn answers(snapshot: &IndicatorSnapshot, probes: &[Canonical]) -> Vec<Vec<(String, Uuid)>> {
        probes
            .iter()
            .map(|probe| {
                let mut hits = Vec::new();
                Probe::expand(probe, |p| {
                    snapshot.for_each(p, |m, r| hits.push((m.to_string(), r.id)));
                });
                hits.sort();
                hits
            })
            .collect()
    }

    #[test]
    fn every_containing_indicator_with_owner_and_tlp() {
        let index = IndicatorIndex::build([
            entry(1, "198.51.100.7", "a"),
            entry(2, "198.51.100.0/24", "b"),
            entry(3, "198.51.0.0/16", "a"),
            entry(4, "evil.example", "b"),
            entry(5, "http://evil.example/x", "a"),
        ]);
        let snapshot = index.snapshot();
        let hits = snapshot.lookup(Probe::Ip("198.51.100.7".parse().unwrap()));
        let values: Vec<_> = hits.iter().map(|(c, _)| c.value.as_str()).collect();
        assert_eq!(values, ["198.51.100.7", "198.51.100.0/24", "198.51.0.0/16"]);
        assert_eq!(snapshot.owner(hits[1].1.owner), &Owner::File("b".into()));
        assert_eq!(hits[0].1.tlp, Tlp::Green);
        let url = detect("http://www.evil.example/x").unwrap();
        assert_eq!(answers(&snapshot, &[url])[0], [("evil.example".into(), Uuid::from_u128(4))]);
        assert_eq!(snapshot.len(), 5);
    }

    #[test]
    fn removals_and_replacements_take_effect() {
        let index = IndicatorIndex::build([entry(1, "10.0.0.0/8", "a"), entry(2, "10.1.1.1", "a")]);
        let before = index.snapshot();
        index
            .apply([Change::Remove(Uuid::from_u128(1)), Change::Upsert(entry(2, "10.2.2.2", "a"))]);
        let after = index.snapshot();
        let probe = Probe::Ip("10.1.1.1".parse().unwrap());
        assert_eq!(before.lookup(probe).len(), 2, "old snapshots stay as they were");
        assert!(after.lookup(probe).is_empty());
        assert_eq!(after.lookup(Probe::Ip("10.2.2.2".parse().unwrap())).len(), 1);
        assert_eq!(after.len(), 1);
    }

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            (0u8..4, any::<u8>(), prop_oneof![Just(32u8), 8u8..=32]).prop_map(|(a, b, len)| {
                let ip = u32::from_be_bytes([10, a, b, 7])
                    & (u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0));
                if len == 32 {
                    std::net::Ipv4Addr::from(ip).to_string()
                } else {
                    format!("{}/{len}", std::net::Ipv4Addr::from(ip))
                }
            }),
            (0u16..4, prop_oneof![Just(128u8), 16u8..=64]).prop_map(|(a, len)| {
                if len == 128 {
                    format!("2001:db8::{a}")
                } else {
                    format!("2001:db8:{a}::/{len}").replace("::/", "::/")
                }
            }),
            (
                prop_oneof![Just("a."), Just("b.a."), Just("")],
                prop_oneof![Just("evil.example"), Just("x.test")]
            )
                .prop_map(|(sub, d)| format!("{sub}{d}")),
            prop_oneof![Just("http://evil.example/p"), Just("a@b.a.evil.example")]
                .prop_map(str::to_string),
        ]
    }

    fn canonical(value: &str) -> Option<Canonical> {
        detect(value).ok().or_else(|| {
            // A random v6 network may have host bits set; use its network.
            let (address, len) = value.split_once('/')?;
            let address: std::net::Ipv6Addr = address.parse().ok()?;
            let len: u8 = len.parse().ok()?;
            let net =
                u128::from(address) & (u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0));
            detect(&format!("{}/{len}", std::net::Ipv6Addr::from(net))).ok()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Adding and removing in batches answers exactly like building the final set
        /// from scratch.
        #[test]
        fn incremental_updates_equal_a_fresh_build(
            initial in proptest::collection::vec((0u128..30, value()), 0..30),
            batches in proptest::collection::vec(
                proptest::collection::vec((0u128..30, proptest::option::of(value())), 1..20), 0..8),
            probes in proptest::collection::vec(value(), 1..30),
        ) {
            let make = |id: u128, v: &str| canonical(v).map(|c| IndicatorEntry {
                id: Uuid::from_u128(id), owner: Owner::File("f".into()), tlp: Tlp::Amber, value: c,
            });
            let mut live: std::collections::BTreeMap<u128, IndicatorEntry> = Default::default();
            for (id, v) in &initial {
                if let Some(e) = make(*id, v) { live.insert(*id, e); }
            }
            let index = IndicatorIndex::build(live.values().cloned());
            for batch in &batches {
                let mut changes = Vec::new();
                for (id, v) in batch {
                    match v.as_deref().and_then(|v| make(*id, v)) {
                        Some(e) => { live.insert(*id, e.clone()); changes.push(Change::Upsert(e)); }
                        None => { live.remove(id); changes.push(Change::Remove(Uuid::from_u128(*id))); }
                    }
                }
                index.apply(changes);
            }
            let fresh = IndicatorIndex::build(live.values().cloned());
            let probes: Vec<Canonical> = probes.iter().filter_map(|p| canonical(p)).collect();
            prop_assert_eq!(answers(&index.snapshot(), &probes), answers(&fresh.snapshot(), &probes));
            prop_assert_eq!(index.snapshot().len(), live.len());
        }
    }

    #[test]
    fn compaction_keeps_answers() {
        let index =
            IndicatorIndex::build((0..100u128).map(|i| entry(i, &format!("10.0.0.{i}"), "a")));
        // More changes than the threshold forces at least one rebuild of the base.
        let changes: Vec<_> = (0..5000u128)
            .map(|i| Change::Upsert(entry(1000 + i, &format!("10.1.{}.{}", i / 256, i % 256), "b")))
            .chain((0..50u128).map(|i| Change::Remove(Uuid::from_u128(i))))
            .collect();
        index.apply(changes);
        let snapshot = index.snapshot();
        assert_eq!(snapshot.len(), 50 + 5000);
        assert!(snapshot.lookup(Probe::Ip("10.0.0.1".parse().unwrap())).is_empty());
        assert_eq!(snapshot.lookup(Probe::Ip("10.0.0.77".parse().unwrap())).len(), 1);
        assert_eq!(snapshot.lookup(Probe::Ip("10.1.2.3".parse().unwrap())).len(), 1);
        assert!(snapshot.dead.is_empty(), "compaction clears the dead set");
    }
}
