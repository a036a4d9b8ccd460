//! Reading cases: list, one case with its review material, the review tabs, notes.

use super::objects::{CaseList, CaseObject, NoteList, NoteObject, TabCountsObject};
use super::{READ, WRITE};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, Authenticated};
use crate::routes::pagination::{PageQuery, Pagination};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use verifa_app::cases::CaseQuery;
use verifa_domain::pagination::DEFAULT_LIMIT;

/// Filters of `GET /cases`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseListQuery {
    /// Comma-separated statuses (`open,in_review`).
    #[param(
        pattern = r"^((open|in_review|escalated|pending_second_review|approved|rejected)(,(open|in_review|escalated|pending_second_review|approved|rejected))*)?$"
    )]
    pub status: Option<String>,
    /// `orguser_…` or `none`.
    pub assigned_to: Option<String>,
    /// `low`, `normal`, `high`, `urgent` (comma-separated).
    #[param(pattern = r"^((low|normal|high|urgent)(,(low|normal|high|urgent))*)?$")]
    pub priority: Option<String>,
    /// `green`, `yellow`, `red` (comma-separated).
    #[param(pattern = r"^((green|yellow|red)(,(green|yellow|red))*)?$")]
    pub sla_status: Option<String>,
    /// Case id, session id or external reference (exact).
    pub q: Option<String>,
    /// `newest` (default) or `queue` (priority, then time in review).
    #[param(pattern = r"^(newest|queue)?$")]
    pub sort: Option<String>,
    /// Rows per page, 1–100 (default 25).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// Rows to skip, ≥ 0.
    #[param(value_type = Option<i64>, minimum = 0)]
    pub offset: Option<String>,
}

/// `reviewer_id` of the tab counts.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TabCountsQuery {
    /// Counts `mine` for this reviewer.
    pub reviewer_id: Option<String>,
}

/// Body of `POST /cases/{id}/notes`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddNoteRequest {
    /// 1–10 000 characters.
    #[schema(min_length = 1, max_length = 10000)]
    pub content: String,
    /// The org user writing it (without one, the note is the API key's).
    pub author_id: Option<String>,
}

const ID: &str = "`case_…`";

/// Lists cases.
#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", params(CaseListQuery), security(("api_key" = [])), responses(
    (status = 200, body = CaseList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_cases(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiQuery(q): ApiQuery<CaseListQuery>,
) -> ApiResult<Json<CaseList>> {
    let caller = auth.require(READ)?;
    let query = CaseQuery {
        status: q.status,
        assigned_to: q.assigned_to,
        priority: q.priority,
        sla_status: q.sla_status,
        q: q.q,
        sort: q.sort,
    };
    let page = PageQuery {
        limit: q.limit,
        offset: q.offset,
    }
    .page(DEFAULT_LIMIT)?;
    let cases = &state.services.cases;
    let page = cases.list(caller, query, page).await?;
    let now = cases.now();
    let pagination = Pagination::from(&page);
    Ok(Json(CaseList {
        data: page
            .items
            .into_iter()
            .map(|c| CaseObject::of(c, now))
            .collect(),
        pagination,
    }))
}

/// Counts of the review tabs over active cases.
#[utoipa::path(get, path = "/api/v1/cases/tab-counts", tag = "cases", params(TabCountsQuery), security(("api_key" = [])), responses(
    (status = 200, body = TabCountsObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn case_tab_counts(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiQuery(q): ApiQuery<TabCountsQuery>,
) -> ApiResult<Json<TabCountsObject>> {
    let caller = auth.require(READ)?;
    let t = state
        .services
        .cases
        .tab_counts(caller, q.reviewer_id.as_deref())
        .await?;
    Ok(Json(TabCountsObject {
        unassigned: t.unassigned,
        mine: t.mine,
        pending_second_review: t.pending_second_review,
        escalated: t.escalated,
        all: t.all,
    }))
}

/// One case with what a reviewer looks at (`review`).
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases", params(("id" = String, Path, description = ID)), security(("api_key" = [])), responses(
    (status = 200, body = CaseObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_case(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<CaseObject>> {
    let caller = auth.require(READ)?;
    let cases = &state.services.cases;
    let case = cases.get(caller, &id).await?;
    let review = cases.review(caller, &case).await?;
    Ok(Json(CaseObject::of(case, cases.now()).with_review(review)))
}

/// The notes of a case, oldest first.
#[utoipa::path(get, path = "/api/v1/cases/{id}/notes", tag = "cases", params(("id" = String, Path, description = ID)), security(("api_key" = [])), responses(
    (status = 200, body = NoteList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_case_notes(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<NoteList>> {
    let caller = auth.require(READ)?;
    let notes = state.services.cases.notes(caller, &id).await?;
    Ok(Json(NoteList {
        data: notes.into_iter().map(Into::into).collect(),
    }))
}

/// Adds a note (by an org user with `author_id`, else by the calling key).
#[utoipa::path(post, path = "/api/v1/cases/{id}/notes", tag = "cases", params(("id" = String, Path, description = ID)), request_body = AddNoteRequest, security(("api_key" = [])), responses(
    (status = 201, body = NoteObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_case_note(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AddNoteRequest>,
) -> ApiResult<(StatusCode, Json<NoteObject>)> {
    let caller = auth.require(WRITE)?;
    let note = state
        .services
        .cases
        .add_note(caller, &id, &body.content, body.author_id.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(note.into())))
}
