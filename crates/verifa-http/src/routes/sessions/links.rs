//! Capture links: resume, one-time links, and the page a capture URL opens.

use super::{Id, WRITE};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Authenticated, OptionalJson};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use verifa_domain::session::SessionStatus;

/// `resume` response.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ResumeResponse {
    /// Session.
    pub id: String,
    /// Status.
    #[schema(schema_with = crate::openapi::schemas::session_status)]
    pub status: SessionStatus,
    /// New capture link.
    pub capture_url: Option<String>,
    /// Expiry of the link.
    pub expires_at: Option<DateTime<Utc>>,
    /// QR code.
    pub qr_code_data_url: Option<String>,
}

/// Body of `generate-one-time-link`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    /// Link lifetime (default: the capture token lifetime).
    #[schema(schema_with = crate::openapi::schemas::link_minutes_or_null)]
    pub expires_in_minutes: Option<i64>,
}

/// A one-time link.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LinkResponse {
    /// Link id.
    pub id: String,
    /// Session.
    pub session_id: String,
    /// Capture link.
    pub capture_url: Option<String>,
    /// `active`.
    pub status: String,
    /// Expiry.
    pub expires_at: Option<DateTime<Utc>>,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// QR code.
    pub qr_code_data_url: Option<String>,
}

/// Issues a fresh capture link (expired sessions return to `pending`).
#[utoipa::path(post, path = "/api/v1/sessions/{session_id}/resume", tag = "sessions", params(("session_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = ResumeResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn resume_session(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Id,
) -> ApiResult<Json<ResumeResponse>> {
    let caller = auth.require(WRITE)?;
    let v = state.services.sessions.resume(caller, &id).await?;
    Ok(Json(ResumeResponse {
        id: v.session.id,
        status: v.session.status,
        capture_url: v.capture_url,
        expires_at: v.session.token_expires_at,
        qr_code_data_url: v.qr_code_data_url,
    }))
}

/// Generates a one-time capture link (revokes the previous one).
#[utoipa::path(post, path = "/api/v1/sessions/{session_id}/generate-one-time-link", tag = "sessions", params(("session_id" = String, Path)), request_body = Option<LinkRequest>, security(("api_key" = [])), responses(
    (status = 200, body = LinkResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn generate_link(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Id,
    OptionalJson(body): OptionalJson<LinkRequest>,
) -> ApiResult<Json<LinkResponse>> {
    let caller = auth.require(WRITE)?;
    let v = state
        .services
        .sessions
        .generate_link(caller, &id, body.expires_in_minutes)
        .await?;
    Ok(Json(LinkResponse {
        id: verifa_app::ids::new_id("lnk"),
        session_id: v.session.id.clone(),
        capture_url: v.capture_url,
        status: "active".into(),
        expires_at: v.session.token_expires_at,
        created_at: v.session.updated_at,
        qr_code_data_url: v.qr_code_data_url,
    }))
}

/// The capture page a `capture_url` points at. The hosted capture flow is a later step; until
/// then the page says so and points to the API-only flow.
#[utoipa::path(get, path = "/verify/{token}", tag = "sessions", params(("token" = String, Path)), responses((status = 200, description = "Capture page", content_type = "text/html")))]
pub async fn capture_page(Path(_token): Path<String>) -> axum::response::Html<&'static str> {
    axum::response::Html(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Identity verification</title></head><body style=\"font-family:system-ui;max-width:40em;margin:3em auto\">\
<h1>Identity verification</h1><p>The hosted capture flow is not available on this server yet.</p>\
<p>Your integration can upload documents through the API (<code>POST /api/v1/sessions/{id}/documents</code>) and submit the session (<code>POST /api/v1/sessions/{id}/submit</code>).</p></body></html>",
    )
}
