//! tipline's HTTP server: the REST API under `/api/v1`, its OpenAPI document, health
//! checks and Prometheus metrics.
//!
//! Only this crate knows HTTP. Handlers authenticate the bearer token into a
//! [`Principal`](tipline_model::Principal), call the store through a `Viewer` (which
//! enforces visibility and permissions), and map errors through one [`ApiError`] to
//! RFC 9457 problem details. Routes are declared with their OpenAPI description
//! (utoipa), so the document served at `/api/v1/openapi.json` cannot drift from them.

mod error;
mod extract;
mod index_sync;
mod metrics;
mod routes;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tipline_enrich::Enricher;
use tipline_store::Store;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use error::{ApiError, Problem};
pub use index_sync::{IndexSync, entry as index_entry};
pub use metrics::Metrics;

/// Settings of the HTTP server.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Address to listen on; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// Longest time a request may take before it is answered 503.
    pub request_timeout: Duration,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 10 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// The services the server uses beyond the store. `Default` gives an enricher with every
/// provider disabled (servers and tests that do not enrich).
#[derive(Clone)]
pub struct Services {
    /// Enrichment providers and their caches.
    pub enricher: Arc<Enricher>,
}

impl Default for Services {
    fn default() -> Self {
        Services { enricher: Arc::new(Enricher::disabled()) }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// Server settings.
    pub settings: Arc<ServerSettings>,
    /// Metrics registry.
    pub metrics: Arc<Metrics>,
    /// The OpenAPI document, rendered once.
    pub openapi: Arc<String>,
    /// Enrichment.
    pub enricher: Arc<Enricher>,
    /// The matching index and its link to the outbox.
    pub index: Arc<IndexSync>,
}

/// The complete router (API, health, metrics) for `store`, matching against `index`, with
/// `services`.
pub fn router(
    store: Store,
    index: Arc<IndexSync>,
    settings: ServerSettings,
    services: Services,
) -> Router {
    let (api, openapi) = routes::api().split_for_parts();
    let openapi_json = openapi.to_pretty_json().expect("the OpenAPI document serializes");
    let state = AppState {
        store,
        metrics: Arc::new(Metrics::new()),
        openapi: Arc::new(openapi_json),
        settings: Arc::new(settings.clone()),
        enricher: services.enricher,
        index,
    };
    Router::new()
        .merge(api)
        .merge(routes::health::router())
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(axum::middleware::from_fn_with_state(state.clone(), timeout))
        .layer(DefaultBodyLimit::max(settings.max_body_bytes))
        .layer(CatchPanicLayer::custom(|_panic: Box<dyn std::any::Any + Send>| {
            ApiError::Internal("handler panicked".into()).into_response()
        }))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request| {
                let id = request
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                // Only method and path: headers carry tokens, queries may carry values.
                tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
            }),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

async fn timeout(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(state.settings.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout.into_response(),
    }
}

/// The OpenAPI document of the API (what `/api/v1/openapi.json` serves).
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes::api().split_for_parts().1
}

/// A bound, not yet running server.
pub struct Application {
    listener: tokio::net::TcpListener,
    router: Router,
    index: Arc<IndexSync>,
}

impl Application {
    /// Load the matching index from `store`, bind the listening socket and assemble the
    /// routes (no enrichment).
    pub async fn build(store: Store, settings: ServerSettings) -> std::io::Result<Application> {
        Application::build_with(store, settings, Services::default()).await
    }

    /// Load the matching index from `store`, bind the listening socket and assemble the
    /// routes with `services`.
    pub async fn build_with(
        store: Store,
        settings: ServerSettings,
        services: Services,
    ) -> std::io::Result<Application> {
        // Bind first: an address in use is reported before any work is done.
        let listener = tokio::net::TcpListener::bind(settings.listen).await?;
        let index =
            Arc::new(IndexSync::load(store.clone()).await.map_err(|e| {
                std::io::Error::other(format!("cannot load the matching index: {e}"))
            })?);
        let router = router(store, Arc::clone(&index), settings, services);
        Ok(Application { listener, router, index })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound socket has an address")
    }

    /// Serve until `shutdown` completes, then finish in-flight requests.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let follower = tokio::spawn(Arc::clone(&self.index).follow(Duration::from_secs(1)));
        let result = axum::serve(self.listener, self.router).with_graceful_shutdown(shutdown).await;
        follower.abort();
        result
    }
}
