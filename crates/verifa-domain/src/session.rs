//! Session statuses and transitions (reference §2.1, CONTRACT §3). Every use case asks this
//! module whether an action is allowed from the current status; an illegal transition is an
//! [`IllegalTransition`] naming the current status (HTTP 409 `invalid_state`).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Status of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// Created; waiting for capture.
    Pending,
    /// Capture in progress (a document was uploaded).
    Capturing,
    /// The workflow is running.
    Processing,
    /// Finished; a result exists.
    Completed,
    /// The capture window closed, or expired manually.
    Expired,
    /// Unrecoverable error.
    Failed,
    /// The run is paused at a wait node.
    AwaitingExternal,
    /// Routed to manual review.
    UnderReview,
    /// Sandbox: capture finished, waiting for a simulated outcome.
    SandboxPending,
}

impl SessionStatus {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Pending => "pending",
            SessionStatus::Capturing => "capturing",
            SessionStatus::Processing => "processing",
            SessionStatus::Completed => "completed",
            SessionStatus::Expired => "expired",
            SessionStatus::Failed => "failed",
            SessionStatus::AwaitingExternal => "awaiting_external",
            SessionStatus::UnderReview => "under_review",
            SessionStatus::SandboxPending => "sandbox_pending",
        }
    }

    /// Active statuses (everything not terminal).
    pub fn is_active(self) -> bool {
        !matches!(
            self,
            SessionStatus::Completed | SessionStatus::Expired | SessionStatus::Failed
        )
    }

    /// Every status, for validating filters.
    pub const ALL: [SessionStatus; 9] = [
        SessionStatus::Pending,
        SessionStatus::Capturing,
        SessionStatus::Processing,
        SessionStatus::Completed,
        SessionStatus::Expired,
        SessionStatus::Failed,
        SessionStatus::AwaitingExternal,
        SessionStatus::UnderReview,
        SessionStatus::SandboxPending,
    ];
}

impl fmt::Display for SessionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SessionStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SessionStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown session status '{s}'"))
    }
}

/// Something a caller or the engine wants to do to a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionAction {
    /// Upload a document.
    UploadDocument,
    /// Submit for verification.
    Submit,
    /// Expire now.
    Expire,
    /// Issue a new capture token.
    Resume,
    /// Sandbox outcome.
    Simulate,
    /// Re-run the workflow (reprocess / trigger).
    Rerun,
    /// Gate decision.
    ExternalDecision,
    /// Generate a one-time capture link.
    GenerateLink,
    /// Update metadata / external reference.
    Update,
}

impl SessionAction {
    fn verb(self) -> &'static str {
        match self {
            SessionAction::UploadDocument => "upload documents to",
            SessionAction::Submit => "submit",
            SessionAction::Expire => "expire",
            SessionAction::Resume => "resume",
            SessionAction::Simulate => "simulate",
            SessionAction::Rerun => "re-run the workflow of",
            SessionAction::ExternalDecision => "submit an external decision for",
            SessionAction::GenerateLink => "generate a link for",
            SessionAction::Update => "update",
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

/// Whether `action` is allowed from `current`.
pub fn check(current: SessionStatus, action: SessionAction) -> Result<(), IllegalTransition> {
    use SessionAction as A;
    use SessionStatus as S;
    let (allowed, hint) = match action {
        A::UploadDocument => (matches!(current, S::Pending | S::Capturing), ""),
        A::Submit => (matches!(current, S::Pending | S::Capturing), ""),
        A::Expire => (current.is_active(), ""),
        A::Resume => (
            matches!(current, S::Pending | S::Capturing | S::Expired),
            " (only pending, capturing or expired sessions can be resumed)",
        ),
        A::Simulate => (current.is_active(), ""),
        A::Rerun => (
            matches!(current, S::Completed | S::Failed),
            " (only completed or failed sessions can be re-run)",
        ),
        A::ExternalDecision => (
            current == S::AwaitingExternal,
            " (the session must be awaiting_external)",
        ),
        A::GenerateLink => (!matches!(current, S::Completed | S::Failed), ""),
        A::Update => (true, ""),
    };
    if allowed {
        Ok(())
    } else {
        Err(IllegalTransition {
            current,
            verb: action.verb(),
            hint,
        })
    }
}

/// Simulated outcomes of sandbox sessions (`POST /sessions/{id}/simulate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimulateAction {
    /// Completed, approved.
    Approve,
    /// Completed, rejected.
    Decline,
    /// Under review, needs_review.
    RequireReview,
    /// Expired.
    Expire,
}

impl SimulateAction {
    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "approve" => Some(SimulateAction::Approve),
            "decline" => Some(SimulateAction::Decline),
            "require-review" | "require_review" => Some(SimulateAction::RequireReview),
            "expire" => Some(SimulateAction::Expire),
            _ => None,
        }
    }

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            SimulateAction::Approve => "approve",
            SimulateAction::Decline => "decline",
            SimulateAction::RequireReview => "require-review",
            SimulateAction::Expire => "expire",
        }
    }
}

