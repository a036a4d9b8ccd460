//! [`WorkflowStore`] on sea-orm: one default per tenant (a partial unique index backs it), and
//! publication as a compare-and-set on the head's version.

use super::rows::*;
use crate::Database;
use crate::entities::{workflow_drafts as drafts, workflow_versions as versions, workflows};
use crate::error::map_db;
use crate::repos::common::{fenced, fetch_page, in_tenant};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use verifa_domain::audit::AuditDraft;
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::tenancy::Tenant;
use verifa_domain::workflow::RolloutEntry;
use verifa_ports::RepoError;
use verifa_ports::workflows::WorkflowStore;
use verifa_ports::workflows::{Publication, VersionRecord, WorkflowRecord};

#[async_trait]
impl WorkflowStore for Database {
    async fn create(
        &self,
        workflow: &WorkflowRecord,
        first_version: &VersionRecord,
        audit: &[AuditDraft],
    ) -> Result<(), RepoError> {
        let txn = self.conn.begin().await.map_err(map_db)?;
        if workflow.is_default {
            clear_default(&txn, &workflow.tenant).await?;
        }
        workflow_active(workflow)
            .insert(&txn)
            .await
            .map_err(map_db)?;
        version_active(first_version)
            .insert(&txn)
            .await
            .map_err(map_db)?;
        crate::repos::audit::append(&txn, audit).await?;
        txn.commit().await.map_err(map_db)
    }

    async fn get(&self, tenant: &Tenant, id: &str) -> Result<WorkflowRecord, RepoError> {
        let m = workflows::Entity::find()
            .filter(in_tenant(
                workflows::Column::OrgId,
                workflows::Column::Environment,
                tenant,
            ))
            .filter(workflows::Column::Id.eq(id))
            .one(&self.conn)
            .await
            .map_err(map_db)?
            .ok_or(RepoError::NotFound)?;
        workflow_from(m)
    }

    async fn get_default(&self, tenant: &Tenant) -> Result<Option<WorkflowRecord>, RepoError> {
        workflows::Entity::find()
            .filter(in_tenant(
                workflows::Column::OrgId,
                workflows::Column::Environment,
                tenant,
            ))
            .filter(workflows::Column::IsDefault.eq(true))
            .one(&self.conn)
            .await
            .map_err(map_db)?
            .map(workflow_from)
            .transpose()
    }

    async fn list(
        &self,
        tenant: &Tenant,
        is_active: Option<bool>,
        page: PageRequest,
    ) -> Result<Page<WorkflowRecord>, RepoError> {
        let mut q = workflows::Entity::find().filter(in_tenant(
            workflows::Column::OrgId,
            workflows::Column::Environment,
            tenant,
        ));
        if let Some(active) = is_active {
            q = q.filter(workflows::Column::IsActive.eq(active));
        }
        let (rows, total) = fetch_page(
            q.order_by_desc(workflows::Column::CreatedAt)
                .order_by_desc(workflows::Column::Id),
            &self.conn,
            page,
        )
        .await?;
        Ok(Page {
            items: rows
                .into_iter()
                .map(workflow_from)
                .collect::<Result<_, _>>()?,
            total,
            request: page,
        })
    }

    async fn update_head(&self, w: &WorkflowRecord, audit: &[AuditDraft]) -> Result<(), RepoError> {
        let txn = self.conn.begin().await.map_err(map_db)?;
        let outcome = async {
            let r = workflows::Entity::update_many()
                .col_expr(workflows::Column::Name, Expr::value(w.name.clone()))
                .col_expr(
                    workflows::Column::Description,
                    Expr::value(w.description.clone()),
                )
                .col_expr(
                    workflows::Column::ScreeningSettings,
                    Expr::value(json_text(&w.screening_settings)),
                )
                .col_expr(
                    workflows::Column::GraphLayout,
                    Expr::value(json_text(&w.graph_layout)),
                )
                .col_expr(workflows::Column::IsActive, Expr::value(w.is_active))
                .col_expr(workflows::Column::UpdatedAt, Expr::value(w.updated_at))
                .col_expr(
                    workflows::Column::Revision,
                    Expr::value(w.revision.saturating_add(1)),
                )
                .filter(head(&w.tenant, &w.id))
                .filter(workflows::Column::Revision.eq(w.revision))
                .exec(&txn)
                .await
                .map_err(map_db)?;
            fenced(r.rows_affected, async {
                Ok(workflows::Entity::find()
                    .filter(head(&w.tenant, &w.id))
                    .one(&txn)
                    .await
                    .map_err(map_db)?
                    .is_some())
            })
            .await?;
            crate::repos::audit::append(&txn, audit).await
        }
        .await;
        crate::repos::common::settle(txn, outcome).await
    }

