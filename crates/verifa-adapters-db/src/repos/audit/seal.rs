//! Queueing a change's audit events and sealing them into their chain.
//!
//! [`append`] is what every mutating repository calls inside its own transaction: it inserts
//! the drafts into `audit_pending`, an ordinary insert that takes no chain lock, so changes to
//! one organization do not queue behind each other for the chain's head. The event commits
//! with its change or not at all; the database refuses an event id already sealed.
//!
//! [`seal_chain`] moves a chain's queued events, in queue order, into `audit_events`: in one
//! transaction it takes the chain's head row with an upsert (a row lock on Postgres, the write
//! lock on SQLite), seals a batch from that head, inserts the sealed rows, deletes them from the
//! queue and moves the head. Sealers in several processes are serialised per chain by the head
//! lock; within a process, [`SealGate`] lets one seal pass run at a time so that reads which
//! seal before answering do not pile up on the lock.

use crate::entities::{audit_chains as chains, audit_events as events, audit_pending as pending};
use crate::error::{corrupt, map_db};
use crate::repos::common::{settle, tenant_of};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, Statement, TransactionTrait,
};
use verifa_domain::audit::chain::{self, ChainHead};
use verifa_domain::audit::{Actor, AuditDraft, AuditEvent, RequestMeta};
use verifa_domain::tenancy::Tenant;
use verifa_ports::RepoError;

/// Events sealed per transaction: large enough to amortise the head's lock, small enough to
/// hold it briefly.
const SEAL_BATCH: u64 = 500;

/// One seal pass at a time in this process (see the module docs).
pub(crate) type SealGate = std::sync::Arc<tokio::sync::Mutex<()>>;

/// Queues `drafts` on `conn` (a transaction the caller commits), in order.
pub(crate) async fn append<C: ConnectionTrait>(
    conn: &C,
    drafts: &[AuditDraft],
) -> Result<(), RepoError> {
    if drafts.is_empty() {
        return Ok(());
    }
    let rows = drafts.iter().map(queued).collect::<Result<Vec<_>, _>>()?;
    pending::Entity::insert_many(rows)
        .exec(conn)
        .await
        .map_err(map_duplicate)?;
    Ok(())
}

/// A duplicate id, queued or already sealed, is a conflict like any duplicate key.
fn map_duplicate(e: sea_orm::DbErr) -> RepoError {
    if e.to_string()
        .contains(verifa_migrations::DUPLICATE_SEALED_ID)
    {
        return RepoError::Conflict(verifa_migrations::DUPLICATE_SEALED_ID.into());
    }
    map_db(e)
}

/// Whether `tenant` (every tenant when `None`) has queued events.
pub(crate) async fn has_queued(
    conn: &DatabaseConnection,
    tenant: Option<&Tenant>,
) -> Result<bool, RepoError> {
    let mut query = pending::Entity::find()
        .select_only()
        .column(pending::Column::PendingId);
    if let Some(tenant) = tenant {
        query = query
            .filter(pending::Column::OrgId.eq(tenant.org_id.clone()))
            .filter(pending::Column::Environment.eq(tenant.environment.as_str()));
    }
    let found: Option<i64> = query
        .limit(1)
        .into_tuple()
        .one(conn)
        .await
        .map_err(map_db)?;
    Ok(found.is_some())
}

/// The chains that have queued events.
pub(crate) async fn queued_chains(conn: &DatabaseConnection) -> Result<Vec<Tenant>, RepoError> {
    let rows: Vec<(String, String)> = pending::Entity::find()
        .select_only()
        .column(pending::Column::OrgId)
        .column(pending::Column::Environment)
        .distinct()
        .into_tuple()
        .all(conn)
        .await
        .map_err(map_db)?;
    rows.into_iter()
        .map(|(org_id, environment)| tenant_of(org_id, &environment))
        .collect()
}

/// Seals every event queued on `tenant`'s chain when it starts, returning how many.
pub(crate) async fn seal_chain(
    conn: &DatabaseConnection,
    tenant: &Tenant,
) -> Result<u64, RepoError> {
    let mut sealed = 0;
    loop {
        let txn = conn.begin().await.map_err(map_db)?;
        let outcome = seal_batch(&txn, tenant).await;
        let batch = settle(txn, outcome).await?;
        sealed += batch;
        if batch < SEAL_BATCH {
            return Ok(sealed);
        }
    }
}

/// Seals up to [`SEAL_BATCH`] queued events of one chain on `txn`.
async fn seal_batch<C: ConnectionTrait>(txn: &C, tenant: &Tenant) -> Result<u64, RepoError> {
    let org_id = tenant.org_id.as_str();
    let environment = tenant.environment.as_str();
    // The head first: a sealer that waited here for another one reads the queue it left.
    let head = lock_head(txn, org_id, environment).await?;
    let rows = pending::Entity::find()
        .filter(pending::Column::OrgId.eq(org_id))
        .filter(pending::Column::Environment.eq(environment))
        .order_by_asc(pending::Column::PendingId)
        .limit(SEAL_BATCH)
        .all(txn)
        .await
        .map_err(map_db)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.pending_id).collect();
    if ids.is_empty() {
        return Ok(0);
    }
    let drafts = rows
        .into_iter()
        .map(draft_of)
        .collect::<Result<Vec<_>, _>>()?;
    let (sealed, head) = chain::seal_all(&drafts, head);
    events::Entity::insert_many(sealed.iter().map(to_active))
        .exec(txn)
        .await
        .map_err(map_db)?;
    // By id, never by range: on Postgres an id is taken at insert, so a row inside the range
    // can commit after this read and must stay queued for the next batch.
    pending::Entity::delete_many()
        .filter(pending::Column::PendingId.is_in(ids.iter().copied()))
        .exec(txn)
        .await
        .map_err(map_db)?;
    chains::Entity::update_many()
        .col_expr(chains::Column::HeadSequence, Expr::value(head.sequence))
        .col_expr(chains::Column::HeadHash, Expr::value(head.hash))
        .filter(chains::Column::OrgId.eq(org_id))
        .filter(chains::Column::Environment.eq(environment))
        .exec(txn)
        .await
        .map_err(map_db)?;
    Ok(ids.len() as u64)
}

