//! How a completed session moves its identity (CONTRACT §7.1): the status follows the latest
//! completed session (a case decision included), so it can go down but never back to `pending`;
//! `redacted` and `merged` are final.

use super::model::{Identity, IdentityStatus};
use crate::session::Verdict;
use crate::workflow::Outcome;
use chrono::{DateTime, Utc};

/// How a session ended, as its identity sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompletionOutcome {
    /// Approved (by the workflow, a simulation or a reviewer).
    Approved,
    /// The workflow (or a simulation) rejected it.
    Failed,
    /// A reviewer rejected it.
    Rejected,
}

impl CompletionOutcome {
    /// The identity status this outcome leads to.
    pub fn status(self) -> IdentityStatus {
        match self {
            CompletionOutcome::Approved => IdentityStatus::Approved,
            CompletionOutcome::Failed => IdentityStatus::Failed,
            CompletionOutcome::Rejected => IdentityStatus::Rejected,
        }
    }

    /// The outcome of an automatic verdict (workflow, simulation, sandbox); `None` while it
    /// still needs review.
    pub fn of_verdict(outcome: Outcome) -> Option<Self> {
        match outcome {
            Outcome::Approved => Some(CompletionOutcome::Approved),
            Outcome::Rejected => Some(CompletionOutcome::Failed),
            Outcome::NeedsReview => None,
        }
    }
}

/// A session that just completed with an `external_ref`.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionCompletion {
    /// `ses_…`.
    pub session_id: String,
    /// The session's `external_ref`.
    pub external_ref: String,
    /// How it ended.
    pub outcome: CompletionOutcome,
    /// Its country.
    pub country: Option<String>,
    /// Latest `face_match` passed.
    pub face_match_passed: Option<bool>,
    /// Latest `age_verification` passed.
    pub age_check_passed: Option<bool>,
    /// Computed age.
    pub extracted_age: Option<i64>,
    /// Why it was rejected.
    pub rejection_reason: Option<String>,
    /// When it completed.
    pub completed_at: DateTime<Utc>,
}

impl SessionCompletion {
    /// The completion an automatic verdict describes; `None` while it needs review.
    pub fn of_verdict(
        session_id: &str,
        external_ref: &str,
        country: Option<String>,
        verdict: &Verdict,
        completed_at: DateTime<Utc>,
    ) -> Option<Self> {
        Some(Self {
            session_id: session_id.to_owned(),
            external_ref: external_ref.to_owned(),
            outcome: CompletionOutcome::of_verdict(verdict.outcome)?,
            country: country.or_else(|| verdict.summary.country_used.clone()),
            face_match_passed: verdict.summary.face_match_passed,
            age_check_passed: verdict.summary.age_check_passed,
            extracted_age: verdict.summary.extracted_age,
            rejection_reason: verdict.rejection_reason.clone(),
            completed_at,
        })
    }
}

