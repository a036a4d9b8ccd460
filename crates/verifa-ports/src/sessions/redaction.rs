//! [`SessionRedaction`]: crypto-shredding a session (CONTRACT §11.2), or an identity with all its
//! sessions (§11.4), in one transaction, and the
//! durable queue of document blobs whose deletion storage has yet to confirm.

use super::SessionChange;
use crate::RepoError;
use crate::identities::NewIdentityEvent;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use verifa_domain::audit::AuditDraft;
use verifa_domain::identity::Identity;
use verifa_domain::tenancy::Tenant;

/// A document blob queued for deletion by a redaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobDeletion {
    /// Queue position.
    pub id: i64,
    /// Storage key of the blob.
    pub storage_key: String,
    /// The owner of the session it belonged to.
    pub tenant: Tenant,
    /// Deletions tried so far.
    pub attempts: i32,
}

/// Redacts sessions and keeps their blob deletions until storage confirms them.
#[async_trait]
pub trait SessionRedaction: Send + Sync {
    /// Applies `change` (the session as redaction leaves it: no data key, no fields,
    /// `retention_status: redacted`; fenced as [`SessionStore::apply`](super::SessionStore::apply))
    /// and, in the same transaction, destroys the session's stored personal data: its document
    /// rows go and their blobs are queued for deletion, its result's extracted data is nulled,
    /// its lookup hashes and duplicate fingerprints are deleted, and its runs keep their path and
    /// statuses but lose every check output and error (see `RunState::redact_personal_data`).
    /// Returns the queued blob deletions (one per document removed).
    ///
    /// # Errors
    /// As [`SessionStore::apply`](super::SessionStore::apply); nothing is written on error.
    async fn redact(&self, change: &SessionChange) -> Result<Vec<BlobDeletion>, RepoError>;

    /// Redacts an identity with all its sessions, in one transaction: each of `sessions` as
    /// [`redact`](Self::redact) does, then `identity` as
    /// [`IdentityStore::update`](crate::identities::IdentityStore::update) writes it (fenced on
    /// its revision), with its events and audit drafts. All or nothing.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when any session or the identity moved on since it was read;
    /// nothing is written then.
    async fn redact_identity(
        &self,
        sessions: &[SessionChange],
        identity: &Identity,
        events: &[NewIdentityEvent],
        audit: &[AuditDraft],
    ) -> Result<Vec<BlobDeletion>, RepoError>;

    /// Queued deletions due at `now`, oldest first, at most `limit`.
    async fn due_blob_deletions(
        &self,
        now: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<BlobDeletion>, RepoError>;

    /// Storage confirmed the deletion (or the blob was already gone): the entry leaves the queue.
    async fn blob_deleted(&self, id: i64) -> Result<(), RepoError>;

    /// Storage refused the deletion: count the attempt, keep `error` and retry at `retry_at`.
    async fn blob_deletion_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), RepoError>;
}
