//! `geoip`: country, city, coordinates and autonomous system of an address from MaxMind DB
//! files: a City or Country database and an ASN database, each optional. Files are
//! re-opened when they change on disk (checked at most every `reload_check_secs`), so a
//! nightly download takes effect without a restart.
//!
//! Layouts read ([`record`]): MaxMind GeoIP2/GeoLite2 (`country.iso_code`,
//! `country.names.en`, `city.names.en`, `location.*`, `autonomous_system_*`), DB-IP Lite
//! (the same MaxMind layout), and the ip-location-db packages (`country_code`, `city`,
//! `latitude`, `longitude`, `state1`, `timezone`).

mod database;
mod record;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use super::{BuildContext, Built, Fetched, Provider, Registration};
use crate::config::{ConfigProblem, EnrichConfig, provider_config};
use crate::error::{FailureKind, ProviderError};
use crate::policy::Policy;
use crate::subject::{Subject, SubjectKind};

pub use database::GeoDatabase;
pub use record::GeoRecord;

provider_config! {
    /// `[enrich.geoip]`: MaxMind DB files.
    pub struct GeoipConfig {
        /// Answer lookups when a database is configured.
        pub enabled: bool = true,
        /// A City or Country database (`TIPLINE_GEOIP_CITY_DB`).
        pub city_db: Option<PathBuf> = None,
        /// An ASN database (`TIPLINE_GEOIP_ASN_DB`).
        pub asn_db: Option<PathBuf> = None,
        /// How often to check the files for changes, in seconds (0: on every lookup).
        pub reload_check_secs: u64 = 60,
    }
}

/// The `geoip` line of the registration table.
pub const REGISTRATION: Registration = Registration {
    name: "geoip",
    subjects: &[SubjectKind::Ip],
    policy: default_policy,
    overrides: |config| config.geoip.overrides(),
    validate,
    build,
};

fn default_policy() -> Policy {
    Policy {
        requests_per_second: 0.0,
        burst: 1,
        max_concurrency: 64,
        timeout_secs: 5,
        max_retries: 0,
        retry_base_ms: 100,
        max_retry_wait_secs: 1,
        cache_ttl_secs: 3600,
        // The file is the cache: copying answers into the database would only go stale.
        store_cache: false,
    }
}

fn validate(config: &EnrichConfig) -> Result<(), ConfigProblem> {
    let _ = config;
    Ok(())
}

fn build(config: &EnrichConfig, _context: &BuildContext) -> Result<Built, ConfigProblem> {
    let section = &config.geoip;
    if !section.enabled {
        return Ok(Built::Disabled("enabled = false".into()));
    }
    if section.city_db.is_none() && section.asn_db.is_none() {
        return Ok(Built::Disabled("no city_db or asn_db configured".into()));
    }
    let check = Duration::from_secs(section.reload_check_secs);
    let open = |key: &str, path: &Option<PathBuf>| -> Result<Option<GeoDatabase>, ConfigProblem> {
        path.as_ref()
            .map(|path| {
                GeoDatabase::open(path, check)
                    .map_err(|e| ConfigProblem::new(format!("enrich.geoip.{key}"), e))
            })
            .transpose()
    };
    let geoip =
        GeoIp { city: open("city_db", &section.city_db)?, asn: open("asn_db", &section.asn_db)? };
    Ok(Built::Enabled(Arc::new(geoip)))
}

/// Both databases, either optional.
pub struct GeoIp {
    city: Option<GeoDatabase>,
    asn: Option<GeoDatabase>,
}

impl GeoIp {
    /// Look `ip` up in both databases.
    pub fn lookup(&self, ip: std::net::IpAddr) -> Result<GeoRecord, String> {
        let mut record = GeoRecord::default();
        if let Some(city) = &self.city {
            city.lookup_into(ip, &mut record)?;
        }
        if let Some(asn) = &self.asn {
            asn.lookup_into(ip, &mut record)?;
        }
        Ok(record)
    }

    /// Open the databases of `config` directly (benchmarks, tools).
    pub fn open(config: &GeoipConfig) -> Result<GeoIp, String> {
        let check = Duration::from_secs(config.reload_check_secs);
        let open =
            |path: &Option<PathBuf>| path.as_ref().map(|p| GeoDatabase::open(p, check)).transpose();
        Ok(GeoIp { city: open(&config.city_db)?, asn: open(&config.asn_db)? })
    }
}

impl Provider for GeoIp {
    fn fetch<'a>(&'a self, subject: &'a Subject) -> BoxFuture<'a, Result<Fetched, ProviderError>> {
        Box::pin(async move {
            let ip = subject.ip().ok_or_else(|| {
                ProviderError::new(FailureKind::Unsupported, "geoip locates IP addresses only")
            })?;
            let record = self.lookup(ip).map_err(ProviderError::malformed)?;
            Ok(Fetched::local(&record))
        })
    }
}
