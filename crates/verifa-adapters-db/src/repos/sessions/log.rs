//! [`SessionEventLog`] on sea-orm.

use crate::Database;
use crate::entities::session_events as events;
use crate::error::corrupt;
use crate::repos::common::{fetch_page, in_tenant};
use async_trait::async_trait;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::tenancy::Tenant;
use verifa_ports::RepoError;
use verifa_ports::sessions::{EventRecord, SessionEventLog};

#[async_trait]
impl SessionEventLog for Database {
    async fn events(
        &self,
        tenant: &Tenant,
        session_id: &str,
        page: PageRequest,
    ) -> Result<Page<EventRecord>, RepoError> {
        let q = events::Entity::find()
            .filter(in_tenant(
                events::Column::OrgId,
                events::Column::Environment,
                tenant,
            ))
            .filter(events::Column::SessionId.eq(session_id));
        let (rows, total) =
            fetch_page(q.order_by_asc(events::Column::Seq), &self.conn, page).await?;
        let items = rows
            .into_iter()
            .map(|m| {
                Ok(EventRecord {
                    data: serde_json::from_str(&m.data)
                        .map_err(|e| corrupt("session_events.data", e))?,
                    seq: m.seq,
                    id: m.id,
                    session_id: m.session_id,
                    event_type: m.event_type,
                    created_at: m.created_at,
                })
            })
            .collect::<Result<_, RepoError>>()?;
        Ok(Page {
            items,
            total,
            request: page,
        })
    }
}
