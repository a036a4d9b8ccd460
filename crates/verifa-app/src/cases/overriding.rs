//! Override and continue (CONTRACT §8.4): the case's assignee overrides a failed or errored
//! check of the session's run, which goes on at the node's `on_pass`; when that run ends, the
//! case it came from takes its outcome ([`ending_under_case`]).
//!
//! In one transaction the case counts the reviewer's activity, the session goes
//! `under_review` → `processing`, and the run is queued the engine's `OverrideCheck` (fenced on
//! the run's revision). The run worker applies it at once: the node becomes `passed` with its
//! `override` record and the walk goes on. The engine's own rule ([`overridable`]) is checked
//! here first, so a refused override is a 422 and never a failed run.

use super::CaseService;
use super::actions::{events, refused};
use crate::actor::{By, Caller};
use crate::error::AppError;
use crate::retry::{retrying, written};
use crate::sessions::change_by;
use chrono::{DateTime, Utc};
use verifa_domain::case::{Case, CaseEvent, Decided, Decision};
use verifa_domain::run::WorkflowRun;
use verifa_domain::session::{self, Action, SessionStatus, Verdict};
use verifa_domain::workflow::{Event, Outcome, overridable};
use verifa_ports::cases::CaseUpdate;
use verifa_ports::sessions::RunWrite;

/// The longest override reason.
pub const MAX_OVERRIDE_REASON_LEN: usize = 2_000;

/// `POST /cases/{id}/override-check-and-continue`, as received.
#[derive(Debug, Clone)]
pub struct OverrideRequest {
    /// The policy node to override.
    pub node_id: String,
    /// Why (1 to [`MAX_OVERRIDE_REASON_LEN`] characters).
    pub reason: String,
    /// The reviewer; must hold the case.
    pub reviewer_id: String,
}

/// What an accepted override answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overridden {
    /// The case.
    pub case_id: String,
    /// Its session.
    pub session_id: String,
    /// The node overridden.
    pub node_id: String,
    /// The session's status now (`processing`).
    pub status: SessionStatus,
}

impl CaseService {
    /// Overrides a check of the case's run for its assignee and lets the run go on.
    pub async fn override_and_continue(
        &self,
        caller: &Caller,
        id: &str,
        request: OverrideRequest,
    ) -> Result<Overridden, AppError> {
        let reason = request.reason.trim().to_owned();
        if reason.is_empty() || reason.chars().count() > MAX_OVERRIDE_REASON_LEN {
            return Err(AppError::invalid(
                "reason",
                format!("is required, 1 to {MAX_OVERRIDE_REASON_LEN} characters"),
            ));
        }
        if request.node_id.trim().is_empty() {
            return Err(AppError::invalid("node_id", "is required"));
        }
        let reviewer = self.reviewer(caller, &request.reviewer_id).await?;
        let overridden = retrying!(
            "the case",
            async {
                let mut case = self.get(caller, id).await?;
                let now = self.clock.now();
                case.override_check(&reviewer, now).map_err(refused)?;
                case.updated_at = now;
                let current = self
                    .sessions
                    .get(&case.tenant, &case.session_id)
                    .await
                    .map_err(AppError::from_repo("session"))?;
                let mut run = self
                    .runs
                    .run_for_session(&case.tenant, &case.session_id)
                    .await?
                    .ok_or_else(|| {
                        AppError::invalid("node_id", "the case's session has no workflow run")
                    })?;
                let Some(graph) = run.graph.as_ref() else {
                    return Err(AppError::invalid(
                        "node_id",
                        "the session's run was simulated and has no workflow graph",
                    ));
                };
                overridable(graph, &run.state, &request.node_id)
                    .map_err(|e| AppError::invalid("node_id", e.to_string()))?;
                let action = Action::ContinueAfterOverride {
                    case_id: case.id.clone(),
                };
                let t = session::transition(&current, action.clone(), now)
                    .map_err(|e| AppError::InvalidState(e.to_string()))?;
                let expected_revision = run.revision;
                run.queue(
                    Event::OverrideCheck {
                        node_id: request.node_id.clone(),
                        by: reviewer.clone(),
                        reason: reason.clone(),
                    },
                    now,
                );
                run.revision += 1;
                let change = change_by(t, &action, By::Caller(caller)).with_run(RunWrite::Update {
                    run: Box::new(run),
                    expected_revision,
                });
                // The reason is free text: it goes into the case's notes, not the audit trail.
                let audit = caller
                    .audit("case.check_overridden", "case", &case.id, now)
                    .with_changes(["workflow_run", "last_activity_at"])
                    .with_metadata("node_id", request.node_id.clone())
                    .with_metadata("reviewer_id", reviewer.clone());
                let outcome = self.store.update(&case, Some(&change), &[], &[audit]).await;
                let status = change.session.status;
                written(
                    outcome,
                    Overridden {
                        case_id: case.id.clone(),
                        session_id: case.session_id.clone(),
                        node_id: request.node_id.clone(),
                        status,
                    },
                )
            }
            .await
        )?;
        let note = format!("Overrode check '{}': {reason}", overridden.node_id);
        self.note_if_any(caller, &overridden.case_id, Some(&note), Some(&reviewer))
            .await?;
        Ok(overridden)
    }
}

/// How a run that an override resumed ends under its active case: the outcome the session
/// takes and the case update that goes with it.
///
/// `approved` / `rejected` decide the case for the reviewer who overrode (under dual review
/// their decision is the recommendation and the session goes back to review); `needs_review`
/// leaves the case as it is. A case that its reviewer no longer holds (released, reassigned)
/// is left for a person: the session goes back to review.
pub(crate) fn ending_under_case(
    mut case: Case,
    run: &WorkflowRun,
    verdict: &Verdict,
    now: DateTime<Utc>,
) -> (Outcome, Option<CaseUpdate>) {
    let decision = match verdict.outcome {
        Outcome::Approved => Decision::Approved,
        Outcome::Rejected => Decision::Rejected,
        Outcome::NeedsReview => return (Outcome::NeedsReview, None),
    };
    let Some(reviewer) = run.state.latest_override().map(|o| o.by.clone()) else {
        return (Outcome::NeedsReview, None);
    };
    let decided = case.decide(
        &reviewer,
        decision,
        verdict.rejection_reason.clone(),
        None,
        now,
    );
    case.updated_at = now;
    let audit = |action: &str| {
        By::System
            .audit(case.tenant.clone(), action, "case", &case.id, now)
            .with_changes(["status", "decision", "decided_by", "recommendation"])
            .with_metadata("reviewer_id", reviewer.clone())
            .with_metadata("workflow_run_id", run.id.clone())
    };
    match decided {
        Ok(Decided::Final(d)) => {
            let (action, event) = match d {
                Decision::Approved => ("case.approved", CaseEvent::Approved),
                Decision::Rejected => ("case.rejected", CaseEvent::Rejected),
            };
            let audit = audit(action);
            let update = CaseUpdate {
                case,
                events: events(&[event]),
                audit: vec![audit],
            };
            (verdict.outcome, Some(update))
        }
        Ok(Decided::Recommended) => {
            let audit = audit("case.recommended");
            let update = CaseUpdate {
                case,
                events: Vec::new(),
                audit: vec![audit],
            };
            (Outcome::NeedsReview, Some(update))
        }
        Err(e) => {
            tracing::warn!(case_id = %case.id, error = %e,
                "the overridden run ended but its reviewer no longer holds the case; left for review");
            (Outcome::NeedsReview, None)
        }
    }
}
