//! The Webhooks group (CONTRACT §5, reference §13.5): endpoints, secrets, test deliveries, the
//! event catalogue, delivery history and manual retries.

use crate::error::{ApiError, ApiResult, ErrorBody, FieldErrorBody};
use crate::extract::{ApiJson, ApiQuery, Authenticated, OptionalJson};
use crate::routes::pagination::{PageQuery, Pagination};
use crate::routes::query::parse_time;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use verifa_app::webhooks::{EndpointChanges, EndpointView, NewEndpoint, TestOutcome};
use verifa_domain::webhooks::events::EVENT_TYPES;
use verifa_ports::webhook_store::{DeliveryFilter, DeliveryRecord, DeliveryStatus};

const READ: &str = "webhooks:read";
const WRITE: &str = "webhooks:write";
/// Default page size of the deliveries list (reference §13.5).
const DELIVERIES_DEFAULT_LIMIT: u64 = 50;

fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    de: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(de).map(Some)
}

/// A webhook endpoint.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "webhook_0192f8c2a1b27c3e8d4f5a6b7c8d9e0f", "url": "https://your-app.com/webhooks/verifa", "environment": "live", "enabled": true,
    "enabled_events": ["session.approved", "session.declined", "session.requires-review"], "label": null, "description": "Production webhook",
    "attribute_blocklist": [], "event_filter_conditions": {}, "api_version": null, "key_inflection": "snake", "consecutive_failures": 0, "disabled_at": null,
    "secret": "whsec_4f9Qm2…", "created_at": "2026-02-01T12:00:00Z", "updated_at": "2026-02-01T12:00:00Z"}))]
