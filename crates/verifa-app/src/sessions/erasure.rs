//! Erasing a person (CONTRACT §11.4, `DELETE /identities/{id}`): the identity and every one of
//! its sessions are redacted in one transaction, so a session that cannot be redacted (its run
//! or review is under way) leaves everything as it was.

use super::{SessionService, change_by, illegal};
use crate::actor::By;
use crate::api_keys::Caller;
use crate::error::AppError;
use crate::identities::{event, resolve_identity, session_ids_of};
use crate::retry::{Attempt, retrying};
use verifa_domain::identity::{IdentityError, IdentityEvent, IdentityStatus};
use verifa_domain::session::{self, Action, RedactReason};
use verifa_ports::RepoError;
use verifa_ports::sessions::{BlobDeletion, SessionChange};

/// What erasing an identity did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityRedaction {
    /// The identity.
    pub identity_id: String,
    /// `false` when it had been redacted before (nothing changed now).
    pub deleted: bool,
    /// Sessions redacted now (those redacted before are not counted).
    pub sessions_redacted: u64,
    /// Documents destroyed now.
    pub documents_removed: u64,
    /// Screening checks whose subject was erased (none are stored yet: always 0).
    pub checks_redacted: u64,
}

impl SessionService {
    /// Redacts an identity (by id or external reference) and all its sessions, atomically.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for an unknown identity; [`AppError::InvalidState`] for a merged
    /// identity, or when one of its sessions is still at work or under review (naming it).
    pub async fn redact_identity(
        &self,
        caller: &Caller,
        key: &str,
    ) -> Result<IdentityRedaction, AppError> {
        let tenant = caller.tenant();
        let now = self.clock.now();
        let outcome = retrying!(
            "the identity",
            async {
                let mut identity = resolve_identity(self.identities.as_ref(), &tenant, key).await?;
                if identity.status == IdentityStatus::Redacted {
                    return Ok(Attempt::Done((identity.id, None)));
                }
                let mut changes: Vec<SessionChange> = Vec::new();
                for session_id in
                    session_ids_of(self.identities.as_ref(), &tenant, &identity.id, usize::MAX)
                        .await?
                {
                    let current = self.session(&tenant, &session_id).await?;
                    if current.is_redacted() {
                        continue;
                    }
                    let documents = self.documents.documents(&tenant, &session_id).await?.len();
                    let action = Action::Redact {
                        reason: RedactReason::Requested,
                        documents_removed: u64::try_from(documents).unwrap_or(u64::MAX),
                    };
                    let t = session::transition(&current, action.clone(), now).map_err(|e| {
                        AppError::InvalidState(format!(
                            "session {session_id} cannot be redacted: {}; nothing was redacted",
                            illegal(e)
                        ))
                    })?;
                    changes.push(change_by(t, &action, By::Caller(caller)));
                }
                identity.redact(now).map_err(|e| match e {
                    IdentityError::InvalidState(m) => AppError::InvalidState(m),
                    IdentityError::Invalid { field, message } => AppError::invalid(field, message),
                })?;
                let audit = caller
                    .audit("identity.redacted", "identity", &identity.id, now)
                    .with_changes([
                        "status",
                        "external_ref",
                        "custom_fields",
                        "tags",
                        "sessions",
                    ]);
                let events = [event(IdentityEvent::Updated)];
                match self
                    .redaction
                    .redact_identity(&changes, &identity, &events, &[audit])
                    .await
                {
                    Ok(queued) => {
                        let sessions = u64::try_from(changes.len()).unwrap_or(u64::MAX);
                        Ok(Attempt::Done((identity.id, Some((sessions, queued)))))
                    }
                    Err(RepoError::Conflict(_)) => Ok(Attempt::Again),
                    Err(e) => Err(e.into()),
                }
            }
            .await
        )?;
        let (identity_id, done) = outcome;
        let Some((sessions_redacted, queued)) = done else {
            return Ok(IdentityRedaction {
                identity_id,
                deleted: false,
                sessions_redacted: 0,
                documents_removed: 0,
                checks_redacted: 0,
            });
        };
        self.delete_blobs(&queued, now).await;
        Ok(IdentityRedaction {
            identity_id,
            deleted: true,
            sessions_redacted,
            documents_removed: u64::try_from(queued.len()).unwrap_or(u64::MAX),
            checks_redacted: 0,
        })
    }

    /// Deletes condemned blobs after their redaction committed (see `delete_blob`).
    pub(crate) async fn delete_blobs(
        &self,
        queued: &[BlobDeletion],
        now: chrono::DateTime<chrono::Utc>,
    ) {
        for blob in queued {
            self.delete_blob(blob, now).await;
        }
    }
}
