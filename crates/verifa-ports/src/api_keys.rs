//! API keys storage.

use crate::RepoError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use verifa_domain::api_key::ApiKey;
use verifa_domain::audit::AuditDraft;
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::tenancy::Tenant;

/// Stores API keys. Every read except [`ApiKeyRepository::find_by_secret_hash`] is scoped to a
/// tenant, so a key of one environment never sees another environment's keys. Every write
/// appends its `audit` drafts in the same transaction (see [`crate::audit`]).
#[async_trait]
pub trait ApiKeyRepository: Send + Sync {
    /// Inserts a new key.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] on a duplicate id or secret hash.
    async fn insert(&self, key: &ApiKey, audit: &[AuditDraft]) -> Result<(), RepoError>;

    /// Finds the key whose secret hashes to `hash`, in any tenant (authentication).
    async fn find_by_secret_hash(&self, hash: &str) -> Result<Option<ApiKey>, RepoError>;

    /// Gets a key of the tenant.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when absent in this tenant.
    async fn get(&self, tenant: &Tenant, id: &str) -> Result<ApiKey, RepoError>;

    /// Lists the tenant's keys, newest first (ties broken by id).
    async fn list(&self, tenant: &Tenant, page: PageRequest) -> Result<Page<ApiKey>, RepoError>;

    /// Overwrites the mutable fields of an existing key of the tenant.
    ///
    /// MUST be fenced: writes only when the stored revision still equals the record's `revision`
    /// (the one read), and stores `revision + 1`.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when the row moved on (re-read and retry); [`RepoError::NotFound`]
    /// when absent in the tenant.
    async fn update(&self, key: &ApiKey, audit: &[AuditDraft]) -> Result<(), RepoError>;

    /// Overwrites a key like [`update`](Self::update), unless afterwards no key of its tenant
    /// would still [administer keys](ApiKey::administers_keys) at `now`: then nothing is
    /// written (nor audited) and the answer is `false`.
    ///
    /// MUST be atomic against concurrent calls for the same tenant: two of them can never
    /// together leave the tenant without a key administrator.
    ///
    /// # Errors
    /// As [`update`](Self::update).
    async fn update_keeping_admin(
        &self,
        key: &ApiKey,
        now: DateTime<Utc>,
        audit: &[AuditDraft],
    ) -> Result<bool, RepoError>;

    /// Records a successful authentication (coarse; callers throttle it).
    async fn record_use(&self, id: &str, at: DateTime<Utc>) -> Result<(), RepoError>;
}
