//! `tipline serve`: run the HTTP server on the configured store until Ctrl-C or SIGTERM,
//! then let in-flight requests finish. The notification delivery worker runs alongside.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

use tipline_server::{Application, ServerSettings, Services};

use super::Context;
use crate::cli::ServeArgs;
use crate::output;

pub async fn run(context: &Context, _args: ServeArgs) -> anyhow::Result<()> {
    // `--listen` is already folded into the configuration (the flag layer).
    let server = &context.config.server;
    let session = context.session().await?;
    let store = session.store.clone();
    let settings = ServerSettings {
        listen: server.listen,
        max_body_bytes: server.max_body_bytes,
        request_timeout: Duration::from_secs(server.request_timeout_secs),
    };
    let notifier = super::notify::notifier(context, &session)?;
    let enricher = context.enricher(&store)?;
    let statuses = enricher.statuses();
    let services = Services { enricher: Arc::new(enricher) };
    let application = Application::build_with(store.clone(), settings, services)
        .await
        .with_context(|| format!("cannot listen on {}", server.listen))?;
    super::feed::sync_config_feeds(context, &session).await?;
    let scheduler = start_scheduler(context, &session)?;
    let address = application.local_addr();
    for status in statuses.iter().filter(|s| !s.enabled) {
        let reason = status.disabled_reason.as_deref().unwrap_or_default();
        tracing::info!(provider = %status.name, reason, "enrichment provider disabled");
    }
    tracing::info!(
        %address,
        database = %context.config.database.url,
        backend = store.backend().as_str(),
        "tipline starting"
    );
    output::lines([format!(
        "tipline listening on http://{address}  (API /api/v1, OpenAPI /api/v1/openapi.json, health /healthz)"
    )])?;
    tracing::info!(
        smtp = notifier.smtp_server().unwrap_or("none (outbox)"),
        signed = notifier.signing_fingerprint().is_some(),
        "notification worker starting"
    );
    let (stop_worker, stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(async move {
        let mut stopped = stopped;
        notifier
            .run(async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            })
            .await;
    });
    let result = application.run_until(shutdown_signal()).await.context("server failed");
    let _ = stop_worker.send(true);
    let _ = worker.await;
    if let Some((stop, running)) = scheduler {
        let _ = stop.send(true);
        let _ = running.await;
    }
    tracing::info!("tipline stopped");
    session.close().await;
    result
}

type RunningScheduler = (tokio::sync::watch::Sender<bool>, tokio::task::JoinHandle<()>);

/// Start the feed scheduler unless `[scheduler] enabled = false`; stop it by sending `true`.
fn start_scheduler(
    context: &Context,
    session: &super::Session,
) -> anyhow::Result<Option<RunningScheduler>> {
    let config = &context.config.scheduler;
    if !config.enabled {
        tracing::info!("feed scheduler disabled by configuration");
        return Ok(None);
    }
    let outbound = tipline_http::Outbound::new(context.config.outbound.client_config())?;
    let settings = tipline_feeds::SchedulerSettings {
        poll: Duration::from_secs(config.poll_secs),
        concurrency: config.concurrency,
        pull: tipline_feeds::PullSettings {
            retry_base_secs: config.retry_base_secs as i64,
            lease_secs: config.lease_secs as i64,
        },
    };
    let scheduler = tipline_feeds::Scheduler::new(
        session.store.clone(),
        session.host.clone(),
        outbound,
        settings,
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    Ok(Some((stop, tokio::spawn(scheduler.run(stopped)))))
}

/// Completes on Ctrl-C (SIGINT) or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("interrupted; shutting down"),
        () = terminate => tracing::info!("terminated; shutting down"),
    }
}
