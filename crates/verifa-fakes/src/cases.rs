//! [`CaseStore`] in memory, with the database's rules: fenced writes, and a decision's session
//! change committed with the case (a case opens inside a session change: see `change`).

use crate::state::{MemoryStore, page_of};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use verifa_domain::audit::AuditDraft;
use verifa_domain::case::{Case, CaseStatus};
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::tenancy::Tenant;
use verifa_ports::RepoError;
use verifa_ports::cases::{
    CaseFilter, CaseSort, CaseStore, ClaimNext, NewCaseEvent, NoteRecord, TabCounts,
};
use verifa_ports::sessions::SessionChange;

/// The review queue's order: priority (urgent first), then longest in review, then id.
fn queue_order(a: &Case, b: &Case) -> std::cmp::Ordering {
    (a.priority.rank(), a.entered_review_at, &a.id).cmp(&(
        b.priority.rank(),
        b.entered_review_at,
        &b.id,
    ))
}

#[async_trait]
impl CaseStore for MemoryStore {
    async fn get(&self, tenant: &Tenant, id: &str) -> Result<Case, RepoError> {
        self.world()?
            .cases
            .get(id)
            .filter(|c| &c.tenant == tenant)
            .cloned()
            .ok_or(RepoError::NotFound)
    }

    async fn active_for_session(
        &self,
        tenant: &Tenant,
        session_id: &str,
    ) -> Result<Option<Case>, RepoError> {
        Ok(self
            .world()?
            .cases
            .values()
            .find(|c| &c.tenant == tenant && c.session_id == session_id && c.status.is_active())
            .cloned())
    }

    async fn list(
        &self,
        tenant: &Tenant,
        filter: &CaseFilter,
        now: DateTime<Utc>,
        page: PageRequest,
    ) -> Result<Page<Case>, RepoError> {
        let w = self.world()?;
        let mut items: Vec<Case> = w
            .cases
            .values()
            .filter(|c| &c.tenant == tenant && filter.matches(c, now))
            .cloned()
            .collect();
        match filter.sort {
            CaseSort::Newest => {
                items.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
            }
            CaseSort::Queue => items.sort_by(queue_order),
        }
        Ok(page_of(items, page))
    }

    async fn queue_head(&self, tenant: &Tenant, limit: u64) -> Result<Vec<Case>, RepoError> {
        let w = self.world()?;
        let mut head: Vec<Case> = w
            .cases
            .values()
            .filter(|c| {
                &c.tenant == tenant && c.status == CaseStatus::Open && c.assigned_to.is_none()
            })
            .cloned()
            .collect();
        head.sort_by(queue_order);
        head.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(head)
    }

    async fn claim_next(
        &self,
        tenant: &Tenant,
        claim: &ClaimNext<'_>,
    ) -> Result<Option<Case>, RepoError> {
        // The world's lock is the one transaction every claim queues behind.
        let mut w = self.world()?;
        let first = w
            .cases
            .values()
            .filter(|c| {
                &c.tenant == tenant && c.status == CaseStatus::Open && c.assigned_to.is_none()
            })
            .min_by(|a, b| queue_order(a, b))
            .cloned();
        let Some(claimed) = first.and_then(claim) else {
            return Ok(None);
        };
        crate::audit::check(&w, &claimed.audit)?;
        crate::change::check_case_revision(&w, &claimed.case)?;
        let mut stored = claimed.case.clone();
        stored.revision = stored.revision.saturating_add(1);
        w.cases.insert(stored.id.clone(), stored.clone());
        crate::change::append_case_events(&mut w, &claimed.case, &claimed.events);
        crate::audit::append(&mut w, &claimed.audit);
        Ok(Some(stored))
    }

    async fn update(
        &self,
        case: &Case,
        session: Option<&SessionChange>,
        events: &[NewCaseEvent],
        audit: &[AuditDraft],
    ) -> Result<(), RepoError> {
        let mut w = self.world()?;
        crate::audit::check(&w, audit)?;
        crate::change::check_case_revision(&w, case)?;
        if let Some(change) = session {
            crate::change::check_change(&w, change)?;
        }
        let mut after = case.clone();
        if let Some(change) = session {
            crate::change::apply_change(&mut w, change);
            if change.identity.is_some() {
                after.identity_id = w
                    .sessions
                    .get(&change.session.id)
                    .and_then(|s| s.identity_id.clone())
                    .or(after.identity_id);
            }
        }
        let mut stored = after.clone();
        stored.revision = after.revision.saturating_add(1);
        w.cases.insert(after.id.clone(), stored);
        crate::change::link_session(&mut w, &after);
        crate::change::append_case_events(&mut w, &after, events);
        crate::audit::append(&mut w, audit);
        Ok(())
    }

    async fn tab_counts(
        &self,
        tenant: &Tenant,
        reviewer: Option<&str>,
    ) -> Result<TabCounts, RepoError> {
        let w = self.world()?;
        let active: Vec<&Case> = w
            .cases
            .values()
            .filter(|c| &c.tenant == tenant && c.status.is_active())
            .collect();
        let count = |f: &dyn Fn(&Case) -> bool| active.iter().filter(|c| f(c)).count() as u64;
        Ok(TabCounts {
            unassigned: count(&|c| c.status == CaseStatus::Open && c.assigned_to.is_none()),
            mine: reviewer.map_or(0, |r| count(&|c| c.assigned_to.as_deref() == Some(r))),
            pending_second_review: count(&|c| c.status == CaseStatus::PendingSecondReview),
            escalated: count(&|c| c.status == CaseStatus::Escalated),
            all: active.len() as u64,
        })
    }

    async fn idle_claims(
        &self,
        idle_since: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<Case>, RepoError> {
        let w = self.world()?;
        let mut items: Vec<Case> = w
            .cases
            .values()
            .filter(|c| {
                c.status == CaseStatus::InReview
                    && c.assigned_to.is_some()
                    && c.last_activity_at <= idle_since
            })
            .cloned()
            .collect();
        items.sort_by(|a, b| {
            a.last_activity_at
                .cmp(&b.last_activity_at)
                .then(a.id.cmp(&b.id))
        });
        items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(items)
    }

    async fn newly_breached(&self, now: DateTime<Utc>, limit: u64) -> Result<Vec<Case>, RepoError> {
        let w = self.world()?;
        let mut items: Vec<Case> = w
            .cases
            .values()
            .filter(|c| c.status.is_active() && c.sla_breached_at.is_none() && c.sla_due_at <= now)
            .cloned()
            .collect();
        items.sort_by(|a, b| a.sla_due_at.cmp(&b.sla_due_at).then(a.id.cmp(&b.id)));
        items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(items)
    }

    async fn add_note(&self, note: &NoteRecord, audit: &[AuditDraft]) -> Result<(), RepoError> {
        let mut w = self.world()?;
        crate::audit::check(&w, audit)?;
        if w.case_notes.iter().any(|n| n.id == note.id) {
            return Err(RepoError::Conflict("note id taken".into()));
        }
        w.case_notes.push(note.clone());
        crate::audit::append(&mut w, audit);
        Ok(())
    }

    async fn notes(&self, tenant: &Tenant, case_id: &str) -> Result<Vec<NoteRecord>, RepoError> {
        let w = self.world()?;
        let mut items: Vec<NoteRecord> = w
            .case_notes
            .iter()
            .filter(|n| &n.tenant == tenant && n.case_id == case_id)
            .cloned()
            .collect();
        items.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(items)
    }
}
