//! `POST /sessions/{id}/simulate` (sandbox only): the session is decided as a real run of its
//! workflow would decide it, on the sandbox's values. The workflow (the session's, else the
//! default) is simulated to the outcome asked for ([`simulate_outcome`]): its run is recorded
//! with the workflow and version it pinned, and the result reads its per-check results from
//! that run, as a real decision does. Without any workflow the reference's standard checks
//! (`document_ocr`, `face_match`, `age_verification`) are simulated and no run is recorded.

use super::{SessionService, change_by, illegal, mutate};
use crate::actor::By;
use crate::api_keys::Caller;
use crate::error::AppError;
use crate::ids::{new_id, prefix};
use crate::runs::sandbox_extracted_data;
use serde_json::json;
use verifa_domain::case::CaseSource;
use verifa_domain::run::{PinnedVersion, WorkflowRun, verdict_of};
use verifa_domain::session::{self, Action, ProcessingMode, Session, SimulateAction};
use verifa_domain::workflow::dry_run::DryRunSession;
use verifa_domain::workflow::{
    DryRunInput, Graph, Outcome, Simulation, Step, simulate_outcome, steps_to_graph,
};
use verifa_ports::sessions::{ResultRecord, RunWrite};

/// The checks simulated when the organization has no workflow.
const STANDARD_CHECKS: [&str; 3] = ["document_ocr", "face_match", "age_verification"];

impl SessionService {
    /// Sandbox outcome: decides the session as its workflow would, and records the events.
    pub async fn simulate(
        &self,
        caller: &Caller,
        id: &str,
        action: &str,
    ) -> Result<(Session, SimulateAction), AppError> {
        self.simulate_from(caller, id, action, CaseSource::Simulate)
            .await
    }

    /// [`Self::simulate`], naming what opens the case of a review (`simulate` or `demo`).
    pub(crate) async fn simulate_from(
        &self,
        caller: &Caller,
        id: &str,
        action: &str,
        source: CaseSource,
    ) -> Result<(Session, SimulateAction), AppError> {
        let current = self.get(caller, id).await?;
        if !current.tenant.environment.is_sandbox() {
            return Err(AppError::Forbidden {
                code: "sandbox_only",
                detail: "Simulation is only available with sandbox keys.".into(),
            });
        }
        let Some(action) = SimulateAction::parse(action) else {
            return Err(AppError::invalid(
                "action",
                "must be one of approve, decline, require-review, expire",
            ));
        };
        let simulation = Action::Simulate {
            outcome: Outcome::Approved,
        };
        session::check(&current, &simulation).map_err(illegal)?;
        let Some(outcome) = session::simulated_outcome(action) else {
            return self.expire(caller, id).await.map(|s| (s, action));
        };
        let session = mutate!(self, &current.tenant, id, |current| async {
            let now = self.clock.now();
            let t = session::transition(&current, Action::Simulate { outcome }, now)
                .map_err(illegal)?;
            let pinned = self.simulated_workflow(&current).await?;
            let graph = pinned
                .as_ref()
                .map_or_else(standard_graph, |p| p.graph.clone());
            let Simulation { state, forced } =
                simulate_outcome(&graph, outcome, &input_of(&current), &*self.sandbox, now)
                    .map_err(|e| AppError::Internal(format!("simulating the workflow: {e}")))?;
            let mut verdict = verdict_of(&state, outcome);
            verdict.summary.processing_mode = ProcessingMode::Simulated;
            if forced && outcome == Outcome::Rejected {
                verdict.rejection_reason =
                    Some("Simulated decline (no check of the workflow rejects).".into());
            }
            let extracted = if state.context.extracted_data.is_empty() {
                sandbox_extracted_data()
            } else {
                state.context.extracted_data.clone()
            };
            let run = pinned
                .map(|p| WorkflowRun::simulated(new_id(prefix::RUN), &current, p, state, now));
            let lookups = crate::identities::result_lookups(
                &self.lookup_key,
                &extracted,
                &super::open_fields(&self.cipher, &current),
            );
            let result = ResultRecord {
                session_id: current.id.clone(),
                tenant: current.tenant.clone(),
                verdict,
                extracted_data_sealed: super::seal_extracted(&self.cipher, &current, &extracted)?,
                lookups: Some(lookups),
                workflow_run_id: run.as_ref().map(|r| r.id.clone()),
                simulated: true,
                case_id: None,
                decided_by: None,
                created_at: now,
                updated_at: now,
            };
            let change = crate::identities::feeding_identity(
                change_by(t, &Action::Simulate { outcome }, By::Caller(caller)).with_result(result),
                By::Caller(caller),
            );
            let review = crate::cases::policy_for(&change, self.org_settings.as_ref()).await?;
            let planned = crate::cases::opening_case(change, source, By::Caller(caller), review);
            Ok(match run {
                Some(run) => planned.with_run(RunWrite::Start(Box::new(run))),
                None => planned,
            })
        }
        .await)?;
        Ok((session, action))
    }

    /// The version a run of the session would pin: its workflow's, else the default's; `None`
    /// when the organization has no workflow.
    async fn simulated_workflow(
        &self,
        current: &Session,
    ) -> Result<Option<PinnedVersion>, AppError> {
        let chosen = match &current.workflow_id {
            Some(w) => Some(w.clone()),
            None => self
                .workflows
                .get_default(&current.tenant)
                .await?
                .map(|w| w.id),
        };
        match chosen {
            Some(w) => self
                .pinned_version(&current.tenant, &w, &current.id)
                .await
                .map(Some),
            None => Ok(None),
        }
    }
}

/// The session's facts as a dry-run sees them.
fn input_of(session: &Session) -> DryRunInput {
    DryRunInput {
        session: DryRunSession {
            country: session.country.clone(),
            metadata: session.metadata.clone(),
            is_sandbox: true,
        },
        ..DryRunInput::default()
    }
}

fn standard_graph() -> Graph {
    let steps: Vec<Step> = STANDARD_CHECKS
        .iter()
        .map(|policy| Step {
            policy: (*policy).to_owned(),
            config: json!({}),
        })
        .collect();
    steps_to_graph(&steps)
}
