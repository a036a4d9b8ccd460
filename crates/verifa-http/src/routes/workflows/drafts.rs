//! Workflow drafts (CONTRACT §2.3 #12–#16): create, list, get, edit, discard, diff, dry-run,
//! publish.

use super::dry_run::{DryRunRequest, DryRunResponse};
use super::{READ, WRITE, WorkflowObject, present};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, Authenticated, OptionalJson};
use crate::routes::pagination::Pagination;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use verifa_app::workflows::{DefinitionInput, DraftInput, DraftView};
use verifa_domain::pagination::DEFAULT_LIMIT;
use verifa_domain::workflow::{DraftStatus, Format, GraphDiff};

/// One validation problem.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DraftProblem {
    /// Field path.
    pub field: String,
    /// Message.
    pub message: String,
}

/// Validation state of a draft.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DraftValidation {
    /// Publishable as is.
    pub valid: bool,
    /// Problems that block publishing.
    pub errors: Vec<DraftProblem>,
    /// Non-fatal findings.
    pub warnings: Vec<DraftProblem>,
}

/// A draft.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DraftObject {
    /// `wfd_…`.
    pub id: String,
    /// Workflow.
    pub workflow_id: String,
    /// Version the draft started from.
    pub base_version: i32,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// `graph` or `steps`.
    #[schema(schema_with = crate::openapi::schemas::format)]
    pub format: Format,
    /// Graph as edited.
    #[schema(value_type = Option<Object>)]
    pub graph: Option<Value>,
    /// Steps as edited.
    #[schema(value_type = Option<Vec<Object>>)]
    pub steps: Option<Value>,
    /// Data requirements.
    #[schema(value_type = Option<Object>)]
    pub data_requirements: Option<Value>,
    /// Layout.
    #[schema(value_type = Option<Object>)]
    pub graph_layout: Option<Value>,
    /// `open` | `published` | `discarded`.
    #[schema(schema_with = crate::openapi::schemas::draft_status)]
    pub status: DraftStatus,
    /// Validation of the current contents.
    pub validation: DraftValidation,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Version created by publishing.
    pub published_version: Option<i32>,
}

impl From<DraftView> for DraftObject {
    fn from(v: DraftView) -> Self {
        let d = v.draft;
        Self {
            id: d.id,
            workflow_id: d.workflow_id,
            base_version: d.base_version,
            name: d.name,
            description: d.description,
            format: d.format,
            graph: d.graph,
            steps: d.steps,
            data_requirements: d.data_requirements,
            graph_layout: d.graph_layout,
            status: d.status,
            validation: DraftValidation {
                valid: v.errors.is_empty(),
                errors: v
                    .errors
                    .into_iter()
                    .map(|e| DraftProblem {
                        field: e.field,
                        message: e.message,
                    })
                    .collect(),
                warnings: v
                    .warnings
                    .into_iter()
                    .map(|e| DraftProblem {
                        field: e.field,
                        message: e.message,
                    })
                    .collect(),
            },
            created_at: d.created_at,
            updated_at: d.updated_at,
            published_version: d.published_version,
        }
    }
}

/// A page of drafts.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DraftList {
    /// Drafts.
    pub data: Vec<DraftObject>,
    /// Counts.
    pub pagination: Pagination,
}

/// Body of draft create and edit: any field overrides the draft's contents.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"graph": {"entry": "start", "nodes": {"start": {"type": "start", "next": "age"}, "age": {"type": "policy", "policy": "age_verification", "config": {"minimum_age": 21}, "on_pass": "approve", "on_fail": "reject"}, "approve": {"type": "terminal", "outcome": "approved"}, "reject": {"type": "terminal", "outcome": "rejected"}}}}))]
pub struct DraftRequest {
    /// Name.
    #[schema(schema_with = crate::openapi::schemas::workflow_name_or_null)]
    pub name: Option<String>,
    /// Description.
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = crate::openapi::schemas::workflow_description_or_null)]
    pub description: Option<Option<String>>,
    /// Format.
    #[schema(schema_with = crate::openapi::schemas::format_or_null)]
    pub format: Option<String>,
    /// Graph.
    #[schema(schema_with = crate::openapi::schemas::object_or_null)]
    pub graph: Option<Value>,
    /// Steps.
    #[schema(schema_with = crate::openapi::schemas::draft_steps_or_null)]
    pub steps: Option<Value>,
    /// Data requirements.
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = crate::openapi::schemas::object_or_null)]
    pub data_requirements: Option<Option<Value>>,
    /// Layout.
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = crate::openapi::schemas::object_or_null)]
    pub graph_layout: Option<Option<Value>>,
}

