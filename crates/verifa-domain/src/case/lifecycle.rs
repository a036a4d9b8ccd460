//! What reviewers may do to a case (CONTRACT §8.2). Each rule changes the case in place or
//! refuses with a [`CaseError`] saying why; the caller stores the case fenced on its revision.
//!
//! | From | Action | To |
//! |---|---|---|
//! | `open` | claim, assign | `in_review` |
//! | `in_review` | release, 30 idle minutes | `open` |
//! | `in_review`, `escalated` | decide, no dual review | `approved` / `rejected` |
//! | `in_review`, `escalated` | decide, dual review | `pending_second_review` |
//! | `in_review` | escalate | `escalated` (dual review from then on) |
//! | `pending_second_review` | decide by another reviewer | `approved` / `rejected` |
//!
//! Claim and release on `escalated` or `pending_second_review` change only the assignee.
//! Deciding an unassigned case claims it; a case held by someone else is a conflict.

use super::model::{Case, CaseStatus, Decision, Recommendation};
use chrono::{DateTime, Duration, Utc};

/// How long a claim survives without the assignee's activity.
pub const IDLE_CLAIM: Duration = Duration::minutes(30);
/// Longest rejection reason.
pub const MAX_REJECTION_REASON_LEN: usize = 500;
/// Longest escalation reason.
pub const MAX_ESCALATION_REASON_LEN: usize = 2_000;
/// Longest note.
pub const MAX_NOTE_LEN: usize = 10_000;
/// The rejection reason when a reviewer gives none.
pub const DEFAULT_REJECTION_REASON: &str = "Rejected during manual review.";

/// Why a rule refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    /// Not allowed in the case's status (409 `invalid_state`).
    #[error("{0}")]
    InvalidState(String),
    /// Another reviewer holds or recommended it (409 `conflict`).
    #[error("{0}")]
    Conflict(String),
    /// A field is invalid (422).
    #[error("{field}: {message}")]
    Invalid {
        /// Body field.
        field: &'static str,
        /// Why.
        message: String,
    },
    /// Free-form objects break their limits (422): `(field path, message)` each.
    #[error("invalid fields")]
    InvalidFields(Vec<(String, String)>),
}

/// What a decision did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decided {
    /// The case is decided; the session's result follows.
    Final(Decision),
    /// Dual review: the decision is stored as the recommendation; another reviewer decides.
    Recommended,
}

fn too_long(field: &'static str, value: Option<&str>, max: usize) -> Result<(), CaseError> {
    if value.is_some_and(|v| v.chars().count() > max) {
        return Err(CaseError::Invalid {
            field,
            message: format!("must be at most {max} characters"),
        });
    }
    Ok(())
}

impl Case {
    fn ensure_active(&self, action: &str) -> Result<(), CaseError> {
        if self.status.is_active() {
            Ok(())
        } else {
            Err(CaseError::InvalidState(format!(
                "cannot {action} a case that is {}",
                self.status.as_str()
            )))
        }
    }

    fn held_by_other(&self, reviewer: &str) -> Result<(), CaseError> {
        match &self.assigned_to {
            Some(holder) if holder != reviewer => Err(CaseError::Conflict(format!(
                "the case is assigned to {holder}; ask them to release it, or reassign it"
            ))),
            _ => Ok(()),
        }
    }

    fn take(&mut self, reviewer: &str, now: DateTime<Utc>) {
        self.assigned_to = Some(reviewer.to_owned());
        self.claimed_at = Some(now);
        if self.status == CaseStatus::Open {
            self.status = CaseStatus::InReview;
        }
    }

    /// Claims the case for `reviewer`; `false` when they already held it.
    pub fn claim(&mut self, reviewer: &str, now: DateTime<Utc>) -> Result<bool, CaseError> {
        self.ensure_active("claim")?;
        self.held_by_other(reviewer)?;
        self.last_activity_at = now;
        if self.assigned_to.is_some() {
            return Ok(false);
        }
        self.take(reviewer, now);
        Ok(true)
    }

