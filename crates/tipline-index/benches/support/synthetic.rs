//! Synthetic indicators for the benchmarks: deterministic (a seeded SplitMix64), shaped
//! like real feeds (mostly addresses, some networks, domains and hashes).

#![allow(dead_code)]

use std::net::{Ipv4Addr, Ipv6Addr};

use tipline_index::{IndicatorEntry, Owner};
use tipline_model::{Canonical, IndicatorKind, Tlp};
use uuid::Uuid;

/// SplitMix64.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

fn entry(seed: u64, i: usize, owner: &Owner, kind: IndicatorKind, value: String) -> IndicatorEntry {
    IndicatorEntry {
        id: Uuid::from_u128((u128::from(seed) << 64) | i as u128),
        owner: owner.clone(),
        tlp: Tlp::Amber,
        value: Canonical { kind, value },
    }
}

fn owners() -> Vec<Owner> {
    (0..50).map(|n| Owner::Org(Uuid::from_u128(n + 1))).collect()
}

fn ipv4_value(rng: &mut Rng, network_share: u64) -> (IndicatorKind, String) {
    let address = rng.next_u64() as u32;
    if rng.below(100) < network_share {
        let len = 16 + rng.below(13) as u32; // /16 .. /28
        let net = address & (u32::MAX << (32 - len));
        (IndicatorKind::Cidr, format!("{}/{len}", Ipv4Addr::from(net)))
    } else {
        (IndicatorKind::Ipv4, Ipv4Addr::from(address).to_string())
    }
}

const WORDS: &[&str] = &[
    "login", "secure", "update", "mail", "cdn", "api", "portal", "bank", "account", "verify",
    "cloud", "files", "shop", "news", "support", "docs",
];
const TLDS: &[&str] = &["com", "net", "org", "ru", "xyz", "top", "info", "co.uk", "de", "io"];

fn domain_value(rng: &mut Rng) -> String {
    let word = WORDS[rng.below(WORDS.len() as u64) as usize];
    let tld = TLDS[rng.below(TLDS.len() as u64) as usize];
    format!("{word}-{:x}.{tld}", rng.next_u64() & 0xff_ffff_ffff)
}

/// `n` IPv4 indicators: 70% addresses, 30% networks.
pub fn ipv4_entries(n: usize, seed: u64) -> Vec<IndicatorEntry> {
    ipv4_iter(n, seed).collect()
}

/// [`ipv4_entries`], generated as they are consumed.
pub fn ipv4_iter(n: usize, seed: u64) -> impl Iterator<Item = IndicatorEntry> {
    let mut rng = Rng(seed);
    let owners = owners();
    (0..n).map(move |i| {
        let (kind, value) = ipv4_value(&mut rng, 30);
        entry(seed, i, &owners[i % owners.len()], kind, value)
    })
}

/// `n` domain indicators.
pub fn domains(n: usize, seed: u64) -> Vec<IndicatorEntry> {
    let mut rng = Rng(seed);
    let owners = owners();
    (0..n)
        .map(|i| {
            entry(seed, i, &owners[i % owners.len()], IndicatorKind::Domain, domain_value(&mut rng))
        })
        .collect()
}

/// Domain probes: a third are subdomains of indexed domains (hits), the rest new names.
pub fn domain_probes(entries: &[IndicatorEntry], n: usize, seed: u64) -> Vec<String> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|i| {
            if i % 3 == 0 {
                let e = &entries[rng.below(entries.len() as u64) as usize];
                format!("www.{}", e.value.value)
            } else {
                format!("host{}.{}", rng.below(100), domain_value(&mut rng))
            }
        })
        .collect()
}

/// `n` mixed indicators: 50% IPv4 addresses, 20% IPv4 networks, 5% IPv6, 15% domains,
/// 10% SHA-256 hashes.
pub fn mixed(n: usize, seed: u64) -> Vec<IndicatorEntry> {
    mixed_iter(n, seed).collect()
}

/// [`mixed`], generated as they are consumed.
pub fn mixed_iter(n: usize, seed: u64) -> impl Iterator<Item = IndicatorEntry> {
    let mut rng = Rng(seed);
    let owners = owners();
    (0..n).map(move |i| {
        let owner = &owners[i % owners.len()];
        let roll = rng.below(100);
        let (kind, value) = if roll < 70 {
            ipv4_value(&mut rng, 28)
        } else if roll < 75 {
            let a = (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64());
            (IndicatorKind::Ipv6, Ipv6Addr::from(a | (0x2001u128 << 112)).to_string())
        } else if roll < 90 {
            (IndicatorKind::Domain, domain_value(&mut rng))
        } else {
            (
                IndicatorKind::Sha256,
                format!(
                    "{:016x}{:016x}{:016x}{:016x}",
                    rng.next_u64(),
                    rng.next_u64(),
                    rng.next_u64(),
                    rng.next_u64()
                ),
            )
        };
        entry(seed, i, owner, kind, value)
    })
}
