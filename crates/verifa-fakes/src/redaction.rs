//! [`SessionRedaction`] and [`DataKeyStore`] in memory: the redacted session, its documents, result data, lookup
//! hashes and run outputs change under one lock, as the database's transaction changes them.
//! (Duplicate fingerprints live in [`InMemoryDuplicateIndex`](crate::InMemoryDuplicateIndex),
//! a check executor's store, which the database keeps in a table of its own.)

use crate::change::{apply_change, check_change};
use crate::state::{MemoryStore, World};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use verifa_domain::audit::AuditDraft;
use verifa_domain::identity::Identity;
use verifa_ports::RepoError;
use verifa_ports::identities::NewIdentityEvent;
use verifa_ports::sessions::{
    BlobDeletion, DataKeyStore, SessionChange, SessionRedaction, WrappedKey,
};

#[async_trait]
impl SessionRedaction for MemoryStore {
    async fn redact(&self, change: &SessionChange) -> Result<Vec<BlobDeletion>, RepoError> {
        let mut w = self.world()?;
        check_change(&w, change)?;
        Ok(redact_in(&mut w, change))
    }

    async fn redact_identity(
        &self,
        sessions: &[SessionChange],
        identity: &Identity,
        events: &[NewIdentityEvent],
        audit: &[AuditDraft],
    ) -> Result<Vec<BlobDeletion>, RepoError> {
        let mut w = self.world()?;
        // Every fence first: all or nothing.
        for change in sessions {
            check_change(&w, change)?;
        }
        crate::audit::check(&w, audit)?;
        crate::identities::check_fence(&w, identity)?;
        let mut queued = Vec::new();
        for change in sessions {
            queued.extend(redact_in(&mut w, change));
        }
        crate::identities::store(&mut w, identity);
        crate::identities::append_events(&mut w, identity, events);
        crate::audit::append(&mut w, audit);
        Ok(queued)
    }

    async fn due_blob_deletions(
        &self,
        now: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<BlobDeletion>, RepoError> {
        let w = self.world()?;
        Ok(w.blob_deletions
            .iter()
            .filter(|(_, due)| *due <= now)
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(|(d, _)| d.clone())
            .collect())
    }

    async fn blob_deleted(&self, id: i64) -> Result<(), RepoError> {
        self.world()?.blob_deletions.retain(|(d, _)| d.id != id);
        Ok(())
    }

    async fn blob_deletion_failed(
        &self,
        id: i64,
        _error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), RepoError> {
        let mut w = self.world()?;
        if let Some((d, due)) = w.blob_deletions.iter_mut().find(|(d, _)| d.id == id) {
            d.attempts += 1;
            *due = retry_at;
        }
        Ok(())
    }
}

/// One session's redaction, its change already checked.
fn redact_in(w: &mut World, change: &SessionChange) -> Vec<BlobDeletion> {
    apply_change(w, change);
    let s = &change.session;
    let (condemned, kept) = std::mem::take(&mut w.documents)
        .into_iter()
        .partition::<Vec<_>, _>(|d| d.session_id == s.id);
    w.documents = kept;
    let mut queued = Vec::with_capacity(condemned.len());
    for doc in condemned {
        w.next_blob_deletion += 1;
        let entry = BlobDeletion {
            id: w.next_blob_deletion,
            storage_key: doc.storage_key,
            tenant: s.tenant.clone(),
            attempts: 0,
        };
        w.blob_deletions.push((entry.clone(), s.updated_at));
        queued.push(entry);
    }
    if let Some(result) = w.results.get_mut(&s.id) {
        result.extracted_data_sealed = None;
    }
    w.result_lookups.remove(&s.id);
    for run in w.runs.values_mut().filter(|r| r.session_id == s.id) {
        run.state.redact_personal_data();
        run.work = None;
        run.due = None;
    }
    for exec in w.executions.iter_mut().filter(|e| e.session_id == s.id) {
        exec.attempt.output = Value::Null;
        exec.attempt.error = None;
    }
    queued
}

#[async_trait]
impl DataKeyStore for MemoryStore {
    async fn data_keys_not_under(
        &self,
        key_id: &str,
        after: Option<&str>,
        limit: u64,
    ) -> Result<Vec<WrappedKey>, RepoError> {
        let prefix = format!("{key_id}:");
        Ok(self
            .world()?
            .sessions
            .values()
            .filter(|s| after.is_none_or(|a| s.id.as_str() > a))
            .filter_map(|s| {
                s.data_key
                    .as_ref()
                    .filter(|k| !k.starts_with(&prefix))
                    .map(|wrapped| WrappedKey {
                        session_id: s.id.clone(),
                        wrapped: wrapped.clone(),
                    })
            })
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .collect())
    }

    async fn replace_data_key(
        &self,
        session_id: &str,
        expected: &str,
        next: &str,
    ) -> Result<bool, RepoError> {
        let mut w = self.world()?;
        match w.sessions.get_mut(session_id) {
            Some(s) if s.data_key.as_deref() == Some(expected) => {
                s.data_key = Some(next.to_owned());
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}
