//! Helpers shared by the repositories: tenant scoping of queries, decoding of tenants, paging,
//! and ending a transaction by its outcome.

use crate::error::{corrupt, map_db};
use sea_orm::{ColumnTrait, Condition, DatabaseTransaction};
use verifa_domain::tenancy::Tenant;
use verifa_ports::RepoError;

/// The condition scoping a query to one organization and environment.
pub(crate) fn in_tenant<C: ColumnTrait>(org_id: C, environment: C, tenant: &Tenant) -> Condition {
    Condition::all()
        .add(org_id.eq(tenant.org_id.clone()))
        .add(environment.eq(tenant.environment.as_str()))
}

/// Ends `txn` by `outcome`: commits on success, rolls back on an error (which is returned).
pub(crate) async fn settle<T>(
    txn: DatabaseTransaction,
    outcome: Result<T, RepoError>,
) -> Result<T, RepoError> {
    match outcome {
        Ok(value) => {
            txn.commit().await.map_err(map_db)?;
            Ok(value)
        }
        Err(e) => {
            // Best effort: dropping the transaction would roll it back as well.
            let _ = txn.rollback().await;
            Err(e)
        }
    }
}

/// Rebuilds a tenant from stored columns.
pub(crate) fn tenant_of(org_id: String, environment: &str) -> Result<Tenant, RepoError> {
    Ok(Tenant::new(
        org_id,
        environment.parse().map_err(|e| corrupt("environment", e))?,
    ))
}

/// One page of `query` (already filtered and ordered) plus the total across pages.
pub(crate) async fn fetch_page<E>(
    query: sea_orm::Select<E>,
    conn: &sea_orm::DatabaseConnection,
    page: verifa_domain::pagination::PageRequest,
) -> Result<(Vec<E::Model>, u64), RepoError>
where
    E: sea_orm::EntityTrait,
    E::Model: sea_orm::FromQueryResult + Sized + Send + Sync,
{
    use sea_orm::{PaginatorTrait, QuerySelect};
    let total = query
        .clone()
        .count(conn)
        .await
        .map_err(crate::error::map_db)?;
    let rows = query
        .offset(page.offset)
        .limit(page.limit)
        .all(conn)
        .await
        .map_err(crate::error::map_db)?;
    Ok((rows, total))
}

/// The outcome of a fenced update that matched `rows` rows: none means the row is absent
/// (`NotFound`) or moved past the revision it was read at (`Conflict`), which `exists` tells.
pub(crate) async fn fenced<F>(rows: u64, exists: F) -> Result<(), RepoError>
where
    F: std::future::Future<Output = Result<bool, RepoError>>,
{
    if rows == 1 {
        Ok(())
    } else if exists.await? {
        Err(RepoError::Conflict(
            "the row changed since it was read".into(),
        ))
    } else {
        Err(RepoError::NotFound)
    }
}
