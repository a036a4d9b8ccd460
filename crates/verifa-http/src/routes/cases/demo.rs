//! `POST /cases/demo` (sandbox only): a synthetic session with specimen documents, sent to
//! review, to try the review flow at once.

use super::WRITE;
use super::objects::CaseObject;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::Authenticated;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

/// Opens a demo case (sandbox keys only; at most 3 per organization).
#[utoipa::path(post, path = "/api/v1/cases/demo", tag = "cases", security(("api_key" = [])), responses(
    (status = 201, body = CaseObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn open_demo_case(
    State(state): State<AppState>,
    auth: Authenticated,
) -> ApiResult<(StatusCode, Json<CaseObject>)> {
    let caller = auth.require(WRITE)?;
    let case = state
        .services
        .cases
        .open_demo(caller, &state.services.sessions)
        .await?;
    let now = state.services.cases.now();
    Ok((StatusCode::CREATED, Json(CaseObject::of(case, now))))
}
