//! Reviewer actions on a case: claim, release, assign, next, approve, reject, escalate. Each
//! answers the case as it is afterwards.

use super::WRITE;
use super::objects::CaseObject;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, Authenticated};
use crate::routes::workflows::present;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use verifa_app::cases::{DecisionRequest, Escalation, NewCase};
use verifa_app::error::AppError;
use verifa_domain::case::{Case, CasePatch, Decision, Priority};

/// Body naming the reviewer (`claim`, `next`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewerBody {
    /// An active reviewer or admin of the organization (`orguser_…`).
    #[schema(min_length = 1, max_length = 64)]
    pub reviewer_id: String,
}

/// Body of `release` (optional reviewer: when given, they must hold the case).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseBody {
    /// The holder.
    pub reviewer_id: Option<String>,
}

/// Body of `assign`: `reviewer_id: null` unassigns.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// The new assignee, or `null`.
    #[serde(deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub reviewer_id: Option<Option<String>>,
}

/// Body of `approve`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveBody {
    /// The reviewer deciding.
    #[schema(min_length = 1, max_length = 64)]
    pub reviewer_id: String,
    /// Stored as a note (≤ 10 000 characters).
    pub notes: Option<String>,
}

/// Body of `reject`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectBody {
    /// The reviewer deciding.
    #[schema(min_length = 1, max_length = 64)]
    pub reviewer_id: String,
    /// Stored as a note (≤ 10 000 characters).
    pub notes: Option<String>,
    /// Shown on the result (≤ 500; default "Rejected during manual review.").
    pub rejection_reason: Option<String>,
}

/// Body of `escalate`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalateBody {
    /// Why (1–2 000 characters).
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
    /// The reviewer it goes to (becomes the assignee).
    pub escalated_to: Option<String>,
    /// Stored as a note.
    pub notes: Option<String>,
    /// The reviewer escalating (must hold the case when given).
    pub reviewer_id: Option<String>,
}

/// Body of `PATCH /cases/{id}`; a field left out stays as it is.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCaseBody {
    /// `low`, `normal`, `high` or `urgent` (undecided cases only).
    #[schema(schema_with = crate::openapi::schemas::priority_or_null)]
    pub priority: Option<String>,
    /// Merged into the stored metadata; a `null` value deletes that key.
    #[schema(schema_with = crate::openapi::schemas::free_form_or_null)]
    pub metadata: Option<Map<String, Value>>,
    /// Merged into the stored custom fields; a `null` value deletes that key.
    #[schema(schema_with = crate::openapi::schemas::free_form_or_null)]
    pub custom_fields: Option<Map<String, Value>>,
    /// Whether a second reviewer must decide (only before a recommendation exists).
    pub requires_dual_review: Option<bool>,
}

/// Body of `POST /cases`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCaseBody {
    /// A completed or failed session (`ses_…`).
    #[schema(min_length = 1, max_length = 64)]
    pub session_id: String,
    /// `low`, `normal` (default), `high` or `urgent`.
    #[schema(schema_with = crate::openapi::schemas::priority_or_null)]
    pub priority: Option<String>,
    /// Integrator metadata (at most 50 keys).
    #[schema(schema_with = crate::openapi::schemas::free_form_or_null)]
    pub metadata: Option<Map<String, Value>>,
}

const ID: &str = "`case_…`";

fn priority(raw: Option<&str>) -> Result<Option<Priority>, AppError> {
    raw.map(|p| {
        Priority::parse(p).ok_or_else(|| {
            AppError::invalid("priority", "must be one of low, normal, high, urgent")
        })
    })
    .transpose()
}

fn answer(state: &AppState, case: Case) -> Json<CaseObject> {
    Json(CaseObject::of(case, state.services.cases.now()))
}

