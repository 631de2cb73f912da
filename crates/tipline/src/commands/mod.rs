//! The commands of `tipline`, one file per command group, and what they share: opening the
//! configured store and choosing the principal to act as.
//!
//! Administrative commands work directly on the database, as the host organization's admin
//! (or, with `--as-org`, as another organization with the analyst role). Names given on the
//! command line (organizations, communities) are resolved as the host admin: the operator
//! running the CLI administers the whole platform, even when acting as someone else.

mod community;
mod enrich;
mod extract;
pub mod feed;
pub mod import;
mod import_misp;
mod indicator;
mod init;
mod matching;
mod notify;
mod org;
mod serve;
mod token;
mod user;
mod warninglist;

use std::collections::HashMap;

use anyhow::bail;
use tipline_model::{Principal, Role};
use tipline_store::{Store, StoreOptions, Viewer};
use uuid::Uuid;

use crate::cli::Command;
use crate::config::{Config, Paths};

/// What every command gets: resolved paths, configuration and output mode.
#[derive(Debug)]
pub struct Context {
    /// Data directory and config file.
    pub paths: Paths,
    /// The loaded configuration.
    pub config: Config,
    /// `--json`: print JSON instead of text.
    pub json: bool,
}

/// Run one command.
pub async fn run(command: Command, context: &Context) -> anyhow::Result<()> {
    match command {
        Command::Init(args) => init::run(context, args).await,
        Command::Serve(args) => serve::run(context, args).await,
        Command::Org(command) => org::run(context, command).await,
        Command::Community(command) => community::run(context, command).await,
        Command::User(command) => user::run(context, command).await,
        Command::Token(command) => token::run(context, command).await,
        Command::Indicator(command) => indicator::run(context, command).await,
        Command::Notify(command) => notify::run(context, command).await,
        Command::Outbox(command) => notify::outbox(context, command).await,
        Command::Enrich(args) => enrich::run(context, args).await,
        Command::Feed(command) => feed::run(context, command).await,
        Command::Import(args) => import::run(context, args).await,
        Command::Extract(args) => extract::run(context, args).await,
        Command::Match(args) => matching::run(context, args).await,
        Command::Warninglist(command) => warninglist::run(context, command).await,
    }
}

impl Context {
    /// Connect to the configured database and bring its schema up to date.
    pub async fn open_store(&self) -> anyhow::Result<Store> {
        let mut options = StoreOptions::new(self.config.database.url.expose());
        options.max_connections = self.config.database.max_connections;
        Ok(Store::open(&options).await?)
    }

    /// Open the store of an initialized installation, or explain that `tipline init` must
    /// run first. Does not create the default database file when it is missing.
    pub async fn session(&self) -> anyhow::Result<Session> {
        if self.config.uses_default_database(&self.paths) && !self.paths.database_file().exists() {
            bail!(self.not_initialized());
        }
        let store = self.open_store().await?;
        match store.host_principal().await? {
            Some(host) => Ok(Session { store, host }),
            None => {
                store.close().await;
                bail!(self.not_initialized())
            }
        }
    }

    /// Where the installation lives, for messages: the data directory, or the database when
    /// one is configured explicitly.
    pub fn location(&self) -> String {
        if self.config.uses_default_database(&self.paths) {
            self.paths.data_dir.display().to_string()
        } else {
            format!("database `{}`", self.config.database.url)
        }
    }

    /// The enrichment runtime of the configuration, caching in `store`.
    pub fn enricher(&self, store: &Store) -> anyhow::Result<tipline_enrich::Enricher> {
        tipline_enrich::Enricher::new(&self.config.enrich, Some(store.clone()))
            .map_err(|problem| anyhow::anyhow!("invalid config: {problem}"))
    }

    fn not_initialized(&self) -> String {
        format!("tipline is not initialized in {}; run `tipline init` first", self.location())
    }
}

/// An open store of an initialized installation.
#[derive(Debug)]
pub struct Session {
    /// The store.
    pub store: Store,
    /// The host organization's admin, whom commands act as by default.
    pub host: Principal,
}

impl Session {
    /// Act as the host organization's admin.
    pub fn admin(&self) -> Viewer<'_> {
        self.store.viewer(self.host.clone())
    }

    /// Act as `as_org` with the analyst role, or as the host admin when `None`.
    pub async fn acting(&self, as_org: Option<&str>) -> anyhow::Result<Viewer<'_>> {
        match as_org {
            Some(org) => Ok(self.store.viewer(self.store.org_principal(org, Role::Analyst).await?)),
            None => Ok(self.admin()),
        }
    }

    /// The id of organization `key` (name or id).
    pub async fn org_id(&self, key: &str) -> anyhow::Result<Uuid> {
        Ok(self.admin().find_organization(key).await?.id)
    }

    /// The id of community `key` (name or id).
    pub async fn community_id(&self, key: &str) -> anyhow::Result<Uuid> {
        Ok(self.admin().find_community(key).await?.id)
    }

    /// The id of organization `key`, when one is given (`--owner`).
    pub async fn optional_org_id(&self, key: Option<&str>) -> anyhow::Result<Option<Uuid>> {
        match key {
            Some(key) => Ok(Some(self.org_id(key).await?)),
            None => Ok(None),
        }
    }

    /// The ids of communities `keys` (names or ids, `--share`).
    pub async fn community_ids(&self, keys: &[String]) -> anyhow::Result<Vec<Uuid>> {
        let mut ids = Vec::with_capacity(keys.len());
        for key in keys {
            ids.push(self.community_id(key).await?);
        }
        Ok(ids)
    }

    /// Organization names by id, to print names instead of ids.
    pub async fn org_names(&self) -> anyhow::Result<OrgNames> {
        let orgs = self.admin().list_organizations().await?;
        Ok(OrgNames(orgs.into_iter().map(|o| (o.id, o.name)).collect()))
    }

    /// Release the database connections.
    pub async fn close(self) {
        self.store.close().await;
    }
}

/// Organization names by id.
#[derive(Debug)]
pub struct OrgNames(HashMap<Uuid, String>);

impl OrgNames {
    /// The name of `id`, or the id itself if unknown.
    pub fn name(&self, id: Uuid) -> String {
        self.0.get(&id).cloned().unwrap_or_else(|| id.to_string())
    }

    /// The names of `ids`, comma separated, `-` when empty.
    pub fn names(&self, ids: &[Uuid]) -> String {
        if ids.is_empty() {
            return "-".into();
        }
        ids.iter().map(|id| self.name(*id)).collect::<Vec<_>>().join(", ")
    }
}
