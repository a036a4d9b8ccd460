//! [`IdentityStore`] and [`IdentityTypeStore`] in memory, and a completing session feeding its
//! identity ([`feed`]), with the same uniqueness and fencing rules as the database.

use crate::state::{MemoryStore, World, page_of};
use async_trait::async_trait;
use std::collections::BTreeSet;
use verifa_domain::audit::AuditDraft;
use verifa_domain::cursor::{CursorRequest, Direction};
use verifa_domain::identity::merge::MergeOutcome;
use verifa_domain::identity::{Identity, IdentityStatus, IdentityType};
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::session::Session;
use verifa_domain::tenancy::Tenant;
use verifa_ports::RepoError;
use verifa_ports::identities::{
    IdentityFeed, IdentityFilter, IdentitySearch, IdentitySession, IdentityStore,
    IdentityTypeStore, NewIdentityEvent, resolve_feed,
};

fn ref_taken(w: &World, i: &Identity) -> bool {
    i.external_ref.as_ref().is_some_and(|r| {
        w.identities
            .values()
            .any(|o| o.id != i.id && o.tenant == i.tenant && o.external_ref.as_ref() == Some(r))
    })
}

/// The stored identity `i` replaces, if the fence holds.
pub(crate) fn check_fence(w: &World, i: &Identity) -> Result<(), RepoError> {
    match w.identities.get(&i.id) {
        Some(s) if s.tenant == i.tenant && s.revision == i.revision => {
            if ref_taken(w, i) {
                Err(RepoError::Conflict("external_ref taken".into()))
            } else {
                Ok(())
            }
        }
        Some(s) if s.tenant == i.tenant => Err(RepoError::Conflict(
            "the row changed since it was read".into(),
        )),
        _ => Err(RepoError::NotFound),
    }
}

pub(crate) fn store(w: &mut World, i: &Identity) {
    let mut stored = i.clone();
    stored.revision = i.revision.saturating_add(1);
    w.identities.insert(i.id.clone(), stored);
}

pub(crate) fn append_events(w: &mut World, i: &Identity, events: &[NewIdentityEvent]) {
    for e in events {
        w.push_event(
            &i.tenant,
            &i.id,
            (&e.id, e.event.event_type(), e.event.payload(i)),
            i.updated_at,
        );
    }
}

/// Feeds the identity of a session whose change was accepted (cannot fail under the lock).
pub(crate) fn feed(w: &mut World, session: &Session, feed: &IdentityFeed) {
    let by_ref = w
        .identities
        .values()
        .find(|i| {
            i.tenant == session.tenant
                && i.external_ref.as_deref() == Some(feed.completion.external_ref.as_str())
        })
        .cloned();
    let existing = match by_ref {
        Some(i) if i.status == IdentityStatus::Merged => i
            .merged_into_id
            .as_ref()
            .and_then(|into| w.identities.get(into).cloned())
            .or(Some(i)),
        other => other,
    };
    let fed = resolve_feed(existing, session, feed);
    if fed.created {
        w.identities
            .insert(fed.identity.id.clone(), fed.identity.clone());
    } else {
        store(w, &fed.identity);
    }
    if let Some(s) = w.sessions.get_mut(&session.id) {
        s.identity_id = Some(fed.identity.id.clone());
    }
    append_events(w, &fed.identity, std::slice::from_ref(&fed.event));
    crate::audit::append(w, std::slice::from_ref(&fed.audit));
}

#[async_trait]
impl IdentityStore for MemoryStore {
    async fn insert(
        &self,
        identity: &Identity,
        events: &[NewIdentityEvent],
        audit: &[AuditDraft],
    ) -> Result<(), RepoError> {
        let mut w = self.world()?;
        crate::audit::check(&w, audit)?;
        if w.identities.contains_key(&identity.id) || ref_taken(&w, identity) {
            return Err(RepoError::Conflict("external_ref taken".into()));
        }
        w.identities.insert(identity.id.clone(), identity.clone());
        append_events(&mut w, identity, events);
        crate::audit::append(&mut w, audit);
        Ok(())
    }

    async fn get(&self, tenant: &Tenant, id: &str) -> Result<Identity, RepoError> {
        self.world()?
            .identities
            .get(id)
            .filter(|i| &i.tenant == tenant)
            .cloned()
            .ok_or(RepoError::NotFound)
    }

