//! [`EndpointStore`] on sea-orm.

use super::rows::*;
use crate::Database;
use crate::entities::{webhook_deliveries as deliveries, webhook_endpoints as endpoints};
use crate::error::map_db;
use crate::repos::audit;
use crate::repos::common::{fenced, fetch_page, settle};
use async_trait::async_trait;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use serde_json::Value;
use verifa_domain::audit::AuditDraft;
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::tenancy::Tenant;
use verifa_ports::RepoError;
use verifa_ports::webhook_store::{EndpointRecord, EndpointStore};

#[async_trait]
impl EndpointStore for Database {
    async fn insert_endpoint(
        &self,
        endpoint: &EndpointRecord,
        audit: &[AuditDraft],
    ) -> Result<(), RepoError> {
        let txn = self.conn.begin().await.map_err(map_db)?;
        let outcome = async {
            endpoint_active(endpoint)
                .insert(&txn)
                .await
                .map_err(map_db)?;
            audit::append(&txn, audit).await
        }
        .await;
        settle(txn, outcome).await
    }

    async fn get_endpoint(&self, tenant: &Tenant, id: &str) -> Result<EndpointRecord, RepoError> {
        let m = endpoints::Entity::find()
            .filter(endpoint_tenant(tenant))
            .filter(endpoints::Column::Id.eq(id))
            .one(&self.conn)
            .await
            .map_err(map_db)?
            .ok_or(RepoError::NotFound)?;
        endpoint_from(m)
    }

    async fn endpoints_by_ids(&self, ids: &[String]) -> Result<Vec<EndpointRecord>, RepoError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        endpoints::Entity::find()
            .filter(endpoints::Column::Id.is_in(ids.iter().cloned()))
            .all(&self.conn)
            .await
            .map_err(map_db)?
            .into_iter()
            .map(endpoint_from)
            .collect()
    }

    async fn list_endpoints(
        &self,
        tenant: &Tenant,
        page: PageRequest,
    ) -> Result<Page<EndpointRecord>, RepoError> {
        let q = endpoints::Entity::find().filter(endpoint_tenant(tenant));
        let (rows, total) = fetch_page(
            q.order_by_desc(endpoints::Column::CreatedAt)
                .order_by_desc(endpoints::Column::Id),
            &self.conn,
            page,
        )
        .await?;
        Ok(Page {
            items: rows
                .into_iter()
                .map(endpoint_from)
                .collect::<Result<_, _>>()?,
            total,
            request: page,
        })
    }

    async fn enabled_endpoints(&self, tenant: &Tenant) -> Result<Vec<EndpointRecord>, RepoError> {
        endpoints::Entity::find()
            .filter(endpoint_tenant(tenant))
            .filter(endpoints::Column::Enabled.eq(true))
            .order_by_asc(endpoints::Column::Id)
            .all(&self.conn)
            .await
            .map_err(map_db)?
            .into_iter()
            .map(endpoint_from)
            .collect()
    }

    async fn update_endpoint(
        &self,
        e: &EndpointRecord,
        audit: &[AuditDraft],
    ) -> Result<(), RepoError> {
        let txn = self.conn.begin().await.map_err(map_db)?;
        let outcome = async {
            let r = endpoints::Entity::update_many()
                .col_expr(endpoints::Column::Url, Expr::value(e.url.clone()))
                .col_expr(endpoints::Column::Label, Expr::value(e.label.clone()))
                .col_expr(
                    endpoints::Column::Description,
                    Expr::value(e.description.clone()),
                )
                .col_expr(endpoints::Column::Enabled, Expr::value(e.enabled))
                .col_expr(
                    endpoints::Column::EnabledEvents,
                    Expr::value(list_text(&e.enabled_events)),
                )
                .col_expr(
                    endpoints::Column::AttributeBlocklist,
                    Expr::value(list_text(&e.attribute_blocklist)),
                )
                .col_expr(
                    endpoints::Column::EventFilterConditions,
                    Expr::value(Value::Object(e.event_filter_conditions.clone()).to_string()),
                )
                .col_expr(
                    endpoints::Column::ApiVersion,
                    Expr::value(e.api_version.clone()),
                )
                .col_expr(
                    endpoints::Column::KeyInflection,
                    Expr::value(e.key_inflection.as_str()),
                )
                .col_expr(
                    endpoints::Column::SecretEncrypted,
                    Expr::value(e.secret_encrypted.clone()),
                )
                // The streak is the store's own; only re-enabling a disabled endpoint ends it. The
                // fence guarantees `enabled` is still what the caller read.
                .col_expr(
                    endpoints::Column::ConsecutiveFailures,
                    Expr::case(
                        Expr::col(endpoints::Column::Enabled)
                            .eq(false)
                            .and(Expr::value(e.enabled).eq(true)),
                        0,
                    )
                    .finally(Expr::col(endpoints::Column::ConsecutiveFailures))
                    .into(),
                )
                .col_expr(endpoints::Column::DisabledAt, Expr::value(e.disabled_at))
                .col_expr(endpoints::Column::UpdatedAt, Expr::value(e.updated_at))
                .col_expr(
                    endpoints::Column::Revision,
                    Expr::value(e.revision.saturating_add(1)),
                )
                .filter(endpoint_tenant(&e.tenant))
                .filter(endpoints::Column::Id.eq(e.id.clone()))
                .filter(endpoints::Column::Revision.eq(e.revision))
                .exec(&txn)
                .await
                .map_err(map_db)?;
            fenced(r.rows_affected, async {
                Ok(endpoints::Entity::find()
                    .filter(endpoint_tenant(&e.tenant))
                    .filter(endpoints::Column::Id.eq(e.id.clone()))
                    .one(&txn)
                    .await
                    .map_err(map_db)?
                    .is_some())
            })
            .await?;
            audit::append(&txn, audit).await
        }
        .await;
        settle(txn, outcome).await
    }

    async fn delete_endpoint(
        &self,
        tenant: &Tenant,
        id: &str,
        audit: &[AuditDraft],
    ) -> Result<(), RepoError> {
        let txn = self.conn.begin().await.map_err(map_db)?;
        let r = endpoints::Entity::delete_many()
            .filter(endpoint_tenant(tenant))
            .filter(endpoints::Column::Id.eq(id))
            .exec(&txn)
            .await
            .map_err(map_db)?;
        if r.rows_affected == 0 {
            let _ = txn.rollback().await;
            return Err(RepoError::NotFound);
        }
        deliveries::Entity::delete_many()
            .filter(delivery_tenant(tenant))
            .filter(deliveries::Column::EndpointId.eq(id))
            .exec(&txn)
            .await
            .map_err(map_db)?;
        audit::append(&txn, audit).await?;
        txn.commit().await.map_err(map_db)
    }
}
