//! [`IdentityStore`] and [`IdentityTypeStore`] on sea-orm. `external_ref` is unique per tenant
//! through `ux_identities_external_ref`; every write is fenced on the row's revision.
//!
//! - [`rows`]: row mapping and the shared writes (fenced overwrite, tag index, outbox).
//! - [`feed`]: a completing session upserting its identity, inside the session's transaction.
//! - [`search`]: identity search by direct filters and lookup hashes.
//! - [`types`]: identity types.

pub(crate) mod feed;
pub(crate) mod rows;
mod search;
mod types;

use crate::Database;
use crate::entities::{identities, identity_tags as tags, sessions};
use crate::error::map_db;
use crate::repos::common::{fetch_page, in_tenant, settle};
use async_trait::async_trait;
use rows::{append_events, from_model, insert_in, update_in};
use sea_orm::sea_query::{Alias, Expr, ExprTrait as _, Func};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use verifa_domain::audit::AuditDraft;
use verifa_domain::cursor::{Cursor, CursorRequest, Direction};
use verifa_domain::identity::Identity;
use verifa_domain::identity::merge::MergeOutcome;
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::session::SessionStatus;
use verifa_domain::tenancy::Tenant;
use verifa_ports::RepoError;
use verifa_ports::identities::{
    IdentityFilter, IdentitySearch, IdentitySession, IdentityStore, NewIdentityEvent,
};

fn scoped(tenant: &Tenant) -> sea_orm::Select<identities::Entity> {
    identities::Entity::find().filter(in_tenant(
        identities::Column::OrgId,
        identities::Column::Environment,
        tenant,
    ))
}

/// The tenant's identities that pass `filter` (no order).
fn filtered(tenant: &Tenant, filter: &IdentityFilter) -> sea_orm::Select<identities::Entity> {
    let mut query = scoped(tenant);
    if let Some(status) = filter.status {
        query = query.filter(identities::Column::Status.eq(status.as_str()));
    }
    if let Some(q) = &filter.q {
        // A case-sensitive prefix on both backends (SQLite's LIKE ignores ASCII case, and
        // Postgres orders text by collation): compare the leading characters.
        let len = i32::try_from(q.chars().count()).unwrap_or(i32::MAX);
        query = query.filter(
            Expr::expr(
                Func::cust(Alias::new("substr"))
                    .arg(Expr::col(identities::Column::ExternalRef))
                    .arg(1i32)
                    .arg(len),
            )
            .eq(q.clone()),
        );
    }
    if let Some(t) = &filter.identity_type_id {
        query = query.filter(identities::Column::IdentityTypeId.eq(t.clone()));
    }
    if let Some(flagged) = filter.is_flagged {
        query = query.filter(identities::Column::IsFlagged.eq(flagged));
    }
    if !filter.include_archived {
        query = query.filter(identities::Column::ArchivedAt.is_null());
    }
    if let Some(tag) = &filter.tag {
        query = query.filter(
            identities::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(tags::Column::IdentityId)
                    .from(tags::Entity)
                    .and_where(tags::Column::Tag.eq(tag.clone()))
                    .to_owned(),
            ),
        );
    }
    query
}

#[async_trait]
impl IdentityStore for Database {
    async fn insert(
        &self,
        identity: &Identity,
        events: &[NewIdentityEvent],
        audit: &[AuditDraft],
    ) -> Result<(), RepoError> {
        let txn = self.conn.begin().await.map_err(map_db)?;
        let outcome = async {
            insert_in(&txn, identity).await?;
            append_events(&txn, identity, events).await?;
            crate::repos::audit::append(&txn, audit).await
        }
        .await;
        settle(txn, outcome).await
    }

    async fn get(&self, tenant: &Tenant, id: &str) -> Result<Identity, RepoError> {
        scoped(tenant)
            .filter(identities::Column::Id.eq(id))
            .one(&self.conn)
            .await
            .map_err(map_db)?
            .map(from_model)
            .transpose()?
            .ok_or(RepoError::NotFound)
    }

    async fn find_by_ref(
        &self,
        tenant: &Tenant,
        external_ref: &str,
    ) -> Result<Option<Identity>, RepoError> {
        scoped(tenant)
            .filter(identities::Column::ExternalRef.eq(external_ref))
            .one(&self.conn)
            .await
            .map_err(map_db)?
            .map(from_model)
            .transpose()
    }

    async fn list(
        &self,
        tenant: &Tenant,
        filter: &IdentityFilter,
        page: PageRequest,
    ) -> Result<Page<Identity>, RepoError> {
        let query = filtered(tenant, filter)
            .order_by_desc(identities::Column::CreatedAt)
            .order_by_desc(identities::Column::Id);
        let (rows, total) = fetch_page(query, &self.conn, page).await?;
        Ok(Page {
            items: rows.into_iter().map(from_model).collect::<Result<_, _>>()?,
            total,
            request: page,
        })
    }

