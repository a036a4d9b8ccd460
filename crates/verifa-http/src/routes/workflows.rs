//! The Workflows group (CONTRACT §2.3): workflows, versions, rollout, dry-run, policies,
//! analytics. Drafts live in [`crate::routes::drafts`].

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, Authenticated, OptionalJson};
use crate::routes::pagination::{PageQuery, Pagination};
use crate::routes::query::{parse_bool, parse_time};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use verifa_app::workflows::{
    Analytics, DefinitionInput, NewWorkflow, WorkflowChanges, WorkflowView,
};
use verifa_domain::pagination::DEFAULT_LIMIT;
use verifa_domain::workflow::{DryRunInput, DryRunReport};
use verifa_ports::workflows::{AnalyticsFilter, VersionRecord, WorkflowRecord};

pub(crate) const READ: &str = "workflows:read";
pub(crate) const WRITE: &str = "workflows:write";

pub(crate) fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    de: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(de).map(Some)
}

pub(crate) fn parse_stored(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// A workflow.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "wfl_0192f8c2a1b27c3e8d4f5a6b7c8d9e0f", "name": "KYC", "description": null, "version": 1, "is_default": true, "is_active": true, "format": "graph",
    "graph": {"entry": "start", "nodes": {"start": {"type": "start", "next": "age"}, "age": {"type": "policy", "policy": "age_verification", "config": {"minimum_age": 18}, "on_pass": "approve", "on_fail": "reject"}, "approve": {"type": "terminal", "outcome": "approved"}, "reject": {"type": "terminal", "outcome": "rejected"}}},
    "steps": null, "step_count": 1, "data_requirements": null, "screening_settings": null, "graph_layout": null, "created_at": "2026-02-01T12:00:00Z", "updated_at": "2026-02-01T12:00:00Z"}))]
pub struct WorkflowObject {
    /// `wfl_…`.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Current (newest) version number.
    pub version: i32,
    /// Default workflow of the organization and environment.
    pub is_default: bool,
    /// Accepts new sessions.
    pub is_active: bool,
    /// `graph` or `steps`.
    pub format: String,
    /// The executable graph of the current version (legacy steps normalised; auto-injected checks visible).
    #[schema(value_type = Object)]
    pub graph: Value,
    /// The legacy steps (format `steps` only).
    #[schema(value_type = Option<Vec<Object>>)]
    pub steps: Option<Value>,
    /// Number of policy nodes.
    pub step_count: usize,
    /// Data the capture flow must collect.
    #[schema(value_type = Option<Object>)]
    pub data_requirements: Option<Value>,
    /// Screening settings.
    #[schema(value_type = Option<Object>)]
    pub screening_settings: Option<Value>,
    /// Builder layout.
    #[schema(value_type = Option<Object>)]
    pub graph_layout: Option<Value>,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<WorkflowView> for WorkflowObject {
    fn from(v: WorkflowView) -> Self {
        let graph = parse_stored(&v.live.graph_json);
        let step_count = graph["nodes"]
            .as_object()
            .map(|n| n.values().filter(|n| n["type"] == "policy").count())
            .unwrap_or(0);
        Self {
            id: v.workflow.id,
            name: v.workflow.name,
            description: v.workflow.description,
            version: v.workflow.version,
            is_default: v.workflow.is_default,
            is_active: v.workflow.is_active,
            format: v.live.format,
            graph,
            steps: v.live.steps_json.as_deref().map(parse_stored),
            step_count,
            data_requirements: v.live.data_requirements_json.as_deref().map(parse_stored),
            screening_settings: v.workflow.screening_settings,
            graph_layout: v.workflow.graph_layout,
            created_at: v.workflow.created_at,
            updated_at: v.workflow.updated_at,
        }
    }
}

/// A page of workflows.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WorkflowList {
    /// Workflows.
    pub data: Vec<WorkflowObject>,
    /// Counts.
    pub pagination: Pagination,
}

