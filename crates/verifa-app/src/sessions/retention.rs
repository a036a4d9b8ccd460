//! The retention sweeper (CONTRACT §11.3), driven by each organization's settings: finished
//! sessions (`completed`, `expired`, `failed`, counted from when they got there) first leave
//! the sensitive-data window (`sensitive_redacted`: the API hides extracted data and documents,
//! the data stays stored), then reach the end of their retention period: with
//! `auto_redact_on_retention_expiry` they are redacted (announcing `session.retention-expired`,
//! not `session.redacted`), without it `session.retention-expired` is announced once and the
//! data stays until redacted by hand.
//!
//! Durable and idempotent: what a sweep did is the sessions' own state, so an interrupted sweep
//! is finished by the next, and a session is never announced twice. Safe with several
//! replicas: every step is a change fenced on the session's revision, and a step that lost its
//! race is skipped (the winner did it). Sessions under review or still at work are never swept.

use super::{SessionService, change_by};
use crate::actor::By;
use crate::error::AppError;
use chrono::{DateTime, Duration, Utc};
use verifa_domain::session::{self, Action, RedactReason, Session};
use verifa_domain::settings::OrgSettings;
use verifa_domain::tenancy::Tenant;
use verifa_ports::RepoError;
use verifa_ports::sessions::RetentionPass;

/// Sessions one batch reads.
pub const RETENTION_BATCH: u64 = 500;

/// Batches per tenant and pass in one sweep, so that one organization's backlog cannot hold
/// up the others; the next sweep goes on where this one stopped.
const MAX_BATCHES: usize = 20;

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RetentionSweep {
    /// Sessions that left the sensitive-data window.
    pub sensitive_expired: usize,
    /// Sessions whose retention ended and whose data stays (no automatic redaction).
    pub retention_expired: usize,
    /// Sessions redacted because their retention ended.
    pub redacted: usize,
}

/// What the full pass does to a session.
#[derive(Debug, Clone, Copy)]
enum FullPass {
    Redact,
    Announce,
}

impl SessionService {
    /// Sweeps every organization with a retention period set, as of `now`.
    ///
    /// # Errors
    /// When the store fails; what was done before stays done.
    pub async fn sweep_retention(&self, now: DateTime<Utc>) -> Result<RetentionSweep, AppError> {
        let mut sweep = RetentionSweep::default();
        for (tenant, settings) in self.org_settings.with_retention().await? {
            self.sweep_tenant(&tenant, &settings, now, &mut sweep)
                .await?;
        }
        Ok(sweep)
    }

    async fn sweep_tenant(
        &self,
        tenant: &Tenant,
        settings: &OrgSettings,
        now: DateTime<Utc>,
        sweep: &mut RetentionSweep,
    ) -> Result<(), AppError> {
        if let Some(days) = settings.sensitive_data_retention_days {
            let cutoff = now - Duration::days(i64::from(days));
            sweep.sensitive_expired += self
                .sweep_pass(tenant, RetentionPass::Sensitive, cutoff, now, None)
                .await?;
        }
        if let Some(days) = settings.data_retention_days {
            let cutoff = now - Duration::days(i64::from(days));
            let what = if settings.auto_redact_on_retention_expiry {
                FullPass::Redact
            } else {
                FullPass::Announce
            };
            let done = self
                .sweep_pass(tenant, RetentionPass::Full, cutoff, now, Some(what))
                .await?;
            match what {
                FullPass::Redact => sweep.redacted += done,
                FullPass::Announce => sweep.retention_expired += done,
            }
        }
        Ok(())
    }

    /// One pass over a tenant, batch by batch; returns the sessions it changed.
    async fn sweep_pass(
        &self,
        tenant: &Tenant,
        pass: RetentionPass,
        cutoff: DateTime<Utc>,
        now: DateTime<Utc>,
        full: Option<FullPass>,
    ) -> Result<usize, AppError> {
        let mut changed = 0;
        for _ in 0..MAX_BATCHES {
            let batch = self
                .sessions
                .retention_due(tenant, pass, cutoff, RETENTION_BATCH)
                .await?;
            let mut progressed = 0;
            for current in &batch {
                let done = match full {
                    Some(FullPass::Redact) => self.redact_expired(tenant, current, now).await?,
                    Some(FullPass::Announce) => {
                        self.step(current, Action::ExpireRetention, now).await?
                    }
                    None => self.step(current, Action::ExpireSensitiveData, now).await?,
                };
                progressed += usize::from(done);
            }
            changed += progressed;
            // A short batch was the last; a batch that changed nothing would come back the same.
            if batch.len() < RETENTION_BATCH as usize || progressed == 0 {
                break;
            }
        }
        Ok(changed)
    }

    /// Applies one retention action by the system; `false` when the session moved on since it
    /// was read (another replica, a caller) and the step no longer applies.
    async fn step(
        &self,
        current: &Session,
        action: Action,
        now: DateTime<Utc>,
    ) -> Result<bool, AppError> {
        let Ok(t) = session::transition(current, action.clone(), now) else {
            return Ok(false);
        };
        match self
            .sessions
            .apply(&change_by(t, &action, By::System))
            .await
        {
            Ok(()) => Ok(true),
            Err(RepoError::Conflict(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn redact_expired(
        &self,
        tenant: &Tenant,
        current: &Session,
        now: DateTime<Utc>,
    ) -> Result<bool, AppError> {
        match self
            .redact_by(
                By::System,
                tenant,
                &current.id,
                RedactReason::RetentionExpired,
                now,
            )
            .await
        {
            Ok(r) => Ok(r.status == super::RedactionStatus::Deleted),
            // Redacted, reopened or deleted meanwhile: nothing left for the sweep to do.
            Err(AppError::NotFound(_) | AppError::InvalidState(_)) => Ok(false),
            Err(AppError::Internal(e)) => {
                // One unreadable session must not stop the sweep of the others.
                tracing::warn!(session_id = %current.id, error = %e, "retention could not redact a session");
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }
}
