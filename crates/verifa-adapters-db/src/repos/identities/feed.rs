//! A completing session feeding its identity, inside the session change's transaction
//! (CONTRACT §7.1): find the identity by `external_ref` (following a merge), or create it, let
//! [`resolve_feed`] move it, write it fenced, link the session, and append the event and the
//! audit draft. On Postgres the identity row is locked first, so two sessions of one person
//! completing at once are taken in one after the other; a concurrent first creation is caught
//! by the unique `external_ref` index and re-read.

use super::rows::{append_events, from_model, update_in, write_tags};
use crate::entities::{identities, sessions};
use crate::error::map_db;
use crate::repos::common::in_tenant;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, QueryFilter,
    QuerySelect,
};
use verifa_domain::identity::{Identity, IdentityStatus};
use verifa_domain::session::Session;
use verifa_domain::tenancy::Tenant;
use verifa_ports::RepoError;
use verifa_ports::identities::{FedIdentity, IdentityFeed, resolve_feed};

/// Applies `feed` for `session` (as the change leaves it) inside `txn`.
pub(crate) async fn feed_in(
    txn: &DatabaseTransaction,
    session: &Session,
    feed: &IdentityFeed,
) -> Result<(), RepoError> {
    let tenant = &session.tenant;
    let external_ref = &feed.completion.external_ref;
    let mut fed = resolve_feed(current(txn, tenant, external_ref).await?, session, feed);
    if fed.created {
        if insert_if_absent(txn, &fed.identity).await? {
            write_tags(txn, &fed.identity).await?;
        } else {
            // Created by a concurrent completion since we looked: take that one in instead.
            fed = resolve_feed(current(txn, tenant, external_ref).await?, session, feed);
            update_in(txn, &fed.identity).await?;
            fed.identity.revision = fed.identity.revision.saturating_add(1);
        }
    } else {
        update_in(txn, &fed.identity).await?;
        fed.identity.revision = fed.identity.revision.saturating_add(1);
    }
    link_session(txn, session, &fed).await?;
    append_events(txn, &fed.identity, std::slice::from_ref(&fed.event)).await?;
    crate::repos::audit::append(txn, std::slice::from_ref(&fed.audit)).await
}

/// The identity `external_ref` resolves to: its own, or the one it was merged into.
async fn current(
    txn: &DatabaseTransaction,
    tenant: &Tenant,
    external_ref: &str,
) -> Result<Option<Identity>, RepoError> {
    let found = locked(
        txn,
        tenant,
        identities::Column::ExternalRef.eq(external_ref),
    )
    .await?;
    match found {
        Some(i) if i.status == IdentityStatus::Merged => match &i.merged_into_id {
            Some(into) => Ok(locked(txn, tenant, identities::Column::Id.eq(into.clone()))
                .await?
                .or(Some(i))),
            None => Ok(Some(i)),
        },
        other => Ok(other),
    }
}

async fn locked(
    txn: &DatabaseTransaction,
    tenant: &Tenant,
    which: sea_orm::sea_query::SimpleExpr,
) -> Result<Option<Identity>, RepoError> {
    let mut query = identities::Entity::find()
        .filter(in_tenant(
            identities::Column::OrgId,
            identities::Column::Environment,
            tenant,
        ))
        .filter(which);
    if txn.get_database_backend() == DbBackend::Postgres {
        query = query.lock_exclusive();
    }
    query
        .one(txn)
        .await
        .map_err(map_db)?
        .map(from_model)
        .transpose()
}

/// Inserts `identity` unless its `external_ref` exists in the tenant; `false` when it did.
async fn insert_if_absent(
    txn: &DatabaseTransaction,
    identity: &Identity,
) -> Result<bool, RepoError> {
    let rows = identities::Entity::insert(super::rows::to_active(identity)?)
        .on_conflict(
            OnConflict::columns([
                identities::Column::OrgId,
                identities::Column::Environment,
                identities::Column::ExternalRef,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(txn)
        .await
        .map_err(map_db)?;
    Ok(rows == 1)
}

async fn link_session(
    txn: &DatabaseTransaction,
    session: &Session,
    fed: &FedIdentity,
) -> Result<(), RepoError> {
    sessions::Entity::update_many()
        .col_expr(
            sessions::Column::IdentityId,
            Expr::value(fed.identity.id.clone()),
        )
        .filter(in_tenant(
            sessions::Column::OrgId,
            sessions::Column::Environment,
            &session.tenant,
        ))
        .filter(sessions::Column::Id.eq(session.id.clone()))
        .exec(txn)
        .await
        .map_err(map_db)?;
    Ok(())
}
