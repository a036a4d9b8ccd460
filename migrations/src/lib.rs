//! Database schema of Verifa, one migration per change, shared by SQLite and Postgres.
//!
//! Every statement is built with sea-query's schema builder so the same migration runs on both
//! backends. JSON documents are stored as text: a workflow version must stay byte-identical
//! forever, and text keeps exactly what was written (Postgres `jsonb` would reorder keys).

// async-trait impls of the migration traits cannot name the manager lifetime.
#![allow(elided_lifetimes_in_paths)]

pub use m20261204_000015_audit_pending::DUPLICATE_SEALED_ID;
pub use sea_orm_migration::prelude::*;

mod m20261126_000001_tenancy_and_keys;
mod m20261126_000002_workflows;
mod m20261126_000003_sessions;
mod m20261126_000004_watchlists;
mod m20261126_000005_webhooks;
mod m20261126_000006_claim_indexes;
mod m20261201_000007_revisions;
mod m20261202_000008_org_users;
mod m20261202_000009_audit_events;
mod m20261202_000010_identities;
mod m20261202_000011_cases;
mod m20261202_000012_case_links;
mod m20261203_000013_org_settings;
mod m20261203_000014_result_lookups;
mod m20261204_000015_audit_pending;
mod m20261206_000016_redaction;
mod m20261208_000017_retention;

/// Applies the migrations in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_tenancy_and_keys::Migration),
            Box::new(m20261126_000002_workflows::Migration),
            Box::new(m20261126_000003_sessions::Migration),
            Box::new(m20261126_000004_watchlists::Migration),
            Box::new(m20261126_000005_webhooks::Migration),
            Box::new(m20261126_000006_claim_indexes::Migration),
            Box::new(m20261201_000007_revisions::Migration),
            Box::new(m20261202_000008_org_users::Migration),
            Box::new(m20261202_000009_audit_events::Migration),
            Box::new(m20261202_000010_identities::Migration),
            Box::new(m20261202_000011_cases::Migration),
            Box::new(m20261202_000012_case_links::Migration),
            Box::new(m20261203_000013_org_settings::Migration),
            Box::new(m20261203_000014_result_lookups::Migration),
            Box::new(m20261204_000015_audit_pending::Migration),
            Box::new(m20261206_000016_redaction::Migration),
            Box::new(m20261208_000017_retention::Migration),
        ]
    }
}
