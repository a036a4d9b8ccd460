//! [`DeliveryStore`] on sea-orm: claims under leases (`FOR UPDATE SKIP LOCKED` on Postgres) and
//! attempts recorded in one transaction per batch, fenced on the lease.

use super::rows::*;
use crate::Database;
use crate::entities::{webhook_deliveries as deliveries, webhook_endpoints as endpoints};
use crate::error::map_db;
use crate::repos::audit;
use crate::repos::common::{fetch_page, settle};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement, TransactionTrait,
};
use verifa_domain::audit::AuditDraft;
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::tenancy::Tenant;
use verifa_ports::RepoError;
use verifa_ports::webhook_store::{
    AttemptNext, AttemptRecord, DeliveryFilter, DeliveryRecord, DeliveryStatus, DeliveryStore,
    FinishOutcome,
};

/// Writes one attempt if its lease still holds; returns whether it did.
pub(super) async fn record_attempt(
    txn: &DatabaseTransaction,
    a: &AttemptRecord,
) -> Result<bool, RepoError> {
    let (status, next_at, completed) = match a.next {
        AttemptNext::Succeeded => (DeliveryStatus::Succeeded, None, Some(a.attempted_at)),
        AttemptNext::RetryAt(t) => (DeliveryStatus::Pending, Some(t), None),
        AttemptNext::Failed => (DeliveryStatus::Failed, None, Some(a.attempted_at)),
    };
    let r = deliveries::Entity::update_many()
        .col_expr(deliveries::Column::Status, Expr::value(status.as_str()))
        .col_expr(
            deliveries::Column::Attempts,
            Expr::col(deliveries::Column::Attempts).add(1),
        )
        .col_expr(deliveries::Column::NextAttemptAt, Expr::value(next_at))
        .col_expr(
            deliveries::Column::LeaseOwner,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            deliveries::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            deliveries::Column::LastAttemptAt,
            Expr::value(a.attempted_at),
        )
        .col_expr(
            deliveries::Column::LastStatusCode,
            Expr::value(a.status_code.map(i32::from)),
        )
        .col_expr(deliveries::Column::LastError, Expr::value(a.error.clone()))
        .col_expr(
            deliveries::Column::LastDurationMs,
            Expr::value(i64::try_from(a.duration_ms).unwrap_or(i64::MAX)),
        )
        .col_expr(deliveries::Column::CompletedAt, Expr::value(completed))
        .col_expr(deliveries::Column::UpdatedAt, Expr::value(a.attempted_at))
        .filter(deliveries::Column::Id.eq(a.delivery_id.clone()))
        .filter(deliveries::Column::Status.eq(DeliveryStatus::Delivering.as_str()))
        .filter(deliveries::Column::LeaseOwner.eq(a.lease_owner.clone()))
        .exec(txn)
        .await
        .map_err(map_db)?;
    Ok(r.rows_affected == 1)
}

/// Ends the failure streaks of these endpoints.
pub(super) async fn reset_failure_streaks(
    txn: &DatabaseTransaction,
    endpoint_ids: &[String],
) -> Result<(), RepoError> {
    if endpoint_ids.is_empty() {
        return Ok(());
    }
    // Only a streak needs resetting: rewriting the row on every success would make all
    // dispatchers of a busy endpoint contend for it.
    endpoints::Entity::update_many()
        .col_expr(endpoints::Column::ConsecutiveFailures, Expr::value(0))
        .filter(endpoints::Column::Id.is_in(endpoint_ids.iter().cloned()))
        .filter(endpoints::Column::ConsecutiveFailures.ne(0))
        .exec(txn)
        .await
        .map_err(map_db)?;
    Ok(())
}

