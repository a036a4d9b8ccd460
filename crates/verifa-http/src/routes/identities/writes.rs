//! Changing identities: create (with upsert), PATCH, tags, archive and restore, flag and unflag,
//! monitoring pause and resume. Each answers the identity as it is after the change.

use super::WRITE;
use super::objects::{CreatedIdentity, IdentityObject, IdentityTags};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, Authenticated};
use crate::routes::workflows::present;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use verifa_app::identities::{IdentityPatch, NewIdentity, TagEdit};
use verifa_domain::identity::Identity;

/// Body of `POST /identities`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"external_ref": "user_abc123", "upsert": true}))]
pub struct CreateIdentityRequest {
    /// Your user id (1–255 characters), unique per environment.
    #[schema(min_length = 1, max_length = 255)]
    pub external_ref: String,
    /// Return the existing identity (200) instead of 409.
    #[serde(default)]
    pub upsert: bool,
    /// Identity type (default: the environment's default type).
    pub identity_type_id: Option<String>,
    /// Custom fields.
    #[schema(schema_with = crate::openapi::schemas::free_form_or_null)]
    pub custom_fields: Option<Map<String, Value>>,
}

/// Body of `PATCH /identities/{id}`: only the fields sent change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateIdentityRequest {
    /// Identity type; `null` removes it. Assigning a type sets `type_status` to its default.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub identity_type_id: Option<Option<String>>,
    /// One of the type's statuses.
    pub type_status: Option<String>,
    /// Merged into the stored fields; a `null` value deletes that key.
    #[schema(schema_with = crate::openapi::schemas::free_form_or_null)]
    pub custom_fields: Option<Map<String, Value>>,
    /// Ongoing monitoring.
    pub monitoring_enabled: Option<bool>,
}

/// Body of `POST /identities/{id}/tags`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddTagRequest {
    /// 1–64 printable characters, case-sensitive.
    #[schema(example = "vip", min_length = 1, max_length = 64)]
    pub tag: String,
}

/// Body of `PUT /identities/{id}/tags`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplaceTagsRequest {
    /// Every tag (≤ 50); `[]` clears them.
    pub tags: Vec<String>,
}

/// Body of `POST /identities/{id}/flag`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlagRequest {
    /// Why (≤ 500 characters).
    #[schema(max_length = 500)]
    pub reason: Option<String>,
    /// Who flagged (never sent in webhooks).
    pub flagged_by: Option<String>,
}

const ID: &str = "`idn_…` or the external reference";

fn tags_of(i: Identity) -> Json<IdentityTags> {
    Json(IdentityTags {
        id: i.id,
        tags: i.tags,
    })
}

/// Creates an identity before any session; with `upsert: true` an existing one is returned.
#[utoipa::path(post, path = "/api/v1/identities", tag = "identities", request_body = CreateIdentityRequest, security(("api_key" = [])), responses(
    (status = 201, body = CreatedIdentity), (status = 200, body = CreatedIdentity, description = "existing identity (`upsert: true`)"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_identity(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateIdentityRequest>,
) -> ApiResult<(StatusCode, Json<CreatedIdentity>)> {
    let caller = auth.require(WRITE)?;
    let (identity, upserted) = state
        .services
        .identities
        .create(
            caller,
            NewIdentity {
                external_ref: Some(body.external_ref),
                upsert: body.upsert,
                identity_type_id: body.identity_type_id,
                custom_fields: body.custom_fields,
            },
        )
        .await?;
    let status = if upserted {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(CreatedIdentity {
            is_sandbox: identity.tenant.environment.is_sandbox(),
            status: identity.status.as_str().to_owned(),
            id: identity.id,
            external_ref: identity.external_ref,
            created_at: identity.created_at,
            upserted,
        }),
    ))
}

