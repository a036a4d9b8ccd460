//! The audit trail (`/events`, CONTRACT §6.2): list with filters, one event, and the
//! verification of the tenant's hash chain. Every route needs `events:read`.

use crate::error::{ApiError, ApiResult, ErrorBody, FieldErrorBody};
use crate::extract::{ApiQuery, Authenticated};
use crate::routes::pagination::{PageQuery, Pagination};
use crate::routes::query::parse_time;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use verifa_app::audit::EventQuery;
use verifa_domain::audit::AuditEvent;
use verifa_domain::audit::chain::{ChainReport, micros};
use verifa_domain::pagination::DEFAULT_LIMIT;

const READ: &str = "events:read";

/// The routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_events))
        .routes(routes!(verify_events))
        .routes(routes!(get_event))
}

/// One audit event: what changed (field names, never values), who did it, from where, and
/// its place in the hash chain.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEventObject {
    /// `aud_…`.
    #[schema(example = "aud_0192f8c2a1b27c3e8d4f5a6b7c8d9e0f")]
    pub id: String,
    /// Position in the chain of this organization and environment, from 1 without gaps.
    #[schema(example = 1042)]
    pub sequence: i64,
    /// The action, e.g. `api_key.updated`.
    #[serde(rename = "type")]
    #[schema(example = "api_key.updated")]
    pub action: String,
    /// When it happened (microseconds, as hashed).
    #[schema(example = "2026-02-01T12:05:00.000000Z")]
    pub created_at: String,
    /// `session`, `api_key`, `org_user`, …
    pub resource_type: String,
    /// The resource's id.
    pub resource_id: String,
    /// `api_key:<prefix>`, `org_user:<id>`, `mcp:api_key:<prefix>`, `system` or `applicant`.
    #[schema(example = "api_key:vk_live_ab12cd34")]
    pub actor: String,
    /// Names of the changed fields.
    pub changes: Vec<String>,
    /// Context without personal data.
    #[schema(value_type = Object)]
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// The caller's address (`null` for jobs and the capture flow).
    pub ip_address: Option<String>,
    /// HTTP method of the request.
    pub request_method: Option<String>,
    /// Path of the request (without its query).
    pub request_path: Option<String>,
    /// The request's id.
    pub request_id: Option<String>,
    /// `live` or `sandbox`.
    pub environment: String,
    /// The previous event's hash (64 zeros for the first).
    pub prev_hash: String,
    /// `hex(sha256(prev_hash ‖ JCS(event without hash)))`.
    pub hash: String,
}

impl From<AuditEvent> for AuditEventObject {
    fn from(e: AuditEvent) -> Self {
        Self {
            created_at: micros::format(&e.created_at),
            environment: e.environment.as_str().to_owned(),
            id: e.id,
            sequence: e.sequence,
            action: e.action,
            resource_type: e.resource_type,
            resource_id: e.resource_id,
            actor: e.actor,
            changes: e.changes,
            metadata: e.metadata,
            ip_address: e.ip_address,
            request_method: e.request_method,
            request_path: e.request_path,
            request_id: e.request_id,
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

/// A page of events, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEventList {
    /// The events.
    pub data: Vec<AuditEventObject>,
    /// Counts.
    pub pagination: Pagination,
}

/// What a verification of the chain found.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChainVerification {
    /// Every checked event is intact and linked (and, checking to the end, the chain reaches
    /// its recorded head).
    pub valid: bool,
    /// Events checked.
    pub checked: u64,
    /// The first sequence number at which the chain is broken.
    pub first_invalid_sequence: Option<i64>,
    /// The chain's head sequence (0 before the first event).
    pub head_sequence: i64,
    /// The chain's head hash: record it elsewhere to anchor the chain.
    pub head_hash: String,
}

impl From<ChainReport> for ChainVerification {
    fn from(r: ChainReport) -> Self {
        Self {
            valid: r.valid,
            checked: r.checked,
            first_invalid_sequence: r.first_invalid_sequence,
            head_sequence: r.head_sequence,
            head_hash: r.head_hash,
        }
    }
}

/// Filters of `GET /events`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventListQuery {
    /// Only this action (`type`), e.g. `api_key.created`.
    pub action: Option<String>,
    /// Only this resource type.
    pub resource_type: Option<String>,
    /// Only this resource.
    pub resource_id: Option<String>,
    /// Only this actor, e.g. `api_key:vk_live_ab12cd34` or `system`.
    pub actor: Option<String>,
    /// Created at or after (RFC 3339 or `YYYY-MM-DD`).
    #[param(value_type = Option<String>, format = DateTime)]
    pub created_after: Option<String>,
    /// Created before (RFC 3339, or `YYYY-MM-DD` for the end of that day).
    #[param(value_type = Option<String>, format = DateTime)]
    pub created_before: Option<String>,
    /// Actor, action, resource or IP address contains (case-insensitive).
    pub q: Option<String>,
    /// Rows per page, 1–100 (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// Rows to skip, ≥ 0.
    #[param(value_type = Option<i64>, minimum = 0)]
    pub offset: Option<String>,
}

