//! [`WebhookStore`] on sea-orm.

use crate::Database;
use crate::entities::{
    session_events, webhook_deliveries as deliveries, webhook_endpoints as endpoints,
    webhook_fanout_cursor as cursor,
};
use crate::error::{corrupt, is_unique_violation, map_db};
use crate::repos::common::{fetch_page, settle, tenant_of};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseTransaction, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, Statement, TransactionTrait,
};
use serde_json::{Map, Value};
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::tenancy::Tenant;
use verifa_ports::RepoError;
use verifa_ports::webhook_store::{
    AttemptNext, AttemptRecord, DeliveryFilter, DeliveryRecord, DeliveryStatus, EndpointRecord,
    FinishOutcome, OutboxEvent, WebhookStore,
};

/// Name of the one cursor row (the `session_events` outbox).
const CURSOR_NAME: &str = "session_events";

fn list_text(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

fn to_u32(v: i32) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

fn endpoint_active(e: &EndpointRecord) -> endpoints::ActiveModel {
    endpoints::ActiveModel {
        id: Set(e.id.clone()),
        org_id: Set(e.tenant.org_id.clone()),
        environment: Set(e.tenant.environment.as_str().to_owned()),
        url: Set(e.url.clone()),
        label: Set(e.label.clone()),
        description: Set(e.description.clone()),
        enabled: Set(e.enabled),
        enabled_events: Set(list_text(&e.enabled_events)),
        attribute_blocklist: Set(list_text(&e.attribute_blocklist)),
        event_filter_conditions: Set(Value::Object(e.event_filter_conditions.clone()).to_string()),
        api_version: Set(e.api_version.clone()),
        key_inflection: Set(e.key_inflection.clone()),
        secret_encrypted: Set(e.secret_encrypted.clone()),
        consecutive_failures: Set(i32::try_from(e.consecutive_failures).unwrap_or(i32::MAX)),
        disabled_at: Set(e.disabled_at),
        created_at: Set(e.created_at),
        updated_at: Set(e.updated_at),
    }
}

fn endpoint_from(m: endpoints::Model) -> Result<EndpointRecord, RepoError> {
    let conditions: Map<String, Value> = serde_json::from_str(&m.event_filter_conditions)
        .map_err(|e| corrupt("webhook_endpoints.event_filter_conditions", e))?;
    Ok(EndpointRecord {
        tenant: tenant_of(m.org_id, &m.environment)?,
        enabled_events: serde_json::from_str(&m.enabled_events)
            .map_err(|e| corrupt("webhook_endpoints.enabled_events", e))?,
        attribute_blocklist: serde_json::from_str(&m.attribute_blocklist)
            .map_err(|e| corrupt("webhook_endpoints.attribute_blocklist", e))?,
        event_filter_conditions: conditions,
        id: m.id,
        url: m.url,
        label: m.label,
        description: m.description,
        enabled: m.enabled,
        api_version: m.api_version,
        key_inflection: m.key_inflection,
        secret_encrypted: m.secret_encrypted,
        consecutive_failures: to_u32(m.consecutive_failures),
        disabled_at: m.disabled_at,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn delivery_active(d: &DeliveryRecord) -> deliveries::ActiveModel {
    deliveries::ActiveModel {
        id: Set(d.id.clone()),
        endpoint_id: Set(d.endpoint_id.clone()),
        org_id: Set(d.tenant.org_id.clone()),
        environment: Set(d.tenant.environment.as_str().to_owned()),
        event_id: Set(d.event_id.clone()),
        event_seq: Set(d.event_seq),
        session_id: Set(d.session_id.clone()),
        event_type: Set(d.event_type.clone()),
        idempotency_key: Set(d.idempotency_key.clone()),
        body: Set(d.body.clone()),
        status: Set(d.status.as_str().to_owned()),
        attempts: Set(i32::try_from(d.attempts).unwrap_or(i32::MAX)),
        next_attempt_at: Set(d.next_attempt_at),
        lease_owner: Set(d.lease_owner.clone()),
        lease_until: Set(d.lease_until),
        last_attempt_at: Set(d.last_attempt_at),
        last_status_code: Set(d.last_status_code.map(i32::from)),
        last_error: Set(d.last_error.clone()),
        last_duration_ms: Set(d
            .last_duration_ms
            .map(|v| i64::try_from(v).unwrap_or(i64::MAX))),
        is_test: Set(d.is_test),
        created_at: Set(d.created_at),
        updated_at: Set(d.updated_at),
        completed_at: Set(d.completed_at),
    }
}

fn delivery_from(m: deliveries::Model) -> Result<DeliveryRecord, RepoError> {
    Ok(DeliveryRecord {
        tenant: tenant_of(m.org_id, &m.environment)?,
        status: DeliveryStatus::parse(&m.status)
            .ok_or_else(|| corrupt("webhook_deliveries.status", &m.status))?,
        id: m.id,
        endpoint_id: m.endpoint_id,
        event_id: m.event_id,
        event_seq: m.event_seq,
        session_id: m.session_id,
        event_type: m.event_type,
        idempotency_key: m.idempotency_key,
        body: m.body,
        attempts: to_u32(m.attempts),
        next_attempt_at: m.next_attempt_at,
        lease_owner: m.lease_owner,
        lease_until: m.lease_until,
        last_attempt_at: m.last_attempt_at,
        last_status_code: m.last_status_code.and_then(|c| u16::try_from(c).ok()),
        last_error: m.last_error,
        last_duration_ms: m.last_duration_ms.and_then(|v| u64::try_from(v).ok()),
        is_test: m.is_test,
        created_at: m.created_at,
        updated_at: m.updated_at,
        completed_at: m.completed_at,
    })
}

fn endpoint_tenant(tenant: &Tenant) -> Condition {
    Condition::all()
        .add(endpoints::Column::OrgId.eq(tenant.org_id.clone()))
        .add(endpoints::Column::Environment.eq(tenant.environment.as_str()))
}

fn delivery_tenant(tenant: &Tenant) -> Condition {
    Condition::all()
        .add(deliveries::Column::OrgId.eq(tenant.org_id.clone()))
        .add(deliveries::Column::Environment.eq(tenant.environment.as_str()))
}

/// The ids of the deliveries `claim_due` may take at `now` (placeholder `now`), oldest due
/// first, at most `limit` (placeholder `limit`): claimable, of an enabled endpoint, and not
/// behind an open earlier event of the same session for the same endpoint.
fn due_subquery(now: &str, limit: &str) -> String {
    format!(
        "SELECT d.id FROM webhook_deliveries d \
         WHERE ((d.status = 'pending' AND d.next_attempt_at <= {now}) \
                OR (d.status = 'delivering' AND d.lease_until < {now})) \
           AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = d.endpoint_id AND e.enabled) \
           AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p \
                WHERE p.endpoint_id = d.endpoint_id AND p.session_id = d.session_id \
                  AND p.event_seq < d.event_seq AND p.status IN ('pending', 'delivering')) \
         ORDER BY d.next_attempt_at, d.id LIMIT {limit}"
    )
}

/// Writes one attempt if its lease still holds; returns whether it did.
async fn record_attempt(txn: &DatabaseTransaction, a: &AttemptRecord) -> Result<bool, RepoError> {
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
async fn reset_failure_streaks(
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
async fn count_final_failure(
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
        .filter(endpoints::Column::Id.eq(a.endpoint_id.clone()))
        .filter(endpoints::Column::Enabled.eq(true))
        .filter(endpoints::Column::ConsecutiveFailures.gte(threshold))
        .exec(txn)
        .await
        .map_err(map_db)?;
    Ok(tripped.rows_affected == 1)
}

#[async_trait]
impl WebhookStore for Database {
    async fn insert_endpoint(&self, endpoint: &EndpointRecord) -> Result<(), RepoError> {
        endpoint_active(endpoint)
            .insert(&self.conn)
            .await
            .map_err(map_db)?;
        Ok(())
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

    async fn update_endpoint(&self, e: &EndpointRecord) -> Result<(), RepoError> {
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
                Expr::value(e.key_inflection.clone()),
            )
            .col_expr(
                endpoints::Column::SecretEncrypted,
                Expr::value(e.secret_encrypted.clone()),
            )
            .col_expr(
                endpoints::Column::ConsecutiveFailures,
                Expr::value(i32::try_from(e.consecutive_failures).unwrap_or(i32::MAX)),
            )
            .col_expr(endpoints::Column::DisabledAt, Expr::value(e.disabled_at))
            .col_expr(endpoints::Column::UpdatedAt, Expr::value(e.updated_at))
            .filter(endpoint_tenant(&e.tenant))
            .filter(endpoints::Column::Id.eq(e.id.clone()))
            .exec(&self.conn)
            .await
            .map_err(map_db)?;
        if r.rows_affected == 0 {
            Err(RepoError::NotFound)
        } else {
            Ok(())
        }
    }

    async fn delete_endpoint(&self, tenant: &Tenant, id: &str) -> Result<(), RepoError> {
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
        txn.commit().await.map_err(map_db)
    }

    async fn fan_out_cursor(&self) -> Result<i64, RepoError> {
        Ok(cursor::Entity::find_by_id(CURSOR_NAME.to_owned())
            .one(&self.conn)
            .await
            .map_err(map_db)?
            .map(|c| c.last_seq)
            .unwrap_or(0))
    }

    async fn outbox_after(&self, after: i64, limit: u64) -> Result<Vec<OutboxEvent>, RepoError> {
        session_events::Entity::find()
            .filter(session_events::Column::Seq.gt(after))
            .order_by_asc(session_events::Column::Seq)
            .limit(limit)
            .all(&self.conn)
            .await
            .map_err(map_db)?
            .into_iter()
            .map(|m| {
                Ok(OutboxEvent {
                    tenant: tenant_of(m.org_id, &m.environment)?,
                    seq: m.seq,
                    id: m.id,
                    session_id: m.session_id,
                    event_type: m.event_type,
                    data: m.data,
                    created_at: m.created_at,
                })
            })
            .collect()
    }

    async fn commit_fan_out(
        &self,
        from_seq: i64,
        to_seq: i64,
        batch: &[DeliveryRecord],
        now: DateTime<Utc>,
    ) -> Result<bool, RepoError> {
        if from_seq == 0 {
            // Create the cursor row outside the transaction (a concurrent creator wins; fine).
            let row = cursor::ActiveModel {
                name: Set(CURSOR_NAME.to_owned()),
                last_seq: Set(0),
                updated_at: Set(now),
            };
            match row.insert(&self.conn).await {
                Ok(_) => {}
                Err(e) if is_unique_violation(&e) => {}
                Err(e) => return Err(map_db(e)),
            }
        }
        // The compare-and-set is the transaction's first statement: on SQLite it takes the write
        // lock (waiting on a busy database) instead of failing a read snapshot that went stale.
        let txn = self.conn.begin().await.map_err(map_db)?;
        let r = cursor::Entity::update_many()
            .col_expr(cursor::Column::LastSeq, Expr::value(to_seq))
            .col_expr(cursor::Column::UpdatedAt, Expr::value(now))
            .filter(cursor::Column::Name.eq(CURSOR_NAME))
            .filter(cursor::Column::LastSeq.eq(from_seq))
            .exec(&txn)
            .await
            .map_err(map_db)?;
        let moved = r.rows_affected == 1;
        if !moved {
            let _ = txn.rollback().await;
            return Ok(false);
        }
        for chunk in batch.chunks(100) {
            deliveries::Entity::insert_many(chunk.iter().map(delivery_active))
                .exec(&txn)
                .await
                .map_err(map_db)?;
        }
        txn.commit().await.map_err(map_db)?;
        Ok(true)
    }

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
                        count_final_failure(&txn, a, breaker_threshold).await?
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
    ) -> Result<DeliveryRecord, RepoError> {
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
            .exec(&self.conn)
            .await
            .map_err(map_db)?;
        let current = self.get_delivery(tenant, id).await?;
        if r.rows_affected == 0 {
            return Err(RepoError::Conflict(format!(
                "delivery is {}",
                current.status.as_str()
            )));
        }
        Ok(current)
    }
}
