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
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use verifa_app::cases::{CaseQuery, CaseSearch};
use verifa_app::{AppError, FieldError};
use verifa_domain::case::Case;
use verifa_domain::pagination::{DEFAULT_LIMIT, Page, PageRequest};

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

/// Body of `POST /cases/search`; every filter is optional and they combine with AND.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseSearchBody {
    /// Case id, session id or external reference (exact).
    pub q: Option<String>,
    /// Any of these statuses.
    #[schema(schema_with = crate::openapi::schemas::case_statuses_or_null)]
    pub status: Option<Vec<String>>,
    /// Any of these priorities.
    #[schema(schema_with = crate::openapi::schemas::priorities_or_null)]
    pub priority: Option<Vec<String>>,
    /// Any of these SLA bands.
    #[schema(schema_with = crate::openapi::schemas::sla_statuses_or_null)]
    pub sla_status: Option<Vec<String>>,
    /// `orguser_…` or `none`.
    pub assigned_to: Option<String>,
    /// The session's external reference (exact).
    pub external_ref: Option<String>,
    /// The identity (`idn_…`).
    pub identity_id: Option<String>,
    /// Created at or after (RFC 3339).
    pub created_after: Option<DateTime<Utc>>,
    /// Created before (RFC 3339).
    pub created_before: Option<DateTime<Utc>>,
    /// Rows per page, 1–100 (default 25).
    #[schema(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// Rows to skip, 0–1 000 000.
    #[schema(minimum = 0, maximum = 1000000)]
    pub offset: Option<i64>,
}

const ID: &str = "`case_…`";

fn case_list(page: Page<Case>, now: DateTime<Utc>) -> CaseList {
    let pagination = Pagination::from(&page);
    CaseList {
        data: page
            .items
            .into_iter()
            .map(|c| CaseObject::of(c, now))
            .collect(),
        pagination,
    }
}

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
    Ok(Json(case_list(page, cases.now())))
}

/// Searches cases, newest first.
#[utoipa::path(post, path = "/api/v1/cases/search", tag = "cases", request_body = CaseSearchBody, security(("api_key" = [])), responses(
    (status = 200, body = CaseList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn search_cases(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CaseSearchBody>,
) -> ApiResult<Json<CaseList>> {
    let caller = auth.require(READ)?;
    let page = PageRequest::new(body.limit, body.offset, DEFAULT_LIMIT).map_err(|errs| {
        AppError::Validation(
            errs.into_iter()
                .map(|e| FieldError::new(e.field, e.message))
                .collect(),
        )
    })?;
    let search = CaseSearch {
        q: body.q,
        status: body.status.unwrap_or_default(),
        priority: body.priority.unwrap_or_default(),
        sla_status: body.sla_status.unwrap_or_default(),
        assigned_to: body.assigned_to,
        external_ref: body.external_ref,
        identity_id: body.identity_id,
        created_after: body.created_after,
        created_before: body.created_before,
    };
    let cases = &state.services.cases;
    let page = cases.search(caller, search, page).await?;
    Ok(Json(case_list(page, cases.now())))
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