/// Counts a delivery that failed for good; returns whether this disabled the endpoint.
pub(super) async fn count_final_failure(
    txn: &DatabaseTransaction,
    a: &AttemptRecord,
    breaker_threshold: u32,
) -> Result<bool, RepoError> {
    endpoints::Entity::update_many()
        .col_expr(
            endpoints::Column::ConsecutiveFailures,
            Expr::col(endpoints::Column::ConsecutiveFailures).add(1),
        )
        .filter(endpoints::Column::Id.eq(a.endpoint_id.clone()))
        .exec(txn)
        .await
        .map_err(map_db)?;
    let threshold = i32::try_from(breaker_threshold).unwrap_or(i32::MAX);
    let tripped = endpoints::Entity::update_many()
        .col_expr(endpoints::Column::Enabled, Expr::value(false))
        .col_expr(endpoints::Column::DisabledAt, Expr::value(a.attempted_at))
        .col_expr(endpoints::Column::UpdatedAt, Expr::value(a.attempted_at))
        // Disabling is a change a concurrent update must not overwrite.
        .col_expr(
            endpoints::Column::Revision,
            Expr::col(endpoints::Column::Revision).add(1),
        )
        .filter(endpoints::Column::Id.eq(a.endpoint_id.clone()))
        .filter(endpoints::Column::Enabled.eq(true))
        .filter(endpoints::Column::ConsecutiveFailures.gte(threshold))
        .exec(txn)
        .await
        .map_err(map_db)?;
    Ok(tripped.rows_affected == 1)
}

#[async_trait]
impl DeliveryStore for Database {
    async fn insert_delivery(&self, delivery: &DeliveryRecord) -> Result<(), RepoError> {
        delivery_active(delivery)
            .insert(&self.conn)
            .await
            .map_err(map_db)?;
        Ok(())
    }

    async fn get_delivery(&self, tenant: &Tenant, id: &str) -> Result<DeliveryRecord, RepoError> {
        let m = deliveries::Entity::find()
            .filter(delivery_tenant(tenant))
            .filter(deliveries::Column::Id.eq(id))
            .one(&self.conn)
            .await
            .map_err(map_db)?
            .ok_or(RepoError::NotFound)?;
        delivery_from(m)
    }

    async fn deliveries_for_session(
        &self,
        tenant: &Tenant,
        session_id: &str,
        limit: u64,
    ) -> Result<Vec<DeliveryRecord>, RepoError> {
        deliveries::Entity::find()
            .filter(delivery_tenant(tenant))
            .filter(deliveries::Column::SessionId.eq(session_id))
            .order_by_asc(deliveries::Column::CreatedAt)
            .order_by_asc(deliveries::Column::Id)
            .limit(limit)
            .all(&self.conn)
            .await
            .map_err(map_db)?
            .into_iter()
            .map(delivery_from)
            .collect()
    }

    async fn list_deliveries(
        &self,
        tenant: &Tenant,
        endpoint_id: &str,
        filter: &DeliveryFilter,
        page: PageRequest,
    ) -> Result<Page<DeliveryRecord>, RepoError> {
        let mut q = deliveries::Entity::find()
            .filter(delivery_tenant(tenant))
            .filter(deliveries::Column::EndpointId.eq(endpoint_id));
        if let Some(from) = filter.date_from {
            q = q.filter(deliveries::Column::CreatedAt.gte(from));
        }
        if let Some(to) = filter.date_to {
            q = q.filter(deliveries::Column::CreatedAt.lt(to));
        }
        if let Some(t) = &filter.event_type {
            q = q.filter(deliveries::Column::EventType.eq(t.clone()));
        }
        if let Some(s) = filter.status {
            q = q.filter(deliveries::Column::Status.eq(s.as_str()));
        }
        let (rows, total) = fetch_page(
            q.order_by_desc(deliveries::Column::CreatedAt)
                .order_by_desc(deliveries::Column::Id),
            &self.conn,
            page,
        )
        .await?;
        Ok(Page {
            items: rows
                .into_iter()
                .map(delivery_from)
                .collect::<Result<_, _>>()?,
            total,
            request: page,
        })
    }

