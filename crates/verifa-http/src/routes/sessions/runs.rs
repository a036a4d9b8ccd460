//! A session's workflow run: reprocess, trigger, gate decisions, resume, and reading the run and
//! its verification attempts.

use super::run_objects::{AttemptList, RunObject, VerificationList};
use super::{Id, READ, VERIFICATIONS, WRITE};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, Authenticated, OptionalJson};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use verifa_domain::session::SessionStatus;
use verifa_ports::runs::NodeExecution;

/// Accepted asynchronous work.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AcceptedResponse {
    /// Session.
    pub session_id: String,
    /// New status.
    #[schema(schema_with = crate::openapi::schemas::session_status)]
    pub status: SessionStatus,
}

/// Body of `external-decision`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// `continue` | `fail` | `reject`.
    #[schema(schema_with = crate::openapi::schemas::decision)]
    pub decision: String,
    /// Stored on the run.
    #[schema(schema_with = crate::openapi::schemas::object_or_null)]
    pub metadata: Option<Value>,
}

/// `external-decision` response.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DecisionResponse {
    /// Session.
    pub session_id: String,
    /// Decision.
    pub decision: String,
    /// New status.
    #[schema(schema_with = crate::openapi::schemas::session_status)]
    pub status: SessionStatus,
    /// Message.
    pub message: String,
}

/// Body of `workflow-run/resume`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResumeRunRequest {
    /// Node id.
    pub node_id: Option<String>,
    /// Policy name.
    pub policy: Option<String>,
    /// Step index (legacy steps).
    #[schema(minimum = 0)]
    pub step_index: Option<i64>,
}

/// `workflow-run/resume` response.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ResumeRunResponse {
    /// New session status.
    #[schema(schema_with = crate::openapi::schemas::session_status)]
    pub status: SessionStatus,
    /// Session.
    pub session_id: String,
    /// Node the run restarts at.
    pub node_id: String,
    /// Policy given.
    pub policy: Option<String>,
    /// Step index given.
    pub step_index: Option<i64>,
}

/// Body of `POST /workflows/{id}/trigger`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriggerRequest {
    /// Session to re-run (must be completed or failed).
    pub session_id: String,
}

/// `trigger` response.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TriggerResponse {
    /// Session.
    pub session_id: String,
    /// Workflow.
    pub workflow_id: String,
    /// `processing`.
    #[schema(schema_with = crate::openapi::schemas::session_status)]
    pub status: SessionStatus,
}

/// Re-runs the workflow of a completed or failed session.
#[utoipa::path(post, path = "/api/v1/sessions/{session_id}/reprocess", tag = "sessions", params(("session_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 202, body = AcceptedResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reprocess_session(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Id,
) -> ApiResult<(StatusCode, Json<AcceptedResponse>)> {
    let caller = auth.require(WRITE)?;
    let s = state.services.sessions.rerun(caller, &id, None).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(AcceptedResponse {
            session_id: s.id,
            status: s.status,
        }),
    ))
}

/// Submits an external gate decision.
#[utoipa::path(post, path = "/api/v1/sessions/{session_id}/external-decision", tag = "sessions", params(("session_id" = String, Path)), request_body = DecisionRequest, security(("api_key" = [])), responses(
    (status = 202, body = DecisionResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn external_decision(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Id,
    ApiJson(body): ApiJson<DecisionRequest>,
) -> ApiResult<(StatusCode, Json<DecisionResponse>)> {
    let caller = auth.require(WRITE)?;
    let s = state
        .services
        .sessions
        .external_decision(caller, &id, &body.decision, body.metadata)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(DecisionResponse {
            session_id: s.id,
            decision: body.decision,
            status: s.status,
            message: "Decision accepted. The workflow will resume shortly.".into(),
        }),
    ))
}

/// Resumes a paused or failed run from a node, policy or step.
#[utoipa::path(post, path = "/api/v1/sessions/{session_id}/workflow-run/resume", tag = "sessions", params(("session_id" = String, Path)), request_body = Option<ResumeRunRequest>, security(("api_key" = [])), responses(
    (status = 202, body = ResumeRunResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn resume_run(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Id,
    OptionalJson(body): OptionalJson<ResumeRunRequest>,
) -> ApiResult<(StatusCode, Json<ResumeRunResponse>)> {
    let caller = auth.require(WRITE)?;
    let (s, node) = state
        .services
        .sessions
        .resume_run(
            caller,
            &id,
            body.node_id,
            body.policy.clone(),
            body.step_index,
        )
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ResumeRunResponse {
            status: s.status,
            session_id: s.id,
            node_id: node,
            policy: body.policy,
            step_index: body.step_index,
        }),
    ))
}

/// The session's workflow run.
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}/workflow-run", tag = "workflows", params(("session_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = RunObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_workflow_run(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Id,
) -> ApiResult<Json<RunObject>> {
    let caller = auth.require(READ)?;
    Ok(Json(state.services.sessions.run(caller, &id).await?.into()))
}

/// Latest verification attempt per policy.
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}/verifications", tag = "sessions", params(("session_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = VerificationList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_verifications(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Id,
) -> ApiResult<Json<VerificationList>> {
    let caller = auth.require(VERIFICATIONS)?;
    let all = state.services.sessions.attempts(caller, &id, None).await?;
    let mut latest: Vec<NodeExecution> = Vec::new();
    for a in all {
        match latest
            .iter_mut()
            .find(|l| l.attempt.policy == a.attempt.policy)
        {
            Some(l) => *l = a,
            None => latest.push(a),
        }
    }
    Ok(Json(VerificationList {
        data: latest.into_iter().map(Into::into).collect(),
    }))
}

/// Every attempt of one policy.
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}/verifications/{policy}/attempts", tag = "sessions", params(("session_id" = String, Path), ("policy" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = AttemptList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_attempts(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((id, policy)): Path<(String, String)>,
) -> ApiResult<Json<AttemptList>> {
    let caller = auth.require(VERIFICATIONS)?;
    let attempts = state
        .services
        .sessions
        .attempts(caller, &id, Some(&policy))
        .await?;
    Ok(Json(AttemptList {
        session_id: id,
        policy,
        attempts: attempts.into_iter().map(Into::into).collect(),
    }))
}

/// Re-runs a completed or failed session on this workflow (previous run replaced).
#[utoipa::path(post, path = "/api/v1/workflows/{workflow_id}/trigger", tag = "workflows", params(("workflow_id" = String, Path)), request_body = TriggerRequest, security(("api_key" = [])), responses(
    (status = 202, body = TriggerResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn trigger_workflow(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(workflow_id): Id,
    ApiJson(body): ApiJson<TriggerRequest>,
) -> ApiResult<(StatusCode, Json<TriggerResponse>)> {
    let caller = auth.require("workflows:trigger")?;
    state.services.workflows.get(caller, &workflow_id).await?;
    let s = state
        .services
        .sessions
        .rerun(caller, &body.session_id, Some(&workflow_id))
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(TriggerResponse {
            session_id: s.id,
            workflow_id,
            status: s.status,
        }),
    ))
}
