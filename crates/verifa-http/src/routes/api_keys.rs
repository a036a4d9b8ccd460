//! The API keys resource (`/api-keys`, reference §15.1): list, create, get, update, expire, clone.

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
use utoipa::ToSchema;
use verifa_app::api_keys::{ApiKeyChanges, IssuedKey, NewApiKey};
use verifa_domain::api_key::ApiKey;
use verifa_domain::pagination::DEFAULT_LIMIT;

const READ: &str = "api_keys:read";
const WRITE: &str = "api_keys:write";
const SECRET_WARNING: &str =
    "Store this secret now: it is shown only once and cannot be retrieved again.";

/// An API key as the API shows it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApiKeyObject {
    /// `key_…`.
    #[schema(example = "key_0192f8c2a1b27c3e8d4f5a6b7c8d9e0f")]
    pub id: String,
    /// `live` or `sandbox`.
    #[schema(example = "sandbox")]
    pub environment: String,
    /// `secret` or `publishable`.
    #[serde(rename = "type")]
    #[schema(example = "secret")]
    pub key_type: String,
    /// Free label.
    pub label: Option<String>,
    /// Free note.
    pub note: Option<String>,
    /// First 12 characters of the secret.
    #[schema(example = "vk_sandbox_A")]
    pub key_prefix: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Allowed addresses / CIDR ranges; null = anywhere.
    pub allowed_ips: Option<Vec<String>>,
    /// Pinned API version.
    #[schema(example = "2026-01-01")]
    pub api_version: String,
    /// Default response key casing.
    #[schema(example = "snake")]
    pub default_key_inflection: String,
    /// Whether the key can be used.
    pub is_active: bool,
    /// Expiry.
    pub expires_at: Option<DateTime<Utc>>,
    /// Last use (minute resolution).
    pub last_used_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// The full secret: only in the responses of create and clone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Reminder to store the secret (create and clone only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

impl From<ApiKey> for ApiKeyObject {
    fn from(k: ApiKey) -> Self {
        Self {
            id: k.id,
            environment: k.environment.to_string(),
            key_type: k.key_type.as_str().to_owned(),
            label: k.label,
            note: k.note,
            key_prefix: k.key_prefix,
            scopes: k.scopes.names(),
            allowed_ips: k
                .allowed_ips
                .map(|n| n.iter().map(ToString::to_string).collect()),
            api_version: k.api_version,
            default_key_inflection: k.default_key_inflection,
            is_active: k.is_active,
            expires_at: k.expires_at,
            last_used_at: k.last_used_at,
            created_at: k.created_at,
            updated_at: k.updated_at,
            secret: None,
            warning: None,
        }
    }
}

impl From<IssuedKey> for ApiKeyObject {
    fn from(issued: IssuedKey) -> Self {
        Self {
            secret: Some(issued.secret),
            warning: Some(SECRET_WARNING.into()),
            ..issued.key.into()
        }
    }
}

/// A page of keys.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApiKeyList {
    /// The keys.
    pub data: Vec<ApiKeyObject>,
    /// Counts.
    pub pagination: Pagination,
}

/// Body of `POST /api-keys`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKeyRequest {
    /// Free label (≤ 200 characters).
    #[schema(example = "Backend server", schema_with = schemas::key_label_or_null)]
    pub label: Option<String>,
    /// Free note (≤ 2 000 characters).
    #[schema(schema_with = schemas::key_note_or_null)]
    pub note: Option<String>,
    /// Must be the calling key's environment (default).
    #[schema(schema_with = schemas::environment_or_null)]
    pub environment: Option<String>,
    /// `secret` (default) or `publishable`.
    #[serde(rename = "type")]
    #[schema(schema_with = schemas::key_type_or_null)]
    pub key_type: Option<String>,
    /// Scopes; null = the defaults. Cannot exceed the calling key's scopes.
    #[schema(schema_with = schemas::scopes_or_null)]
    pub scopes: Option<Vec<String>>,
    /// Pinned API version; null = current.
    #[schema(schema_with = schemas::api_version_or_null)]
    pub api_version: Option<String>,
    /// Allowed IPs / CIDRs; null = anywhere.
    #[schema(schema_with = schemas::allowed_ips_or_null)]
    pub allowed_ips: Option<Vec<String>>,
    /// Expiry (future).
    pub expires_at: Option<DateTime<Utc>>,
    /// `snake` (default), `camel` or `kebab`.
    #[schema(schema_with = schemas::inflection_or_null)]
    pub default_key_inflection: Option<String>,
}

fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    de: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(de).map(Some)
}

