//! Organization settings storage (CONTRACT §11.1): one settings object per organization and
//! environment, fenced by a revision; a tenant that never changed them has the defaults.

use crate::RepoError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use verifa_domain::audit::AuditDraft;
use verifa_domain::settings::OrgSettings;
use verifa_domain::tenancy::Tenant;

/// Settings as stored, with the revision the next write is fenced on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredSettings {
    /// The settings (every default when never changed).
    pub settings: OrgSettings,
    /// 0 when never changed; one more at every write.
    pub revision: i32,
    /// The last change, if any.
    pub updated_at: Option<DateTime<Utc>>,
}

/// Reads and writes organization settings.
#[async_trait]
pub trait SettingsStore: Send + Sync {
    /// The settings of `tenant`.
    async fn get(&self, tenant: &Tenant) -> Result<StoredSettings, RepoError>;

    /// Writes `settings` with `audit` in one transaction if the stored revision is still
    /// `expected` ([`RepoError::Conflict`] otherwise).
    async fn save(
        &self,
        tenant: &Tenant,
        settings: &OrgSettings,
        expected: i32,
        at: DateTime<Utc>,
        audit: &[AuditDraft],
    ) -> Result<(), RepoError>;

    /// Every tenant whose settings set a retention period (`data_retention_days` or
    /// `sensitive_data_retention_days`), with those settings (the retention sweeper's work).
    async fn with_retention(&self) -> Result<Vec<(Tenant, OrgSettings)>, RepoError>;
}
