//! Workflows and versions: list, create, read, update, set default, deactivate, clone,
//! versions, and the policy catalogue.

use super::objects::*;
use super::{READ, WRITE, present};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, Authenticated, OptionalJson};
use crate::routes::pagination::{PageQuery, Pagination};
use crate::routes::query::parse_bool;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use verifa_app::workflows::{DefinitionInput, NewWorkflow, WorkflowChanges};
use verifa_domain::pagination::DEFAULT_LIMIT;

/// Body of `POST /workflows`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "KYC", "format": "graph", "graph": {"entry": "start", "nodes": {"start": {"type": "start", "next": "age"}, "age": {"type": "policy", "policy": "age_verification", "config": {"minimum_age": 18}, "on_pass": "approve", "on_fail": "reject"}, "approve": {"type": "terminal", "outcome": "approved"}, "reject": {"type": "terminal", "outcome": "rejected"}}}, "is_default": true}))]
pub struct CreateWorkflowRequest {
    /// Name (required, ≤ 200).
    #[schema(schema_with = crate::openapi::schemas::workflow_name)]
    pub name: String,
    /// Description (≤ 2 000).
    #[schema(schema_with = crate::openapi::schemas::workflow_description_or_null)]
    pub description: Option<String>,
    /// `graph` or `steps` (inferred from which is present).
    #[schema(schema_with = crate::openapi::schemas::format_or_null)]
    pub format: Option<String>,
    /// Graph definition.
    #[schema(schema_with = crate::openapi::schemas::object_or_null)]
    pub graph: Option<Value>,
    /// Legacy steps.
    #[schema(schema_with = crate::openapi::schemas::steps_or_null)]
    pub steps: Option<Value>,
    /// Make it the default.
    #[serde(default)]
    pub is_default: bool,
    /// Data requirements.
    #[schema(schema_with = crate::openapi::schemas::object_or_null)]
    pub data_requirements: Option<Value>,
    /// Screening settings.
    #[schema(schema_with = crate::openapi::schemas::object_or_null)]
    pub screening_settings: Option<Value>,
    /// Builder layout.
    #[schema(schema_with = crate::openapi::schemas::object_or_null)]
    pub graph_layout: Option<Value>,
}

/// Body of `PATCH /workflows/{id}`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"graph": {"entry": "start", "nodes": {"start": {"type": "start", "next": "approve"}, "approve": {"type": "terminal", "outcome": "approved"}}}, "rollout_percentage": 25}))]
pub struct UpdateWorkflowRequest {
    /// Name.
    #[schema(schema_with = crate::openapi::schemas::workflow_name_or_null)]
    pub name: Option<String>,
    /// Description (`null` clears).
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = crate::openapi::schemas::workflow_description_or_null)]
    pub description: Option<Option<String>>,
    /// Format of the new definition.
    #[schema(schema_with = crate::openapi::schemas::format_or_null)]
    pub format: Option<String>,
    /// New graph → new version.
    #[schema(schema_with = crate::openapi::schemas::object_or_null)]
    pub graph: Option<Value>,
    /// New steps → new version.
    #[schema(schema_with = crate::openapi::schemas::steps_or_null)]
    pub steps: Option<Value>,
    /// New data requirements → new version.
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = crate::openapi::schemas::object_or_null)]
    pub data_requirements: Option<Option<Value>>,
    /// Screening settings.
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = crate::openapi::schemas::object_or_null)]
    pub screening_settings: Option<Option<Value>>,
    /// Layout.
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = crate::openapi::schemas::object_or_null)]
    pub graph_layout: Option<Option<Value>>,
    /// Share of the new version (0–100, default 100); earlier versions share the rest pro rata.
    #[schema(schema_with = crate::openapi::schemas::percentage_or_null)]
    pub rollout_percentage: Option<i64>,
}

/// `is_active` filter.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkflowListQuery {
    /// Only active (`true`) or inactive (`false`) workflows.
    #[param(schema_with = crate::openapi::schemas::query_bool)]
    pub is_active: Option<String>,
    /// Page size.
    #[param(value_type = Option<i64>)]
    pub limit: Option<String>,
    /// Offset.
    #[param(value_type = Option<i64>)]
    pub offset: Option<String>,
}

/// Body of `POST /workflows/{id}/clone`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloneWorkflowRequest {
    /// Name of the clone (default "<name> (copy)").
    #[schema(schema_with = crate::openapi::schemas::workflow_name_or_null)]
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
#[utoipa::path(post, path = "/api/v1/workflows/{workflow_id}/clone", tag = "workflows", params(("workflow_id" = String, Path)), request_body = Option<CloneWorkflowRequest>, security(("api_key" = [])), responses(
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
