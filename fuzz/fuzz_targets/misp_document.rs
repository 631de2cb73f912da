//! MISP event documents, read and mapped: any bytes, no panic.
#![no_main]

use tipline_formats::misp::{MispOptions, map_event, parse_document};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(events) = parse_document(data) {
        for event in events.into_iter().flatten() {
            let _ = map_event(&event, &MispOptions::default());
        }
    }
});
