//! [`SessionRedaction`] on sea-orm: one transaction writes the redacted session and destroys
//! what the database holds of its personal data; the blobs wait in `blob_deletions` until the
//! document store confirms their deletion. On SQLite the write-ahead log is checkpointed after
//! each redaction, so no old page image of the destroyed rows lingers in it.

use super::change::apply_in;
use crate::Database;
use crate::entities::{
    blob_deletions as queue, duplicate_fingerprints as fingerprints, result_lookups as lookups,
    session_documents as docs, session_results as results, workflow_node_executions as execs,
    workflow_runs as runs,
};
use crate::error::map_db;
use crate::repos::common::{settle, tenant_of};
use crate::repos::runs::rows::{run_from, state_columns};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::ExprTrait;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use verifa_crypto::Cipher;
use verifa_domain::audit::AuditDraft;
use verifa_domain::identity::Identity;
use verifa_domain::session::Session;
use verifa_ports::RepoError;
use verifa_ports::identities::NewIdentityEvent;
use verifa_ports::sessions::{BlobDeletion, SessionChange, SessionRedaction};

#[async_trait]
impl SessionRedaction for Database {
    async fn redact(&self, change: &SessionChange) -> Result<Vec<BlobDeletion>, RepoError> {
        let txn = self.conn.begin().await.map_err(map_db)?;
        let outcome = redact_in(&txn, change, &self.cipher).await;
        let queued = settle(txn, outcome).await?;
        self.checkpoint_after_redaction().await;
        Ok(queued)
    }

    async fn redact_identity(
        &self,
        sessions: &[SessionChange],
        identity: &Identity,
        events: &[NewIdentityEvent],
        audit: &[AuditDraft],
    ) -> Result<Vec<BlobDeletion>, RepoError> {
        let txn = self.conn.begin().await.map_err(map_db)?;
        let outcome = async {
            let mut queued = Vec::new();
            for change in sessions {
                queued.extend(redact_in(&txn, change, &self.cipher).await?);
            }
            crate::repos::identities::rows::update_in(&txn, identity).await?;
            let mut after = identity.clone();
            after.revision = after.revision.saturating_add(1);
            crate::repos::identities::rows::append_events(&txn, &after, events).await?;
            crate::repos::audit::append(&txn, audit).await?;
            Ok(queued)
        }
        .await;
        let queued = settle(txn, outcome).await?;
        self.checkpoint_after_redaction().await;
        Ok(queued)
    }

    async fn due_blob_deletions(
        &self,
        now: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<BlobDeletion>, RepoError> {
        queue::Entity::find()
            .filter(queue::Column::NextAttemptAt.lte(now))
            .order_by_asc(queue::Column::Id)
            .limit(limit)
            .all(&self.conn)
            .await
            .map_err(map_db)?
            .into_iter()
            .map(deletion_from)
            .collect()
    }

    async fn blob_deleted(&self, id: i64) -> Result<(), RepoError> {
        queue::Entity::delete_by_id(id)
            .exec(&self.conn)
            .await
            .map_err(map_db)?;
        Ok(())
    }

    async fn blob_deletion_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), RepoError> {
        queue::Entity::update_many()
            .col_expr(
                queue::Column::Attempts,
                Expr::col(queue::Column::Attempts).add(1),
            )
            .col_expr(queue::Column::LastError, Expr::value(error.to_owned()))
            .col_expr(queue::Column::NextAttemptAt, Expr::value(retry_at))
            .filter(queue::Column::Id.eq(id))
            .exec(&self.conn)
            .await
            .map_err(map_db)?;
        Ok(())
    }
}

impl Database {
    /// On SQLite, the rows are zeroed in the database file (secure_delete), but their old page
    /// images stay in the write-ahead log until a checkpoint copies it back and truncates it.
    /// Best effort: a busy database is checkpointed by a later call.
    async fn checkpoint_after_redaction(&self) {
        if self.conn.get_database_backend() == DbBackend::Sqlite {
            let _ = self
                .conn
                .execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
                .await;
        }
    }
}

