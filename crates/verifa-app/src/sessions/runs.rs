//! A session's workflow run: starting one (submit, reprocess, trigger) on the version the rollout
//! map picks, feeding it gate decisions and resumes, and reading it with its node attempts. The
//! run itself is driven by the [`RunWorker`](crate::runs::RunWorker).

use super::mutate;
use super::{SessionService, change_by, illegal};
use crate::actor::By;
use crate::api_keys::Caller;
use crate::error::AppError;
use crate::ids::{new_id, prefix};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use verifa_domain::run::{PinnedVersion, WorkflowRun};
use verifa_domain::session::{self, Action, Session, SessionStatus};
use verifa_domain::tenancy::Tenant;
use verifa_domain::workflow::{Decision, Event, Graph, Node};
use verifa_ports::runs::NodeExecution;
use verifa_ports::sessions::{RunWrite, SessionChange};

impl SessionService {
    /// The version of `workflow_id` the rollout map gives `session_id`, with its graph.
    pub(super) async fn pinned_version(
        &self,
        tenant: &Tenant,
        workflow_id: &str,
        session_id: &str,
    ) -> Result<PinnedVersion, AppError> {
        let w = self
            .workflows
            .get(tenant, workflow_id)
            .await
            .map_err(AppError::from_repo("workflow"))?;
        let version = verifa_domain::workflow::assign(&w.rollout, session_id).unwrap_or(w.version);
        let v = self
            .workflows
            .version(tenant, workflow_id, version)
            .await
            .map_err(AppError::from_repo("workflow version"))?;
        let graph: Graph = serde_json::from_str(&v.graph_json)
            .map_err(|e| AppError::Internal(format!("stored graph: {e}")))?;
        Ok(PinnedVersion {
            workflow_id: workflow_id.to_owned(),
            version,
            graph,
        })
    }

    /// The change that starts a new run of the session's workflow (or `workflow_id`, or the
    /// default workflow), replacing any earlier run and its result. Without a workflow override
    /// the action is a submit; with one (or for a finished session) a re-run.
    pub(super) async fn start_run_change(
        &self,
        current: &Session,
        workflow_id: Option<String>,
        now: DateTime<Utc>,
        by: By<'_>,
    ) -> Result<SessionChange, AppError> {
        let chosen = match workflow_id.or_else(|| current.workflow_id.clone()) {
            Some(w) => Some(w),
            None => self
                .workflows
                .get_default(&current.tenant)
                .await?
                .map(|w| w.id),
        };
        let Some(workflow_id) = chosen else {
            return Err(AppError::invalid(
                "workflow_id",
                "the session has no workflow and the organization has no default workflow",
            ));
        };
        let pinned = self
            .pinned_version(&current.tenant, &workflow_id, &current.id)
            .await?;
        let run = WorkflowRun::start(new_id(prefix::RUN), current, pinned, now);
        let action = if current.status.is_capturing() {
            Action::SubmitAndRun { workflow_id }
        } else {
            Action::Rerun { workflow_id }
        };
        let t = session::transition(current, action.clone(), now).map_err(illegal)?;
        Ok(change_by(t, &action, by)
            .clearing_result()
            .with_run(RunWrite::Start(Box::new(run))))
    }

    /// Re-runs the workflow of a completed or failed session (reprocess and trigger); the
    /// previous run is replaced. `workflow_id` (trigger) selects the workflow.
    pub async fn rerun(
        &self,
        caller: &Caller,
        id: &str,
        workflow_id: Option<&str>,
    ) -> Result<Session, AppError> {
        let current = self.get(caller, id).await?;
        session::check(
            &current,
            &Action::Rerun {
                workflow_id: String::new(),
            },
        )
        .map_err(illegal)?;
        let chosen = match workflow_id {
            Some(w) => {
                let wf = self
                    .workflows
                    .get(&current.tenant, w)
                    .await
                    .map_err(AppError::from_repo("workflow"))?;
                if !wf.is_active {
                    return Err(AppError::invalid(
                        "workflow_id",
                        format!("workflow {w} is deactivated"),
                    ));
                }
                Some(wf.id)
            }
            None => None,
        };
        mutate!(self, &current.tenant, id, |current| async {
            self.start_run_change(
                &current,
                chosen.clone(),
                self.clock.now(),
                By::Caller(caller),
            )
            .await
        }
        .await)
    }

    /// Records a gate decision; the run resumes asynchronously.
    pub async fn external_decision(
        &self,
        caller: &Caller,
        id: &str,
        decision: &str,
        metadata: Option<Value>,
    ) -> Result<Session, AppError> {
        let decision = match decision {
            "continue" => Decision::Continue,
            "fail" => Decision::Fail,
            "reject" => Decision::Reject,
            _ => {
                return Err(AppError::invalid(
                    "decision",
                    "must be one of continue, fail, reject",
                ));
            }
        };
        if metadata
            .as_ref()
            .is_some_and(|m| !m.is_object() && !m.is_null())
        {
            return Err(AppError::invalid("metadata", "must be an object"));
        }
        let current = self.get(caller, id).await?;
        session::check(&current, &Action::ExternalDecision).map_err(illegal)?;
        let run = self
            .runs
            .run_for_session(&current.tenant, id)
            .await?
            .ok_or_else(|| AppError::InvalidState("the session has no workflow run".into()))?;
        paused(&run)?;
        let event = Event::ExternalDecision {
            decision,
            metadata: metadata
                .filter(|m| !m.is_null())
                .unwrap_or_else(|| json!({})),
        };
        self.queue_run_event(caller, id, Action::ExternalDecision, event, paused)
            .await
    }

