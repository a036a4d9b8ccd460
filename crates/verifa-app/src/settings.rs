//! Organization settings (CONTRACT §11.1): read, and patched under the revision fence with an
//! audit event naming the changed fields. Other use cases read them through
//! [`SettingsService::of`] (case review, later retention, documents and branding).

use crate::actor::Caller;
use crate::error::AppError;
use crate::retry::{Attempt, retrying, written};
use chrono::SubsecRound as _;
use serde_json::{Map, Value};
use std::sync::Arc;
use verifa_domain::tenancy::Tenant;
use verifa_ports::clock::Clock;
use verifa_ports::settings::{SettingsStore, StoredSettings};

/// Settings use cases.
pub struct SettingsService {
    store: Arc<dyn SettingsStore>,
    clock: Arc<dyn Clock>,
}

impl SettingsService {
    /// Builds the service.
    pub fn new(ports: &crate::Ports) -> Self {
        Self {
            store: ports.settings.clone(),
            clock: ports.clock.clone(),
        }
    }

    /// The settings of `tenant` (for other use cases).
    pub async fn of(&self, tenant: &Tenant) -> Result<StoredSettings, AppError> {
        Ok(self.store.get(tenant).await?)
    }

    /// The caller's settings.
    pub async fn get(&self, caller: &Caller) -> Result<StoredSettings, AppError> {
        self.of(&caller.tenant()).await
    }

    /// Applies a `PATCH /settings` body (a field sent replaces it, `null` resets it to its
    /// default); a patch that changes nothing writes nothing.
    pub async fn patch(
        &self,
        caller: &Caller,
        body: &Map<String, Value>,
    ) -> Result<StoredSettings, AppError> {
        let tenant = caller.tenant();
        retrying!(
            "the settings",
            async {
                let mut stored = self.store.get(&tenant).await?;
                let changed = stored
                    .settings
                    .patch(body)
                    .map_err(crate::error::field_problems)?;
                if changed.is_empty() {
                    return Ok(Attempt::Done(stored));
                }
                // Microseconds, as every store keeps them, so the answer reads like a GET.
                let now = self.clock.now().trunc_subsecs(6);
                let audit = caller
                    .audit("settings.updated", "settings", &tenant.org_id, now)
                    .with_changes(changed.iter().map(String::as_str));
                let outcome = self
                    .store
                    .save(&tenant, &stored.settings, stored.revision, now, &[audit])
                    .await;
                stored.revision = stored.revision.saturating_add(1);
                stored.updated_at = Some(now);
                written(outcome, stored)
            }
            .await
        )
    }
}
