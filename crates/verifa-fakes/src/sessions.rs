//! The session ports in memory: [`SessionStore`], [`SessionDocuments`], [`SessionEventLog`].
//! Changes commit through [`crate::change`].

use crate::change::{append_events, apply_change, check_change};
use crate::state::{MemoryStore, page_of};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use verifa_domain::audit::AuditDraft;
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::session::{RetentionStatus, Session, SessionStatus};
use verifa_domain::tenancy::Tenant;
use verifa_ports::RepoError;
use verifa_ports::sessions::{
    DocumentRecord, EventRecord, NewEvent, ResultRecord, RetentionPass, SessionChange,
    SessionDocuments, SessionEventLog, SessionFilter, SessionStore,
};

#[async_trait]
impl SessionStore for MemoryStore {
    async fn insert(
        &self,
        session: &Session,
        events: &[NewEvent],
        audit: &[AuditDraft],
    ) -> Result<(), RepoError> {
        let mut w = self.world()?;
        crate::audit::check(&w, audit)?;
        if w.sessions.contains_key(&session.id) {
            return Err(RepoError::Conflict(format!(
                "session {} exists",
                session.id
            )));
        }
        w.sessions.insert(session.id.clone(), session.clone());
        append_events(&mut w, session, events);
        crate::audit::append(&mut w, audit);
        Ok(())
    }

    async fn get(&self, tenant: &Tenant, id: &str) -> Result<Session, RepoError> {
        self.world()?
            .sessions
            .get(id)
            .filter(|s| &s.tenant == tenant)
            .cloned()
            .ok_or(RepoError::NotFound)
    }

    async fn list(
        &self,
        tenant: &Tenant,
        filter: &SessionFilter,
        page: PageRequest,
    ) -> Result<Page<Session>, RepoError> {
        let w = self.world()?;
        let mut items: Vec<Session> = w
            .sessions
            .values()
            .filter(|s| &s.tenant == tenant)
            .filter(|s| filter.status.is_none_or(|st| s.status == st))
            .filter(|s| {
                filter
                    .external_ref
                    .as_ref()
                    .is_none_or(|r| s.external_ref.as_ref() == Some(r))
            })
            .filter(|s| {
                filter
                    .q
                    .as_ref()
                    .is_none_or(|q| &s.id == q || s.external_ref.as_ref() == Some(q))
            })
            .cloned()
            .collect();
        items.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        Ok(page_of(items, page))
    }

    async fn apply(&self, change: &SessionChange) -> Result<(), RepoError> {
        let mut w = self.world()?;
        check_change(&w, change)?;
        apply_change(&mut w, change);
        Ok(())
    }

    async fn result(
        &self,
        tenant: &Tenant,
        session_id: &str,
    ) -> Result<Option<ResultRecord>, RepoError> {
        Ok(self
            .world()?
            .results
            .get(session_id)
            .filter(|r| &r.tenant == tenant)
            .cloned())
    }

    async fn stale_capture_sessions(
        &self,
        now: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<Session>, RepoError> {
        let w = self.world()?;
        let mut stale: Vec<Session> = w
            .sessions
            .values()
            .filter(|s| matches!(s.status, SessionStatus::Pending | SessionStatus::Capturing))
            .filter(|s| s.token_expires_at.is_some_and(|t| t < now))
            .cloned()
            .collect();
        stale.sort_by_key(|s| s.token_expires_at);
        stale.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(stale)
    }

    async fn retention_due(
        &self,
        tenant: &Tenant,
        pass: RetentionPass,
        finished_before: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<Session>, RepoError> {
        let w = self.world()?;
        let finished_at = |s: &Session| match s.status {
            SessionStatus::Completed => s.completed_at,
            SessionStatus::Expired => s.expired_at,
            SessionStatus::Failed => s.completed_at.or(Some(s.updated_at)),
            _ => None,
        };
        let mut due: Vec<Session> = w
            .sessions
            .values()
            .filter(|s| &s.tenant == tenant)
            .filter(|s| match pass {
                RetentionPass::Sensitive => s.retention_status == RetentionStatus::Active,
                RetentionPass::Full => {
                    s.retention_status != RetentionStatus::Redacted
                        && s.retention_expired_at.is_none()
                }
            })
            .filter(|s| finished_at(s).is_some_and(|t| t < finished_before))
            .cloned()
            .collect();
        due.sort_by(|a, b| (a.updated_at, &a.id).cmp(&(b.updated_at, &b.id)));
        due.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(due)
    }
}

#[async_trait]
impl SessionDocuments for MemoryStore {
    async fn put_document(
        &self,
        document: &DocumentRecord,
        change: &SessionChange,
    ) -> Result<Option<DocumentRecord>, RepoError> {
        let mut w = self.world()?;
        check_change(&w, change)?;
        apply_change(&mut w, change);
        let previous = w
            .documents
            .iter()
            .position(|d| {
                d.session_id == document.session_id && d.document_type == document.document_type
            })
            .map(|i| w.documents.remove(i));
        w.documents.push(document.clone());
        Ok(previous)
    }

    async fn documents(
        &self,
        tenant: &Tenant,
        session_id: &str,
    ) -> Result<Vec<DocumentRecord>, RepoError> {
        let w = self.world()?;
        let mut docs: Vec<DocumentRecord> = w
            .documents
            .iter()
            .filter(|d| &d.tenant == tenant && d.session_id == session_id)
            .cloned()
            .collect();
        docs.sort_by_key(|d| d.created_at);
        Ok(docs)
    }

    async fn document_by_link(
        &self,
        session_id: &str,
        document_type: verifa_domain::documents::DocumentType,
    ) -> Result<Option<DocumentRecord>, RepoError> {
        Ok(self
            .world()?
            .documents
            .iter()
            .find(|d| d.session_id == session_id && d.document_type == document_type)
            .cloned())
    }
}

#[async_trait]
impl SessionEventLog for MemoryStore {
    async fn events(
        &self,
        tenant: &Tenant,
        session_id: &str,
        page: PageRequest,
    ) -> Result<Page<EventRecord>, RepoError> {
        let w = self.world()?;
        let items: Vec<EventRecord> = w
            .events
            .iter()
            .filter(|e| &e.tenant == tenant && e.session_id == session_id)
            .map(|e| EventRecord {
                seq: e.seq,
                id: e.id.clone(),
                session_id: e.session_id.clone(),
                event_type: e.event_type.clone(),
                data: e.data.clone(),
                created_at: e.created_at,
            })
            .collect();
        Ok(page_of(items, page))
    }
}
