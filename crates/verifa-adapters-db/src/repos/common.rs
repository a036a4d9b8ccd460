//! Helpers shared by the repositories: tenant scoping of queries and decoding of tenants.

use crate::error::corrupt;
use sea_orm::{ColumnTrait, Condition};
use verifa_domain::tenancy::Tenant;
use verifa_ports::RepoError;

/// The condition scoping a query to one organization and environment.
pub(crate) fn in_tenant<C: ColumnTrait>(org_id: C, environment: C, tenant: &Tenant) -> Condition {
    Condition::all()
        .add(org_id.eq(tenant.org_id.clone()))
        .add(environment.eq(tenant.environment.as_str()))
}

/// Rebuilds a tenant from stored columns.
pub(crate) fn tenant_of(org_id: String, environment: &str) -> Result<Tenant, RepoError> {
    Ok(Tenant::new(
        org_id,
        environment.parse().map_err(|e| corrupt("environment", e))?,
    ))
}
