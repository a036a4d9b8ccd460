//! [`OrgUserRepository`] in memory: the world's lock makes the uniqueness check, the admin
//! check and the write one step, as the database's unique index and row locks do.

use crate::state::{MemoryStore, World, page_of};
use async_trait::async_trait;
use verifa_domain::audit::AuditDraft;
use verifa_domain::org_user::{OrgUser, email_key};
use verifa_domain::pagination::{Page, PageRequest};
use verifa_ports::RepoError;
use verifa_ports::org_users::{OrgUserFilter, OrgUserRepository};

fn email_taken(w: &World, user: &OrgUser) -> bool {
    let key = email_key(&user.email);
    w.org_users
        .values()
        .any(|u| u.id != user.id && email_key(&u.email) == key)
}

fn matches(u: &OrgUser, f: &OrgUserFilter) -> bool {
    f.role.is_none_or(|r| u.role == r)
        && f.is_active.is_none_or(|a| u.is_active == a)
        && f.q.as_deref().is_none_or(|q| u.matches_text(q))
}

#[async_trait]
impl OrgUserRepository for MemoryStore {
    async fn insert(&self, user: &OrgUser, audit: &[AuditDraft]) -> Result<(), RepoError> {
        let mut w = self.world()?;
        crate::audit::check(&w, audit)?;
        if w.org_users.contains_key(&user.id) || email_taken(&w, user) {
            return Err(RepoError::Conflict("email taken".into()));
        }
        w.org_users.insert(user.id.clone(), user.clone());
        crate::audit::append(&mut w, audit);
        Ok(())
    }

    async fn get(&self, org_id: &str, id: &str) -> Result<OrgUser, RepoError> {
        self.world()?
            .org_users
            .get(id)
            .filter(|u| u.org_id == org_id)
            .cloned()
            .ok_or(RepoError::NotFound)
    }

    async fn find_by_email(&self, email: &str) -> Result<Option<OrgUser>, RepoError> {
        let key = email_key(email);
        Ok(self
            .world()?
            .org_users
            .values()
            .find(|u| email_key(&u.email) == key)
            .cloned())
    }

    async fn list(
        &self,
        org_id: &str,
        filter: &OrgUserFilter,
        page: PageRequest,
    ) -> Result<Page<OrgUser>, RepoError> {
        let w = self.world()?;
        let mut users: Vec<OrgUser> = w
            .org_users
            .values()
            .filter(|u| u.org_id == org_id && matches(u, filter))
            .cloned()
            .collect();
        users.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        Ok(page_of(users, page))
    }

    async fn update_keeping_admin(
        &self,
        user: &OrgUser,
        audit: &[AuditDraft],
    ) -> Result<bool, RepoError> {
        let mut w = self.world()?;
        let Some(stored) = w
            .org_users
            .get(&user.id)
            .filter(|u| u.org_id == user.org_id)
        else {
            return Err(RepoError::NotFound);
        };
        if stored.revision != user.revision {
            return Err(RepoError::Conflict(
                "the row changed since it was read".into(),
            ));
        }
        if email_taken(&w, user) {
            return Err(RepoError::Conflict("email taken".into()));
        }
        let admins = |w: &World, replaced: Option<&OrgUser>| {
            w.org_users
                .values()
                .filter(|u| u.org_id == user.org_id)
                .map(|u| match replaced {
                    Some(r) if r.id == u.id => r,
                    _ => u,
                })
                .filter(|u| u.administers())
                .count()
        };
        if admins(&w, None) > 0 && admins(&w, Some(user)) == 0 {
            return Ok(false);
        }
        crate::audit::check(&w, audit)?;
        let mut written = user.clone();
        written.revision = user.revision.saturating_add(1);
        if let Some(s) = w.org_users.get_mut(&user.id) {
            written.created_at = s.created_at;
            *s = written;
        }
        crate::audit::append(&mut w, audit);
        Ok(true)
    }
}
