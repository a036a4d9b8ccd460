//! The session state machine (reference §2.1, CONTRACT §3). [`transition`] takes a session, an
//! [`Action`] and the time, and returns the session after the action and the events it
//! announces, or an [`IllegalTransition`] naming the current status (HTTP 409 `invalid_state`).
//! Use cases never set a session's status themselves.

use super::events::{ExpireReason, RedactReason, SessionEvent, VerdictSource};
use super::metadata::merge_metadata;
use super::model::{CaptureToken, Session};
use super::status::{RetentionStatus, SessionStatus, SimulateAction};
use crate::workflow::Outcome;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// Something a caller or the engine does to a session.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Upload a document: `pending` → `capturing` (announcing `session.started`).
    UploadDocument,
    /// Submit the capture to a sandbox: → `sandbox_pending`.
    SubmitToSandbox,
    /// Submit the capture and start a run of `workflow_id` (live): → `processing`.
    SubmitAndRun {
        /// The workflow the run executes.
        workflow_id: String,
    },
    /// Re-run the workflow of a finished session (reprocess, trigger): → `processing`.
    Rerun {
        /// The workflow the run executes.
        workflow_id: String,
    },
    /// Expire an active session.
    Expire {
        /// Why.
        reason: ExpireReason,
    },
    /// Issue a new capture token; an expired session goes back to `pending`.
    Resume {
        /// The new token.
        token: CaptureToken,
    },
    /// Issue a one-time capture link (announcing `session.link_generated`).
    GenerateLink {
        /// The new token.
        token: CaptureToken,
    },
    /// A sandbox simulation decided the session.
    Simulate {
        /// The simulated outcome.
        outcome: Outcome,
    },
    /// A case opened by hand (`POST /cases`): `completed` or `failed` → `under_review`,
    /// announcing `session.requires-review`.
    OpenCase {
        /// The case.
        case_id: String,
    },
    /// A reviewer's final case decision: `under_review` → `completed`.
    ReviewDecision {
        /// The case.
        case_id: String,
        /// Approved or rejected.
        outcome: Outcome,
    },
    /// A reviewer overrode a check of the session's run, which goes on (`under_review` →
    /// `processing`); the case stays open until the run ends.
    ContinueAfterOverride {
        /// The case.
        case_id: String,
    },
    /// A gate decision arrived: the paused run goes on (`processing`).
    ExternalDecision,
    /// A paused or failed run restarts at a node (`processing`).
    ResumeRun,
    /// Change the external reference or merge metadata (`null` deletes a key).
    Update {
        /// `Some(None)` clears the reference.
        external_ref: Option<Option<String>>,
        /// Keys to set or (with `null`) delete.
        metadata: Option<Map<String, Value>>,
    },
    /// The run paused at a wait node.
    RunPaused {
        /// `wfr_…`.
        run_id: String,
        /// The gate.
        node_id: Option<String>,
    },
    /// The run reached a terminal node.
    RunCompleted {
        /// The outcome.
        outcome: Outcome,
        /// Who decided, as the event reports it.
        source: VerdictSource,
    },
    /// The run stopped on an engine error.
    RunFailed,
    /// Crypto-shred the session's data (CONTRACT §11.2): its data key, pre-fill fields and
    /// consent IP go, `retention_status` becomes `redacted`. A session still capturing
    /// (`pending`, `capturing`, `sandbox_pending`) is expired first; one whose run or review is
    /// under way is refused.
    Redact {
        /// Why.
        reason: RedactReason,
        /// How many documents the redaction deletes (the event reports it).
        documents_removed: u64,
    },
    /// The sensitive-data window closed (CONTRACT §11.3): `retention_status` becomes
    /// `sensitive_redacted`. The data stays stored (exports read it) but the API shows no
    /// extracted data and no documents, and nothing that needs them may happen again.
    ExpireSensitiveData,
    /// The retention period ended for an organization that does not redact automatically:
    /// announces `session.retention-expired`, once; the data stays until redacted by hand.
    ExpireRetention,
}

