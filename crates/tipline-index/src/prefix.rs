//! IP prefix tables: every prefix (CIDR or host address) that contains an address, in
//! well under a microsecond.
//!
//! CIDR prefixes are laminar: two prefixes are either disjoint or one contains the other.
//! So the prefixes of a table form a forest (each prefix's parent is the smallest prefix
//! that strictly contains it), and the address space cuts into elementary intervals, each
//! covered by one innermost prefix (or none). A lookup finds the interval of the address
//! (a bucket by the top bits, sized to hold about four intervals, then a binary search
//! over those) and walks
//! from its innermost prefix up through the parents: every containing prefix, innermost
//! first, each with the payloads registered on it.
//!
//! Memory: per distinct prefix, its network, length, parent and payload offset (16 bytes
//! for IPv4); per prefix at most two intervals of 8 bytes (start and innermost prefix); the payloads
//! themselves; and for IPv4 a bucket table of about one 4-byte entry per four intervals.

/// An address type: `u32` for IPv4, `u128` for IPv6.
pub trait Address: Copy + Ord + Eq + std::fmt::Debug + Send + Sync + 'static {
    /// Bits in the address.
    const BITS: u8;
    /// The zero address.
    const ZERO: Self;
    /// The last address of the prefix `self/len`.
    fn last_of(self, len: u8) -> Self;
    /// The address after this one (never called on the maximum).
    fn next(self) -> Self;
    /// The top `bits` bits (1-31), for bucketing.
    fn top(self, bits: u32) -> usize;
    /// `self` with the bits after `len` cleared.
    fn network(self, len: u8) -> Self;
}

macro_rules! address {
    ($t:ty, $bits:literal) => {
        impl Address for $t {
            const BITS: u8 = $bits;
            const ZERO: Self = 0;
            fn last_of(self, len: u8) -> Self {
                self | <$t>::MAX.checked_shr(u32::from(len)).unwrap_or(0)
            }
            fn next(self) -> Self {
                self + 1
            }
            fn top(self, bits: u32) -> usize {
                (self >> ($bits - bits)) as usize
            }
            fn network(self, len: u8) -> Self {
                self & !<$t>::MAX.checked_shr(u32::from(len)).unwrap_or(0)
            }
        }
    };
}
address!(u32, 32);
address!(u128, 128);

/// No prefix.
const NONE: u32 = u32::MAX;

/// One distinct prefix: what a lookup reads about it, in one place (one cache line).
#[derive(Debug, Clone, Copy)]
struct Node<A> {
    net: A,
    /// Smallest strictly containing node, or `NONE`.
    parent: u32,
    /// Its payloads are `payloads[start..next node's start]`.
    start: u32,
    len: u8,
}

/// An immutable table of prefixes, each carrying one or more payloads.
#[derive(Debug, Clone)]
pub struct PrefixTable<A: Address, P> {
    /// Every distinct prefix in (network, length) order, then a sentinel whose `start` is
    /// the number of payloads.
    nodes: Vec<Node<A>>,
    payloads: Vec<P>,
    /// Each elementary interval: its first address (ascending; the first is zero) and the
    /// innermost node covering it, or `NONE`. One array, so the node is read from the cache
    /// line the search ends on.
    intervals: Vec<(A, u32)>,
    /// `buckets[h]`: index of the first interval whose top `bucket_bits` bits are `>= h`
    /// (2^bits + 1 entries), present when it pays (IPv4).
    buckets: Option<Vec<u32>>,
    /// Sized so that a bucket holds about four intervals (one cache line), 12 to 22 bits.
    bucket_bits: u32,
}

impl<A: Address, P> Default for PrefixTable<A, P> {
    fn default() -> Self {
        PrefixTable::build(Vec::new())
    }
}

