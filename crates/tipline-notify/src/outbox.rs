//! The outbox: when no SMTP server is configured, each email is written as an `.eml` file
//! (RFC 5322, CRLF) in the outbox directory, where an operator can read or forward it.

use std::path::{Path, PathBuf};

use crate::NotifyError;

/// Write `message` as `<dir>/<ticket>-<id>.eml`, atomically (a temporary file renamed into
/// place), creating the directory if needed. Returns the file's path.
pub fn write_eml(
    dir: &Path,
    ticket: &str,
    id: uuid::Uuid,
    message: &[u8],
) -> Result<PathBuf, NotifyError> {
    let io = |e: std::io::Error, what: &Path| {
        NotifyError::Outbox(format!("cannot write {}: {e}", what.display()))
    };
    std::fs::create_dir_all(dir).map_err(|e| io(e, dir))?;
    let safe_ticket: String = ticket
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect();
    let path = dir.join(format!("{safe_ticket}-{id}.eml"));
    let temporary = dir.join(format!(".{safe_ticket}-{id}.eml.tmp"));
    std::fs::write(&temporary, message).map_err(|e| io(e, &temporary))?;
    std::fs::rename(&temporary, &path).map_err(|e| io(e, &path))?;
    Ok(path)
}
