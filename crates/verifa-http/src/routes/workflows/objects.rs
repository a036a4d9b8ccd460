//! Response bodies of the Workflows group: workflows, versions, the policy catalogue.

use super::parse_stored;
use crate::routes::pagination::Pagination;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::ToSchema;
use verifa_app::workflows::WorkflowView;
use verifa_domain::workflow::{Format, VersionSource};
use verifa_ports::workflows::VersionRecord;

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
    #[schema(schema_with = crate::openapi::schemas::format)]
    pub format: Format,
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
    #[schema(schema_with = crate::openapi::schemas::format)]
    pub format: Format,
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
    #[schema(schema_with = crate::openapi::schemas::version_source)]
    pub source: VersionSource,
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
