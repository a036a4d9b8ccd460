//! Run statistics of a workflow.

use super::READ;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiQuery, Authenticated};
use crate::routes::query::parse_time;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use verifa_app::workflows::Analytics;
use verifa_ports::workflows::AnalyticsFilter;

/// Analytics filters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnalyticsQuery {
    /// Runs created at or after (RFC 3339 or YYYY-MM-DD).
    #[param(schema_with = crate::openapi::schemas::date_or_date_time)]
    pub date_from: Option<String>,
    /// Runs created before (RFC 3339, or YYYY-MM-DD inclusive).
    #[param(schema_with = crate::openapi::schemas::date_or_date_time)]
    pub date_to: Option<String>,
    /// Only this version.
    #[param(value_type = Option<i64>)]
    #[param(schema_with = crate::openapi::schemas::version_number)]
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
        Some(v) => Some(v.parse::<i32>().ok().filter(|v| *v >= 1).ok_or_else(|| {
            ApiError::validation(vec![crate::error::FieldErrorBody {
                field: "version".into(),
                message: "must be a version number (1, 2, …)".into(),
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