impl Identity {
    /// Takes in a completed session. `newly_linked` says whether the session was not linked to
    /// this identity before (it then counts in `session_count`). Returns the fields that
    /// changed. A final identity only counts the session; a completion older than the latest
    /// one taken in counts and may move the verification dates, nothing else.
    pub fn absorb(&mut self, c: &SessionCompletion, newly_linked: bool) -> Vec<&'static str> {
        let mut changed = Vec::new();
        if newly_linked {
            self.session_count = self.session_count.saturating_add(1);
            changed.push("session_count");
        }
        if self.status.is_final() {
            return changed;
        }
        if c.outcome == CompletionOutcome::Approved {
            let at = c.completed_at;
            if self.first_verified_at.is_none_or(|t| at < t) {
                self.first_verified_at = Some(at);
                changed.push("first_verified_at");
            }
            if self.last_verified_at.is_none_or(|t| at > t) {
                self.last_verified_at = Some(at);
                changed.push("last_verified_at");
            }
        }
        if self.latest_completed_at.is_some_and(|t| t > c.completed_at) {
            return changed;
        }
        let mut set = |name: &'static str, changed_here: bool| {
            if changed_here {
                changed.push(name);
            }
        };
        let status = c.outcome.status();
        set("status", self.status != status);
        self.status = status;
        set(
            "latest_session_id",
            self.latest_session_id.as_deref() != Some(&c.session_id),
        );
        self.latest_session_id = Some(c.session_id.clone());
        self.latest_completed_at = Some(c.completed_at);
        set("country", self.country != c.country);
        self.country.clone_from(&c.country);
        set(
            "face_match_passed",
            self.face_match_passed != c.face_match_passed,
        );
        self.face_match_passed = c.face_match_passed;
        set(
            "age_check_passed",
            self.age_check_passed != c.age_check_passed,
        );
        self.age_check_passed = c.age_check_passed;
        set("extracted_age", self.extracted_age != c.extracted_age);
        self.extracted_age = c.extracted_age;
        set(
            "rejection_reason",
            self.rejection_reason != c.rejection_reason,
        );
        self.rejection_reason.clone_from(&c.rejection_reason);
        self.updated_at = c.completed_at;
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenancy::{Environment, Tenant};
    use chrono::{Duration, TimeZone};
    use proptest::prelude::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn identity() -> Identity {
        Identity::new(
            "idn_1".into(),
            Tenant::new("org_1", Environment::Live),
            "user_1".into(),
            t0(),
        )
    }

    fn completion(n: i64, outcome: CompletionOutcome) -> SessionCompletion {
        SessionCompletion {
            session_id: format!("ses_{n}"),
            external_ref: "user_1".into(),
            outcome,
            country: Some("DE".into()),
            face_match_passed: Some(outcome == CompletionOutcome::Approved),
            age_check_passed: None,
            extracted_age: Some(30),
            rejection_reason: (outcome != CompletionOutcome::Approved).then(|| "No.".to_owned()),
            completed_at: t0() + Duration::minutes(n),
        }
    }

    #[test]
    fn approval_sets_verification_dates_and_latest_session() {
        let mut i = identity();
        let changed = i.absorb(&completion(1, CompletionOutcome::Approved), true);
        assert_eq!(i.status, IdentityStatus::Approved);
        assert_eq!(i.session_count, 1);
        assert_eq!(i.latest_session_id.as_deref(), Some("ses_1"));
        assert_eq!(i.first_verified_at, Some(t0() + Duration::minutes(1)));
        assert!(changed.contains(&"status") && changed.contains(&"first_verified_at"));
        i.absorb(&completion(5, CompletionOutcome::Approved), true);
        assert_eq!(i.first_verified_at, Some(t0() + Duration::minutes(1)));
        assert_eq!(i.last_verified_at, Some(t0() + Duration::minutes(5)));
        assert_eq!(i.session_count, 2);
    }

    #[test]
    fn status_can_go_down_and_a_reviewer_rejection_is_rejected() {
        let mut i = identity();
        i.absorb(&completion(1, CompletionOutcome::Approved), true);
        i.absorb(&completion(2, CompletionOutcome::Failed), true);
        assert_eq!(i.status, IdentityStatus::Failed);
        assert_eq!(i.rejection_reason.as_deref(), Some("No."));
        i.absorb(&completion(3, CompletionOutcome::Rejected), false);
        assert_eq!(i.status, IdentityStatus::Rejected);
        assert_eq!(
            i.session_count, 2,
            "an already linked session is not counted twice"
        );
    }

    #[test]
    fn an_older_completion_only_counts() {
        let mut i = identity();
        i.absorb(&completion(5, CompletionOutcome::Approved), true);
        let changed = i.absorb(&completion(2, CompletionOutcome::Failed), true);
        assert_eq!(changed, vec!["session_count"]);
        let changed = i.absorb(&completion(3, CompletionOutcome::Approved), true);
        assert_eq!(changed, vec!["session_count", "first_verified_at"]);
        assert_eq!(i.status, IdentityStatus::Approved);
    }

    #[test]
    fn final_statuses_stay() {
        let mut i = identity();
        i.status = IdentityStatus::Merged;
        i.absorb(&completion(1, CompletionOutcome::Approved), true);
        assert_eq!(i.status, IdentityStatus::Merged);
        assert_eq!(i.latest_session_id, None);
    }

    fn outcome() -> impl Strategy<Value = CompletionOutcome> {
        prop_oneof![
            Just(CompletionOutcome::Approved),
            Just(CompletionOutcome::Failed),
            Just(CompletionOutcome::Rejected),
        ]
    }

    proptest! {
        /// Whatever sessions complete, in whatever order: the status is never `pending` again,
        /// it is the status of the latest completion, and every linked session is counted once.
        #[test]
        fn status_follows_the_latest_completion(
            seq in proptest::collection::vec((0i64..1_000, outcome()), 1..30)
        ) {
            let mut i = identity();
            for (n, o) in &seq {
                i.absorb(&completion(*n, *o), true);
                prop_assert_ne!(i.status, IdentityStatus::Pending);
            }
            let latest = seq.iter().map(|(n, _)| *n).max().unwrap_or_default();
            let statuses: Vec<_> = seq
                .iter()
                .filter(|(n, _)| *n == latest)
                .map(|(_, o)| o.status())
                .collect();
            prop_assert!(statuses.contains(&i.status));
            prop_assert_eq!(i.session_count, seq.len() as i64);
            let approvals: Vec<_> = seq
                .iter()
                .filter(|(_, o)| *o == CompletionOutcome::Approved)
                .map(|(n, _)| *n)
                .collect();
            let at = |n: Option<&i64>| n.map(|n| t0() + Duration::minutes(*n));
            prop_assert_eq!(i.first_verified_at, at(approvals.iter().min()));
            prop_assert_eq!(i.last_verified_at, at(approvals.iter().max()));
        }
    }
}
