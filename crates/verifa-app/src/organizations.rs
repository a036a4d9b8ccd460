//! Organizations: creation with initial keys, and the first-start bootstrap.

use crate::api_keys::{ApiKeyService, IssuedKey};
use crate::error::AppError;
use crate::ids::{new_id, prefix};
use std::sync::Arc;
use verifa_domain::tenancy::{Environment, validate_org_name};
use verifa_ports::clock::Clock;
use verifa_ports::organizations::{Organization, OrganizationRepository};

/// An organization with the admin keys minted for it (secrets shown once).
#[derive(Debug)]
pub struct NewOrganization {
    /// The organization.
    pub org: Organization,
    /// One admin key per environment: live first, then sandbox.
    pub keys: Vec<IssuedKey>,
}

/// Organization use cases.
pub struct OrganizationService {
    repo: Arc<dyn OrganizationRepository>,
    keys: Arc<ApiKeyService>,
    clock: Arc<dyn Clock>,
}

impl OrganizationService {
    /// Builds the service.
    pub fn new(ports: &crate::Ports, keys: Arc<ApiKeyService>) -> Self {
        Self {
            repo: ports.organizations.clone(),
            keys,
            clock: ports.clock.clone(),
        }
    }

    /// Creates an organization with one live and one sandbox admin key, atomically.
    pub async fn create(&self, name: &str) -> Result<NewOrganization, AppError> {
        validate_org_name(name).map_err(|m| AppError::invalid("name", m))?;
        let org = Organization {
            id: new_id(prefix::ORG),
            name: name.trim().to_owned(),
            created_at: self.clock.now(),
        };
        self.create_with_admin_keys(org).await
    }

    async fn create_with_admin_keys(&self, org: Organization) -> Result<NewOrganization, AppError> {
        let keys = vec![
            self.keys
                .mint_admin_key(&org.id, Environment::Live, "Admin (live)"),
            self.keys
                .mint_admin_key(&org.id, Environment::Sandbox, "Admin (sandbox)"),
        ];
        let records: Vec<_> = keys.iter().map(|k| k.key.clone()).collect();
        let audit: Vec<_> = records
            .iter()
            .map(crate::api_keys::created_by_system)
            .collect();
        self.repo.create_with_keys(&org, &records, &audit).await?;
        Ok(NewOrganization { org, keys })
    }

    /// On the very first start (no organization at all) creates the default organization.
    /// Returns `None` when organizations already exist.
    pub async fn bootstrap(&self) -> Result<Option<NewOrganization>, AppError> {
        if self.repo.count().await? > 0 {
            return Ok(None);
        }
        match self.create("Default Organization").await {
            Ok(created) => Ok(Some(created)),
            // Another process bootstrapped at the same moment.
            Err(AppError::Conflict(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Gets an organization.
    pub async fn get(&self, id: &str) -> Result<Organization, AppError> {
        self.repo
            .get(id)
            .await
            .map_err(AppError::from_repo("organization"))
    }
}
