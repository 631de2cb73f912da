//! Notifications (list, get, acknowledge) and notification rules (host defaults and
//! per-organization overrides). Sending is the notifier's (playbooks, `tipline notify`);
//! these routes read and manage what the store records.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tipline_model::notify::{Notification, NotificationRule, NotificationRuleInput};
use tipline_store::{NotificationQuery, Page};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiResult, ErrorResponses};
use crate::extract::{ApiJson, ApiQuery, Auth};

/// List notifications (the host sees all; partners those sent to them), filtered, ordered
/// by last change. `status=outbox` lists the mail waiting in the outbox.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", params(NotificationQuery),
    responses((status = 200, body = Page<Notification>), ErrorResponses))]
pub async fn list_notifications(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<NotificationQuery>,
) -> ApiResult<Json<Page<Notification>>> {
    Ok(Json(s.store.viewer(p).list_notifications(&q).await?))
}

/// One notification, with its rendered subject and bodies, status, reason and last error.
#[utoipa::path(get, path = "/api/v1/notifications/{id}", tag = "notifications",
    params(("id" = Uuid, Path, description = "Notification id")),
    responses((status = 200, body = Notification), ErrorResponses))]
pub async fn get_notification(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Notification>> {
    Ok(Json(s.store.viewer(p).get_notification(id).await?))
}

/// An acknowledgement.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcknowledgeInput {
    /// What the recipient did (at most 2000 bytes).
    #[serde(default)]
    pub note: Option<String>,
}

/// Acknowledge a notification sent to the caller's organization (a second
/// acknowledgement keeps the first).
#[utoipa::path(post, path = "/api/v1/notifications/{id}/acknowledge", tag = "notifications",
    request_body = AcknowledgeInput,
    params(("id" = Uuid, Path, description = "Notification id")),
    responses((status = 200, body = Notification), ErrorResponses))]
pub async fn acknowledge_notification(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<Uuid>,
    ApiJson(input): ApiJson<AcknowledgeInput>,
) -> ApiResult<Json<Notification>> {
    let viewer = s.store.viewer(p);
    Ok(Json(
        viewer.acknowledge_notification(id, input.note.as_deref(), tipline_store::now()).await?,
    ))
}

/// Which rules to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RuleQuery {
    /// This organization's own rules; the host defaults when absent.
    pub org_id: Option<Uuid>,
}

/// List the host default rules, or one organization's own rules.
#[utoipa::path(get, path = "/api/v1/notification-rules", tag = "notifications", params(RuleQuery),
    responses((status = 200, body = Vec<NotificationRule>), ErrorResponses))]
pub async fn list_rules(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<RuleQuery>,
) -> ApiResult<Json<Vec<NotificationRule>>> {
    Ok(Json(s.store.viewer(p).list_notification_rules(q.org_id).await?))
}

/// Create a rule: a host default (no `org_id`, host administrators) or an organization's
/// override (host administrators, or the organization's own administrators within the
/// partner limits).
#[utoipa::path(post, path = "/api/v1/notification-rules", tag = "notifications",
    request_body = NotificationRuleInput,
    responses((status = 201, body = NotificationRule), ErrorResponses))]
pub async fn create_rule(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(input): ApiJson<NotificationRuleInput>,
) -> ApiResult<(StatusCode, Json<NotificationRule>)> {
    Ok((StatusCode::CREATED, Json(s.store.viewer(p).create_notification_rule(&input).await?)))
}

/// One rule.
#[utoipa::path(get, path = "/api/v1/notification-rules/{id}", tag = "notifications",
    params(("id" = Uuid, Path, description = "Rule id")),
    responses((status = 200, body = NotificationRule), ErrorResponses))]
pub async fn get_rule(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<NotificationRule>> {
    Ok(Json(s.store.viewer(p).get_notification_rule(id).await?))
}

/// Replace a rule (its organization cannot change).
#[utoipa::path(put, path = "/api/v1/notification-rules/{id}", tag = "notifications",
    request_body = NotificationRuleInput,
    params(("id" = Uuid, Path, description = "Rule id")),
    responses((status = 200, body = NotificationRule), ErrorResponses))]
pub async fn update_rule(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<Uuid>,
    ApiJson(input): ApiJson<NotificationRuleInput>,
) -> ApiResult<Json<NotificationRule>> {
    Ok(Json(s.store.viewer(p).update_notification_rule(id, &input).await?))
}

/// Delete a rule.
#[utoipa::path(delete, path = "/api/v1/notification-rules/{id}", tag = "notifications",
    params(("id" = Uuid, Path, description = "Rule id")),
    responses((status = 204, description = "Deleted"), ErrorResponses))]
pub async fn delete_rule(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    s.store.viewer(p).delete_notification_rule(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every rule that applies to an organization (its own, then the host defaults), in the
/// order they are tried: the first that matches a notification decides it.
#[utoipa::path(get, path = "/api/v1/organizations/{id}/notification-rules", tag = "notifications",
    params(("id" = Uuid, Path, description = "Organization id")),
    responses((status = 200, body = Vec<NotificationRule>), ErrorResponses))]
pub async fn effective_rules(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Vec<NotificationRule>>> {
    Ok(Json(s.store.viewer(p).effective_notification_rules(id).await?))
}
