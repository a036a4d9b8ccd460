//! [`DraftStore`] on sea-orm.

use super::rows::*;
use crate::Database;
use crate::entities::workflow_drafts as drafts;
use crate::error::map_db;
use crate::repos::common::{fenced, fetch_page, in_tenant};
use async_trait::async_trait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use verifa_domain::audit::AuditDraft;
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::tenancy::Tenant;
use verifa_domain::workflow::DraftStatus;
use verifa_ports::RepoError;
use verifa_ports::workflows::DraftRecord;
use verifa_ports::workflows::DraftStore;

#[async_trait]
impl DraftStore for Database {
    async fn insert_draft(&self, d: &DraftRecord, audit: &[AuditDraft]) -> Result<(), RepoError> {
        let txn = self.conn.begin().await.map_err(map_db)?;
        let outcome = async {
            draft_active(d).insert(&txn).await.map_err(map_db)?;
            crate::repos::audit::append(&txn, audit).await
        }
        .await;
        crate::repos::common::settle(txn, outcome).await
    }

    async fn draft(
        &self,
        tenant: &Tenant,
        workflow_id: &str,
        draft_id: &str,
    ) -> Result<DraftRecord, RepoError> {
        let m = drafts::Entity::find()
            .filter(in_tenant(
                drafts::Column::OrgId,
                drafts::Column::Environment,
                tenant,
            ))
            .filter(drafts::Column::WorkflowId.eq(workflow_id))
            .filter(drafts::Column::Id.eq(draft_id))
            .one(&self.conn)
            .await
            .map_err(map_db)?
            .ok_or(RepoError::NotFound)?;
        draft_from(m)
    }

    async fn drafts(
        &self,
        tenant: &Tenant,
        workflow_id: &str,
        status: Option<DraftStatus>,
        page: PageRequest,
    ) -> Result<Page<DraftRecord>, RepoError> {
        let mut q = drafts::Entity::find()
            .filter(in_tenant(
                drafts::Column::OrgId,
                drafts::Column::Environment,
                tenant,
            ))
            .filter(drafts::Column::WorkflowId.eq(workflow_id));
        if let Some(s) = status {
            q = q.filter(drafts::Column::Status.eq(s.as_str()));
        }
        let (rows, total) = fetch_page(
            q.order_by_desc(drafts::Column::CreatedAt)
                .order_by_desc(drafts::Column::Id),
            &self.conn,
            page,
        )
        .await?;
        Ok(Page {
            items: rows.into_iter().map(draft_from).collect::<Result<_, _>>()?,
            total,
            request: page,
        })
    }

    async fn update_draft(&self, d: &DraftRecord, audit: &[AuditDraft]) -> Result<(), RepoError> {
        let txn = self.conn.begin().await.map_err(map_db)?;
        let outcome = async {
            let mut active = draft_active(d);
            for col in [
                drafts::Column::WorkflowId,
                drafts::Column::OrgId,
                drafts::Column::Environment,
                drafts::Column::CreatedAt,
                drafts::Column::BaseVersion,
            ] {
                active.not_set(col);
            }
            active.revision = Set(d.revision.saturating_add(1));
            let scope = || {
                in_tenant(
                    drafts::Column::OrgId,
                    drafts::Column::Environment,
                    &d.tenant,
                )
                .add(drafts::Column::Id.eq(d.id.clone()))
            };
            let r = drafts::Entity::update_many()
                .set(active)
                .filter(scope())
                .filter(drafts::Column::Revision.eq(d.revision))
                .exec(&txn)
                .await
                .map_err(map_db)?;
            fenced(r.rows_affected, async {
                Ok(drafts::Entity::find()
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
        crate::repos::common::settle(txn, outcome).await
    }
}
