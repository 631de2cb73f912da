//! Print what the extractor finds in files, one `file:line kind value raw` per hit.
//! `cargo run -p tipline-formats --example extract_text -- [--hosts] FILE...`

use tipline_formats::extract::{ExtractOptions, extract};

fn main() -> std::io::Result<()> {
    let mut options = ExtractOptions::default();
    for arg in std::env::args().skip(1) {
        if arg == "--hosts" {
            options.hosts = true;
            continue;
        }
        let text = std::fs::read(&arg)?;
        for hit in extract(&text, options) {
            println!("{arg}:{} {} {} {}", hit.line, hit.kind, hit.value, hit.raw);
        }
    }
    Ok(())
}
