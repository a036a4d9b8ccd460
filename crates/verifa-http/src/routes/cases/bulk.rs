//! `POST /cases/bulk`: one action on many cases, each answered on its own.

use super::WRITE;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, Authenticated};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use verifa_app::AppError;
use verifa_app::cases::{BulkAction, BulkRequest};
use verifa_domain::case::Priority;

/// Body of `POST /cases/bulk`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkBody {
    /// `assign`, `release`, `approve`, `reject`, `escalate` or `set_priority`.
    #[schema(schema_with = crate::openapi::schemas::bulk_action)]
    pub action: String,
    /// 1–100 distinct `case_…` ids.
    #[schema(schema_with = crate::openapi::schemas::bulk_case_ids)]
    pub case_ids: Vec<String>,
    /// The reviewer (assign, approve, reject; the holder for release and escalate).
    pub reviewer_id: Option<String>,
    /// The new priority (set_priority).
    #[schema(schema_with = crate::openapi::schemas::priority_or_null)]
    pub priority: Option<String>,
    /// Why (escalate, ≤ 2 000 characters).
    pub reason: Option<String>,
    /// Reject only (≤ 500 characters).
    pub rejection_reason: Option<String>,
    /// Stored as a note of each case (≤ 10 000 characters).
    pub notes: Option<String>,
}

/// What happened to one case.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BulkResultObject {
    /// The case.
    pub case_id: String,
    /// `ok` or `error`.
    pub status: String,
    /// The error code the single-case call would answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Its detail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The answer of `POST /cases/bulk`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BulkObject {
    /// Cases listed.
    pub total: usize,
    /// Cases the action was applied to.
    pub succeeded: usize,
    /// Cases it was refused for.
    pub failed: usize,
    /// One entry per case, in the order listed.
    pub results: Vec<BulkResultObject>,
}

fn parse<T>(
    field: &str,
    raw: Option<&str>,
    f: fn(&str) -> Option<T>,
    allowed: &str,
) -> Result<Option<T>, AppError> {
    raw.map(|v| f(v).ok_or_else(|| AppError::invalid(field, format!("must be one of {allowed}"))))
        .transpose()
}

/// Applies one action to up to 100 cases; each case in its own transaction.
#[utoipa::path(post, path = "/api/v1/cases/bulk", tag = "cases", request_body = BulkBody, security(("api_key" = [])), responses(
    (status = 200, body = BulkObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn bulk_cases(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<BulkBody>,
) -> ApiResult<Json<BulkObject>> {
    let caller = auth.require(WRITE)?;
    let action = parse(
        "action",
        Some(&body.action),
        BulkAction::parse,
        "assign, release, approve, reject, escalate, set_priority",
    )?
    .ok_or_else(|| AppError::invalid("action", "is required"))?;
    let priority = parse(
        "priority",
        body.priority.as_deref(),
        Priority::parse,
        "low, normal, high, urgent",
    )?;
    let request = BulkRequest {
        action,
        case_ids: body.case_ids,
        reviewer_id: body.reviewer_id,
        priority,
        reason: body.reason,
        rejection_reason: body.rejection_reason,
        notes: body.notes,
    };
    let items = state.services.cases.bulk(caller, request).await?;
    let results: Vec<BulkResultObject> = items
        .into_iter()
        .map(|item| match item.outcome {
            Ok(_) => BulkResultObject {
                case_id: item.case_id,
                status: "ok".into(),
                error: None,
                detail: None,
            },
            Err(e) => {
                let e = ApiError::from(e);
                BulkResultObject {
                    case_id: item.case_id,
                    status: "error".into(),
                    error: Some(e.code.to_owned()),
                    detail: Some(e.detail),
                }
            }
        })
        .collect();
    let succeeded = results.iter().filter(|r| r.status == "ok").count();
    Ok(Json(BulkObject {
        total: results.len(),
        succeeded,
        failed: results.len() - succeeded,
        results,
    }))
}
