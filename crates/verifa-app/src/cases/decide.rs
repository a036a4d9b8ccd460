//! Approving and rejecting a case (CONTRACT §8.2, §8.3). With dual review the first decision
//! is stored as the recommendation. A final decision, in one transaction: the case is decided,
//! the session's result becomes `approved` or `rejected`, the session completes, its identity
//! is upserted, and `case.approved` + `session.approved` (or `case.rejected` +
//! `session.declined`) are appended to the outbox.

use super::CaseService;
use super::actions::{events, refused};
use crate::actor::{By, Caller};
use crate::error::AppError;
use crate::retry::{retrying, written};
use crate::sessions::change_by;
use verifa_domain::case::{Case, CaseEvent, Decided, Decision};
use verifa_domain::identity::CompletionOutcome;
use verifa_domain::session::{self, Action};
use verifa_domain::workflow::Outcome;
use verifa_ports::sessions::SessionChange;

/// `POST /cases/{id}/approve` or `/reject`, as received.
#[derive(Debug, Clone)]
pub struct DecisionRequest {
    /// The reviewer deciding.
    pub reviewer_id: String,
    /// Approve or reject.
    pub decision: Decision,
    /// Stored as a note.
    pub notes: Option<String>,
    /// Reject only (≤ 500).
    pub rejection_reason: Option<String>,
}

impl CaseService {
    /// Decides (or, under dual review, recommends) for a reviewer.
    pub async fn decide(
        &self,
        caller: &Caller,
        id: &str,
        request: DecisionRequest,
    ) -> Result<Case, AppError> {
        let reviewer = self.reviewer(caller, &request.reviewer_id).await?;
        let case = retrying!(
            "the case",
            async {
                let mut case = self.get(caller, id).await?;
                let now = self.clock.now();
                let decided = case
                    .decide(
                        &reviewer,
                        request.decision,
                        request.rejection_reason.clone(),
                        request.notes.clone(),
                        now,
                    )
                    .map_err(refused)?;
                case.updated_at = now;
                let (change, action, kinds) = match decided {
                    Decided::Recommended => (None, "case.recommended", Vec::new()),
                    Decided::Final(decision) => {
                        let change = self.completing(caller, &case, decision).await?;
                        let (action, event) = match decision {
                            Decision::Approved => ("case.approved", CaseEvent::Approved),
                            Decision::Rejected => ("case.rejected", CaseEvent::Rejected),
                        };
                        (Some(change), action, vec![event])
                    }
                };
                let audit = caller.audit(action, "case", &case.id, now).with_changes([
                    "status",
                    "decision",
                    "decided_by",
                    "recommendation",
                ]);
                let outcome = self
                    .store
                    .update(&case, change.as_ref(), &events(&kinds), &[audit])
                    .await;
                case.revision = case.revision.saturating_add(1);
                written(outcome, case)
            }
            .await
        )?;
        self.note_if_any(caller, &case.id, request.notes.as_deref(), Some(&reviewer))
            .await?;
        // The store set the identity the completion fed; read it back for the answer.
        if case.identity_id.is_none() && !case.status.is_active() {
            return self.get(caller, &case.id).await;
        }
        Ok(case)
    }

    /// The session change a final decision makes: result, completion, identity.
    async fn completing(
        &self,
        caller: &Caller,
        case: &Case,
        decision: Decision,
    ) -> Result<SessionChange, AppError> {
        let current = self
            .sessions
            .get(&case.tenant, &case.session_id)
            .await
            .map_err(AppError::from_repo("session"))?;
        let (outcome, completion) = match decision {
            Decision::Approved => (Outcome::Approved, CompletionOutcome::Approved),
            Decision::Rejected => (Outcome::Rejected, CompletionOutcome::Rejected),
        };
        let action = Action::ReviewDecision {
            case_id: case.id.clone(),
            outcome,
        };
        let now = case.updated_at;
        let t = session::transition(&current, action.clone(), now)
            .map_err(|e| AppError::InvalidState(e.to_string()))?;
        let mut change = change_by(t, &action, By::Caller(caller));
        if let Some(mut result) = self.sessions.result(&case.tenant, &case.session_id).await? {
            result.verdict.outcome = outcome;
            result.verdict.rejection_reason = case.rejection_reason.clone();
            result.case_id = Some(case.id.clone());
            result.decided_by = case.decided_by.clone();
            result.updated_at = now;
            change = change.with_result(result);
        }
        Ok(crate::identities::feeding_identity_as(
            change,
            By::Caller(caller),
            Some(completion),
        ))
    }
}
