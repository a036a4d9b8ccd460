//! Manual-review cases (CONTRACT §8): the case a `needs_review` verdict opens, its lifecycle
//! (claim, release, assign, decide, escalate, dual review), its SLA and its webhook events.
//!
//! - [`model`]: the case, its statuses, priorities and sources.
//! - [`lifecycle`]: what reviewers may do to a case, and what it becomes.
//! - [`sla`]: the SLA bands.
//! - [`events`]: the `case.*` webhook events.

pub mod events;
pub mod lifecycle;
pub mod model;
pub mod sla;

pub use events::CaseEvent;
pub use lifecycle::{CaseError, Decided};
pub use model::{Case, CaseSource, CaseStatus, Decision, Priority, Recommendation};
pub use sla::{SlaStatus, SlaView};

use crate::session::DecisionSummary;
use crate::workflow::CheckStatus;

/// Why a verdict needs review: each failed or errored check (`<policy>:failed`,
/// `<policy>:error`), then `review:terminal` (the graph's `needs_review` terminal).
pub fn review_reasons(summary: &DecisionSummary) -> Vec<String> {
    let mut reasons: Vec<String> = summary
        .check_results
        .iter()
        .filter_map(|(policy, r)| match r.status {
            CheckStatus::Failed => Some(format!("{policy}:failed")),
            CheckStatus::Error => Some(format!("{policy}:error")),
            _ => None,
        })
        .collect();
    reasons.push("review:terminal".to_owned());
    reasons
}
