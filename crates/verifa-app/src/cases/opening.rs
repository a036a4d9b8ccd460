//! Opening a case with the session change that puts a session under review (CONTRACT §8.3): a
//! run ending in `needs_review`, `simulate` with `require-review`, or `POST /cases` on a
//! completed or failed session.

use super::CaseService;
use crate::actor::{By, Caller};
use crate::error::AppError;
use crate::ids::{new_id, prefix};
use crate::retry::{Attempt, retrying, written};
use crate::sessions::change_by;
use serde_json::{Map, Value};
use verifa_domain::case::model::Opening;
use verifa_domain::case::{Case, CaseEvent, CaseSource, Priority};
use verifa_domain::fields;
use verifa_domain::session::{self, Action, DecisionSummary, ProcessingMode, SessionStatus};
use verifa_domain::settings::{DualReview, OrgSettings};
use verifa_domain::workflow::Outcome;
use verifa_ports::RepoError;
use verifa_ports::cases::{CaseOpening, CaseWrite, NewCaseEvent};
use verifa_ports::sessions::{ResultRecord, ResultWrite, SessionChange};
use verifa_ports::settings::SettingsStore;

/// `POST /cases`, as received.
#[derive(Debug, Clone, Default)]
pub struct NewCase {
    /// The session to review.
    pub session_id: String,
    /// Priority (default `normal`).
    pub priority: Option<Priority>,
    /// Integrator metadata.
    pub metadata: Option<Map<String, Value>>,
}

/// How cases open in a tenant: the settings `case_dual_review` and `case_sla_hours`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReviewPolicy {
    /// Every case needs two reviewers (`case_dual_review: "all"`).
    pub requires_dual_review: bool,
    /// Hours until a case's SLA is due.
    pub sla_hours: i64,
}

impl Default for ReviewPolicy {
    fn default() -> Self {
        Self::of(&OrgSettings::default())
    }
}

impl ReviewPolicy {
    /// The policy of `settings`.
    pub fn of(settings: &OrgSettings) -> Self {
        Self {
            requires_dual_review: settings.case_dual_review == DualReview::All,
            sla_hours: i64::from(settings.case_sla_hours),
        }
    }
}

/// Whether `change` puts its session under review (and so may open a case).
fn enters_review(change: &SessionChange) -> bool {
    change.session.status == SessionStatus::UnderReview
        && change.expected_status != SessionStatus::UnderReview
}

/// The review policy for `change`: read from the tenant's settings only when the change may
/// open a case.
pub(crate) async fn policy_for(
    change: &SessionChange,
    settings: &dyn SettingsStore,
) -> Result<ReviewPolicy, RepoError> {
    if !enters_review(change) {
        return Ok(ReviewPolicy::default());
    }
    Ok(ReviewPolicy::of(
        &settings.get(&change.session.tenant).await?.settings,
    ))
}

/// What a case opens with besides its session.
struct Draft {
    id: String,
    source: CaseSource,
    priority: Priority,
    metadata: Map<String, Value>,
    review: ReviewPolicy,
}

/// The change, opening a case when it puts the session under review with a verdict.
pub(crate) fn opening_case(
    change: SessionChange,
    source: CaseSource,
    by: By<'_>,
    review: ReviewPolicy,
) -> SessionChange {
    let draft = Draft {
        id: new_id(prefix::CASE),
        source,
        priority: Priority::Normal,
        metadata: Map::new(),
        review,
    };
    open(change, draft, by)
}

