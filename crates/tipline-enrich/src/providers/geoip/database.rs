//! One MaxMind DB file, re-opened when it changes on disk.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use maxminddb::Reader;

use super::record::{GeoRecord, MmdbRecord};

/// A database file and its current reader.
pub struct GeoDatabase {
    path: PathBuf,
    check_every: Duration,
    reader: RwLock<Arc<Reader<Vec<u8>>>>,
    /// (modification time, length) of the file loaded, and when it was last checked.
    stamp: Mutex<(Option<(SystemTime, u64)>, Instant)>,
}

fn stamp_of(path: &Path) -> Option<(SystemTime, u64)> {
    let metadata = std::fs::metadata(path).ok()?;
    Some((metadata.modified().ok()?, metadata.len()))
}

fn open_reader(path: &Path) -> Result<Reader<Vec<u8>>, String> {
    Reader::open_readfile(path)
        .map_err(|e| format!("cannot open MaxMind DB {}: {e}", path.display()))
}

impl GeoDatabase {
    /// Open `path`; check for changes at most every `check_every`.
    pub fn open(path: &Path, check_every: Duration) -> Result<GeoDatabase, String> {
        let stamp = stamp_of(path);
        let reader = open_reader(path)?;
        Ok(GeoDatabase {
            path: path.to_path_buf(),
            check_every,
            reader: RwLock::new(Arc::new(reader)),
            stamp: Mutex::new((stamp, Instant::now())),
        })
    }

    /// The database type from the file's metadata (`GeoIP2-City`, `GeoLite2-ASN`...).
    pub fn database_type(&self) -> String {
        self.current().metadata().database_type.clone()
    }

    fn current(&self) -> Arc<Reader<Vec<u8>>> {
        self.reload_if_changed();
        self.reader.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Re-open the file if its modification time or length changed. A file that cannot be
    /// read (half-written by a download) keeps the previous reader and is tried again later.
    fn reload_if_changed(&self) {
        let mut stamp = self.stamp.lock().unwrap_or_else(|e| e.into_inner());
        if stamp.1.elapsed() < self.check_every {
            return;
        }
        stamp.1 = Instant::now();
        let now = stamp_of(&self.path);
        if now.is_none() || now == stamp.0 {
            return;
        }
        match open_reader(&self.path) {
            Ok(reader) => {
                *self.reader.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(reader);
                stamp.0 = now;
                tracing::info!(path = %self.path.display(), "reloaded GeoIP database");
            }
            Err(error) => tracing::warn!(%error, "keeping the previous GeoIP database"),
        }
    }

    /// Look `ip` up and merge what the file knows into `record`.
    pub fn lookup_into(&self, ip: IpAddr, record: &mut GeoRecord) -> Result<(), String> {
        let reader = self.current();
        let result = reader
            .lookup(ip)
            .map_err(|e| format!("lookup of {ip} in {} failed: {e}", self.path.display()))?;
        let Some(found) = result.decode::<MmdbRecord>().map_err(|e| {
            format!("cannot decode the record of {ip} in {}: {e}", self.path.display())
        })?
        else {
            return Ok(());
        };
        let network = result.network().ok().map(|n| n.to_string());
        found.merge_into(record, network);
        Ok(())
    }
}
