//! `POST /cases/{id}/override-check-and-continue` (CONTRACT §8.4): the case's assignee
//! overrides a failed or errored check and the session's run goes on at the node's pass edge.

use super::WRITE;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, Authenticated};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use verifa_app::cases::OverrideRequest;

/// Body of `override-check-and-continue`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideBody {
    /// A policy node on the run's path whose latest status is `failed` or `error`.
    #[schema(min_length = 1, max_length = 128, pattern = r"\S")]
    pub node_id: String,
    /// Why (1–2 000 characters; stored as a case note and on the node's `override`).
    #[schema(min_length = 1, max_length = 2000, pattern = r"\S")]
    pub reason: String,
    /// The reviewer holding the case.
    #[schema(min_length = 1, max_length = 64)]
    pub reviewer_id: String,
}

/// What an accepted override answers: the run goes on in the background.
#[derive(Debug, Serialize, ToSchema)]
pub struct OverrideAccepted {
    /// `case_…`.
    pub case_id: String,
    /// `ses_…`.
    pub session_id: String,
    /// The node overridden.
    pub node_id: String,
    /// The session's status: `processing` until the run ends.
    pub status: String,
}

/// Overrides a failed or errored check of the case's run and continues the run (202).
#[utoipa::path(post, path = "/api/v1/cases/{id}/override-check-and-continue", tag = "cases", params(("id" = String, Path, description = "`case_…`")), request_body = OverrideBody, security(("api_key" = [])), responses(
    (status = 202, body = OverrideAccepted), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn override_check(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<OverrideBody>,
) -> ApiResult<(StatusCode, Json<OverrideAccepted>)> {
    let caller = auth.require(WRITE)?;
    let request = OverrideRequest {
        node_id: body.node_id,
        reason: body.reason,
        reviewer_id: body.reviewer_id,
    };
    let done = state
        .services
        .cases
        .override_and_continue(caller, &id, request)
        .await?;
    let accepted = OverrideAccepted {
        case_id: done.case_id,
        session_id: done.session_id,
        node_id: done.node_id,
        status: done.status.as_str().to_owned(),
    };
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}
