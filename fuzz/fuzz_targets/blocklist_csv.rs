//! CSV lists with a column mapping: any bytes, no panic; the first byte picks the mapping.
#![no_main]

use tipline_model::feed::CsvOptions;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&choice, body)) = data.split_first() else { return };
    let options = CsvOptions {
        has_header: choice & 1 == 0,
        delimiter: if choice & 2 == 0 { ",".into() } else { ";".into() },
        reference_column: (choice & 4 != 0).then(|| "2".into()),
        ..CsvOptions::new(if choice & 1 == 0 { "ip" } else { "1" })
    };
    let _ = tipline_formats::blocklist::csv::CsvListReader::new(body, &options).count();
});
