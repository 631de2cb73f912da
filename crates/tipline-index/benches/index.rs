//! Index benchmarks (divan): build time for 1 million mixed indicators, IPv4 lookups
//! against 1 million networks and addresses, domain lookups against 1 million domains.
//! Memory per indicator and the 10-million build are measured by `benches/memory.rs`.
//! Run through `bench/match.sh`, or `cargo bench -p tipline-index --bench index`.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::OnceLock;

use divan::counter::ItemsCount;
use tipline_index::{IndicatorIndex, IndicatorSnapshot, Probe};

#[path = "support/synthetic.rs"]
mod synthetic;

use synthetic::{Rng, domain_probes, domains, ipv4_entries, mixed};

fn main() {
    divan::main();
}

/// Probes per benchmark iteration.
const PROBES: usize = 100_000;

fn ipv4_index() -> &'static (IndicatorIndex, Vec<Ipv4Addr>) {
    static INDEX: OnceLock<(IndicatorIndex, Vec<Ipv4Addr>)> = OnceLock::new();
    INDEX.get_or_init(|| {
        let entries = ipv4_entries(1_000_000, 7);
        let mut rng = Rng(99);
        // A third of the probes fall inside indexed networks, the rest anywhere.
        let probes = (0..PROBES)
            .map(|i| {
                if i % 3 == 0 {
                    let e = &entries[rng.below(entries.len() as u64) as usize];
                    e.value.value.split('/').next().unwrap().parse().unwrap()
                } else {
                    Ipv4Addr::from(rng.next_u64() as u32)
                }
            })
            .collect();
        (IndicatorIndex::build(entries), probes)
    })
}

fn domain_index() -> &'static (IndicatorIndex, Vec<String>) {
    static INDEX: OnceLock<(IndicatorIndex, Vec<String>)> = OnceLock::new();
    INDEX.get_or_init(|| {
        let entries = domains(1_000_000, 11);
        let probes = domain_probes(&entries, PROBES, 12);
        (IndicatorIndex::build(entries), probes)
    })
}

fn count_hits(snapshot: &IndicatorSnapshot, probe: Probe<'_>) -> usize {
    let mut hits = 0;
    snapshot.for_each(probe, |_, _| hits += 1);
    hits
}

/// IPv4 lookups (every containing indicator) against 1 million IPv4 addresses and networks.
#[divan::bench(sample_count = 20)]
fn ipv4_lookup_1m(bencher: divan::Bencher) {
    let (index, probes) = ipv4_index();
    let snapshot = index.snapshot();
    bencher.counter(ItemsCount::new(probes.len())).bench(|| {
        let mut hits = 0;
        for probe in probes {
            hits += count_hits(&snapshot, Probe::Ip(IpAddr::V4(*probe)));
        }
        black_box(hits)
    });
}

/// Domain lookups (the name and its parents) against 1 million domains.
#[divan::bench(sample_count = 20)]
fn domain_lookup_1m(bencher: divan::Bencher) {
    let (index, probes) = domain_index();
    let snapshot = index.snapshot();
    bencher.counter(ItemsCount::new(probes.len())).bench(|| {
        let mut hits = 0;
        for probe in probes {
            hits += count_hits(&snapshot, Probe::Domain(probe));
        }
        black_box(hits)
    });
}

/// Building the index from 1 million mixed indicators (IPv4, CIDR, IPv6, domains, hashes).
#[divan::bench(sample_count = 3)]
fn build_1m_mixed(bencher: divan::Bencher) {
    bencher
        .counter(ItemsCount::new(1_000_000usize))
        .with_inputs(|| mixed(1_000_000, 5))
        .bench_values(|entries| black_box(IndicatorIndex::build(entries)));
}

/// Applying a batch of 1,000 changes to an index of 1 million (a new delta snapshot).
#[divan::bench(sample_count = 10)]
fn apply_1000_changes_to_1m(bencher: divan::Bencher) {
    let index = IndicatorIndex::build(mixed(1_000_000, 5));
    let mut round = 0u64;
    bencher.counter(ItemsCount::new(1000usize)).bench_local(|| {
        round += 1;
        let changes = mixed(1000, 1000 + round).into_iter().map(tipline_index::Change::Upsert);
        index.apply(changes);
    });
}
