//! Configuration of the `tipline` binary: where its data lives and the settings read from
//! one TOML file, `TIPLINE_*` environment variables and command-line flags.
//!
//! Layers, later wins: built-in defaults < config file < environment < flags. Loading is
//! two-phase: figment merges and deserializes the layers (`deny_unknown_fields`
//! everywhere), then [`Config::validate`] checks values that parse but make no sense. Every
//! error names the key, where its value came from, and the problem.
//!
//! The environment is passed in as an [`Environment`] rather than read here, so tests can
//! describe one without touching the process's.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use figment::providers::{Format, Serialized, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};
use serde::{Deserialize, Serialize};
use tipline_model::feed::FeedInput;
use tipline_notify::{Secret, SmtpTls};

/// Name of the config file inside the data directory.
pub const CONFIG_FILE_NAME: &str = "tipline.toml";
/// Name of the SQLite database file inside the data directory.
pub const DATABASE_FILE_NAME: &str = "tipline.db";

/// Prefix of every environment variable tipline reads.
const ENV_PREFIX: &str = "TIPLINE_";
/// `TIPLINE_*` variables that are not config keys (`TIPLINE_TEST_*` is skipped as well).
const ENV_NOT_KEYS: &[&str] = &["TIPLINE_CONFIG", "TIPLINE_DATA_DIR", "TIPLINE_LOG"];
/// The config file's sections; `TIPLINE_<SECTION>_<KEY>` sets `<section>.<key>`. Besides
/// these, `TIPLINE_<PROVIDER>_<KEY>` sets `enrich.<provider>.<key>` for every enrichment
/// provider (`tipline_enrich::providers::PROVIDERS`).
const SECTIONS: &[&str] =
    &["database", "server", "log", "smtp", "notify", "enrich", "scheduler", "outbound"];
/// Short environment variable names for common keys: (variable, key).
const ENV_ALIASES: &[(&str, &str)] = &[("TIPLINE_LISTEN", "server.listen")];

/// The process environment, or a made-up one in tests. Only UTF-8 variables are kept.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    vars: BTreeMap<String, String>,
}

impl Environment {
    /// The current process's environment.
    pub fn from_process() -> Environment {
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        Environment { vars }
    }

    /// An environment holding exactly `pairs`.
    #[cfg(test)]
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Environment {
        Environment { vars: pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect() }
    }

    /// The value of `name`, unless unset or empty (an empty variable counts as unset).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    fn tipline_vars(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars
            .iter()
            .filter(|(k, v)| k.starts_with(ENV_PREFIX) && !v.is_empty())
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// Where tipline keeps its files, and how each location was chosen.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The data directory (absolute).
    pub data_dir: PathBuf,
    /// The config file (absolute); it need not exist.
    pub config_file: PathBuf,
    /// What named the config file (`--config`, `TIPLINE_CONFIG`), if not the default location.
    pub config_file_from: Option<&'static str>,
}

impl Paths {
    /// Resolve the data directory and config file: `--data-dir`, else `TIPLINE_DATA_DIR`,
    /// else `$XDG_DATA_HOME/tipline`, else `$HOME/.local/share/tipline`, else
    /// `./tipline-data`; `--config`, else `TIPLINE_CONFIG`, else `<data dir>/tipline.toml`.
    pub fn resolve(
        data_dir_flag: Option<&Path>,
        config_flag: Option<&Path>,
        env: &Environment,
    ) -> anyhow::Result<Paths> {
        let data_dir = match data_dir_flag {
            Some(dir) => dir.to_path_buf(),
            None => default_data_dir(env),
        };
        let data_dir = absolute(&data_dir)?;
        let (config_file, config_file_from) = match (config_flag, env.get("TIPLINE_CONFIG")) {
            (Some(path), _) => (absolute(path)?, Some("--config")),
            (None, Some(path)) => (absolute(Path::new(path))?, Some("TIPLINE_CONFIG")),
            (None, None) => (data_dir.join(CONFIG_FILE_NAME), None),
        };
        Ok(Paths { data_dir, config_file, config_file_from })
    }

    /// The SQLite database file used when no database URL is configured.
    pub fn database_file(&self) -> PathBuf {
        self.data_dir.join(DATABASE_FILE_NAME)
    }
}

fn default_data_dir(env: &Environment) -> PathBuf {
    if let Some(dir) = env.get("TIPLINE_DATA_DIR") {
        return PathBuf::from(dir);
    }
    // The XDG base directory spec says relative values are invalid and must be ignored.
    if let Some(xdg) = env.get("XDG_DATA_HOME").map(Path::new).filter(|p| p.is_absolute()) {
        return xdg.join("tipline");
    }
    if let Some(home) = env.get("HOME") {
        return Path::new(home).join(".local/share/tipline");
    }
    PathBuf::from("tipline-data")
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("cannot resolve path {}", path.display()))
}

/// The complete configuration, as in `tipline.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where data is stored.
    pub database: DatabaseConfig,
    /// The HTTP server of `tipline serve`.
    pub server: ServerConfig,
    /// Diagnostic logging.
    pub log: LogConfig,
    /// The SMTP server notifications are mailed through.
    pub smtp: SmtpConfig,
    /// Notifications: sender, templates, signing, webhooks, retries.
    pub notify: NotifyConfig,
    /// Enrichment providers (`[enrich]`, `[enrich.<provider>]`).
    pub enrich: tipline_enrich::EnrichConfig,
    /// The feed scheduler of `tipline serve`.
    pub scheduler: SchedulerConfig,
    /// Outbound HTTP (feed pulls).
    pub outbound: OutboundConfig,
    /// Feeds defined here (`[[feeds]]`); kept in the database as `config` feeds, which the
    /// API and CLI cannot change.
    #[serde(default)]
    pub feeds: Vec<FeedInput>,
}

/// `[smtp]`: the server notifications are mailed through. Without `host`, mail goes to the
/// outbox (`.eml` files in the data directory) instead.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// Server host name (its certificate must name it).
    #[serde(default)]
    pub host: Option<String>,
    /// Port; 587 for `starttls`, 465 for `tls`, 25 for `none` when unset.
    #[serde(default)]
    pub port: Option<u16>,
    /// `starttls` (required STARTTLS), `tls` (implicit TLS) or `none` (a local relay only).
    pub tls: SmtpTls,
    /// AUTH user name.
    #[serde(default)]
    pub username: Option<String>,
    /// AUTH password (prefer `TIPLINE_SMTP_PASSWORD` or `password_file`).
    #[serde(default)]
    pub password: Option<Secret>,
    /// A file holding the AUTH password (its first line).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// A PEM file of extra root certificates to trust (a private CA).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Timeout of each SMTP command, in seconds.
    pub timeout_secs: u64,
    /// The name given in EHLO (default: the domain of `notify.from`).
    #[serde(default)]
    pub hello_name: Option<String>,
}

