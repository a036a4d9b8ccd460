//! Workflow use cases (CONTRACT §2.2–§2.3): create, update (new immutable versions), defaults,
//! deactivation, cloning, versions, drafts (edit, diff, dry-run, publish), rollout maps,
//! dry-runs, the policy catalogue and analytics.

use crate::api_keys::Caller;
use crate::error::{AppError, FieldError};
use crate::ids::{new_id, prefix};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::tenancy::Tenant;
use verifa_domain::workflow::{
    self, DryRunInput, DryRunReport, Format, Graph, GraphDiff, Issue, Node, PolicyCatalog,
    RolloutEntry, SimulatedCheck,
};
use verifa_ports::RepoError;
use verifa_ports::clock::Clock;
use verifa_ports::workflows::{
    AnalyticsFilter, DraftRecord, Publication, VersionRecord, WorkflowRecord, WorkflowRepository,
};

/// Longest workflow name.
pub const MAX_NAME_LEN: usize = 200;
/// Longest description.
pub const MAX_DESCRIPTION_LEN: usize = 2_000;
/// Largest free-form object (settings, layout, data requirements) once serialised.
pub const MAX_OBJECT_BYTES: usize = 64 * 1024;

/// Simulates a check for dry-runs (the sandbox provider's values).
pub type Simulator = Arc<dyn Fn(&str, &Value) -> SimulatedCheck + Send + Sync>;

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
    /// `graph` or `steps` (inferred when absent).
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

/// `POST /workflows`.
#[derive(Debug, Clone, Default)]
pub struct NewWorkflow {
    /// Name (required).
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Definition.
    pub definition: DefinitionInput,
    /// Make it the default.
    pub is_default: bool,
    /// Data requirements.
    pub data_requirements: Option<Value>,
    /// Screening settings.
    pub screening_settings: Option<Value>,
    /// Builder layout.
    pub graph_layout: Option<Value>,
}

/// `PATCH /workflows/{id}`: outer `None` = unchanged.
#[derive(Debug, Clone, Default)]
pub struct WorkflowChanges {
    /// Name.
    pub name: Option<String>,
    /// Description (`Some(None)` clears).
    pub description: Option<Option<String>>,
    /// New definition → new version.
    pub definition: DefinitionInput,
    /// New data requirements → new version.
    pub data_requirements: Option<Option<Value>>,
    /// Screening settings.
    pub screening_settings: Option<Option<Value>>,
    /// Builder layout.
    pub graph_layout: Option<Option<Value>>,
    /// Share of the new version (default 100).
    pub rollout_percentage: Option<i64>,
}

/// Draft contents (create or edit).
#[derive(Debug, Clone, Default)]
pub struct DraftInput {
    /// Name.
    pub name: Option<String>,
    /// Description.
    pub description: Option<Option<String>>,
    /// Definition.
    pub definition: DefinitionInput,
    /// Data requirements.
    pub data_requirements: Option<Option<Value>>,
    /// Layout.
    pub graph_layout: Option<Option<Value>>,
}

/// A draft and its current validation.
#[derive(Debug, Clone)]
pub struct DraftView {
    /// The draft.
    pub draft: DraftRecord,
    /// Problems that block publishing.
    pub errors: Vec<FieldError>,
    /// Non-fatal findings.
    pub warnings: Vec<FieldError>,
}

/// A policy node of the live version.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyNodeView {
    /// Node id.
    pub node_id: String,
    /// Policy.
    pub policy: String,
    /// Config.
    pub config: Value,
}

/// Computed analytics.
#[derive(Debug, Clone, PartialEq)]
pub struct Analytics {
    /// Workflow.
    pub workflow_id: String,
    /// Runs considered.
    pub total_runs: u64,
    /// Count per final status.
    pub outcomes: BTreeMap<String, u64>,
    /// Count per run status.
    pub statuses: BTreeMap<String, u64>,
    /// Paused runs.
    pub paused: u64,
    /// Count per version.
    pub by_version: BTreeMap<String, u64>,
    /// Median completed-run duration.
    pub median_duration_ms: Option<i64>,
    /// 95th percentile completed-run duration.
    pub p95_duration_ms: Option<i64>,
    /// Per node statistics.
    pub nodes: BTreeMap<String, NodeAnalytics>,
}

