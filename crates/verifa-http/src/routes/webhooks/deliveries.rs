//! Test deliveries, delivery history, manual retries and the event catalogue.

use super::{READ, WRITE, invalid};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiQuery, Authenticated, OptionalJson};
use crate::routes::pagination::{PageQuery, Pagination};
use crate::routes::query::parse_time;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use verifa_app::webhooks::TestOutcome;
use verifa_domain::webhooks::events::EVENT_TYPES;
use verifa_ports::webhook_store::{DeliveryFilter, DeliveryRecord, DeliveryStatus};

const DELIVERIES_DEFAULT_LIMIT: u64 = 50;

/// Body of `POST …/test` (optional).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"event_type": "session.approved"}))]
pub struct TestEndpointRequest {
    /// Event name of the sample event (default `session.approved`).
    #[schema(schema_with = crate::openapi::schemas::event_type_or_null)]
    pub event_type: Option<String>,
}

/// Result of a test delivery.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"success": true, "http_status": 200, "error": null, "url": "https://your-app.com/webhooks/verifa", "delivery_id": "whd_0192f8c2a1b27c3e8d4f5a6b7c8d9e0f"}))]
pub struct TestResultObject {
    /// A 2xx was received.
    pub success: bool,
    /// HTTP status received, if any.
    pub http_status: Option<u16>,
    /// Why the delivery failed (timeout, refused destination, HTTP status…).
    pub error: Option<String>,
    /// Destination.
    pub url: Option<String>,
    /// The recorded test delivery.
    pub delivery_id: String,
}

impl From<TestOutcome> for TestResultObject {
    fn from(t: TestOutcome) -> Self {
        Self {
            success: t.success,
            http_status: t.http_status,
            error: t.error,
            url: t.url,
            delivery_id: t.delivery_id,
        }
    }
}

/// A catalogued event type.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EventTypeObject {
    /// Exact event name.
    #[schema(example = "session.requires-review")]
    pub name: String,
    /// Group (`session`, `screening`, `identity`, `consortium`, `case`, `document`).
    pub group: String,
    /// Group label.
    pub group_label: String,
    /// Description.
    pub description: String,
}

/// The event catalogue.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EventTypeList {
    /// Event types, in catalogue order.
    pub data: Vec<EventTypeObject>,
}

/// One delivery of one event to one endpoint.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "whd_0192f8c2a1b27c3e8d4f5a6b7c8d9e0f", "endpoint_id": "webhook_0192f8c2a1b27c3e8d4f5a6b7c8d9e0f", "event_id": "sev_0192f8c2a1b27c3e8d4f5a6b7c8d9e0f",
    "event_type": "session.approved", "session_id": "ses_0192f8c2a1b27c3e8d4f5a6b7c8d9e0f", "idempotency_key": "idk_0192f8c2a1b27c3e8d4f5a6b7c8d9e0f", "status": "pending", "attempts": 1,
    "next_attempt_at": "2026-02-01T12:00:31Z", "last_attempt_at": "2026-02-01T12:00:00Z", "http_status": 500, "error": "HTTP 500", "duration_ms": 35, "is_test": false,
    "body": "{\"event\":\"session.approved\",…}", "created_at": "2026-02-01T12:00:00Z", "updated_at": "2026-02-01T12:00:00Z", "completed_at": null}))]
pub struct DeliveryObject {
    /// `whd_…` (sent as `X-Verifa-Delivery-Id`).
    pub id: String,
    /// Endpoint.
    pub endpoint_id: String,
    /// Event id.
    pub event_id: String,
    /// Event name.
    pub event_type: String,
    /// Session the event is about.
    pub session_id: Option<String>,
    /// `idk_…`, the same on every attempt.
    pub idempotency_key: String,
    /// `pending`, `delivering`, `succeeded` or `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: u32,
    /// When the next attempt is due.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Last attempt.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// HTTP status of the last attempt.
    pub http_status: Option<u16>,
    /// Error of the last attempt.
    pub error: Option<String>,
    /// Duration of the last attempt.
    pub duration_ms: Option<u64>,
    /// Sent by `POST …/test`.
    pub is_test: bool,
    /// The exact body sent (as text).
    pub body: String,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// When it reached `succeeded` or `failed`.
    pub completed_at: Option<DateTime<Utc>>,
}