    async fn find_by_ref(
        &self,
        tenant: &Tenant,
        external_ref: &str,
    ) -> Result<Option<Identity>, RepoError> {
        Ok(self
            .world()?
            .identities
            .values()
            .find(|i| &i.tenant == tenant && i.external_ref.as_deref() == Some(external_ref))
            .cloned())
    }

    async fn list(
        &self,
        tenant: &Tenant,
        filter: &IdentityFilter,
        page: PageRequest,
    ) -> Result<Page<Identity>, RepoError> {
        let w = self.world()?;
        let mut items: Vec<Identity> = w
            .identities
            .values()
            .filter(|i| &i.tenant == tenant && filter.matches(i))
            .cloned()
            .collect();
        items.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(page_of(items, page))
    }

    async fn search(
        &self,
        tenant: &Tenant,
        search: &IdentitySearch,
        page: PageRequest,
    ) -> Result<Page<Identity>, RepoError> {
        let w = self.world()?;
        // The identities one of whose sessions' results carries every wanted hash.
        let by_lookup: Option<BTreeSet<&str>> = (!search.lookups.is_empty()).then(|| {
            w.result_lookups
                .iter()
                .filter(|(_, hashes)| search.lookups.iter().all(|h| hashes.contains(h)))
                .filter_map(|(session_id, _)| w.sessions.get(session_id))
                .filter(|s| &s.tenant == tenant)
                .filter_map(|s| s.identity_id.as_deref())
                .collect()
        });
        let mut items: Vec<Identity> = w
            .identities
            .values()
            .filter(|i| &i.tenant == tenant)
            .filter(|i| {
                search
                    .external_ref
                    .as_ref()
                    .is_none_or(|r| i.external_ref.as_ref() == Some(r))
            })
            .filter(|i| search.status.is_none_or(|s| i.status == s))
            .filter(|i| {
                search
                    .country
                    .as_ref()
                    .is_none_or(|c| i.country.as_ref() == Some(c))
            })
            .filter(|i| {
                by_lookup
                    .as_ref()
                    .is_none_or(|ids| ids.contains(i.id.as_str()))
            })
            .cloned()
            .collect();
        items.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(page_of(items, page))
    }

    async fn list_from(
        &self,
        tenant: &Tenant,
        filter: &IdentityFilter,
        request: &CursorRequest,
    ) -> Result<Vec<Identity>, RepoError> {
        let w = self.world()?;
        let key = |i: &Identity| (i.created_at, i.id.clone());
        let mut items: Vec<Identity> = w
            .identities
            .values()
            .filter(|i| &i.tenant == tenant && filter.matches(i))
            .filter(|i| match &request.direction {
                Direction::After(None) => true,
                Direction::After(Some(c)) => key(i) < (c.created_at, c.id.clone()),
                Direction::Before(c) => key(i) > (c.created_at, c.id.clone()),
            })
            .cloned()
            .collect();
        items.sort_by_key(key);
        if matches!(request.direction, Direction::After(_)) {
            items.reverse();
        }
        items.truncate(usize::try_from(request.size.saturating_add(1)).unwrap_or(usize::MAX));
        Ok(items)
    }

    async fn update(
        &self,
        identity: &Identity,
        events: &[NewIdentityEvent],
        audit: &[AuditDraft],
    ) -> Result<(), RepoError> {
        let mut w = self.world()?;
        crate::audit::check(&w, audit)?;
        check_fence(&w, identity)?;
        store(&mut w, identity);
        append_events(&mut w, identity, events);
        crate::audit::append(&mut w, audit);
        Ok(())
    }

    async fn merge(
        &self,
        outcome: &MergeOutcome,
        events: &[(String, NewIdentityEvent)],
        audit: &[AuditDraft],
    ) -> Result<(), RepoError> {
        let mut w = self.world()?;
        crate::audit::check(&w, audit)?;
        let all: Vec<&Identity> = std::iter::once(&outcome.primary)
            .chain(&outcome.secondaries)
            .collect();
        for i in &all {
            check_fence(&w, i)?;
        }
        for i in &all {
            store(&mut w, i);
        }
        let moved: Vec<&str> = outcome.secondaries.iter().map(|s| s.id.as_str()).collect();
        for s in w.sessions.values_mut() {
            if s.identity_id
                .as_deref()
                .is_some_and(|id| moved.contains(&id))
            {
                s.identity_id = Some(outcome.primary.id.clone());
            }
        }
        for (subject, event) in events {
            if let Some(i) = all.iter().find(|i| &i.id == subject) {
                append_events(&mut w, i, std::slice::from_ref(event));
            }
        }
        crate::audit::append(&mut w, audit);
        Ok(())
    }

