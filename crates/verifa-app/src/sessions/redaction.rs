//! Redaction by crypto-shredding (CONTRACT §11.2, §11.4): one session, a batch of them, and the
//! job that deletes condemned blobs until the document store confirms.
//!
//! The session's data key goes in the same transaction as its document rows, result data,
//! lookup hashes and run outputs, so nothing it sealed can be read again, blobs copied out of
//! the store included. The blobs are then deleted at once; one the store refuses stays queued
//! and [`SessionService::delete_condemned_blobs`] retries it with back-off.

use super::{SessionService, change_by, illegal};
use crate::actor::By;
use crate::api_keys::Caller;
use crate::error::AppError;
use crate::retry::{Attempt, retrying};
use chrono::{DateTime, Duration, Utc};
use verifa_domain::session::{self, Action, RedactReason};
use verifa_ports::RepoError;
use verifa_ports::sessions::BlobDeletion;

/// Most sessions one bulk redaction takes.
pub const MAX_BULK_REDACT: usize = 100;

/// How one session's redaction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedactionStatus {
    /// Its data was destroyed now.
    Deleted,
    /// It had been redacted before; nothing changed.
    AlreadyRedacted,
    /// No such session in the caller's environment (bulk only; one redaction is 404).
    NotFound,
    /// Its run or review is under way (bulk only; one redaction is 409).
    InvalidState,
}

impl RedactionStatus {
    /// The API's name.
    pub fn as_str(self) -> &'static str {
        match self {
            RedactionStatus::Deleted => "deleted",
            RedactionStatus::AlreadyRedacted => "already_redacted",
            RedactionStatus::NotFound => "not_found",
            RedactionStatus::InvalidState => "invalid_state",
        }
    }
}

/// The outcome of redacting one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redaction {
    /// The session.
    pub session_id: String,
    /// What happened.
    pub status: RedactionStatus,
    /// Documents destroyed now (0 unless `deleted`).
    pub documents_removed: u64,
}

impl SessionService {
    /// Redacts a session's personal data (`DELETE /sessions/{id}/data`): idempotent, a second
    /// call answers `already_redacted`.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for an unknown or another environment's session;
    /// [`AppError::InvalidState`] while its run or review is under way.
    pub async fn redact(&self, caller: &Caller, id: &str) -> Result<Redaction, AppError> {
        let now = self.clock.now();
        self.redact_by(
            By::Caller(caller),
            &caller.tenant(),
            id,
            RedactReason::Requested,
            now,
        )
        .await
    }

