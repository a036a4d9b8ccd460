//! [`IdentityTypeStore`] on sea-orm. Names are unique per tenant through
//! `ux_identity_types_name`; a new default demotes the former one in the same transaction, and a
//! type is deleted only when no identity of the tenant uses it.

use crate::Database;
use crate::entities::{identities, identity_types as types};
use crate::error::{corrupt, map_db};
use crate::repos::common::{fenced, in_tenant, settle, tenant_of};
use async_trait::async_trait;
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use verifa_domain::audit::AuditDraft;
use verifa_domain::identity::IdentityType;
use verifa_domain::tenancy::Tenant;
use verifa_ports::RepoError;
use verifa_ports::identities::IdentityTypeStore;

fn to_active(t: &IdentityType) -> Result<types::ActiveModel, RepoError> {
    Ok(types::ActiveModel {
        id: Set(t.id.clone()),
        org_id: Set(t.tenant.org_id.clone()),
        environment: Set(t.tenant.environment.as_str().to_owned()),
        name: Set(t.name.clone()),
        label: Set(t.label.clone()),
        description: Set(t.description.clone()),
        statuses: Set(serde_json::to_string(&t.statuses)
            .map_err(|e| corrupt("identity_types.statuses", e))?),
        default_status: Set(t.default_status.clone()),
        is_default: Set(t.is_default),
        created_at: Set(t.created_at),
        updated_at: Set(t.updated_at),
        revision: Set(t.revision),
    })
}

fn from_model(m: types::Model) -> Result<IdentityType, RepoError> {
    Ok(IdentityType {
        tenant: tenant_of(m.org_id, &m.environment)?,
        statuses: serde_json::from_str(&m.statuses)
            .map_err(|e| corrupt("identity_types.statuses", e))?,
        id: m.id,
        name: m.name,
        label: m.label,
        description: m.description,
        default_status: m.default_status,
        is_default: m.is_default,
        created_at: m.created_at,
        updated_at: m.updated_at,
        revision: m.revision,
    })
}

fn scoped(tenant: &Tenant) -> sea_orm::Select<types::Entity> {
    types::Entity::find().filter(in_tenant(
        types::Column::OrgId,
        types::Column::Environment,
        tenant,
    ))
}

/// Demotes every other default type of the tenant.
async fn demote_others(txn: &DatabaseTransaction, t: &IdentityType) -> Result<(), RepoError> {
    if !t.is_default {
        return Ok(());
    }
    types::Entity::update_many()
        .col_expr(types::Column::IsDefault, Expr::value(false))
        .col_expr(
            types::Column::Revision,
            Expr::col(types::Column::Revision).add(1),
        )
        .filter(in_tenant(
            types::Column::OrgId,
            types::Column::Environment,
            &t.tenant,
        ))
        .filter(types::Column::IsDefault.eq(true))
        .filter(types::Column::Id.ne(t.id.clone()))
        .exec(txn)
        .await
        .map_err(map_db)?;
    Ok(())
}

#[async_trait]
impl IdentityTypeStore for Database {
    async fn insert_type(&self, t: &IdentityType, audit: &[AuditDraft]) -> Result<(), RepoError> {
        let txn = self.conn.begin().await.map_err(map_db)?;
        let outcome = async {
            demote_others(&txn, t).await?;
            to_active(t)?.insert(&txn).await.map_err(map_db)?;
            crate::repos::audit::append(&txn, audit).await
        }
        .await;
        settle(txn, outcome).await
    }

    async fn get_type(&self, tenant: &Tenant, id: &str) -> Result<IdentityType, RepoError> {
        scoped(tenant)
            .filter(types::Column::Id.eq(id))
            .one(&self.conn)
            .await
            .map_err(map_db)?
            .map(from_model)
            .transpose()?
            .ok_or(RepoError::NotFound)
    }

    async fn default_type(&self, tenant: &Tenant) -> Result<Option<IdentityType>, RepoError> {
        scoped(tenant)
            .filter(types::Column::IsDefault.eq(true))
            .one(&self.conn)
            .await
            .map_err(map_db)?
            .map(from_model)
            .transpose()
    }

    async fn list_types(&self, tenant: &Tenant) -> Result<Vec<IdentityType>, RepoError> {
        scoped(tenant)
            .order_by_asc(types::Column::CreatedAt)
            .order_by_asc(types::Column::Id)
            .all(&self.conn)
            .await
            .map_err(map_db)?
            .into_iter()
            .map(from_model)
            .collect()
    }

    async fn update_type(&self, t: &IdentityType, audit: &[AuditDraft]) -> Result<(), RepoError> {
        let txn = self.conn.begin().await.map_err(map_db)?;
        let outcome = async {
            demote_others(&txn, t).await?;
            let mut active = to_active(t)?;
            for col in [
                types::Column::Id,
                types::Column::OrgId,
                types::Column::Environment,
                types::Column::CreatedAt,
            ] {
                active.not_set(col);
            }
            active.revision = Set(t.revision.saturating_add(1));
            let scope = || {
                in_tenant(types::Column::OrgId, types::Column::Environment, &t.tenant)
                    .add(types::Column::Id.eq(t.id.clone()))
            };
            let r = types::Entity::update_many()
                .set(active)
                .filter(scope())
                .filter(types::Column::Revision.eq(t.revision))
                .exec(&txn)
                .await
                .map_err(map_db)?;
            fenced(r.rows_affected, async {
                Ok(types::Entity::find()
                    .filter(scope())
                    .one(&txn)
                    .await
                    .map_err(map_db)?
                    .is_some())
            })
            .await?;
            crate::repos::audit::append(&txn, audit).await
        }
        .await;
        settle(txn, outcome).await
    }

    async fn delete_type(
        &self,
        tenant: &Tenant,
        id: &str,
        audit: &[AuditDraft],
    ) -> Result<bool, RepoError> {
        let txn = self.conn.begin().await.map_err(map_db)?;
        let outcome = async {
            let in_use = identities::Entity::find()
                .filter(in_tenant(
                    identities::Column::OrgId,
                    identities::Column::Environment,
                    tenant,
                ))
                .filter(identities::Column::IdentityTypeId.eq(id))
                .count(&txn)
                .await
                .map_err(map_db)?;
            if in_use > 0 {
                return Ok(false);
            }
            let r = types::Entity::delete_many()
                .filter(in_tenant(
                    types::Column::OrgId,
                    types::Column::Environment,
                    tenant,
                ))
                .filter(types::Column::Id.eq(id))
                .exec(&txn)
                .await
                .map_err(map_db)?;
            if r.rows_affected == 0 {
                return Err(RepoError::NotFound);
            }
            crate::repos::audit::append(&txn, audit).await?;
            Ok(true)
        }
        .await;
        settle(txn, outcome).await
    }
}