    async fn publish(
        &self,
        expected_version: i32,
        p: &Publication,
        audit: &[AuditDraft],
    ) -> Result<(), RepoError> {
        let w = &p.workflow;
        let txn = self.conn.begin().await.map_err(map_db)?;
        // Claim the head first: of two concurrent publishers only one sees its expected version.
        let claimed = workflows::Entity::update_many()
            .col_expr(workflows::Column::Version, Expr::value(w.version))
            .col_expr(workflows::Column::Name, Expr::value(w.name.clone()))
            .col_expr(
                workflows::Column::Description,
                Expr::value(w.description.clone()),
            )
            .col_expr(workflows::Column::Format, Expr::value(w.format.as_str()))
            .col_expr(
                workflows::Column::GraphLayout,
                Expr::value(json_text(&w.graph_layout)),
            )
            .col_expr(
                workflows::Column::ScreeningSettings,
                Expr::value(json_text(&w.screening_settings)),
            )
            .col_expr(
                workflows::Column::Rollout,
                Expr::value(rollout_text(&w.rollout)),
            )
            .col_expr(
                workflows::Column::RolloutUpdatedAt,
                Expr::value(w.rollout_updated_at),
            )
            .col_expr(workflows::Column::UpdatedAt, Expr::value(w.updated_at))
            .col_expr(workflows::Column::Revision, bump())
            .filter(in_tenant(
                workflows::Column::OrgId,
                workflows::Column::Environment,
                &w.tenant,
            ))
            .filter(workflows::Column::Id.eq(w.id.clone()))
            .filter(workflows::Column::Version.eq(expected_version))
            .filter(workflows::Column::Revision.eq(w.revision))
            .exec(&txn)
            .await
            .map_err(map_db)?;
        if claimed.rows_affected != 1 {
            let _ = txn.rollback().await;
            return Err(RepoError::Conflict("workflow version changed".into()));
        }
        version_active(&p.version)
            .insert(&txn)
            .await
            .map_err(map_db)?;
        if let Some(draft_id) = &p.draft_id {
            drafts::Entity::update_many()
                .col_expr(drafts::Column::Status, Expr::value("published"))
                .col_expr(drafts::Column::PublishedVersion, Expr::value(w.version))
                .col_expr(drafts::Column::UpdatedAt, Expr::value(w.updated_at))
                .filter(drafts::Column::Id.eq(draft_id.clone()))
                .filter(drafts::Column::Status.eq("open"))
                .exec(&txn)
                .await
                .map_err(map_db)?;
        }
        crate::repos::audit::append(&txn, audit).await?;
        txn.commit().await.map_err(map_db)
    }

    async fn set_default(
        &self,
        tenant: &Tenant,
        id: &str,
        now: DateTime<Utc>,
        audit: &[AuditDraft],
    ) -> Result<(), RepoError> {
        let txn = self.conn.begin().await.map_err(map_db)?;
        clear_default(&txn, tenant).await?;
        let r = workflows::Entity::update_many()
            .col_expr(workflows::Column::IsDefault, Expr::value(true))
            .col_expr(workflows::Column::UpdatedAt, Expr::value(now))
            .col_expr(workflows::Column::Revision, bump())
            .filter(in_tenant(
                workflows::Column::OrgId,
                workflows::Column::Environment,
                tenant,
            ))
            .filter(workflows::Column::Id.eq(id))
            .exec(&txn)
            .await
            .map_err(map_db)?;
        if r.rows_affected == 0 {
            let _ = txn.rollback().await;
            return Err(RepoError::NotFound);
        }
        crate::repos::audit::append(&txn, audit).await?;
        txn.commit().await.map_err(map_db)
    }

