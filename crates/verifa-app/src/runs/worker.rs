//! [`RunWorker`]: claims a runnable run, drives it step by step through the pure
//! [`advance`](verifa_domain::run::advance) until it waits, and commits each step that has an
//! outside effect (a check's attempt, a session change) under its lease.

use super::inputs::{CheckCall, CheckInputs, execute};
use super::stats::{Timed, WorkerStats};
use crate::actor::By;
use crate::crypto::Cipher;
use crate::ids::new_id;
use crate::ports::Ports;
use crate::sessions::change;
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;
use std::time::Instant;
use verifa_domain::identity::CompletionOutcome;
use verifa_domain::run::{Work, WorkflowRun, advance};
use verifa_domain::session::{self, Action, Verdict};
use verifa_domain::workflow::ExecutorSettings;
use verifa_ports::RepoError;
use verifa_ports::cases::{CaseStore, CaseUpdate};
use verifa_ports::checks::CheckRegistry;
use verifa_ports::clock::Clock;
use verifa_ports::runs::{NewAttempt, RunStore};
use verifa_ports::sessions::{ResultRecord, SessionChange, SessionDocuments, SessionStore};
use verifa_ports::settings::SettingsStore;

/// How often a step's commit is retried when its session changed meanwhile.
const SESSION_RETRIES: usize = 8;

/// Worker tuning.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Identity of this worker (unique per process).
    pub owner: String,
    /// How long a claim holds without renewal.
    pub lease: Duration,
    /// Retry backoff given to the engine.
    pub executor: ExecutorSettings,
    /// Keys the identity-search lookup hashes of the results it writes.
    pub lookup_key: crate::crypto::LookupKey,
}

/// Errors of a worker step (logged by the loop; the run is retried after its lease).
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] RepoError),
}

/// Claims and executes runs.
pub struct RunWorker {
    sessions: Arc<dyn SessionStore>,
    documents: Arc<dyn SessionDocuments>,
    runs: Arc<dyn RunStore>,
    cases: Arc<dyn CaseStore>,
    org_settings: Arc<dyn SettingsStore>,
    live: CheckRegistry,
    sandbox: CheckRegistry,
    cipher: Cipher,
    clock: Arc<dyn Clock>,
    settings: WorkerSettings,
    stats: Arc<WorkerStats>,
}

impl RunWorker {
    /// Builds a worker; `live` executes live sessions' checks, `sandbox` sandbox ones.
    pub fn new(
        ports: &Ports,
        live: CheckRegistry,
        sandbox: CheckRegistry,
        cipher: Cipher,
        settings: WorkerSettings,
    ) -> Self {
        Self {
            sessions: ports.sessions.clone(),
            documents: ports.session_documents.clone(),
            runs: ports.runs.clone(),
            cases: ports.cases.clone(),
            org_settings: ports.settings.clone(),
            live,
            sandbox,
            cipher,
            clock: ports.clock.clone(),
            settings,
            stats: Arc::new(WorkerStats::default()),
        }
    }

    /// What this worker did so far.
    pub fn stats(&self) -> Arc<WorkerStats> {
        self.stats.clone()
    }

