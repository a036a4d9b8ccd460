//! [`SettingsStore`] on sea-orm: the `org_settings` row of a tenant, JSON, fenced on
//! `revision` (the first write inserts the row; a concurrent first write loses on the key).

use crate::Database;
use crate::entities::org_settings as rows;
use crate::error::{corrupt, is_unique_violation, map_db};
use crate::repos::common::tenant_of;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use verifa_domain::audit::AuditDraft;
use verifa_domain::settings::OrgSettings;
use verifa_domain::tenancy::Tenant;
use verifa_ports::RepoError;
use verifa_ports::settings::{SettingsStore, StoredSettings};

#[async_trait]
impl SettingsStore for Database {
    async fn get(&self, tenant: &Tenant) -> Result<StoredSettings, RepoError> {
        let key = (
            tenant.org_id.clone(),
            tenant.environment.as_str().to_owned(),
        );
        let Some(m) = rows::Entity::find_by_id(key)
            .one(&self.conn)
            .await
            .map_err(map_db)?
        else {
            return Ok(StoredSettings::default());
        };
        let settings =
            serde_json::from_str(&m.settings).map_err(|e| corrupt("org_settings.settings", e))?;
        Ok(StoredSettings {
            settings,
            revision: m.revision,
            updated_at: Some(m.updated_at),
        })
    }

    async fn save(
        &self,
        tenant: &Tenant,
        settings: &OrgSettings,
        expected: i32,
        at: DateTime<Utc>,
        audit: &[AuditDraft],
    ) -> Result<(), RepoError> {
        let json = serde_json::to_string(settings).map_err(|e| corrupt("settings", e))?;
        let environment = tenant.environment.as_str().to_owned();
        let txn = self.conn.begin().await.map_err(map_db)?;
        let written = if expected == 0 {
            rows::ActiveModel {
                org_id: Set(tenant.org_id.clone()),
                environment: Set(environment),
                settings: Set(json),
                revision: Set(1),
                updated_at: Set(at),
            }
            .insert(&txn)
            .await
            .map(|_| true)
            .or_else(|e| {
                if is_unique_violation(&e) {
                    Ok(false)
                } else {
                    Err(map_db(e))
                }
            })?
        } else {
            rows::Entity::update_many()
                .set(rows::ActiveModel {
                    settings: Set(json),
                    revision: Set(expected.saturating_add(1)),
                    updated_at: Set(at),
                    ..Default::default()
                })
                .filter(rows::Column::OrgId.eq(tenant.org_id.clone()))
                .filter(rows::Column::Environment.eq(environment))
                .filter(rows::Column::Revision.eq(expected))
                .exec(&txn)
                .await
                .map_err(map_db)?
                .rows_affected
                == 1
        };
        if !written {
            return Err(RepoError::Conflict(
                "the settings changed since they were read".into(),
            ));
        }
        crate::repos::audit::append(&txn, audit).await?;
        txn.commit().await.map_err(map_db)
    }

    async fn with_retention(&self) -> Result<Vec<(Tenant, OrgSettings)>, RepoError> {
        // One row per tenant that ever changed its settings: few enough to filter here.
        let mut found = Vec::new();
        for m in rows::Entity::find().all(&self.conn).await.map_err(map_db)? {
            let settings: OrgSettings = serde_json::from_str(&m.settings)
                .map_err(|e| corrupt("org_settings.settings", e))?;
            if settings.data_retention_days.is_some()
                || settings.sensitive_data_retention_days.is_some()
            {
                found.push((tenant_of(m.org_id, &m.environment)?, settings));
            }
        }
        Ok(found)
    }
}
