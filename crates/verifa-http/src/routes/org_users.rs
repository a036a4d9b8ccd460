//! The organization users resource (`/org-users`, CONTRACT §6.1): list, create, get, update,
//! deactivate, reset a password. Reads need `settings:read`, writes `settings:write` and a live
//! key. A one-time password appears only in the response that set it.

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, Authenticated};
use crate::openapi::schemas;
use crate::routes::pagination::{PageQuery, Pagination};
use crate::routes::query::parse_bool;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use verifa_app::org_users::{NewOrgUser, OrgUserChanges, OrgUserQuery, UserWithPassword};
use verifa_domain::org_user::OrgUser;
use verifa_domain::pagination::DEFAULT_LIMIT;

const READ: &str = "settings:read";
const WRITE: &str = "settings:write";
const PASSWORD_WARNING: &str = "Give this one-time password to the user now: it is shown only \
     once, and the user replaces it at first sign-in.";

/// The routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_org_users, create_org_user))
        .routes(routes!(get_org_user, update_org_user))
        .routes(routes!(deactivate_org_user))
        .routes(routes!(reset_org_user_password))
}

/// An organization user as the API shows it (never the password hash).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrgUserObject {
    /// `orguser_…`.
    #[schema(example = "orguser_0192f8c2a1b27c3e8d4f5a6b7c8d9e0f")]
    pub id: String,
    /// Email.
    #[schema(example = "ana@example.com")]
    pub email: String,
    /// Display name.
    pub name: String,
    /// `admin`, `reviewer` or `viewer`.
    #[schema(schema_with = schemas::org_role)]
    pub role: String,
    /// `false` once deactivated.
    pub is_active: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last console sign-in.
    pub last_login_at: Option<DateTime<Utc>>,
    /// The one-time password: only in the responses of create.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub one_time_password: Option<String>,
    /// Reminder to hand the password over (create only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

impl From<OrgUser> for OrgUserObject {
    fn from(u: OrgUser) -> Self {
        Self {
            id: u.id,
            email: u.email,
            name: u.name,
            role: u.role.as_str().to_owned(),
            is_active: u.is_active,
            created_at: u.created_at,
            last_login_at: u.last_login_at,
            one_time_password: None,
            warning: None,
        }
    }
}

/// A page of users.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrgUserList {
    /// The users.
    pub data: Vec<OrgUserObject>,
    /// Counts.
    pub pagination: Pagination,
}

/// The answer of a password reset.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PasswordReset {
    /// The user.
    pub id: String,
    /// The new one-time password (shown once).
    pub one_time_password: String,
}

/// Filters of `GET /org-users`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgUserListQuery {
    /// Only this role.
    #[param(schema_with = schemas::org_role)]
    pub role: Option<String>,
    /// Only active (`true`) or deactivated (`false`) users.
    #[param(value_type = Option<bool>)]
    pub is_active: Option<String>,
    /// Email or name contains (case-insensitive).
    pub q: Option<String>,
    /// Rows per page, 1–100 (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// Rows to skip, ≥ 0.
    #[param(value_type = Option<i64>, minimum = 0)]
    pub offset: Option<String>,
}

/// Body of `POST /org-users`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrgUserRequest {
    /// Email, unique across the instance (case-insensitive).
    #[schema(schema_with = schemas::email, example = "ana@example.com")]
    pub email: String,
    /// Display name (≤ 200 characters).
    #[schema(schema_with = schemas::user_name, example = "Ana Reviewer")]
    pub name: String,
    /// `admin`, `reviewer` or `viewer`.
    #[schema(schema_with = schemas::org_role, example = "reviewer")]
    pub role: String,
}

/// Body of `PATCH /org-users/{id}`: only the fields sent change (`null` = unchanged).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrgUserRequest {
    /// Display name.
    #[schema(schema_with = schemas::user_name_or_null)]
    pub name: Option<String>,
    /// Email.
    #[schema(schema_with = schemas::email_or_null)]
    pub email: Option<String>,
    /// Role.
    #[schema(schema_with = schemas::org_role_or_null)]
    pub role: Option<String>,
    /// `false` deactivates, `true` reactivates.
    pub is_active: Option<bool>,
}

