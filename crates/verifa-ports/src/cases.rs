//! Manual-review cases storage (CONTRACT §8).
//!
//! A case is opened inside the session change that puts its session under review
//! ([`CaseOpening`] on the [`SessionChange`]), and decided inside the session change that
//! completes it ([`CaseStore::update`] with the change), so a session and its case never
//! disagree. Every write carries its `case.*` outbox events and its audit drafts.

use crate::RepoError;
use crate::sessions::SessionChange;
pub use crate::sessions::{CaseOpening, CaseUpdate, CaseWrite, NewCaseEvent};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use verifa_domain::audit::AuditDraft;
use verifa_domain::case::{Case, CaseSource, CaseStatus, Priority, SlaStatus};
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::tenancy::Tenant;

/// Whose cases a listing returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignee {
    /// This reviewer's.
    Reviewer(String),
    /// Nobody's.
    Nobody,
}

/// The order of a listing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CaseSort {
    /// Newest first (ties by id).
    #[default]
    Newest,
    /// The review queue: priority (urgent first), then longest in review, then id.
    Queue,
}

/// Which cases a listing returns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseFilter {
    /// Any of these statuses (empty: all).
    pub statuses: Vec<CaseStatus>,
    /// Assignee.
    pub assigned_to: Option<Assignee>,
    /// Any of these priorities (empty: all).
    pub priorities: Vec<Priority>,
    /// Any of these SLA bands as of the listing's `now` (empty: all).
    pub sla_statuses: Vec<SlaStatus>,
    /// Case id, session id or `external_ref`, exactly.
    pub q: Option<String>,
    /// The session's `external_ref`, exactly.
    pub external_ref: Option<String>,
    /// The identity.
    pub identity_id: Option<String>,
    /// Created at or after.
    pub created_after: Option<DateTime<Utc>>,
    /// Created before.
    pub created_before: Option<DateTime<Utc>>,
    /// What opened the case.
    pub source: Option<CaseSource>,
    /// Order.
    pub sort: CaseSort,
}

impl CaseFilter {
    /// Whether `c` passes the filter as of `now` (the reference semantics for every store).
    pub fn matches(&self, c: &Case, now: DateTime<Utc>) -> bool {
        (self.statuses.is_empty() || self.statuses.contains(&c.status))
            && match &self.assigned_to {
                None => true,
                Some(Assignee::Nobody) => c.assigned_to.is_none(),
                Some(Assignee::Reviewer(r)) => c.assigned_to.as_deref() == Some(r),
            }
            && (self.priorities.is_empty() || self.priorities.contains(&c.priority))
            && (self.sla_statuses.is_empty() || self.sla_statuses.contains(&c.sla(now).status))
            && self.q.as_deref().is_none_or(|q| {
                c.id == q || c.session_id == q || c.external_ref.as_deref() == Some(q)
            })
            && self
                .external_ref
                .as_deref()
                .is_none_or(|r| c.external_ref.as_deref() == Some(r))
            && self
                .identity_id
                .as_deref()
                .is_none_or(|i| c.identity_id.as_deref() == Some(i))
            && self.created_after.is_none_or(|t| c.created_at >= t)
            && self.created_before.is_none_or(|t| c.created_at < t)
            && self.source.is_none_or(|s| c.source == s)
    }
}

/// Counts of the review tabs, over active cases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TabCounts {
    /// Open and unassigned.
    pub unassigned: u64,
    /// Assigned to the reviewer asked about.
    pub mine: u64,
    /// Waiting for a second decision.
    pub pending_second_review: u64,
    /// Escalated.
    pub escalated: u64,
    /// Every active case.
    pub all: u64,
}

