//! Build time and resident memory per indicator, for 1 million and 10 million mixed
//! indicators and for 1 million IPv4 indicators (the "bytes per IPv4 indicator above the
//! raw data" figure). Resident memory is read from /proc/self/statm (Linux); each size is
//! built in a fresh process (`memory SIZE KIND`); the resident figure includes what the
//! allocator keeps of the build's temporary buffers (an upper bound), the heap figure is the
//! index's own structures. Run through `bench/match.sh`, or
//! `cargo bench -p tipline-index --bench memory -- 1000000 mixed`.

use std::time::Instant;

use tipline_index::IndicatorIndex;

#[path = "support/synthetic.rs"]
mod synthetic;

fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    pages * 4096
}

fn cpu_seconds() -> f64 {
    // utime + stime of this process, in clock ticks (100 per second on Linux).
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// Print one lookup measurement as a JSON line.
fn report(lookups: f64, hits: usize, wall: f64, cpu: f64) {
    println!(
        "{{\"lookups\":{lookups},\"hits\":{hits},\"wall_secs\":{wall:.3},\"cpu_secs\":{cpu:.2},\"lookups_per_wall_sec\":{:.0},\"lookups_per_cpu_sec\":{:.0}}}",
        lookups / wall,
        lookups / cpu.max(0.01)
    );
}

fn main() {
    let args: Vec<String> = std::env::args().filter(|a| a != "--bench").collect();
    let size: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let kind = args.get(2).map(String::as_str).unwrap_or("mixed");
    let before = resident_bytes();
    // Raw data: the value text and the 16-byte id of every indicator. Indicators are
    // generated as the build consumes them, so the input never sits in memory whole.
    let mut raw = 0usize;
    let entries: Box<dyn Iterator<Item = tipline_index::IndicatorEntry>> = match kind {
        "ipv4" => Box::new(synthetic::ipv4_iter(size, 7)),
        "domain" => Box::new(synthetic::domains(size, 11).into_iter()),
        _ => Box::new(synthetic::mixed_iter(size, 5)),
    };
    let entries = entries.inspect(|e| raw += e.value.value.len() + 16);
    let (wall, cpu) = (Instant::now(), cpu_seconds());
    let index = IndicatorIndex::build(entries);
    let build_secs = wall.elapsed().as_secs_f64();
    let build_cpu = cpu_seconds() - cpu;
    let after = resident_bytes();
    let snapshot = index.snapshot();
    let heap = snapshot.heap_bytes();
    println!(
        "{{\"size\":{size},\"kind\":\"{kind}\",\"build_secs\":{build_secs:.3},\"build_cpu_secs\":{build_cpu:.2},\
         \"resident_delta_bytes\":{},\"resident_per_indicator\":{:.1},\"index_heap_bytes\":{heap},\
         \"heap_per_indicator\":{:.1},\"raw_bytes_per_indicator\":{:.1},\"heap_above_raw_per_indicator\":{:.1}}}",
        after.saturating_sub(before),
        after.saturating_sub(before) as f64 / size as f64,
        heap as f64 / size as f64,
        raw as f64 / size as f64,
        (heap as f64 - raw as f64) / size as f64,
    );
    // Lookups on one thread: IPv4 probes for the ipv4 kind, a mix otherwise.
    if kind == "ipv4" {
        let mut rng = synthetic::Rng(42);
        let probes: Vec<std::net::Ipv4Addr> =
            (0..1_000_000).map(|_| std::net::Ipv4Addr::from(rng.next_u64() as u32)).collect();
        let rounds = 20;
        let (wall, cpu) = (Instant::now(), cpu_seconds());
        let mut hits = 0usize;
        for _ in 0..rounds {
            for probe in &probes {
                snapshot
                    .for_each(tipline_index::Probe::Ip(std::net::IpAddr::V4(*probe)), |_, _| {
                        hits += 1
                    });
            }
        }
        report(
            (rounds * probes.len()) as f64,
            hits,
            wall.elapsed().as_secs_f64(),
            cpu_seconds() - cpu,
        );
    }
    if kind == "domain" {
        let entries = synthetic::domains(size, 11);
        let probes = synthetic::domain_probes(&entries, 1_000_000, 12);
        drop(entries);
        let rounds = 5;
        let (wall, cpu) = (Instant::now(), cpu_seconds());
        let mut hits = 0usize;
        for _ in 0..rounds {
            for probe in &probes {
                snapshot.for_each(tipline_index::Probe::Domain(probe), |_, _| hits += 1);
            }
        }
        report(
            (rounds * probes.len()) as f64,
            hits,
            wall.elapsed().as_secs_f64(),
            cpu_seconds() - cpu,
        );
    }
    std::hint::black_box(snapshot.len());
}
