//! Dry-runs of a stored version.

use super::READ;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Authenticated, OptionalJson};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use verifa_domain::workflow::{DryRunInput, DryRunReport};

/// Body of the dry-run endpoints.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"input": {"extracted_data": {"date_of_birth": "1990-01-01"}, "session": {"country": "US", "metadata": {}}, "check_results": {"age_verification": {"status": "passed", "output": {"age": 36}}}, "external_decisions": {"gate": "continue"}}}))]
pub struct DryRunRequest {
    /// Version to run (default: the current version). Ignored for drafts.
    #[schema(schema_with = crate::openapi::schemas::version_number_or_null)]
    pub version: Option<i64>,
    /// Inputs: extracted data, session facts, check results by policy or node id, gate decisions.
    #[serde(default)]
    #[schema(schema_with = crate::openapi::schemas::dry_run_input_or_null)]
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

impl DryRunRequest {
    /// The version asked for and the checked input (a draft has one version, but a bad
    /// `version` is refused there too rather than ignored).
    pub(crate) fn parse(self) -> Result<(Option<i64>, DryRunInput), ApiError> {
        if self
            .version
            .is_some_and(|v| !(1..=i64::from(i32::MAX)).contains(&v))
        {
            return Err(ApiError::validation(vec![crate::error::FieldErrorBody {
                field: "version".into(),
                message: "must be a version number (1, 2, …)".into(),
            }]));
        }
        Ok((self.version, parse_dry_run_input(self.input)?))
    }
}

fn parse_dry_run_input(input: Value) -> Result<DryRunInput, ApiError> {
    let input = if input.is_null() { json!({}) } else { input };
    let parsed = crate::extract::from_value::<DryRunInput>(input).map_err(|mut e| {
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
    })?;
    let problems = parsed.problems();
    if problems.is_empty() {
        Ok(parsed)
    } else {
        Err(ApiError::validation(
            problems
                .into_iter()
                .map(|(field, message)| crate::error::FieldErrorBody {
                    field: format!("input.{field}"),
                    message,
                })
                .collect(),
        ))
    }
}

/// Runs the current (or a given) version on supplied inputs. Writes nothing, sends nothing.
#[utoipa::path(post, path = "/api/v1/workflows/{workflow_id}/dry-run", tag = "workflows", params(("workflow_id" = String, Path)), request_body = Option<DryRunRequest>, security(("api_key" = [])), responses(
    (status = 200, body = DryRunResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn dry_run_workflow(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<DryRunRequest>,
) -> ApiResult<Json<DryRunResponse>> {
    let caller = auth.require(READ)?;
    let (version, input) = body.parse()?;
    Ok(Json(
        state
            .services
            .workflows
            .dry_run(caller, &id, version, input)
            .await?
            .into(),
    ))
}
