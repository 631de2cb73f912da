//! Feeds and imports: getting intelligence into tipline from outside.
//!
//! - [`fetch`]: a feed's content over HTTP (conditional GET through the shared outbound
//!   client of `tipline-http`) or from a file;
//! - [`pull`]: one pull of a claimed feed, read by its format and applied through the store
//!   (listings for lists, imports for MISP feeds), its outcome recorded under the lease;
//! - [`scheduler`]: the loop inside `tipline serve` that claims due feeds and pulls them;
//! - [`misp`]: MISP imports of documents (CLI, API) and feed events, incremental by event
//!   timestamp;
//! - [`progress`], [`report`]: what long work tells its caller.
//!
//! Parsing and mapping are the pure `tipline-formats` crate's; writing is the store's.
//! This crate holds the I/O and the order of things.

pub mod fetch;
pub mod misp;
pub mod progress;
pub mod pull;
pub mod report;
pub mod scheduler;

pub use misp::{MispImport, import_document};
pub use progress::{Progress, Silent};
pub use pull::{PullSettings, pull, read_list, retry_delay};
pub use report::{ImportReport, PullReport, Rejection};
pub use scheduler::{Scheduler, SchedulerSettings};