/// Body of `POST /workflows`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "KYC", "format": "graph", "graph": {"entry": "start", "nodes": {"start": {"type": "start", "next": "age"}, "age": {"type": "policy", "policy": "age_verification", "config": {"minimum_age": 18}, "on_pass": "approve", "on_fail": "reject"}, "approve": {"type": "terminal", "outcome": "approved"}, "reject": {"type": "terminal", "outcome": "rejected"}}}, "is_default": true}))]
pub struct CreateWorkflowRequest {
    /// Name (required, ≤ 200).
    pub name: String,
    /// Description (≤ 2 000).
    pub description: Option<String>,
    /// `graph` or `steps` (inferred from which is present).
    pub format: Option<String>,
    /// Graph definition.
    #[schema(value_type = Option<Object>)]
    pub graph: Option<Value>,
    /// Legacy steps.
    #[schema(value_type = Option<Vec<Object>>)]
    pub steps: Option<Value>,
    /// Make it the default.
    #[serde(default)]
    pub is_default: bool,
    /// Data requirements.
    #[schema(value_type = Option<Object>)]
    pub data_requirements: Option<Value>,
    /// Screening settings.
    #[schema(value_type = Option<Object>)]
    pub screening_settings: Option<Value>,
    /// Builder layout.
    #[schema(value_type = Option<Object>)]
    pub graph_layout: Option<Value>,
}

/// Body of `PATCH /workflows/{id}`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"graph": {"entry": "start", "nodes": {"start": {"type": "start", "next": "approve"}, "approve": {"type": "terminal", "outcome": "approved"}}}, "rollout_percentage": 25}))]
pub struct UpdateWorkflowRequest {
    /// Name.
    pub name: Option<String>,
    /// Description (`null` clears).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// Format of the new definition.
    pub format: Option<String>,
    /// New graph → new version.
    #[schema(value_type = Option<Object>)]
    pub graph: Option<Value>,
    /// New steps → new version.
    #[schema(value_type = Option<Vec<Object>>)]
    pub steps: Option<Value>,
    /// New data requirements → new version.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    pub data_requirements: Option<Option<Value>>,
    /// Screening settings.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    pub screening_settings: Option<Option<Value>>,
    /// Layout.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    pub graph_layout: Option<Option<Value>>,
    /// Share of the new version (0–100, default 100); earlier versions share the rest pro rata.
    pub rollout_percentage: Option<i64>,
}

/// `is_active` filter.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkflowListQuery {
    /// Only active (`true`) or inactive (`false`) workflows.
    pub is_active: Option<String>,
    /// Page size.
    #[param(value_type = Option<i64>)]
    pub limit: Option<String>,
    /// Offset.
    #[param(value_type = Option<i64>)]
    pub offset: Option<String>,
}

/// A version.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VersionObject {
    /// `wfv_…`.
    pub id: String,
    /// Workflow.
    pub workflow_id: String,
    /// Number.
    pub version: i32,
    /// Format.
    pub format: String,
    /// Graph (byte-identical forever).
    #[schema(value_type = Object)]
    pub graph: Value,
    /// Legacy steps.
    #[schema(value_type = Option<Vec<Object>>)]
    pub steps: Option<Value>,
    /// Data requirements.
    #[schema(value_type = Option<Object>)]
    pub data_requirements: Option<Value>,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// API key that created it.
    pub created_by: String,
    /// `create` | `update` | `publish` | `clone` | `rollback`.
    pub source: String,
    /// Draft it was published from.
    pub draft_id: Option<String>,
    /// sha256 of the canonical graph JSON.
    pub content_hash: String,
}

impl From<VersionRecord> for VersionObject {
    fn from(v: VersionRecord) -> Self {
        Self {
            id: v.id,
            workflow_id: v.workflow_id,
            version: v.version,
            format: v.format,
            graph: parse_stored(&v.graph_json),
            steps: v.steps_json.as_deref().map(parse_stored),
            data_requirements: v.data_requirements_json.as_deref().map(parse_stored),
            created_at: v.created_at,
            created_by: v.created_by,
            source: v.source,
            draft_id: v.draft_id,
            content_hash: v.content_hash,
        }
    }
}

/// A page of versions.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VersionList {
    /// Versions, newest first.
    pub data: Vec<VersionObject>,
    /// Counts.
    pub pagination: Pagination,
}

/// One rollout entry.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolloutEntryObject {
    /// Version number.
    pub version: i64,
    /// Share of new runs (0–100).
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
    pub entries: Vec<RolloutEntryObject>,
}

/// Body of the dry-run endpoints.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"input": {"extracted_data": {"date_of_birth": "1990-01-01"}, "session": {"country": "US", "metadata": {}}, "check_results": {"age_verification": {"status": "passed", "output": {"age": 36}}}, "external_decisions": {"gate": "continue"}}}))]
pub struct DryRunRequest {
    /// Version to run (default: the current version). Ignored for drafts.
    pub version: Option<i64>,
    /// Inputs: extracted data, session facts, check results by policy or node id, gate decisions.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub input: Value,
}

