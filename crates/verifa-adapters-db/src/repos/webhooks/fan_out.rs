//! [`OutboxFanOut`] on sea-orm: the cursor row moves with a compare-and-set in the transaction
//! that inserts the batch's deliveries.

use super::rows::*;
use crate::Database;
use crate::entities::{
    session_events, webhook_deliveries as deliveries, webhook_fanout_cursor as cursor,
};
use crate::error::{is_unique_violation, map_db};
use crate::repos::common::tenant_of;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};
use verifa_ports::RepoError;
use verifa_ports::webhook_store::{DeliveryRecord, OutboxEvent, OutboxFanOut};

#[async_trait]
impl OutboxFanOut for Database {
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
}
