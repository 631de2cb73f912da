//! Parsers and serializers for the formats threat intelligence is shared in.
//!
//! Pure: no I/O, no async. Parsers read from byte slices or `BufRead`ers handed to them,
//! stream where inputs can be large, and report errors with their location (line and
//! column, or the STIX id / MISP uuid of the object). Every parser that reads outside input
//! has a fuzz target.
//!
//! One module per format; [`FORMATS`] is the registration list of importable formats.

pub mod blocklist;
pub mod cef;
pub mod extract;
pub mod jsonl;
pub mod misp;
pub mod observable;
pub mod record;
pub mod stix21;
pub mod suricata;
pub mod warninglist;

/// A format tipline can import, by the name used in `--format` and the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormatInfo {
    /// Name in `--format NAME` and `?format=NAME`.
    pub name: &'static str,
    /// One line for help texts.
    pub description: &'static str,
}

/// Every importable format, alphabetical. Adding a format adds one line here.
pub const FORMATS: &[FormatInfo] = &[FormatInfo {
    name: "misp",
    description: "MISP event JSON ({\"Event\": …} or a REST response), or a MISP feed directory",
}];
