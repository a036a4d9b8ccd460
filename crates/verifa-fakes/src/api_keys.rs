//! [`ApiKeyRepository`] in memory.

use crate::state::{MemoryStore, page_of};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use verifa_domain::api_key::ApiKey;
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::tenancy::Tenant;
use verifa_ports::RepoError;
use verifa_ports::api_keys::ApiKeyRepository;

fn in_tenant(k: &ApiKey, t: &Tenant) -> bool {
    k.org_id == t.org_id && k.environment == t.environment
}

#[async_trait]
impl ApiKeyRepository for MemoryStore {
    async fn insert(&self, key: &ApiKey) -> Result<(), RepoError> {
        let mut w = self.world()?;
        if w.api_keys
            .values()
            .any(|k| k.id == key.id || k.secret_hash == key.secret_hash)
        {
            return Err(RepoError::Conflict(format!("api key {} exists", key.id)));
        }
        w.api_keys.insert(key.id.clone(), key.clone());
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

    async fn update(&self, key: &ApiKey) -> Result<(), RepoError> {
        let mut w = self.world()?;
        let tenant = Tenant::new(key.org_id.clone(), key.environment);
        match w
            .api_keys
            .get_mut(&key.id)
            .filter(|k| in_tenant(k, &tenant))
        {
            Some(stored) => {
                // The identity, the secret and the creation time never change.
                let (secret_hash, key_prefix, created_at) = (
                    stored.secret_hash.clone(),
                    stored.key_prefix.clone(),
                    stored.created_at,
                );
                *stored = key.clone();
                stored.secret_hash = secret_hash;
                stored.key_prefix = key_prefix;
                stored.created_at = created_at;
                Ok(())
            }
            None => Err(RepoError::NotFound),
        }
    }

    async fn record_use(&self, id: &str, at: DateTime<Utc>) -> Result<(), RepoError> {
        if let Some(k) = self.world()?.api_keys.get_mut(id) {
            k.last_used_at = Some(at);
        }
        Ok(())
    }
}