    async fn search(
        &self,
        tenant: &Tenant,
        search: &IdentitySearch,
        page: PageRequest,
    ) -> Result<Page<Identity>, RepoError> {
        let query = search::matching(tenant, search)
            .order_by_desc(identities::Column::CreatedAt)
            .order_by_desc(identities::Column::Id);
        let (rows, total) = fetch_page(query, &self.conn, page).await?;
        Ok(Page {
            items: rows.into_iter().map(from_model).collect::<Result<_, _>>()?,
            total,
            request: page,
        })
    }

    async fn list_from(
        &self,
        tenant: &Tenant,
        filter: &IdentityFilter,
        request: &CursorRequest,
    ) -> Result<Vec<Identity>, RepoError> {
        let (created, id) = (identities::Column::CreatedAt, identities::Column::Id);
        let past = |c: &Cursor, older: bool| {
            let (t, i) = (c.created_at, c.id.clone());
            if older {
                Condition::any()
                    .add(created.lt(t))
                    .add(Condition::all().add(created.eq(t)).add(id.lt(i)))
            } else {
                Condition::any()
                    .add(created.gt(t))
                    .add(Condition::all().add(created.eq(t)).add(id.gt(i)))
            }
        };
        let query = filtered(tenant, filter);
        let query = match &request.direction {
            Direction::After(None) => query.order_by_desc(created).order_by_desc(id),
            Direction::After(Some(c)) => query
                .filter(past(c, true))
                .order_by_desc(created)
                .order_by_desc(id),
            Direction::Before(c) => query
                .filter(past(c, false))
                .order_by_asc(created)
                .order_by_asc(id),
        };
        query
            .limit(request.size.saturating_add(1))
            .all(&self.conn)
            .await
            .map_err(map_db)?
            .into_iter()
            .map(from_model)
            .collect()
    }

    async fn update(
        &self,
        identity: &Identity,
        events: &[NewIdentityEvent],
        audit: &[AuditDraft],
    ) -> Result<(), RepoError> {
        let txn = self.conn.begin().await.map_err(map_db)?;
        let outcome = async {
            update_in(&txn, identity).await?;
            let mut after = identity.clone();
            after.revision = after.revision.saturating_add(1);
            append_events(&txn, &after, events).await?;
            crate::repos::audit::append(&txn, audit).await
        }
        .await;
        settle(txn, outcome).await
    }

    async fn merge(
        &self,
        outcome: &MergeOutcome,
        events: &[(String, NewIdentityEvent)],
        audit: &[AuditDraft],
    ) -> Result<(), RepoError> {
        let txn = self.conn.begin().await.map_err(map_db)?;
        let result = async {
            let primary = &outcome.primary;
            update_in(&txn, primary).await?;
            for s in &outcome.secondaries {
                update_in(&txn, s).await?;
            }
            let moved: Vec<String> = outcome.secondaries.iter().map(|s| s.id.clone()).collect();
            sessions::Entity::update_many()
                .col_expr(
                    sessions::Column::IdentityId,
                    Expr::value(primary.id.clone()),
                )
                .filter(in_tenant(
                    sessions::Column::OrgId,
                    sessions::Column::Environment,
                    &primary.tenant,
                ))
                .filter(sessions::Column::IdentityId.is_in(moved))
                .exec(&txn)
                .await
                .map_err(map_db)?;
            for (subject, event) in events {
                let who = std::iter::once(primary)
                    .chain(&outcome.secondaries)
                    .find(|i| &i.id == subject)
                    .ok_or_else(|| RepoError::Corrupt(format!("merge event for {subject}")))?;
                append_events(&txn, who, std::slice::from_ref(event)).await?;
            }
            crate::repos::audit::append(&txn, audit).await
        }
        .await;
        settle(txn, result).await
    }

    async fn sessions(
        &self,
        tenant: &Tenant,
        identity_id: &str,
        page: PageRequest,
    ) -> Result<Page<IdentitySession>, RepoError> {
        let query = sessions::Entity::find()
            .filter(in_tenant(
                sessions::Column::OrgId,
                sessions::Column::Environment,
                tenant,
            ))
            .filter(sessions::Column::IdentityId.eq(identity_id))
            .order_by_desc(sessions::Column::CreatedAt)
            .order_by_desc(sessions::Column::Id);
        let (rows, total) = fetch_page(query, &self.conn, page).await?;
        let items = rows
            .into_iter()
            .map(|m| {
                Ok(IdentitySession {
                    status: m
                        .status
                        .parse::<SessionStatus>()
                        .map_err(|e| crate::error::corrupt("sessions.status", e))?,
                    session_id: m.id,
                    completed_at: m.completed_at,
                    created_at: m.created_at,
                })
            })
            .collect::<Result<_, RepoError>>()?;
        Ok(Page {
            items,
            total,
            request: page,
        })
    }
}
