//! Workflow use cases (CONTRACT §2.2–§2.3), mirrored by the HTTP routes:
//!
//! - [`definitions`]: create, read, update (a new immutable version), defaults, deactivation,
//!   cloning, versions, the policy nodes of the live version.
//! - [`drafts`]: edit, validate, diff, dry-run and publish drafts.
//! - [`rollout`]: the rollout map.
//! - [`dry_run`]: run a version against supplied inputs, writing nothing.
//! - [`analytics`]: run statistics of a workflow.
//!
//! This module holds the service and what the rooms share: compiling a definition (parse,
//! normalise, auto-inject, validate) and publishing a compiled one as a new version.

mod analytics;
mod definitions;
mod drafts;
mod dry_run;
mod rollout;

pub use analytics::{Analytics, NodeAnalytics, percentile};
pub use definitions::{NewWorkflow, PolicyNodeView, WorkflowChanges};
pub use drafts::{DraftInput, DraftView};

use crate::api_keys::Caller;
use crate::error::{AppError, FieldError};
use crate::ids::{new_id, prefix};
use crate::retry::{Attempt, written};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use std::sync::Arc;
use verifa_domain::tenancy::Tenant;
use verifa_domain::workflow::{
    self, Definition, DryRunInput, DryRunReport, Format, Graph, Issue, Parsed, PolicyCatalog,
    SandboxChecks, Validation, VersionSource,
};
use verifa_ports::RepoError;
use verifa_ports::clock::Clock;
use verifa_ports::workflows::{
    DraftStore, Publication, VersionRecord, WorkflowAnalytics, WorkflowRecord, WorkflowStore,
};

/// Longest workflow name.
pub const MAX_NAME_LEN: usize = 200;
/// Longest description.
pub const MAX_DESCRIPTION_LEN: usize = 2_000;
/// Largest free-form object (settings, layout, data requirements) once serialised.
pub const MAX_OBJECT_BYTES: usize = 64 * 1024;

/// The sandbox provider's check results, for dry-runs and simulated sessions.
pub type Simulator = Arc<dyn SandboxChecks + Send + Sync>;

/// A workflow with its live definition.
#[derive(Debug, Clone)]
pub struct WorkflowView {
    /// The head.
    pub workflow: WorkflowRecord,
    /// The newest version.
    pub live: VersionRecord,
}

/// The definition part of a request: graph or legacy steps.
#[derive(Debug, Clone, Default)]
pub struct DefinitionInput {
    /// `graph` or `steps` (inferred when absent; any other value is reported by the parser).
    pub format: Option<String>,
    /// Graph JSON.
    pub graph: Option<Value>,
    /// Steps JSON.
    pub steps: Option<Value>,
}

impl DefinitionInput {
    fn is_empty(&self) -> bool {
        self.format.is_none() && self.graph.is_none() && self.steps.is_none()
    }
}

/// A compiled definition, ready to store.
pub(super) struct Compiled {
    pub(super) format: Format,
    pub(super) graph: Graph,
    pub(super) steps_json: Option<String>,
}

pub(super) fn issues_to_fields(prefix: &str, issues: Vec<Issue>) -> Vec<FieldError> {
    issues
        .into_iter()
        .map(|i| {
            let field = match (prefix.is_empty(), i.field.is_empty()) {
                (true, _) => i.field,
                (false, true) => prefix.to_owned(),
                (false, false) => format!("{prefix}.{}", i.field),
            };
            FieldError::new(field, i.message)
        })
        .collect()
}

pub(super) fn check_object(field: &str, value: &Option<Value>, errors: &mut Vec<FieldError>) {
    if let Some(v) = value {
        if !v.is_object() {
            errors.push(FieldError::new(field, "must be an object"));
        } else if serde_json::to_vec(v).map(|b| b.len()).unwrap_or(0) > MAX_OBJECT_BYTES {
            errors.push(FieldError::new(
                field,
                format!("must be at most {MAX_OBJECT_BYTES} bytes"),
            ));
        }
    }
}

/// What every definition is, valid or not: an object `graph` and an array of step objects
/// (`steps` is checked even when the graph wins, so nothing sent is silently dropped).
pub(super) fn shape_errors(input: &DefinitionInput) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Some(g) = input.graph.as_ref().filter(|g| !g.is_object()) {
        errors.push(FieldError::new(
            "graph",
            format!("must be an object, not {}", json_kind(g)),
        ));
    }
    match &input.steps {
        Some(Value::Array(steps)) if steps.is_empty() => {
            errors.push(FieldError::new("steps", "must list at least one step"));
        }
        Some(Value::Array(steps)) => {
            for (i, s) in steps.iter().enumerate().filter(|(_, s)| !s.is_object()) {
                errors.push(FieldError::new(
                    format!("steps[{i}]"),
                    format!("must be a step object, not {}", json_kind(s)),
                ));
            }
        }
        Some(other) => errors.push(FieldError::new(
            "steps",
            format!("must be an array, not {}", json_kind(other)),
        )),
        None => {}
    }
    errors
}

