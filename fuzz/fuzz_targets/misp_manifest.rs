//! MISP feed manifests: any bytes, no panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = tipline_formats::misp::parse_manifest(data);
});