    /// Claims one runnable run and drives it until it waits; returns whether there was one.
    pub async fn tick(&self) -> Result<bool, WorkerError> {
        let now = self.clock.now();
        let started = Instant::now();
        let claimed = self
            .runs
            .claim_run(&self.settings.owner, now, now + self.settings.lease)
            .await?;
        self.stats.record(
            Timed::Claim {
                got_one: claimed.is_some(),
            },
            started,
        );
        let Some(run) = claimed else {
            return Ok(false);
        };
        let id = run.id.clone();
        match self.drive(run).await {
            Ok(()) => Ok(true),
            // Another worker took over (our lease lapsed): not an error of the run.
            Err(WorkerError::Store(RepoError::Conflict(_))) => {
                self.stats.lost_lease();
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

    async fn drive(&self, mut run: WorkflowRun) -> Result<(), WorkerError> {
        let mut inputs: Option<CheckInputs> = None;
        loop {
            let now = self.clock.now();
            let Some(work) = run.take_due_work(now) else {
                return self.park(run).await;
            };
            let event = match work {
                Work::Apply { event } => event,
                Work::Execute {
                    node_id,
                    policy,
                    config,
                    attempt,
                } => {
                    let inputs = match &inputs {
                        Some(i) => i,
                        None => {
                            let started = Instant::now();
                            let read = CheckInputs::read(
                                &run,
                                self.sessions.as_ref(),
                                self.documents.as_ref(),
                                &self.cipher,
                            )
                            .await?;
                            self.stats.record(Timed::Read, started);
                            inputs.insert(read)
                        }
                    };
                    let call = CheckCall {
                        node_id: &node_id,
                        policy: &policy,
                        config,
                        attempt,
                    };
                    let started = Instant::now();
                    let event =
                        execute(self.registry(&run), &run, inputs, call, now.date_naive()).await;
                    self.stats.record(Timed::Check, started);
                    event
                }
            };
            let step = advance(&mut run, event, now, &self.settings.executor);
            if let Some(e) = &step.refused {
                tracing::error!(run_id = %run.id, error = %e, "the engine refused an event; failing the run");
            }
            if !step.must_commit() {
                continue;
            }
            let attempts: Vec<NewAttempt> = step
                .new_attempts
                .into_iter()
                .map(|attempt| NewAttempt {
                    id: new_id("nex"),
                    attempt,
                })
                .collect();
            let decided = step.verdict.is_some();
            let expected = run.revision;
            run.revision += 1;
            // A run with nothing due now gives its lease back in the same commit (the lapsed
            // `until` frees it; the owner stays so the revision fence still holds).
            run.lease.until = step.continues.then(|| now + self.settings.lease);
            self.commit_step(&run, expected, &attempts, step.session, step.verdict, now)
                .await?;
            if decided {
                self.stats.decided();
            }
            if !step.continues {
                return Ok(());
            }
        }
    }

    /// Commits a step with the session change it implies. The change is fenced on the
    /// session's revision: when the session changed meanwhile (a metadata update) while the run
    /// is still ours, the change is built again from the fresh session and the commit retried.
    async fn commit_step(
        &self,
        run: &WorkflowRun,
        expected: i32,
        attempts: &[NewAttempt],
        action: Option<Action>,
        verdict: Option<Verdict>,
        now: DateTime<Utc>,
    ) -> Result<(), WorkerError> {
        for _ in 0..SESSION_RETRIES {
            let started = Instant::now();
            let change = self
                .session_change(run, action.clone(), verdict.clone(), now)
                .await?;
            if change.is_some() {
                self.stats.record(Timed::Read, started);
            }
            let started = Instant::now();
            match self
                .runs
                .commit_run(run, expected, attempts, change.as_ref())
                .await
            {
                Ok(()) => {
                    self.stats.record(Timed::Commit { park: false }, started);
                    return Ok(());
                }
                Err(RepoError::Conflict(_))
                    if change.is_some() && self.holds(run, expected).await? => {}
                Err(e) => return Err(e.into()),
            }
        }
        Err(WorkerError::Store(RepoError::Conflict(
            "the session kept changing under the run's commit".into(),
        )))
    }

    /// Whether the stored run is still the one this worker claimed (same revision and owner).
    async fn holds(&self, run: &WorkflowRun, expected: i32) -> Result<bool, WorkerError> {
        let stored = self
            .runs
            .run_for_session(&run.tenant, &run.session_id)
            .await?;
        Ok(stored.is_some_and(|s| {
            s.id == run.id && s.revision == expected && s.lease.owner == run.lease.owner
        }))
    }

    fn registry(&self, run: &WorkflowRun) -> &CheckRegistry {
        if run.tenant.environment.is_sandbox() {
            &self.sandbox
        } else {
            &self.live
        }
    }

    /// Releases the lease of a run that has nothing to do now.
    async fn park(&self, mut run: WorkflowRun) -> Result<(), WorkerError> {
        let expected = run.revision;
        run.lease.owner = Some(self.settings.owner.clone());
        run.lease.until = None;
        run.revision += 1;
        let started = Instant::now();
        self.runs.commit_run(&run, expected, &[], None).await?;
        self.stats.record(Timed::Commit { park: true }, started);
        Ok(())
    }

    /// The session change a step implies (paused, completed, failed), if any. A session that
    /// moved on meanwhile (expired while its run went on) is left as it is: the run still ends.
    async fn session_change(
        &self,
        run: &WorkflowRun,
        action: Option<Action>,
        verdict: Option<Verdict>,
        now: DateTime<Utc>,
    ) -> Result<Option<SessionChange>, WorkerError> {
        let Some(action) = action else {
            return Ok(None);
        };
        let current = self.sessions.get(&run.tenant, &run.session_id).await?;
        let (action, verdict, case) = self.under_case(&current, run, action, verdict, now).await?;
        let t = match session::transition(&current, action, now) {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(run_id = %run.id, session_id = %run.session_id, error = %e,
                    "the run moved on but its session no longer follows it");
                return Ok(None);
            }
        };
        let mut change = change(t);
        if let Some(verdict) = verdict {
            let mut result = self.result_record(run, &current, verdict, now)?;
            if let Some(update) = &case {
                result.case_id = Some(update.case.id.clone());
                result.decided_by = update.case.decided_by.clone();
            }
            change = change.with_result(result);
        }
        // A case decision's rejection is the reviewer's (`rejected`), not the workflow's.
        let decided = case
            .as_ref()
            .and_then(|u| u.case.decision)
            .map(|d| match d {
                verifa_domain::case::Decision::Approved => CompletionOutcome::Approved,
                verifa_domain::case::Decision::Rejected => CompletionOutcome::Rejected,
            });
        if let Some(update) = case {
            change = change.updating_case(update);
        }
        let change = crate::identities::feeding_identity_as(change, By::System, decided);
        let review = crate::cases::policy_for(&change, self.org_settings.as_ref()).await?;
        Ok(Some(crate::cases::opening_case(
            change,
            verifa_domain::case::CaseSource::Workflow,
            By::System,
            review,
        )))
    }

    /// A run that ends while its session has an active case (a reviewer's override resumed
    /// it) ends under that case: the outcome may become the case's decision or go back to
    /// review (see [`crate::cases::ending_under_case`]).
    async fn under_case(
        &self,
        current: &session::Session,
        run: &WorkflowRun,
        action: Action,
        verdict: Option<Verdict>,
        now: DateTime<Utc>,
    ) -> Result<(Action, Option<Verdict>, Option<CaseUpdate>), WorkerError> {
        let (Action::RunCompleted { source, .. }, Some(mut verdict), Some(case_id)) =
            (&action, verdict.clone(), current.case_id.as_deref())
        else {
            return Ok((action, verdict, None));
        };
        if !current.case_status.is_some_and(|c| c.is_active()) {
            return Ok((action, Some(verdict), None));
        }
        let case = self.cases.get(&run.tenant, case_id).await?;
        let (outcome, update) = crate::cases::ending_under_case(case, run, &verdict, now);
        if outcome != verdict.outcome {
            verdict.outcome = outcome;
            verdict.rejection_reason = None;
        }
        let action = Action::RunCompleted {
            outcome,
            source: source.clone(),
        };
        Ok((action, Some(verdict), update))
    }

    fn result_record(
        &self,
        run: &WorkflowRun,
        session: &session::Session,
        verdict: Verdict,
        now: DateTime<Utc>,
    ) -> Result<ResultRecord, RepoError> {
        let extracted = &run.state.context.extracted_data;
        let fields = crate::sessions::open_fields(&self.cipher, session);
        Ok(ResultRecord {
            session_id: run.session_id.clone(),
            tenant: run.tenant.clone(),
            verdict,
            // A data key that does not open is a corrupt session row: the step fails as on
            // any corrupt row and the run's lease lets it be retried.
            extracted_data_sealed: crate::sessions::seal_extracted(
                &self.cipher,
                session,
                extracted,
            )
            .map_err(|e| RepoError::Corrupt(e.to_string()))?,
            lookups: Some(crate::identities::result_lookups(
                &self.settings.lookup_key,
                extracted,
                &fields,
            )),
            workflow_run_id: Some(run.id.clone()),
            simulated: run.simulated,
            case_id: None,
            decided_by: None,
            created_at: now,
            updated_at: now,
        })
    }
}