/// The JSON type of a value, for messages.
pub(super) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(super) fn check_name(name: &str, errors: &mut Vec<FieldError>) {
    if name.trim().is_empty() {
        errors.push(FieldError::new("name", "must not be blank"));
    } else if name.chars().count() > MAX_NAME_LEN {
        errors.push(FieldError::new(
            "name",
            format!("must be at most {MAX_NAME_LEN} characters"),
        ));
    }
}

pub(super) fn check_description(d: &Option<String>, errors: &mut Vec<FieldError>) {
    if d.as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_LEN)
    {
        errors.push(FieldError::new(
            "description",
            format!("must be at most {MAX_DESCRIPTION_LEN} characters"),
        ));
    }
}

pub(super) fn to_json_text(v: &Option<Value>) -> Option<String> {
    v.as_ref().map(|v| v.to_string())
}

pub(super) fn parse_text(what: &str, text: &str) -> Result<Value, AppError> {
    serde_json::from_str(text)
        .map_err(|e| AppError::Internal(format!("stored {what} is not JSON: {e}")))
}

/// The workflow use cases.
pub struct WorkflowService {
    repo: Arc<dyn WorkflowStore>,
    drafts: Arc<dyn DraftStore>,
    analytics: Arc<dyn WorkflowAnalytics>,
    clock: Arc<dyn Clock>,
    catalog: Arc<PolicyCatalog>,
    simulator: Simulator,
}

impl WorkflowService {
    /// Builds the service over a store, the policy catalogue and the dry-run simulator.
    pub fn new(ports: &crate::Ports, catalog: Arc<PolicyCatalog>, simulator: Simulator) -> Self {
        Self {
            repo: ports.workflows.clone(),
            drafts: ports.workflow_drafts.clone(),
            analytics: ports.workflow_analytics.clone(),
            clock: ports.clock.clone(),
            catalog,
            simulator,
        }
    }

    /// The policy catalogue.
    pub fn catalog(&self) -> &PolicyCatalog {
        &self.catalog
    }

    /// Parses, normalises, auto-injects and validates a definition. `prefix` is empty (paths are
    /// already `graph.…` / `steps[…]`).
    pub(super) fn compile(&self, input: &DefinitionInput) -> Result<Compiled, Vec<FieldError>> {
        let shape = shape_errors(input);
        if !shape.is_empty() {
            return Err(shape);
        }
        let definition = self
            .parse(input)
            .map_err(|v| issues_to_fields("", v.issues))?;
        // Validate what the user wrote first, so every problem names their own fields; then the
        // graph with the injected checks (which must stay valid).
        let authored = workflow::validate(&definition.graph, &self.catalog);
        if !authored.issues.is_empty() {
            return Err(issues_to_fields("", authored.issues));
        }
        let graph = workflow::inject_auto_checks(&definition.graph);
        let validation = workflow::validate(&graph, &self.catalog);
        if !validation.issues.is_empty() {
            return Err(issues_to_fields("", validation.issues));
        }
        let steps_json = match (&definition.format, &input.steps) {
            (Format::Steps, Some(s)) => Some(s.to_string()),
            _ => None,
        };
        Ok(Compiled {
            format: definition.format,
            graph,
            steps_json,
        })
    }

    /// Validates a definition without storing it (drafts keep invalid content).
    pub(super) fn assess(&self, input: &DefinitionInput) -> (Vec<FieldError>, Vec<FieldError>) {
        let v = match self.parse(input) {
            Err(v) => v,
            Ok(def) => {
                let authored = workflow::validate(&def.graph, &self.catalog);
                if authored.issues.is_empty() {
                    workflow::validate(&workflow::inject_auto_checks(&def.graph), &self.catalog)
                } else {
                    authored
                }
            }
        };
        (
            issues_to_fields("", v.issues),
            issues_to_fields("", v.warnings),
        )
    }