/// `[notify]`: how notifications are written and delivered.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    /// `From` address of every email (and the SMTP envelope sender).
    pub from: String,
    /// `From` display name.
    #[serde(default)]
    pub from_name: Option<String>,
    /// `Reply-To` address.
    #[serde(default)]
    pub reply_to: Option<String>,
    /// Signature appended to every email.
    #[serde(default)]
    pub signature: Option<String>,
    /// Ticket references are `<prefix>-<year>-<number>`.
    pub ticket_prefix: String,
    /// Directory of `*.j2` templates that add to or replace the shipped ones.
    #[serde(default)]
    pub templates_dir: Option<PathBuf>,
    /// Where `.eml` files go when no SMTP host is set (default: `outbox` in the data directory).
    #[serde(default)]
    pub outbox_dir: Option<PathBuf>,
    /// ASCII-armored OpenPGP secret key to sign outgoing mail with (PGP/MIME).
    #[serde(default)]
    pub pgp_key_file: Option<PathBuf>,
    /// Its passphrase (prefer `TIPLINE_NOTIFY_PGP_PASSPHRASE`).
    #[serde(default)]
    pub pgp_passphrase: Option<Secret>,
    /// Master secret from which each webhook endpoint's HMAC key is derived.
    #[serde(default)]
    pub webhook_secret: Option<Secret>,
    /// Timeout of a webhook request, in seconds.
    pub webhook_timeout_secs: u64,
    /// Internal networks webhooks may reach anyway, comma separated (e.g. `127.0.0.0/8`).
    #[serde(default)]
    pub webhook_allow_networks: Option<String>,
    /// Delivery attempts in all before a notification fails.
    pub max_attempts: u32,
    /// Wait after the first failed attempt, in seconds (doubling each time).
    pub retry_base_secs: u64,
    /// Longest wait between attempts, in seconds.
    pub retry_max_secs: u64,
    /// Pause between passes of the delivery worker in `serve`, in seconds.
    pub worker_interval_secs: u64,
}

/// `[scheduler]`: pulling feeds inside `tipline serve`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchedulerConfig {
    /// Whether `serve` pulls due feeds.
    pub enabled: bool,
    /// Seconds between looks for due feeds.
    pub poll_secs: u64,
    /// Feeds this node pulls at the same time.
    pub concurrency: usize,
    /// Seconds a node holds a feed's pull before another node may take it over.
    pub lease_secs: u64,
    /// First retry delay after a failed pull, in seconds; doubles per consecutive failure
    /// up to the feed's interval.
    pub retry_base_secs: u64,
}

/// `[outbound]`: the HTTP client every outbound request uses.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundConfig {
    /// Longest time one request may take, body included, in seconds.
    pub timeout_secs: u64,
    /// Longest time to connect, in seconds.
    pub connect_timeout_secs: u64,
    /// Largest response body read, in bytes.
    pub max_body_bytes: u64,
    /// Most redirects followed (never from https to http).
    pub max_redirects: usize,
    /// Allow loopback, private and link-local addresses (internal mirrors); refused by
    /// default against server-side request forgery.
    pub allow_private_addresses: bool,
}

impl OutboundConfig {
    /// The settings of the shared outbound client.
    pub fn client_config(&self) -> tipline_http::OutboundConfig {
        tipline_http::OutboundConfig {
            timeout: std::time::Duration::from_secs(self.timeout_secs),
            connect_timeout: std::time::Duration::from_secs(self.connect_timeout_secs),
            max_body_bytes: self.max_body_bytes,
            max_redirects: self.max_redirects,
            allow_private_addresses: self.allow_private_addresses,
            ..tipline_http::OutboundConfig::default()
        }
    }
}

/// `[database]`: where data is stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://<path>?mode=rwc` (default: `tipline.db` in the data directory) or
    /// `postgres://user:password@host/db`.
    pub url: DatabaseUrl,
    /// Largest number of open connections.
    pub max_connections: u32,
}

/// `[server]`: the HTTP server of `tipline serve`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Longest time a request may take, in seconds.
    pub request_timeout_secs: u64,
}

/// `[log]`: diagnostic logging to standard error.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// A tracing filter such as `info` or `tipline_server=debug,info`; `TIPLINE_LOG`
    /// overrides it. Unset: `info` for `serve`, `warn` for other commands.
    #[serde(default)]
    pub level: Option<String>,
    /// `text` for people, `json` for log collectors.
    pub format: LogFormat,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    fn as_str(self) -> &'static str {
        match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }
    }
}

/// A database URL. It may hold a password, so it prints redacted; [`DatabaseUrl::expose`]
/// gives the real value to the code that connects.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// The URL with its password, for connecting only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({:?})", tipline_store::redact_url(&self.0))
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&tipline_store::redact_url(&self.0))
    }
}

impl Config {
    /// Built-in defaults for a data directory.
    pub fn defaults(paths: &Paths) -> Config {
        Config {
            database: DatabaseConfig {
                url: DatabaseUrl(tipline_store::sqlite_url(&paths.database_file())),
                max_connections: 8,
            },
            server: ServerConfig {
                listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
                max_body_bytes: 10 * 1024 * 1024,
                request_timeout_secs: 30,
            },
            log: LogConfig { level: None, format: LogFormat::Text },
            smtp: SmtpConfig {
                host: None,
                port: None,
                tls: SmtpTls::Starttls,
                username: None,
                password: None,
                password_file: None,
                ca_file: None,
                timeout_secs: 30,
                hello_name: None,
            },
            notify: NotifyConfig {
                from: "tipline@localhost".into(),
                from_name: None,
                reply_to: None,
                signature: None,
                ticket_prefix: "TIPLINE".into(),
                templates_dir: None,
                outbox_dir: None,
                pgp_key_file: None,
                pgp_passphrase: None,
                webhook_secret: None,
                webhook_timeout_secs: 15,
                webhook_allow_networks: None,
                max_attempts: 8,
                retry_base_secs: 60,
                retry_max_secs: 21_600,
                worker_interval_secs: 5,
            },
            enrich: tipline_enrich::EnrichConfig::default(),
            scheduler: SchedulerConfig {
                enabled: true,
                poll_secs: 10,
                concurrency: 2,
                lease_secs: 600,
                retry_base_secs: 60,
            },
            outbound: OutboundConfig {
                timeout_secs: 60,
                connect_timeout_secs: 10,
                max_body_bytes: 256 * 1024 * 1024,
                max_redirects: 5,
                allow_private_addresses: false,
            },
            feeds: Vec::new(),
        }
    }

    /// Whether the database is the default SQLite file of the data directory.
    pub fn uses_default_database(&self, paths: &Paths) -> bool {
        self.database.url.expose() == tipline_store::sqlite_url(&paths.database_file())
    }
}

impl NotifyConfig {
    /// The parsed `webhook_allow_networks`.
    pub fn allowed_networks(&self) -> Result<Vec<ipnet::IpNet>, String> {
        let Some(list) = &self.webhook_allow_networks else { return Ok(Vec::new()) };
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().map_err(|_| format!("`{s}` is not a network such as 127.0.0.0/8")))
            .collect()
    }
}

