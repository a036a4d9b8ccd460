//! Webhook endpoints: create, list, read, update, delete, rotate the secret, clone.

use super::{READ, WRITE};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, Authenticated};
use crate::openapi::schemas;
use crate::routes::pagination::{PageQuery, Pagination};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use verifa_app::webhooks::{EndpointChanges, EndpointView, NewEndpoint};
use verifa_domain::inflection::Inflection;

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
    #[schema(schema_with = crate::openapi::schemas::inflection)]
    pub key_inflection: Inflection,
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
    #[schema(schema_with = schemas::webhook_url)]
    pub url: String,
    /// Label (≤ 200).
    #[schema(schema_with = schemas::webhook_label_or_null)]
    pub label: Option<String>,
    /// Description (≤ 2 000).
    #[schema(schema_with = schemas::webhook_description_or_null)]
    pub description: Option<String>,
    /// Events: names or `prefix.*`; omit or `["*"]` for all.
    #[schema(schema_with = schemas::event_patterns_or_null)]
    pub enabled_events: Option<Vec<String>>,
    /// Attribute paths to remove from payloads (e.g. `result.extracted_data.date_of_birth`).
    #[schema(schema_with = schemas::blocklist_or_null)]
    pub attribute_blocklist: Option<Vec<String>>,
    /// Conditions (`field: value` or `field: [values]`), all must hold.
    #[schema(schema_with = schemas::filter_conditions_or_null)]
    pub event_filter_conditions: Option<Value>,
    /// Payload API version.
    #[schema(schema_with = schemas::api_version_or_null)]
    pub api_version: Option<String>,
    /// `snake` (default), `camel` or `kebab`.
    #[schema(schema_with = schemas::inflection_or_null)]
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
    #[schema(schema_with = schemas::webhook_url_or_null)]
    pub url: Option<String>,
    /// Label (`null` clears).
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = schemas::webhook_label_or_null)]
    pub label: Option<Option<String>>,
    /// Description (`null` clears).
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = schemas::webhook_description_or_null)]
    pub description: Option<Option<String>>,
    /// Enabled; re-enabling resets the failure counter.
    pub enabled: Option<bool>,
    /// Events.
    #[schema(schema_with = schemas::event_patterns_or_null)]
    pub enabled_events: Option<Vec<String>>,
    /// Attribute blocklist.
    #[schema(schema_with = schemas::blocklist_or_null)]
    pub attribute_blocklist: Option<Vec<String>>,
    /// Filter conditions (`null` clears).
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = schemas::filter_conditions_or_null)]
    pub event_filter_conditions: Option<Option<Value>>,
    /// API version (`null` clears).
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = schemas::api_version_or_null)]
    pub api_version: Option<Option<String>>,
    /// Key inflection.
    #[schema(schema_with = schemas::inflection_or_null)]
    pub key_inflection: Option<String>,
}

/// Answer of `DELETE /webhooks/endpoints/{endpoint_id}`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeletedObject {
    /// The deleted endpoint.
    pub id: String,
    /// Always true.
    pub deleted: bool,
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