fn with_password(issued: UserWithPassword) -> OrgUserObject {
    OrgUserObject {
        one_time_password: Some(issued.one_time_password),
        warning: Some(PASSWORD_WARNING.into()),
        ..issued.user.into()
    }
}

/// Lists the organization's users, newest first.
#[utoipa::path(get, path = "/api/v1/org-users", tag = "org-users", params(OrgUserListQuery), security(("api_key" = [])), responses(
    (status = 200, body = OrgUserList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_org_users(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiQuery(q): ApiQuery<OrgUserListQuery>,
) -> ApiResult<Json<OrgUserList>> {
    let caller = auth.require(READ)?;
    let query = OrgUserQuery {
        role: q.role,
        is_active: parse_bool("is_active", &q.is_active)?,
        q: q.q,
    };
    let page = PageQuery {
        limit: q.limit,
        offset: q.offset,
    }
    .page(DEFAULT_LIMIT)?;
    let page = state.services.org_users.list(caller, query, page).await?;
    let pagination = Pagination::from(&page);
    Ok(Json(OrgUserList {
        data: page.items.into_iter().map(Into::into).collect(),
        pagination,
    }))
}

/// Creates a user; the one-time password is in this response only.
#[utoipa::path(post, path = "/api/v1/org-users", tag = "org-users", request_body = CreateOrgUserRequest, security(("api_key" = [])), responses(
    (status = 201, body = OrgUserObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_org_user(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateOrgUserRequest>,
) -> ApiResult<(StatusCode, Json<OrgUserObject>)> {
    let caller = auth.require(WRITE)?;
    let input = NewOrgUser {
        email: Some(body.email),
        name: Some(body.name),
        role: Some(body.role),
    };
    let issued = state.services.org_users.create(caller, input).await?;
    Ok((StatusCode::CREATED, Json(with_password(issued))))
}

/// Gets one user.
#[utoipa::path(get, path = "/api/v1/org-users/{user_id}", tag = "org-users", params(("user_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = OrgUserObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_org_user(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(user_id): Path<String>,
) -> ApiResult<Json<OrgUserObject>> {
    let caller = auth.require(READ)?;
    Ok(Json(
        state.services.org_users.get(caller, &user_id).await?.into(),
    ))
}

/// Changes a user's name, email, role or activity.
#[utoipa::path(patch, path = "/api/v1/org-users/{user_id}", tag = "org-users", params(("user_id" = String, Path)), request_body = UpdateOrgUserRequest, security(("api_key" = [])), responses(
    (status = 200, body = OrgUserObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_org_user(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(user_id): Path<String>,
    ApiJson(body): ApiJson<UpdateOrgUserRequest>,
) -> ApiResult<Json<OrgUserObject>> {
    let caller = auth.require(WRITE)?;
    let changes = OrgUserChanges {
        name: body.name,
        email: body.email,
        role: body.role,
        is_active: body.is_active,
    };
    Ok(Json(
        state
            .services
            .org_users
            .update(caller, &user_id, changes)
            .await?
            .into(),
    ))
}

/// Deactivates a user; repeating it changes nothing.
#[utoipa::path(post, path = "/api/v1/org-users/{user_id}/deactivate", tag = "org-users", params(("user_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = OrgUserObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn deactivate_org_user(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(user_id): Path<String>,
) -> ApiResult<Json<OrgUserObject>> {
    let caller = auth.require(WRITE)?;
    Ok(Json(
        state
            .services
            .org_users
            .deactivate(caller, &user_id)
            .await?
            .into(),
    ))
}

/// Replaces a user's password with a new one-time password.
#[utoipa::path(post, path = "/api/v1/org-users/{user_id}/reset-password", tag = "org-users", params(("user_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = PasswordReset), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reset_org_user_password(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(user_id): Path<String>,
) -> ApiResult<Json<PasswordReset>> {
    let caller = auth.require(WRITE)?;
    let issued = state
        .services
        .org_users
        .reset_password(caller, &user_id)
        .await?;
    Ok(Json(PasswordReset {
        id: issued.user.id,
        one_time_password: issued.one_time_password,
    }))
}
