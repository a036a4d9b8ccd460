//! [`ApiKeyRepository`] in memory.

use crate::audit;
use crate::state::{MemoryStore, World, page_of};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use verifa_domain::api_key::ApiKey;
use verifa_domain::audit::AuditDraft;
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::tenancy::Tenant;
use verifa_ports::RepoError;
use verifa_ports::api_keys::ApiKeyRepository;

fn in_tenant(k: &ApiKey, t: &Tenant) -> bool {
    k.org_id == t.org_id && k.environment == t.environment
}

#[async_trait]
impl ApiKeyRepository for MemoryStore {
    async fn insert(&self, key: &ApiKey, audit: &[AuditDraft]) -> Result<(), RepoError> {
        let mut w = self.world()?;
        audit::check(&w, audit)?;
        if w.api_keys
            .values()
            .any(|k| k.id == key.id || k.secret_hash == key.secret_hash)
        {
            return Err(RepoError::Conflict(format!("api key {} exists", key.id)));
        }
        w.api_keys.insert(key.id.clone(), key.clone());
        audit::append(&mut w, audit);
        Ok(())
    }

    async fn find_by_secret_hash(&self, hash: &str) -> Result<Option<ApiKey>, RepoError> {
        Ok(self
            .world()?
            .api_keys
            .values()
            .find(|k| k.secret_hash == hash)
            .cloned())
    }

    async fn get(&self, tenant: &Tenant, id: &str) -> Result<ApiKey, RepoError> {
        self.world()?
            .api_keys
            .get(id)
            .filter(|k| in_tenant(k, tenant))
            .cloned()
            .ok_or(RepoError::NotFound)
    }

    async fn list(&self, tenant: &Tenant, page: PageRequest) -> Result<Page<ApiKey>, RepoError> {
        let w = self.world()?;
        let mut keys: Vec<ApiKey> = w
            .api_keys
            .values()
            .filter(|k| in_tenant(k, tenant))
            .cloned()
            .collect();
        keys.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        Ok(page_of(keys, page))
    }

    async fn update(&self, key: &ApiKey, audit: &[AuditDraft]) -> Result<(), RepoError> {
        let mut w = self.world()?;
        audit::check(&w, audit)?;
        overwrite(&mut w, key)?;
        audit::append(&mut w, audit);
        Ok(())
    }

    async fn update_keeping_admin(
        &self,
        key: &ApiKey,
        now: DateTime<Utc>,
        audit: &[AuditDraft],
    ) -> Result<bool, RepoError> {
        // The world's lock makes the check and the write one step, as the adapter's lock does.
        let mut w = self.world()?;
        let tenant = Tenant::new(key.org_id.clone(), key.environment);
        let still_administered = w
            .api_keys
            .values()
            .filter(|k| in_tenant(k, &tenant))
            .any(|k| {
                if k.id == key.id {
                    key.administers_keys(now)
                } else {
                    k.administers_keys(now)
                }
            });
        overwrite_checked(&w, key)?;
        if !still_administered {
            return Ok(false);
        }
        audit::check(&w, audit)?;
        overwrite(&mut w, key)?;
        audit::append(&mut w, audit);
        Ok(true)
    }

    async fn record_use(&self, id: &str, at: DateTime<Utc>) -> Result<(), RepoError> {
        if let Some(k) = self.world()?.api_keys.get_mut(id) {
            k.last_used_at = Some(at);
        }
        Ok(())
    }
}

/// Refuses an overwrite of an absent key or of one that moved past the revision read.
fn overwrite_checked(w: &World, key: &ApiKey) -> Result<(), RepoError> {
    let tenant = Tenant::new(key.org_id.clone(), key.environment);
    match w.api_keys.get(&key.id).filter(|k| in_tenant(k, &tenant)) {
        None => Err(RepoError::NotFound),
        Some(stored) if stored.revision != key.revision => Err(RepoError::Conflict(
            "the row changed since it was read".into(),
        )),
        Some(_) => Ok(()),
    }
}

/// The fenced overwrite of a key's mutable fields.
fn overwrite(w: &mut World, key: &ApiKey) -> Result<(), RepoError> {
    overwrite_checked(w, key)?;
    if let Some(stored) = w.api_keys.get_mut(&key.id) {
        // The identity, the secret, the creation and the last use never change here.
        let (secret_hash, key_prefix, created_at, last_used_at) = (
            stored.secret_hash.clone(),
            stored.key_prefix.clone(),
            stored.created_at,
            stored.last_used_at,
        );
        *stored = key.clone();
        stored.secret_hash = secret_hash;
        stored.key_prefix = key_prefix;
        stored.created_at = created_at;
        stored.last_used_at = last_used_at;
        stored.revision = key.revision.saturating_add(1);
    }
    Ok(())
}