impl Config {
    /// The notifier's settings: reads the files the configuration names (SMTP password and
    /// CA, OpenPGP key), so errors name the key and the file.
    pub fn notifier_settings(
        &self,
        paths: &Paths,
    ) -> anyhow::Result<tipline_notify::NotifierSettings> {
        let read = |key: &str, path: &Path| {
            std::fs::read_to_string(path)
                .with_context(|| format!("invalid config: {key}: cannot read {}", path.display()))
        };
        let notify = &self.notify;
        let outbox = notify.outbox_dir.clone().unwrap_or_else(|| paths.data_dir.join("outbox"));
        let mut settings = tipline_notify::NotifierSettings::new(notify.from.clone(), outbox);
        settings.sender.from_name = notify.from_name.clone();
        settings.sender.reply_to = notify.reply_to.clone();
        settings.sender.signature = notify.signature.clone();
        settings.ticket_prefix = notify.ticket_prefix.clone();
        settings.templates_dir = notify.templates_dir.clone();
        if let Some(host) = &self.smtp.host {
            let password = match (&self.smtp.password, &self.smtp.password_file) {
                (Some(password), _) => Some(password.clone()),
                (None, Some(file)) => Some(Secret::new(
                    read("smtp.password_file", file)?
                        .lines()
                        .next()
                        .unwrap_or_default()
                        .to_string(),
                )),
                (None, None) => None,
            };
            let ca_pem = match &self.smtp.ca_file {
                Some(file) => Some(read("smtp.ca_file", file)?.into_bytes()),
                None => None,
            };
            settings.smtp =
                Some(tipline_notify::SmtpSettings {
                    host: host.clone(),
                    port: self.smtp.port.unwrap_or(self.smtp.tls.default_port()),
                    tls: self.smtp.tls,
                    username: self.smtp.username.clone(),
                    password,
                    ca_pem,
                    timeout: std::time::Duration::from_secs(self.smtp.timeout_secs),
                    hello_name: self.smtp.hello_name.clone().or_else(|| {
                        notify.from.rsplit_once('@').map(|(_, domain)| domain.to_string())
                    }),
                });
        }
        if let Some(file) = &notify.pgp_key_file {
            settings.signing_key =
                Some((read("notify.pgp_key_file", file)?, notify.pgp_passphrase.clone()));
        }
        settings.webhook_secret = notify.webhook_secret.clone();
        settings.outbound.timeout = std::time::Duration::from_secs(notify.webhook_timeout_secs);
        settings.outbound.allowed_networks = notify
            .allowed_networks()
            .map_err(|e| anyhow::anyhow!("invalid config: notify.webhook_allow_networks: {e}"))?;
        settings.retry = tipline_notify::RetryPolicy {
            max_attempts: notify.max_attempts,
            base: std::time::Duration::from_secs(notify.retry_base_secs),
            max: std::time::Duration::from_secs(notify.retry_max_secs),
        };
        settings.poll_interval = std::time::Duration::from_secs(notify.worker_interval_secs);
        Ok(settings)
    }
}

/// Settings given as command-line flags, the last layer.
#[derive(Debug, Clone, Default)]
pub struct FlagOverrides {
    /// `serve --listen`.
    pub listen: Option<SocketAddr>,
    /// `--log-format`.
    pub log_format: Option<LogFormat>,
}

/// The commented config file `tipline init` writes. Every setting is commented out, so the
/// file changes nothing until edited.
pub fn default_file_text(paths: &Paths) -> String {
    let defaults = Config::defaults(paths);
    format!(
        r#"# tipline configuration.
#
# Every setting below shows its default. Environment variables override this file:
# TIPLINE_<SECTION>_<KEY> sets <section>.<key> (for example TIPLINE_SERVER_MAX_BODY_BYTES),
# TIPLINE_DATABASE_URL sets database.url and TIPLINE_LISTEN sets server.listen.
# Command-line flags override both.

[database]
# sqlite://<path>?mode=rwc, or postgres://user:password@host/db for PostgreSQL.
# url = "{url}"
# max_connections = {max_connections}

[server]
# listen = "{listen}"
# max_body_bytes = {max_body_bytes}
# request_timeout_secs = {request_timeout_secs}

[log]
# A filter such as "info" or "tipline_server=debug,info"; TIPLINE_LOG overrides it.
# Unset, `serve` logs at "info" and other commands at "warn".
# level = "info"
# "text" or "json".
# format = "{format}"

[smtp]
# The server notifications are mailed through. Without a host, mail is written to the
# outbox (.eml files in the data directory) instead. Secrets: TIPLINE_SMTP_PASSWORD.
# host = "smtp.example.org"
# "starttls" (port 587), "tls" (port 465) or "none" (a local relay, port 25).
# tls = "{smtp_tls}"
# port = 587
# username = "tipline"
# password_file = "/etc/tipline/smtp-password"
# ca_file = "/etc/tipline/ca.pem"
# timeout_secs = {smtp_timeout}

[notify]
# from = "{from}"
# from_name = "CERT Incident Desk"
# reply_to = "cert@example.org"
# signature = "CERT Incident Desk, +00 000 0000"
# ticket_prefix = "{ticket_prefix}"
# templates_dir = "/etc/tipline/templates"
# outbox_dir = "/var/lib/tipline/outbox"
# Sign outgoing mail (PGP/MIME); passphrase from TIPLINE_NOTIFY_PGP_PASSPHRASE.
# pgp_key_file = "/etc/tipline/signing-key.asc"
# Webhook signatures (HMAC-SHA256); prefer TIPLINE_NOTIFY_WEBHOOK_SECRET.
# webhook_secret = "change-me"
# webhook_timeout_secs = {webhook_timeout}
# webhook_allow_networks = "127.0.0.0/8"
# max_attempts = {max_attempts}
# retry_base_secs = {retry_base}
# retry_max_secs = {retry_max}
# worker_interval_secs = {worker_interval}
# Enrichment (docs/enrichment.md). Every key can also be set as TIPLINE_<PROVIDER>_<KEY>,
# e.g. TIPLINE_SHODAN_API_KEY. Each provider section also takes requests_per_second, burst,
# max_concurrency, timeout_secs, max_retries, retry_base_ms, max_retry_wait_secs,
# cache_ttl_secs and store_cache to override its defaults. A provider without credentials
# is disabled, not an error.
[enrich]
# hot_cache_entries = {hot_cache_entries}
# max_response_bytes = {max_response_bytes}

[enrich.shodan]
# api_key = "..."            # or api_key_file = "/run/secrets/shodan"
# base_url = "https://api.shodan.io"
# history = true

[enrich.censys]
# api = "v3"                 # or "v2" for the legacy Search API
# token = "..."              # v3 personal access token (or token_file)
# organization_id = "..."
# timeline = true
# timeline_days = 90
# api_id = "..."             # v2
# api_secret = "..."         # v2
# base_url = "https://api.platform.censys.io"

[enrich.geoip]
# city_db = "/var/lib/GeoIP/GeoLite2-City.mmdb"
# asn_db = "/var/lib/GeoIP/GeoLite2-ASN.mmdb"
# reload_check_secs = 60

[enrich.rdap]
# bootstrap_url = "https://data.iana.org/rdap"
# base_url = "https://rdap.example"

[enrich.dnsbl]
# zones = ["b.barracudacentral.org", "bl.spamcop.net", "dnsbl.dronebl.org", "zen.spamhaus.org"]

[enrich.dns]
# nameserver = "127.0.0.1:53"
[scheduler]
# Pull due feeds inside `tipline serve` (safe with several nodes on PostgreSQL).
# enabled = {scheduler_enabled}
# poll_secs = {poll_secs}
# concurrency = {concurrency}
# lease_secs = {lease_secs}
# retry_base_secs = {retry_base_secs}

[outbound]
# The HTTP client of feed pulls. Internal addresses are refused unless allowed.
# timeout_secs = {timeout_secs}
# connect_timeout_secs = {connect_timeout_secs}
# max_body_bytes = {outbound_max_body_bytes}
# max_redirects = {max_redirects}
# allow_private_addresses = {allow_private_addresses}

# Feeds: one [[feeds]] table each (docs/feeds.md lists every key and format).
## [[feeds]]
## name = "spamhaus-drop"
## url = "https://www.spamhaus.org/drop/drop.txt"
## format = "spamhaus"
## source = "Spamhaus"
## interval_secs = 43200
## tlp = "clear"
## confidence = 80
## tags = ["drop"]
"#,
        url = defaults.database.url.expose(),
        max_connections = defaults.database.max_connections,
        listen = defaults.server.listen,
        max_body_bytes = defaults.server.max_body_bytes,
        request_timeout_secs = defaults.server.request_timeout_secs,
        format = defaults.log.format.as_str(),
        smtp_tls = defaults.smtp.tls.as_str(),
        smtp_timeout = defaults.smtp.timeout_secs,
        from = defaults.notify.from,
        ticket_prefix = defaults.notify.ticket_prefix,
        webhook_timeout = defaults.notify.webhook_timeout_secs,
        max_attempts = defaults.notify.max_attempts,
        retry_base = defaults.notify.retry_base_secs,
        retry_max = defaults.notify.retry_max_secs,
        worker_interval = defaults.notify.worker_interval_secs,
        hot_cache_entries = defaults.enrich.hot_cache_entries,
        max_response_bytes = defaults.enrich.max_response_bytes,
        scheduler_enabled = defaults.scheduler.enabled,
        poll_secs = defaults.scheduler.poll_secs,
        concurrency = defaults.scheduler.concurrency,
        lease_secs = defaults.scheduler.lease_secs,
        retry_base_secs = defaults.scheduler.retry_base_secs,
        timeout_secs = defaults.outbound.timeout_secs,
        connect_timeout_secs = defaults.outbound.connect_timeout_secs,
        outbound_max_body_bytes = defaults.outbound.max_body_bytes,
        max_redirects = defaults.outbound.max_redirects,
        allow_private_addresses = defaults.outbound.allow_private_addresses,
    )
}

