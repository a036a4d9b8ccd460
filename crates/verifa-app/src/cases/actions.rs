//! What reviewers do to a case short of deciding it: claim, release, assign, take the next one,
//! escalate, edit. Each is a read-modify-write fenced on the case's revision, retried on a lost race,
//! with its `case.*` events and audit event in the same transaction.

use super::CaseService;
use crate::actor::Caller;
use crate::error::AppError;
use crate::ids::{new_id, prefix};
use crate::retry::{Attempt, retrying, written};
use chrono::{DateTime, Utc};
use verifa_domain::case::{Case, CaseError, CaseEvent, CasePatch};
use verifa_ports::RepoError;
use verifa_ports::cases::{ClaimedCase, NewCaseEvent};

/// `POST /cases/{id}/escalate`, as received.
#[derive(Debug, Clone, Default)]
pub struct Escalation {
    /// Why (required, ≤ 2 000).
    pub reason: String,
    /// The reviewer it goes to (becomes the assignee).
    pub escalated_to: Option<String>,
    /// Notes, stored as a note.
    pub notes: Option<String>,
    /// The reviewer escalating.
    pub reviewer_id: Option<String>,
}

pub(crate) fn refused(e: CaseError) -> AppError {
    match e {
        CaseError::InvalidState(m) => AppError::InvalidState(m),
        CaseError::Conflict(m) => AppError::Conflict(m),
        CaseError::Invalid { field, message } => AppError::invalid(field, message),
        CaseError::InvalidFields(problems) => crate::error::field_problems(problems),
    }
}

pub(crate) fn events(kinds: &[CaseEvent]) -> Vec<NewCaseEvent> {
    kinds
        .iter()
        .map(|e| NewCaseEvent {
            id: new_id(prefix::EVENT),
            event: *e,
        })
        .collect()
}

/// What one action did: its audit name, the fields it changed and its events.
pub(crate) struct Acted {
    pub action: &'static str,
    pub fields: Vec<&'static str>,
    pub events: Vec<CaseEvent>,
}

impl CaseService {
    /// Reads the case, applies `f`, writes what it did (nothing when it did nothing).
    pub(crate) async fn act<F>(&self, caller: &Caller, id: &str, f: F) -> Result<Case, AppError>
    where
        F: Fn(&mut Case, DateTime<Utc>) -> Result<Option<Acted>, AppError> + Send + Sync,
    {
        retrying!(
            "the case",
            async {
                let mut case = self.get(caller, id).await?;
                let now = self.clock.now();
                let Some(acted) = f(&mut case, now)? else {
                    return Ok(Attempt::Done(case));
                };
                case.updated_at = now;
                self.write(caller, case, acted).await
            }
            .await
        )
    }

    async fn write(
        &self,
        caller: &Caller,
        mut case: Case,
        acted: Acted,
    ) -> Result<Attempt<Case>, AppError> {
        let audit = caller
            .audit(acted.action, "case", &case.id, case.updated_at)
            .with_changes(acted.fields);
        let outcome = self
            .store
            .update(&case, None, &events(&acted.events), &[audit])
            .await;
        case.revision = case.revision.saturating_add(1);
        written(outcome, case)
    }

    /// Claims a case for a reviewer (the holder claiming again is a 200 that changes nothing).
    pub async fn claim(
        &self,
        caller: &Caller,
        id: &str,
        reviewer_id: &str,
    ) -> Result<Case, AppError> {
        let reviewer = self.reviewer(caller, reviewer_id).await?;
        self.act(caller, id, |case, now| {
            let newly = case.claim(&reviewer, now).map_err(refused)?;
            Ok(newly.then(|| Acted {
                action: "case.claimed",
                fields: vec!["assigned_to", "status"],
                events: vec![CaseEvent::Assigned],
            }))
        })
        .await
    }

    /// Releases a claim (`reviewer_id`, when given, must hold it).
    pub async fn release(
        &self,
        caller: &Caller,
        id: &str,
        reviewer_id: Option<&str>,
    ) -> Result<Case, AppError> {
        let reviewer = match reviewer_id {
            Some(r) => Some(self.reviewer(caller, r).await?),
            None => None,
        };
        self.act(caller, id, |case, now| {
            case.release(reviewer.as_deref(), now).map_err(refused)?;
            Ok(Some(Acted {
                action: "case.released",
                fields: vec!["assigned_to", "status"],
                events: Vec::new(),
            }))
        })
        .await
    }

