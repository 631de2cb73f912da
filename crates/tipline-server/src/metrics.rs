//! Prometheus metrics of the HTTP server, rendered at `/metrics`.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

/// The server's metrics and the registry they are rendered from.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabels, Histogram>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// A fresh registry with the HTTP metrics registered.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("tipline");
        let requests = Family::<RequestLabels, Counter>::default();
        let durations = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ])
        });
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "Time to answer HTTP requests",
            durations.clone(),
        );
        Metrics { registry, requests, durations }
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a string cannot fail");
        out
    }

    /// The exposition with the enrichment providers' counters added before `# EOF`.
    pub fn render_with(&self, providers: &[tipline_enrich::ProviderStatus]) -> String {
        let mut out = self.render();
        let end = out.rfind("# EOF").unwrap_or(out.len());
        out.truncate(end);
        out.push_str(&enrichment_metrics(providers));
        out.push_str("# EOF\n");
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// Middleware counting every request by method, matched route (never the raw path, which
/// may hold values) and status, and timing it.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let response = next.run(request).await;
    let metrics: &Arc<Metrics> = &state.metrics;
    metrics
        .requests
        .get_or_create(&RequestLabels {
            method: method.clone(),
            route: route.clone(),
            status: response.status().as_u16(),
        })
        .inc();
    metrics
        .durations
        .get_or_create(&RouteLabels { method, route })
        .observe(started.elapsed().as_secs_f64());
    response
}

/// Per-provider enrichment counters, labelled by provider name only (never a value).
pub fn enrichment_metrics(providers: &[tipline_enrich::ProviderStatus]) -> String {
    use std::fmt::Write;

    type Get = fn(&tipline_enrich::CounterValues) -> u64;
    const COUNTERS: &[(&str, &str, Get)] = &[
        ("enrich_lookups", "Enrichment lookups asked, by provider", |c| c.lookups),
        ("enrich_calls", "Requests sent to the provider (retries included)", |c| c.calls),
        ("enrich_hot_cache_hits", "Lookups answered from the in-process cache", |c| {
            c.hot_cache_hits
        }),
        ("enrich_store_cache_hits", "Lookups answered from the database cache", |c| {
            c.store_cache_hits
        }),
        ("enrich_coalesced", "Lookups that joined an identical one in flight", |c| c.coalesced),
        ("enrich_retries", "Attempts repeated after a retryable failure", |c| c.retries),
        ("enrich_errors", "Lookups that failed", |c| c.errors),
        ("enrich_credits_used", "Provider credits reported as used", |c| c.credits_used),
    ];
    let mut out = String::new();
    for (name, help, get) in COUNTERS {
        let _ = writeln!(out, "# HELP tipline_{name} {help}.");
        let _ = writeln!(out, "# TYPE tipline_{name} counter");
        for provider in providers {
            let _ = writeln!(
                out,
                "tipline_{name}_total{{provider=\"{}\"}} {}",
                provider.name,
                get(&provider.counters)
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP tipline_enrich_provider_enabled Whether the provider answers lookups (1) or is disabled (0)."
    );
    let _ = writeln!(out, "# TYPE tipline_enrich_provider_enabled gauge");
    for provider in providers {
        let _ = writeln!(
            out,
            "tipline_enrich_provider_enabled{{provider=\"{}\"}} {}",
            provider.name,
            u8::from(provider.enabled)
        );
    }
    out
}
