//! Bulk actions on cases (`POST /cases/bulk`, CONTRACT §8.4): one action on up to 100 cases,
//! each in its own transaction under the single-case rules, so one refused case stops no
//! other. The request as a whole is checked first (a bad action, list or reviewer is a 422 and
//! nothing is done).

use super::{CaseService, DecisionRequest, Escalation};
use crate::actor::Caller;
use crate::error::{AppError, FieldError};
use std::collections::HashSet;
use verifa_domain::case::{Case, CasePatch, Decision, Priority};

/// Most cases in one bulk request.
pub const MAX_BULK_CASES: usize = 100;

/// What a bulk request does to each case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkAction {
    /// Assign to `reviewer_id`.
    Assign,
    /// Release the claim.
    Release,
    /// Approve for `reviewer_id`.
    Approve,
    /// Reject for `reviewer_id`.
    Reject,
    /// Escalate with `reason`.
    Escalate,
    /// Set `priority`.
    SetPriority,
}

impl BulkAction {
    /// Every action, in declaration order.
    pub const ALL: [BulkAction; 6] = [
        BulkAction::Assign,
        BulkAction::Release,
        BulkAction::Approve,
        BulkAction::Reject,
        BulkAction::Escalate,
        BulkAction::SetPriority,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            BulkAction::Assign => "assign",
            BulkAction::Release => "release",
            BulkAction::Approve => "approve",
            BulkAction::Reject => "reject",
            BulkAction::Escalate => "escalate",
            BulkAction::SetPriority => "set_priority",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// `POST /cases/bulk`, as received.
#[derive(Debug, Clone)]
pub struct BulkRequest {
    /// The action.
    pub action: BulkAction,
    /// 1–100 distinct case ids.
    pub case_ids: Vec<String>,
    /// The reviewer (required by assign, approve and reject).
    pub reviewer_id: Option<String>,
    /// The priority (required by set_priority).
    pub priority: Option<Priority>,
    /// Why (required by escalate).
    pub reason: Option<String>,
    /// Reject only.
    pub rejection_reason: Option<String>,
    /// Stored as a note of each case.
    pub notes: Option<String>,
}

/// What happened to one case.
#[derive(Debug)]
pub struct BulkItem {
    /// The case.
    pub case_id: String,
    /// The case afterwards, or why it was refused.
    pub outcome: Result<Case, AppError>,
}

fn required(field: &str, action: BulkAction) -> FieldError {
    FieldError::new(field, format!("is required by {}", action.as_str()))
}

impl BulkRequest {
    fn problems(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let n = self.case_ids.len();
        if n == 0 || n > MAX_BULK_CASES {
            errors.push(FieldError::new(
                "case_ids",
                format!("must list 1 to {MAX_BULK_CASES} cases"),
            ));
        }
        let mut seen = HashSet::new();
        for (i, id) in self.case_ids.iter().enumerate() {
            if !seen.insert(id.as_str()) {
                errors.push(FieldError::new(
                    format!("case_ids[{i}]"),
                    format!("repeats {id}; each case may be listed once"),
                ));
            }
        }
        let a = self.action;
        let needs_reviewer = matches!(
            a,
            BulkAction::Assign | BulkAction::Approve | BulkAction::Reject
        );
        if needs_reviewer && self.reviewer_id.is_none() {
            errors.push(required("reviewer_id", a));
        }
        if a == BulkAction::SetPriority && self.priority.is_none() {
            errors.push(required("priority", a));
        }
        if a == BulkAction::Escalate && self.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
            errors.push(required("reason", a));
        }
        errors
    }
}

impl CaseService {
    /// Applies one action to each case in turn; every case gets its own outcome.
    pub async fn bulk(
        &self,
        caller: &Caller,
        request: BulkRequest,
    ) -> Result<Vec<BulkItem>, AppError> {
        let problems = request.problems();
        if !problems.is_empty() {
            return Err(AppError::Validation(problems));
        }
        if let Some(r) = &request.reviewer_id {
            self.reviewer(caller, r).await?;
        }
        let mut items = Vec::with_capacity(request.case_ids.len());
        for case_id in &request.case_ids {
            let outcome = self.bulk_one(caller, &request, case_id).await;
            items.push(BulkItem {
                case_id: case_id.clone(),
                outcome,
            });
        }
        Ok(items)
    }

    async fn bulk_one(
        &self,
        caller: &Caller,
        request: &BulkRequest,
        id: &str,
    ) -> Result<Case, AppError> {
        let reviewer = request.reviewer_id.clone();
        let decide = |decision| DecisionRequest {
            reviewer_id: reviewer.clone().unwrap_or_default(),
            decision,
            notes: request.notes.clone(),
            rejection_reason: request.rejection_reason.clone(),
        };
        match request.action {
            BulkAction::Assign => self.assign(caller, id, reviewer.as_deref()).await,
            BulkAction::Release => self.release(caller, id, reviewer.as_deref()).await,
            BulkAction::Approve => self.decide(caller, id, decide(Decision::Approved)).await,
            BulkAction::Reject => self.decide(caller, id, decide(Decision::Rejected)).await,
            BulkAction::Escalate => {
                let escalation = Escalation {
                    reason: request.reason.clone().unwrap_or_default(),
                    escalated_to: None,
                    notes: request.notes.clone(),
                    reviewer_id: reviewer,
                };
                self.escalate(caller, id, escalation).await
            }
            BulkAction::SetPriority => {
                let patch = CasePatch {
                    priority: request.priority,
                    ..CasePatch::default()
                };
                self.edit(caller, id, &patch).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(action: BulkAction, ids: &[&str]) -> BulkRequest {
        BulkRequest {
            action,
            case_ids: ids.iter().map(|s| (*s).to_owned()).collect(),
            reviewer_id: None,
            priority: None,
            reason: None,
            rejection_reason: None,
            notes: None,
        }
    }

    fn fields(r: &BulkRequest) -> Vec<String> {
        r.problems().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn the_list_is_one_to_a_hundred_distinct_ids() {
        assert_eq!(fields(&request(BulkAction::Release, &[])), ["case_ids"]);
        let many: Vec<String> = (0..101).map(|n| format!("case_{n}")).collect();
        let mut r = request(BulkAction::Release, &[]);
        r.case_ids = many;
        assert_eq!(fields(&r), ["case_ids"]);
        assert_eq!(
            fields(&request(
                BulkAction::Release,
                &["case_1", "case_2", "case_1"]
            )),
            ["case_ids[2]"]
        );
    }

    #[test]
    fn each_action_names_what_it_needs() {
        assert_eq!(
            fields(&request(BulkAction::Approve, &["c"])),
            ["reviewer_id"]
        );
        assert_eq!(
            fields(&request(BulkAction::Assign, &["c"])),
            ["reviewer_id"]
        );
        assert_eq!(
            fields(&request(BulkAction::SetPriority, &["c"])),
            ["priority"]
        );
        assert_eq!(fields(&request(BulkAction::Escalate, &["c"])), ["reason"]);
        assert!(fields(&request(BulkAction::Release, &["c"])).is_empty());
        for a in BulkAction::ALL {
            assert_eq!(BulkAction::parse(a.as_str()), Some(a));
        }
    }
}