    /// Assigns a case (overriding its holder), or unassigns it with `None`.
    pub async fn assign(
        &self,
        caller: &Caller,
        id: &str,
        reviewer_id: Option<&str>,
    ) -> Result<Case, AppError> {
        let reviewer = match reviewer_id {
            Some(r) => Some(self.reviewer(caller, r).await?),
            None => None,
        };
        self.act(caller, id, |case, now| {
            case.assign(reviewer.as_deref(), now).map_err(refused)?;
            Ok(Some(Acted {
                action: "case.assigned",
                fields: vec!["assigned_to", "status"],
                events: if reviewer.is_some() {
                    vec![CaseEvent::Assigned]
                } else {
                    Vec::new()
                },
            }))
        })
        .await
    }

    /// Claims the next case of the queue for a reviewer: the oldest unassigned open case by
    /// priority, then time in review, then id. Two reviewers never get the same case: the
    /// claim is fenced on the case's revision, and the loser takes the next one.
    pub async fn next(&self, caller: &Caller, reviewer_id: &str) -> Result<Case, AppError> {
        let reviewer = self.reviewer(caller, reviewer_id).await?;
        let tenant = caller.tenant();
        // The store takes the first case no concurrent `next` holds and applies the claim in
        // the same transaction: reviewers never wait on, nor retry after, each other's case.
        let claim = |mut case: Case| {
            let now = self.clock.now();
            case.claim(&reviewer, now).ok()?;
            case.updated_at = now;
            let audit = caller
                .audit("case.claimed", "case", &case.id, now)
                .with_changes(vec!["assigned_to", "status"]);
            Some(ClaimedCase {
                case,
                events: events(&[CaseEvent::Assigned]),
                audit: vec![audit],
            })
        };
        retrying!(
            "the review queue",
            match self.store.claim_next(&tenant, &claim).await {
                Ok(Some(case)) => Ok(Attempt::Done(case)),
                Ok(None) => Err(AppError::NotFound("case")),
                Err(RepoError::Conflict(_)) => Ok(Attempt::Again),
                Err(e) => Err(e.into()),
            }
        )
    }

    /// Escalates a case under review.
    pub async fn escalate(
        &self,
        caller: &Caller,
        id: &str,
        escalation: Escalation,
    ) -> Result<Case, AppError> {
        let to = match &escalation.escalated_to {
            Some(r) => Some(self.reviewer(caller, r).await.map_err(|_| {
                AppError::invalid(
                    "escalated_to",
                    "names no active reviewer of this organization",
                )
            })?),
            None => None,
        };
        let by = match &escalation.reviewer_id {
            Some(r) => Some(self.reviewer(caller, r).await?),
            None => None,
        };
        let case = self
            .act(caller, id, |case, now| {
                case.escalate(by.as_deref(), &escalation.reason, to.as_deref(), now)
                    .map_err(refused)?;
                let mut events = vec![CaseEvent::Escalated];
                if to.is_some() {
                    events.push(CaseEvent::Assigned);
                }
                Ok(Some(Acted {
                    action: "case.escalated",
                    fields: vec![
                        "status",
                        "requires_dual_review",
                        "escalated_to",
                        "escalation_reason",
                        "assigned_to",
                    ],
                    events,
                }))
            })
            .await?;
        self.note_if_any(caller, &case.id, escalation.notes.as_deref(), by.as_deref())
            .await?;
        Ok(case)
    }

    /// Edits priority, dual review, metadata or custom fields (`PATCH /cases/{id}`).
    pub async fn edit(
        &self,
        caller: &Caller,
        id: &str,
        patch: &CasePatch,
    ) -> Result<Case, AppError> {
        self.act(caller, id, |case, now| {
            let fields = case.edit(patch, now).map_err(refused)?;
            Ok((!fields.is_empty()).then_some(Acted {
                action: "case.updated",
                fields,
                events: Vec::new(),
            }))
        })
        .await
    }
}
