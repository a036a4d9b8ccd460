//! Organizations: the tenants of the service.

use crate::RepoError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use verifa_domain::api_key::ApiKey;
use verifa_domain::audit::AuditDraft;

/// An organization.
#[derive(Debug, Clone, PartialEq)]
pub struct Organization {
    /// `org_…`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// Stores organizations.
#[async_trait]
pub trait OrganizationRepository: Send + Sync {
    /// Creates the organization and its initial keys in one transaction.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when the id exists; [`RepoError::Unavailable`] on store failure.
    async fn create_with_keys(
        &self,
        org: &Organization,
        keys: &[ApiKey],
        audit: &[AuditDraft],
    ) -> Result<(), RepoError>;

    /// Looks an organization up by id.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when absent.
    async fn get(&self, id: &str) -> Result<Organization, RepoError>;

    /// Number of organizations (the first start bootstraps when it is zero).
    async fn count(&self) -> Result<u64, RepoError>;
}