/// A note on a case; its content is sealed by the application.
#[derive(Debug, Clone, PartialEq)]
pub struct NoteRecord {
    /// `note_…`.
    pub id: String,
    /// The case.
    pub case_id: String,
    /// Owner.
    pub tenant: Tenant,
    /// `orguser_…`, or `None` for an API key's note.
    pub author_id: Option<String>,
    /// The user's name, or the key's label.
    pub author_name: String,
    /// `org` or `api`.
    pub author_type: String,
    /// Sealed content.
    pub content_sealed: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// What [`CaseStore::claim_next`] writes for the case it took: the case claimed (its revision
/// as read), its events and its audit drafts.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedCase {
    /// The case after the claim.
    pub case: Case,
    /// Its `case.*` events.
    pub events: Vec<NewCaseEvent>,
    /// Its audit drafts.
    pub audit: Vec<AuditDraft>,
}

/// The claim [`CaseStore::claim_next`] applies to the case it took (`None` declines it).
pub type ClaimNext<'a> = dyn Fn(Case) -> Option<ClaimedCase> + Send + Sync + 'a;

/// Stores cases and their notes. Every read and write is scoped to one tenant.
#[async_trait]
pub trait CaseStore: Send + Sync {
    /// Gets a case.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when absent in the tenant.
    async fn get(&self, tenant: &Tenant, id: &str) -> Result<Case, RepoError>;

    /// The session's active (undecided) case, if any.
    async fn active_for_session(
        &self,
        tenant: &Tenant,
        session_id: &str,
    ) -> Result<Option<Case>, RepoError>;

    /// Lists cases matching `filter` as of `now`.
    async fn list(
        &self,
        tenant: &Tenant,
        filter: &CaseFilter,
        now: DateTime<Utc>,
        page: PageRequest,
    ) -> Result<Page<Case>, RepoError>;

    /// The first `limit` open, unassigned cases in queue order (priority, then
    /// `entered_review_at`, then id), without counting the rest: what `next` claims from.
    async fn queue_head(&self, tenant: &Tenant, limit: u64) -> Result<Vec<Case>, RepoError>;

    /// Claims the first case of the queue (as [`Self::queue_head`] orders it) that no concurrent
    /// claim holds, in one transaction: the store takes the case (on Postgres a row lock that
    /// skips cases other claims hold; on SQLite the write lock, taken first), hands it to
    /// `claim`, and writes what `claim` returns — the claimed case, its events and audit — before
    /// anyone else can take it. Concurrent callers never wait for each other's case nor get the
    /// same one. `None` when the queue is empty (or `claim` declines the case it was given).
    async fn claim_next(
        &self,
        tenant: &Tenant,
        claim: &ClaimNext<'_>,
    ) -> Result<Option<Case>, RepoError>;

    /// Overwrites a case, fenced on its revision (stores `revision + 1`), with `session` — the
    /// change completing its session on a final decision — in the same transaction. When the
    /// change feeds an identity, the case takes that identity's id.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when the case or the session moved on; nothing is written.
    async fn update(
        &self,
        case: &Case,
        session: Option<&SessionChange>,
        events: &[NewCaseEvent],
        audit: &[AuditDraft],
    ) -> Result<(), RepoError>;

    /// Counts of the review tabs; `mine` counts `reviewer`'s (0 without one).
    async fn tab_counts(
        &self,
        tenant: &Tenant,
        reviewer: Option<&str>,
    ) -> Result<TabCounts, RepoError>;

    /// In-review cases whose assignee has been idle since before `idle_since`, oldest first, at
    /// most `limit`, across tenants (the idle-claim job).
    async fn idle_claims(
        &self,
        idle_since: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<Case>, RepoError>;

    /// Active cases past their SLA due time at `now` and not yet marked breached, oldest due
    /// first, at most `limit`, across tenants (the SLA job).
    async fn newly_breached(&self, now: DateTime<Utc>, limit: u64) -> Result<Vec<Case>, RepoError>;

    /// Appends a note.
    async fn add_note(&self, note: &NoteRecord, audit: &[AuditDraft]) -> Result<(), RepoError>;

    /// The notes of a case, oldest first.
    async fn notes(&self, tenant: &Tenant, case_id: &str) -> Result<Vec<NoteRecord>, RepoError>;
}
