//! Create, list, read, update, submit, expire and simulate sessions.

use super::input;
use super::objects::{SessionList, SessionObject};
use super::{CREATE, Id, READ, WRITE};
use crate::error::{ApiError, ApiResult, ErrorBody, FieldErrorBody};
use crate::extract::{ApiJson, ApiQuery, Authenticated, read_body};
use crate::openapi::schemas;
use crate::routes::pagination::{PageQuery, Pagination};
use crate::routes::workflows::present;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use verifa_app::sessions::NewSession;
use verifa_domain::session::SessionStatus;
use verifa_ports::sessions::SessionFilter;

/// Body of `POST /sessions` (aliases, camel/kebab keys and the JSON:API envelope accepted).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"external_ref": "user_abc123", "country": "US", "redirect_url": "https://your-app.com/verify/complete", "metadata": {"plan": "pro"}}))]
pub struct CreateSessionRequest {
    /// Your user id.
    #[schema(schema_with = schemas::session_external_ref_or_null)]
    pub external_ref: Option<String>,
    /// Up to 50 keys, each value ≤ 16 KiB.
    #[schema(schema_with = schemas::free_form_or_null)]
    pub metadata: Option<Value>,
    /// ISO 3166-1 alpha-2.
    #[schema(schema_with = schemas::country_or_null)]
    pub country: Option<String>,
    /// Check overrides.
    #[schema(schema_with = schemas::checks_or_null)]
    pub checks: Option<Vec<String>>,
    /// Workflow (default workflow otherwise).
    pub workflow_id: Option<String>,
    /// Redirect after capture.
    #[schema(schema_with = schemas::redirect_url_or_null)]
    pub redirect_url: Option<String>,
    /// Pre-fill fields (encrypted at rest).
    #[schema(schema_with = schemas::object_or_null)]
    pub fields: Option<Value>,
}

/// List filters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionListQuery {
    /// Status.
    #[param(schema_with = schemas::session_status)]
    pub status: Option<String>,
    /// Session id or external reference.
    pub q: Option<String>,
    /// External reference.
    pub external_ref: Option<String>,
    /// Page size (default 50).
    #[param(value_type = Option<i64>)]
    pub limit: Option<String>,
    /// Offset.
    #[param(value_type = Option<i64>)]
    pub offset: Option<String>,
}

/// Body of `PATCH /sessions/{id}`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSessionRequest {
    /// New external reference (`null` clears).
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = schemas::session_external_ref_or_null)]
    pub external_ref: Option<Option<String>>,
    /// Metadata to merge; a key set to `null` is removed.
    #[schema(schema_with = schemas::free_form_or_null)]
    pub metadata: Option<Map<String, Value>>,
}

/// `expire` response.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExpireResponse {
    /// Session.
    pub id: String,
    /// `expired`.
    #[schema(schema_with = crate::openapi::schemas::session_status)]
    pub status: SessionStatus,
    /// When.
    pub expired_at: Option<DateTime<Utc>>,
}

/// Body of `simulate`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulateRequest {
    /// `approve` | `decline` | `require-review` | `expire`.
    #[schema(schema_with = schemas::simulate_action)]
    pub action: String,
}

/// `simulate` response.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SimulateResponse {
    /// Session.
    pub id: String,
    /// Action.
    pub action: String,
    /// New status.
    #[schema(schema_with = crate::openapi::schemas::session_status)]
    pub status: SessionStatus,
    /// Always true.
    pub simulated: bool,
}

/// Creates a verification session.
#[utoipa::path(post, path = "/api/v1/sessions", tag = "sessions", request_body = Option<CreateSessionRequest>, security(("api_key" = [])), responses(
    (status = 201, body = SessionObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_session(
    State(state): State<AppState>,
    auth: Authenticated,
    req: Request,
) -> ApiResult<(StatusCode, Json<SessionObject>)> {
    let caller = auth.require(CREATE)?;
    if !crate::extract::is_json(req.headers())
        && req.headers().contains_key(axum::http::header::CONTENT_TYPE)
    {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the request body as JSON with 'Content-Type: application/json'.",
        ));
    }
    let bytes = read_body(req, &()).await?;
    let raw: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        crate::extract::parse_json(&bytes)?
    };
    let body = input::normalise(raw).map_err(|m| {
        ApiError::validation(vec![FieldErrorBody {
            field: "body".into(),
            message: m,
        }])
    })?;
    let typed: CreateSessionRequest = crate::extract::from_value(Value::Object(body))?;
    let object = |field: &str, v: Option<Value>| -> Result<Option<Map<String, Value>>, ApiError> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(_) => Err(ApiError::validation(vec![FieldErrorBody {
                field: field.into(),
                message: "must be an object".into(),
            }])),
        }
    };
    let input = NewSession {
        external_ref: typed.external_ref,
        metadata: object("metadata", typed.metadata)?,
        country: typed.country,
        checks: typed.checks,
        workflow_id: typed.workflow_id,
        redirect_url: typed.redirect_url,
        fields: object("fields", typed.fields)?,
    };
    let view = state.services.sessions.create(caller, input).await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

