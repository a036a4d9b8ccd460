//! Reading and verifying the audit trail (CONTRACT §6.2): `GET /events`, `/events/{id}`,
//! `/events/verify` and `verifa audit verify`. Use cases describe their changes through
//! [`crate::actor`].
//!
//! Drafts travel with the change into the store, which records them in the same transaction
//! and seals them into the chain then or soon after; see `verifa_ports::audit`.

use crate::actor::Caller;
use crate::error::AppError;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use verifa_domain::audit::AuditEvent;
use verifa_domain::audit::chain::{ChainHead, ChainReport, ChainVerifier};
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::tenancy::{Environment, Tenant};
use verifa_ports::audit::{AuditFilter, AuditLog};

/// Events read per round trip while verifying.
const VERIFY_BATCH: u64 = 1_000;

/// Filters of `GET /events`, as received.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    /// Matches `type` exactly.
    pub action: Option<String>,
    /// Resource type.
    pub resource_type: Option<String>,
    /// Resource id.
    pub resource_id: Option<String>,
    /// Actor wire form.
    pub actor: Option<String>,
    /// Created at or after.
    pub created_after: Option<DateTime<Utc>>,
    /// Created before.
    pub created_before: Option<DateTime<Utc>>,
    /// Free text.
    pub q: Option<String>,
}

/// A chain and its verdict (for `verifa audit verify`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainVerdict {
    /// The chain.
    pub tenant: Tenant,
    /// What verification found.
    pub report: ChainReport,
}

/// Reading and verifying the trail.
pub struct AuditService {
    log: Arc<dyn AuditLog>,
}

impl AuditService {
    /// Builds the service.
    pub fn new(ports: &crate::Ports) -> Self {
        Self {
            log: ports.audit.clone(),
        }
    }

    /// Seals the events changes have queued on every chain (the server's background sealer),
    /// returning how many.
    pub async fn seal_pending(&self) -> Result<u64, AppError> {
        Ok(self.log.seal_pending().await?)
    }

    /// The caller's tenant's events, newest first.
    pub async fn list(
        &self,
        caller: &Caller,
        query: EventQuery,
        page: PageRequest,
    ) -> Result<Page<AuditEvent>, AppError> {
        // An empty or inverted time range is not an error: it matches nothing.
        let blank = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
        let filter = AuditFilter {
            action: blank(query.action),
            resource_type: blank(query.resource_type),
            resource_id: blank(query.resource_id),
            resource_ids: Vec::new(),
            actor: blank(query.actor),
            created_after: query.created_after,
            created_before: query.created_before,
            q: blank(query.q),
        };
        Ok(self.log.list(&caller.tenant(), &filter, page).await?)
    }

    /// One event of the caller's tenant.
    pub async fn get(&self, caller: &Caller, id: &str) -> Result<AuditEvent, AppError> {
        self.log
            .get(&caller.tenant(), id)
            .await
            .map_err(AppError::from_repo("audit event"))
    }

    /// Verifies the caller's chain between two sequence numbers (inclusive; from the first
    /// event and to the head when absent).
    pub async fn verify(
        &self,
        caller: &Caller,
        from_sequence: Option<i64>,
        to_sequence: Option<i64>,
    ) -> Result<ChainReport, AppError> {
        let from = from_sequence.unwrap_or(1);
        if from < 1 {
            return Err(AppError::invalid("from_sequence", "must be at least 1"));
        }
        if let Some(to) = to_sequence
            && to < from
        {
            // An empty range: nothing to check, nothing broken.
            let head = self.log.chain_head(&caller.tenant()).await?;
            return Ok(ChainReport {
                valid: true,
                checked: 0,
                first_invalid_sequence: None,
                head_sequence: head.sequence,
                head_hash: head.hash,
            });
        }
        self.verify_chain(&caller.tenant(), from, to_sequence).await
    }

    /// Verifies every chain, or those of one organization and/or environment.
    pub async fn verify_all(
        &self,
        org_id: Option<&str>,
        environment: Option<Environment>,
    ) -> Result<Vec<ChainVerdict>, AppError> {
        let mut verdicts = Vec::new();
        for tenant in self.log.chains().await? {
            if org_id.is_some_and(|o| o != tenant.org_id)
                || environment.is_some_and(|e| e != tenant.environment)
            {
                continue;
            }
            let report = self.verify_chain(&tenant, 1, None).await?;
            verdicts.push(ChainVerdict { tenant, report });
        }
        Ok(verdicts)
    }

    async fn verify_chain(
        &self,
        tenant: &Tenant,
        from: i64,
        to: Option<i64>,
    ) -> Result<ChainReport, AppError> {
        let head = self.log.chain_head(tenant).await?;
        // The event before the range anchors it; a missing predecessor is itself a break.
        let start = if from == 1 {
            ChainHead::empty()
        } else {
            match self
                .log
                .chain_slice(tenant, from - 2, Some(from - 1), 1)
                .await?
                .pop()
            {
                Some(previous) if previous.sequence == from - 1 => ChainHead {
                    sequence: previous.sequence,
                    hash: previous.hash,
                },
                _ => {
                    return Ok(ChainReport {
                        valid: false,
                        checked: 0,
                        first_invalid_sequence: Some(from - 1),
                        head_sequence: head.sequence,
                        head_hash: head.hash,
                    });
                }
            }
        };
        let mut verifier = ChainVerifier::after(&start);
        let mut after = from - 1;
        loop {
            let batch = self
                .log
                .chain_slice(tenant, after, to, VERIFY_BATCH)
                .await?;
            let Some(last) = batch.last() else { break };
            after = last.sequence;
            for event in &batch {
                verifier.feed(event);
            }
            if verifier.is_broken() || (batch.len() as u64) < VERIFY_BATCH {
                break;
            }
        }
        let to_end = to.is_none_or(|to| to >= head.sequence);
        Ok(verifier.finish(&head, to_end))
    }
}