/// One session's redaction inside an open transaction.
async fn redact_in(
    txn: &DatabaseTransaction,
    change: &SessionChange,
    cipher: &Cipher,
) -> Result<Vec<BlobDeletion>, RepoError> {
    apply_in(txn, change, cipher).await?;
    let s = &change.session;
    let queued = condemn_documents(txn, s).await?;
    results::Entity::update_many()
        .col_expr(
            results::Column::ExtractedDataEncrypted,
            Expr::value(Option::<String>::None),
        )
        .filter(results::Column::SessionId.eq(s.id.clone()))
        .exec(txn)
        .await
        .map_err(map_db)?;
    lookups::Entity::delete_many()
        .filter(lookups::Column::SessionId.eq(s.id.clone()))
        .exec(txn)
        .await
        .map_err(map_db)?;
    fingerprints::Entity::delete_many()
        .filter(fingerprints::Column::SessionId.eq(s.id.clone()))
        .exec(txn)
        .await
        .map_err(map_db)?;
    strip_runs(txn, s, cipher).await?;
    Ok(queued)
}

fn deletion_from(m: queue::Model) -> Result<BlobDeletion, RepoError> {
    Ok(BlobDeletion {
        id: m.id,
        tenant: tenant_of(m.org_id, &m.environment)?,
        storage_key: m.storage_key,
        attempts: m.attempts,
    })
}

/// Deletes the session's document rows and queues their blobs, due at once.
async fn condemn_documents(
    txn: &DatabaseTransaction,
    s: &Session,
) -> Result<Vec<BlobDeletion>, RepoError> {
    let rows = docs::Entity::find()
        .filter(docs::Column::SessionId.eq(s.id.clone()))
        .order_by_asc(docs::Column::CreatedAt)
        .all(txn)
        .await
        .map_err(map_db)?;
    let mut queued = Vec::with_capacity(rows.len());
    for row in rows {
        docs::Entity::delete_by_id(row.id.clone())
            .exec(txn)
            .await
            .map_err(map_db)?;
        let entry = queue::ActiveModel {
            id: sea_orm::ActiveValue::NotSet,
            storage_key: Set(row.storage_key),
            org_id: Set(s.tenant.org_id.clone()),
            environment: Set(s.tenant.environment.as_str().to_owned()),
            attempts: Set(0),
            next_attempt_at: Set(s.updated_at),
            last_error: Set(None),
            created_at: Set(s.updated_at),
        }
        .insert(txn)
        .await
        .map_err(map_db)?;
        queued.push(deletion_from(entry)?);
    }
    Ok(queued)
}

/// Drops the personal data of the session's runs: each run's state keeps its path and statuses
/// (the domain decides what goes), its pending work goes, and every attempt row loses its output
/// and error.
async fn strip_runs(
    txn: &DatabaseTransaction,
    s: &Session,
    cipher: &Cipher,
) -> Result<(), RepoError> {
    let stored = runs::Entity::find()
        .filter(runs::Column::SessionId.eq(s.id.clone()))
        .all(txn)
        .await
        .map_err(map_db)?;
    for row in stored {
        let mut run = run_from(row, cipher)?;
        run.state.redact_personal_data();
        // A redacted session changes no more, so its run has nothing left to do.
        run.work = None;
        run.due = None;
        runs::Entity::update_many()
            .set(state_columns(&run, cipher)?)
            .filter(runs::Column::Id.eq(run.id.clone()))
            .exec(txn)
            .await
            .map_err(map_db)?;
    }
    execs::Entity::update_many()
        .col_expr(execs::Column::Output, Expr::value(Option::<String>::None))
        .col_expr(execs::Column::Error, Expr::value(Option::<String>::None))
        .filter(execs::Column::SessionId.eq(s.id.clone()))
        .exec(txn)
        .await
        .map_err(map_db)?;
    Ok(())
}
