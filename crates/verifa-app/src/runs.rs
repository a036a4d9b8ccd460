//! Durable workflow runs. A run row holds the engine's state and the next piece of work
//! ([`PendingWork`]); workers claim runnable rows with a lease, do the work (apply an event or
//! execute a check through the check-executor port), feed the result to the pure executor, and
//! commit the new state, the node attempts and any session change atomically — after every
//! check. Steps that only route (start, conditionals, a due retry, a resume) have no outside
//! effect and replay exactly, so they are committed with the check that follows them; a run
//! that has nothing due gives its lease back in its last commit. A process killed at any point
//! loses nothing: the lease lapses and another worker redoes only the uncommitted step (an
//! in-flight check runs again with the same attempt number).

use crate::crypto::Cipher;
use crate::ids::{new_id, prefix};
use crate::sessions::{decrypt_fields, event};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::Instant;
use verifa_domain::session::{SessionStatus, status_for_outcome};
use verifa_domain::workflow::{
    self, CheckStatus, Effect, Event, ExecutorSettings, Graph, Outcome, RunContext, RunState,
    RunStatus, SessionFacts,
};
use verifa_ports::RepoError;
use verifa_ports::checks::{CheckRegistry, CheckRequest, DocumentRef};
use verifa_ports::clock::Clock;
use verifa_ports::sessions::{
    NodeExecutionRecord, ResultRecord, RunRecord, SessionChange, SessionRecord, SessionRepository,
};

/// The next piece of work of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PendingWork {
    /// Feed this event to the engine.
    Apply {
        /// The event.
        event: Event,
    },
    /// Execute a check, then feed `CheckFinished`.
    Execute {
        /// Node.
        node_id: String,
        /// Policy.
        policy: String,
        /// Config.
        config: Value,
        /// Attempt number (the same after a crash).
        attempt: u32,
    },
}

/// A new pending run for a session, to be started by a worker.
pub fn new_run(
    session: &SessionRecord,
    workflow_id: &str,
    version: i32,
    graph_json: String,
    now: DateTime<Utc>,
    simulated: bool,
) -> RunRecord {
    let context = RunContext {
        extracted_data: Map::new(),
        session: SessionFacts {
            country: session.country.clone(),
            metadata: session.metadata.clone(),
            is_sandbox: session.tenant.environment.is_sandbox(),
        },
    };
    let state = RunState::new(context);
    RunRecord {
        id: new_id(prefix::RUN),
        tenant: session.tenant.clone(),
        session_id: session.id.clone(),
        workflow_id: workflow_id.to_owned(),
        workflow_version: version,
        status: "pending".into(),
        final_status: None,
        current_node: None,
        paused_at_node: None,
        graph_snapshot: graph_json,
        state: serde_json::to_string(&state).unwrap_or_else(|_| "{}".into()),
        simulated,
        runnable_at: Some(now),
        next_event: serde_json::to_string(&PendingWork::Apply {
            event: Event::Start,
        })
        .ok(),
        lease_owner: None,
        lease_until: None,
        revision: 0,
        started_at: None,
        completed_at: None,
        duration_ms: None,
        created_at: now,
        updated_at: now,
    }
}

/// The reference's sandbox extracted data (Jane Doe).
pub fn sandbox_extracted_data() -> Map<String, Value> {
    let v = json!({"first_name": "Jane", "last_name": "Doe", "date_of_birth": "1997-06-15", "document_type": "drivers_license"});
    v.as_object().cloned().unwrap_or_default()
}

/// Worker tuning.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Identity of this worker (unique per process).
    pub owner: String,
    /// How long a claim holds without renewal.
    pub lease: Duration,
    /// Retry backoff given to the engine.
    pub executor: ExecutorSettings,
}

/// Errors of a worker step (logged by the loop; the run is retried after its lease).
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] RepoError),
    /// Stored state could not be decoded.
    #[error("corrupt run {0}: {1}")]
    Corrupt(String, String),
}