impl From<DeliveryRecord> for DeliveryObject {
    fn from(d: DeliveryRecord) -> Self {
        Self {
            id: d.id,
            endpoint_id: d.endpoint_id,
            event_id: d.event_id,
            event_type: d.event_type,
            // The outbox orders deliveries per subject; only a session subject is shown here
            // (an identity's events carry their `identity_id` in the payload).
            session_id: d.session_id.filter(|s| s.starts_with("ses_")),
            idempotency_key: d.idempotency_key,
            status: d.status.as_str().to_owned(),
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            last_attempt_at: d.last_attempt_at,
            http_status: d.last_status_code,
            error: d.last_error,
            duration_ms: d.last_duration_ms,
            is_test: d.is_test,
            body: d.body,
            created_at: d.created_at,
            updated_at: d.updated_at,
            completed_at: d.completed_at,
        }
    }
}

/// A page of deliveries.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeliveryList {
    /// Deliveries, most recent first.
    pub data: Vec<DeliveryObject>,
    /// Counts.
    pub pagination: Pagination,
}

/// Deliveries filters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// Created at or after (RFC 3339 or `YYYY-MM-DD`).
    #[param(schema_with = crate::openapi::schemas::date_or_date_time)]
    pub date_from: Option<String>,
    /// Created before (RFC 3339, or `YYYY-MM-DD` inclusive).
    #[param(schema_with = crate::openapi::schemas::date_or_date_time)]
    pub date_to: Option<String>,
    /// Event name.
    pub event_type: Option<String>,
    /// `pending`, `delivering`, `succeeded` or `failed`.
    #[param(schema_with = crate::openapi::schemas::delivery_status)]
    pub status: Option<String>,
    /// Page size, 1–100 (default 50).
    #[param(value_type = Option<i64>)]
    pub limit: Option<String>,
    /// Offset.
    #[param(value_type = Option<i64>)]
    pub offset: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/webhooks/endpoints/{endpoint_id}/test", tag = "webhooks", params(("endpoint_id" = String, Path)), request_body(content = Option<TestEndpointRequest>), security(("api_key" = [])), responses(
    (status = 200, body = TestResultObject), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Send a signed sample event to the endpoint now (one attempt, no retries).
pub async fn test_endpoint(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<TestEndpointRequest>,
) -> ApiResult<Json<TestResultObject>> {
    let caller = auth.require(WRITE)?;
    Ok(Json(
        state
            .services
            .webhooks
            .test(caller, &id, body.event_type)
            .await?
            .into(),
    ))
}

#[utoipa::path(get, path = "/api/v1/webhooks/endpoints/{endpoint_id}/deliveries", tag = "webhooks", params(("endpoint_id" = String, Path), DeliveryQuery), security(("api_key" = [])), responses(
    (status = 200, body = DeliveryList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// List an endpoint's deliveries, most recent first.
pub async fn list_deliveries(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<DeliveryQuery>,
) -> ApiResult<Json<DeliveryList>> {
    let caller = auth.require(READ)?;
    let page = PageQuery {
        limit: q.limit.clone(),
        offset: q.offset.clone(),
    }
    .page(DELIVERIES_DEFAULT_LIMIT)?;
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(DeliveryStatus::parse(s).ok_or_else(|| {
            invalid(
                "status",
                "must be one of pending, delivering, succeeded, failed",
            )
        })?),
    };
    let filter = DeliveryFilter {
        date_from: parse_time("date_from", &q.date_from, false)?,
        date_to: parse_time("date_to", &q.date_to, true)?,
        event_type: q.event_type,
        status,
    };
    let page = state
        .services
        .webhooks
        .deliveries(caller, &id, filter, page)
        .await?;
    let pagination = Pagination::from(&page);
    Ok(Json(DeliveryList {
        data: page.items.into_iter().map(Into::into).collect(),
        pagination,
    }))
}

#[utoipa::path(post, path = "/api/v1/webhooks/deliveries/{delivery_id}/retry", tag = "webhooks", params(("delivery_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 202, body = DeliveryObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
/// Retry a failed delivery: it is queued again with the same body and `idempotency_key`.
pub async fn retry_delivery(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<DeliveryObject>)> {
    let caller = auth.require(WRITE)?;
    let d = state.services.webhooks.retry(caller, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(d.into())))
}

#[utoipa::path(get, path = "/api/v1/webhooks/event-types", tag = "webhooks", security(("api_key" = [])), responses(
    (status = 200, body = EventTypeList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
/// List the webhook event types.
pub async fn list_event_types(auth: Authenticated) -> ApiResult<Json<EventTypeList>> {
    auth.require(READ)?;
    Ok(Json(EventTypeList {
        data: EVENT_TYPES
            .iter()
            .map(|e| EventTypeObject {
                name: e.name.to_owned(),
                group: e.group.as_str().to_owned(),
                group_label: e.group.label().to_owned(),
                description: e.description.to_owned(),
            })
            .collect(),
    }))
}
