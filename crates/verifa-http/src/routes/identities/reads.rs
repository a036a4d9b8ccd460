//! Reading identities: list, get (with extracted data and history), sessions, audit log.

use super::READ;
use super::objects::{HistoryEntry, IdentityList, IdentityObject, IdentitySessionList};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiQuery, Authenticated};
use crate::routes::events::{AuditEventList, AuditEventObject};
use crate::routes::pagination::{
    AnyPagination, CursorPagination, CursorQuery, PageQuery, Pagination,
};
use crate::routes::query::parse_bool;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use utoipa::IntoParams;
use verifa_app::identities::IdentityQuery;
use verifa_domain::pagination::DEFAULT_LIMIT;

/// Default page of an identity's sessions and audit log.
const SUB_LIST_LIMIT: u64 = 50;

/// Filters of `GET /identities`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IdentityListQuery {
    /// `pending`, `approved` (alias `verified`), `failed`, `rejected`, `redacted`, `merged`.
    #[param(pattern = r"^(pending|approved|verified|failed|rejected|redacted|merged)?$")]
    pub status: Option<String>,
    /// `external_ref` starts with this (case-sensitive).
    pub q: Option<String>,
    /// Identity type (`idt_…`).
    pub identity_type_id: Option<String>,
    /// Carries this tag.
    pub tag: Option<String>,
    /// Flagged (`true`) or not (`false`).
    #[param(value_type = Option<bool>)]
    pub is_flagged: Option<String>,
    /// Archived identities too (default `false`).
    #[param(value_type = Option<bool>)]
    pub include_archived: Option<String>,
    /// Rows per page, 1–100 (default 25).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// Rows to skip, ≥ 0.
    #[param(value_type = Option<i64>, minimum = 0)]
    pub offset: Option<String>,
    /// Cursor mode: older rows than this cursor (a `next_cursor`; blank: from the newest
    /// row). `offset` is then ignored.
    #[serde(rename = "page[after]")]
    #[param(rename = "page[after]")]
    pub page_after: Option<String>,
    /// Cursor mode: newer rows than this cursor (a `prev_cursor`).
    #[serde(rename = "page[before]")]
    #[param(rename = "page[before]")]
    pub page_before: Option<String>,
    /// Rows per page in cursor mode, 1–100 (default 25).
    #[serde(rename = "page[size]")]
    #[param(rename = "page[size]", value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub page_size: Option<String>,
}

/// Lists identities, newest first; archived ones only with `include_archived=true`.
#[utoipa::path(get, path = "/api/v1/identities", tag = "identities", params(IdentityListQuery), security(("api_key" = [])), responses(
    (status = 200, body = IdentityList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_identities(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiQuery(q): ApiQuery<IdentityListQuery>,
) -> ApiResult<Json<IdentityList>> {
    let caller = auth.require(READ)?;
    let query = IdentityQuery {
        status: q.status,
        q: q.q,
        identity_type_id: q.identity_type_id,
        tag: q.tag,
        is_flagged: parse_bool("is_flagged", &q.is_flagged)?,
        include_archived: parse_bool("include_archived", &q.include_archived)?.unwrap_or(false),
    };
    let cursor = CursorQuery {
        after: q.page_after,
        before: q.page_before,
        size: q.page_size,
    };
    if let Some(request) = cursor.request() {
        let page = state
            .services
            .identities
            .list_from(caller, query, request?)
            .await?;
        let pagination = AnyPagination::Cursor(CursorPagination::from(&page));
        return Ok(Json(IdentityList {
            data: page.items.into_iter().map(Into::into).collect(),
            pagination,
        }));
    }
    let page = PageQuery {
        limit: q.limit,
        offset: q.offset,
    }
    .page(DEFAULT_LIMIT)?;
    let page = state.services.identities.list(caller, query, page).await?;
    let pagination = AnyPagination::Offset(Pagination::from(&page));
    Ok(Json(IdentityList {
        data: page.items.into_iter().map(Into::into).collect(),
        pagination,
    }))
}

/// One identity, with its latest session's extracted data and its verification history.
#[utoipa::path(get, path = "/api/v1/identities/{id}", tag = "identities", params(("id" = String, Path, description = "`idn_…` or the external reference")), security(("api_key" = [])), responses(
    (status = 200, body = IdentityObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_identity(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<IdentityObject>> {
    let caller = auth.require(READ)?;
    Ok(Json(
        state.services.identities.view(caller, &id).await?.into(),
    ))
}

/// The identity's sessions, newest first.
#[utoipa::path(get, path = "/api/v1/identities/{id}/sessions", tag = "identities", params(("id" = String, Path, description = "`idn_…` or the external reference"), PageQuery), security(("api_key" = [])), responses(
    (status = 200, body = IdentitySessionList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_identity_sessions(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<IdentitySessionList>> {
    let caller = auth.require(READ)?;
    let page = q.page(SUB_LIST_LIMIT)?;
    let page = state
        .services
        .identities
        .sessions(caller, &id, page)
        .await?;
    let pagination = Pagination::from(&page);
    Ok(Json(IdentitySessionList {
        data: page.items.into_iter().map(HistoryEntry::from).collect(),
        pagination,
    }))
}

/// The audit events of the identity and of its sessions, newest first.
#[utoipa::path(get, path = "/api/v1/identities/{id}/audit-log", tag = "identities", params(("id" = String, Path, description = "`idn_…` or the external reference"), PageQuery), security(("api_key" = [])), responses(
    (status = 200, body = AuditEventList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn identity_audit_log(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<AuditEventList>> {
    let caller = auth.require(READ)?;
    let page = q.page(SUB_LIST_LIMIT)?;
    let page = state
        .services
        .identities
        .audit_log(caller, &id, page)
        .await?;
    let pagination = Pagination::from(&page);
    Ok(Json(AuditEventList {
        data: page.items.into_iter().map(AuditEventObject::from).collect(),
        pagination,
    }))
}