/// Load the configuration: defaults < the config file (if it exists) < `env` < `flags`.
pub fn load(paths: &Paths, env: &Environment, flags: &FlagOverrides) -> anyhow::Result<Config> {
    let mut figment = Figment::from(Layer::defaults(Config::defaults(paths))?);
    if let Some(file) = Layer::file(&paths.config_file)? {
        figment = figment.merge(file);
    }
    figment = figment.merge(Layer::environment(env)?).merge(Layer::flags(flags));
    let mut config: Config = figment.extract_lossy().map_err(|e| describe_errors(&figment, e))?;
    config.validate(&figment)?;
    // A feed's relative path is relative to the configuration file that names it.
    let base = paths.config_file.parent().unwrap_or(&paths.data_dir).to_path_buf();
    for feed in &mut config.feeds {
        if let Some(path) = &feed.path
            && Path::new(path).is_relative()
        {
            feed.path = Some(base.join(path).display().to_string());
        }
    }
    Ok(config)
}

impl Config {
    /// Check values that deserialize but cannot work.
    fn validate(&self, figment: &Figment) -> anyhow::Result<()> {
        let fail = |key: &str, problem: String| -> anyhow::Result<()> {
            bail!("invalid config: {key}: {problem}{}", origin_of_key(figment, key))
        };
        if let Err(e) = tipline_store::Backend::of_url(self.database.url.expose()) {
            fail("database.url", e.to_string())?;
        }
        if self.database.max_connections == 0 {
            fail("database.max_connections", "must be at least 1".into())?;
        }
        if self.server.max_body_bytes == 0 {
            fail("server.max_body_bytes", "must be at least 1".into())?;
        }
        if self.server.request_timeout_secs == 0 {
            fail("server.request_timeout_secs", "must be at least 1".into())?;
        }
        if let Some(level) = &self.log.level
            && let Err(e) = tracing_subscriber::EnvFilter::try_new(level)
        {
            fail("log.level", format!("invalid filter `{level}`: {e}"))?;
        }
        if self.smtp.port == Some(0) {
            fail("smtp.port", "must be between 1 and 65535".into())?;
        }
        if self.smtp.password.is_some() && self.smtp.password_file.is_some() {
            fail("smtp.password", "set either password or password_file, not both".into())?;
        }
        if self.smtp.timeout_secs == 0 {
            fail("smtp.timeout_secs", "must be at least 1".into())?;
        }
        for (key, address) in [
            ("notify.from", Some(&self.notify.from)),
            ("notify.reply_to", self.notify.reply_to.as_ref()),
        ] {
            if let Some(address) = address
                && tipline_notify::check_address(address).is_err()
            {
                fail(key, format!("`{address}` is not an email address"))?;
            }
        }
        let prefix = &self.notify.ticket_prefix;
        if prefix.is_empty()
            || prefix.len() > 20
            || !prefix.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            fail(
                "notify.ticket_prefix",
                format!("`{prefix}` must be 1-20 letters, digits or `-`"),
            )?;
        }
        for (key, value) in [
            ("notify.webhook_timeout_secs", self.notify.webhook_timeout_secs),
            ("notify.retry_base_secs", self.notify.retry_base_secs),
            ("notify.retry_max_secs", self.notify.retry_max_secs),
            ("notify.worker_interval_secs", self.notify.worker_interval_secs),
            ("notify.max_attempts", u64::from(self.notify.max_attempts)),
            ("scheduler.poll_secs", self.scheduler.poll_secs),
            ("scheduler.concurrency", self.scheduler.concurrency as u64),
            ("scheduler.lease_secs", self.scheduler.lease_secs),
            ("scheduler.retry_base_secs", self.scheduler.retry_base_secs),
            ("outbound.timeout_secs", self.outbound.timeout_secs),
            ("outbound.connect_timeout_secs", self.outbound.connect_timeout_secs),
            ("outbound.max_body_bytes", self.outbound.max_body_bytes),
        ] {
            if value == 0 {
                fail(key, "must be at least 1".into())?;
            }
        }
        if let Err(e) = self.notify.allowed_networks() {
            fail("notify.webhook_allow_networks", e)?;
        }
        if let Err(problem) = self.enrich.validate() {
            fail(&problem.key, problem.problem)?;
        }
        if self.scheduler.concurrency > 64 {
            fail(
                "scheduler.concurrency",
                format!("at most 64, got {}", self.scheduler.concurrency),
            )?;
        }
        for (i, feed) in self.feeds.iter().enumerate() {
            if let Err(errors) = feed.check() {
                let problems: Vec<String> =
                    errors.iter().map(|e| format!("feeds[{i}].{e}")).collect();
                bail!("invalid config: {}{}", problems.join("; "), origin_of_key(figment, "feeds"));
            }
        }
        Ok(())
    }
}

/// One layer of configuration: a dictionary of values and a description of where each came
/// from, shown in error messages.
struct Layer {
    name: &'static str,
    dict: Dict,
    /// Origin of each leaf key (`server.listen` → `environment variable TIPLINE_LISTEN`);
    /// keys not listed come from `fallback_origin`.
    origins: BTreeMap<String, String>,
    fallback_origin: String,
}

