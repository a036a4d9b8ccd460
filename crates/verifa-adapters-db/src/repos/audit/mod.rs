//! [`AuditLog`] on sea-orm. A change's events are queued in its own transaction by
//! [`append`] and sealed into their chain by [`seal`]; every read here seals the chains it
//! reads first, so a caller always sees every event that has committed.

mod seal;

pub(crate) use seal::{SealGate, append};

use crate::Database;
use crate::entities::{audit_chains as chains, audit_events as events};
use crate::error::{corrupt, map_db};
use crate::repos::common::{fetch_page, in_tenant, settle, tenant_of};
use async_trait::async_trait;
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait};
use verifa_domain::audit::chain::ChainHead;
use verifa_domain::audit::{AuditDraft, AuditEvent};
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::tenancy::Tenant;
use verifa_ports::RepoError;
use verifa_ports::audit::{AuditFilter, AuditLog};

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

impl Database {
    /// Seals `tenant`'s queued events (every chain's when `None`), returning how many.
    async fn seal_queued(&self, tenant: Option<&Tenant>) -> Result<u64, RepoError> {
        // The common case, nothing queued, costs one indexed read and no lock.
        if !seal::has_queued(&self.conn, tenant).await? {
            return Ok(0);
        }
        let _one_pass = self.seal_gate.lock().await;
        let chains = match tenant {
            Some(tenant) => vec![tenant.clone()],
            None => seal::queued_chains(&self.conn).await?,
        };
        let mut sealed = 0;
        for tenant in &chains {
            sealed += seal::seal_chain(&self.conn, tenant).await?;
        }
        Ok(sealed)
    }
}

#[async_trait]
impl AuditLog for Database {
    async fn append(&self, drafts: &[AuditDraft]) -> Result<(), RepoError> {
        let txn = self.conn.begin().await.map_err(map_db)?;
        let outcome = append(&txn, drafts).await;
        settle(txn, outcome).await
    }

    async fn seal_pending(&self) -> Result<u64, RepoError> {
        self.seal_queued(None).await
    }

    async fn list(
        &self,
        tenant: &Tenant,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditEvent>, RepoError> {
        self.seal_queued(Some(tenant)).await?;
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
        self.seal_queued(Some(tenant)).await?;
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
        self.seal_queued(Some(tenant)).await?;
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
        self.seal_queued(Some(tenant)).await?;
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
        self.seal_queued(None).await?;
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
