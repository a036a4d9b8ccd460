//! [`SessionStore`]: session rows and their atomic changes.

use super::{NewEvent, ResultRecord, RetentionPass, SessionChange, SessionFilter};
use crate::RepoError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use verifa_domain::audit::AuditDraft;
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::session::Session;
use verifa_domain::tenancy::Tenant;

/// Stores sessions. Every read is scoped to one tenant: a session of another organization or
/// environment MUST be reported as [`RepoError::NotFound`], never returned.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Inserts a new session with its events and audit drafts, atomically.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when the id exists; [`RepoError::Unavailable`] when the store fails.
    async fn insert(
        &self,
        session: &Session,
        events: &[NewEvent],
        audit: &[AuditDraft],
    ) -> Result<(), RepoError>;

    /// Gets a session of the tenant.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when absent (or another tenant's).
    async fn get(&self, tenant: &Tenant, id: &str) -> Result<Session, RepoError>;

    /// Lists the tenant's sessions, newest first (ties broken by id, descending), with the total
    /// across pages.
    async fn list(
        &self,
        tenant: &Tenant,
        filter: &SessionFilter,
        page: PageRequest,
    ) -> Result<Page<Session>, RepoError>;

    /// Applies a change atomically: the session row, its events (appended in order after every
    /// earlier event), the result write and the run write all happen, or none does.
    ///
    /// MUST compare-and-set on `expected_revision` (and `expected_status`): of two changes read
    /// at the same revision, at most one succeeds, so no change is lost; the stored revision
    /// becomes `session.revision`. A [`RunWrite::Start`](super::RunWrite::Start) MUST delete every earlier
    /// run of the session and its attempts; a [`RunWrite::Update`](super::RunWrite::Update) MUST
    /// be fenced on `expected_revision`.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when the session moved past `expected_revision` (or its status is
    /// no longer `expected_status`), or a fenced run update lost its race; nothing is written
    /// then. Callers re-read and retry.
    async fn apply(&self, change: &SessionChange) -> Result<(), RepoError>;

    /// The session's result, if it has one.
    async fn result(
        &self,
        tenant: &Tenant,
        session_id: &str,
    ) -> Result<Option<ResultRecord>, RepoError>;

    /// Sessions of any tenant still `pending` or `capturing` whose capture token expired before
    /// `now`, oldest expiry first, at most `limit` (a background job expires them).
    async fn stale_capture_sessions(
        &self,
        now: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<Session>, RepoError>;

    /// The tenant's finished sessions (`completed`, `expired`, `failed`) that `pass` applies
    /// to and that finished before `finished_before`, oldest change first, at most `limit`.
    /// A session finished when it was completed (`completed_at`), expired (`expired_at`) or
    /// last changed when failed without a completion time (`updated_at`). `Sensitive`: still
    /// `active`; `Full`: `active` or `sensitive_redacted`, with no `retention_expired_at`.
    /// Sessions under review or still at work are never returned.
    async fn retention_due(
        &self,
        tenant: &Tenant,
        pass: RetentionPass,
        finished_before: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<Session>, RepoError>;
}
