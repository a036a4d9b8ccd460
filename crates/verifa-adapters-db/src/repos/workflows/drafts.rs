//! [`DraftStore`] on sea-orm.

use super::rows::*;
use crate::Database;
use crate::entities::workflow_drafts as drafts;
use crate::error::map_db;
use crate::repos::common::{fetch_page, in_tenant};
use async_trait::async_trait;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::tenancy::Tenant;
use verifa_domain::workflow::DraftStatus;
use verifa_ports::RepoError;
use verifa_ports::workflows::DraftRecord;
use verifa_ports::workflows::DraftStore;

#[async_trait]
impl DraftStore for Database {
    async fn insert_draft(&self, d: &DraftRecord) -> Result<(), RepoError> {
        draft_active(d).insert(&self.conn).await.map_err(map_db)?;
        Ok(())
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

    async fn update_draft(&self, d: &DraftRecord) -> Result<(), RepoError> {
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
        let r = drafts::Entity::update_many()
            .set(active)
            .filter(in_tenant(
                drafts::Column::OrgId,
                drafts::Column::Environment,
                &d.tenant,
            ))
            .filter(drafts::Column::Id.eq(d.id.clone()))
            .exec(&self.conn)
            .await
            .map_err(map_db)?;
        if r.rows_affected == 0 {
            Err(RepoError::NotFound)
        } else {
            Ok(())
        }
    }
}