/// The session status a finished run leads to, and the webhook event announcing it.
pub fn status_for_outcome(outcome: &str) -> (SessionStatus, &'static str) {
    match outcome {
        "approved" => (SessionStatus::Completed, "session.approved"),
        "rejected" => (SessionStatus::Completed, "session.declined"),
        _ => (SessionStatus::UnderReview, "session.requires-review"),
    }
}

/// Metadata limits (CONTRACT §1.8).
pub const MAX_METADATA_KEYS: usize = 50;
/// Largest metadata value once serialised.
pub const MAX_METADATA_VALUE_BYTES: usize = 16 * 1024;
/// Longest external reference.
pub const MAX_EXTERNAL_REF_LEN: usize = 255;

/// Validates a metadata object; returns `(field, message)` problems.
pub fn check_metadata(
    metadata: &serde_json::Map<String, serde_json::Value>,
) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    if metadata.len() > MAX_METADATA_KEYS {
        problems.push((
            "metadata".to_owned(),
            format!("must have at most {MAX_METADATA_KEYS} keys"),
        ));
    }
    for (k, v) in metadata {
        if k.is_empty() || k.chars().count() > 100 {
            problems.push((
                format!("metadata.{k}"),
                "keys must be 1 to 100 characters".to_owned(),
            ));
        }
        if serde_json::to_vec(v).map(|b| b.len()).unwrap_or(0) > MAX_METADATA_VALUE_BYTES {
            problems.push((
                format!("metadata.{k}"),
                format!("must be at most {MAX_METADATA_VALUE_BYTES} bytes once serialised"),
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use SessionAction as A;
    use SessionStatus as S;

    #[test]
    fn transitions_follow_the_reference() {
        let table: &[(S, A, bool)] = &[
            (S::Pending, A::UploadDocument, true),
            (S::Capturing, A::Submit, true),
            (S::Processing, A::Submit, false),
            (S::Completed, A::Expire, false),
            (S::AwaitingExternal, A::Expire, true),
            (S::Expired, A::Resume, true),
            (S::Completed, A::Resume, false),
            (S::Completed, A::Rerun, true),
            (S::Failed, A::Rerun, true),
            (S::Processing, A::Rerun, false),
            (S::AwaitingExternal, A::ExternalDecision, true),
            (S::Processing, A::ExternalDecision, false),
            (S::Completed, A::Simulate, false),
            (S::SandboxPending, A::Simulate, true),
            (S::Failed, A::GenerateLink, false),
        ];
        for (status, action, ok) in table {
            assert_eq!(
                check(*status, *action).is_ok(),
                *ok,
                "{status:?} {action:?}"
            );
        }
        let err = check(S::Completed, A::Expire).unwrap_err();
        assert!(err.to_string().contains("'completed'"), "{err}");
    }

    #[test]
    fn statuses_round_trip() {
        for s in SessionStatus::ALL {
            assert_eq!(s.as_str().parse::<SessionStatus>(), Ok(s));
        }
        assert!("nope".parse::<SessionStatus>().is_err());
    }

    #[test]
    fn metadata_limits() {
        let mut m = serde_json::Map::new();
        for i in 0..51 {
            m.insert(format!("k{i}"), serde_json::json!(i));
        }
        assert_eq!(check_metadata(&m).len(), 1);
        let mut big = serde_json::Map::new();
        big.insert("x".into(), serde_json::Value::String("a".repeat(17 * 1024)));
        assert_eq!(check_metadata(&big)[0].0, "metadata.x");
    }
}
