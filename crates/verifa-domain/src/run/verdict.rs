//! The verdict a finished run reached: the outcome plus the result's summary fields, read from
//! the latest attempt of each policy (an overridden check counts as passed).

use crate::session::{CheckSummary, DecisionSummary, ProcessingMode, Verdict};
use crate::workflow::{AttemptRecord, CheckStatus, Outcome, RunState};
use serde_json::Value;
use std::collections::BTreeMap;

/// The verdict of a run that ended with `outcome`.
pub fn verdict_of(state: &RunState, outcome: Outcome) -> Verdict {
    let latest = |policy: &str| state.attempts.iter().rev().find(|a| a.policy == policy);
    let face = latest("face_match");
    let age = latest("age_verification");
    let mut check_results = BTreeMap::new();
    for a in &state.attempts {
        check_results.insert(
            a.policy.clone(),
            CheckSummary::of(state.effective_status(a)),
        );
    }
    let extracted = &state.context.extracted_data;
    let country_used = state.context.session.country.clone().or_else(|| {
        extracted
            .get("document_issuing_state")
            .or(extracted.get("nationality"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    let rejection_reason = (outcome == Outcome::Rejected).then(|| rejection_reason(state));
    Verdict {
        outcome,
        summary: DecisionSummary {
            face_match_passed: face.map(|a| passed(state, a)),
            face_match_score: face.and_then(|a| {
                a.output
                    .get("face_match_score")
                    .or(a.output.get("score"))
                    .and_then(Value::as_f64)
            }),
            age_check_passed: age.map(|a| passed(state, a)),
            extracted_age: age.and_then(|a| a.output.get("age").and_then(Value::as_i64)),
            processing_mode: ProcessingMode::Workflow,
            country_used,
            check_results,
        },
        rejection_reason,
    }
}

/// Whether the attempt counts as passed (a reviewer's override included).
fn passed(state: &RunState, a: &AttemptRecord) -> bool {
    state.effective_status(a) == CheckStatus::Passed
}

/// The error (or name) of the latest failed check, else a generic sentence.
fn rejection_reason(state: &RunState) -> String {
    state
        .attempts
        .iter()
        .rev()
        .find(|a| state.effective_status(a) == CheckStatus::Failed)
        .map(|a| {
            a.error
                .clone()
                .unwrap_or_else(|| format!("{} failed", a.policy))
        })
        .unwrap_or_else(|| "Rejected by the workflow.".into())
}
