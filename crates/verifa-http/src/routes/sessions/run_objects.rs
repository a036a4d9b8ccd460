//! Response bodies of a session's workflow run and its verification attempts (CONTRACT §2.4).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use verifa_domain::run::WorkflowRun;
use verifa_domain::workflow::{CheckStatus, Outcome, RunStatus};
use verifa_ports::runs::NodeExecution;

/// A workflow run (CONTRACT §2.4).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RunObject {
    /// `wfr_…`.
    pub id: String,
    /// Session.
    pub session_id: String,
    /// Workflow.
    pub workflow_id: String,
    /// Version chosen by the rollout map.
    pub workflow_version: i32,
    /// `pending` | `running` | `paused` | `completed` | `failed`.
    #[schema(schema_with = crate::openapi::schemas::run_status)]
    pub status: RunStatus,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// `approved` | `rejected` | `needs_review` once completed.
    #[schema(schema_with = crate::openapi::schemas::outcome_or_null)]
    pub final_status: Option<Outcome>,
    /// The graph as it was when the run started.
    #[schema(value_type = Object)]
    pub graph_snapshot: Value,
    /// Gate the run waits at.
    pub paused_at_node: Option<String>,
    /// Current (or last) node.
    pub current_node: Option<String>,
    /// Results by node id.
    #[schema(value_type = Object)]
    pub node_results: Value,
    /// Nodes visited.
    pub path: Vec<String>,
    /// Gate decisions.
    #[schema(value_type = Vec<Object>)]
    pub external_decisions: Value,
    /// Start.
    pub started_at: Option<DateTime<Utc>>,
    /// End.
    pub completed_at: Option<DateTime<Utc>>,
    /// Duration.
    pub duration_ms: Option<i64>,
    /// Written by `simulate`.
    pub simulated: bool,
}

impl From<WorkflowRun> for RunObject {
    fn from(r: WorkflowRun) -> Self {
        let state = r.state;
        Self {
            id: r.id,
            session_id: r.session_id,
            workflow_id: r.workflow_id,
            workflow_version: r.workflow_version,
            status: state.status,
            created_at: r.created_at,
            final_status: state.final_status,
            graph_snapshot: r
                .graph
                .and_then(|g| serde_json::to_value(g).ok())
                .unwrap_or_else(|| json!({})),
            paused_at_node: state.paused_at_node,
            current_node: state.current_node,
            node_results: serde_json::to_value(&state.node_results).unwrap_or(Value::Null),
            path: state.path,
            external_decisions: serde_json::to_value(&state.external_decisions)
                .unwrap_or_else(|_| json!([])),
            started_at: state.started_at,
            completed_at: state.completed_at,
            duration_ms: state.duration_ms,
            simulated: r.simulated,
        }
    }
}

/// One verification attempt.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AttemptObject {
    /// Attempt id.
    pub id: String,
    /// Policy.
    pub policy: Option<String>,
    /// Node.
    pub node_id: String,
    /// Attempt number.
    pub attempt: i32,
    /// `passed` | `failed` | `error` | `skipped` | `requires_retry`.
    #[schema(schema_with = crate::openapi::schemas::check_status)]
    pub status: CheckStatus,
    /// Passed.
    pub passed: bool,
    /// Output.
    #[schema(value_type = Option<Object>)]
    pub output: Option<Value>,
    /// Error.
    pub error: Option<String>,
    /// Start.
    pub started_at: DateTime<Utc>,
    /// End.
    pub completed_at: DateTime<Utc>,
    /// Duration.
    pub duration_ms: i64,
    /// Run.
    pub workflow_run_id: String,
}

impl From<NodeExecution> for AttemptObject {
    fn from(e: NodeExecution) -> Self {
        let a = e.attempt;
        Self {
            passed: a.status == CheckStatus::Passed,
            id: e.id,
            policy: Some(a.policy).filter(|p| !p.is_empty()),
            node_id: a.node_id,
            attempt: i32::try_from(a.attempt).unwrap_or(i32::MAX),
            status: a.status,
            output: Some(a.output).filter(|o| !o.is_null()),
            error: a.error,
            started_at: a.started_at,
            completed_at: a.completed_at,
            duration_ms: i64::try_from(a.duration_ms).unwrap_or(i64::MAX),
            workflow_run_id: e.run_id,
        }
    }
}

/// Latest attempt per policy.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VerificationList {
    /// Attempts.
    pub data: Vec<AttemptObject>,
}

/// Every attempt of one policy.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AttemptList {
    /// Session.
    pub session_id: String,
    /// Policy.
    pub policy: String,
    /// Attempts, oldest first.
    pub attempts: Vec<AttemptObject>,
}
