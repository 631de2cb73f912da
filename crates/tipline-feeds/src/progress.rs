//! Progress of long work (imports, pulls), reported to whoever shows it: the command line
//! draws a bar on a terminal; the server and the scheduler report nowhere.

/// Receives progress. Implementations must be cheap: `advance` is called per item.
pub trait Progress: Send + Sync {
    /// A new stage begins (`fetching`, `reading`, `writing`), with its size if known.
    fn stage(&self, name: &str, total: Option<u64>);
    /// `n` more items of the current stage are done.
    fn advance(&self, n: u64);
    /// The work is over.
    fn finish(&self);
}

/// Progress reported nowhere.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {
    fn stage(&self, _name: &str, _total: Option<u64>) {}
    fn advance(&self, _n: u64) {}
    fn finish(&self) {}
}
