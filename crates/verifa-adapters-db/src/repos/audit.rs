//! [`AuditLog`] on sea-orm, and [`append`], which every mutating repository calls inside its
//! own transaction so that a change and its audit events commit together.
//!
//! An append takes the chain's head row with an upsert, which is a write on both backends: on
//! Postgres it locks the row until commit (concurrent appends to the chain queue behind it), on
//! SQLite it takes the database's write lock. The head row is taken last in every transaction,
//! after the change's own writes, so the chain lock is held only for the few statements that
//! follow and no two transactions take locks in opposite orders.

use crate::Database;
use crate::entities::{audit_chains as chains, audit_events as events};
use crate::error::{corrupt, map_db};
use crate::repos::common::{fetch_page, in_tenant, settle, tenant_of};
use async_trait::async_trait;
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Set, Statement, TransactionTrait,
};
use std::collections::BTreeMap;
use verifa_domain::audit::chain::{self, ChainHead};
use verifa_domain::audit::{AuditDraft, AuditEvent};
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::tenancy::Tenant;
use verifa_ports::RepoError;
use verifa_ports::audit::{AuditFilter, AuditLog};

/// Seals and inserts `drafts` on `conn` (a transaction the caller commits), continuing each
/// chain from its stored head and moving the head.
pub(crate) async fn append<C: ConnectionTrait>(
    conn: &C,
    drafts: &[AuditDraft],
) -> Result<(), RepoError> {
    // One pass per chain, in a fixed order, so two transactions lock chains in the same order.
    let mut by_chain: BTreeMap<(&str, &str), Vec<&AuditDraft>> = BTreeMap::new();
    for draft in drafts {
        by_chain
            .entry((
                draft.tenant.org_id.as_str(),
                draft.tenant.environment.as_str(),
            ))
            .or_default()
            .push(draft);
    }
    for ((org_id, environment), drafts) in by_chain {
        let head = lock_head(conn, org_id, environment).await?;
        let (sealed, head) = chain::seal_all(drafts, head);
        let rows: Vec<events::ActiveModel> = sealed.iter().map(to_active).collect();
        events::Entity::insert_many(rows)
            .exec(conn)
            .await
            .map_err(map_db)?;
        chains::Entity::update_many()
            .col_expr(chains::Column::HeadSequence, Expr::value(head.sequence))
            .col_expr(chains::Column::HeadHash, Expr::value(head.hash))
            .filter(chains::Column::OrgId.eq(org_id))
            .filter(chains::Column::Environment.eq(environment))
            .exec(conn)
            .await
            .map_err(map_db)?;
    }
    Ok(())
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

fn to_active(e: &AuditEvent) -> events::ActiveModel {
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

fn from_model(m: events::Model) -> Result<AuditEvent, RepoError> {
    let tenant = tenant_of(m.org_id, &m.environment)?;
    Ok(AuditEvent {
        changes: serde_json::from_str(&m.changes).map_err(|e| corrupt("audit.changes", e))?,
        metadata: serde_json::from_str(&m.metadata).map_err(|e| corrupt("audit.metadata", e))?,
        id: m.id,
        org_id: tenant.org_id,
        sequence: m.sequence,
        action: m.action,
        created_at: m.created_at,
        resource_type: m.resource_type,
        resource_id: m.resource_id,
        actor: m.actor,
        ip_address: m.ip_address,
        request_method: m.request_method,
        request_path: m.request_path,
        request_id: m.request_id,
        environment: tenant.environment,
        prev_hash: m.prev_hash,
        hash: m.hash,
    })
}

fn scoped(tenant: &Tenant) -> sea_orm::Select<events::Entity> {
    events::Entity::find().filter(in_tenant(
        events::Column::OrgId,
        events::Column::Environment,
        tenant,
    ))
}

/// Escapes `%`, `_` and the escape character itself for a `LIKE … ESCAPE '\'` pattern.
fn like_pattern(q: &str) -> String {
    let mut out = String::with_capacity(q.len() + 2);
    out.push('%');
    for c in q.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[async_trait]
impl AuditLog for Database {
    async fn append(&self, drafts: &[AuditDraft]) -> Result<(), RepoError> {
        let txn = self.conn.begin().await.map_err(map_db)?;
        let outcome = append(&txn, drafts).await;
        settle(txn, outcome).await
    }

    async fn list(
        &self,
        tenant: &Tenant,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditEvent>, RepoError> {
        let mut query = scoped(tenant);
        let exact = [
            (events::Column::Action, &filter.action),
            (events::Column::ResourceType, &filter.resource_type),
            (events::Column::ResourceId, &filter.resource_id),
            (events::Column::Actor, &filter.actor),
        ];
        for (column, value) in exact {
            if let Some(value) = value {
                query = query.filter(column.eq(value.clone()));
            }
        }
        if !filter.resource_ids.is_empty() {
            query = query.filter(events::Column::ResourceId.is_in(filter.resource_ids.clone()));
        }
        if let Some(after) = filter.created_after {
            query = query.filter(events::Column::CreatedAt.gte(after));
        }
        if let Some(before) = filter.created_before {
            query = query.filter(events::Column::CreatedAt.lt(before));
        }
        if let Some(q) = filter.q.as_deref().filter(|q| !q.trim().is_empty()) {
            let pattern = like_pattern(q);
            let mut any = sea_orm::Condition::any();
            for column in [
                events::Column::Actor,
                events::Column::Action,
                events::Column::ResourceType,
                events::Column::ResourceId,
                events::Column::IpAddress,
            ] {
                any = any.add(
                    Expr::expr(sea_orm::sea_query::Func::lower(Expr::col(column)))
                        .like(sea_orm::sea_query::LikeExpr::new(pattern.clone()).escape('\\')),
                );
            }
            query = query.filter(any);
        }
        let (rows, total) = fetch_page(
            query.order_by_desc(events::Column::Sequence),
            &self.conn,
            page,
        )
        .await?;
        Ok(Page {
            items: rows.into_iter().map(from_model).collect::<Result<_, _>>()?,
            total,
            request: page,
        })
    }

    async fn get(&self, tenant: &Tenant, id: &str) -> Result<AuditEvent, RepoError> {
        let row = scoped(tenant)
            .filter(events::Column::Id.eq(id))
            .one(&self.conn)
            .await
            .map_err(map_db)?
            .ok_or(RepoError::NotFound)?;
        from_model(row)
    }

    async fn chain_slice(
        &self,
        tenant: &Tenant,
        after: i64,
        to: Option<i64>,
        limit: u64,
    ) -> Result<Vec<AuditEvent>, RepoError> {
        let mut query = scoped(tenant).filter(events::Column::Sequence.gt(after));
        if let Some(to) = to {
            query = query.filter(events::Column::Sequence.lte(to));
        }
        query
            .order_by_asc(events::Column::Sequence)
            .order_by_asc(events::Column::Id)
            .limit(limit)
            .all(&self.conn)
            .await
            .map_err(map_db)?
            .into_iter()
            .map(from_model)
            .collect()
    }

    async fn chain_head(&self, tenant: &Tenant) -> Result<ChainHead, RepoError> {
        let row = chains::Entity::find()
            .filter(chains::Column::OrgId.eq(tenant.org_id.clone()))
            .filter(chains::Column::Environment.eq(tenant.environment.as_str()))
            .one(&self.conn)
            .await
            .map_err(map_db)?;
        Ok(row.map_or_else(ChainHead::empty, |r| ChainHead {
            sequence: r.head_sequence,
            hash: r.head_hash,
        }))
    }

    async fn chains(&self) -> Result<Vec<Tenant>, RepoError> {
        chains::Entity::find()
            .order_by_asc(chains::Column::OrgId)
            .order_by_asc(chains::Column::Environment)
            .all(&self.conn)
            .await
            .map_err(map_db)?
            .into_iter()
            .map(|r| tenant_of(r.org_id, &r.environment))
            .collect()
    }
}
