//! `tipline init`: create the data directory, a commented config file and the database,
//! then the host organization, its first admin and that admin's API token. Running it again
//! changes nothing and shows no token.

use std::path::Path;

use anyhow::Context as _;
use serde_json::json;
use tipline_model::admin::Organization;
use tipline_store::Store;

use super::Context;
use crate::cli::InitArgs;
use crate::config::default_file_text;
use crate::output;

pub async fn run(context: &Context, args: InitArgs) -> anyhow::Result<()> {
    create_private_dir(&context.paths.data_dir)?;
    let store = context.open_store().await?;
    let result = initialize(context, &store, &args).await;
    store.close().await;
    result
}

async fn initialize(context: &Context, store: &Store, args: &InitArgs) -> anyhow::Result<()> {
    if let Some(host) = store.host_principal().await? {
        let org = store.viewer(host.clone()).get_organization(host.org_id).await?;
        return report_existing(context, &org);
    }
    let config_written = write_default_config(context)?;
    let Some(bootstrap) = store.bootstrap(&args.org_name, &args.admin_email).await? else {
        // Another `init` won the race.
        let host = store.host_principal().await?.context("host organization vanished")?;
        let org = store.viewer(host.clone()).get_organization(host.org_id).await?;
        return report_existing(context, &org);
    };
    let paths = &context.paths;
    if context.json {
        return output::json(&json!({
            "initialized": true,
            "data_dir": paths.data_dir,
            "config": paths.config_file,
            "database": context.config.database.url.to_string(),
            "organization": bootstrap.host,
            "admin": bootstrap.admin,
            "token": bootstrap.token.secret,
        }));
    }
    let config_note = if config_written { "written with defaults" } else { "existing, unchanged" };
    output::lines(["tipline is initialized.".to_string(), String::new()])?;
    output::fields(&[
        ("  data directory", paths.data_dir.display().to_string()),
        ("  config file", format!("{} ({config_note})", paths.config_file.display())),
        ("  database", context.config.database.url.to_string()),
        ("  organization", format!("{} ({})", bootstrap.host.name, bootstrap.host.id)),
        ("  administrator", bootstrap.admin.email.clone()),
    ])?;
    output::lines([
        String::new(),
        format!("API token of {}:", bootstrap.admin.email),
        String::new(),
        format!("  {}", bootstrap.token.secret),
        String::new(),
        "This token is shown only now and cannot be recovered: store it safely.".to_string(),
        "Next: start the server with `tipline serve` and send the token as".to_string(),
        "`Authorization: Bearer <token>`.".to_string(),
    ])
}

fn report_existing(context: &Context, org: &Organization) -> anyhow::Result<()> {
    let paths = &context.paths;
    if context.json {
        return output::json(&json!({
            "initialized": false,
            "data_dir": paths.data_dir,
            "config": paths.config_file,
            "database": context.config.database.url.to_string(),
            "organization": org,
        }));
    }
    output::lines([format!(
        "tipline is already initialized in {} (host organization {}); nothing was changed",
        context.location(),
        org.name
    )])
}

/// Create `dir` (and its parents) readable only by the owner, unless it exists.
fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).with_context(|| format!("cannot create data directory {}", dir.display()))
}

/// Write the commented default config file unless one exists; whether it was written.
fn write_default_config(context: &Context) -> anyhow::Result<bool> {
    use std::io::Write;

    let path = &context.paths.config_file;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create directory {}", parent.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = match options.open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(false),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot create config file {}", path.display()));
        }
    };
    file.write_all(default_file_text(&context.paths).as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write config file {}", path.display()))?;
    Ok(true)
}
