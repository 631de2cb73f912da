//! Organizations, communities, users, tokens and the audit log.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tipline_model::admin::{
    ApiToken, Community, CommunityInput, NewToken, Organization, OrganizationInput, TokenInput,
    User, UserInput,
};
use tipline_model::{OrgKind, Role};
use tipline_store::audit::AuditEntry;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiResult, ErrorResponses};
use crate::extract::{ApiJson, ApiQuery, Auth};

/// List organizations: every one for platform admins, one's own otherwise.
#[utoipa::path(get, path = "/api/v1/organizations", tag = "organizations",
    responses((status = 200, body = Vec<Organization>), ErrorResponses))]
pub async fn list_organizations(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> ApiResult<Json<Vec<Organization>>> {
    Ok(Json(s.store.viewer(p).list_organizations().await?))
}

/// Create a partner or source organization (platform admins only).
#[utoipa::path(post, path = "/api/v1/organizations", tag = "organizations", request_body = OrganizationInput,
    responses((status = 201, body = Organization), ErrorResponses))]
pub async fn create_organization(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(input): ApiJson<OrganizationInput>,
) -> ApiResult<(StatusCode, Json<Organization>)> {
    Ok((StatusCode::CREATED, Json(s.store.viewer(p).create_organization(&input).await?)))
}

/// One organization (platform admins: any; others: their own).
#[utoipa::path(get, path = "/api/v1/organizations/{id}", tag = "organizations",
    params(("id" = Uuid, Path, description = "Organization id")),
    responses((status = 200, body = Organization), ErrorResponses))]
pub async fn get_organization(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Organization>> {
    Ok(Json(s.store.viewer(p).get_organization(id).await?))
}

/// Replace an organization's details, contacts and constituency (platform admins only).
#[utoipa::path(put, path = "/api/v1/organizations/{id}", tag = "organizations", request_body = OrganizationInput,
    params(("id" = Uuid, Path, description = "Organization id")),
    responses((status = 200, body = Organization), ErrorResponses))]
pub async fn update_organization(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<Uuid>,
    ApiJson(input): ApiJson<OrganizationInput>,
) -> ApiResult<Json<Organization>> {
    Ok(Json(s.store.viewer(p).update_organization(id, &input).await?))
}

/// A subscription to a source organization.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionInput {
    /// The source organization to subscribe to.
    pub source_id: Uuid,
}

/// Subscribe an organization to a source: the source's GREEN and AMBER objects become
/// visible to it (platform admins only).
#[utoipa::path(post, path = "/api/v1/organizations/{id}/subscriptions", tag = "organizations", request_body = SubscriptionInput,
    params(("id" = Uuid, Path, description = "Subscribing organization")),
    responses((status = 200, body = Organization), ErrorResponses))]
pub async fn subscribe(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<Uuid>,
    ApiJson(input): ApiJson<SubscriptionInput>,
) -> ApiResult<Json<Organization>> {
    Ok(Json(s.store.viewer(p).subscribe(id, input.source_id).await?))
}

/// End a subscription (platform admins only).
#[utoipa::path(delete, path = "/api/v1/organizations/{id}/subscriptions/{source_id}", tag = "organizations",
    params(("id" = Uuid, Path, description = "Subscribing organization"), ("source_id" = Uuid, Path, description = "Source organization")),
    responses((status = 200, body = Organization), ErrorResponses))]
pub async fn unsubscribe(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path((id, source_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<Json<Organization>> {
    Ok(Json(s.store.viewer(p).unsubscribe(id, source_id).await?))
}

/// Communities: all for platform admins, those one belongs to otherwise.
#[utoipa::path(get, path = "/api/v1/communities", tag = "communities",
    responses((status = 200, body = Vec<Community>), ErrorResponses))]
pub async fn list_communities(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> ApiResult<Json<Vec<Community>>> {
    Ok(Json(s.store.viewer(p).list_communities().await?))
}

/// Create a community (platform admins only).
#[utoipa::path(post, path = "/api/v1/communities", tag = "communities", request_body = CommunityInput,
    responses((status = 201, body = Community), ErrorResponses))]
pub async fn create_community(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(input): ApiJson<CommunityInput>,
) -> ApiResult<(StatusCode, Json<Community>)> {
    Ok((StatusCode::CREATED, Json(s.store.viewer(p).create_community(&input).await?)))
}

/// One community the caller may see.
#[utoipa::path(get, path = "/api/v1/communities/{id}", tag = "communities",
    params(("id" = Uuid, Path, description = "Community id")),
    responses((status = 200, body = Community), ErrorResponses))]
