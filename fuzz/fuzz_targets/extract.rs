//! Fuzz the IOC extractor: any bytes, both options; every hit must point at its raw text,
//! in order, with a non-empty canonical value; streaming must agree with the whole slice.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tipline_formats::extract::{ExtractOptions, extract, extract_reader};

fuzz_target!(|data: &[u8]| {
    for options in [ExtractOptions::default(), ExtractOptions { hosts: true }] {
        let hits = extract(data, options);
        let mut last = 0;
        for hit in &hits {
            assert!(!hit.value.is_empty());
            assert!(hit.offset >= last);
            last = hit.offset;
            if !hit.raw.contains('\u{fffd}') {
                assert_eq!(&data[hit.offset..hit.offset + hit.raw.len()], hit.raw.as_bytes());
            }
        }
        let mut streamed = Vec::new();
        extract_reader(data, options, &mut |hit| streamed.push(hit)).unwrap();
        assert_eq!(hits, streamed);
    }
});