/// Body of `PATCH /api-keys/{id}`: only the fields sent change; `null` clears.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateApiKeyRequest {
    /// Label.
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = schemas::key_label_or_null)]
    pub label: Option<Option<String>>,
    /// Note.
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = schemas::key_note_or_null)]
    pub note: Option<Option<String>>,
    /// Scopes (null = defaults).
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = schemas::scopes_or_null)]
    pub scopes: Option<Option<Vec<String>>>,
    /// Pinned version (null = current).
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = schemas::api_version_or_null)]
    pub api_version: Option<Option<String>>,
    /// Allowed IPs (null = anywhere).
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = schemas::allowed_ips_or_null)]
    pub allowed_ips: Option<Option<Vec<String>>>,
    /// Expiry (null = never).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expires_at: Option<Option<DateTime<Utc>>>,
    /// Default casing (null = snake).
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = schemas::inflection_or_null)]
    pub default_key_inflection: Option<Option<String>>,
}

/// Lists the keys of the caller's organization and environment, newest first.
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "api-keys", params(PageQuery), security(("api_key" = [])), responses(
    (status = 200, body = ApiKeyList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_api_keys(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<ApiKeyList>> {
    let caller = auth.require(READ)?;
    let page = state
        .services
        .api_keys
        .list(caller, q.page(DEFAULT_LIMIT)?)
        .await?;
    let pagination = Pagination::from(&page);
    Ok(Json(ApiKeyList {
        data: page.items.into_iter().map(Into::into).collect(),
        pagination,
    }))
}

/// Creates a key; the secret is in this response only.
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "api-keys", request_body = CreateApiKeyRequest, security(("api_key" = [])), responses(
    (status = 201, body = ApiKeyObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_api_key(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateApiKeyRequest>,
) -> ApiResult<(StatusCode, Json<ApiKeyObject>)> {
    let caller = auth.require(WRITE)?;
    let input = NewApiKey {
        label: body.label,
        note: body.note,
        environment: body.environment,
        key_type: body.key_type,
        scopes: body.scopes,
        api_version: body.api_version,
        allowed_ips: body.allowed_ips,
        expires_at: body.expires_at,
        default_key_inflection: body.default_key_inflection,
    };
    let issued = state.services.api_keys.create(caller, input).await?;
    Ok((StatusCode::CREATED, Json(issued.into())))
}

/// Gets one key.
#[utoipa::path(get, path = "/api/v1/api-keys/{key_id}", tag = "api-keys", params(("key_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = ApiKeyObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_api_key(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(key_id): Path<String>,
) -> ApiResult<Json<ApiKeyObject>> {
    let caller = auth.require(READ)?;
    Ok(Json(
        state.services.api_keys.get(caller, &key_id).await?.into(),
    ))
}

/// Updates a key's label, note, scopes, allowlist, version, casing or expiry.
#[utoipa::path(patch, path = "/api/v1/api-keys/{key_id}", tag = "api-keys", params(("key_id" = String, Path)), request_body = UpdateApiKeyRequest, security(("api_key" = [])), responses(
    (status = 200, body = ApiKeyObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_api_key(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(key_id): Path<String>,
    ApiJson(body): ApiJson<UpdateApiKeyRequest>,
) -> ApiResult<Json<ApiKeyObject>> {
    let caller = auth.require(WRITE)?;
    let changes = ApiKeyChanges {
        label: body.label,
        note: body.note,
        scopes: body.scopes,
        api_version: body.api_version,
        allowed_ips: body.allowed_ips,
        expires_at: body.expires_at,
        default_key_inflection: body.default_key_inflection,
    };
    Ok(Json(
        state
            .services
            .api_keys
            .update(caller, &key_id, changes)
            .await?
            .into(),
    ))
}

/// Expires a key immediately.
#[utoipa::path(post, path = "/api/v1/api-keys/{key_id}/expire", tag = "api-keys", params(("key_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = ApiKeyObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn expire_api_key(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(key_id): Path<String>,
) -> ApiResult<Json<ApiKeyObject>> {
    let caller = auth.require(WRITE)?;
    Ok(Json(
        state
            .services
            .api_keys
            .expire(caller, &key_id)
            .await?
            .into(),
    ))
}

/// Clones a key's settings into a new key with a fresh secret.
#[utoipa::path(post, path = "/api/v1/api-keys/{key_id}/clone", tag = "api-keys", params(("key_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 201, body = ApiKeyObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn clone_api_key(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(key_id): Path<String>,
) -> ApiResult<(StatusCode, Json<ApiKeyObject>)> {
    let caller = auth.require(WRITE)?;
    let issued = state.services.api_keys.clone_key(caller, &key_id).await?;
    Ok((StatusCode::CREATED, Json(issued.into())))
}
