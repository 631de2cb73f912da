//! Extraction throughput on one core, by CPU time and wall time (used by `bench/extract.sh`;
//! the machine is shared, so CPU time is the steadier figure).
//!
//! ```text
//! extract_speed CORPUS_FILE [PASSES] [--hosts]
//! ```

use std::time::Instant;

use tipline_formats::extract::{ExtractOptions, extract};

/// CPU time of this thread in nanoseconds (Linux: `/proc/thread-self/schedstat`).
fn cpu_nanos() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().ok_or("usage: extract_speed CORPUS_FILE [PASSES] [--hosts]")?;
    let passes: usize = args.get(1).and_then(|p| p.parse().ok()).unwrap_or(5);
    let options = ExtractOptions { hosts: args.iter().any(|a| a == "--hosts") };
    let text = std::fs::read(path)?;
    let mut hits = extract(&text, options).len();
    let (cpu_start, wall_start) = (cpu_nanos(), Instant::now());
    for _ in 0..passes {
        hits = extract(std::hint::black_box(&text), options).len();
    }
    let cpu = (cpu_nanos() - cpu_start) as f64 / 1e9;
    let wall = wall_start.elapsed().as_secs_f64();
    let megabytes = (text.len() * passes) as f64 / 1e6;
    println!(
        "bytes={} passes={passes} hits_per_pass={hits} cpu_s={cpu:.3} wall_s={wall:.3} cpu_mb_s={:.1} wall_mb_s={:.1}",
        text.len(),
        megabytes / cpu,
        megabytes / wall
    );
    Ok(())
}
