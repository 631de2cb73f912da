//! Diagnostic logging to standard error with tracing-subscriber.
//!
//! The filter is `TIPLINE_LOG` if set, else the config's `log.level`, else a per-command
//! default (`info` for `serve`, `warn` for the rest, which print their results on stdout).

use std::io::IsTerminal;

use anyhow::anyhow;
use tracing_subscriber::EnvFilter;

use crate::config::{Config, Environment, LogFormat};

/// Install the global subscriber.
pub fn init(config: &Config, env: &Environment, default_level: &str) -> anyhow::Result<()> {
    let filter = match env.get("TIPLINE_LOG") {
        // The parse error's source repeats its message, so it is not chained.
        Some(directives) => EnvFilter::try_new(directives)
            .map_err(|e| anyhow!("invalid TIPLINE_LOG filter `{directives}`: {e}"))?,
        None => {
            let directives = config.log.level.as_deref().unwrap_or(default_level);
            EnvFilter::try_new(directives)
                .map_err(|e| anyhow!("invalid log.level filter `{directives}`: {e}"))?
        }
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let installed = match config.log.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    installed.map_err(|e| anyhow!("cannot install the logger: {e}"))
}
