//! `tipline`: the binary. Parses the command line, loads the configuration, sets up logging
//! and runs one command; on failure prints the error chain and exits with status 1.

mod cli;
mod commands;
mod config;
mod logging;
mod output;
mod progress;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::config::{Environment, FlagOverrides, Paths};

fn main() -> ExitCode {
    // Installing fails only if a provider is already installed, which is just as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    match run(cli, Environment::from_process()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli, env: Environment) -> anyhow::Result<()> {
    let paths = Paths::resolve(cli.data_dir.as_deref(), cli.config.as_deref(), &env)?;
    let flags = FlagOverrides {
        listen: match &cli.command {
            Command::Serve(args) => args.listen,
            _ => None,
        },
        log_format: cli.log_format,
    };
    let config = config::load(&paths, &env, &flags)?;
    let default_level = if matches!(cli.command, Command::Serve(_)) { "info" } else { "warn" };
    logging::init(&config, &env, default_level)?;
    if let Some(from) = paths.config_file_from
        && !paths.config_file.exists()
        && !matches!(cli.command, Command::Init(_))
    {
        tracing::warn!(
            "config file {} (from {from}) does not exist; using defaults",
            paths.config_file.display()
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
    let context = commands::Context { paths, config, json: cli.json };
    runtime.block_on(commands::run(cli.command, &context))
}

/// Whether stdout was closed under us (`tipline org list | head`): not worth an error.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
