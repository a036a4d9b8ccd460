//! A session's verdict: the outcome a run (or a simulation) reached and the summary the result
//! object shows (reference §2.6, CONTRACT §3: `check_results: {<policy>: {status, passed}}`).

use crate::workflow::{CheckStatus, Outcome};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How a verdict was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcessingMode {
    /// A workflow run decided.
    Workflow,
    /// `POST /sessions/{id}/simulate` decided (sandbox).
    Simulated,
}

impl ProcessingMode {
    /// Every variant, in declaration order.
    pub const ALL: [ProcessingMode; 2] = [ProcessingMode::Workflow, ProcessingMode::Simulated];
}

/// The latest result of one policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckSummary {
    /// Check status.
    pub status: CheckStatus,
    /// `status == passed`.
    pub passed: bool,
}

impl CheckSummary {
    /// The summary of a check that ended with `status`.
    pub fn of(status: CheckStatus) -> Self {
        Self {
            status,
            passed: status == CheckStatus::Passed,
        }
    }
}

/// The result fields a verdict shows besides its outcome (no personal data: extracted data is
/// kept apart, sealed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionSummary {
    /// Latest `face_match` passed, if it ran.
    pub face_match_passed: Option<bool>,
    /// Latest `face_match` score, if reported.
    pub face_match_score: Option<f64>,
    /// Latest `age_verification` passed, if it ran.
    pub age_check_passed: Option<bool>,
    /// Age computed by `age_verification`.
    pub extracted_age: Option<i64>,
    /// How the verdict was reached.
    pub processing_mode: ProcessingMode,
    /// The session's country, else the document's issuing state or nationality.
    pub country_used: Option<String>,
    /// Latest status per policy.
    #[serde(default)]
    pub check_results: BTreeMap<String, CheckSummary>,
}

impl DecisionSummary {
    /// Why the verdict needs review (a case's `review_reasons`, CONTRACT §8.1): each failed or
    /// errored check (`<policy>:failed`, `<policy>:error`), then `review:terminal`.
    pub fn review_reasons(&self) -> Vec<String> {
        let mut reasons: Vec<String> = self
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
}

/// What decided a session.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Approved, rejected or needs review.
    pub outcome: Outcome,
    /// The result's summary fields.
    pub summary: DecisionSummary,
    /// Why it was rejected (rejections only).
    pub rejection_reason: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn review_reasons_name_failed_and_errored_checks_then_the_terminal() {
        let summary = DecisionSummary {
            face_match_passed: None,
            face_match_score: None,
            age_check_passed: None,
            extracted_age: None,
            processing_mode: ProcessingMode::Workflow,
            country_used: None,
            check_results: BTreeMap::from([
                (
                    "face_match".to_owned(),
                    CheckSummary::of(CheckStatus::Failed),
                ),
                ("ocr".to_owned(), CheckSummary::of(CheckStatus::Passed)),
                ("sanction".to_owned(), CheckSummary::of(CheckStatus::Error)),
            ]),
        };
        assert_eq!(
            summary.review_reasons(),
            ["face_match:failed", "sanction:error", "review:terminal"]
        );
    }
}