    /// Resumes a paused or failed run from a node (by id, by policy or by step index).
    pub async fn resume_run(
        &self,
        caller: &Caller,
        id: &str,
        node_id: Option<String>,
        policy: Option<String>,
        step_index: Option<i64>,
    ) -> Result<(Session, String), AppError> {
        let current = self.get(caller, id).await?;
        let run = self
            .runs
            .run_for_session(&current.tenant, id)
            .await?
            .ok_or(AppError::NotFound("workflow run"))?;
        resumable(&run)?;
        let Some(graph) = run.graph.as_ref() else {
            return Err(AppError::InvalidState(
                "the workflow run was simulated and has no graph to resume".into(),
            ));
        };
        let target = match (node_id, policy, step_index) {
            (Some(n), None, None) => {
                graph.nodes.contains_key(&n).then_some(n).ok_or_else(|| {
                    AppError::invalid("node_id", "is not a node of the run's graph")
                })?
            }
            (None, Some(p), None) => graph
                .nodes
                .iter()
                .find(|(_, n)| matches!(n, Node::Policy(pn) if pn.policy == p))
                .map(|(k, _)| k.clone())
                .ok_or_else(|| {
                    AppError::invalid("policy", "no node of the run's graph runs this policy")
                })?,
            (None, None, Some(i)) => {
                let key = format!("step_{}", i + 1);
                graph
                    .nodes
                    .contains_key(&key)
                    .then_some(key)
                    .ok_or_else(|| {
                        AppError::invalid("step_index", "is not a step of the run's workflow")
                    })?
            }
            (None, None, None) => run
                .state
                .paused_at_node
                .clone()
                .or_else(|| run.state.current_node.clone())
                .ok_or_else(|| {
                    AppError::invalid("node_id", "is required: the run has no current node")
                })?,
            _ => {
                return Err(AppError::invalid(
                    "node_id",
                    "give at most one of node_id, policy, step_index",
                ));
            }
        };
        let event = Event::ResumeFrom {
            node_id: target.clone(),
        };
        let session = self
            .queue_run_event(caller, id, Action::ResumeRun, event, resumable)
            .await?;
        Ok((session, target))
    }

    /// Queues `event` on the session's run (fenced on the run's revision as well as the
    /// session's) with the session action it implies. Both are read again when another change
    /// won, and `still` must hold for the fresh run (two decisions racing: one lands).
    async fn queue_run_event(
        &self,
        caller: &Caller,
        id: &str,
        action: Action,
        event: Event,
        still: fn(&WorkflowRun) -> Result<(), AppError>,
    ) -> Result<Session, AppError> {
        mutate!(self, &caller.tenant(), id, |current| async {
            let mut run = self
                .runs
                .run_for_session(&current.tenant, &current.id)
                .await?
                .ok_or_else(|| AppError::InvalidState("the session has no workflow run".into()))?;
            still(&run)?;
            let now = self.clock.now();
            let t = session::transition(&current, action.clone(), now).map_err(illegal)?;
            let expected_revision = run.revision;
            run.queue(event.clone(), now);
            run.revision += 1;
            let mut change = change_by(t, &action, By::Caller(caller)).with_run(RunWrite::Update {
                run: Box::new(run),
                expected_revision,
            });
            if current.status != SessionStatus::AwaitingExternal {
                change = change.clearing_result();
            }
            Ok(change)
        }
        .await)
    }

    /// The session's current run.
    pub async fn run(&self, caller: &Caller, id: &str) -> Result<WorkflowRun, AppError> {
        let session = self.get(caller, id).await?;
        self.runs
            .run_for_session(&session.tenant, id)
            .await?
            .ok_or(AppError::NotFound("workflow run"))
    }

    /// Every node attempt of the current run, optionally for one policy.
    pub async fn attempts(
        &self,
        caller: &Caller,
        id: &str,
        policy: Option<&str>,
    ) -> Result<Vec<NodeExecution>, AppError> {
        let session = self.get(caller, id).await?;
        Ok(self.runs.executions(&session.tenant, id, policy).await?)
    }
}

/// A gate decision needs a paused run.
fn paused(run: &WorkflowRun) -> Result<(), AppError> {
    if run.status() == verifa_domain::workflow::RunStatus::Paused {
        Ok(())
    } else {
        Err(AppError::InvalidState(format!(
            "the workflow run is '{}', not paused",
            run.status().as_str()
        )))
    }
}

/// A resume needs a paused or failed run.
fn resumable(run: &WorkflowRun) -> Result<(), AppError> {
    if run.is_resumable() {
        Ok(())
    } else {
        Err(AppError::InvalidState(format!(
            "the workflow run is '{}'; only paused or failed runs can be resumed",
            run.status().as_str()
        )))
    }
}