    /// Releases the claim (`reviewer`, when given, must be the holder).
    pub fn release(&mut self, reviewer: Option<&str>, now: DateTime<Utc>) -> Result<(), CaseError> {
        self.ensure_active("release")?;
        if let Some(r) = reviewer {
            self.held_by_other(r)?;
        }
        match self.status {
            CaseStatus::Open => Err(CaseError::InvalidState(
                "the case is open: nobody holds it".into(),
            )),
            CaseStatus::InReview => {
                self.status = CaseStatus::Open;
                self.unassign(now);
                Ok(())
            }
            _ => {
                self.unassign(now);
                Ok(())
            }
        }
    }

    fn unassign(&mut self, now: DateTime<Utc>) {
        self.assigned_to = None;
        self.claimed_at = None;
        self.last_activity_at = now;
    }

    /// Assigns the case to `reviewer` (overriding any holder), or unassigns it with `None`.
    pub fn assign(&mut self, reviewer: Option<&str>, now: DateTime<Utc>) -> Result<(), CaseError> {
        self.ensure_active("assign")?;
        self.last_activity_at = now;
        match reviewer {
            Some(r) => self.take(r, now),
            None => {
                if self.status == CaseStatus::InReview {
                    self.status = CaseStatus::Open;
                }
                self.unassign(now);
            }
        }
        Ok(())
    }

    /// Lets `reviewer` override a check of the case's run (CONTRACT §8.4): the case must be
    /// `in_review` or `escalated` and held by them. Counts as their activity.
    pub fn override_check(&mut self, reviewer: &str, now: DateTime<Utc>) -> Result<(), CaseError> {
        if !matches!(self.status, CaseStatus::InReview | CaseStatus::Escalated) {
            return Err(CaseError::InvalidState(format!(
                "cannot override a check of a case that is {}; it must be in_review or escalated",
                self.status.as_str()
            )));
        }
        match &self.assigned_to {
            Some(holder) if holder == reviewer => {
                self.last_activity_at = now;
                Ok(())
            }
            Some(holder) => Err(CaseError::Conflict(format!(
                "the case is assigned to {holder}; only its assignee can override a check"
            ))),
            None => Err(CaseError::Conflict(
                "nobody holds the case; claim it before overriding a check".into(),
            )),
        }
    }