impl<A: Address, P> PrefixTable<A, P> {
    /// Build from `(network, length, payload)` entries in any order. Host bits of
    /// `network` are ignored; lengths above `A::BITS` are clamped.
    pub fn build(mut entries: Vec<(A, u8, P)>) -> Self {
        for entry in &mut entries {
            entry.1 = entry.1.min(A::BITS);
            entry.0 = entry.0.network(entry.1);
        }
        entries.sort_by_key(|e| (e.0, e.1));
        let mut nets = Vec::new();
        let mut lens = Vec::new();
        let mut starts = Vec::new();
        let mut payloads = Vec::with_capacity(entries.len());
        for (net, len, payload) in entries {
            if nets.last() != Some(&net) || lens.last() != Some(&len) {
                nets.push(net);
                lens.push(len);
                starts.push(payloads.len() as u32);
            }
            payloads.push(payload);
        }
        starts.push(payloads.len() as u32);

        // Nodes are sorted by (start, length): a container comes before what it contains.
        let mut parents = vec![NONE; nets.len()];
        let mut bounds: Vec<A> = vec![A::ZERO];
        let mut innermost: Vec<u32> = vec![NONE];
        let emit = |at: A, node: u32, bounds: &mut Vec<A>, innermost: &mut Vec<u32>| {
            if *bounds.last().expect("never empty") == at {
                *innermost.last_mut().expect("never empty") = node;
                // Merging with the interval before, if it has the same node.
                if innermost.len() >= 2 && innermost[innermost.len() - 2] == node {
                    bounds.pop();
                    innermost.pop();
                }
            } else if *innermost.last().expect("never empty") != node {
                bounds.push(at);
                innermost.push(node);
            }
        };
        let mut stack: Vec<u32> = Vec::new();
        for i in 0..nets.len() {
            let start = nets[i];
            while let Some(&top) = stack.last() {
                let end = nets[top as usize].last_of(lens[top as usize]);
                if end >= start {
                    break;
                }
                stack.pop();
                let outer = stack.last().copied().unwrap_or(NONE);
                emit(end.next(), outer, &mut bounds, &mut innermost);
            }
            parents[i] = stack.last().copied().unwrap_or(NONE);
            emit(start, i as u32, &mut bounds, &mut innermost);
            stack.push(i as u32);
        }
        while let Some(top) = stack.pop() {
            let end = nets[top as usize].last_of(lens[top as usize]);
            if end == A::ZERO.last_of(0) {
                continue;
            }
            let outer = stack.last().copied().unwrap_or(NONE);
            emit(end.next(), outer, &mut bounds, &mut innermost);
        }

        let bucket_bits = (usize::BITS - (bounds.len() / 4).max(1).leading_zeros()).clamp(12, 22);
        let buckets = (A::BITS == 32).then(|| {
            let count = 1usize << bucket_bits;
            let mut buckets = Vec::with_capacity(count + 1);
            let mut i = 0usize;
            for h in 0..=count {
                while i < bounds.len() && bounds[i].top(bucket_bits) < h {
                    i += 1;
                }
                buckets.push(i as u32);
            }
            buckets
        });
        let intervals: Vec<(A, u32)> = bounds.into_iter().zip(innermost).collect();
        let nodes = (0..starts.len())
            .map(|i| Node {
                net: nets.get(i).copied().unwrap_or(A::ZERO),
                parent: parents.get(i).copied().unwrap_or(NONE),
                start: starts[i],
                len: lens.get(i).copied().unwrap_or(0),
            })
            .collect();
        PrefixTable { nodes, payloads, intervals, buckets, bucket_bits }
    }

    /// Number of payloads.
    pub fn len(&self) -> usize {
        self.payloads.len()
    }

    /// Whether the table holds nothing.
    pub fn is_empty(&self) -> bool {
        self.payloads.is_empty()
    }

    /// The innermost prefix containing `address`.
    #[inline]
    fn innermost_of(&self, address: A) -> u32 {
        let (lo, hi) = match &self.buckets {
            Some(buckets) => {
                let h = address.top(self.bucket_bits);
                (buckets[h] as usize, buckets[h + 1] as usize)
            }
            None => (0, self.intervals.len()),
        };
        let i = lo + self.intervals[lo..hi].partition_point(|&(b, _)| b <= address);
        // The first interval starts at zero, so at least one starts <= address: i >= 1.
        self.intervals[i - 1].1
    }

    /// Call `f(network, length, payload)` for every payload of every prefix containing
    /// `address`, innermost prefix first.
    #[inline]
    pub fn for_each_containing(&self, address: A, mut f: impl FnMut(A, u8, &P)) {
        let mut node = self.innermost_of(address);
        while node != NONE {
            let n = node as usize;
            let this = self.nodes[n];
            let end = self.nodes[n + 1].start;
            for payload in &self.payloads[this.start as usize..end as usize] {
                f(this.net, this.len, payload);
            }
            node = this.parent;
        }
    }

    /// Whether any prefix contains `address`.
    #[inline]
    pub fn contains(&self, address: A) -> bool {
        self.innermost_of(address) != NONE
    }