/// Dry-run result.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DryRunResponse {
    /// Outcome, or null when paused at a gate.
    pub final_status: Option<String>,
    /// Nodes visited in order.
    pub path: Vec<String>,
    /// Result per node id.
    #[schema(value_type = Object)]
    pub node_results: Value,
    /// Gate the run is paused at.
    pub paused_at_node: Option<String>,
    /// Simulated results and other notes.
    pub warnings: Vec<String>,
}

impl From<DryRunReport> for DryRunResponse {
    fn from(r: DryRunReport) -> Self {
        Self {
            final_status: r.final_status.map(|o| {
                serde_json::to_value(o)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            }),
            path: r.path,
            node_results: serde_json::to_value(r.node_results).unwrap_or(Value::Null),
            paused_at_node: r.paused_at_node,
            warnings: r.warnings,
        }
    }
}

pub(crate) fn parse_dry_run_input(input: Value) -> Result<DryRunInput, ApiError> {
    let input = if input.is_null() { json!({}) } else { input };
    crate::extract::from_value::<DryRunInput>(input).map_err(|mut e| {
        if let Some(errors) = e.errors.as_mut() {
            for err in errors.iter_mut() {
                err.field = if err.field == "body" {
                    "input".into()
                } else {
                    format!("input.{}", err.field)
                };
            }
        }
        e
    })
}

/// A catalogue entry.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PolicyObject {
    /// Policy name.
    pub name: String,
    /// Category.
    pub category: String,
    /// Description.
    pub description: String,
    /// JSON Schema of the node config.
    #[schema(value_type = Object)]
    pub config_schema: Value,
    /// Output field → type.
    pub outputs: BTreeMap<String, String>,
    /// Inserted automatically.
    pub auto_injected: bool,
    /// Required inputs.
    pub requires: Vec<String>,
}

/// The catalogue.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PolicyList {
    /// Policies.
    pub data: Vec<PolicyObject>,
}

/// A policy node of a workflow.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PolicyNodeObject {
    /// Node id.
    pub node_id: String,
    /// Policy.
    pub policy: String,
    /// Config.
    #[schema(value_type = Object)]
    pub config: Value,
}

/// The policy nodes of the current version.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WorkflowPolicies {
    /// Workflow.
    pub workflow_id: String,
    /// Version.
    pub version: i32,
    /// Policy nodes.
    pub data: Vec<PolicyNodeObject>,
}

/// Analytics filters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnalyticsQuery {
    /// Runs created at or after (RFC 3339 or YYYY-MM-DD).
    pub date_from: Option<String>,
    /// Runs created before (RFC 3339, or YYYY-MM-DD inclusive).
    pub date_to: Option<String>,
    /// Only this version.
    #[param(value_type = Option<i64>)]
    pub version: Option<String>,
}

/// Per node analytics.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NodeAnalyticsObject {
    /// Policy.
    pub policy: Option<String>,
    /// Attempts executed.
    pub executions: u64,
    /// Passed.
    pub passed: u64,
    /// Failed.
    pub failed: u64,
    /// Errors.
    pub errors: u64,
    /// Retries.
    pub retries: u64,
    /// Median duration.
    pub p50_ms: Option<i64>,
    /// 95th percentile duration.
    pub p95_ms: Option<i64>,
}

/// Workflow analytics.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AnalyticsObject {
    /// Workflow.
    pub workflow_id: String,
    /// Runs considered.
    pub total_runs: u64,
    /// Runs by final status (`in_progress` when not finished).
    pub outcomes: BTreeMap<String, u64>,
    /// Runs by run status.
    pub statuses: BTreeMap<String, u64>,
    /// Runs paused at a gate.
    pub paused: u64,
    /// Runs by version.
    pub by_version: BTreeMap<String, u64>,
    /// Median completed-run duration.
    pub median_duration_ms: Option<i64>,
    /// 95th percentile completed-run duration.
    pub p95_duration_ms: Option<i64>,
    /// Per node id.
    pub by_node: BTreeMap<String, NodeAnalyticsObject>,
}

impl From<Analytics> for AnalyticsObject {
    fn from(a: Analytics) -> Self {
        Self {
            workflow_id: a.workflow_id,
            total_runs: a.total_runs,
            outcomes: a.outcomes,
            statuses: a.statuses,
            paused: a.paused,
            by_version: a.by_version,
            median_duration_ms: a.median_duration_ms,
            p95_duration_ms: a.p95_duration_ms,
            by_node: a
                .nodes
                .into_iter()
                .map(|(k, n)| {
                    (
                        k,
                        NodeAnalyticsObject {
                            policy: n.policy,
                            executions: n.executions,
                            passed: n.passed,
                            failed: n.failed,
                            errors: n.errors,
                            retries: n.retries,
                            p50_ms: n.p50_ms,
                            p95_ms: n.p95_ms,
                        },
                    )
                })
                .collect(),
        }
    }
}

