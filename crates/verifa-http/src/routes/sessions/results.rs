//! A session's decision and its event log.

use super::objects::{EventList, EventObject, ResultObject};
use super::{Id, READ, VERIFICATIONS};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiQuery, Authenticated};
use crate::routes::pagination::{PageQuery, Pagination};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};

/// The session's decision (404 until there is one).
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}/result", tag = "sessions", params(("session_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = ResultObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_result(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Id,
) -> ApiResult<Json<ResultObject>> {
    let caller = auth.require(VERIFICATIONS)?;
    let v = state.services.sessions.result(caller, &id).await?;
    Ok(Json(v.into()))
}

/// The session's event log (also the webhook outbox).
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}/events", tag = "sessions", params(("session_id" = String, Path), PageQuery), security(("api_key" = [])), responses(
    (status = 200, body = EventList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_events(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Id,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<EventList>> {
    let caller = auth.require(READ)?;
    let page = state
        .services
        .sessions
        .events(caller, &id, q.page(50)?)
        .await?;
    let pagination = Pagination::from(&page);
    Ok(Json(EventList {
        data: page
            .items
            .into_iter()
            .map(|e| EventObject {
                id: e.id,
                event_type: e.event_type,
                session_id: e.session_id,
                data: e.data,
                created_at: e.created_at,
            })
            .collect(),
        pagination,
    }))
}
