//! `POST /identities/search` in SQL: the direct filters on `identities`, and the lookup hashes
//! through `result_lookups` → `sessions.identity_id`, so a hash matches the identity its session
//! belongs to now (after a merge, the primary). Every hash must be carried by one result: the
//! `GROUP BY session_id HAVING COUNT(*) = n` (hashes are unique per result, see the table's key).

use super::scoped;
use crate::entities::{identities, result_lookups as lookups, sessions};
use sea_orm::sea_query::{Expr, ExprTrait as _, Func, Query};
use sea_orm::{ColumnTrait, QueryFilter};
use verifa_domain::tenancy::Tenant;
use verifa_ports::identities::IdentitySearch;

/// The tenant's identities that `search` matches, archived ones included (no order).
pub(super) fn matching(
    tenant: &Tenant,
    search: &IdentitySearch,
) -> sea_orm::Select<identities::Entity> {
    let mut query = scoped(tenant);
    if let Some(r) = &search.external_ref {
        query = query.filter(identities::Column::ExternalRef.eq(r.clone()));
    }
    if let Some(status) = search.status {
        query = query.filter(identities::Column::Status.eq(status.as_str()));
    }
    if let Some(country) = &search.country {
        query = query.filter(identities::Column::Country.eq(country.clone()));
    }
    if search.lookups.is_empty() {
        return query;
    }
    let mut hashes = search.lookups.clone();
    hashes.sort();
    hashes.dedup();
    let wanted = i64::try_from(hashes.len()).unwrap_or(i64::MAX);
    let results_with_every_hash = Query::select()
        .column(lookups::Column::SessionId)
        .from(lookups::Entity)
        .and_where(lookups::Column::OrgId.eq(tenant.org_id.clone()))
        .and_where(lookups::Column::Environment.eq(tenant.environment.as_str()))
        .and_where(lookups::Column::Hash.is_in(hashes))
        .group_by_col(lookups::Column::SessionId)
        .and_having(Expr::expr(Func::count(Expr::col(lookups::Column::Hash))).eq(wanted))
        .to_owned();
    let their_identities = Query::select()
        .column(sessions::Column::IdentityId)
        .from(sessions::Entity)
        .and_where(sessions::Column::Id.in_subquery(results_with_every_hash))
        .and_where(sessions::Column::IdentityId.is_not_null())
        .to_owned();
    query.filter(identities::Column::Id.in_subquery(their_identities))
}