impl From<DraftRequest> for DraftInput {
    fn from(r: DraftRequest) -> Self {
        DraftInput {
            name: r.name,
            description: r.description,
            definition: DefinitionInput {
                format: r.format,
                graph: r.graph,
                steps: r.steps,
            },
            data_requirements: r.data_requirements,
            graph_layout: r.graph_layout,
        }
    }
}

/// Draft list filters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DraftListQuery {
    /// `open`, `published` or `discarded`.
    #[param(schema_with = crate::openapi::schemas::draft_status)]
    pub status: Option<String>,
    /// Page size.
    #[param(value_type = Option<i64>)]
    pub limit: Option<String>,
    /// Offset.
    #[param(value_type = Option<i64>)]
    pub offset: Option<String>,
}

/// Body of publish.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"rollout_percentage": 25}))]
pub struct PublishRequest {
    /// Share of the new version (0–100, default 100).
    #[schema(schema_with = crate::openapi::schemas::percentage_or_null)]
    pub rollout_percentage: Option<i64>,
}

/// Publish result.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PublishResponse {
    /// The workflow after publishing.
    pub workflow: WorkflowObject,
    /// The published draft.
    pub draft: DraftObject,
}

/// Diff of a draft against the current version.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DiffObject {
    /// Nodes only in the draft.
    pub added_nodes: Vec<String>,
    /// Nodes only in the current version.
    pub removed_nodes: Vec<String>,
    /// Nodes in both that differ: `[{id, fields}]`.
    #[schema(value_type = Vec<Object>)]
    pub changed_nodes: Value,
    /// Counts.
    #[schema(value_type = Object)]
    pub counts: Value,
    /// `structural` | `patch` | `none`.
    pub classification: String,
    /// Suggested rollout percentage for publishing.
    pub suggested_rollout_percentage: u8,
}

impl From<GraphDiff> for DiffObject {
    fn from(d: GraphDiff) -> Self {
        let v = serde_json::to_value(&d).unwrap_or(Value::Null);
        Self {
            added_nodes: d.added_nodes,
            removed_nodes: d.removed_nodes,
            changed_nodes: v["changed_nodes"].clone(),
            counts: v["counts"].clone(),
            classification: v["classification"].as_str().unwrap_or("none").to_owned(),
            suggested_rollout_percentage: d.suggested_rollout_percentage,
        }
    }
}

type DraftPath = Path<(String, String)>;

