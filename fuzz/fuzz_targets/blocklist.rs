//! Plain blocklists (netset, ipset, Spamhaus DROP, one per line): any bytes, no panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = tipline_formats::blocklist::ListReader::new(data).count();
});