impl Layer {
    fn defaults(config: Config) -> anyhow::Result<Layer> {
        let dict = Serialized::defaults(config)
            .data()
            .context("cannot serialize default config")?
            .remove(&Profile::Default)
            .unwrap_or_default();
        Ok(Layer {
            name: "defaults",
            dict,
            origins: BTreeMap::new(),
            fallback_origin: "built-in default".into(),
        })
    }

    /// The config file at `path`, or `None` if there is none.
    fn file(path: &Path) -> anyhow::Result<Option<Layer>> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot read config file {}", path.display()));
            }
        };
        let dict: Dict = Toml::from_str(&text).map_err(|e| {
            let position = e
                .span()
                .map(|span| {
                    let (line, column) = line_and_column(&text, span.start);
                    format!(" at line {line}, column {column}")
                })
                .unwrap_or_default();
            let message = e.message().trim().replace('\n', "; ");
            anyhow::anyhow!("invalid config file {}{position}: {message}", path.display())
        })?;
        Ok(Some(Layer {
            name: "file",
            dict,
            origins: BTreeMap::new(),
            fallback_origin: format!("config file {}", path.display()),
        }))
    }

    /// `TIPLINE_*` variables: `TIPLINE_<SECTION>_<KEY>` for each known section, the aliases
    /// of [`ENV_ALIASES`], and any other variable as a top-level key (rejected as unknown).
    fn environment(env: &Environment) -> anyhow::Result<Layer> {
        let mut layer = Layer {
            name: "environment",
            dict: Dict::new(),
            origins: BTreeMap::new(),
            fallback_origin: "environment".into(),
        };
        for (var, value) in env.tipline_vars() {
            if ENV_NOT_KEYS.contains(&var) || var.starts_with("TIPLINE_TEST_") {
                continue;
            }
            let key = env_var_key(var);
            if let Some(previous) = layer.origins.get(&key) {
                bail!(
                    "invalid config: {key}: set by both {previous} and environment variable {var}; unset one"
                );
            }
            layer.insert(
                &key,
                Value::from(value.to_string()),
                format!("environment variable {var}"),
            );
        }
        Ok(layer)
    }

    fn flags(flags: &FlagOverrides) -> Layer {
        let mut layer = Layer {
            name: "flags",
            dict: Dict::new(),
            origins: BTreeMap::new(),
            fallback_origin: "command line".into(),
        };
        if let Some(listen) = flags.listen {
            layer.insert("server.listen", Value::from(listen.to_string()), "flag --listen".into());
        }
        if let Some(format) = flags.log_format {
            layer.insert("log.format", Value::from(format.as_str()), "flag --log-format".into());
        }
        layer
    }

    /// Set the dotted `key` (`section.leaf` or `section.sub.leaf`) to `value`.
    fn insert(&mut self, key: &str, value: Value, origin: String) {
        let mut parts: Vec<&str> = key.split('.').collect();
        let leaf = parts.pop().unwrap_or(key);
        let mut dict = &mut self.dict;
        for part in parts {
            let entry = dict.entry(part.to_string()).or_insert_with(|| Value::from(Dict::new()));
            if !matches!(entry, Value::Dict(..)) {
                *entry = Value::from(Dict::new());
            }
            let Value::Dict(_, inner) = entry else { unreachable!("just made a dictionary") };
            dict = inner;
        }
        dict.insert(leaf.to_string(), value);
        self.origins.insert(key.to_string(), origin);
    }
}

impl Provider for Layer {
    fn metadata(&self) -> Metadata {
        let origins = self.origins.clone();
        let fallback = self.fallback_origin.clone();
        Metadata::named(self.name).interpolater(move |_profile: &Profile, keys: &[&str]| {
            let key = keys.join(".");
            origins.get(&key).cloned().unwrap_or_else(|| fallback.clone())
        })
    }

    fn data(&self) -> figment::Result<Map<Profile, Dict>> {
        Ok(Profile::Default.collect(self.dict.clone()))
    }
}

/// The config key an environment variable sets: `TIPLINE_SERVER_MAX_BODY_BYTES` →
/// `server.max_body_bytes`, `TIPLINE_SHODAN_API_KEY` → `enrich.shodan.api_key`; an unknown section becomes a top-level key that deserialization
/// then rejects, naming the variable.
fn env_var_key(var: &str) -> String {
    if let Some((_, key)) = ENV_ALIASES.iter().find(|(alias, _)| *alias == var) {
        return key.to_string();
    }
    let rest = var[ENV_PREFIX.len()..].to_ascii_lowercase();
    for provider in tipline_enrich::providers::PROVIDERS {
        if let Some(leaf) = rest.strip_prefix(provider.name).and_then(|r| r.strip_prefix('_'))
            && !leaf.is_empty()
        {
            return format!("enrich.{}.{leaf}", provider.name);
        }
    }
    for section in SECTIONS {
        if let Some(leaf) = rest.strip_prefix(section).and_then(|r| r.strip_prefix('_'))
            && !leaf.is_empty()
        {
            return format!("{section}.{leaf}");
        }
    }
    rest
}

/// ` (from <origin>)` for the value `key` has in the merged configuration.
fn origin_of_key(figment: &Figment, key: &str) -> String {
    let keys: Vec<&str> = key.split('.').collect();
    match figment.find_metadata(key) {
        Some(metadata) => format!(" (from {})", metadata.interpolate(&Profile::Default, &keys)),
        None => String::new(),
    }
}

/// Turn figment's errors into one message, each part naming key, origin and problem.
fn describe_errors(figment: &Figment, error: figment::Error) -> anyhow::Error {
    let parts: Vec<String> = error.into_iter().map(|e| describe_error(figment, &e)).collect();
    anyhow::anyhow!("invalid config: {}", parts.join("; "))
}

fn describe_error(figment: &Figment, error: &figment::Error) -> String {
    use figment::error::Kind;

    let key = key_of(&error.path);
    let origin = match &error.metadata {
        Some(metadata) if !error.path.is_empty() => {
            format!(" (from {})", metadata.interpolate(&Profile::Default, &error.path))
        }
        _ if !key.is_empty() => origin_of_key(figment, &key),
        _ => String::new(),
    };
    let problem = match &error.kind {
        Kind::UnknownField(_, expected) => {
            let expected: Vec<String> = expected.iter().map(|k| format!("`{k}`")).collect();
            format!("unknown key; expected one of {}", expected.join(", "))
        }
        Kind::UnknownVariant(found, expected) => {
            let expected: Vec<String> = expected.iter().map(|k| format!("`{k}`")).collect();
            format!("unknown value `{found}`; expected one of {}", expected.join(", "))
        }
        Kind::InvalidType(found, expected) => format!("expected {expected}, found {found}"),
        other => other.to_string(),
    };
    if key.is_empty() { format!("{problem}{origin}") } else { format!("{key}: {problem}{origin}") }
}

/// A dotted key with list positions as `[i]`: `feeds.0.url` → `feeds[0].url`.
fn key_of(path: &[String]) -> String {
    let mut key = String::new();
    for segment in path {
        if segment.parse::<usize>().is_ok() {
            key.push_str(&format!("[{segment}]"));
        } else {
            if !key.is_empty() {
                key.push('.');
            }
            key.push_str(segment);
        }
    }
    key
}