    async fn claim_due(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<DeliveryRecord>, RepoError> {
        let backend = self.conn.get_database_backend();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // One statement picks and leases the batch. On Postgres SKIP LOCKED lets dispatchers
        // claim disjoint batches concurrently (ANY(ARRAY(...)) runs the locking subquery once);
        // SQLite serialises writers, which has the same effect.
        let statement = match backend {
            DbBackend::Postgres => Statement::from_sql_and_values(
                backend,
                format!(
                    "UPDATE webhook_deliveries SET status = 'delivering', lease_owner = $1, \
                     lease_until = $2, updated_at = $3 WHERE id = ANY(ARRAY({} FOR UPDATE OF d SKIP LOCKED)) \
                     RETURNING *",
                    due_subquery("$3", "$4")
                ),
                [owner.into(), lease_until.into(), now.into(), limit.into()],
            ),
            _ => Statement::from_sql_and_values(
                backend,
                format!(
                    "UPDATE webhook_deliveries SET status = 'delivering', lease_owner = ?1, \
                     lease_until = ?2, updated_at = ?3 WHERE id IN ({}) RETURNING *",
                    due_subquery("?3", "?4")
                ),
                [owner.into(), lease_until.into(), now.into(), limit.into()],
            ),
        };
        let mut claimed = deliveries::Entity::find()
            .from_raw_sql(statement)
            .all(&self.conn)
            .await
            .map_err(map_db)?
            .into_iter()
            .map(delivery_from)
            .collect::<Result<Vec<_>, _>>()?;
        // RETURNING has no order.
        claimed.sort_by(|a, b| (a.next_attempt_at, &a.id).cmp(&(b.next_attempt_at, &b.id)));
        Ok(claimed)
    }

    async fn finish_attempts(
        &self,
        attempts: &[AttemptRecord],
        breaker_threshold: u32,
    ) -> Result<Vec<FinishOutcome>, RepoError> {
        if attempts.is_empty() {
            return Ok(Vec::new());
        }
        let txn = self.conn.begin().await.map_err(map_db)?;
        let outcome = async {
            let mut outcomes = Vec::with_capacity(attempts.len());
            // Successes only reset a failure streak; they are applied in one statement, but
            // before any later final failure of the same endpoint so the streak stays ordered.
            let mut resets: Vec<String> = Vec::new();
            for a in attempts {
                if !record_attempt(&txn, a).await? {
                    outcomes.push(FinishOutcome {
                        recorded: false,
                        endpoint_disabled: false,
                    });
                    continue;
                }
                let endpoint_disabled = match a.next {
                    AttemptNext::RetryAt(_) => false,
                    AttemptNext::Succeeded => {
                        if !resets.contains(&a.endpoint_id) {
                            resets.push(a.endpoint_id.clone());
                        }
                        false
                    }
                    AttemptNext::Failed => {
                        if let Some(i) = resets.iter().position(|e| e == &a.endpoint_id) {
                            reset_failure_streaks(&txn, &[resets.swap_remove(i)]).await?;
                        }
                        let disabled = count_final_failure(&txn, a, breaker_threshold).await?;
                        if disabled && let Some(draft) = &a.audit_if_disabled {
                            audit::append(&txn, std::slice::from_ref(draft)).await?;
                        }
                        disabled
                    }
                };
                outcomes.push(FinishOutcome {
                    recorded: true,
                    endpoint_disabled,
                });
            }
            reset_failure_streaks(&txn, &resets).await?;
            Ok(outcomes)
        }
        .await;
        settle(txn, outcome).await
    }

    async fn requeue_failed(
        &self,
        tenant: &Tenant,
        id: &str,
        now: DateTime<Utc>,
        audit: &[AuditDraft],
    ) -> Result<DeliveryRecord, RepoError> {
        let txn = self.conn.begin().await.map_err(map_db)?;
        let requeued = async {
            let r = deliveries::Entity::update_many()
                .col_expr(
                    deliveries::Column::Status,
                    Expr::value(DeliveryStatus::Pending.as_str()),
                )
                .col_expr(deliveries::Column::Attempts, Expr::value(0))
                .col_expr(deliveries::Column::NextAttemptAt, Expr::value(now))
                .col_expr(
                    deliveries::Column::CompletedAt,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .col_expr(deliveries::Column::UpdatedAt, Expr::value(now))
                .filter(delivery_tenant(tenant))
                .filter(deliveries::Column::Id.eq(id))
                .filter(deliveries::Column::Status.eq(DeliveryStatus::Failed.as_str()))
                .filter(deliveries::Column::IsTest.eq(false))
                .exec(&txn)
                .await
                .map_err(map_db)?;
            if r.rows_affected == 0 {
                return Ok(false);
            }
            audit::append(&txn, audit).await?;
            Ok(true)
        }
        .await;
        let requeued = settle(txn, requeued).await?;
        let current = self.get_delivery(tenant, id).await?;
        if !requeued {
            return Err(RepoError::Conflict(format!(
                "delivery is {}",
                current.status.as_str()
            )));
        }
        Ok(current)
    }
}