    /// Parses a definition; when it does not parse, every problem at once: the parser's, and
    /// the validation of what did parse (references, policies, reachability…).
    fn parse(&self, input: &DefinitionInput) -> Result<Definition, Validation> {
        let mut root = Map::new();
        if let Some(f) = &input.format {
            root.insert("format".into(), Value::String(f.clone()));
        }
        if let Some(g) = &input.graph {
            root.insert("graph".into(), g.clone());
        }
        if let Some(s) = &input.steps {
            root.insert("steps".into(), s.clone());
        }
        // Steps sent beside a graph (a read definition sent back) are not used, but they must
        // still be steps: nothing sent is silently dropped.
        let unused_steps = match (&input.steps, input.format.as_deref()) {
            (Some(s), Some("graph") | None) if input.graph.is_some() => {
                match workflow::parse(&serde_json::json!({"format": "steps", "steps": s})) {
                    Parsed::Incomplete { issues, .. } => issues,
                    Parsed::Complete(_) => Vec::new(),
                }
            }
            _ => Vec::new(),
        };
        match workflow::parse(&Value::Object(root)) {
            Parsed::Complete(definition) if unused_steps.is_empty() => Ok(definition),
            Parsed::Complete(_) => Err(Validation {
                issues: unused_steps,
                warnings: Vec::new(),
            }),
            Parsed::Incomplete { issues, partial } => {
                let rest = partial
                    .map(|p| workflow::validate_partial(&p, &self.catalog))
                    .unwrap_or_default();
                Err(Validation {
                    issues: issues
                        .into_iter()
                        .chain(rest.issues)
                        .chain(unused_steps)
                        .collect(),
                    warnings: rest.warnings,
                })
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn version_record(
        &self,
        caller: &Caller,
        workflow_id: &str,
        number: i32,
        compiled: &Compiled,
        data_requirements: &Option<Value>,
        source: VersionSource,
        draft_id: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<VersionRecord, AppError> {
        let graph_value =
            serde_json::to_value(&compiled.graph).map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(VersionRecord {
            id: new_id(prefix::VERSION),
            workflow_id: workflow_id.to_owned(),
            tenant: caller.tenant(),
            version: number,
            format: compiled.format,
            graph_json: graph_value.to_string(),
            steps_json: compiled.steps_json.clone(),
            data_requirements_json: to_json_text(data_requirements),
            source,
            draft_id,
            created_by: caller.key.id.clone(),
            content_hash: compiled.graph.content_hash(),
            created_at: now,
        })
    }

    pub(super) async fn view(
        &self,
        tenant: &Tenant,
        workflow: WorkflowRecord,
    ) -> Result<WorkflowView, AppError> {
        let live = self
            .repo
            .version(tenant, &workflow.id, workflow.version)
            .await
            .map_err(AppError::from_repo("workflow version"))?;
        Ok(WorkflowView { workflow, live })
    }

    pub(super) async fn head(&self, caller: &Caller, id: &str) -> Result<WorkflowRecord, AppError> {
        self.repo
            .get(&caller.tenant(), id)
            .await
            .map_err(AppError::from_repo("workflow"))
    }

    /// The graph of a version (live when `None`).
    pub(super) async fn graph_of(
        &self,
        caller: &Caller,
        id: &str,
        version: Option<i64>,
    ) -> Result<Graph, AppError> {
        let w = self.head(caller, id).await?;
        let number = match version {
            None => w.version,
            Some(v) => i32::try_from(v)
                .map_err(|_| AppError::invalid("version", "is not a version of this workflow"))?,
        };
        let record = self
            .repo
            .version(&caller.tenant(), id, number)
            .await
            .map_err(|e| match e {
                RepoError::NotFound => {
                    AppError::invalid("version", format!("version {number} does not exist"))
                }
                other => other.into(),
            })?;
        serde_json::from_str(&record.graph_json)
            .map_err(|e| AppError::Internal(format!("stored graph: {e}")))
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn publish_compiled(
        &self,
        caller: &Caller,
        mut w: WorkflowRecord,
        compiled: &Compiled,
        data: &Option<Value>,
        percentage: u8,
        source: VersionSource,
        draft_id: Option<String>,
    ) -> Result<Attempt<WorkflowView>, AppError> {
        let now = self.clock.now();
        let expected = w.version;
        let number = expected + 1;
        let version = self.version_record(
            caller,
            &w.id,
            number,
            compiled,
            data,
            source,
            draft_id.clone(),
            now,
        )?;
        w.rollout = workflow::with_new_version(&w.rollout, number, percentage);
        w.rollout_updated_at = now;
        w.version = number;
        w.format = compiled.format;
        w.updated_at = now;
        let audit = match &draft_id {
            Some(draft) => caller
                .audit("workflow_draft.published", "workflow_draft", draft, now)
                .with_changes(["status", "published_version"])
                .with_metadata("workflow_id", w.id.as_str()),
            None => caller
                .audit("workflow.updated", "workflow", &w.id, now)
                .with_changes(["version", "rollout"]),
        }
        .with_metadata("version", number);
        let publication = Publication {
            version: version.clone(),
            workflow: w.clone(),
            draft_id,
        };
        let outcome = self.repo.publish(expected, &publication, &[audit]).await;
        written(
            outcome,
            WorkflowView {
                workflow: w,
                live: version,
            },
        )
    }

    pub(super) fn simulate(
        &self,
        graph: &Graph,
        input: &DryRunInput,
    ) -> Result<DryRunReport, AppError> {
        let fallback = |policy: &str, config: &Value| self.simulator.passing(policy, config);
        workflow::dry_run(graph, input, &fallback, self.clock.now())
            .map_err(|e| AppError::invalid("graph", e.to_string()))
    }
}