/// Range of `GET /events/verify`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VerifyQuery {
    /// First sequence number to check (default 1).
    #[param(value_type = Option<i64>, minimum = 1)]
    pub from_sequence: Option<String>,
    /// Last sequence number to check (default: the head).
    #[param(value_type = Option<i64>, minimum = 1)]
    pub to_sequence: Option<String>,
}

fn parse_sequence(field: &str, raw: &Option<String>) -> Result<Option<i64>, ApiError> {
    match raw.as_deref() {
        None => Ok(None),
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n >= 1 => Ok(Some(n)),
            _ => Err(ApiError::validation(vec![FieldErrorBody {
                field: field.into(),
                message: "must be an integer of at least 1".into(),
            }])),
        },
    }
}

/// Lists the audit events of the key's organization and environment, newest first.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(EventListQuery), security(("api_key" = [])), responses(
    (status = 200, body = AuditEventList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_events(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiQuery(q): ApiQuery<EventListQuery>,
) -> ApiResult<Json<AuditEventList>> {
    let caller = auth.require(READ)?;
    let query = EventQuery {
        action: q.action,
        resource_type: q.resource_type,
        resource_id: q.resource_id,
        actor: q.actor,
        created_after: parse_time("created_after", &q.created_after, false)?,
        created_before: parse_time("created_before", &q.created_before, true)?,
        q: q.q,
    };
    let page = PageQuery {
        limit: q.limit,
        offset: q.offset,
    }
    .page(DEFAULT_LIMIT)?;
    let page = state.services.audit.list(caller, query, page).await?;
    let pagination = Pagination::from(&page);
    Ok(Json(AuditEventList {
        data: page.items.into_iter().map(Into::into).collect(),
        pagination,
    }))
}

/// Recomputes every hash of the chain (or of a range), checks every link and the gapless
/// sequence, and compares the end with the recorded head.
#[utoipa::path(get, path = "/api/v1/events/verify", tag = "events", params(VerifyQuery), security(("api_key" = [])), responses(
    (status = 200, body = ChainVerification), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn verify_events(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiQuery(q): ApiQuery<VerifyQuery>,
) -> ApiResult<Json<ChainVerification>> {
    let caller = auth.require(READ)?;
    let from = parse_sequence("from_sequence", &q.from_sequence)?;
    let to = parse_sequence("to_sequence", &q.to_sequence)?;
    Ok(Json(
        state.services.audit.verify(caller, from, to).await?.into(),
    ))
}

/// Gets one audit event.
#[utoipa::path(get, path = "/api/v1/events/{event_id}", tag = "events", params(("event_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = AuditEventObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_event(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(event_id): Path<String>,
) -> ApiResult<Json<AuditEventObject>> {
    let caller = auth.require(READ)?;
    Ok(Json(
        state.services.audit.get(caller, &event_id).await?.into(),
    ))
}
