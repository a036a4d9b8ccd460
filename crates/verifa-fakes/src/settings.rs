//! [`SettingsStore`] in memory: the world's lock makes the revision check and the write one
//! step, as the database's fenced update does.

use crate::state::MemoryStore;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use verifa_domain::audit::AuditDraft;
use verifa_domain::settings::OrgSettings;
use verifa_domain::tenancy::Tenant;
use verifa_ports::RepoError;
use verifa_ports::settings::{SettingsStore, StoredSettings};

#[async_trait]
impl SettingsStore for MemoryStore {
    async fn get(&self, tenant: &Tenant) -> Result<StoredSettings, RepoError> {
        Ok(self
            .world()?
            .settings
            .get(tenant)
            .cloned()
            .unwrap_or_default())
    }

    async fn save(
        &self,
        tenant: &Tenant,
        settings: &OrgSettings,
        expected: i32,
        at: DateTime<Utc>,
        audit: &[AuditDraft],
    ) -> Result<(), RepoError> {
        let mut w = self.world()?;
        crate::audit::check(&w, audit)?;
        let stored = w.settings.get(tenant).map_or(0, |s| s.revision);
        if stored != expected {
            return Err(RepoError::Conflict(
                "the settings changed since they were read".into(),
            ));
        }
        w.settings.insert(
            tenant.clone(),
            StoredSettings {
                settings: settings.clone(),
                revision: expected.saturating_add(1),
                updated_at: Some(at),
            },
        );
        crate::audit::append(&mut w, audit);
        Ok(())
    }

    async fn with_retention(&self) -> Result<Vec<(Tenant, OrgSettings)>, RepoError> {
        Ok(self
            .world()?
            .settings
            .iter()
            .filter(|(_, s)| {
                s.settings.data_retention_days.is_some()
                    || s.settings.sensitive_data_retention_days.is_some()
            })
            .map(|(t, s)| (t.clone(), s.settings.clone()))
            .collect())
    }
}
