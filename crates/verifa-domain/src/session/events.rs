//! Typed session events: what a transition announces. Each becomes one row of the session event
//! log (the webhook outbox); [`SessionEvent::payload`] gives its flat fields, which never hold
//! personal data.

use super::model::Session;
use crate::workflow::Outcome;
use serde_json::{Map, Value, json};

/// Why a session expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpireReason {
    /// A caller asked (`POST /sessions/{id}/expire`, a simulation).
    Requested,
    /// The capture token lapsed while the session was still pending or capturing.
    CaptureTokenExpired,
}

/// Why a session's data was redacted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedactReason {
    /// A caller asked (`DELETE /sessions/{id}/data`, bulk, identity redaction).
    Requested,
    /// The organization's data retention ran out and it redacts automatically.
    RetentionExpired,
}

/// Who reached a verdict, as the decision event reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum VerdictSource {
    /// A workflow run.
    Run {
        /// `wfr_…`.
        run_id: String,
        /// Latest `face_match` passed, if it ran.
        face_match_passed: Option<bool>,
        /// Latest `age_verification` passed, if it ran.
        age_check_passed: Option<bool>,
    },
    /// A sandbox simulation.
    Simulation,
    /// A reviewer's case decision.
    Review {
        /// `case_…`.
        case_id: String,
    },
}

/// Something that happened to a session.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionEvent {
    /// `session.created`.
    Created,
    /// `session.started`: the first upload of the capture.
    Started,
    /// `session.expired`.
    Expired {
        /// Why.
        reason: ExpireReason,
    },
    /// `session.link_generated`: a one-time capture link was issued.
    LinkGenerated,
    /// `session.awaiting_external`: the run paused at a wait node.
    AwaitingExternal {
        /// `wfr_…`.
        run_id: String,
        /// The gate.
        paused_at_node: Option<String>,
    },
    /// `session.redacted`, or `session.retention-expired` when retention redacted it.
    Redacted {
        /// Why.
        reason: RedactReason,
        /// Documents deleted.
        documents_removed: u64,
    },
    /// `session.retention-expired` without redaction: the organization does not redact
    /// automatically, so the data stays until redacted by hand.
    RetentionExpired,
    /// `session.approved`, `session.declined` or `session.requires-review`.
    Decided {
        /// The outcome.
        outcome: Outcome,
        /// Who decided.
        source: VerdictSource,
    },
}

impl SessionEvent {
    /// The catalogue name.
    pub fn event_type(&self) -> &'static str {
        match self {
            SessionEvent::Created => "session.created",
            SessionEvent::Started => "session.started",
            SessionEvent::Expired { .. } => "session.expired",
            SessionEvent::LinkGenerated => "session.link_generated",
            SessionEvent::AwaitingExternal { .. } => "session.awaiting_external",
            SessionEvent::Redacted {
                reason: RedactReason::Requested,
                ..
            } => "session.redacted",
            SessionEvent::Redacted {
                reason: RedactReason::RetentionExpired,
                ..
            }
            | SessionEvent::RetentionExpired => "session.retention-expired",
            SessionEvent::Decided { outcome, .. } => decision_event_type(*outcome),
        }
    }

    /// The flat event fields: the session's common fields (id, external reference, status,
    /// sandbox flag, workflow) plus the event's own.
    pub fn payload(&self, session: &Session) -> Value {
        let mut data = Map::new();
        data.insert("session_id".into(), json!(session.id));
        data.insert("external_ref".into(), json!(session.external_ref));
        data.insert("status".into(), json!(session.status.as_str()));
        data.insert(
            "is_sandbox".into(),
            json!(session.tenant.environment.is_sandbox()),
        );
        data.insert("workflow_id".into(), json!(session.workflow_id));
        match self {
            SessionEvent::Created | SessionEvent::Started | SessionEvent::LinkGenerated => {}
            SessionEvent::Expired { reason } => {
                if *reason == ExpireReason::CaptureTokenExpired {
                    data.insert("reason".into(), json!("capture_token_expired"));
                }
            }
            SessionEvent::Redacted {
                documents_removed, ..
            } => {
                data.insert("retention_status".into(), json!("redacted"));
                data.insert("documents_removed".into(), json!(documents_removed));
                data.insert("redacted_at".into(), json!(session.redacted_at));
                data.insert("data_redacted".into(), json!(true));
            }
            SessionEvent::RetentionExpired => {
                data.insert(
                    "retention_status".into(),
                    json!(session.retention_status.as_str()),
                );
                data.insert("data_redacted".into(), json!(false));
                data.insert(
                    "retention_expired_at".into(),
                    json!(session.retention_expired_at),
                );
            }
            SessionEvent::AwaitingExternal {
                run_id,
                paused_at_node,
            } => {
                data.insert("workflow_run_id".into(), json!(run_id));
                data.insert("paused_at_node".into(), json!(paused_at_node));
            }
            SessionEvent::Decided { outcome, source } => match source {
                VerdictSource::Run {
                    run_id,
                    face_match_passed,
                    age_check_passed,
                } => {
                    data.insert(
                        "result".into(),
                        json!({"status": outcome.as_str(), "face_match_passed": face_match_passed, "age_check_passed": age_check_passed}),
                    );
                    data.insert("workflow_run_id".into(), json!(run_id));
                }
                VerdictSource::Review { case_id } => {
                    data.insert("result".into(), json!({"status": outcome.as_str()}));
                    data.insert("case_id".into(), json!(case_id));
                }
                VerdictSource::Simulation => {
                    data.insert(
                        "result".into(),
                        json!({"status": outcome.as_str(), "simulated": true}),
                    );
                }
            },
        }
        Value::Object(data)
    }
}

/// The webhook event announcing a verdict.
pub fn decision_event_type(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Approved => "session.approved",
        Outcome::Rejected => "session.declined",
        Outcome::NeedsReview => "session.requires-review",
    }
}