/// Body of `POST /workflows/{id}/clone`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloneWorkflowRequest {
    /// Name of the clone (default "<name> (copy)").
    pub name: Option<String>,
}

/// Lists workflows.
#[utoipa::path(get, path = "/api/v1/workflows", tag = "workflows", params(WorkflowListQuery), security(("api_key" = [])), responses(
    (status = 200, body = WorkflowList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_workflows(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiQuery(q): ApiQuery<WorkflowListQuery>,
) -> ApiResult<Json<WorkflowList>> {
    let caller = auth.require(READ)?;
    let is_active = parse_bool("is_active", &q.is_active)?;
    let page = PageQuery {
        limit: q.limit,
        offset: q.offset,
    }
    .page(DEFAULT_LIMIT)?;
    let page = state
        .services
        .workflows
        .list(caller, is_active, page)
        .await?;
    let pagination = Pagination::from(&page);
    Ok(Json(WorkflowList {
        data: page.items.into_iter().map(Into::into).collect(),
        pagination,
    }))
}

/// Creates a workflow (version 1 at 100 %).
#[utoipa::path(post, path = "/api/v1/workflows", tag = "workflows", request_body = CreateWorkflowRequest, security(("api_key" = [])), responses(
    (status = 201, body = WorkflowObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_workflow(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateWorkflowRequest>,
) -> ApiResult<(StatusCode, Json<WorkflowObject>)> {
    let caller = auth.require(WRITE)?;
    let input = NewWorkflow {
        name: body.name,
        description: body.description,
        definition: DefinitionInput {
            format: body.format,
            graph: body.graph,
            steps: body.steps,
        },
        is_default: body.is_default,
        data_requirements: body.data_requirements,
        screening_settings: body.screening_settings,
        graph_layout: body.graph_layout,
    };
    let view = state.services.workflows.create(caller, input).await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

/// Gets a workflow.
#[utoipa::path(get, path = "/api/v1/workflows/{workflow_id}", tag = "workflows", params(("workflow_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = WorkflowObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_workflow(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<WorkflowObject>> {
    let caller = auth.require(READ)?;
    Ok(Json(
        state.services.workflows.get(caller, &id).await?.into(),
    ))
}

/// Updates a workflow; a new graph, steps or data requirements create a new version.
#[utoipa::path(patch, path = "/api/v1/workflows/{workflow_id}", tag = "workflows", params(("workflow_id" = String, Path)), request_body = UpdateWorkflowRequest, security(("api_key" = [])), responses(
    (status = 200, body = WorkflowObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_workflow(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateWorkflowRequest>,
) -> ApiResult<Json<WorkflowObject>> {
    let caller = auth.require(WRITE)?;
    let changes = WorkflowChanges {
        name: body.name,
        description: body.description,
        definition: DefinitionInput {
            format: body.format,
            graph: body.graph,
            steps: body.steps,
        },
        data_requirements: body.data_requirements,
        screening_settings: body.screening_settings,
        graph_layout: body.graph_layout,
        rollout_percentage: body.rollout_percentage,
    };
    Ok(Json(
        state
            .services
            .workflows
            .update(caller, &id, changes)
            .await?
            .into(),
    ))
}

/// Makes the workflow the default of its organization and environment.
#[utoipa::path(post, path = "/api/v1/workflows/{workflow_id}/set-default", tag = "workflows", params(("workflow_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = WorkflowObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn set_default_workflow(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<WorkflowObject>> {
    let caller = auth.require(WRITE)?;
    Ok(Json(
        state
            .services
            .workflows
            .set_default(caller, &id)
            .await?
            .into(),
    ))
}

/// Deactivates a workflow (not the default).
#[utoipa::path(post, path = "/api/v1/workflows/{workflow_id}/deactivate", tag = "workflows", params(("workflow_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = WorkflowObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn deactivate_workflow(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<WorkflowObject>> {
    let caller = auth.require(WRITE)?;
    Ok(Json(
        state
            .services
            .workflows
            .deactivate(caller, &id)
            .await?
            .into(),
    ))
}

/// Clones a workflow (version 1 = the source's current version; not default).
#[utoipa::path(post, path = "/api/v1/workflows/{workflow_id}/clone", tag = "workflows", params(("workflow_id" = String, Path)), request_body = CloneWorkflowRequest, security(("api_key" = [])), responses(
    (status = 201, body = WorkflowObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn clone_workflow(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<CloneWorkflowRequest>,
) -> ApiResult<(StatusCode, Json<WorkflowObject>)> {
    let caller = auth.require(WRITE)?;
    let view = state
        .services
        .workflows
        .clone_workflow(caller, &id, body.name)
        .await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

/// Lists versions, newest first.
#[utoipa::path(get, path = "/api/v1/workflows/{workflow_id}/versions", tag = "workflows", params(("workflow_id" = String, Path), PageQuery), security(("api_key" = [])), responses(
    (status = 200, body = VersionList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_versions(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<VersionList>> {
    let caller = auth.require(READ)?;
    let page = state
        .services
        .workflows
        .versions(caller, &id, q.page(DEFAULT_LIMIT)?)
        .await?;
    let pagination = Pagination::from(&page);
    Ok(Json(VersionList {
        data: page.items.into_iter().map(Into::into).collect(),
        pagination,
    }))
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

/// Runs the current (or a given) version on supplied inputs. Writes nothing, sends nothing.
#[utoipa::path(post, path = "/api/v1/workflows/{workflow_id}/dry-run", tag = "workflows", params(("workflow_id" = String, Path)), request_body = DryRunRequest, security(("api_key" = [])), responses(
    (status = 200, body = DryRunResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn dry_run_workflow(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<DryRunRequest>,
) -> ApiResult<Json<DryRunResponse>> {
    let caller = auth.require(READ)?;
    let input = parse_dry_run_input(body.input)?;
    Ok(Json(
        state
            .services
            .workflows
            .dry_run(caller, &id, body.version, input)
            .await?
            .into(),
    ))
}

/// The catalogue of verification policies.
#[utoipa::path(get, path = "/api/v1/verification-policies", tag = "workflows", security(("api_key" = [])), responses(
    (status = 200, body = PolicyList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_policies(
    State(state): State<AppState>,
    auth: Authenticated,
) -> ApiResult<Json<PolicyList>> {
    auth.require(READ)?;
    let data = state
        .services
        .workflows
        .catalog()
        .policies
        .values()
        .map(|p| PolicyObject {
            name: p.name.clone(),
            category: p.category.clone(),
            description: p.description.clone(),
            config_schema: p.config_schema.clone(),
            outputs: p.outputs.clone(),
            auto_injected: p.auto_injected,
            requires: p.requires.clone(),
        })
        .collect();
    Ok(Json(PolicyList { data }))
}

/// The policy nodes of the current version.
#[utoipa::path(get, path = "/api/v1/workflows/{workflow_id}/verification-policies", tag = "workflows", params(("workflow_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = WorkflowPolicies), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn workflow_policies(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<WorkflowPolicies>> {
    let caller = auth.require(READ)?;
    let version = state
        .services
        .workflows
        .get(caller, &id)
        .await?
        .workflow
        .version;
    let nodes = state.services.workflows.policy_nodes(caller, &id).await?;
    Ok(Json(WorkflowPolicies {
        workflow_id: id,
        version,
        data: nodes
            .into_iter()
            .map(|n| PolicyNodeObject {
                node_id: n.node_id,
                policy: n.policy,
                config: n.config,
            })
            .collect(),
    }))
}

/// Analytics of the workflow's runs.
#[utoipa::path(get, path = "/api/v1/workflows/{workflow_id}/analytics", tag = "workflows", params(("workflow_id" = String, Path), AnalyticsQuery), security(("api_key" = [])), responses(
    (status = 200, body = AnalyticsObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn workflow_analytics(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<AnalyticsQuery>,
) -> ApiResult<Json<AnalyticsObject>> {
    let caller = auth.require(READ)?;
    let version = match q.version.as_deref() {
        None => None,
        Some(v) => Some(v.parse::<i32>().map_err(|_| {
            ApiError::validation(vec![crate::error::FieldErrorBody {
                field: "version".into(),
                message: "must be an integer".into(),
            }])
        })?),
    };
    let filter = AnalyticsFilter {
        date_from: parse_time("date_from", &q.date_from, false)?,
        date_to: parse_time("date_to", &q.date_to, true)?,
        version,
    };
    Ok(Json(
        state
            .services
            .workflows
            .analytics(caller, &id, filter)
            .await?
            .into(),
    ))
}
