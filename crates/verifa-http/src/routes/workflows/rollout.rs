//! The rollout map of a workflow.

use super::{READ, WRITE};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, Authenticated};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use verifa_ports::workflows::WorkflowRecord;

/// One rollout entry.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolloutEntryObject {
    /// Version number.
    #[schema(schema_with = crate::openapi::schemas::version_number)]
    pub version: i64,
    /// Share of new runs (0–100).
    #[schema(schema_with = crate::openapi::schemas::percentage)]
    pub percentage: i64,
}

/// The rollout map.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"workflow_id": "wfl_0192f8c2a1b27c3e8d4f5a6b7c8d9e0f", "entries": [{"version": 2, "percentage": 25}, {"version": 1, "percentage": 75}], "updated_at": "2026-02-01T12:00:00Z"}))]
pub struct RolloutObject {
    /// Workflow.
    pub workflow_id: String,
    /// Entries, newest version first.
    pub entries: Vec<RolloutEntryObject>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<WorkflowRecord> for RolloutObject {
    fn from(w: WorkflowRecord) -> Self {
        Self {
            workflow_id: w.id,
            entries: w
                .rollout
                .iter()
                .map(|e| RolloutEntryObject {
                    version: i64::from(e.version),
                    percentage: i64::from(e.percentage),
                })
                .collect(),
            updated_at: w.rollout_updated_at,
        }
    }
}

/// Body of `PUT /workflows/{id}/rollout`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"entries": [{"version": 2, "percentage": 50}, {"version": 1, "percentage": 50}]}))]
pub struct PutRolloutRequest {
    /// Entries; versions must exist and percentages sum to 100.
    #[schema(min_items = 1)]
    pub entries: Vec<RolloutEntryObject>,
}

/// The rollout map.
#[utoipa::path(get, path = "/api/v1/workflows/{workflow_id}/rollout", tag = "workflows", params(("workflow_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = RolloutObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_rollout(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<RolloutObject>> {
    let caller = auth.require(READ)?;
    Ok(Json(
        state.services.workflows.rollout(caller, &id).await?.into(),
    ))
}

/// Replaces the rollout map.
#[utoipa::path(put, path = "/api/v1/workflows/{workflow_id}/rollout", tag = "workflows", params(("workflow_id" = String, Path)), request_body = PutRolloutRequest, security(("api_key" = [])), responses(
    (status = 200, body = RolloutObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_rollout(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PutRolloutRequest>,
) -> ApiResult<Json<RolloutObject>> {
    let caller = auth.require(WRITE)?;
    let entries = body
        .entries
        .into_iter()
        .map(|e| (e.version, e.percentage))
        .collect();
    Ok(Json(
        state
            .services
            .workflows
            .set_rollout(caller, &id, entries)
            .await?
            .into(),
    ))
}