/// Claims and executes runs.
pub struct RunWorker {
    repo: Arc<dyn SessionRepository>,
    live: CheckRegistry,
    sandbox: CheckRegistry,
    cipher: Cipher,
    clock: Arc<dyn Clock>,
    settings: WorkerSettings,
}

impl RunWorker {
    /// Builds a worker; `live` executes live sessions' checks, `sandbox` sandbox ones.
    pub fn new(
        repo: Arc<dyn SessionRepository>,
        live: CheckRegistry,
        sandbox: CheckRegistry,
        cipher: Cipher,
        clock: Arc<dyn Clock>,
        settings: WorkerSettings,
    ) -> Self {
        Self {
            repo,
            live,
            sandbox,
            cipher,
            clock,
            settings,
        }
    }

    /// Claims one runnable run and drives it until it waits; returns whether there was one.
    pub async fn tick(&self) -> Result<bool, WorkerError> {
        let now = self.clock.now();
        let Some(run) = self
            .repo
            .claim_run(&self.settings.owner, now, now + self.settings.lease)
            .await?
        else {
            return Ok(false);
        };
        let id = run.id.clone();
        match self.drive(run).await {
            Ok(()) => Ok(true),
            // Another worker took over (our lease lapsed): not an error of the run.
            Err(WorkerError::Store(RepoError::Conflict(_))) => {
                tracing::warn!(run_id = %id, "lost the lease of a run; another worker continues it");
                Ok(true)
            }
            Err(e) => Err(e),
        }
    }

    /// Runs ticks until no run is runnable (tests, benchmarks, shutdown drain).
    pub async fn run_until_idle(&self) -> Result<usize, WorkerError> {
        let mut n = 0;
        while self.tick().await? {
            n += 1;
        }
        Ok(n)
    }

    async fn drive(&self, mut run: RunRecord) -> Result<(), WorkerError> {
        let graph: Graph = serde_json::from_str(&run.graph_snapshot)
            .map_err(|e| WorkerError::Corrupt(run.id.clone(), e.to_string()))?;
        let mut state: RunState = serde_json::from_str(&run.state)
            .map_err(|e| WorkerError::Corrupt(run.id.clone(), e.to_string()))?;
        let mut work: Option<PendingWork> = match run.next_event.as_deref() {
            Some(raw) => Some(
                serde_json::from_str(raw)
                    .map_err(|e| WorkerError::Corrupt(run.id.clone(), e.to_string()))?,
            ),
            None => None,
        };
        let mut due = run.runnable_at;
        // What checks see of the session (facts, fields, documents) does not change while a run
        // holds its lease (uploads are refused once processing), so it is read once per claim.
        let mut inputs: Option<CheckInputs> = None;
        loop {
            let now = self.clock.now();
            // No due time means the run waits for an outside event (a gate decision).
            let Some(current) = work.take().filter(|_| due.is_some_and(|at| at <= now)) else {
                return self.park(run).await;
            };
            let event = match current {
                PendingWork::Apply { event } => event,
                PendingWork::Execute {
                    node_id,
                    policy,
                    config,
                    attempt,
                } => {
                    if inputs.is_none() {
                        inputs = Some(self.check_inputs(&run).await?);
                    }
                    let inputs = inputs.as_ref().ok_or_else(|| {
                        WorkerError::Corrupt(run.id.clone(), "check inputs missing".into())
                    })?;
                    self.execute(&run, &state, inputs, &node_id, &policy, config, attempt)
                        .await
                }
            };
            let before_attempts = state.attempts.len();
            let before_status = state.status;
            let effects = match workflow::step(&graph, &state, event, now, &self.settings.executor)
            {
                Ok(t) => {
                    state = t.state;
                    t.effects
                }
                Err(e) => {
                    tracing::error!(run_id = %run.id, error = %e, "the engine refused an event; failing the run");
                    state.status = RunStatus::Failed;
                    Vec::new()
                }
            };
            let next = next_work(&effects, now);
            let executions = self.executions(&run, &state, before_attempts);
            let session_change = self
                .session_change(&run, &state, before_status, &effects, now)
                .await?;
            let continue_now = next
                .as_ref()
                .is_some_and(|(_, at)| at.is_some_and(|at| at <= now));
            if continue_now && executions.is_empty() && session_change.is_none() {
                // A step that only routed (start, a due retry, a resume) has no outside effect
                // and is replayed exactly after a crash, so it is committed with the check that
                // follows it rather than on its own.
                (work, due) = next.map_or((None, None), |(w, at)| (Some(w), at));
                continue;
            }
            let expected = run.revision;
            run.state = serde_json::to_string(&state)
                .map_err(|e| WorkerError::Corrupt(run.id.clone(), e.to_string()))?;
            run.status = run_status_name(state.status);
            run.final_status = state.final_status.map(outcome_name);
            run.current_node = state.current_node.clone();
            run.paused_at_node = state.paused_at_node.clone();
            run.started_at = state.started_at;
            run.completed_at = state.completed_at;
            run.duration_ms = state.duration_ms;
            run.next_event = next
                .as_ref()
                .and_then(|(w, _)| serde_json::to_string(w).ok());
            // Work that goes on at once keeps the due time it was claimed at: the run row then
            // changes no indexed column, so Postgres can update it in place (HOT) instead of
            // adding an entry to the claim index at every step.
            let next_at = next.as_ref().and_then(|(_, at)| *at);
            run.runnable_at = if continue_now {
                run.runnable_at.filter(|at| *at <= now).or(next_at)
            } else {
                next_at
            };
            run.revision += 1;
            run.updated_at = now;
            // A run with nothing due now gives its lease back in the same commit (the lapsed
            // `lease_until` frees it; the owner stays so the revision fence still holds).
            run.lease_until = continue_now.then(|| now + self.settings.lease);
            self.repo
                .commit_run(&run, expected, &executions, session_change.as_ref())
                .await?;
            if !continue_now {
                return Ok(());
            }
            (work, due) = next.map_or((None, None), |(w, at)| (Some(w), at));
        }
    }