impl Action {
    /// What the audit trail records of this action when a caller takes it: the action's name
    /// and the session fields it changes. `None` for the run's own progress (paused, completed,
    /// failed), which the run's trace records instead.
    pub fn audit_entry(&self) -> Option<(&'static str, Vec<&'static str>)> {
        let entry = match self {
            Action::UploadDocument => ("session.document_uploaded", vec!["documents", "status"]),
            Action::SubmitToSandbox | Action::SubmitAndRun { .. } => {
                ("session.submitted", vec!["status"])
            }
            Action::Rerun { .. } => ("session.reprocessed", vec!["status", "workflow_id"]),
            Action::Expire { .. } => ("session.expired", vec!["status"]),
            Action::Resume { .. } => ("session.resumed", vec!["status", "capture_token"]),
            Action::GenerateLink { .. } => ("session.link_generated", vec!["capture_token"]),
            Action::Simulate { .. } => ("session.simulated", vec!["status", "result"]),
            Action::ExternalDecision => ("session.external_decision", vec!["status"]),
            Action::ReviewDecision { .. } => ("session.review_decided", vec!["status", "result"]),
            Action::OpenCase { .. } => ("session.sent_to_review", vec!["status", "result"]),
            Action::ResumeRun => ("session.workflow_resumed", vec!["status"]),
            Action::ContinueAfterOverride { .. } => {
                ("session.check_overridden", vec!["status", "workflow_run"])
            }
            Action::Update {
                external_ref,
                metadata,
            } => {
                let mut changed = Vec::new();
                if external_ref.is_some() {
                    changed.push("external_ref");
                }
                if metadata.is_some() {
                    changed.push("metadata");
                }
                ("session.updated", changed)
            }
            Action::Redact { .. } => (
                "session.redacted",
                vec!["retention_status", "personal_data", "documents"],
            ),
            Action::ExpireSensitiveData => {
                ("session.sensitive_data_expired", vec!["retention_status"])
            }
            Action::ExpireRetention => ("session.retention_expired", vec!["retention_expired_at"]),
            Action::RunPaused { .. } | Action::RunCompleted { .. } | Action::RunFailed => {
                return None;
            }
        };
        Some(entry)
    }

    /// Whether the action needs the sensitive data that the sensitive-data window removes
    /// from use (documents, extracted data), or is that window closing again.
    fn needs_sensitive_data(&self) -> bool {
        matches!(
            self,
            Action::UploadDocument
                | Action::SubmitToSandbox
                | Action::SubmitAndRun { .. }
                | Action::Rerun { .. }
                | Action::Resume { .. }
                | Action::GenerateLink { .. }
                | Action::ResumeRun
                | Action::OpenCase { .. }
                | Action::ExpireSensitiveData
        )
    }

    fn verb(&self) -> &'static str {
        match self {
            Action::UploadDocument => "upload documents to",
            Action::SubmitToSandbox | Action::SubmitAndRun { .. } => "submit",
            Action::Rerun { .. } => "re-run the workflow of",
            Action::Expire { .. } => "expire",
            Action::Resume { .. } => "resume",
            Action::GenerateLink { .. } => "generate a link for",
            Action::Simulate { .. } => "simulate",
            Action::ExternalDecision => "submit an external decision for",
            Action::ReviewDecision { .. } => "decide the review of",
            Action::OpenCase { .. } => "open a review case for",
            Action::ResumeRun => "resume the workflow run of",
            Action::ContinueAfterOverride { .. } => "override a check of",
            Action::Update { .. } => "update",
            Action::RunPaused { .. } => "pause the run of",
            Action::RunCompleted { .. } => "complete the run of",
            Action::RunFailed => "fail the run of",
            Action::Redact { .. } => "redact",
            Action::ExpireSensitiveData => "expire the sensitive data of",
            Action::ExpireRetention => "expire the retention of",
        }
    }

    /// Whether the action is allowed from `current`, and the hint given when it is not.
    fn allowed_from(&self, current: SessionStatus) -> (bool, &'static str) {
        use SessionStatus as S;
        match self {
            Action::UploadDocument | Action::SubmitToSandbox | Action::SubmitAndRun { .. } => {
                (current.is_capturing(), "")
            }
            Action::Rerun { .. } => (
                matches!(current, S::Completed | S::Failed),
                " (only completed or failed sessions can be re-run)",
            ),
            Action::Expire { .. } | Action::Simulate { .. } => (current.is_active(), ""),
            Action::Resume { .. } => (
                matches!(current, S::Pending | S::Capturing | S::Expired),
                " (only pending, capturing or expired sessions can be resumed)",
            ),
            Action::GenerateLink { .. } => (!matches!(current, S::Completed | S::Failed), ""),
            Action::ExternalDecision => (
                current == S::AwaitingExternal,
                " (the session must be awaiting_external)",
            ),
            Action::ResumeRun => (
                matches!(current, S::AwaitingExternal | S::Failed),
                " (the session's run must be paused or failed)",
            ),
            Action::Update { .. } => (true, ""),
            Action::OpenCase { .. } => (
                matches!(current, S::Completed | S::Failed),
                " (only completed or failed sessions can be sent to review)",
            ),
            Action::ReviewDecision { .. } => (
                current == S::UnderReview,
                " (only a session under review takes a case decision)",
            ),
            Action::ContinueAfterOverride { .. } => (
                current == S::UnderReview,
                " (only a session under review can have a check overridden)",
            ),
            Action::Redact { .. } => (
                !matches!(
                    current,
                    S::Processing | S::AwaitingExternal | S::UnderReview
                ),
                " (wait until its run and review have finished)",
            ),
            Action::ExpireSensitiveData | Action::ExpireRetention => (
                matches!(current, S::Completed | S::Expired | S::Failed),
                " (only finished sessions reach the end of their retention)",
            ),
            // A gate's timeout moves a run on while its session still awaits the decision.
            Action::RunPaused { .. } | Action::RunCompleted { .. } | Action::RunFailed => (
                matches!(current, S::Processing | S::AwaitingExternal),
                " (the session is no longer processing)",
            ),
        }
    }
}