/// 1-based line and column of byte `offset` in `text`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Setup {
        dir: tempfile::TempDir,
        paths: Paths,
    }

    fn setup(file: Option<&str>) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::resolve(Some(dir.path()), None, &Environment::default()).unwrap();
        if let Some(text) = file {
            std::fs::write(&paths.config_file, text).unwrap();
        }
        Setup { dir, paths }
    }

    fn load_with(setup: &Setup, env: &[(&str, &str)], flags: FlagOverrides) -> Config {
        load(&setup.paths, &Environment::from_pairs(env.iter().copied()), &flags).unwrap()
    }

    /// Loading with `file` and `env` fails with `expected` (`FILE` stands for the file's path).
    fn check(file: Option<&str>, env: &[(&str, &str)], expected: &str) {
        let setup = setup(file);
        let message = error_of(&setup, env);
        let expected = expected.replace("FILE", &setup.paths.config_file.display().to_string());
        assert_eq!(message, expected);
    }

    fn error_of(setup: &Setup, env: &[(&str, &str)]) -> String {
        load(&setup.paths, &Environment::from_pairs(env.iter().copied()), &FlagOverrides::default())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn defaults_apply_without_a_file() {
        let setup = setup(None);
        let config = load_with(&setup, &[], FlagOverrides::default());
        assert_eq!(config.server.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.server.max_body_bytes, 10_485_760);
        assert_eq!(config.database.max_connections, 8);
        assert_eq!(config.log.format, LogFormat::Text);
        assert_eq!(config.log.level, None);
        let expected =
            format!("sqlite://{}?mode=rwc", setup.dir.path().join("tipline.db").display());
        assert_eq!(config.database.url.expose(), expected);
        assert!(config.uses_default_database(&setup.paths));
    }

    #[test]
    fn file_then_environment_then_flags() {
        let setup = setup(Some(
            "[server]\nlisten = \"127.0.0.1:1000\"\nmax_body_bytes = 5\n[log]\nformat = \"json\"\n",
        ));
        let config = load_with(&setup, &[], FlagOverrides::default());
        assert_eq!(config.server.listen.port(), 1000);
        assert_eq!(config.server.max_body_bytes, 5);
        assert_eq!(config.log.format, LogFormat::Json);

        let env = [("TIPLINE_LISTEN", "127.0.0.1:2000"), ("TIPLINE_SERVER_MAX_BODY_BYTES", "7")];
        let config = load_with(&setup, &env, FlagOverrides::default());
        assert_eq!(config.server.listen.port(), 2000);
        assert_eq!(config.server.max_body_bytes, 7);

        let flags = FlagOverrides {
            listen: Some("127.0.0.1:3000".parse().unwrap()),
            log_format: Some(LogFormat::Text),
        };
        let config = load_with(&setup, &env, flags);
        assert_eq!(config.server.listen.port(), 3000);
        assert_eq!(config.server.max_body_bytes, 7);
        assert_eq!(config.log.format, LogFormat::Text);
    }

    #[test]
    fn environment_variables_map_to_keys() {
        let cases = [
            ("TIPLINE_DATABASE_URL", "database.url"),
            ("TIPLINE_DATABASE_MAX_CONNECTIONS", "database.max_connections"),
            ("TIPLINE_SERVER_REQUEST_TIMEOUT_SECS", "server.request_timeout_secs"),
            ("TIPLINE_LISTEN", "server.listen"),
            ("TIPLINE_LOG_FORMAT", "log.format"),
            ("TIPLINE_LOG_LEVEL", "log.level"),
            ("TIPLINE_COLOUR", "colour"),
        ];
        for (var, key) in cases {
            assert_eq!(env_var_key(var), key, "{var}");
        }
        let setup = setup(None);
        let env = [
            ("TIPLINE_DATABASE_URL", "postgres://u:pw@db/tipline"),
            ("TIPLINE_DATABASE_MAX_CONNECTIONS", "3"),
            ("TIPLINE_SERVER_REQUEST_TIMEOUT_SECS", "9"),
            ("TIPLINE_LOG_LEVEL", "debug"),
            ("TIPLINE_LOG_FORMAT", "json"),
        ];
        let config = load_with(&setup, &env, FlagOverrides::default());
        assert_eq!(config.database.url.expose(), "postgres://u:pw@db/tipline");
        assert_eq!(config.database.max_connections, 3);
        assert_eq!(config.server.request_timeout_secs, 9);
        assert_eq!(config.log.level.as_deref(), Some("debug"));
        assert_eq!(config.log.format, LogFormat::Json);
        assert!(!config.uses_default_database(&setup.paths));
    }

    #[test]
    fn variables_that_are_not_keys_are_ignored() {
        let setup = setup(None);
        let env = [
            ("TIPLINE_CONFIG", "/nonexistent/tipline.toml"),
            ("TIPLINE_DATA_DIR", "/elsewhere"),
            ("TIPLINE_LOG", "debug"),
            ("TIPLINE_TEST_POSTGRES_URL", "postgres://localhost/x"),
            ("TIPLINE_SERVER_LISTEN", ""),
            ("PATH", "/bin"),
        ];
        load_with(&setup, &env, FlagOverrides::default());
    }

    #[test]
    fn errors_name_key_origin_and_problem() {
        check(
            Some("[server]\nbogus = 1\n"),
            &[],
            "invalid config: server.bogus: unknown key; expected one of `listen`, `max_body_bytes`, `request_timeout_secs` (from config file FILE)",
        );
        check(
            Some("colour = true\n"),
            &[],
            "invalid config: colour: unknown key; expected one of `database`, `server`, `log`, `smtp`, `notify`, `enrich`, `scheduler`, `outbound`, `feeds` (from config file FILE)",
        );
        check(
            None,
            &[("TIPLINE_LISTEN", "localhost")],
            "invalid config: server.listen: invalid socket address syntax (from environment variable TIPLINE_LISTEN)",
        );
        check(
            None,
            &[("TIPLINE_SERVER_BOGUS", "1")],
            "invalid config: server.bogus: unknown key; expected one of `listen`, `max_body_bytes`, `request_timeout_secs` (from environment variable TIPLINE_SERVER_BOGUS)",
        );
        check(
            Some("[server]\nmax_body_bytes = \"lots\"\n"),
            &[],
            "invalid config: server.max_body_bytes: expected usize, found string \"lots\" (from config file FILE)",
        );
        check(
            Some("[log]\nformat = \"xml\"\n"),
            &[],
            "invalid config: log.format: unknown value `xml`; expected one of `text`, `json` (from config file FILE)",
        );
        check(
            Some("[server]\nrequest_timeout_secs = 0\n"),
            &[],
            "invalid config: server.request_timeout_secs: must be at least 1 (from config file FILE)",
        );
        check(
            None,
            &[("TIPLINE_LISTEN", "127.0.0.1:1"), ("TIPLINE_SERVER_LISTEN", "127.0.0.1:2")],
            "invalid config: server.listen: set by both environment variable TIPLINE_LISTEN and environment variable TIPLINE_SERVER_LISTEN; unset one",
        );
        check(
            Some("[server\nlisten = 1\n"),
            &[],
            "invalid config file FILE at line 1, column 8: invalid table header; expected `.`, `]`",
        );
    }

    #[test]
    fn enrichment_keys_come_from_file_and_provider_variables() {
        let cases = [
            ("TIPLINE_SHODAN_API_KEY", "enrich.shodan.api_key"),
            ("TIPLINE_SHODAN_BASE_URL", "enrich.shodan.base_url"),
            ("TIPLINE_CENSYS_TOKEN", "enrich.censys.token"),
            ("TIPLINE_CENSYS_ORGANIZATION_ID", "enrich.censys.organization_id"),
            ("TIPLINE_CENSYS_BASE_URL", "enrich.censys.base_url"),
            ("TIPLINE_GEOIP_CITY_DB", "enrich.geoip.city_db"),
            ("TIPLINE_GEOIP_ASN_DB", "enrich.geoip.asn_db"),
            ("TIPLINE_DNS_NAMESERVER", "enrich.dns.nameserver"),
            ("TIPLINE_DNSBL_ZONES", "enrich.dnsbl.zones"),
            ("TIPLINE_ENRICH_HOT_CACHE_ENTRIES", "enrich.hot_cache_entries"),
        ];
        for (var, key) in cases {
            assert_eq!(env_var_key(var), key, "{var}");
        }
        let setup = setup(Some(
            "[enrich.shodan]\nhistory = false\nmax_retries = 5\n[enrich.censys]\napi = \"v2\"\n",
        ));
        let env = [
            ("TIPLINE_SHODAN_API_KEY", "sk-abc123"),
            ("TIPLINE_SHODAN_BASE_URL", "http://127.0.0.1:9000"),
            ("TIPLINE_SHODAN_REQUESTS_PER_SECOND", "0.5"),
            ("TIPLINE_CENSYS_TOKEN", "censys-token-xyz"),
            ("TIPLINE_CENSYS_ORGANIZATION_ID", "org-1"),
            ("TIPLINE_GEOIP_CITY_DB", "/data/City.mmdb"),
            ("TIPLINE_DNS_NAMESERVER", "127.0.0.1:5353"),
            ("TIPLINE_DNSBL_ZONES", "zen.spamhaus.org, bl.spamcop.net"),
            ("TIPLINE_RDAP_ENABLED", "false"),
        ];
        let config = load_with(&setup, &env, FlagOverrides::default());
        let enrich = &config.enrich;
        assert_eq!(enrich.shodan.api_key.as_ref().unwrap().expose(), "sk-abc123");
        assert_eq!(enrich.shodan.base_url, "http://127.0.0.1:9000");
        assert_eq!(enrich.shodan.requests_per_second, Some(0.5));
        assert_eq!(enrich.shodan.max_retries, Some(5));
        assert!(!enrich.shodan.history);
        assert_eq!(enrich.censys.api, tipline_enrich::providers::censys::CensysApi::V2);
        assert_eq!(enrich.censys.token.as_ref().unwrap().expose(), "censys-token-xyz");
        assert_eq!(enrich.censys.organization_id.as_deref(), Some("org-1"));
        assert_eq!(enrich.geoip.city_db.as_deref(), Some(Path::new("/data/City.mmdb")));
        assert_eq!(enrich.dns.nameserver.as_deref(), Some("127.0.0.1:5353"));
        assert_eq!(enrich.dnsbl.zones, ["zen.spamhaus.org", "bl.spamcop.net"]);
        assert!(!enrich.rdap.enabled);
        let debug = format!("{config:?}");
        assert!(!debug.contains("sk-abc123") && !debug.contains("censys-token-xyz"), "{debug}");
    }

    #[test]
    fn enrichment_errors_name_key_and_origin() {
        check(
            None,
            &[("TIPLINE_SHODAN_APIKEY", "x")],
            "invalid config: enrich.shodan.apikey: unknown key; expected one of `enabled`, `api_key`, `api_key_file`, `base_url`, `history`, `requests_per_second`, `burst`, `max_concurrency`, `timeout_secs`, `max_retries`, `retry_base_ms`, `max_retry_wait_secs`, `cache_ttl_secs`, `store_cache` (from environment variable TIPLINE_SHODAN_APIKEY)",
        );
        check(
            Some("[enrich.shodan]\nburst = 0\n"),
            &[],
            "invalid config: enrich.shodan.burst: must be at least 1 (from config file FILE)",
        );
        check(
            None,
            &[("TIPLINE_DNS_NAMESERVER", "dns.example")],
            "invalid config: enrich.dns.nameserver: `dns.example` is not an IP address or IP:PORT (from environment variable TIPLINE_DNS_NAMESERVER)",
        );
        check(
            Some("[enrich.whois]\nenabled = true\n"),
            &[],
            "invalid config: enrich.whois: unknown key; expected one of `hot_cache_entries`, `max_response_bytes`, `censys`, `dns`, `dnsbl`, `geoip`, `rdap`, `shodan` (from config file FILE)",
        );
        let setup = setup(None);
        let message = error_of(
            &setup,
            &[("TIPLINE_SHODAN_API_KEY", "sk-secret-99"), ("TIPLINE_SHODAN_BASE_URL", "ftp://x")],
        );
        assert_eq!(
            message,
            "invalid config: enrich.shodan.base_url: `ftp` is not an http(s) URL (from environment variable TIPLINE_SHODAN_BASE_URL)"
        );
    }

    #[test]
    fn feeds_scheduler_and_outbound_sections() {
        let configured = setup(Some(
            "[scheduler]\nconcurrency = 4\n[outbound]\nallow_private_addresses = true\n\
             [[feeds]]\nname = \"drop\"\nurl = \"https://lists.example/drop.txt\"\nformat = \"spamhaus\"\n\
             interval_secs = 600\ntlp = \"clear\"\n\
             [[feeds]]\nname = \"phish\"\npath = \"/srv/phish.csv\"\nformat = \"csv\"\n\
             [feeds.csv]\nvalue_column = \"url\"\n\
             [[feeds]]\nname = \"local\"\npath = \"lists/local.txt\"\nformat = \"plain\"\n",
        ));
        let config = load_with(
            &configured,
            &[("TIPLINE_SCHEDULER_POLL_SECS", "3")],
            FlagOverrides::default(),
        );
        assert_eq!((config.scheduler.concurrency, config.scheduler.poll_secs), (4, 3));
        assert!(config.scheduler.enabled);
        assert!(config.outbound.client_config().allow_private_addresses);
        assert_eq!(config.feeds.len(), 3);
        let relative = configured.paths.data_dir.join("lists/local.txt");
        assert_eq!(config.feeds[2].path.as_deref(), Some(relative.display().to_string().as_str()));
        assert_eq!(config.feeds[0].interval_secs, Some(600));
        assert_eq!(config.feeds[1].csv.as_ref().unwrap().value_column, "url");
        assert_eq!(config.feeds[1].path.as_deref(), Some("/srv/phish.csv"));

        let check = |file: &str, expected: &str| {
            let setup = setup(Some(file));
            let message = error_of(&setup, &[]);
            let expected = expected.replace("FILE", &setup.paths.config_file.display().to_string());
            assert_eq!(message, expected);
        };
        check(
            "[[feeds]]\nname = \"x\"\nurl = \"ftp://x\"\nformat = \"netset\"\nbogus = 1\n",
            "invalid config: feeds[0].bogus: unknown key; expected one of `name`, `source`, `url`, `path`, `format`, `interval_secs`, `tlp`, `confidence`, `tags`, `lenient`, `allow_empty`, `csv`, `enabled` (from config file FILE)",
        );
        check(
            "[[feeds]]\nname = \"x\"\nurl = \"ftp://x\"\nformat = \"netset\"\n",
            "invalid config: feeds[0].url: scheme must be http or https, got `ftp` (from config file FILE)",
        );
        check(
            "[[feeds]]\nname = \"x\"\nurl = \"https://x.example\"\nformat = \"xml\"\n",
            "invalid config: feeds[0].format: unknown feed format `xml`; expected one of: csv, misp-feed, netset, plain, spamhaus (from config file FILE)",
        );
        check(
            "[scheduler]\nconcurrency = 0\n",
            "invalid config: scheduler.concurrency: must be at least 1 (from config file FILE)",
        );
    }

    #[test]
    fn database_passwords_stay_out_of_errors_and_debug_output() {
        let setup = setup(None);
        let message = error_of(&setup, &[("TIPLINE_DATABASE_URL", "mysql://u:hunter2@db/x")]);
        assert!(message.starts_with("invalid config: database.url: "), "{message}");
        assert!(message.contains("(from environment variable TIPLINE_DATABASE_URL)"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");

        let env = [("TIPLINE_DATABASE_URL", "postgres://u:hunter2@db/x")];
        let config = load_with(&setup, &env, FlagOverrides::default());
        assert!(!format!("{config:?}").contains("hunter2"));
        assert_eq!(config.database.url.to_string(), "postgres://u:***@db/x");
    }

    #[test]
    fn smtp_and_notify_settings_come_from_file_and_environment() {
        let setup = setup(Some(
            "[smtp]\nhost = \"smtp.example.org\"\ntls = \"tls\"\n[notify]\nfrom = \"cert@example.org\"\n",
        ));
        let env = [
            ("TIPLINE_SMTP_PASSWORD", "hunter2"),
            ("TIPLINE_SMTP_USERNAME", "tipline"),
            ("TIPLINE_NOTIFY_WEBHOOK_SECRET", "s3cret"),
            ("TIPLINE_NOTIFY_WEBHOOK_ALLOW_NETWORKS", "127.0.0.0/8, 10.0.0.0/8"),
            ("TIPLINE_NOTIFY_MAX_ATTEMPTS", "3"),
        ];
        let config = load_with(&setup, &env, FlagOverrides::default());
        assert_eq!(config.smtp.host.as_deref(), Some("smtp.example.org"));
        assert_eq!(config.smtp.tls, SmtpTls::Tls);
        assert_eq!(config.smtp.password.as_ref().unwrap().expose(), "hunter2");
        assert_eq!(config.notify.max_attempts, 3);
        assert_eq!(config.notify.allowed_networks().unwrap().len(), 2);
        let printed = format!("{config:?}");
        assert!(!printed.contains("hunter2") && !printed.contains("s3cret"), "{printed}");
        let settings = config.notifier_settings(&setup.paths).unwrap();
        let smtp = settings.smtp.unwrap();
        assert_eq!((smtp.port, smtp.username.as_deref()), (465, Some("tipline")));
        assert_eq!(settings.outbox_dir, setup.paths.data_dir.join("outbox"));
        assert!(!format!("{smtp:?}").contains("hunter2"));

        let check = |env: &[(&str, &str)], expected: &str| {
            assert_eq!(error_of(&setup, env), expected);
        };
        check(
            &[("TIPLINE_SMTP_BOGUS", "1")],
            "invalid config: smtp.bogus: unknown key; expected one of `host`, `port`, `tls`, `username`, `password`, `password_file`, `ca_file`, `timeout_secs`, `hello_name` (from environment variable TIPLINE_SMTP_BOGUS)",
        );
        check(
            &[("TIPLINE_SMTP_TLS", "ssl")],
            "invalid config: smtp.tls: unknown value `ssl`; expected one of `starttls`, `tls`, `none` (from environment variable TIPLINE_SMTP_TLS)",
        );
        check(
            &[("TIPLINE_NOTIFY_FROM", "not an address")],
            "invalid config: notify.from: `not an address` is not an email address (from environment variable TIPLINE_NOTIFY_FROM)",
        );
        check(
            &[("TIPLINE_NOTIFY_WEBHOOK_ALLOW_NETWORKS", "localhost")],
            "invalid config: notify.webhook_allow_networks: `localhost` is not a network such as 127.0.0.0/8 (from environment variable TIPLINE_NOTIFY_WEBHOOK_ALLOW_NETWORKS)",
        );
        let missing = Config {
            notify: NotifyConfig {
                pgp_key_file: Some("/nonexistent/key.asc".into()),
                ..config.notify.clone()
            },
            ..config.clone()
        };
        let error = missing.notifier_settings(&setup.paths).unwrap_err().to_string();
        assert_eq!(error, "invalid config: notify.pgp_key_file: cannot read /nonexistent/key.asc");
    }

    #[test]
    fn the_written_default_file_is_valid_and_changes_nothing() {
        let setup = setup(None);
        std::fs::write(&setup.paths.config_file, default_file_text(&setup.paths)).unwrap();
        let from_file = load_with(&setup, &[], FlagOverrides::default());
        let defaults = Config::defaults(&setup.paths);
        assert_eq!(format!("{from_file:?}"), format!("{defaults:?}"));
        // Uncommenting every setting must still parse.
        let uncommented: String = default_file_text(&setup.paths)
            .lines()
            .map(|l| l.strip_prefix("# ").filter(|l| l.contains(" = ")).unwrap_or(l))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(&setup.paths.config_file, uncommented).unwrap();
        let config = load_with(&setup, &[], FlagOverrides::default());
        assert_eq!(config.log.level.as_deref(), Some("info"));
    }

    #[test]
    fn data_directory_resolution() {
        let resolve = |flag: Option<&str>, env: &[(&str, &str)]| {
            let env = Environment::from_pairs(env.iter().copied());
            Paths::resolve(flag.map(Path::new), None, &env).unwrap()
        };
        let everything =
            [("TIPLINE_DATA_DIR", "/env/dir"), ("XDG_DATA_HOME", "/xdg"), ("HOME", "/home/me")];
        assert_eq!(resolve(Some("/flag/dir"), &everything).data_dir, Path::new("/flag/dir"));
        assert_eq!(resolve(None, &everything).data_dir, Path::new("/env/dir"));
        assert_eq!(resolve(None, &everything[1..]).data_dir, Path::new("/xdg/tipline"));
        assert_eq!(
            resolve(None, &[("XDG_DATA_HOME", "relative"), ("HOME", "/home/me")]).data_dir,
            Path::new("/home/me/.local/share/tipline")
        );
        let fallback = resolve(None, &[]);
        assert_eq!(fallback.data_dir, std::env::current_dir().unwrap().join("tipline-data"));
        assert_eq!(fallback.config_file, fallback.data_dir.join("tipline.toml"));
        assert_eq!(fallback.config_file_from, None);

        let env = Environment::from_pairs([("TIPLINE_CONFIG", "/etc/tipline.toml")]);
        let paths = Paths::resolve(Some(Path::new("/d")), None, &env).unwrap();
        assert_eq!(paths.config_file, Path::new("/etc/tipline.toml"));
        assert_eq!(paths.config_file_from, Some("TIPLINE_CONFIG"));
        let paths =
            Paths::resolve(Some(Path::new("/d")), Some(Path::new("/x.toml")), &env).unwrap();
        assert_eq!(paths.config_file, Path::new("/x.toml"));
    }
}