    /// Releases the lease of a run that has nothing to do now.
    async fn park(&self, mut run: RunRecord) -> Result<(), WorkerError> {
        let expected = run.revision;
        run.lease_owner = Some(self.settings.owner.clone());
        run.lease_until = None;
        run.revision += 1;
        // Clearing the owner in the same statement as the fence would break the fence; the
        // lapsed `lease_until` is what frees the run for the next claimer.
        self.repo.commit_run(&run, expected, &[], None).await?;
        Ok(())
    }

    /// Reads the session, its fields and its documents for the checks of a run.
    async fn check_inputs(&self, run: &RunRecord) -> Result<CheckInputs, WorkerError> {
        let session = self.repo.get(&run.tenant, &run.session_id).await?;
        let docs = self.repo.documents(&run.tenant, &run.session_id).await?;
        let documents = docs
            .iter()
            .map(|d| DocumentRef {
                id: d.id.clone(),
                document_type: d.document_type.clone(),
                mime_type: d.mime_type.clone(),
                text: d.text_encrypted.as_deref().and_then(|t| {
                    self.cipher
                        .open_text(t, &format!("document-text:{}", d.id))
                        .ok()
                }),
            })
            .collect();
        let fields = decrypt_fields(&self.cipher, &session);
        Ok(CheckInputs {
            session,
            fields,
            documents,
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn execute(
        &self,
        run: &RunRecord,
        state: &RunState,
        inputs: &CheckInputs,
        node_id: &str,
        policy: &str,
        config: Value,
        attempt: u32,
    ) -> Event {
        let registry = if run.tenant.environment.is_sandbox() {
            &self.sandbox
        } else {
            &self.live
        };
        let request = CheckRequest {
            tenant: run.tenant.clone(),
            session_id: run.session_id.clone(),
            run_id: run.id.clone(),
            node_id: node_id.to_owned(),
            policy: policy.to_owned(),
            config,
            attempt,
            context: check_context(state, &inputs.session, inputs.fields.clone()),
            documents: inputs.documents.clone(),
            today: self.clock.now().date_naive(),
        };
        let started = Instant::now();
        let outcome = match registry.get(policy) {
            Some(executor) => executor.execute(&request).await,
            None => verifa_ports::checks::CheckOutcome::error(format!(
                "no executor is registered for policy '{policy}'"
            )),
        };
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        Event::CheckFinished {
            node_id: node_id.to_owned(),
            attempt,
            status: outcome.status,
            output: outcome.output,
            error: outcome.error,
            duration_ms,
        }
    }

    fn executions(
        &self,
        run: &RunRecord,
        state: &RunState,
        from: usize,
    ) -> Vec<NodeExecutionRecord> {
        state
            .attempts
            .iter()
            .skip(from)
            .map(|a| NodeExecutionRecord {
                id: new_id("nex"),
                run_id: run.id.clone(),
                tenant: run.tenant.clone(),
                session_id: run.session_id.clone(),
                workflow_id: run.workflow_id.clone(),
                workflow_version: run.workflow_version,
                node_id: a.node_id.clone(),
                node_type: "policy".into(),
                policy: Some(a.policy.clone()),
                status: a.status.as_str().to_owned(),
                attempt: i32::try_from(a.attempt).unwrap_or(i32::MAX),
                output: Some(a.output.clone()),
                error: a.error.clone(),
                started_at: a.started_at,
                completed_at: a.completed_at,
                duration_ms: i64::try_from(a.duration_ms).unwrap_or(i64::MAX),
            })
            .collect()
    }

    /// The session change a step causes (paused, completed, failed), if any.
    async fn session_change(
        &self,
        run: &RunRecord,
        state: &RunState,
        before: RunStatus,
        effects: &[Effect],
        now: DateTime<Utc>,
    ) -> Result<Option<SessionChange>, WorkerError> {
        let paused = effects
            .iter()
            .any(|e| matches!(e, Effect::PauseAtGate { .. }));
        let completed = state.status == RunStatus::Completed && before != RunStatus::Completed;
        let failed = state.status == RunStatus::Failed && before != RunStatus::Failed;
        if !(paused || completed || failed) {
            return Ok(None);
        }
        let session = self.repo.get(&run.tenant, &run.session_id).await?;
        let mut next = session.clone();
        next.updated_at = now;
        let mut change = SessionChange {
            expected_status: session.status,
            session: next,
            events: vec![],
            result: None,
            clear_result: false,
            run: None,
        };
        if paused {
            change.session.status = SessionStatus::AwaitingExternal;
            let gate = state.paused_at_node.clone();
            change.events.push(event(
                "session.awaiting_external",
                &change.session,
                json!({"workflow_run_id": run.id, "paused_at_node": gate}),
            ));
        } else if completed {
            let outcome = state
                .final_status
                .map(outcome_name)
                .unwrap_or_else(|| "needs_review".into());
            let (status, event_type) = status_for_outcome(&outcome);
            change.session.status = status;
            change.session.completed_at = Some(now);
            let result = self.result_record(run, state, &session, &outcome, now);
            let summary = json!({"result": {"status": outcome, "face_match_passed": result.result["face_match_passed"], "age_check_passed": result.result["age_check_passed"]}, "workflow_run_id": run.id});
            change
                .events
                .push(event(event_type, &change.session, summary));
            change.result = Some(result);
        } else {
            change.session.status = SessionStatus::Failed;
        }
        Ok(Some(change))
    }

    fn result_record(
        &self,
        run: &RunRecord,
        state: &RunState,
        session: &SessionRecord,
        outcome: &str,
        now: DateTime<Utc>,
    ) -> ResultRecord {
        let mut check_results = Map::new();
        for a in &state.attempts {
            check_results.insert(
                a.policy.clone(),
                json!({"status": a.status.as_str(), "passed": a.status == CheckStatus::Passed}),
            );
        }
        let latest = |policy: &str| state.attempts.iter().rev().find(|a| a.policy == policy);
        let face = latest("face_match");
        let age = latest("age_verification");
        let rejection_reason = (outcome == "rejected").then(|| {
            state
                .attempts
                .iter()
                .rev()
                .find(|a| a.status == CheckStatus::Failed)
                .map(|a| {
                    a.error
                        .clone()
                        .unwrap_or_else(|| format!("{} failed", a.policy))
                })
                .unwrap_or_else(|| "Rejected by the workflow.".into())
        });
        let extracted = &state.context.extracted_data;
        let country_used = session.country.clone().or_else(|| {
            extracted
                .get("document_issuing_state")
                .or(extracted.get("nationality"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
        ResultRecord {
            session_id: session.id.clone(),
            tenant: session.tenant.clone(),
            status: outcome.to_owned(),
            result: json!({
                "face_match_passed": face.map(|a| a.status == CheckStatus::Passed),
                "face_match_score": face.and_then(|a| a.output.get("face_match_score").or(a.output.get("score")).cloned()),
                "age_check_passed": age.map(|a| a.status == CheckStatus::Passed),
                "extracted_age": age.and_then(|a| a.output.get("age").cloned()),
                "processing_mode": "workflow",
                "country_used": country_used,
                "check_results": check_results,
            }),
            extracted_data_encrypted: (!extracted.is_empty()).then(|| {
                self.cipher.seal_text(
                    &Value::Object(extracted.clone()).to_string(),
                    &format!("result:{}", session.id),
                )
            }),
            rejection_reason,
            workflow_run_id: Some(run.id.clone()),
            simulated: run.simulated,
            created_at: now,
            updated_at: now,
        }
    }
}

/// The check context: latest result per policy, extracted data, session facts and fields.
pub fn check_context(
    state: &RunState,
    session: &SessionRecord,
    fields: Map<String, Value>,
) -> Value {
    let mut checks = Map::new();
    for a in &state.attempts {
        let mut entry = match &a.output {
            Value::Object(m) => m.clone(),
            _ => Map::new(),
        };
        entry.insert("status".into(), Value::String(a.status.as_str().to_owned()));
        checks.insert(a.policy.clone(), Value::Object(entry));
    }
    json!({
        "checks": checks,
        "extracted_data": state.context.extracted_data,
        "session": {
            "country": session.country,
            "metadata": session.metadata,
            "is_sandbox": session.tenant.environment.is_sandbox(),
            "fields": fields,
        }
    })
}

/// What to store as the run's next work after a step, and when it is due.
fn next_work(
    effects: &[Effect],
    now: DateTime<Utc>,
) -> Option<(PendingWork, Option<DateTime<Utc>>)> {
    effects.iter().rev().find_map(|e| match e {
        Effect::ExecuteCheck {
            node_id,
            policy,
            config,
            attempt,
        } => Some((
            PendingWork::Execute {
                node_id: node_id.clone(),
                policy: policy.clone(),
                config: config.clone(),
                attempt: *attempt,
            },
            Some(now),
        )),
        Effect::ScheduleRetry { node_id, at, .. } => Some((
            PendingWork::Apply {
                event: Event::RetryDue {
                    node_id: node_id.clone(),
                },
            },
            Some(*at),
        )),
        Effect::PauseAtGate {
            node_id,
            timeout_at,
        } => Some((
            PendingWork::Apply {
                event: Event::GateTimeout {
                    node_id: node_id.clone(),
                },
            },
            *timeout_at,
        )),
        Effect::Complete { .. } => None,
    })
}

/// What the checks of one claimed run read from the session.
struct CheckInputs {
    session: SessionRecord,
    fields: Map<String, Value>,
    documents: Vec<DocumentRef>,
}

/// Wire name of a run status.
pub fn run_status_name(s: RunStatus) -> String {
    match s {
        RunStatus::Pending => "pending",
        RunStatus::Running => "running",
        RunStatus::Paused => "paused",
        RunStatus::Completed => "completed",
        RunStatus::Failed => "failed",
    }
    .to_owned()
}

/// Wire name of an outcome.
pub fn outcome_name(o: Outcome) -> String {
    match o {
        Outcome::Approved => "approved",
        Outcome::Rejected => "rejected",
        Outcome::NeedsReview => "needs_review",
    }
    .to_owned()
}
