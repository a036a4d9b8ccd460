//! [`IdempotencyStore`] on sea-orm. The primary key (org, environment, key) makes concurrent
//! first requests race on one INSERT: exactly one wins, the others read the winner's row.

use crate::Database;
use crate::entities::idempotency_keys as idem;
use crate::error::{corrupt, is_unique_violation, map_db};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use verifa_domain::tenancy::Tenant;
use verifa_ports::RepoError;
use verifa_ports::idempotency::{Claim, IdempotencyStore, StoredResponse};

const IN_PROGRESS: &str = "in_progress";
const COMPLETED: &str = "completed";
/// Rounds of insert / read / take-over before giving up (only reachable under pathological churn).
const MAX_ROUNDS: usize = 5;

fn pk(tenant: &Tenant, key: &str) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(idem::Column::OrgId.eq(tenant.org_id.clone()))
        .add(idem::Column::Environment.eq(tenant.environment.as_str()))
        .add(idem::Column::IdemKey.eq(key))
}

#[async_trait]
impl IdempotencyStore for Database {
    async fn claim(
        &self,
        tenant: &Tenant,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
        lock_until: DateTime<Utc>,
        expired_before: DateTime<Utc>,
    ) -> Result<Claim, RepoError> {
        for _ in 0..MAX_ROUNDS {
            let fresh = idem::ActiveModel {
                org_id: Set(tenant.org_id.clone()),
                environment: Set(tenant.environment.as_str().to_owned()),
                idem_key: Set(key.to_owned()),
                fingerprint: Set(fingerprint.to_owned()),
                state: Set(IN_PROGRESS.to_owned()),
                response_status: Set(None),
                response_headers: Set(None),
                response_body: Set(None),
                created_at: Set(now),
                locked_until: Set(lock_until),
            };
            match fresh.insert(&self.conn).await {
                Ok(_) => return Ok(Claim::Acquired),
                Err(e) if is_unique_violation(&e) => {}
                Err(e) => return Err(map_db(e)),
            }
            let Some(row) = idem::Entity::find()
                .filter(pk(tenant, key))
                .one(&self.conn)
                .await
                .map_err(map_db)?
            else {
                continue; // released between our insert and read: try again
            };
            let stale = row.created_at < expired_before
                || (row.state == IN_PROGRESS && row.locked_until < now);
            if stale {
                // Take over only if nobody else did first (compare-and-set on the old values).
                let taken = idem::Entity::update_many()
                    .col_expr(idem::Column::Fingerprint, Expr::value(fingerprint))
                    .col_expr(idem::Column::State, Expr::value(IN_PROGRESS))
                    .col_expr(
                        idem::Column::ResponseStatus,
                        Expr::value(Option::<i32>::None),
                    )
                    .col_expr(
                        idem::Column::ResponseHeaders,
                        Expr::value(Option::<String>::None),
                    )
                    .col_expr(
                        idem::Column::ResponseBody,
                        Expr::value(Option::<Vec<u8>>::None),
                    )
                    .col_expr(idem::Column::CreatedAt, Expr::value(now))
                    .col_expr(idem::Column::LockedUntil, Expr::value(lock_until))
                    .filter(pk(tenant, key))
                    .filter(idem::Column::CreatedAt.eq(row.created_at))
                    .filter(idem::Column::State.eq(row.state.clone()))
                    .filter(idem::Column::LockedUntil.eq(row.locked_until))
                    .exec(&self.conn)
                    .await
                    .map_err(map_db)?;
                if taken.rows_affected == 1 {
                    return Ok(Claim::Acquired);
                }
                continue;
            }
            if row.state == COMPLETED {
                let headers: Vec<(String, String)> = match row.response_headers.as_deref() {
                    Some(raw) => serde_json::from_str(raw)
                        .map_err(|e| corrupt("idempotency_keys.response_headers", e))?,
                    None => Vec::new(),
                };
                let status = row
                    .response_status
                    .and_then(|s| u16::try_from(s).ok())
                    .ok_or_else(|| corrupt("idempotency_keys.response_status", "missing"))?;
                return Ok(Claim::Completed {
                    fingerprint: row.fingerprint,
                    response: StoredResponse {
                        status,
                        headers,
                        body: row.response_body.unwrap_or_default(),
                    },
                });
            }
            return Ok(Claim::InProgress {
                fingerprint: row.fingerprint,
            });
        }
        Err(RepoError::Unavailable(
            "idempotency key kept changing under concurrent requests".into(),
        ))
    }

    async fn complete(
        &self,
        tenant: &Tenant,
        key: &str,
        response: &StoredResponse,
    ) -> Result<(), RepoError> {
        let headers =
            serde_json::to_string(&response.headers).map_err(|e| corrupt("response headers", e))?;
        idem::Entity::update_many()
            .col_expr(idem::Column::State, Expr::value(COMPLETED))
            .col_expr(
                idem::Column::ResponseStatus,
                Expr::value(i32::from(response.status)),
            )
            .col_expr(idem::Column::ResponseHeaders, Expr::value(headers))
            .col_expr(
                idem::Column::ResponseBody,
                Expr::value(response.body.clone()),
            )
            .filter(pk(tenant, key))
            .exec(&self.conn)
            .await
            .map_err(map_db)?;
        Ok(())
    }

    async fn release(&self, tenant: &Tenant, key: &str) -> Result<(), RepoError> {
        idem::Entity::delete_many()
            .filter(pk(tenant, key))
            .filter(idem::Column::State.eq(IN_PROGRESS))
            .exec(&self.conn)
            .await
            .map_err(map_db)?;
        Ok(())
    }

    async fn sweep(&self, before: DateTime<Utc>) -> Result<u64, RepoError> {
        let r = idem::Entity::delete_many()
            .filter(idem::Column::CreatedAt.lt(before))
            .exec(&self.conn)
            .await
            .map_err(map_db)?;
        Ok(r.rows_affected)
    }
}