    async fn set_rollout(
        &self,
        tenant: &Tenant,
        id: &str,
        entries: &[RolloutEntry],
        now: DateTime<Utc>,
        audit: &[AuditDraft],
    ) -> Result<(), RepoError> {
        let txn = self.conn.begin().await.map_err(map_db)?;
        let outcome = async {
            let r = workflows::Entity::update_many()
                .col_expr(
                    workflows::Column::Rollout,
                    Expr::value(rollout_text(entries)),
                )
                .col_expr(workflows::Column::RolloutUpdatedAt, Expr::value(now))
                .col_expr(workflows::Column::Revision, bump())
                .col_expr(workflows::Column::UpdatedAt, Expr::value(now))
                .filter(in_tenant(
                    workflows::Column::OrgId,
                    workflows::Column::Environment,
                    tenant,
                ))
                .filter(workflows::Column::Id.eq(id))
                .exec(&txn)
                .await
                .map_err(map_db)?;
            if r.rows_affected == 0 {
                return Err(RepoError::NotFound);
            }
            crate::repos::audit::append(&txn, audit).await
        }
        .await;
        crate::repos::common::settle(txn, outcome).await
    }

    async fn versions(
        &self,
        tenant: &Tenant,
        workflow_id: &str,
        page: PageRequest,
    ) -> Result<Page<VersionRecord>, RepoError> {
        let q = versions::Entity::find()
            .filter(in_tenant(
                versions::Column::OrgId,
                versions::Column::Environment,
                tenant,
            ))
            .filter(versions::Column::WorkflowId.eq(workflow_id));
        let (rows, total) =
            fetch_page(q.order_by_desc(versions::Column::Version), &self.conn, page).await?;
        Ok(Page {
            items: rows
                .into_iter()
                .map(version_from)
                .collect::<Result<_, _>>()?,
            total,
            request: page,
        })
    }

    async fn version(
        &self,
        tenant: &Tenant,
        workflow_id: &str,
        version: i32,
    ) -> Result<VersionRecord, RepoError> {
        let m = versions::Entity::find()
            .filter(in_tenant(
                versions::Column::OrgId,
                versions::Column::Environment,
                tenant,
            ))
            .filter(versions::Column::WorkflowId.eq(workflow_id))
            .filter(versions::Column::Version.eq(version))
            .one(&self.conn)
            .await
            .map_err(map_db)?
            .ok_or(RepoError::NotFound)?;
        version_from(m)
    }

    async fn version_numbers(
        &self,
        tenant: &Tenant,
        workflow_id: &str,
    ) -> Result<Vec<i32>, RepoError> {
        versions::Entity::find()
            .select_only()
            .column(versions::Column::Version)
            .filter(in_tenant(
                versions::Column::OrgId,
                versions::Column::Environment,
                tenant,
            ))
            .filter(versions::Column::WorkflowId.eq(workflow_id))
            .into_tuple::<i32>()
            .all(&self.conn)
            .await
            .map_err(map_db)
    }
}

/// `revision + 1`: every write of a head advances it, so a read-modify-write of a head that
/// raced with it is refused.
fn bump() -> sea_orm::sea_query::SimpleExpr {
    Expr::col(workflows::Column::Revision).add(1)
}

/// The condition selecting one head of a tenant.
fn head(tenant: &Tenant, id: &str) -> sea_orm::Condition {
    in_tenant(
        workflows::Column::OrgId,
        workflows::Column::Environment,
        tenant,
    )
    .add(workflows::Column::Id.eq(id))
}
