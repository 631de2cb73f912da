//! Extraction throughput (one core) over a corpus of report text: the fixture threat reports
//! of `testdata/extract/reports`, concatenated and repeated to at least 10 MiB (or the file
//! named by `TIPLINE_EXTRACT_CORPUS`, as `bench/extract.sh` passes it).
//!
//! `cargo bench -p tipline-formats --bench extract` reports time per pass; divan's
//! `bytes_count` turns it into throughput.

use std::path::Path;

use divan::counter::BytesCount;
use tipline_formats::extract::{ExtractOptions, extract};

fn main() {
    divan::main();
}

/// The corpus: `TIPLINE_EXTRACT_CORPUS`, else the fixture reports repeated to 10 MiB.
fn corpus() -> &'static [u8] {
    static CORPUS: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    CORPUS.get_or_init(|| {
        if let Ok(path) = std::env::var("TIPLINE_EXTRACT_CORPUS") {
            return std::fs::read(path).expect("read TIPLINE_EXTRACT_CORPUS");
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/extract/reports");
        let mut one = Vec::new();
        let mut dirs = vec![root];
        while let Some(dir) = dirs.pop() {
            let mut entries: Vec<_> =
                std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
            entries.sort();
            for path in entries {
                if path.is_dir() {
                    dirs.push(path);
                } else if path.file_name().is_some_and(|n| n != "LICENSE") {
                    one.extend(std::fs::read(path).unwrap());
                    one.push(b'\n');
                }
            }
        }
        let mut corpus = Vec::with_capacity(11 << 20);
        while corpus.len() < 10 << 20 {
            corpus.extend_from_slice(&one);
        }
        corpus
    })
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn reports(bencher: divan::Bencher) {
    let text = corpus();
    bencher
        .counter(BytesCount::new(text.len()))
        .bench(|| extract(divan::black_box(text), ExtractOptions::default()).len());
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn reports_with_hosts(bencher: divan::Bencher) {
    let text = corpus();
    bencher
        .counter(BytesCount::new(text.len()))
        .bench(|| extract(divan::black_box(text), ExtractOptions { hosts: true }).len());
}