fn open(mut change: SessionChange, draft: Draft, by: By<'_>) -> SessionChange {
    let enters = enters_review(&change);
    let s = &change.session;
    let ResultWrite::Put(result) = &mut change.result else {
        return change;
    };
    if !enters {
        return change;
    }
    if s.case_status.is_some_and(|c| c.is_active()) {
        // Back under the case an override came from: no second case.
        result.case_id = s.case_id.clone();
        return change;
    }
    result.case_id = Some(draft.id.clone());
    let mut review_reasons = result.verdict.summary.review_reasons();
    if draft.source == CaseSource::Api {
        // No terminal sent it to review: a caller did.
        review_reasons.pop();
        review_reasons.push("review:requested".to_owned());
    }
    let at = s.updated_at;
    let mut case = Case::open(Opening {
        id: draft.id,
        tenant: s.tenant.clone(),
        session_id: s.id.clone(),
        identity_id: s.identity_id.clone(),
        external_ref: s.external_ref.clone(),
        source: draft.source,
        review_reasons,
        priority: draft.priority,
        requires_dual_review: draft.review.requires_dual_review,
        sla_hours: draft.review.sla_hours,
        at,
    });
    case.metadata = draft.metadata;
    let audit = by
        .audit(s.tenant.clone(), "case.created", "case", &case.id, at)
        .with_changes(["status", "priority", "review_reasons"])
        .with_metadata("session_id", s.id.clone());
    let opening = CaseOpening {
        event: NewCaseEvent {
            id: new_id(prefix::EVENT),
            event: CaseEvent::Created,
        },
        case,
        audit,
    };
    change.opening_case(opening)
}

impl CaseService {
    /// Opens a case for a completed or failed session (`POST /cases`); the session's active
    /// case instead when it has one. Returns the case and whether it is new.
    pub async fn create(&self, caller: &Caller, new: NewCase) -> Result<(Case, bool), AppError> {
        let metadata = new.metadata.unwrap_or_default();
        let problems = fields::check("metadata", &metadata);
        if !problems.is_empty() {
            return Err(crate::error::field_problems(problems));
        }
        let tenant = caller.tenant();
        retrying!(
            "the session",
            async {
                let current = self
                    .sessions
                    .get(&tenant, &new.session_id)
                    .await
                    .map_err(AppError::from_repo("session"))?;
                if let Some(active) = self.store.active_for_session(&tenant, &current.id).await? {
                    return Ok(Attempt::Done((active, false)));
                }
                let id = new_id(prefix::CASE);
                let action = Action::OpenCase {
                    case_id: id.clone(),
                };
                let now = self.clock.now();
                let t = session::transition(&current, action.clone(), now)
                    .map_err(|e| AppError::InvalidState(e.to_string()))?;
                let result = self.review_result(&current, now).await?;
                let change = change_by(t, &action, By::Caller(caller)).with_result(result);
                let review = policy_for(&change, self.settings.as_ref()).await?;
                let draft = Draft {
                    id: id.clone(),
                    source: CaseSource::Api,
                    priority: new.priority.unwrap_or(Priority::Normal),
                    metadata: metadata.clone(),
                    review,
                };
                let change = open(change, draft, By::Caller(caller));
                let outcome = self.sessions.apply(&change).await;
                let Some(CaseWrite::Open(opening)) = change.case else {
                    return Err(AppError::Internal(
                        "the review change opened no case".into(),
                    ));
                };
                written(outcome, (opening.case, true))
            }
            .await
        )
    }

    /// The session's result turned `needs_review` (a failed run may have none: one is made).
    async fn review_result(
        &self,
        s: &session::Session,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<ResultRecord, AppError> {
        let mut result = match self.sessions.result(&s.tenant, &s.id).await? {
            Some(r) => r,
            None => ResultRecord {
                session_id: s.id.clone(),
                tenant: s.tenant.clone(),
                verdict: session::Verdict {
                    outcome: Outcome::NeedsReview,
                    summary: DecisionSummary {
                        face_match_passed: None,
                        face_match_score: None,
                        age_check_passed: None,
                        extracted_age: None,
                        processing_mode: ProcessingMode::Workflow,
                        country_used: s.country.clone(),
                        check_results: Default::default(),
                    },
                    rejection_reason: None,
                },
                extracted_data_sealed: None,
                lookups: None,
                workflow_run_id: None,
                simulated: false,
                case_id: None,
                decided_by: None,
                created_at: now,
                updated_at: now,
            },
        };
        result.verdict.outcome = Outcome::NeedsReview;
        result.verdict.rejection_reason = None;
        result.decided_by = None;
        result.updated_at = now;
        Ok(result)
    }
}