/// Lists sessions, newest first.
#[utoipa::path(get, path = "/api/v1/sessions", tag = "sessions", params(SessionListQuery), security(("api_key" = [])), responses(
    (status = 200, body = SessionList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_sessions(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiQuery(q): ApiQuery<SessionListQuery>,
) -> ApiResult<Json<SessionList>> {
    let caller = auth.require(READ)?;
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(s.parse().map_err(|m: String| {
            ApiError::validation(vec![FieldErrorBody {
                field: "status".into(),
                message: m,
            }])
        })?),
    };
    let page = PageQuery {
        limit: q.limit,
        offset: q.offset,
    }
    .page(50)?;
    let filter = SessionFilter {
        status,
        q: q.q,
        external_ref: q.external_ref,
    };
    let page = state.services.sessions.list(caller, filter, page).await?;
    let pagination = Pagination::from(&page);
    Ok(Json(SessionList {
        data: page.items.into_iter().map(Into::into).collect(),
        pagination,
    }))
}

/// Gets a session.
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}", tag = "sessions", params(("session_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = SessionObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_session(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Id,
) -> ApiResult<Json<SessionObject>> {
    let caller = auth.require(READ)?;
    Ok(Json(state.services.sessions.get(caller, &id).await?.into()))
}

/// Updates `external_ref` and merges `metadata`.
#[utoipa::path(patch, path = "/api/v1/sessions/{session_id}", tag = "sessions", params(("session_id" = String, Path)), request_body = UpdateSessionRequest, security(("api_key" = [])), responses(
    (status = 200, body = SessionObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_session(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Id,
    ApiJson(body): ApiJson<UpdateSessionRequest>,
) -> ApiResult<Json<SessionObject>> {
    let caller = auth.require(WRITE)?;
    Ok(Json(
        state
            .services
            .sessions
            .update(caller, &id, body.external_ref, body.metadata)
            .await?
            .into(),
    ))
}

/// Submits the session for verification.
#[utoipa::path(post, path = "/api/v1/sessions/{session_id}/submit", tag = "sessions", params(("session_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = SessionObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn submit_session(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Id,
) -> ApiResult<Json<SessionObject>> {
    let caller = auth.require(WRITE)?;
    Ok(Json(
        state.services.sessions.submit(caller, &id).await?.into(),
    ))
}

/// Expires an active session.
#[utoipa::path(post, path = "/api/v1/sessions/{session_id}/expire", tag = "sessions", params(("session_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = ExpireResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn expire_session(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Id,
) -> ApiResult<Json<ExpireResponse>> {
    let caller = auth.require(WRITE)?;
    let s = state.services.sessions.expire(caller, &id).await?;
    Ok(Json(ExpireResponse {
        id: s.id,
        status: s.status,
        expired_at: s.expired_at,
    }))
}

/// Simulates an outcome (sandbox only).
#[utoipa::path(post, path = "/api/v1/sessions/{session_id}/simulate", tag = "sessions", params(("session_id" = String, Path)), request_body = SimulateRequest, security(("api_key" = [])), responses(
    (status = 200, body = SimulateResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn simulate_session(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Id,
    ApiJson(body): ApiJson<SimulateRequest>,
) -> ApiResult<Json<SimulateResponse>> {
    let caller = auth.require(WRITE)?;
    let (s, action) = state
        .services
        .sessions
        .simulate(caller, &id, &body.action)
        .await?;
    Ok(Json(SimulateResponse {
        id: s.id,
        action: action.as_str().to_owned(),
        status: s.status,
        simulated: true,
    }))
}