/// Lists drafts of a workflow.
#[utoipa::path(get, path = "/api/v1/workflows/{workflow_id}/drafts", tag = "workflows", params(("workflow_id" = String, Path), DraftListQuery), security(("api_key" = [])), responses(
    (status = 200, body = DraftList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_drafts(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<DraftListQuery>,
) -> ApiResult<Json<DraftList>> {
    let caller = auth.require(READ)?;
    let page = crate::routes::pagination::PageQuery {
        limit: q.limit,
        offset: q.offset,
    }
    .page(DEFAULT_LIMIT)?;
    let page = state
        .services
        .workflows
        .drafts(caller, &id, q.status, page)
        .await?;
    let pagination = Pagination::from(&page);
    Ok(Json(DraftList {
        data: page.items.into_iter().map(Into::into).collect(),
        pagination,
    }))
}

/// Creates a draft from the current version, overlaid with the body.
#[utoipa::path(post, path = "/api/v1/workflows/{workflow_id}/drafts", tag = "workflows", params(("workflow_id" = String, Path)), request_body = Option<DraftRequest>, security(("api_key" = [])), responses(
    (status = 201, body = DraftObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_draft(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<DraftRequest>,
) -> ApiResult<(StatusCode, Json<DraftObject>)> {
    let caller = auth.require(WRITE)?;
    let view = state
        .services
        .workflows
        .create_draft(caller, &id, body.into())
        .await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

/// Gets a draft.
#[utoipa::path(get, path = "/api/v1/workflows/{workflow_id}/drafts/{draft_id}", tag = "workflows", params(("workflow_id" = String, Path), ("draft_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = DraftObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_draft(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((id, draft_id)): DraftPath,
) -> ApiResult<Json<DraftObject>> {
    let caller = auth.require(READ)?;
    Ok(Json(
        state
            .services
            .workflows
            .draft(caller, &id, &draft_id)
            .await?
            .into(),
    ))
}

/// Edits an open draft.
#[utoipa::path(patch, path = "/api/v1/workflows/{workflow_id}/drafts/{draft_id}", tag = "workflows", params(("workflow_id" = String, Path), ("draft_id" = String, Path)), request_body = DraftRequest, security(("api_key" = [])), responses(
    (status = 200, body = DraftObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn edit_draft(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((id, draft_id)): DraftPath,
    ApiJson(body): ApiJson<DraftRequest>,
) -> ApiResult<Json<DraftObject>> {
    let caller = auth.require(WRITE)?;
    Ok(Json(
        state
            .services
            .workflows
            .edit_draft(caller, &id, &draft_id, body.into())
            .await?
            .into(),
    ))
}

/// Discards an open draft.
#[utoipa::path(delete, path = "/api/v1/workflows/{workflow_id}/drafts/{draft_id}", tag = "workflows", params(("workflow_id" = String, Path), ("draft_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = DraftObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn discard_draft(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((id, draft_id)): DraftPath,
) -> ApiResult<Json<DraftObject>> {
    let caller = auth.require(WRITE)?;
    Ok(Json(
        state
            .services
            .workflows
            .discard_draft(caller, &id, &draft_id)
            .await?
            .into(),
    ))
}

/// Diff of a draft against the current version.
#[utoipa::path(get, path = "/api/v1/workflows/{workflow_id}/drafts/{draft_id}/diff", tag = "workflows", params(("workflow_id" = String, Path), ("draft_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = DiffObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn diff_draft(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((id, draft_id)): DraftPath,
) -> ApiResult<Json<DiffObject>> {
    let caller = auth.require(READ)?;
    Ok(Json(
        state
            .services
            .workflows
            .diff_draft(caller, &id, &draft_id)
            .await?
            .into(),
    ))
}

/// Dry-run of a draft.
#[utoipa::path(post, path = "/api/v1/workflows/{workflow_id}/drafts/{draft_id}/dry-run", tag = "workflows", params(("workflow_id" = String, Path), ("draft_id" = String, Path)), request_body = Option<DryRunRequest>, security(("api_key" = [])), responses(
    (status = 200, body = DryRunResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn dry_run_draft(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((id, draft_id)): DraftPath,
    OptionalJson(body): OptionalJson<DryRunRequest>,
) -> ApiResult<Json<DryRunResponse>> {
    let caller = auth.require(READ)?;
    let (_, input) = body.parse()?;
    Ok(Json(
        state
            .services
            .workflows
            .dry_run_draft(caller, &id, &draft_id, input)
            .await?
            .into(),
    ))
}

/// Publishes a draft as a new immutable version.
#[utoipa::path(post, path = "/api/v1/workflows/{workflow_id}/drafts/{draft_id}/publish", tag = "workflows", params(("workflow_id" = String, Path), ("draft_id" = String, Path)), request_body = Option<PublishRequest>, security(("api_key" = [])), responses(
    (status = 200, body = PublishResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn publish_draft(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((id, draft_id)): DraftPath,
    OptionalJson(body): OptionalJson<PublishRequest>,
) -> ApiResult<Json<PublishResponse>> {
    let caller = auth.require(WRITE)?;
    let (workflow, draft) = state
        .services
        .workflows
        .publish_draft(caller, &id, &draft_id, body.rollout_percentage)
        .await?;
    Ok(Json(PublishResponse {
        workflow: workflow.into(),
        draft: draft.into(),
    }))
}
