//! [`OrganizationRepository`] in memory.

use crate::state::MemoryStore;
use async_trait::async_trait;
use verifa_domain::api_key::ApiKey;
use verifa_domain::audit::AuditDraft;
use verifa_ports::RepoError;
use verifa_ports::organizations::{Organization, OrganizationRepository};

#[async_trait]
impl OrganizationRepository for MemoryStore {
    async fn create_with_keys(
        &self,
        org: &Organization,
        keys: &[ApiKey],
        audit: &[AuditDraft],
    ) -> Result<(), RepoError> {
        let mut w = self.world()?;
        if w.organizations.contains_key(&org.id) {
            return Err(RepoError::Conflict(format!(
                "organization {} exists",
                org.id
            )));
        }
        for k in keys {
            let taken = w
                .api_keys
                .values()
                .any(|e| e.id == k.id || e.secret_hash == k.secret_hash);
            if taken {
                return Err(RepoError::Conflict(format!("api key {} exists", k.id)));
            }
        }
        crate::audit::check(&w, audit)?;
        w.organizations.insert(org.id.clone(), org.clone());
        for k in keys {
            w.api_keys.insert(k.id.clone(), k.clone());
        }
        crate::audit::append(&mut w, audit);
        Ok(())
    }

    async fn get(&self, id: &str) -> Result<Organization, RepoError> {
        self.world()?
            .organizations
            .get(id)
            .cloned()
            .ok_or(RepoError::NotFound)
    }

    async fn count(&self) -> Result<u64, RepoError> {
        Ok(self.world()?.organizations.len() as u64)
    }
}