pub async fn get_community(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Community>> {
    Ok(Json(s.store.viewer(p).get_community(id).await?))
}

/// An organization to add to a community.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberInput {
    /// The organization.
    pub org_id: Uuid,
}

/// Add a member organization (platform admins only).
#[utoipa::path(post, path = "/api/v1/communities/{id}/members", tag = "communities", request_body = MemberInput,
    params(("id" = Uuid, Path, description = "Community id")),
    responses((status = 200, body = Community), ErrorResponses))]
pub async fn add_member(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<Uuid>,
    ApiJson(input): ApiJson<MemberInput>,
) -> ApiResult<Json<Community>> {
    Ok(Json(s.store.viewer(p).add_community_member(id, input.org_id).await?))
}

/// Remove a member organization (platform admins only).
#[utoipa::path(delete, path = "/api/v1/communities/{id}/members/{org_id}", tag = "communities",
    params(("id" = Uuid, Path, description = "Community id"), ("org_id" = Uuid, Path, description = "Member organization")),
    responses((status = 200, body = Community), ErrorResponses))]
pub async fn remove_member(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path((id, org_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<Json<Community>> {
    Ok(Json(s.store.viewer(p).remove_community_member(id, org_id).await?))
}

/// Users the caller administers (platform admins: all; org admins: their organization's).
#[utoipa::path(get, path = "/api/v1/users", tag = "users",
    responses((status = 200, body = Vec<User>), ErrorResponses))]
pub async fn list_users(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<Vec<User>>> {
    Ok(Json(s.store.viewer(p).list_users().await?))
}

/// Create a user in an organization the caller administers.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = UserInput,
    responses((status = 201, body = User), ErrorResponses))]
pub async fn create_user(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(input): ApiJson<UserInput>,
) -> ApiResult<(StatusCode, Json<User>)> {
    Ok((StatusCode::CREATED, Json(s.store.viewer(p).create_user(&input).await?)))
}

/// Who the caller is.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhoAmI {
    /// The caller's user, if the token belongs to one.
    pub user: Option<User>,
    /// The caller's organization.
    pub org_id: Uuid,
    /// Its kind.
    pub org_kind: OrgKind,
    /// The caller's role.
    pub role: Role,
}

/// The caller's user, organization and role.
#[utoipa::path(get, path = "/api/v1/users/me", tag = "users",
    responses((status = 200, body = WhoAmI), ErrorResponses))]
pub async fn whoami(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<WhoAmI>> {
    let user = match p.user_id {
        Some(id) => Some(s.store.viewer(p.clone()).get_user(id).await?),
        None => None,
    };
    Ok(Json(WhoAmI { user, org_id: p.org_id, org_kind: p.org_kind, role: p.role }))
}

/// One user the caller administers (or the caller).
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = Uuid, Path, description = "User id")),
    responses((status = 200, body = User), ErrorResponses))]
pub async fn get_user(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<User>> {
    Ok(Json(s.store.viewer(p).get_user(id).await?))
}

/// The caller's tokens (admins: their organization's). Secrets are never listed.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "users",
    responses((status = 200, body = Vec<ApiToken>), ErrorResponses))]
pub async fn list_tokens(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> ApiResult<Json<Vec<ApiToken>>> {
    Ok(Json(s.store.viewer(p).list_tokens().await?))
}

/// Create a token; its secret is in this response only.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "users", request_body = TokenInput,
    responses((status = 201, body = NewToken), ErrorResponses))]
pub async fn create_token(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(input): ApiJson<TokenInput>,
) -> ApiResult<(StatusCode, Json<NewToken>)> {
    Ok((StatusCode::CREATED, Json(s.store.viewer(p).create_token(&input).await?)))
}

/// Revoke a token; it stops working immediately.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "users",
    params(("id" = Uuid, Path, description = "Token id")),
    responses((status = 200, body = ApiToken), ErrorResponses))]
pub async fn revoke_token(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<ApiToken>> {
    Ok(Json(s.store.viewer(p).revoke_token(id).await?))
}

/// Audit log parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// How many entries, newest first (1–1000, default 100).
    pub limit: Option<u32>,
}

/// The most recent audit entries (admins; platform admins see every organization's).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = Vec<AuditEntry>), ErrorResponses))]
pub async fn audit_log(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    Ok(Json(s.store.viewer(p).audit_log(q.limit.unwrap_or(100)).await?))
}