/// Creates the chain's head row if needed and locks it, returning the head.
async fn lock_head<C: ConnectionTrait>(
    conn: &C,
    org_id: &str,
    environment: &str,
) -> Result<ChainHead, RepoError> {
    let backend = conn.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "INSERT INTO audit_chains (org_id, environment, head_sequence, head_hash) \
             VALUES ($1, $2, 0, $3) ON CONFLICT (org_id, environment) \
             DO UPDATE SET head_sequence = audit_chains.head_sequence \
             RETURNING org_id, environment, head_sequence, head_hash"
        }
        _ => {
            "INSERT INTO audit_chains (org_id, environment, head_sequence, head_hash) \
             VALUES (?, ?, 0, ?) ON CONFLICT (org_id, environment) \
             DO UPDATE SET head_sequence = audit_chains.head_sequence \
             RETURNING org_id, environment, head_sequence, head_hash"
        }
    };
    let row = chains::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(
            backend,
            sql,
            [
                org_id.into(),
                environment.into(),
                chain::GENESIS_HASH.into(),
            ],
        ))
        .one(conn)
        .await
        .map_err(map_db)?
        .ok_or_else(|| RepoError::Unavailable("the audit chain head was not returned".into()))?;
    Ok(ChainHead {
        sequence: row.head_sequence,
        hash: row.head_hash,
    })
}

fn queued(d: &AuditDraft) -> Result<pending::ActiveModel, RepoError> {
    let json = |what: &str, v: Result<String, serde_json::Error>| {
        v.map_err(|e| RepoError::Unavailable(format!("encoding audit {what}: {e}")))
    };
    Ok(pending::ActiveModel {
        pending_id: sea_orm::NotSet,
        id: Set(d.id.clone()),
        org_id: Set(d.tenant.org_id.clone()),
        environment: Set(d.tenant.environment.as_str().to_owned()),
        action: Set(d.action.clone()),
        created_at: Set(d.at),
        resource_type: Set(d.resource_type.clone()),
        resource_id: Set(d.resource_id.clone()),
        actor: Set(d.actor.to_string()),
        changes: Set(json("changes", serde_json::to_string(&d.changes))?),
        metadata: Set(json("metadata", serde_json::to_string(&d.metadata))?),
        ip_address: Set(d.request.ip_address.clone()),
        request_method: Set(d.request.method.clone()),
        request_path: Set(d.request.path.clone()),
        request_id: Set(d.request.request_id.clone()),
    })
}

fn draft_of(m: pending::Model) -> Result<AuditDraft, RepoError> {
    Ok(AuditDraft {
        tenant: tenant_of(m.org_id, &m.environment)?,
        actor: Actor::parse(&m.actor)
            .ok_or_else(|| corrupt("audit_pending.actor", format!("unknown actor {}", m.actor)))?,
        changes: serde_json::from_str(&m.changes)
            .map_err(|e| corrupt("audit_pending.changes", e))?,
        metadata: serde_json::from_str(&m.metadata)
            .map_err(|e| corrupt("audit_pending.metadata", e))?,
        request: RequestMeta {
            ip_address: m.ip_address,
            method: m.request_method,
            path: m.request_path,
            request_id: m.request_id,
        },
        id: m.id,
        action: m.action,
        resource_type: m.resource_type,
        resource_id: m.resource_id,
        at: m.created_at,
    })
}

pub(super) fn to_active(e: &AuditEvent) -> events::ActiveModel {
    events::ActiveModel {
        id: Set(e.id.clone()),
        org_id: Set(e.org_id.clone()),
        environment: Set(e.environment.as_str().to_owned()),
        sequence: Set(e.sequence),
        action: Set(e.action.clone()),
        created_at: Set(e.created_at),
        resource_type: Set(e.resource_type.clone()),
        resource_id: Set(e.resource_id.clone()),
        actor: Set(e.actor.clone()),
        changes: Set(serde_json::to_string(&e.changes).unwrap_or_else(|_| "[]".into())),
        metadata: Set(serde_json::to_string(&e.metadata).unwrap_or_else(|_| "{}".into())),
        ip_address: Set(e.ip_address.clone()),
        request_method: Set(e.request_method.clone()),
        request_path: Set(e.request_path.clone()),
        request_id: Set(e.request_id.clone()),
        prev_hash: Set(e.prev_hash.clone()),
        hash: Set(e.hash.clone()),
    }
}