/// Claims a case (the holder claiming again changes nothing; another holder → 409).
#[utoipa::path(post, path = "/api/v1/cases/{id}/claim", tag = "cases", params(("id" = String, Path, description = ID)), request_body = ReviewerBody, security(("api_key" = [])), responses(
    (status = 200, body = CaseObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn claim_case(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReviewerBody>,
) -> ApiResult<Json<CaseObject>> {
    let caller = auth.require(WRITE)?;
    let case = state
        .services
        .cases
        .claim(caller, &id, &body.reviewer_id)
        .await?;
    Ok(answer(&state, case))
}

/// Releases a claim.
#[utoipa::path(post, path = "/api/v1/cases/{id}/release", tag = "cases", params(("id" = String, Path, description = ID)), request_body = ReleaseBody, security(("api_key" = [])), responses(
    (status = 200, body = CaseObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn release_case(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReleaseBody>,
) -> ApiResult<Json<CaseObject>> {
    let caller = auth.require(WRITE)?;
    let case = state
        .services
        .cases
        .release(caller, &id, body.reviewer_id.as_deref())
        .await?;
    Ok(answer(&state, case))
}

/// Assigns a case to a reviewer (overriding its holder), or unassigns it.
#[utoipa::path(post, path = "/api/v1/cases/{id}/assign", tag = "cases", params(("id" = String, Path, description = ID)), request_body = AssignBody, security(("api_key" = [])), responses(
    (status = 200, body = CaseObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn assign_case(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AssignBody>,
) -> ApiResult<Json<CaseObject>> {
    let caller = auth.require(WRITE)?;
    let Some(reviewer) = body.reviewer_id else {
        return Err(crate::error::ApiError::validation(vec![
            crate::error::FieldErrorBody {
                field: "reviewer_id".into(),
                message: "is required (null unassigns)".into(),
            },
        ]));
    };
    let case = state
        .services
        .cases
        .assign(caller, &id, reviewer.as_deref())
        .await?;
    Ok(answer(&state, case))
}

/// Claims the next case of the queue (urgent first, then longest in review); 404 when empty.
#[utoipa::path(post, path = "/api/v1/cases/next", tag = "cases", request_body = ReviewerBody, security(("api_key" = [])), responses(
    (status = 200, body = CaseObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn next_case(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<ReviewerBody>,
) -> ApiResult<Json<CaseObject>> {
    let caller = auth.require(WRITE)?;
    let cases = &state.services.cases;
    let case = cases.next(caller, &body.reviewer_id).await?;
    let review = cases.review(caller, &case).await?;
    Ok(Json(CaseObject::of(case, cases.now()).with_review(review)))
}

/// Approves (or, under dual review, recommends approving).
#[utoipa::path(post, path = "/api/v1/cases/{id}/approve", tag = "cases", params(("id" = String, Path, description = ID)), request_body = ApproveBody, security(("api_key" = [])), responses(
    (status = 200, body = CaseObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn approve_case(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ApproveBody>,
) -> ApiResult<Json<CaseObject>> {
    let caller = auth.require(WRITE)?;
    let request = DecisionRequest {
        reviewer_id: body.reviewer_id,
        decision: Decision::Approved,
        notes: body.notes,
        rejection_reason: None,
    };
    let case = state.services.cases.decide(caller, &id, request).await?;
    Ok(answer(&state, case))
}

/// Rejects (or, under dual review, recommends rejecting).
#[utoipa::path(post, path = "/api/v1/cases/{id}/reject", tag = "cases", params(("id" = String, Path, description = ID)), request_body = RejectBody, security(("api_key" = [])), responses(
    (status = 200, body = CaseObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reject_case(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RejectBody>,
) -> ApiResult<Json<CaseObject>> {
    let caller = auth.require(WRITE)?;
    let request = DecisionRequest {
        reviewer_id: body.reviewer_id,
        decision: Decision::Rejected,
        notes: body.notes,
        rejection_reason: body.rejection_reason,
    };
    let case = state.services.cases.decide(caller, &id, request).await?;
    Ok(answer(&state, case))
}

/// Escalates a case under review (dual review from then on).
#[utoipa::path(post, path = "/api/v1/cases/{id}/escalate", tag = "cases", params(("id" = String, Path, description = ID)), request_body = EscalateBody, security(("api_key" = [])), responses(
    (status = 200, body = CaseObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn escalate_case(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<EscalateBody>,
) -> ApiResult<Json<CaseObject>> {
    let caller = auth.require(WRITE)?;
    let escalation = Escalation {
        reason: body.reason,
        escalated_to: body.escalated_to,
        notes: body.notes,
        reviewer_id: body.reviewer_id,
    };
    let case = state
        .services
        .cases
        .escalate(caller, &id, escalation)
        .await?;
    Ok(answer(&state, case))
}

/// Edits a case: priority, dual review, metadata, custom fields.
#[utoipa::path(patch, path = "/api/v1/cases/{id}", tag = "cases", params(("id" = String, Path, description = ID)), request_body = UpdateCaseBody, security(("api_key" = [])), responses(
    (status = 200, body = CaseObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_case(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateCaseBody>,
) -> ApiResult<Json<CaseObject>> {
    let caller = auth.require(WRITE)?;
    let patch = CasePatch {
        priority: priority(body.priority.as_deref())?,
        metadata: body.metadata,
        custom_fields: body.custom_fields,
        requires_dual_review: body.requires_dual_review,
    };
    let case = state.services.cases.edit(caller, &id, &patch).await?;
    Ok(answer(&state, case))
}

/// Opens a case for a completed or failed session (201); the session's active case when it
/// has one (200).
#[utoipa::path(post, path = "/api/v1/cases", tag = "cases", request_body = CreateCaseBody, security(("api_key" = [])), responses(
    (status = 201, body = CaseObject), (status = 200, body = CaseObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_case(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateCaseBody>,
) -> ApiResult<(StatusCode, Json<CaseObject>)> {
    let caller = auth.require(WRITE)?;
    let new = NewCase {
        session_id: body.session_id,
        priority: priority(body.priority.as_deref())?,
        metadata: body.metadata,
    };
    let (case, created) = state.services.cases.create(caller, new).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, answer(&state, case)))
}
