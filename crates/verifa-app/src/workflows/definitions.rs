//! Workflows and their versions: create, read, update, defaults, deactivation, cloning.

use super::{
    Compiled, DefinitionInput, MAX_NAME_LEN, WorkflowService, WorkflowView, check_description,
    check_name, check_object, parse_text, to_json_text,
};
use crate::api_keys::Caller;
use crate::error::{AppError, FieldError};
use crate::ids::{new_id, prefix};
use crate::retry::{Attempt, retrying, written};
use serde_json::Value;
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::workflow::{Graph, Node, RolloutEntry, VersionSource};
use verifa_ports::workflows::{VersionRecord, WorkflowRecord};

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

impl WorkflowService {
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
            VersionSource::Create,
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
            format: compiled.format,
            screening_settings: input.screening_settings,
            graph_layout: input.graph_layout,
            rollout: vec![RolloutEntry {
                version: 1,
                percentage: 100,
            }],
            rollout_updated_at: now,
            created_at: now,
            updated_at: now,
            revision: 0,
        };
        let audit = caller
            .audit("workflow.created", "workflow", &workflow.id, now)
            .with_changes(["name", "version", "rollout", "is_default"]);
        self.repo.create(&workflow, &version, &[audit]).await?;
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
        retrying!(
            "the workflow",
            async { self.update_once(caller, id, changes.clone()).await }.await
        )
    }

    /// One attempt of [`update`](Self::update) on the head as it is now.
    async fn update_once(
        &self,
        caller: &Caller,
        id: &str,
        changes: WorkflowChanges,
    ) -> Result<Attempt<WorkflowView>, AppError> {
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
        let head_changes: Vec<&'static str> = [
            ("name", changes.name.is_some()),
            ("description", changes.description.is_some()),
            ("screening_settings", changes.screening_settings.is_some()),
            ("graph_layout", changes.graph_layout.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect();
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
                let audit = caller
                    .audit("workflow.updated", "workflow", &w.id, now)
                    .with_changes(head_changes);
                let outcome = self.repo.update_head(&w, &[audit]).await;
                written(outcome, WorkflowView { workflow: w, live })
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
                self.publish_compiled(
                    caller,
                    w,
                    &compiled,
                    &data,
                    percentage,
                    VersionSource::Update,
                    None,
                )
                .await
            }
        }
    }

    pub(super) fn compile_stored(&self, version: &VersionRecord) -> Result<Compiled, AppError> {
        let graph: Graph = serde_json::from_str(&version.graph_json)
            .map_err(|e| AppError::Internal(format!("stored graph: {e}")))?;
        Ok(Compiled {
            format: version.format,
            graph,
            steps_json: version.steps_json.clone(),
        })
    }

    /// Makes a workflow the default of its tenant.
    pub async fn set_default(&self, caller: &Caller, id: &str) -> Result<WorkflowView, AppError> {
        let w = self.head(caller, id).await?;
        if !w.is_active {
            return Err(AppError::InvalidState(format!(
                "workflow {id} is deactivated and cannot be the default"
            )));
        }
        let now = self.clock.now();
        let audit = caller
            .audit("workflow.default_set", "workflow", id, now)
            .with_changes(["is_default"]);
        self.repo
            .set_default(&caller.tenant(), id, now, &[audit])
            .await
            .map_err(AppError::from_repo("workflow"))?;
        self.get(caller, id).await
    }

    /// Deactivates a workflow (409 on the default).
    pub async fn deactivate(&self, caller: &Caller, id: &str) -> Result<WorkflowView, AppError> {
        let w = retrying!("the workflow", async {
            let mut w = self.head(caller, id).await?;
            if w.is_default {
                return Err(AppError::Conflict(format!(
                    "workflow {id} is the default workflow and cannot be deactivated; set another default first"
                )));
            }
            if !w.is_active {
                return Ok(Attempt::Done(w));
            }
            w.is_active = false;
            w.updated_at = self.clock.now();
            let audit = caller
                .audit("workflow.deactivated", "workflow", &w.id, w.updated_at)
                .with_changes(["is_active"]);
            let outcome = self.repo.update_head(&w, &[audit]).await;
            w.revision += 1;
            written(outcome, w)
        }.await)?;
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
            source: VersionSource::Clone,
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
        let audit = caller
            .audit("workflow.cloned", "workflow", &workflow.id, now)
            .with_changes(["name", "version", "rollout"])
            .with_metadata("source_id", id);
        self.repo.create(&workflow, &version, &[audit]).await?;
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
}
