//! [`AuditLog`] in memory, and [`append`], which the other fakes call under the same lock as
//! the change they record (the in-memory form of "the same transaction").

use crate::state::{MemoryStore, World, page_of};
use async_trait::async_trait;
use verifa_domain::audit::chain::{self, ChainHead};
use verifa_domain::audit::{AuditDraft, AuditEvent};
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::tenancy::Tenant;
use verifa_ports::RepoError;
use verifa_ports::audit::{AuditFilter, AuditLog};

/// Checks that `drafts` can be appended (no event id is taken), without changing anything.
pub(crate) fn check(w: &World, drafts: &[AuditDraft]) -> Result<(), RepoError> {
    for (i, draft) in drafts.iter().enumerate() {
        let repeated = drafts.iter().take(i).any(|d| d.id == draft.id);
        if repeated || w.audit_events.iter().any(|e| e.id == draft.id) {
            return Err(RepoError::Conflict(format!(
                "audit event {} exists",
                draft.id
            )));
        }
    }
    Ok(())
}

/// Seals and appends `drafts`. Call [`check`] first, before changing anything else.
pub(crate) fn append(w: &mut World, drafts: &[AuditDraft]) {
    for draft in drafts {
        let head = w
            .audit_heads
            .get(&draft.tenant)
            .cloned()
            .unwrap_or_else(ChainHead::empty);
        let event = chain::seal(draft, &head);
        w.audit_heads.insert(
            draft.tenant.clone(),
            ChainHead {
                sequence: event.sequence,
                hash: event.hash.clone(),
            },
        );
        w.audit_events.push(event);
    }
}

#[async_trait]
impl AuditLog for MemoryStore {
    async fn append(&self, drafts: &[AuditDraft]) -> Result<(), RepoError> {
        let mut w = self.world()?;
        check(&w, drafts)?;
        append(&mut w, drafts);
        Ok(())
    }

    async fn seal_pending(&self) -> Result<u64, RepoError> {
        // Sealed as appended, under the same lock as the change.
        Ok(0)
    }

    async fn list(
        &self,
        tenant: &Tenant,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditEvent>, RepoError> {
        let w = self.world()?;
        let mut found: Vec<AuditEvent> = w
            .audit_events
            .iter()
            .filter(|e| e.tenant() == *tenant && filter.matches(e))
            .cloned()
            .collect();
        found.sort_by_key(|e| std::cmp::Reverse(e.sequence));
        Ok(page_of(found, page))
    }

    async fn get(&self, tenant: &Tenant, id: &str) -> Result<AuditEvent, RepoError> {
        self.world()?
            .audit_events
            .iter()
            .find(|e| e.id == id && e.tenant() == *tenant)
            .cloned()
            .ok_or(RepoError::NotFound)
    }

    async fn chain_slice(
        &self,
        tenant: &Tenant,
        after: i64,
        to: Option<i64>,
        limit: u64,
    ) -> Result<Vec<AuditEvent>, RepoError> {
        let w = self.world()?;
        let mut found: Vec<AuditEvent> = w
            .audit_events
            .iter()
            .filter(|e| {
                e.tenant() == *tenant && e.sequence > after && to.is_none_or(|to| e.sequence <= to)
            })
            .cloned()
            .collect();
        found.sort_by(|a, b| (a.sequence, &a.id).cmp(&(b.sequence, &b.id)));
        found.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(found)
    }

    async fn chain_head(&self, tenant: &Tenant) -> Result<ChainHead, RepoError> {
        Ok(self
            .world()?
            .audit_heads
            .get(tenant)
            .cloned()
            .unwrap_or_else(ChainHead::empty))
    }

    async fn chains(&self) -> Result<Vec<Tenant>, RepoError> {
        Ok(self.world()?.audit_heads.keys().cloned().collect())
    }
}

impl MemoryStore {
    /// Test hook: rewrites the stored event with this sequence in the tenant's chain, as a
    /// tamperer with database access would. Returns whether one was found.
    pub fn tamper_audit_event(
        &self,
        tenant: &Tenant,
        sequence: i64,
        change: impl FnOnce(&mut AuditEvent),
    ) -> bool {
        let Ok(mut w) = self.world() else {
            return false;
        };
        match w
            .audit_events
            .iter_mut()
            .find(|e| e.tenant() == *tenant && e.sequence == sequence)
        {
            Some(event) => {
                change(event);
                true
            }
            None => false,
        }
    }

    /// Test hook: deletes the stored event with this sequence from the tenant's chain.
    pub fn delete_audit_event(&self, tenant: &Tenant, sequence: i64) -> bool {
        let Ok(mut w) = self.world() else {
            return false;
        };
        let before = w.audit_events.len();
        w.audit_events
            .retain(|e| !(e.tenant() == *tenant && e.sequence == sequence));
        w.audit_events.len() != before
    }
}