/// Updates the type, type status, custom fields or monitoring of an identity.
#[utoipa::path(patch, path = "/api/v1/identities/{id}", tag = "identities", params(("id" = String, Path, description = ID)), request_body = UpdateIdentityRequest, security(("api_key" = [])), responses(
    (status = 200, body = IdentityObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_identity(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateIdentityRequest>,
) -> ApiResult<Json<IdentityObject>> {
    let caller = auth.require(WRITE)?;
    let patch = IdentityPatch {
        identity_type_id: body.identity_type_id,
        type_status: body.type_status,
        custom_fields: body.custom_fields,
        monitoring_enabled: body.monitoring_enabled,
    };
    let identity = state.services.identities.patch(caller, &id, patch).await?;
    Ok(Json(identity.into()))
}

/// Adds a tag (adding a present tag changes nothing).
#[utoipa::path(post, path = "/api/v1/identities/{id}/tags", tag = "identities", params(("id" = String, Path, description = ID)), request_body = AddTagRequest, security(("api_key" = [])), responses(
    (status = 200, body = IdentityTags), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_identity_tag(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AddTagRequest>,
) -> ApiResult<Json<IdentityTags>> {
    let caller = auth.require(WRITE)?;
    let edit = TagEdit::Add(body.tag);
    Ok(tags_of(
        state
            .services
            .identities
            .edit_tags(caller, &id, edit)
            .await?,
    ))
}

/// Replaces every tag; `[]` clears them.
#[utoipa::path(put, path = "/api/v1/identities/{id}/tags", tag = "identities", params(("id" = String, Path, description = ID)), request_body = ReplaceTagsRequest, security(("api_key" = [])), responses(
    (status = 200, body = IdentityTags), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn replace_identity_tags(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReplaceTagsRequest>,
) -> ApiResult<Json<IdentityTags>> {
    let caller = auth.require(WRITE)?;
    let edit = TagEdit::Replace(body.tags);
    Ok(tags_of(
        state
            .services
            .identities
            .edit_tags(caller, &id, edit)
            .await?,
    ))
}

/// Removes a tag (removing an absent tag changes nothing).
#[utoipa::path(delete, path = "/api/v1/identities/{id}/tags/{tag}", tag = "identities", params(("id" = String, Path, description = ID), ("tag" = String, Path, description = "The tag")), security(("api_key" = [])), responses(
    (status = 200, body = IdentityTags), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn remove_identity_tag(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((id, tag)): Path<(String, String)>,
) -> ApiResult<Json<IdentityTags>> {
    let caller = auth.require(WRITE)?;
    let edit = TagEdit::Remove(tag);
    Ok(tags_of(
        state
            .services
            .identities
            .edit_tags(caller, &id, edit)
            .await?,
    ))
}

/// Archives an identity: hidden from lists, monitoring paused.
#[utoipa::path(post, path = "/api/v1/identities/{id}/archive", tag = "identities", params(("id" = String, Path, description = ID)), security(("api_key" = [])), responses(
    (status = 200, body = IdentityObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn archive_identity(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<IdentityObject>> {
    let caller = auth.require(WRITE)?;
    Ok(Json(
        state.services.identities.archive(caller, &id).await?.into(),
    ))
}

/// Restores an archived identity.
#[utoipa::path(post, path = "/api/v1/identities/{id}/restore", tag = "identities", params(("id" = String, Path, description = ID)), security(("api_key" = [])), responses(
    (status = 200, body = IdentityObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn restore_identity(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<IdentityObject>> {
    let caller = auth.require(WRITE)?;
    Ok(Json(
        state.services.identities.restore(caller, &id).await?.into(),
    ))
}

/// Flags an identity for attention.
#[utoipa::path(post, path = "/api/v1/identities/{id}/flag", tag = "identities", params(("id" = String, Path, description = ID)), request_body = FlagRequest, security(("api_key" = [])), responses(
    (status = 200, body = IdentityObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn flag_identity(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<FlagRequest>,
) -> ApiResult<Json<IdentityObject>> {
    let caller = auth.require(WRITE)?;
    let identity = state
        .services
        .identities
        .flag(caller, &id, body.reason, body.flagged_by)
        .await?;
    Ok(Json(identity.into()))
}

/// Clears the flag.
#[utoipa::path(post, path = "/api/v1/identities/{id}/unflag", tag = "identities", params(("id" = String, Path, description = ID)), security(("api_key" = [])), responses(
    (status = 200, body = IdentityObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn unflag_identity(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<IdentityObject>> {
    let caller = auth.require(WRITE)?;
    Ok(Json(
        state.services.identities.unflag(caller, &id).await?.into(),
    ))
}

/// Pauses ongoing monitoring by hand.
#[utoipa::path(post, path = "/api/v1/identities/{id}/monitoring/pause", tag = "identities", params(("id" = String, Path, description = ID)), security(("api_key" = [])), responses(
    (status = 200, body = IdentityObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn pause_identity_monitoring(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<IdentityObject>> {
    let caller = auth.require(WRITE)?;
    let identity = state
        .services
        .identities
        .set_monitoring_paused(caller, &id, true)
        .await?;
    Ok(Json(identity.into()))
}

/// Resumes ongoing monitoring (409 while archived or while monitoring is off).
#[utoipa::path(post, path = "/api/v1/identities/{id}/monitoring/resume", tag = "identities", params(("id" = String, Path, description = ID)), security(("api_key" = [])), responses(
    (status = 200, body = IdentityObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn resume_identity_monitoring(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<IdentityObject>> {
    let caller = auth.require(WRITE)?;
    let identity = state
        .services
        .identities
        .set_monitoring_paused(caller, &id, false)
        .await?;
    Ok(Json(identity.into()))
}