/// A refused transition; the message names the current status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {verb} a session in status '{current}'{hint}")]
pub struct IllegalTransition {
    /// The session's status.
    pub current: SessionStatus,
    verb: &'static str,
    hint: &'static str,
}

/// The session after an action and what it announces.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// The session as it was read (its status fences the write).
    pub before: SessionStatus,
    /// The session after the action.
    pub session: Session,
    /// Events to append to the session's log, in order.
    pub events: Vec<SessionEvent>,
}

/// Whether `action` is allowed on `current` (its status, and never once redacted), without
/// applying it (to refuse early, before reading what the action needs).
///
/// # Errors
/// [`IllegalTransition`] when it is not.
pub fn check(current: &Session, action: &Action) -> Result<(), IllegalTransition> {
    let refusal = |hint| IllegalTransition {
        current: current.status,
        verb: action.verb(),
        hint,
    };
    if current.is_redacted() {
        // A redacted session keeps its status but no data: nothing may change it again.
        return Err(refusal(" (its data was redacted)"));
    }
    if current.retention_status == RetentionStatus::SensitiveRedacted
        && action.needs_sensitive_data()
    {
        return Err(refusal(" (its sensitive data passed its retention period)"));
    }
    if current.retention_expired_at.is_some() && matches!(action, Action::ExpireRetention) {
        return Err(refusal(" (its retention period already expired)"));
    }
    let (allowed, hint) = action.allowed_from(current.status);
    if allowed {
        Ok(())
    } else {
        Err(IllegalTransition {
            current: current.status,
            verb: action.verb(),
            hint,
        })
    }
}