    /// Every entry, as `(network, length, payload)`, in (network, length) order.
    pub fn iter(&self) -> impl Iterator<Item = (A, u8, &P)> + '_ {
        self.nodes.windows(2).flat_map(move |pair| {
            let (this, next) = (pair[0], pair[1]);
            self.payloads[this.start as usize..next.start as usize]
                .iter()
                .map(move |p| (this.net, this.len, p))
        })
    }

    /// Heap bytes used by the structure (payloads counted at their inline size).
    pub fn heap_bytes(&self) -> usize {
        self.nodes.capacity() * size_of::<Node<A>>()
            + self.payloads.capacity() * size_of::<P>()
            + self.intervals.capacity() * size_of::<(A, u32)>()
            + self.buckets.as_ref().map_or(0, |b| b.capacity() * 4)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn contains_v4(net: u32, len: u8, address: u32) -> bool {
        address.network(len) == net.network(len)
    }

    fn brute_v4(entries: &[(u32, u8, usize)], address: u32) -> Vec<(u32, u8, usize)> {
        let mut found: Vec<_> = entries
            .iter()
            .filter(|(net, len, _)| contains_v4(*net, *len, address))
            .map(|&(net, len, p)| (net.network(len), len, p))
            .collect();
        found.sort();
        found
    }

    fn indexed<A: Address>(table: &PrefixTable<A, usize>, address: A) -> Vec<(A, u8, usize)> {
        let mut found = Vec::new();
        let mut last_len = u8::MAX;
        table.for_each_containing(address, |net, len, &p| {
            assert!(len <= last_len, "innermost first");
            last_len = len;
            found.push((net, len, p));
        });
        found.sort();
        found
    }

    #[test]
    fn nested_prefixes_all_match_innermost_first() {
        let a = u32::from(std::net::Ipv4Addr::new(10, 1, 2, 3));
        let table = PrefixTable::build(vec![
            (a, 32, 1usize),
            (a, 24, 2),
            (a, 16, 3),
            (a, 16, 4),
            (0, 0, 5),
            (a + 256, 24, 6),
        ]);
        let mut order = Vec::new();
        table.for_each_containing(a, |_, len, &p| order.push((len, p)));
        assert_eq!(order, [(32, 1), (24, 2), (16, 3), (16, 4), (0, 5)]);
        let mut order = Vec::new();
        table.for_each_containing(a + 1, |_, len, &p| order.push((len, p)));
        assert_eq!(order, [(24, 2), (16, 3), (16, 4), (0, 5)]);
        assert_eq!(indexed(&table, u32::MAX), vec![(0, 0, 5)]);
        assert_eq!(table.iter().count(), 6);
    }

    #[test]
    fn empty_and_edges() {
        let table: PrefixTable<u32, usize> = PrefixTable::build(Vec::new());
        assert!(!table.contains(0) && !table.contains(u32::MAX));
        let table = PrefixTable::build(vec![(u32::MAX, 32, 1usize), (0, 32, 2)]);
        assert_eq!(indexed(&table, u32::MAX), vec![(u32::MAX, 32, 1)]);
        assert_eq!(indexed(&table, 0), vec![(0, 32, 2)]);
        assert!(!table.contains(1) && !table.contains(u32::MAX - 1));
        let table = PrefixTable::build(vec![(u128::MAX, 128, 1usize), (0, 0, 2)]);
        assert_eq!(indexed(&table, u128::MAX), vec![(0, 0, 2), (u128::MAX, 128, 1)]);
        assert_eq!(indexed(&table, 5), vec![(0, 0, 2)]);
    }

    /// Prefix lengths biased towards nesting and host routes, /0 included.
    fn v4_entry() -> impl Strategy<Value = (u32, u8)> {
        let len = prop_oneof![Just(0u8), Just(32u8), 1u8..=32, 8u8..=24];
        // Few distinct high bits so that prefixes overlap and nest often.
        (0u32..8, any::<u32>(), len).prop_map(|(hi, lo, len)| ((hi << 29) | (lo >> 3), len))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn v4_matches_brute_force(
            entries in proptest::collection::vec(v4_entry(), 0..60),
            probes in proptest::collection::vec((0u32..8, any::<u32>()), 1..60),
        ) {
            let entries: Vec<(u32, u8, usize)> =
                entries.into_iter().enumerate().map(|(i, (n, l))| (n, l, i)).collect();
            let table = PrefixTable::build(entries.clone());
            let mut probes: Vec<u32> = probes.into_iter().map(|(hi, lo)| (hi << 29) | (lo >> 3)).collect();
            // Probe the edges of every prefix too.
            for (net, len, _) in &entries {
                let first = net.network(*len);
                let last = first.last_of(*len);
                probes.extend([first, last, first.wrapping_sub(1), last.wrapping_add(1)]);
            }
            for probe in probes {
                prop_assert_eq!(indexed(&table, probe), brute_v4(&entries, probe), "probe {}", probe);
            }
        }

        #[test]
        fn v6_matches_brute_force(
            entries in proptest::collection::vec((0u128..4, any::<u128>(), prop_oneof![Just(0u8), Just(128u8), 0u8..=128, 32u8..=64]), 0..50),
            probes in proptest::collection::vec((0u128..4, any::<u128>()), 1..50),
        ) {
            let entries: Vec<(u128, u8, usize)> = entries
                .into_iter()
                .enumerate()
                .map(|(i, (hi, lo, len))| ((hi << 126) | (lo >> 2), len, i))
                .collect();
            let table = PrefixTable::build(entries.clone());
            let mut probes: Vec<u128> = probes.into_iter().map(|(hi, lo)| (hi << 126) | (lo >> 2)).collect();
            for (net, len, _) in &entries {
                let first = net.network(*len);
                let last = first.last_of(*len);
                probes.extend([first, last, first.wrapping_sub(1), last.wrapping_add(1)]);
            }
            for probe in probes {
                let mut expected: Vec<_> = entries
                    .iter()
                    .filter(|(net, len, _)| probe.network(*len) == net.network(*len))
                    .map(|&(net, len, p)| (net.network(len), len, p))
                    .collect();
                expected.sort();
                prop_assert_eq!(indexed(&table, probe), expected, "probe {}", probe);
            }
        }
    }
}
