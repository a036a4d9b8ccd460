//! Merging identities (CONTRACT §7.2, §7.4): preview (writes nothing), merge one, merge many.
//! All identities are read and the whole merge is validated first, then written in one
//! transaction fenced on every identity's revision (retried on a lost race).

use super::{IdentityService, event};
use crate::actor::Caller;
use crate::error::AppError;
use crate::retry::{retrying, written};
use verifa_domain::identity::merge::{self, MAX_SECONDARIES, MergeOutcome};
use verifa_domain::identity::{Identity, IdentityError, IdentityEvent};

/// A merge, as received.
#[derive(Debug, Clone, Default)]
pub struct MergeRequest {
    /// The identity that stays.
    pub primary_identity_id: String,
    /// The identities merged into it (1–50).
    pub secondary_identity_ids: Vec<String>,
    /// Move checks, findings and list matches too (the default).
    pub transfer_checks: bool,
    /// Redact the secondaries instead of marking them merged.
    pub redact_secondary: bool,
}

/// What a merge would do.
#[derive(Debug, Clone)]
pub struct MergePreview {
    /// The primary as it is.
    pub primary: Identity,
    /// The secondaries as they are.
    pub secondaries: Vec<Identity>,
    /// The merge's outcome.
    pub outcome: MergeOutcome,
    /// Sessions that would move to the primary.
    pub sessions_moved: i64,
}

fn refused(e: IdentityError) -> AppError {
    match e {
        IdentityError::InvalidState(m) => {
            AppError::Validation(vec![crate::FieldError::new("primary_identity_id", m)])
        }
        IdentityError::Invalid { field, message } => AppError::invalid(field, message),
    }
}

impl IdentityService {
    /// Reads and validates a merge without writing it.
    pub async fn preview_merge(
        &self,
        caller: &Caller,
        request: &MergeRequest,
    ) -> Result<MergePreview, AppError> {
        let n = request.secondary_identity_ids.len();
        if n == 0 || n > MAX_SECONDARIES {
            return Err(AppError::invalid(
                "secondary_identity_ids",
                format!("must name 1 to {MAX_SECONDARIES} identities"),
            ));
        }
        let primary = self.by_id(caller, &request.primary_identity_id).await?;
        let mut secondaries = Vec::with_capacity(n);
        for id in &request.secondary_identity_ids {
            secondaries.push(self.by_id(caller, id).await?);
        }
        let now = self.clock.now();
        let mut outcome = merge::plan(&primary, &secondaries, now).map_err(refused)?;
        if request.redact_secondary {
            for s in &mut outcome.secondaries {
                s.erase_after_merge(now);
            }
        }
        let sessions_moved = secondaries.iter().map(|s| s.session_count).sum();
        Ok(MergePreview {
            primary,
            secondaries,
            outcome,
            sessions_moved,
        })
    }

    /// Merges the secondaries into the primary; returns the identities as written.
    pub async fn merge(
        &self,
        caller: &Caller,
        request: &MergeRequest,
    ) -> Result<MergeOutcome, AppError> {
        retrying!(
            "the identities",
            async {
                let preview = self.preview_merge(caller, request).await?;
                let mut outcome = preview.outcome;
                let now = outcome.primary.updated_at;
                let mut events = vec![(outcome.primary.id.clone(), event(IdentityEvent::Updated))];
                let mut audit = vec![
                    caller
                        .audit("identity.merged", "identity", &outcome.primary.id, now)
                        .with_changes(["session_count", "tags", "monitoring_enabled", "status"])
                        .with_metadata(
                            "merged_ids",
                            outcome
                                .secondaries
                                .iter()
                                .map(|s| s.id.clone())
                                .collect::<Vec<_>>(),
                        ),
                ];
                for s in &outcome.secondaries {
                    events.push((s.id.clone(), event(IdentityEvent::Updated)));
                    let changes: &[&str] = if request.redact_secondary {
                        &[
                            "status",
                            "merged_into_id",
                            "external_ref",
                            "custom_fields",
                            "tags",
                        ]
                    } else {
                        &["status", "merged_into_id"]
                    };
                    audit.push(
                        caller
                            .audit("identity.merged_into", "identity", &s.id, now)
                            .with_changes(changes.iter().copied())
                            .with_metadata("merged_into_id", outcome.primary.id.clone()),
                    );
                }
                let written_outcome = self.store.merge(&outcome, &events, &audit).await;
                for i in std::iter::once(&mut outcome.primary).chain(outcome.secondaries.iter_mut())
                {
                    i.revision = i.revision.saturating_add(1);
                }
                written(written_outcome, outcome)
            }
            .await
        )
    }

    /// An identity by its `idn_…` id or `external_ref`, as stored (a merged one is not
    /// followed: merging it again must be refused, not redirected).
    async fn by_id(&self, caller: &Caller, key: &str) -> Result<Identity, AppError> {
        let tenant = caller.tenant();
        match self.store.get(&tenant, key).await {
            Ok(i) => Ok(i),
            Err(verifa_ports::RepoError::NotFound) => self
                .store
                .find_by_ref(&tenant, key)
                .await?
                .ok_or(AppError::NotFound("identity")),
            Err(e) => Err(e.into()),
        }
    }
}
