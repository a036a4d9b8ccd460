//! sea-orm entities, one module per table. They mirror the migrations; mapping to domain types
//! lives in the repositories.

pub mod api_keys;
pub mod idempotency_keys;
pub mod organizations;
pub mod workflow_drafts;
pub mod workflow_node_executions;
pub mod workflow_runs;
pub mod workflow_versions;
pub mod workflows;
pub mod duplicate_fingerprints;
pub mod watchlist_entries;
pub mod watchlist_meta;
