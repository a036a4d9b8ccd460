//! sea-orm entities, one module per table. They mirror the migrations; mapping to domain types
//! lives in the repositories.

pub mod api_keys;
pub mod audit_chains;
pub mod audit_events;
pub mod audit_pending;
pub mod blob_deletions;
pub mod case_notes;
pub mod cases;
pub mod duplicate_fingerprints;
pub mod idempotency_keys;
pub mod identities;
pub mod identity_tags;
pub mod identity_types;
pub mod org_settings;
pub mod org_users;
pub mod organizations;
pub mod result_lookups;
pub mod session_documents;
pub mod session_events;
pub mod session_results;
pub mod sessions;
pub mod watchlist_entries;
pub mod watchlist_meta;
pub mod webhook_deliveries;
pub mod webhook_endpoints;
pub mod webhook_fanout_cursor;
pub mod workflow_drafts;
pub mod workflow_node_executions;
pub mod workflow_runs;
pub mod workflow_versions;
pub mod workflows;
