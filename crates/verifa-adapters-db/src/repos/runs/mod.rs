//! [`RunStore`] on sea-orm: runs are claimed with a lease in one statement (`FOR UPDATE SKIP
//! LOCKED` on Postgres; SQLite serialises writers) and each step is committed by [`step`],
//! together with the session change it causes.

pub(crate) mod rows;
mod step;

use crate::Database;
use crate::entities::{workflow_node_executions as execs, workflow_runs as runs};
use crate::error::map_db;
use crate::repos::common::{in_tenant, settle};
use crate::repos::sessions::change::apply_in;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rows::{execution_from, run_from};
use sea_orm::{
    ColumnTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, Statement, TransactionTrait,
};
use verifa_domain::run::WorkflowRun;
use verifa_domain::tenancy::Tenant;
use verifa_ports::RepoError;
use verifa_ports::runs::{NewAttempt, NodeExecution, RunStore};
use verifa_ports::sessions::SessionChange;

#[async_trait]
impl RunStore for Database {
    async fn run_for_session(
        &self,
        tenant: &Tenant,
        session_id: &str,
    ) -> Result<Option<WorkflowRun>, RepoError> {
        runs::Entity::find()
            .filter(in_tenant(
                runs::Column::OrgId,
                runs::Column::Environment,
                tenant,
            ))
            .filter(runs::Column::SessionId.eq(session_id))
            .order_by_desc(runs::Column::CreatedAt)
            .one(&self.conn)
            .await
            .map_err(map_db)?
            .map(|m| run_from(m, &self.cipher))
            .transpose()
    }

    async fn executions(
        &self,
        tenant: &Tenant,
        session_id: &str,
        policy: Option<&str>,
    ) -> Result<Vec<NodeExecution>, RepoError> {
        let mut q = execs::Entity::find()
            .filter(in_tenant(
                execs::Column::OrgId,
                execs::Column::Environment,
                tenant,
            ))
            .filter(execs::Column::SessionId.eq(session_id));
        if let Some(p) = policy {
            q = q.filter(execs::Column::Policy.eq(p));
        }
        q.order_by_asc(execs::Column::StartedAt)
            .order_by_asc(execs::Column::Attempt)
            .all(&self.conn)
            .await
            .map_err(map_db)?
            .into_iter()
            .map(|m| execution_from(m, &self.cipher))
            .collect()
    }

    async fn claim_run(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<WorkflowRun>, RepoError> {
        let backend = self.conn.get_database_backend();
        // One statement picks and leases a run. On Postgres, SKIP LOCKED lets several processes
        // claim different runs concurrently; SQLite serialises writers, which has the same effect.
        let sql = match backend {
            DbBackend::Postgres => {
                "UPDATE workflow_runs SET lease_owner = $1, lease_until = $2, revision = revision + 1 \
                 WHERE id = (SELECT id FROM workflow_runs WHERE runnable_at IS NOT NULL AND runnable_at <= $3 \
                 AND (lease_until IS NULL OR lease_until < $3) ORDER BY runnable_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING *"
            }
            _ => {
                "UPDATE workflow_runs SET lease_owner = ?, lease_until = ?, revision = revision + 1 \
                 WHERE id = (SELECT id FROM workflow_runs WHERE runnable_at IS NOT NULL AND runnable_at <= ? \
                 AND (lease_until IS NULL OR lease_until < ?) ORDER BY runnable_at, id LIMIT 1) RETURNING *"
            }
        };
        let values: Vec<sea_orm::Value> = match backend {
            DbBackend::Postgres => vec![owner.into(), lease_until.into(), now.into()],
            _ => vec![owner.into(), lease_until.into(), now.into(), now.into()],
        };
        runs::Entity::find()
            .from_raw_sql(Statement::from_sql_and_values(backend, sql, values))
            .one(&self.conn)
            .await
            .map_err(map_db)?
            .map(|m| run_from(m, &self.cipher))
            .transpose()
    }

    async fn commit_run(
        &self,
        run: &WorkflowRun,
        expected_revision: i32,
        attempts: &[NewAttempt],
        change: Option<&SessionChange>,
    ) -> Result<(), RepoError> {
        if change.is_none() && (attempts.is_empty() || step::one_statement(&self.conn)) {
            // One statement is atomic on its own: no transaction round trips.
            return step::write(&self.conn, run, expected_revision, attempts, &self.cipher).await;
        }
        let txn = self.conn.begin().await.map_err(map_db)?;
        let outcome = async {
            step::write(&txn, run, expected_revision, attempts, &self.cipher).await?;
            if let Some(change) = change {
                apply_in(&txn, change, &self.cipher).await?;
            }
            Ok(())
        }
        .await;
        settle(txn, outcome).await
    }
}