    /// Redacts up to [`MAX_BULK_REDACT`] sessions, reporting each (`POST /sessions/bulk-redact`):
    /// an unknown session or one still at work is reported, never fails the batch.
    ///
    /// # Errors
    /// [`AppError::Validation`] for an empty or oversized list, or one naming a session twice; a
    /// store failure fails the rest.
    pub async fn bulk_redact(
        &self,
        caller: &Caller,
        ids: &[String],
    ) -> Result<Vec<Redaction>, AppError> {
        if ids.is_empty() || ids.len() > MAX_BULK_REDACT {
            return Err(AppError::invalid(
                "session_ids",
                format!("must list 1 to {MAX_BULK_REDACT} session ids"),
            ));
        }
        let distinct: std::collections::BTreeSet<&String> = ids.iter().collect();
        if distinct.len() != ids.len() {
            return Err(AppError::invalid(
                "session_ids",
                "lists a session more than once",
            ));
        }
        let mut outcomes = Vec::with_capacity(ids.len());
        for id in ids {
            let outcome = match self.redact(caller, id).await {
                Ok(done) => done,
                Err(AppError::NotFound(_)) => refused(id, RedactionStatus::NotFound),
                Err(AppError::InvalidState(_)) => refused(id, RedactionStatus::InvalidState),
                Err(e) => return Err(e),
            };
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    /// Redacts one session for `by`, at `now` (the retention sweeper's time for its own).
    pub(crate) async fn redact_by(
        &self,
        by: By<'_>,
        tenant: &verifa_domain::tenancy::Tenant,
        id: &str,
        reason: RedactReason,
        now: DateTime<Utc>,
    ) -> Result<Redaction, AppError> {
        let queued = retrying!(
            "the session",
            async {
                let current = self.session(tenant, id).await?;
                if current.is_redacted() {
                    return Ok(Attempt::Done(None));
                }
                // Exact: an upload moves the session's revision, which fences the write below.
                let documents = self.documents.documents(tenant, id).await?.len();
                let action = Action::Redact {
                    reason,
                    documents_removed: u64::try_from(documents).unwrap_or(u64::MAX),
                };
                let t = session::transition(&current, action.clone(), now).map_err(illegal)?;
                let change = change_by(t, &action, by);
                match self.redaction.redact(&change).await {
                    Ok(queued) => Ok(Attempt::Done(Some(queued))),
                    Err(RepoError::Conflict(_)) => Ok(Attempt::Again),
                    Err(e) => Err(e.into()),
                }
            }
            .await
        )?;
        let Some(queued) = queued else {
            return Ok(Redaction {
                session_id: id.to_owned(),
                status: RedactionStatus::AlreadyRedacted,
                documents_removed: 0,
            });
        };
        self.delete_blobs(&queued, now).await;
        Ok(Redaction {
            session_id: id.to_owned(),
            status: RedactionStatus::Deleted,
            documents_removed: u64::try_from(queued.len()).unwrap_or(u64::MAX),
        })
    }

    /// Deletes the queued blobs that are due (a background job); returns how many the store
    /// confirmed. Each refused one is retried later, with back-off.
    ///
    /// # Errors
    /// When the queue cannot be read.
    pub async fn delete_condemned_blobs(&self, now: DateTime<Utc>) -> Result<usize, AppError> {
        let mut deleted = 0;
        for blob in self.redaction.due_blob_deletions(now, 200).await? {
            if self.delete_blob(&blob, now).await {
                deleted += 1;
            }
        }
        Ok(deleted)
    }

    /// One blob deletion; the queue learns the outcome. Never fails the caller: the redaction
    /// has committed, and a blob under a destroyed key is unreadable already.
    pub(crate) async fn delete_blob(&self, blob: &BlobDeletion, now: DateTime<Utc>) -> bool {
        let outcome = match self.storage.delete(&blob.storage_key).await {
            Ok(()) => self.redaction.blob_deleted(blob.id).await.map(|()| true),
            Err(e) => {
                let retry_at = now + retry_delay(blob.attempts);
                tracing::warn!(error = %e, blob = blob.id, "document store refused a redacted blob's deletion");
                self.redaction
                    .blob_deletion_failed(blob.id, &e.to_string(), retry_at)
                    .await
                    .map(|()| false)
            }
        };
        outcome.unwrap_or_else(|e| {
            tracing::warn!(error = %e, blob = blob.id, "could not record a blob deletion");
            false
        })
    }
}

fn refused(id: &str, status: RedactionStatus) -> Redaction {
    Redaction {
        session_id: id.to_owned(),
        status,
        documents_removed: 0,
    }
}

/// Back-off between deletion attempts: 1, 2, 4 … minutes, at most an hour.
fn retry_delay(attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts.clamp(0, 6)).unwrap_or(6);
    Duration::minutes(2_i64.pow(exponent).min(60))
}

#[cfg(test)]
mod tests {
    use super::retry_delay;
    use chrono::Duration;

    #[test]
    fn deletions_back_off_up_to_an_hour() {
        assert_eq!(retry_delay(0), Duration::minutes(1));
        assert_eq!(retry_delay(3), Duration::minutes(8));
        assert_eq!(retry_delay(40), Duration::minutes(60));
        assert_eq!(retry_delay(-1), Duration::minutes(1));
    }
}