    async fn sessions(
        &self,
        tenant: &Tenant,
        identity_id: &str,
        page: PageRequest,
    ) -> Result<Page<IdentitySession>, RepoError> {
        let w = self.world()?;
        let mut items: Vec<&Session> = w
            .sessions
            .values()
            .filter(|s| &s.tenant == tenant && s.identity_id.as_deref() == Some(identity_id))
            .collect();
        items.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        let rows = items
            .into_iter()
            .map(|s| IdentitySession {
                session_id: s.id.clone(),
                status: s.status,
                completed_at: s.completed_at,
                created_at: s.created_at,
            })
            .collect();
        Ok(page_of(rows, page))
    }
}

fn name_taken(w: &World, t: &IdentityType) -> bool {
    w.identity_types
        .values()
        .any(|o| o.id != t.id && o.tenant == t.tenant && o.name == t.name)
}

fn demote_others(w: &mut World, t: &IdentityType) {
    if t.is_default {
        for o in w.identity_types.values_mut() {
            if o.id != t.id && o.tenant == t.tenant && o.is_default {
                o.is_default = false;
                o.revision = o.revision.saturating_add(1);
            }
        }
    }
}

#[async_trait]
impl IdentityTypeStore for MemoryStore {
    async fn insert_type(&self, t: &IdentityType, audit: &[AuditDraft]) -> Result<(), RepoError> {
        let mut w = self.world()?;
        crate::audit::check(&w, audit)?;
        if w.identity_types.contains_key(&t.id) || name_taken(&w, t) {
            return Err(RepoError::Conflict("name taken".into()));
        }
        demote_others(&mut w, t);
        w.identity_types.insert(t.id.clone(), t.clone());
        crate::audit::append(&mut w, audit);
        Ok(())
    }

    async fn get_type(&self, tenant: &Tenant, id: &str) -> Result<IdentityType, RepoError> {
        self.world()?
            .identity_types
            .get(id)
            .filter(|t| &t.tenant == tenant)
            .cloned()
            .ok_or(RepoError::NotFound)
    }

    async fn default_type(&self, tenant: &Tenant) -> Result<Option<IdentityType>, RepoError> {
        Ok(self
            .world()?
            .identity_types
            .values()
            .find(|t| &t.tenant == tenant && t.is_default)
            .cloned())
    }

    async fn list_types(&self, tenant: &Tenant) -> Result<Vec<IdentityType>, RepoError> {
        let w = self.world()?;
        let mut items: Vec<IdentityType> = w
            .identity_types
            .values()
            .filter(|t| &t.tenant == tenant)
            .cloned()
            .collect();
        items.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(items)
    }

    async fn update_type(&self, t: &IdentityType, audit: &[AuditDraft]) -> Result<(), RepoError> {
        let mut w = self.world()?;
        crate::audit::check(&w, audit)?;
        match w.identity_types.get(&t.id) {
            Some(s) if s.tenant == t.tenant && s.revision == t.revision => {}
            Some(s) if s.tenant == t.tenant => {
                return Err(RepoError::Conflict(
                    "the row changed since it was read".into(),
                ));
            }
            _ => return Err(RepoError::NotFound),
        }
        if name_taken(&w, t) {
            return Err(RepoError::Conflict("name taken".into()));
        }
        demote_others(&mut w, t);
        let mut stored = t.clone();
        stored.revision = t.revision.saturating_add(1);
        w.identity_types.insert(t.id.clone(), stored);
        crate::audit::append(&mut w, audit);
        Ok(())
    }

    async fn delete_type(
        &self,
        tenant: &Tenant,
        id: &str,
        audit: &[AuditDraft],
    ) -> Result<bool, RepoError> {
        let mut w = self.world()?;
        crate::audit::check(&w, audit)?;
        if w.identity_types.get(id).is_none_or(|t| &t.tenant != tenant) {
            return Err(RepoError::NotFound);
        }
        let in_use = w
            .identities
            .values()
            .any(|i| &i.tenant == tenant && i.identity_type_id.as_deref() == Some(id));
        if in_use {
            return Ok(false);
        }
        w.identity_types.remove(id);
        crate::audit::append(&mut w, audit);
        Ok(true)
    }
}
