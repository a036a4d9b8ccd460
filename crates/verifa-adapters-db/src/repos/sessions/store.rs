//! [`SessionStore`] on sea-orm.

use super::change::{append_events, apply_in};
use super::rows::{result_from, session_active, session_from};
use crate::Database;
use crate::entities::{session_results as results, sessions};
use crate::error::map_db;
use crate::repos::common::{fetch_page, in_tenant, settle};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use verifa_domain::audit::AuditDraft;
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::session::{RetentionStatus, Session, SessionStatus};
use verifa_domain::tenancy::Tenant;
use verifa_ports::RepoError;
use verifa_ports::sessions::{
    NewEvent, ResultRecord, RetentionPass, SessionChange, SessionFilter, SessionStore,
};

#[async_trait]
impl SessionStore for Database {
    async fn insert(
        &self,
        session: &Session,
        new_events: &[NewEvent],
        audit: &[AuditDraft],
    ) -> Result<(), RepoError> {
        let txn = self.conn.begin().await.map_err(map_db)?;
        let outcome = async {
            session_active(session)?
                .insert(&txn)
                .await
                .map_err(map_db)?;
            append_events(&txn, session, new_events).await?;
            crate::repos::audit::append(&txn, audit).await
        }
        .await;
        settle(txn, outcome).await
    }

    async fn get(&self, tenant: &Tenant, id: &str) -> Result<Session, RepoError> {
        let m = sessions::Entity::find()
            .filter(in_tenant(
                sessions::Column::OrgId,
                sessions::Column::Environment,
                tenant,
            ))
            .filter(sessions::Column::Id.eq(id))
            .one(&self.conn)
            .await
            .map_err(map_db)?
            .ok_or(RepoError::NotFound)?;
        session_from(m)
    }

    async fn list(
        &self,
        tenant: &Tenant,
        filter: &SessionFilter,
        page: PageRequest,
    ) -> Result<Page<Session>, RepoError> {
        let mut q = sessions::Entity::find().filter(in_tenant(
            sessions::Column::OrgId,
            sessions::Column::Environment,
            tenant,
        ));
        if let Some(status) = filter.status {
            q = q.filter(sessions::Column::Status.eq(status.as_str()));
        }
        if let Some(r) = &filter.external_ref {
            q = q.filter(sessions::Column::ExternalRef.eq(r.clone()));
        }
        if let Some(term) = &filter.q {
            q = q.filter(
                Condition::any()
                    .add(sessions::Column::Id.eq(term.clone()))
                    .add(sessions::Column::ExternalRef.eq(term.clone())),
            );
        }
        let (rows, total) = fetch_page(
            q.order_by_desc(sessions::Column::CreatedAt)
                .order_by_desc(sessions::Column::Id),
            &self.conn,
            page,
        )
        .await?;
        Ok(Page {
            items: rows
                .into_iter()
                .map(session_from)
                .collect::<Result<_, _>>()?,
            total,
            request: page,
        })
    }

    async fn apply(&self, change: &SessionChange) -> Result<(), RepoError> {
        let txn = self.conn.begin().await.map_err(map_db)?;
        let outcome = apply_in(&txn, change, &self.cipher).await;
        settle(txn, outcome).await
    }

    async fn result(
        &self,
        tenant: &Tenant,
        session_id: &str,
    ) -> Result<Option<ResultRecord>, RepoError> {
        results::Entity::find()
            .filter(in_tenant(
                results::Column::OrgId,
                results::Column::Environment,
                tenant,
            ))
            .filter(results::Column::SessionId.eq(session_id))
            .one(&self.conn)
            .await
            .map_err(map_db)?
            .map(result_from)
            .transpose()
    }

    async fn stale_capture_sessions(
        &self,
        now: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<Session>, RepoError> {
        sessions::Entity::find()
            .filter(sessions::Column::Status.is_in([
                SessionStatus::Pending.as_str(),
                SessionStatus::Capturing.as_str(),
            ]))
            .filter(sessions::Column::TokenExpiresAt.lt(now))
            .order_by_asc(sessions::Column::TokenExpiresAt)
            .limit(limit)
            .all(&self.conn)
            .await
            .map_err(map_db)?
            .into_iter()
            .map(session_from)
            .collect()
    }

    async fn retention_due(
        &self,
        tenant: &Tenant,
        pass: RetentionPass,
        finished_before: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<Session>, RepoError> {
        use sessions::Column as C;
        let finished = Condition::any()
            .add(
                Condition::all()
                    .add(C::Status.eq(SessionStatus::Completed.as_str()))
                    .add(C::CompletedAt.lt(finished_before)),
            )
            .add(
                Condition::all()
                    .add(C::Status.eq(SessionStatus::Expired.as_str()))
                    .add(C::ExpiredAt.lt(finished_before)),
            )
            .add(
                Condition::all()
                    .add(C::Status.eq(SessionStatus::Failed.as_str()))
                    .add(
                        Condition::any()
                            .add(C::CompletedAt.lt(finished_before))
                            .add(
                                Condition::all()
                                    .add(C::CompletedAt.is_null())
                                    .add(C::UpdatedAt.lt(finished_before)),
                            ),
                    ),
            );
        let held = match pass {
            RetentionPass::Sensitive => {
                Condition::all().add(C::RetentionStatus.eq(RetentionStatus::Active.as_str()))
            }
            RetentionPass::Full => Condition::all()
                .add(C::RetentionStatus.is_in([
                    RetentionStatus::Active.as_str(),
                    RetentionStatus::SensitiveRedacted.as_str(),
                ]))
                .add(C::RetentionExpiredAt.is_null()),
        };
        sessions::Entity::find()
            .filter(in_tenant(C::OrgId, C::Environment, tenant))
            .filter(held)
            .filter(finished)
            .order_by_asc(C::UpdatedAt)
            .order_by_asc(C::Id)
            .limit(limit)
            .all(&self.conn)
            .await
            .map_err(map_db)?
            .into_iter()
            .map(session_from)
            .collect()
    }
}
