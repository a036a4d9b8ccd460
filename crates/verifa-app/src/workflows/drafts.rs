//! Drafts: edited freely (they may be invalid), validated on every read, diffed, dry-run and
//! published as a new version.

use super::{
    Compiled, DefinitionInput, MAX_OBJECT_BYTES, WorkflowService, WorkflowView, check_description,
    check_name, check_object, parse_text,
};
use crate::api_keys::Caller;
use crate::error::{AppError, FieldError};
use crate::ids::{new_id, prefix};
use crate::retry::{retrying, written};
use serde_json::{Value, json};
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::workflow::{
    self, DraftStatus, DryRunInput, DryRunReport, Format, GraphDiff, VersionSource,
};
use verifa_ports::workflows::DraftRecord;

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

impl WorkflowService {
    pub(super) fn draft_view(&self, draft: DraftRecord) -> DraftView {
        let (errors, warnings) = self.assess(&DefinitionInput {
            format: Some(draft.format.as_str().to_owned()),
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
            format: live.live.format,
            graph: if live.live.format == Format::Graph {
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
            status: DraftStatus::Open,
            published_version: None,
            created_at: now,
            updated_at: now,
            revision: 0,
        };
        apply_draft_input(&mut draft, input)?;
        let audit = caller
            .audit("workflow_draft.created", "workflow_draft", &draft.id, now)
            .with_metadata("workflow_id", id);
        self.drafts.insert_draft(&draft, &[audit]).await?;
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
            .drafts
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
        let status = match status.as_deref() {
            None => None,
            Some(s) => Some(DraftStatus::parse(s).ok_or_else(|| {
                AppError::invalid("status", "must be open, published or discarded")
            })?),
        };
        let page = self
            .drafts
            .drafts(&caller.tenant(), id, status, page)
            .await?;
        Ok(page.map(|d| self.draft_view(d)))
    }

    pub(super) async fn open_draft(
        &self,
        caller: &Caller,
        id: &str,
        draft_id: &str,
    ) -> Result<DraftRecord, AppError> {
        self.head(caller, id).await?;
        let d = self
            .drafts
            .draft(&caller.tenant(), id, draft_id)
            .await
            .map_err(AppError::from_repo("draft"))?;
        if d.status != DraftStatus::Open {
            return Err(AppError::InvalidState(format!(
                "draft {draft_id} is {}; only open drafts can change",
                d.status.as_str()
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
        let d = retrying!(
            "the draft",
            async {
                let mut d = self.open_draft(caller, id, draft_id).await?;
                apply_draft_input(&mut d, input.clone())?;
                d.updated_at = self.clock.now();
                let audit = caller
                    .audit(
                        "workflow_draft.updated",
                        "workflow_draft",
                        &d.id,
                        d.updated_at,
                    )
                    .with_changes(input.field_names())
                    .with_metadata("workflow_id", id);
                let outcome = self.drafts.update_draft(&d, &[audit]).await;
                d.revision += 1;
                written(outcome, d)
            }
            .await
        )?;
        Ok(self.draft_view(d))
    }

    /// Discards an open draft.
    pub async fn discard_draft(
        &self,
        caller: &Caller,
        id: &str,
        draft_id: &str,
    ) -> Result<DraftView, AppError> {
        let d = retrying!(
            "the draft",
            async {
                let mut d = self.open_draft(caller, id, draft_id).await?;
                d.status = DraftStatus::Discarded;
                d.updated_at = self.clock.now();
                let audit = caller
                    .audit(
                        "workflow_draft.discarded",
                        "workflow_draft",
                        &d.id,
                        d.updated_at,
                    )
                    .with_changes(["status"])
                    .with_metadata("workflow_id", id);
                let outcome = self.drafts.update_draft(&d, &[audit]).await;
                d.revision += 1;
                written(outcome, d)
            }
            .await
        )?;
        Ok(self.draft_view(d))
    }

    pub(super) fn draft_graph(&self, d: &DraftRecord) -> Result<Compiled, AppError> {
        self.compile(&DefinitionInput {
            format: Some(d.format.as_str().to_owned()),
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
        let view = retrying!("the workflow", async {
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
            self.publish_compiled(
                caller,
                w,
                &compiled,
                &d.data_requirements,
                percentage,
                VersionSource::Publish,
                Some(d.id.clone()),
            )
            .await
        }.await)?;
        d.status = DraftStatus::Published;
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
    if let Some(f) = &def.format {
        match Format::parse(f) {
            Some(f) => d.format = f,
            None => errors.push(FieldError::new("format", "must be 'graph' or 'steps'")),
        }
    }
    // A draft may be invalid while edited, but its shape must be the shape of a definition
    // (an object graph, an array of step objects), or it could never be validated or shown.
    let shape = super::shape_errors(&def);
    if shape.is_empty() {
        if let Some(g) = def.graph {
            d.graph = Some(g);
            if d.format == Format::Steps && d.steps.is_none() {
                d.format = Format::Graph;
            }
        }
        if let Some(s) = def.steps {
            d.steps = Some(s);
        }
    }
    errors.extend(shape);
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

impl DraftInput {
    /// The names of the fields this edit sets (the audit trail keeps names, never values).
    fn field_names(&self) -> Vec<&'static str> {
        [
            ("name", self.name.is_some()),
            ("description", self.description.is_some()),
            (
                "graph",
                self.definition.graph.is_some() || self.definition.steps.is_some(),
            ),
            ("format", self.definition.format.is_some()),
            ("data_requirements", self.data_requirements.is_some()),
            ("graph_layout", self.graph_layout.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
    }
}
