//! The `/api/v1` routes, one file per resource, registered here with their OpenAPI
//! descriptions.

pub mod admin;
pub mod enrich;
pub mod extraction;
pub mod feeds;
pub mod health;
pub mod import;
mod import_misp;
pub mod intel;
pub mod matching;
pub mod notify;
pub mod warninglists;

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "tipline API",
        description = "Threat intelligence with tenant isolation and TLP 2.0. Every request \
            authenticates with `Authorization: Bearer <token>`; errors are RFC 9457 problem \
            details (`application/problem+json`) with a stable `code` and, for validation \
            errors, the failing `field`s.",
        license(name = "Apache-2.0")
    ),
    modifiers(&BearerAuth),
    components(schemas(crate::error::Problem, tipline_model::validate::FieldError)),
    security(("bearer" = [])),
    tags(
        (name = "organizations", description = "Member organizations (administered by the host)"),
        (name = "communities", description = "Sharing groups of organizations"),
        (name = "users", description = "Users and API tokens"),
        (name = "indicators", description = "Indicators of compromise"),
        (name = "groups", description = "Adversaries, campaigns, malware, tools, vulnerabilities, reports"),
        (name = "associations", description = "Relationships between objects"),
        (name = "sightings", description = "Indicators seen by organizations"),
        (name = "matching", description = "Values and records against indicators, constituency and warninglists"),
        (name = "warninglists", description = "Known-benign lists (MISP warninglists)"),
        (name = "audit", description = "Who changed what"),
        (name = "notifications", description = "Notifications sent to organizations, and the rules that decide them"),
        (name = "enrichment", description = "Shodan, Censys, GeoIP, RDAP, DNSBL and DNS lookups, cached"),
        (name = "feeds", description = "Blocklist and MISP feeds, their pulls and listings"),
        (name = "import", description = "Importing documents (MISP)"),
        (name = "extraction", description = "Indicators found in text, optionally imported as a report"),
        (name = "meta", description = "The API document itself"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components
            .add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// Every API route with its OpenAPI description.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(admin::list_organizations, admin::create_organization))
        .routes(routes!(admin::get_organization, admin::update_organization))
        .routes(routes!(admin::subscribe))
        .routes(routes!(admin::unsubscribe))
        .routes(routes!(admin::list_communities, admin::create_community))
        .routes(routes!(admin::get_community))
        .routes(routes!(admin::add_member))
        .routes(routes!(admin::remove_member))
        .routes(routes!(admin::list_users, admin::create_user))
        .routes(routes!(admin::whoami))
        .routes(routes!(admin::get_user))
        .routes(routes!(admin::list_tokens, admin::create_token))
        .routes(routes!(admin::revoke_token))
        .routes(routes!(admin::audit_log))
        .routes(routes!(intel::search_indicators, intel::create_indicator))
        .routes(routes!(intel::bulk_upsert))
        .routes(routes!(intel::get_indicator, intel::patch_indicator))
        .routes(routes!(intel::search_groups, intel::create_group))
        .routes(routes!(intel::get_group))
        .routes(routes!(intel::list_associations, intel::create_association))
        .routes(routes!(intel::get_association))
        .routes(routes!(intel::neighbourhood))
        .routes(routes!(intel::list_sightings, intel::create_sighting))
        .routes(routes!(intel::get_sighting))
        .routes(routes!(intel::owners))
        .routes(routes!(notify::list_notifications))
        .routes(routes!(notify::get_notification))
        .routes(routes!(notify::acknowledge_notification))
        .routes(routes!(notify::list_rules, notify::create_rule))
        .routes(routes!(notify::get_rule, notify::update_rule, notify::delete_rule))
        .routes(routes!(notify::effective_rules))
        .routes(routes!(enrich::enrichments))
        .routes(routes!(enrich::providers))
        .routes(routes!(feeds::list_feeds, feeds::create_feed))
        .routes(routes!(feeds::get_feed, feeds::remove_feed))
        .routes(routes!(feeds::pull_feed))
        .routes(routes!(feeds::feed_pulls))
        .routes(routes!(feeds::search_listings))
        .routes(routes!(import::import))
        .routes(routes!(extraction::extract_text))
        .routes(routes!(matching::match_values))
        .routes(routes!(matching::constituency))
        .routes(routes!(warninglists::list_warninglists, warninglists::import_warninglist))
        .routes(routes!(health::openapi_document))
}