pub struct EndpointObject {
    /// `webhook_…`.
    pub id: String,
    /// Destination URL.
    pub url: String,
    /// `live` or `sandbox`.
    pub environment: String,
    /// Receives deliveries (turned off by the circuit breaker after 10 consecutive failed deliveries).
    pub enabled: bool,
    /// Subscribed events; empty means all events.
    pub enabled_events: Vec<String>,
    /// Label.
    pub label: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Attribute paths removed from payloads.
    pub attribute_blocklist: Vec<String>,
    /// Conditions an event must meet to be delivered.
    #[schema(value_type = Object)]
    pub event_filter_conditions: Value,
    /// Payload API version.
    pub api_version: Option<String>,
    /// `snake`, `camel` or `kebab`: key casing of payloads.
    pub key_inflection: String,
    /// Consecutive deliveries that ended `failed`.
    pub consecutive_failures: u32,
    /// When the circuit breaker disabled the endpoint.
    pub disabled_at: Option<DateTime<Utc>>,
    /// The signing secret `whsec_…`: only on create, clone and rotate-secret (always in sandbox).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<EndpointView> for EndpointObject {
    fn from(v: EndpointView) -> Self {
        let e = v.endpoint;
        Self {
            id: e.id,
            url: e.url,
            environment: e.tenant.environment.as_str().to_owned(),
            enabled: e.enabled,
            enabled_events: e.enabled_events,
            label: e.label,
            description: e.description,
            attribute_blocklist: e.attribute_blocklist,
            event_filter_conditions: Value::Object(e.event_filter_conditions),
            api_version: e.api_version,
            key_inflection: e.key_inflection,
            consecutive_failures: e.consecutive_failures,
            disabled_at: e.disabled_at,
            secret: v.secret,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

/// A page of endpoints.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EndpointList {
    /// Endpoints, newest first.
    pub data: Vec<EndpointObject>,
    /// Counts.
    pub pagination: Pagination,
}

/// Body of `POST /webhooks/endpoints`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://your-app.com/webhooks/verifa", "enabled_events": ["session.approved", "session.declined", "session.requires-review"], "description": "Production webhook"}))]
pub struct CreateEndpointRequest {
    /// Destination (https; http only where private networks are allowed).
    pub url: String,
    /// Label (≤ 200).
    pub label: Option<String>,
    /// Description (≤ 2 000).
    pub description: Option<String>,
    /// Events: names or `prefix.*`; omit or `["*"]` for all.
    pub enabled_events: Option<Vec<String>>,
    /// Attribute paths to remove from payloads (e.g. `result.extracted_data.date_of_birth`).
    pub attribute_blocklist: Option<Vec<String>>,
    /// Conditions (`field: value` or `field: [values]`), all must hold.
    #[schema(value_type = Option<Object>)]
    pub event_filter_conditions: Option<Value>,
    /// Payload API version.
    pub api_version: Option<String>,
    /// `snake` (default), `camel` or `kebab`.
    pub key_inflection: Option<String>,
    /// Starts enabled (default true).
    pub enabled: Option<bool>,
}

/// Body of `PATCH /webhooks/endpoints/{endpoint_id}`: only the provided fields change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"enabled": true, "enabled_events": ["session.*"]}))]
pub struct UpdateEndpointRequest {
    /// Destination.
    pub url: Option<String>,
    /// Label (`null` clears).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub label: Option<Option<String>>,
    /// Description (`null` clears).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// Enabled; re-enabling resets the failure counter.
    pub enabled: Option<bool>,
    /// Events.
    pub enabled_events: Option<Vec<String>>,
    /// Attribute blocklist.
    pub attribute_blocklist: Option<Vec<String>>,
    /// Filter conditions (`null` clears).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    pub event_filter_conditions: Option<Option<Value>>,
    /// API version (`null` clears).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub api_version: Option<Option<String>>,
    /// Key inflection.
    pub key_inflection: Option<String>,
}

/// Body of `POST …/test` (optional).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"event_type": "session.approved"}))]
pub struct TestEndpointRequest {
    /// Event name of the sample event (default `session.approved`).
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
            session_id: d.session_id,
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
    pub date_from: Option<String>,
    /// Created before (RFC 3339, or `YYYY-MM-DD` inclusive).
    pub date_to: Option<String>,
    /// Event name.
    pub event_type: Option<String>,
    /// `pending`, `delivering`, `succeeded` or `failed`.
    pub status: Option<String>,
    /// Page size, 1–100 (default 50).
    #[param(value_type = Option<i64>)]
    pub limit: Option<String>,
    /// Offset.
    #[param(value_type = Option<i64>)]
    pub offset: Option<String>,
}

/// Answer of `DELETE /webhooks/endpoints/{endpoint_id}`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeletedObject {
    /// The deleted endpoint.
    pub id: String,
    /// Always true.
    pub deleted: bool,
}

fn invalid(field: &str, message: &str) -> ApiError {
    ApiError::validation(vec![FieldErrorBody {
        field: field.into(),
        message: message.into(),
    }])
}

#[utoipa::path(get, path = "/api/v1/webhooks/endpoints", tag = "webhooks", params(PageQuery), security(("api_key" = [])), responses(
    (status = 200, body = EndpointList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// List webhook endpoints (newest first). Secrets are shown in sandbox only.
pub async fn list_endpoints(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<EndpointList>> {
    let caller = auth.require(READ)?;
    let page = q.page(verifa_domain::pagination::DEFAULT_LIMIT)?;
    let page = state.services.webhooks.list(caller, page).await?;
    let pagination = Pagination::from(&page);
    Ok(Json(EndpointList {
        data: page.items.into_iter().map(Into::into).collect(),
        pagination,
    }))
}

#[utoipa::path(post, path = "/api/v1/webhooks/endpoints", tag = "webhooks", request_body = CreateEndpointRequest, security(("api_key" = [])), responses(
    (status = 201, body = EndpointObject), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Create a webhook endpoint. The response carries the signing secret `whsec_…` (shown once in live).
pub async fn create_endpoint(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateEndpointRequest>,
) -> ApiResult<(StatusCode, Json<EndpointObject>)> {
    let caller = auth.require(WRITE)?;
    let input = NewEndpoint {
        url: body.url,
        label: body.label,
        description: body.description,
        enabled_events: body.enabled_events,
        attribute_blocklist: body.attribute_blocklist,
        event_filter_conditions: body.event_filter_conditions,
        api_version: body.api_version,
        key_inflection: body.key_inflection,
        enabled: body.enabled,
    };
    let view = state.services.webhooks.create(caller, input).await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

#[utoipa::path(get, path = "/api/v1/webhooks/endpoints/{endpoint_id}", tag = "webhooks", params(("endpoint_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = EndpointObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
/// Retrieve a webhook endpoint.
pub async fn get_endpoint(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<EndpointObject>> {
    let caller = auth.require(READ)?;
    Ok(Json(state.services.webhooks.get(caller, &id).await?.into()))
}

#[utoipa::path(patch, path = "/api/v1/webhooks/endpoints/{endpoint_id}", tag = "webhooks", params(("endpoint_id" = String, Path)), request_body = UpdateEndpointRequest, security(("api_key" = [])), responses(
    (status = 200, body = EndpointObject), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Update a webhook endpoint; only the provided fields change.
pub async fn update_endpoint(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateEndpointRequest>,
) -> ApiResult<Json<EndpointObject>> {
    let caller = auth.require(WRITE)?;
    let changes = EndpointChanges {
        url: body.url,
        label: body.label,
        description: body.description,
        enabled: body.enabled,
        enabled_events: body.enabled_events,
        attribute_blocklist: body.attribute_blocklist,
        event_filter_conditions: body.event_filter_conditions,
        api_version: body.api_version,
        key_inflection: body.key_inflection,
    };
    Ok(Json(
        state
            .services
            .webhooks
            .update(caller, &id, changes)
            .await?
            .into(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/webhooks/endpoints/{endpoint_id}", tag = "webhooks", params(("endpoint_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = DeletedObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
/// Delete a webhook endpoint and its delivery history.
pub async fn delete_endpoint(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<DeletedObject>> {
    let caller = auth.require(WRITE)?;
    state.services.webhooks.delete(caller, &id).await?;
    Ok(Json(DeletedObject { id, deleted: true }))
}

#[utoipa::path(post, path = "/api/v1/webhooks/endpoints/{endpoint_id}/rotate-secret", tag = "webhooks", params(("endpoint_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = EndpointObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
/// Rotate the signing secret. The old secret stops working immediately; the response carries the new one.
pub async fn rotate_secret(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<EndpointObject>> {
    let caller = auth.require(WRITE)?;
    Ok(Json(
        state
            .services
            .webhooks
            .rotate_secret(caller, &id)
            .await?
            .into(),
    ))
}

#[utoipa::path(post, path = "/api/v1/webhooks/endpoints/{endpoint_id}/clone", tag = "webhooks", params(("endpoint_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 201, body = EndpointObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Clone an endpoint: same URL, events, API version, key inflection, blocklist and filter conditions; fresh secret.
pub async fn clone_endpoint(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<EndpointObject>)> {
    let caller = auth.require(WRITE)?;
    let view = state.services.webhooks.clone_endpoint(caller, &id).await?;
    Ok((StatusCode::CREATED, Json(view.into())))
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

/// The Webhooks group's routes (mounted behind the API-key middleware).
pub fn router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(list_endpoints, create_endpoint))
        .routes(routes!(get_endpoint, update_endpoint, delete_endpoint))
        .routes(routes!(rotate_secret))
        .routes(routes!(clone_endpoint))
        .routes(routes!(test_endpoint))
        .routes(routes!(list_deliveries))
        .routes(routes!(retry_delivery))
        .routes(routes!(list_event_types))
}