/// Applies `action` to `current` at `now`.
///
/// # Errors
/// [`IllegalTransition`] when the action is not allowed from the session's status.
pub fn transition(
    current: &Session,
    action: Action,
    now: DateTime<Utc>,
) -> Result<Transition, IllegalTransition> {
    check(current, &action)?;
    let mut next = current.clone();
    next.updated_at = now;
    let mut events = Vec::new();
    match action {
        Action::UploadDocument => {
            if current.status == SessionStatus::Pending {
                events.push(SessionEvent::Started);
            }
            next.status = SessionStatus::Capturing;
        }
        Action::SubmitToSandbox => next.status = SessionStatus::SandboxPending,
        Action::SubmitAndRun { workflow_id } | Action::Rerun { workflow_id } => {
            next.status = SessionStatus::Processing;
            next.workflow_id = Some(workflow_id);
            next.processing_attempts = next.processing_attempts.saturating_add(1);
            next.completed_at = None;
        }
        Action::Expire { reason } => {
            next.status = SessionStatus::Expired;
            next.expired_at = Some(now);
            next.capture_token_hash = None;
            events.push(SessionEvent::Expired { reason });
        }
        Action::Resume { token } => {
            reopen(&mut next, token);
        }
        Action::GenerateLink { token } => {
            reopen(&mut next, token);
            events.push(SessionEvent::LinkGenerated);
        }
        Action::Simulate { outcome } => {
            next.status = status_for_outcome(outcome);
            next.completed_at = Some(now);
            events.push(SessionEvent::Decided {
                outcome,
                source: VerdictSource::Simulation,
            });
        }
        Action::ReviewDecision { case_id, outcome } => {
            next.status = SessionStatus::Completed;
            next.completed_at = Some(now);
            events.push(SessionEvent::Decided {
                outcome,
                source: VerdictSource::Review { case_id },
            });
        }
        Action::OpenCase { case_id } => {
            next.status = SessionStatus::UnderReview;
            next.completed_at = None;
            events.push(SessionEvent::Decided {
                outcome: Outcome::NeedsReview,
                source: VerdictSource::Review { case_id },
            });
        }
        Action::ExternalDecision | Action::ResumeRun | Action::ContinueAfterOverride { .. } => {
            next.status = SessionStatus::Processing;
            next.completed_at = None;
        }
        Action::Update {
            external_ref,
            metadata,
        } => {
            if let Some(r) = external_ref {
                next.external_ref = r;
            }
            if let Some(patch) = metadata {
                merge_metadata(&mut next.metadata, patch);
            }
        }
        Action::RunPaused { run_id, node_id } => {
            next.status = SessionStatus::AwaitingExternal;
            events.push(SessionEvent::AwaitingExternal {
                run_id,
                paused_at_node: node_id,
            });
        }
        Action::RunCompleted { outcome, source } => {
            next.status = status_for_outcome(outcome);
            next.completed_at = Some(now);
            events.push(SessionEvent::Decided { outcome, source });
        }
        Action::RunFailed => next.status = SessionStatus::Failed,
        Action::Redact {
            reason,
            documents_removed,
        } => {
            if current.status.is_active() {
                next.status = SessionStatus::Expired;
                next.expired_at = Some(now);
                events.push(SessionEvent::Expired {
                    reason: ExpireReason::Requested,
                });
            }
            next.capture_token_hash = None;
            next.fields_sealed = None;
            next.consent_ip = None;
            next.data_key = None;
            next.retention_status = RetentionStatus::Redacted;
            next.redacted_at = Some(now);
            if reason == RedactReason::RetentionExpired {
                next.retention_expired_at = Some(now);
            }
            events.push(SessionEvent::Redacted {
                reason,
                documents_removed,
            });
        }
        Action::ExpireSensitiveData => next.retention_status = RetentionStatus::SensitiveRedacted,
        Action::ExpireRetention => {
            next.retention_expired_at = Some(now);
            events.push(SessionEvent::RetentionExpired);
        }
    }
    Ok(Transition {
        before: current.status,
        session: next,
        events,
    })
}

/// A new capture token; an expired session goes back to `pending`.
fn reopen(next: &mut Session, token: CaptureToken) {
    if next.status == SessionStatus::Expired {
        next.status = SessionStatus::Pending;
        next.expired_at = None;
    }
    next.capture_token_hash = Some(token.hash);
    next.token_expires_at = Some(token.expires_at);
}

/// The session status a verdict leads to.
pub fn status_for_outcome(outcome: Outcome) -> SessionStatus {
    match outcome {
        Outcome::Approved | Outcome::Rejected => SessionStatus::Completed,
        Outcome::NeedsReview => SessionStatus::UnderReview,
    }
}

/// The outcome a simulation action stands for (`None` for `expire`, which expires instead).
pub fn simulated_outcome(action: SimulateAction) -> Option<Outcome> {
    match action {
        SimulateAction::Approve => Some(Outcome::Approved),
        SimulateAction::Decline => Some(Outcome::Rejected),
        SimulateAction::RequireReview => Some(Outcome::NeedsReview),
        SimulateAction::Expire => None,
    }
}

#[cfg(test)]
#[path = "machine_tests.rs"]
mod tests;