/// Per node analytics.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeAnalytics {
    /// Policy.
    pub policy: Option<String>,
    /// Attempts.
    pub executions: u64,
    /// Passed.
    pub passed: u64,
    /// Failed.
    pub failed: u64,
    /// Errors.
    pub errors: u64,
    /// Retries.
    pub retries: u64,
    /// Median attempt duration.
    pub p50_ms: Option<i64>,
    /// 95th percentile attempt duration.
    pub p95_ms: Option<i64>,
}

/// A compiled definition, ready to store.
struct Compiled {
    format: Format,
    graph: Graph,
    steps_json: Option<String>,
}

/// The nearest-rank percentile of ascending values.
pub fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

fn issues_to_fields(prefix: &str, issues: Vec<Issue>) -> Vec<FieldError> {
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

fn check_object(field: &str, value: &Option<Value>, errors: &mut Vec<FieldError>) {
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

fn check_name(name: &str, errors: &mut Vec<FieldError>) {
    if name.trim().is_empty() {
        errors.push(FieldError::new("name", "must not be blank"));
    } else if name.chars().count() > MAX_NAME_LEN {
        errors.push(FieldError::new(
            "name",
            format!("must be at most {MAX_NAME_LEN} characters"),
        ));
    }
}

fn check_description(d: &Option<String>, errors: &mut Vec<FieldError>) {
    if d.as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_LEN)
    {
        errors.push(FieldError::new(
            "description",
            format!("must be at most {MAX_DESCRIPTION_LEN} characters"),
        ));
    }
}

fn to_json_text(v: &Option<Value>) -> Option<String> {
    v.as_ref().map(|v| v.to_string())
}

fn parse_text(what: &str, text: &str) -> Result<Value, AppError> {
    serde_json::from_str(text)
        .map_err(|e| AppError::Internal(format!("stored {what} is not JSON: {e}")))
}

/// The workflow use cases.
pub struct WorkflowService {
    repo: Arc<dyn WorkflowRepository>,
    clock: Arc<dyn Clock>,
    catalog: Arc<PolicyCatalog>,
    simulator: Simulator,
}

impl WorkflowService {
    /// Builds the service over a store, the policy catalogue and the dry-run simulator.
    pub fn new(
        repo: Arc<dyn WorkflowRepository>,
        clock: Arc<dyn Clock>,
        catalog: Arc<PolicyCatalog>,
        simulator: Simulator,
    ) -> Self {
        Self {
            repo,
            clock,
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
    fn compile(&self, input: &DefinitionInput) -> Result<Compiled, Vec<FieldError>> {
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
        let definition = workflow::parse_definition(&Value::Object(root))
            .map_err(|issues| issues_to_fields("", issues))?;
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
    fn assess(&self, input: &DefinitionInput) -> (Vec<FieldError>, Vec<FieldError>) {
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
        match workflow::parse_definition(&Value::Object(root)) {
            Err(issues) => (issues_to_fields("", issues), Vec::new()),
            Ok(def) => {
                let authored = workflow::validate(&def.graph, &self.catalog);
                let v = if authored.issues.is_empty() {
                    workflow::validate(&workflow::inject_auto_checks(&def.graph), &self.catalog)
                } else {
                    authored
                };
                (
                    issues_to_fields("", v.issues),
                    issues_to_fields("", v.warnings),
                )
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn version_record(
        &self,
        caller: &Caller,
        workflow_id: &str,
        number: i32,
        compiled: &Compiled,
        data_requirements: &Option<Value>,
        source: &str,
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
            format: format_name(compiled.format).into(),
            graph_json: graph_value.to_string(),
            steps_json: compiled.steps_json.clone(),
            data_requirements_json: to_json_text(data_requirements),
            source: source.into(),
            draft_id,
            created_by: caller.key.id.clone(),
            content_hash: compiled.graph.content_hash(),
            created_at: now,
        })
    }

    async fn view(
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

    async fn head(&self, caller: &Caller, id: &str) -> Result<WorkflowRecord, AppError> {
        self.repo
            .get(&caller.tenant(), id)
            .await
            .map_err(AppError::from_repo("workflow"))
    }

    /// Lists workflows.
    pub async fn list(
        &self,
        caller: &Caller,
        is_active: Option<bool>,
        page: PageRequest,
    ) -> Result<Page<WorkflowView>, AppError> {
        let tenant = caller.tenant();
        let heads = self.repo.list(&tenant, is_active, page).await?;
        let mut items = Vec::with_capacity(heads.items.len());
        for w in heads.items {
            items.push(self.view(&tenant, w).await?);
        }
        Ok(Page {
            items,
            total: heads.total,
            request: heads.request,
        })
    }

    /// Gets one workflow.
    pub async fn get(&self, caller: &Caller, id: &str) -> Result<WorkflowView, AppError> {
        let w = self.head(caller, id).await?;
        self.view(&caller.tenant(), w).await
    }

    /// Creates a workflow with version 1 at 100 %. The tenant's first workflow becomes default.
    pub async fn create(
        &self,
        caller: &Caller,
        input: NewWorkflow,
    ) -> Result<WorkflowView, AppError> {
        let mut errors = Vec::new();
        check_name(&input.name, &mut errors);
        check_description(&input.description, &mut errors);
        check_object("data_requirements", &input.data_requirements, &mut errors);
        check_object("screening_settings", &input.screening_settings, &mut errors);
        check_object("graph_layout", &input.graph_layout, &mut errors);
        let compiled = match self.compile(&input.definition) {
            Ok(c) => Some(c),
            Err(mut e) => {
                errors.append(&mut e);
                None
            }
        };
        let Some(compiled) = compiled.filter(|_| errors.is_empty()) else {
            return Err(AppError::Validation(errors));
        };
        let tenant = caller.tenant();
        let now = self.clock.now();
        let is_default = input.is_default || self.repo.get_default(&tenant).await?.is_none();
        let id = new_id(prefix::WORKFLOW);
        let version = self.version_record(
            caller,
            &id,
            1,
            &compiled,
            &input.data_requirements,
            "create",
            None,
            now,
        )?;
        let workflow = WorkflowRecord {
            id,
            tenant: tenant.clone(),
            name: input.name.trim().to_owned(),
            description: input.description,
            version: 1,
            is_default,
            is_active: true,
            format: format_name(compiled.format).into(),
            screening_settings: input.screening_settings,
            graph_layout: input.graph_layout,
            rollout: vec![RolloutEntry {
                version: 1,
                percentage: 100,
            }],
            rollout_updated_at: now,
            created_at: now,
            updated_at: now,
        };
        self.repo.create(&workflow, &version).await?;
        Ok(WorkflowView {
            workflow,
            live: version,
        })
    }

    /// Applies a PATCH: metadata in place; definition or data requirements → a new version.
    pub async fn update(
        &self,
        caller: &Caller,
        id: &str,
        changes: WorkflowChanges,
    ) -> Result<WorkflowView, AppError> {
        let mut w = self.head(caller, id).await?;
        let tenant = caller.tenant();
        let live = self
            .repo
            .version(&tenant, id, w.version)
            .await
            .map_err(AppError::from_repo("workflow version"))?;
        let mut errors = Vec::new();
        if let Some(name) = &changes.name {
            check_name(name, &mut errors);
        }
        if let Some(d) = &changes.description {
            check_description(d, &mut errors);
        }
        if let Some(d) = &changes.data_requirements {
            check_object("data_requirements", d, &mut errors);
        }
        if let Some(s) = &changes.screening_settings {
            check_object("screening_settings", s, &mut errors);
        }
        if let Some(l) = &changes.graph_layout {
            check_object("graph_layout", l, &mut errors);
        }
        let percentage = match changes.rollout_percentage {
            None => 100,
            Some(p) if (0..=100).contains(&p) => p as u8,
            Some(_) => {
                errors.push(FieldError::new(
                    "rollout_percentage",
                    "must be between 0 and 100",
                ));
                100
            }
        };
        let new_definition = !changes.definition.is_empty();
        let data_changed = changes
            .data_requirements
            .as_ref()
            .is_some_and(|d| to_json_text(d) != live.data_requirements_json);
        let compiled = if new_definition {
            match self.compile(&changes.definition) {
                Ok(c) => Some(c),
                Err(mut e) => {
                    errors.append(&mut e);
                    None
                }
            }
        } else if data_changed {
            // Same definition, new data requirements: recompile the live one into a new version.
            Some(self.compile_stored(&live)?)
        } else {
            None
        };
        if changes.rollout_percentage.is_some() && compiled.is_none() && errors.is_empty() {
            errors.push(FieldError::new("rollout_percentage", "applies only when the update creates a new version (graph, steps or data_requirements)"));
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let now = self.clock.now();
        if let Some(name) = changes.name {
            w.name = name.trim().to_owned();
        }
        if let Some(d) = changes.description {
            w.description = d;
        }
        if let Some(s) = changes.screening_settings {
            w.screening_settings = s;
        }
        if let Some(l) = changes.graph_layout {
            w.graph_layout = l;
        }
        w.updated_at = now;
        match compiled {
            None => {
                self.repo
                    .update_head(&w)
                    .await
                    .map_err(AppError::from_repo("workflow"))?;
                Ok(WorkflowView { workflow: w, live })
            }
            Some(compiled) => {
                let data = match changes.data_requirements {
                    Some(d) => d,
                    None => live
                        .data_requirements_json
                        .as_deref()
                        .map(|t| parse_text("data requirements", t))
                        .transpose()?,
                };
                self.publish_compiled(caller, w, compiled, &data, percentage, "update", None)
                    .await
            }
        }
    }

    fn compile_stored(&self, version: &VersionRecord) -> Result<Compiled, AppError> {
        let graph: Graph = serde_json::from_str(&version.graph_json)
            .map_err(|e| AppError::Internal(format!("stored graph: {e}")))?;
        let format = if version.format == "steps" {
            Format::Steps
        } else {
            Format::Graph
        };
        Ok(Compiled {
            format,
            graph,
            steps_json: version.steps_json.clone(),
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn publish_compiled(
        &self,
        caller: &Caller,
        mut w: WorkflowRecord,
        compiled: Compiled,
        data: &Option<Value>,
        percentage: u8,
        source: &str,
        draft_id: Option<String>,
    ) -> Result<WorkflowView, AppError> {
        let now = self.clock.now();
        let expected = w.version;
        let number = expected + 1;
        let version = self.version_record(
            caller,
            &w.id,
            number,
            &compiled,
            data,
            source,
            draft_id.clone(),
            now,
        )?;
        w.rollout = workflow::with_new_version(&w.rollout, number, percentage);
        w.rollout_updated_at = now;
        w.version = number;
        w.format = format_name(compiled.format).into();
        w.updated_at = now;
        let publication = Publication {
            version: version.clone(),
            workflow: w.clone(),
            draft_id,
        };
        match self.repo.publish(expected, &publication).await {
            Ok(()) => Ok(WorkflowView {
                workflow: w,
                live: version,
            }),
            Err(RepoError::Conflict(_)) => Err(AppError::Conflict(format!(
                "workflow {} changed concurrently (version {expected} is no longer the newest); reload and retry",
                w.id
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// Makes a workflow the default of its tenant.
    pub async fn set_default(&self, caller: &Caller, id: &str) -> Result<WorkflowView, AppError> {
        let w = self.head(caller, id).await?;
        if !w.is_active {
            return Err(AppError::InvalidState(format!(
                "workflow {id} is deactivated and cannot be the default"
            )));
        }
        self.repo
            .set_default(&caller.tenant(), id, self.clock.now())
            .await
            .map_err(AppError::from_repo("workflow"))?;
        self.get(caller, id).await
    }

    /// Deactivates a workflow (409 on the default).
    pub async fn deactivate(&self, caller: &Caller, id: &str) -> Result<WorkflowView, AppError> {
        let mut w = self.head(caller, id).await?;
        if w.is_default {
            return Err(AppError::Conflict(format!(
                "workflow {id} is the default workflow and cannot be deactivated; set another default first"
            )));
        }
        if w.is_active {
            w.is_active = false;
            w.updated_at = self.clock.now();
            self.repo
                .update_head(&w)
                .await
                .map_err(AppError::from_repo("workflow"))?;
        }
        self.view(&caller.tenant(), w).await
    }

    /// Clones a workflow: version 1 of the clone is the source's live version; never default.
    pub async fn clone_workflow(
        &self,
        caller: &Caller,
        id: &str,
        name: Option<String>,
    ) -> Result<WorkflowView, AppError> {
        let source = self.get(caller, id).await?;
        let name = name.unwrap_or_else(|| {
            let mut n = format!("{} (copy)", source.workflow.name);
            if n.chars().count() > MAX_NAME_LEN {
                n = source.workflow.name.clone();
            }
            n
        });
        let mut errors = Vec::new();
        check_name(&name, &mut errors);
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let now = self.clock.now();
        let new_id_ = new_id(prefix::WORKFLOW);
        let version = VersionRecord {
            id: new_id(prefix::VERSION),
            workflow_id: new_id_.clone(),
            version: 1,
            source: "clone".into(),
            draft_id: None,
            created_by: caller.key.id.clone(),
            created_at: now,
            ..source.live.clone()
        };
        let workflow = WorkflowRecord {
            id: new_id_,
            name: name.trim().to_owned(),
            version: 1,
            is_default: false,
            is_active: true,
            rollout: vec![RolloutEntry {
                version: 1,
                percentage: 100,
            }],
            rollout_updated_at: now,
            created_at: now,
            updated_at: now,
            ..source.workflow.clone()
        };
        self.repo.create(&workflow, &version).await?;
        Ok(WorkflowView {
            workflow,
            live: version,
        })
    }

    /// Versions, newest first.
    pub async fn versions(
        &self,
        caller: &Caller,
        id: &str,
        page: PageRequest,
    ) -> Result<Page<VersionRecord>, AppError> {
        self.head(caller, id).await?;
        Ok(self.repo.versions(&caller.tenant(), id, page).await?)
    }

    /// The rollout map.
    pub async fn rollout(&self, caller: &Caller, id: &str) -> Result<WorkflowRecord, AppError> {
        self.head(caller, id).await
    }

    /// Replaces the rollout map (versions must exist; shares sum to 100).
    pub async fn set_rollout(
        &self,
        caller: &Caller,
        id: &str,
        entries: Vec<(i64, i64)>,
    ) -> Result<WorkflowRecord, AppError> {
        let mut w = self.head(caller, id).await?;
        let mut errors = Vec::new();
        let mut parsed = Vec::new();
        for (i, (version, pct)) in entries.iter().enumerate() {
            let v = i32::try_from(*version).ok().filter(|v| *v >= 1);
            let p = u8::try_from(*pct).ok().filter(|p| *p <= 100);
            if v.is_none() {
                errors.push(FieldError::new(
                    format!("entries[{i}].version"),
                    "must be a positive version number",
                ));
            }
            if p.is_none() {
                errors.push(FieldError::new(
                    format!("entries[{i}].percentage"),
                    "must be between 0 and 100",
                ));
            }
            if let (Some(version), Some(percentage)) = (v, p) {
                parsed.push(RolloutEntry {
                    version,
                    percentage,
                });
            }
        }
        if errors.is_empty() {
            let existing = self.repo.version_numbers(&caller.tenant(), id).await?;
            errors = issues_to_fields("", workflow::validate_rollout(&parsed, &existing));
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let entries: Vec<RolloutEntry> = workflow::normalize(&parsed)
            .into_iter()
            .filter(|e| e.percentage > 0)
            .collect();
        let now = self.clock.now();
        self.repo
            .set_rollout(&caller.tenant(), id, &entries, now)
            .await
            .map_err(AppError::from_repo("workflow"))?;
        w.rollout = entries;
        w.rollout_updated_at = now;
        Ok(w)
    }

    /// The graph of a version (live when `None`).
    async fn graph_of(
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

    /// Runs a version against supplied inputs; writes nothing.
    pub async fn dry_run(
        &self,
        caller: &Caller,
        id: &str,
        version: Option<i64>,
        input: DryRunInput,
    ) -> Result<DryRunReport, AppError> {
        let graph = self.graph_of(caller, id, version).await?;
        self.simulate(&graph, &input)
    }

    fn simulate(&self, graph: &Graph, input: &DryRunInput) -> Result<DryRunReport, AppError> {
        let simulator = self.simulator.clone();
        let fallback = move |policy: &str, config: &Value| simulator(policy, config);
        workflow::dry_run(graph, input, &fallback, self.clock.now())
            .map_err(|e| AppError::invalid("graph", e.to_string()))
    }

    /// The policy nodes of the live version.
    pub async fn policy_nodes(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<Vec<PolicyNodeView>, AppError> {
        let graph = self.graph_of(caller, id, None).await?;
        Ok(graph
            .nodes
            .iter()
            .filter_map(|(node_id, node)| match node {
                Node::Policy(p) => Some(PolicyNodeView {
                    node_id: node_id.clone(),
                    policy: p.policy.clone(),
                    config: p.config.clone(),
                }),
                _ => None,
            })
            .collect())
    }

    /// Analytics from the runs of a workflow.
    pub async fn analytics(
        &self,
        caller: &Caller,
        id: &str,
        filter: AnalyticsFilter,
    ) -> Result<Analytics, AppError> {
        self.head(caller, id).await?;
        let stats = self.repo.run_stats(&caller.tenant(), id, &filter).await?;
        let statuses: BTreeMap<String, u64> = stats.by_status.into_iter().collect();
        Ok(Analytics {
            workflow_id: id.to_owned(),
            total_runs: stats.total,
            outcomes: stats.by_final_status.into_iter().collect(),
            paused: statuses.get("paused").copied().unwrap_or(0),
            statuses,
            by_version: stats
                .by_version
                .into_iter()
                .map(|(v, n)| (v.to_string(), n))
                .collect(),
            median_duration_ms: percentile(&stats.run_durations_ms, 50.0),
            p95_duration_ms: percentile(&stats.run_durations_ms, 95.0),
            nodes: stats
                .nodes
                .into_iter()
                .map(|n| {
                    let a = NodeAnalytics {
                        policy: n.policy,
                        executions: n.executions,
                        passed: n.passed,
                        failed: n.failed,
                        errors: n.errors,
                        retries: n.retries,
                        p50_ms: percentile(&n.durations_ms, 50.0),
                        p95_ms: percentile(&n.durations_ms, 95.0),
                    };
                    (n.node_id, a)
                })
                .collect(),
        })
    }

    // ----- drafts -----

    fn draft_view(&self, draft: DraftRecord) -> DraftView {
        let (errors, warnings) = self.assess(&DefinitionInput {
            format: Some(draft.format.clone()),
            graph: draft.graph.clone(),
            steps: draft.steps.clone(),
        });
        DraftView {
            draft,
            errors,
            warnings,
        }
    }

    /// Creates a draft from the live version, overlaid with whatever the body sets.
    pub async fn create_draft(
        &self,
        caller: &Caller,
        id: &str,
        input: DraftInput,
    ) -> Result<DraftView, AppError> {
        let live = self.get(caller, id).await?;
        let now = self.clock.now();
        let mut draft = DraftRecord {
            id: new_id(prefix::DRAFT),
            workflow_id: id.to_owned(),
            tenant: caller.tenant(),
            base_version: live.workflow.version,
            name: live.workflow.name.clone(),
            description: live.workflow.description.clone(),
            format: live.live.format.clone(),
            graph: if live.live.format == "graph" {
                Some(parse_text("graph", &live.live.graph_json)?)
            } else {
                None
            },
            steps: live
                .live
                .steps_json
                .as_deref()
                .map(|t| parse_text("steps", t))
                .transpose()?,
            data_requirements: live
                .live
                .data_requirements_json
                .as_deref()
                .map(|t| parse_text("data requirements", t))
                .transpose()?,
            graph_layout: live.workflow.graph_layout.clone(),
            status: "open".into(),
            published_version: None,
            created_at: now,
            updated_at: now,
        };
        apply_draft_input(&mut draft, input)?;
        self.repo.insert_draft(&draft).await?;
        Ok(self.draft_view(draft))
    }

    /// Gets a draft.
    pub async fn draft(
        &self,
        caller: &Caller,
        id: &str,
        draft_id: &str,
    ) -> Result<DraftView, AppError> {
        self.head(caller, id).await?;
        let d = self
            .repo
            .draft(&caller.tenant(), id, draft_id)
            .await
            .map_err(AppError::from_repo("draft"))?;
        Ok(self.draft_view(d))
    }

    /// Lists drafts.
    pub async fn drafts(
        &self,
        caller: &Caller,
        id: &str,
        status: Option<String>,
        page: PageRequest,
    ) -> Result<Page<DraftView>, AppError> {
        self.head(caller, id).await?;
        if let Some(s) = &status
            && !["open", "published", "discarded"].contains(&s.as_str())
        {
            return Err(AppError::invalid(
                "status",
                "must be open, published or discarded",
            ));
        }
        let page = self
            .repo
            .drafts(&caller.tenant(), id, status.as_deref(), page)
            .await?;
        Ok(page.map(|d| self.draft_view(d)))
    }

    async fn open_draft(
        &self,
        caller: &Caller,
        id: &str,
        draft_id: &str,
    ) -> Result<DraftRecord, AppError> {
        self.head(caller, id).await?;
        let d = self
            .repo
            .draft(&caller.tenant(), id, draft_id)
            .await
            .map_err(AppError::from_repo("draft"))?;
        if d.status != "open" {
            return Err(AppError::InvalidState(format!(
                "draft {draft_id} is {}; only open drafts can change",
                d.status
            )));
        }
        Ok(d)
    }

    /// Edits an open draft (it may become invalid; publishing checks).
    pub async fn edit_draft(
        &self,
        caller: &Caller,
        id: &str,
        draft_id: &str,
        input: DraftInput,
    ) -> Result<DraftView, AppError> {
        let mut d = self.open_draft(caller, id, draft_id).await?;
        apply_draft_input(&mut d, input)?;
        d.updated_at = self.clock.now();
        self.repo
            .update_draft(&d)
            .await
            .map_err(AppError::from_repo("draft"))?;
        Ok(self.draft_view(d))
    }

    /// Discards an open draft.
    pub async fn discard_draft(
        &self,
        caller: &Caller,
        id: &str,
        draft_id: &str,
    ) -> Result<DraftView, AppError> {
        let mut d = self.open_draft(caller, id, draft_id).await?;
        d.status = "discarded".into();
        d.updated_at = self.clock.now();
        self.repo
            .update_draft(&d)
            .await
            .map_err(AppError::from_repo("draft"))?;
        Ok(self.draft_view(d))
    }

    fn draft_graph(&self, d: &DraftRecord) -> Result<Compiled, AppError> {
        self.compile(&DefinitionInput {
            format: Some(d.format.clone()),
            graph: d.graph.clone(),
            steps: d.steps.clone(),
        })
        .map_err(AppError::Validation)
    }

    /// Diff of a draft against the live version.
    pub async fn diff_draft(
        &self,
        caller: &Caller,
        id: &str,
        draft_id: &str,
    ) -> Result<GraphDiff, AppError> {
        let d = self.draft(caller, id, draft_id).await?.draft;
        let live = self.graph_of(caller, id, None).await?;
        let candidate = self.draft_graph(&d)?;
        Ok(workflow::diff(&live, &candidate.graph))
    }

    /// Dry-run of a draft.
    pub async fn dry_run_draft(
        &self,
        caller: &Caller,
        id: &str,
        draft_id: &str,
        input: DryRunInput,
    ) -> Result<DryRunReport, AppError> {
        let d = self.draft(caller, id, draft_id).await?.draft;
        let compiled = self.draft_graph(&d)?;
        self.simulate(&compiled.graph, &input)
    }

    /// Publishes an open draft as a new version (validation first; 409 when the workflow moved
    /// on since the draft was taken, or when a concurrent publish wins).
    pub async fn publish_draft(
        &self,
        caller: &Caller,
        id: &str,
        draft_id: &str,
        rollout_percentage: Option<i64>,
    ) -> Result<(WorkflowView, DraftView), AppError> {
        let mut d = self.open_draft(caller, id, draft_id).await?;
        let percentage = match rollout_percentage {
            None => 100,
            Some(p) if (0..=100).contains(&p) => p as u8,
            Some(_) => {
                return Err(AppError::invalid(
                    "rollout_percentage",
                    "must be between 0 and 100",
                ));
            }
        };
        let mut errors = Vec::new();
        check_name(&d.name, &mut errors);
        let compiled = match self.draft_graph(&d) {
            Ok(c) => Some(c),
            Err(AppError::Validation(mut e)) => {
                errors.append(&mut e);
                None
            }
            Err(e) => return Err(e),
        };
        let Some(compiled) = compiled.filter(|_| errors.is_empty()) else {
            return Err(AppError::Validation(errors));
        };
        let mut w = self.head(caller, id).await?;
        if w.version != d.base_version {
            return Err(AppError::Conflict(format!(
                "workflow {id} is at version {} but draft {draft_id} was based on version {}; create a new draft from the current version",
                w.version, d.base_version
            )));
        }
        w.name = d.name.clone();
        w.description = d.description.clone();
        w.graph_layout = d.graph_layout.clone();
        let view = self
            .publish_compiled(
                caller,
                w,
                compiled,
                &d.data_requirements,
                percentage,
                "publish",
                Some(d.id.clone()),
            )
            .await?;
        d.status = "published".into();
        d.published_version = Some(view.workflow.version);
        d.updated_at = view.workflow.updated_at;
        Ok((view, self.draft_view(d)))
    }
}

fn apply_draft_input(d: &mut DraftRecord, input: DraftInput) -> Result<(), AppError> {
    let mut errors = Vec::new();
    if let Some(name) = input.name {
        check_name(&name, &mut errors);
        d.name = name.trim().to_owned();
    }
    if let Some(desc) = input.description {
        check_description(&desc, &mut errors);
        d.description = desc;
    }
    if let Some(dr) = input.data_requirements {
        check_object("data_requirements", &dr, &mut errors);
        d.data_requirements = dr;
    }
    if let Some(l) = input.graph_layout {
        check_object("graph_layout", &l, &mut errors);
        d.graph_layout = l;
    }
    let def = input.definition;
    if let Some(f) = def.format {
        if f != "graph" && f != "steps" {
            errors.push(FieldError::new("format", "must be 'graph' or 'steps'"));
        }
        d.format = f;
    }
    if let Some(g) = def.graph {
        d.graph = Some(g);
        if d.format == "steps" && d.steps.is_none() {
            d.format = "graph".into();
        }
    }
    if let Some(s) = def.steps {
        d.steps = Some(s);
    }
    if serde_json::to_vec(&json!({"g": d.graph, "s": d.steps}))
        .map(|b| b.len())
        .unwrap_or(0)
        > MAX_OBJECT_BYTES * 4
    {
        errors.push(FieldError::new("graph", "is too large"));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// Wire name of a format.
pub fn format_name(f: Format) -> &'static str {
    match f {
        Format::Graph => "graph",
        Format::Steps => "steps",
    }
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[7], 95.0), Some(7));
        let v: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), Some(50));
        assert_eq!(percentile(&v, 95.0), Some(95));
        assert_eq!(percentile(&[1, 2, 3, 4], 50.0), Some(2));
    }
}