    /// Approves or rejects for `reviewer`; with dual review the first decision is a
    /// recommendation, and the recommender cannot make the second.
    pub fn decide(
        &mut self,
        reviewer: &str,
        decision: Decision,
        rejection_reason: Option<String>,
        notes: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Decided, CaseError> {
        self.ensure_active("decide")?;
        too_long(
            "rejection_reason",
            rejection_reason.as_deref(),
            MAX_REJECTION_REASON_LEN,
        )?;
        too_long("notes", notes.as_deref(), MAX_NOTE_LEN)?;
        self.held_by_other(reviewer)?;
        let second = self.status == CaseStatus::PendingSecondReview;
        if second
            && self
                .recommendation
                .as_ref()
                .is_some_and(|r| r.reviewer_id == reviewer)
        {
            return Err(CaseError::Conflict(
                "you recommended this decision; another reviewer must make the second one".into(),
            ));
        }
        if self.assigned_to.is_none() {
            self.take(reviewer, now);
        }
        self.last_activity_at = now;
        let reason = (decision == Decision::Rejected).then(|| {
            rejection_reason
                .clone()
                .filter(|r| !r.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_REJECTION_REASON.to_owned())
        });
        if self.requires_dual_review && !second {
            self.recommendation = Some(Recommendation {
                decision,
                reviewer_id: reviewer.to_owned(),
                rejection_reason: reason,
                notes,
                at: now,
            });
            self.status = CaseStatus::PendingSecondReview;
            self.unassign(now);
            return Ok(Decided::Recommended);
        }
        self.status = match decision {
            Decision::Approved => CaseStatus::Approved,
            Decision::Rejected => CaseStatus::Rejected,
        };
        self.decision = Some(decision);
        self.decided_by = Some(reviewer.to_owned());
        self.decided_at = Some(now);
        self.rejection_reason = reason;
        Ok(Decided::Final(decision))
    }

    /// Escalates a case under review; `escalated_to` becomes its assignee.
    pub fn escalate(
        &mut self,
        reviewer: Option<&str>,
        reason: &str,
        escalated_to: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), CaseError> {
        self.ensure_active("escalate")?;
        if reason.trim().is_empty() || reason.chars().count() > MAX_ESCALATION_REASON_LEN {
            return Err(CaseError::Invalid {
                field: "reason",
                message: format!("is required, at most {MAX_ESCALATION_REASON_LEN} characters"),
            });
        }
        if self.status != CaseStatus::InReview {
            return Err(CaseError::InvalidState(format!(
                "only a case in review can be escalated; this one is {}",
                self.status.as_str()
            )));
        }
        if let Some(r) = reviewer {
            self.held_by_other(r)?;
        }
        self.status = CaseStatus::Escalated;
        self.requires_dual_review = true;
        self.escalation_reason = Some(reason.to_owned());
        self.escalated_to = escalated_to.map(str::to_owned);
        match escalated_to {
            Some(to) => {
                self.assigned_to = Some(to.to_owned());
                self.claimed_at = Some(now);
            }
            None => self.unassign(now),
        }
        self.last_activity_at = now;
        Ok(())
    }

    /// Releases a claim idle for [`IDLE_CLAIM`]; `true` when it did.
    pub fn release_if_idle(&mut self, now: DateTime<Utc>) -> bool {
        let idle = self.last_activity_at + IDLE_CLAIM <= now;
        if self.status == CaseStatus::InReview && self.assigned_to.is_some() && idle {
            self.status = CaseStatus::Open;
            self.unassign(now);
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::model::{CaseSource, Opening, Priority};
    use crate::tenancy::{Environment, Tenant};

    fn at(m: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::minutes(m)
    }

    fn case(dual: bool) -> Case {
        Case::open(Opening {
            id: "case_1".into(),
            tenant: Tenant::new("org", Environment::Live),
            session_id: "ses_1".into(),
            identity_id: None,
            external_ref: None,
            source: CaseSource::Workflow,
            review_reasons: vec!["review:terminal".into()],
            priority: Priority::Normal,
            requires_dual_review: dual,
            sla_hours: 24,
            at: at(0),
        })
    }

    #[test]
    fn claim_release_and_conflicts() {
        let mut c = case(false);
        assert!(c.release(None, at(1)).is_err(), "nothing to release");
        assert_eq!(c.claim("ann", at(1)), Ok(true));
        assert_eq!(c.status, CaseStatus::InReview);
        assert_eq!(
            c.claim("ann", at(2)),
            Ok(false),
            "the holder claiming again"
        );
        assert!(matches!(c.claim("bob", at(2)), Err(CaseError::Conflict(_))));
        assert!(matches!(
            c.release(Some("bob"), at(2)),
            Err(CaseError::Conflict(_))
        ));
        c.release(Some("ann"), at(3)).unwrap();
        assert_eq!((c.status, c.assigned_to.clone()), (CaseStatus::Open, None));
        c.assign(Some("bob"), at(4)).unwrap();
        c.assign(Some("cat"), at(5)).unwrap();
        assert_eq!(c.assigned_to.as_deref(), Some("cat"), "assign overrides");
    }

    #[test]
    fn only_the_assignee_of_an_active_review_overrides() {
        let mut c = case(false);
        assert!(
            matches!(c.override_check("ann", at(1)), Err(CaseError::InvalidState(m)) if m.contains("open"))
        );
        c.claim("ann", at(1)).unwrap();
        assert!(matches!(
            c.override_check("bob", at(2)),
            Err(CaseError::Conflict(_))
        ));
        assert_eq!(c.override_check("ann", at(3)), Ok(()));
        assert_eq!(c.last_activity_at, at(3));
        c.escalate(Some("ann"), "PEP?", Some("bob"), at(4)).unwrap();
        assert_eq!(
            c.override_check("bob", at(5)),
            Ok(()),
            "the escalation's assignee"
        );
        c.decide("bob", Decision::Approved, None, None, at(6))
            .unwrap();
        assert!(matches!(
            c.override_check("bob", at(7)),
            Err(CaseError::InvalidState(_))
        ));
    }

    #[test]
    fn deciding_claims_and_is_final() {
        let mut c = case(false);
        let d = c
            .decide("ann", Decision::Rejected, None, None, at(5))
            .unwrap();
        assert_eq!(d, Decided::Final(Decision::Rejected));
        assert_eq!(c.status, CaseStatus::Rejected);
        assert_eq!(
            c.rejection_reason.as_deref(),
            Some(DEFAULT_REJECTION_REASON)
        );
        assert_eq!(c.decided_by.as_deref(), Some("ann"));
        assert!(matches!(
            c.claim("ann", at(6)),
            Err(CaseError::InvalidState(_))
        ));
        assert!(matches!(
            c.decide("ann", Decision::Approved, None, None, at(6)),
            Err(CaseError::InvalidState(_))
        ));
    }

    #[test]
    fn dual_review_needs_another_reviewer() {
        let mut c = case(true);
        c.claim("ann", at(1)).unwrap();
        let d = c
            .decide("ann", Decision::Approved, None, Some("ok".into()), at(2))
            .unwrap();
        assert_eq!(d, Decided::Recommended);
        assert_eq!(c.status, CaseStatus::PendingSecondReview);
        assert_eq!(c.assigned_to, None);
        assert!(matches!(
            c.decide("ann", Decision::Approved, None, None, at(3)),
            Err(CaseError::Conflict(_))
        ));
        c.claim("bob", at(3)).unwrap();
        assert_eq!(
            c.status,
            CaseStatus::PendingSecondReview,
            "claim only assigns"
        );
        let d = c
            .decide(
                "bob",
                Decision::Rejected,
                Some("Forged".into()),
                None,
                at(4),
            )
            .unwrap();
        assert_eq!(d, Decided::Final(Decision::Rejected));
        assert_eq!(c.rejection_reason.as_deref(), Some("Forged"));
        assert_eq!(
            c.recommendation.as_ref().map(|r| r.decision),
            Some(Decision::Approved)
        );
    }

    #[test]
    fn escalation_requires_dual_review_and_a_reason() {
        let mut c = case(false);
        assert!(
            c.escalate(None, "PEP?", None, at(1)).is_err(),
            "only in review"
        );
        c.claim("ann", at(1)).unwrap();
        assert!(matches!(
            c.escalate(Some("ann"), " ", None, at(2)),
            Err(CaseError::Invalid { .. })
        ));
        c.escalate(Some("ann"), "PEP?", Some("lead"), at(2))
            .unwrap();
        assert_eq!(c.status, CaseStatus::Escalated);
        assert!(c.requires_dual_review);
        assert_eq!(c.assigned_to.as_deref(), Some("lead"));
        assert_eq!(
            c.decide("lead", Decision::Approved, None, None, at(3)),
            Ok(Decided::Recommended)
        );
    }

    #[test]
    fn idle_claims_are_released_after_thirty_minutes() {
        let mut c = case(false);
        c.claim("ann", at(0)).unwrap();
        assert!(!c.release_if_idle(at(29)));
        assert!(c.release_if_idle(at(30)));
        assert_eq!((c.status, c.assigned_to.clone()), (CaseStatus::Open, None));
        assert!(!c.release_if_idle(at(90)), "only once");
    }
}
