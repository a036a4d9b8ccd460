//! Redaction (CONTRACT §11.4): `DELETE /sessions/{id}/data` and `POST /sessions/bulk-redact`.
//! Either scope allows it: `sessions:write` (the integrator's) or `redact:write` (a key made
//! for erasure requests, or an agent's).

use super::Id;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, Authenticated};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use verifa_app::sessions::{Redaction, RedactionStatus};

/// The scopes that allow a redaction, either one.
const REDACT_SCOPES: &[&str] = &[super::WRITE, "redact:write"];

/// The answer of `DELETE /sessions/{id}/data`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RedactObject {
    /// `deleted`, or `already_redacted` when an earlier call did it.
    #[schema(pattern = "^(deleted|already_redacted)$")]
    pub status: String,
    /// The session.
    pub session_id: String,
    /// Documents destroyed by this call.
    pub documents_removed: u64,
    /// For people.
    pub message: String,
}

/// Body of `POST /sessions/bulk-redact`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRedactBody {
    /// 1–100 distinct `ses_…` ids.
    #[schema(schema_with = crate::openapi::schemas::bulk_session_ids)]
    pub session_ids: Vec<String>,
}

/// One session of a bulk redaction.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BulkRedactResult {
    /// The session.
    pub session_id: String,
    /// `deleted`, `already_redacted`, `not_found` or `invalid_state` (its run or review is under
    /// way).
    #[schema(pattern = "^(deleted|already_redacted|not_found|invalid_state)$")]
    pub status: String,
    /// Documents destroyed.
    pub documents_removed: u64,
}

/// The answer of `POST /sessions/bulk-redact`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BulkRedactObject {
    /// Sessions listed.
    pub total: usize,
    /// One entry per session, in the order listed.
    pub results: Vec<BulkRedactResult>,
}

fn message(status: RedactionStatus) -> &'static str {
    match status {
        RedactionStatus::AlreadyRedacted => "Session data was already redacted.",
        _ => "Session data permanently redacted.",
    }
}

impl From<Redaction> for RedactObject {
    fn from(r: Redaction) -> Self {
        Self {
            status: r.status.as_str().to_owned(),
            message: message(r.status).to_owned(),
            session_id: r.session_id,
            documents_removed: r.documents_removed,
        }
    }
}

/// Destroys a session's personal data and documents for good (crypto-shredding).
#[utoipa::path(delete, path = "/api/v1/sessions/{session_id}/data", tag = "sessions", params(("session_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = RedactObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn redact_session(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Id,
) -> ApiResult<Json<RedactObject>> {
    let caller = auth.require_any(REDACT_SCOPES)?;
    Ok(Json(
        state.services.sessions.redact(caller, &id).await?.into(),
    ))
}

/// Redacts up to 100 sessions, each reported on its own.
#[utoipa::path(post, path = "/api/v1/sessions/bulk-redact", tag = "sessions", request_body = BulkRedactBody, security(("api_key" = [])), responses(
    (status = 200, body = BulkRedactObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn bulk_redact_sessions(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<BulkRedactBody>,
) -> ApiResult<Json<BulkRedactObject>> {
    let caller = auth.require_any(REDACT_SCOPES)?;
    let results: Vec<BulkRedactResult> = state
        .services
        .sessions
        .bulk_redact(caller, &body.session_ids)
        .await?
        .into_iter()
        .map(|r| BulkRedactResult {
            status: r.status.as_str().to_owned(),
            session_id: r.session_id,
            documents_removed: r.documents_removed,
        })
        .collect();
    Ok(Json(BulkRedactObject {
        total: results.len(),
        results,
    }))
}
