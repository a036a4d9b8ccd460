//! The statuses a session can be in (reference §2.1) and its retention state (CONTRACT §11).

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

    /// Whether the capture flow is still open (documents may be uploaded).
    pub fn is_capturing(self) -> bool {
        matches!(self, SessionStatus::Pending | SessionStatus::Capturing)
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

/// How much of a session's personal data is still held (CONTRACT §11.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetentionStatus {
    /// Everything is kept.
    Active,
    /// Past the sensitive-data window: the API no longer shows extracted data or documents.
    SensitiveRedacted,
    /// Crypto-shredded: the data is gone for good.
    Redacted,
}

impl RetentionStatus {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            RetentionStatus::Active => "active",
            RetentionStatus::SensitiveRedacted => "sensitive_redacted",
            RetentionStatus::Redacted => "redacted",
        }
    }

    /// Every retention status.
    pub const ALL: [RetentionStatus; 3] = [
        RetentionStatus::Active,
        RetentionStatus::SensitiveRedacted,
        RetentionStatus::Redacted,
    ];
}

impl fmt::Display for RetentionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RetentionStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RetentionStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown retention status '{s}'"))
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
    /// Every variant, in declaration order.
    pub const ALL: [SimulateAction; 4] = [
        SimulateAction::Approve,
        SimulateAction::Decline,
        SimulateAction::RequireReview,
        SimulateAction::Expire,
    ];

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip() {
        for s in SessionStatus::ALL {
            assert_eq!(s.as_str().parse::<SessionStatus>(), Ok(s));
        }
        for s in RetentionStatus::ALL {
            assert_eq!(s.as_str().parse::<RetentionStatus>(), Ok(s));
        }
        assert!("nope".parse::<SessionStatus>().is_err());
        assert!("nope".parse::<RetentionStatus>().is_err());
    }

    #[test]
    fn simulate_actions_parse_both_spellings() {
        assert_eq!(
            SimulateAction::parse("require_review"),
            Some(SimulateAction::RequireReview)
        );
        assert_eq!(
            SimulateAction::parse("require-review"),
            Some(SimulateAction::RequireReview)
        );
        assert_eq!(SimulateAction::parse("approved"), None);
    }
}
