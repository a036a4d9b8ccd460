//! Identity types (`/identity-types`, CONTRACT §7.4). Reads need `identities:read`; writes
//! `settings:write`, or the legacy `identities:write`.

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, Authenticated};
use crate::routes::identities::READ;
use crate::routes::workflows::present;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use verifa_app::actor::Caller;
use verifa_app::identities::types::IdentityTypeFields;
use verifa_domain::identity::IdentityType;

/// The routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_identity_types, create_identity_type))
        .routes(routes!(
            get_identity_type,
            update_identity_type,
            delete_identity_type
        ))
}

/// `settings:write`, or its legacy alias `identities:write` for identity types.
fn writer(auth: &Authenticated) -> Result<&Caller, ApiError> {
    auth.require("settings:write")
        .or_else(|_| auth.require("identities:write"))
        .map_err(|_| ApiError::insufficient_scope("settings:write"))
}

/// An identity type.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IdentityTypeObject {
    /// `idt_…`.
    #[schema(example = "idt_0192f8c2a1b27c3e8d4f5a6b7c8d9e0f")]
    pub id: String,
    /// Organization.
    pub org_id: String,
    /// Machine name, `^[a-z0-9_]{1,64}$`.
    #[schema(example = "customer")]
    pub name: String,
    /// Human name.
    #[schema(example = "Customer")]
    pub label: String,
    /// Description.
    pub description: Option<String>,
    /// Statuses an identity of this type may take.
    #[schema(example = json!(["active", "closed"]))]
    pub statuses: Vec<String>,
    /// Given when the type is assigned.
    #[schema(example = "active")]
    pub default_status: String,
    /// Given to identities created without a type.
    pub is_default: bool,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<IdentityType> for IdentityTypeObject {
    fn from(t: IdentityType) -> Self {
        Self {
            id: t.id,
            org_id: t.tenant.org_id,
            name: t.name,
            label: t.label,
            description: t.description,
            statuses: t.statuses,
            default_status: t.default_status,
            is_default: t.is_default,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// Every identity type of the environment.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IdentityTypeList {
    /// Oldest first.
    pub data: Vec<IdentityTypeObject>,
}

/// Body of `POST /identity-types`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "customer", "label": "Customer", "statuses": ["active", "closed"], "default_status": "active", "is_default": true}))]
pub struct CreateIdentityTypeRequest {
    /// Machine name, unique in the environment.
    pub name: String,
    /// Human name (1–200 characters).
    pub label: String,
    /// Description (≤ 2 000 characters).
    pub description: Option<String>,
    /// 1–20 statuses, each `^[a-z0-9_]{1,64}$`.
    #[schema(min_items = 1, max_items = 20)]
    pub statuses: Vec<String>,
    /// One of `statuses` (default: the first).
    pub default_status: Option<String>,
    /// Make it the default type (the former default stops being one).
    pub is_default: Option<bool>,
}

/// Body of `PATCH /identity-types/{id}`: only the fields sent change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateIdentityTypeRequest {
    /// Machine name.
    pub name: Option<String>,
    /// Human name.
    pub label: Option<String>,
    /// Description (`null` clears).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// 1–20 statuses.
    #[schema(min_items = 1, max_items = 20)]
    pub statuses: Option<Vec<String>>,
    /// Default status.
    pub default_status: Option<String>,
    /// Default type.
    pub is_default: Option<bool>,
}

/// Lists the environment's identity types, oldest first.
#[utoipa::path(get, path = "/api/v1/identity-types", tag = "identities", security(("api_key" = [])), responses(
    (status = 200, body = IdentityTypeList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_identity_types(
    State(state): State<AppState>,
    auth: Authenticated,
) -> ApiResult<Json<IdentityTypeList>> {
    let caller = auth.require(READ)?;
    let types = state.services.identity_types.list(caller).await?;
    Ok(Json(IdentityTypeList {
        data: types.into_iter().map(Into::into).collect(),
    }))
}

/// Creates an identity type.
#[utoipa::path(post, path = "/api/v1/identity-types", tag = "identities", request_body = CreateIdentityTypeRequest, security(("api_key" = [])), responses(
    (status = 201, body = IdentityTypeObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_identity_type(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateIdentityTypeRequest>,
) -> ApiResult<(StatusCode, Json<IdentityTypeObject>)> {
    let caller = writer(&auth)?;
    let fields = IdentityTypeFields {
        name: Some(body.name),
        label: Some(body.label),
        description: Some(body.description),
        statuses: Some(body.statuses),
        default_status: body.default_status,
        is_default: body.is_default,
    };
    let t = state.services.identity_types.create(caller, fields).await?;
    Ok((StatusCode::CREATED, Json(t.into())))
}

/// One identity type.
#[utoipa::path(get, path = "/api/v1/identity-types/{id}", tag = "identities", params(("id" = String, Path, description = "`idt_…`")), security(("api_key" = [])), responses(
    (status = 200, body = IdentityTypeObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_identity_type(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<IdentityTypeObject>> {
    let caller = auth.require(READ)?;
    Ok(Json(
        state.services.identity_types.get(caller, &id).await?.into(),
    ))
}

/// Updates an identity type.
#[utoipa::path(patch, path = "/api/v1/identity-types/{id}", tag = "identities", params(("id" = String, Path, description = "`idt_…`")), request_body = UpdateIdentityTypeRequest, security(("api_key" = [])), responses(
    (status = 200, body = IdentityTypeObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_identity_type(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateIdentityTypeRequest>,
) -> ApiResult<Json<IdentityTypeObject>> {
    let caller = writer(&auth)?;
    let fields = IdentityTypeFields {
        name: body.name,
        label: body.label,
        description: body.description,
        statuses: body.statuses,
        default_status: body.default_status,
        is_default: body.is_default,
    };
    let t = state
        .services
        .identity_types
        .update(caller, &id, fields)
        .await?;
    Ok(Json(t.into()))
}

/// Deletes an identity type no identity uses (409 otherwise).
#[utoipa::path(delete, path = "/api/v1/identity-types/{id}", tag = "identities", params(("id" = String, Path, description = "`idt_…`")), security(("api_key" = [])), responses(
    (status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_identity_type(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let caller = writer(&auth)?;
    state.services.identity_types.delete(caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
