//! [`OrganizationRepository`] on sea-orm.

use crate::Database;
use crate::entities::organizations as orgs;
use crate::error::map_db;
use crate::repos::api_keys::to_active;
use async_trait::async_trait;
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, Set, TransactionTrait};
use verifa_domain::api_key::ApiKey;
use verifa_domain::audit::AuditDraft;
use verifa_ports::RepoError;
use verifa_ports::organizations::{Organization, OrganizationRepository};

#[async_trait]
impl OrganizationRepository for Database {
    async fn create_with_keys(
        &self,
        org: &Organization,
        keys: &[ApiKey],
        audit: &[AuditDraft],
    ) -> Result<(), RepoError> {
        let txn = self.conn.begin().await.map_err(map_db)?;
        orgs::ActiveModel {
            id: Set(org.id.clone()),
            name: Set(org.name.clone()),
            created_at: Set(org.created_at),
        }
        .insert(&txn)
        .await
        .map_err(map_db)?;
        for key in keys {
            to_active(key).insert(&txn).await.map_err(map_db)?;
        }
        crate::repos::audit::append(&txn, audit).await?;
        txn.commit().await.map_err(map_db)
    }

    async fn get(&self, id: &str) -> Result<Organization, RepoError> {
        let m = orgs::Entity::find_by_id(id.to_owned())
            .one(&self.conn)
            .await
            .map_err(map_db)?
            .ok_or(RepoError::NotFound)?;
        Ok(Organization {
            id: m.id,
            name: m.name,
            created_at: m.created_at,
        })
    }

    async fn count(&self) -> Result<u64, RepoError> {
        orgs::Entity::find().count(&self.conn).await.map_err(map_db)
    }
}
