//! The repository contract suite: one case per MUST clause of the store ports, written against
//! the ports only, so the same cases run on every implementation (the sea-orm adapter on SQLite
//! and Postgres, the in-memory fakes). A case that passes on one and fails on another is a bug
//! in whichever breaks the port's documented contract.
//!
//! Each case is `pub async fn case(stores: Stores)` and asserts what is stored afterwards, read
//! back through the ports, not just the result code. [`contract_suite!`](crate::contract_suite)
//! turns every case into a test for one implementation:
//!
//! ```ignore
//! async fn stores() -> (Stores, TestDatabase) { /* connect, migrate */ }
//! verifa_testkit::contract_suite!(sqlite, stores);
//! ```
//!
//! Cases are grouped by port: [`sessions`], [`runs`], [`webhooks`], [`workflows`],
//! [`idempotency`], [`api_keys`], [`org_users`], and the revision [`fences`] of every overwrite; [`fixtures`] builds the rows they need.

pub mod api_keys;
pub mod audit;
pub mod cases;
pub mod fences;
pub mod fixtures;
pub mod idempotency;
pub mod identities;
pub mod identity_search;
pub mod org_users;
pub mod runs;
pub mod sessions;
pub mod settings;
pub mod webhooks;
pub mod workflows;

use std::sync::Arc;
use verifa_ports::api_keys::ApiKeyRepository;
use verifa_ports::audit::AuditLog;
use verifa_ports::cases::CaseStore;
use verifa_ports::idempotency::IdempotencyStore;
use verifa_ports::identities::{IdentityStore, IdentityTypeStore};
use verifa_ports::org_users::OrgUserRepository;
use verifa_ports::organizations::OrganizationRepository;
use verifa_ports::runs::RunStore;
use verifa_ports::sessions::{
    DataKeyStore, SessionDocuments, SessionEventLog, SessionRedaction, SessionStore,
};
use verifa_ports::settings::SettingsStore;
use verifa_ports::webhook_store::{DeliveryStore, EndpointStore, OutboxFanOut};
use verifa_ports::workflows::{DraftStore, WorkflowStore};

/// Every store port of one implementation, over one fresh, empty store.
#[derive(Clone)]
pub struct Stores {
    /// Organizations (the tenants every other row belongs to).
    pub organizations: Arc<dyn OrganizationRepository>,
    /// Sessions and their changes.
    pub sessions: Arc<dyn SessionStore>,
    /// Document metadata.
    pub documents: Arc<dyn SessionDocuments>,
    /// The session event log.
    pub events: Arc<dyn SessionEventLog>,
    /// Redaction and the blob-deletion queue.
    pub redaction: Arc<dyn SessionRedaction>,
    /// Wrapped data keys.
    pub data_keys: Arc<dyn DataKeyStore>,
    /// Workflow runs.
    pub runs: Arc<dyn RunStore>,
    /// Workflows and versions.
    pub workflows: Arc<dyn WorkflowStore>,
    /// Workflow drafts.
    pub drafts: Arc<dyn DraftStore>,
    /// Webhook endpoints.
    pub endpoints: Arc<dyn EndpointStore>,
    /// The outbox fan-out cursor.
    pub fan_out: Arc<dyn OutboxFanOut>,
    /// Webhook deliveries.
    pub deliveries: Arc<dyn DeliveryStore>,
    /// Idempotency keys.
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// API keys.
    pub api_keys: Arc<dyn ApiKeyRepository>,
    /// Organization users.
    pub org_users: Arc<dyn OrgUserRepository>,
    /// Manual-review cases.
    pub cases: Arc<dyn CaseStore>,
    /// Identities.
    pub identities: Arc<dyn IdentityStore>,
    /// Identity types.
    pub identity_types: Arc<dyn IdentityTypeStore>,
    /// Organization settings.
    pub settings: Arc<dyn SettingsStore>,
    /// The audit trail.
    pub audit: Arc<dyn AuditLog>,
}

impl Stores {
    /// Every port served by one store that implements them all.
    pub fn of<S>(store: Arc<S>) -> Self
    where
        S: OrganizationRepository
            + SessionStore
            + SessionDocuments
            + SessionEventLog
            + SessionRedaction
            + DataKeyStore
            + RunStore
            + WorkflowStore
            + DraftStore
            + EndpointStore
            + OutboxFanOut
            + DeliveryStore
            + IdempotencyStore
            + ApiKeyRepository
            + OrgUserRepository
            + IdentityStore
            + CaseStore
            + IdentityTypeStore
            + SettingsStore
            + AuditLog
            + 'static,
    {
        Self {
            organizations: store.clone(),
            sessions: store.clone(),
            documents: store.clone(),
            events: store.clone(),
            redaction: store.clone(),
            data_keys: store.clone(),
            runs: store.clone(),
            workflows: store.clone(),
            drafts: store.clone(),
            endpoints: store.clone(),
            fan_out: store.clone(),
            deliveries: store.clone(),
            idempotency: store.clone(),
            api_keys: store.clone(),
            org_users: store.clone(),
            cases: store.clone(),
            identities: store.clone(),
            identity_types: store.clone(),
            settings: store.clone(),
            audit: store,
        }
    }
}

/// Generates the contract suite for one implementation: a module `$mod_name` with one
/// `#[tokio::test]` (multi-threaded, so concurrency cases really race) per case.
///
/// `$factory` is called once per test, with no argument, and returns a future of
/// `(Stores, guard)`: fresh, empty stores and whatever keeps them alive (a `TestDatabase`, or
/// `()`), dropped when the test ends.
#[macro_export]
macro_rules! contract_suite {
    ($mod_name:ident, $factory:expr $(,)?) => {
        $crate::__contract_cases!($mod_name, $factory;
            sessions::session_insert_refuses_an_existing_id,
            sessions::session_apply_is_a_compare_and_set_on_status,
            sessions::refused_change_writes_nothing,
            sessions::session_reads_are_tenant_scoped,
            sessions::run_start_deletes_earlier_runs_and_their_attempts,
            sessions::events_get_increasing_seq_in_order,
            sessions::session_list_is_newest_first_with_id_tie_break,
            sessions::put_document_replaces_the_same_type_and_returns_the_previous,
            sessions::stale_capture_sessions_filters_and_orders,
            sessions::redaction_destroys_the_stored_personal_data,
            sessions::redaction_is_fenced_like_any_change,
            sessions::blob_deletions_wait_until_confirmed,
            sessions::retention_due_selects_finished_sessions_per_pass,
            sessions::settings_with_retention_lists_tenants_with_a_period,
            sessions::data_keys_are_listed_and_replaced_by_compare_and_set,
            runs::claim_run_is_exclusive_under_concurrency,
            runs::claim_run_takes_the_earliest_due_first,
            runs::claim_run_respects_due_time_and_unexpired_leases,
            runs::claim_run_advances_the_revision,
            runs::commit_run_is_fenced_on_revision_and_lease_owner,
            runs::commit_without_a_lease_frees_the_run,
            runs::commit_run_writes_attempts_and_session_change_together,
            runs::commits_never_change_the_pinned_graph,
            webhooks::fan_out_is_a_compare_and_set_on_the_cursor,
            webhooks::claim_due_is_exclusive_under_concurrency,
            webhooks::claim_due_keeps_per_session_order_per_endpoint,
            webhooks::claim_due_skips_disabled_endpoints_and_unexpired_leases,
            webhooks::finish_attempts_is_fenced_on_the_lease,
            webhooks::breaker_disables_at_the_threshold,
            webhooks::batch_of_attempts_keeps_the_streak_order,
            webhooks::requeue_failed_only_from_failed,
            webhooks::delete_endpoint_deletes_its_deliveries,
            webhooks::webhook_reads_are_tenant_scoped,
            webhooks::deliveries_for_session_span_endpoints,
            workflows::publish_is_a_compare_and_set_on_the_head_version,
            workflows::publish_marks_the_draft_published,
            workflows::one_default_per_tenant,
            workflows::stored_versions_are_returned_byte_for_byte,
            workflows::workflow_reads_are_tenant_scoped,
            idempotency::concurrent_claims_of_one_key_acquire_once,
            idempotency::completed_key_replays_its_response,
            idempotency::stale_records_are_taken_over,
            idempotency::release_frees_only_an_in_progress_key,
            idempotency::keys_are_per_tenant,
            api_keys::secret_hash_lookup_crosses_tenants,
            api_keys::api_key_reads_are_tenant_scoped,
            api_keys::duplicate_secret_hash_is_a_conflict,
            fences::session_apply_is_fenced_on_the_revision,
            fences::update_head_is_fenced_on_the_revision,
            fences::update_draft_is_fenced_on_the_revision,
            fences::update_endpoint_is_fenced_on_the_revision,
            fences::api_key_update_is_fenced_on_the_revision,
            fences::last_key_administrator_survives_a_race,
            org_users::emails_are_unique_across_the_instance_whatever_their_case,
            org_users::concurrent_inserts_of_one_email_store_one,
            org_users::org_user_reads_are_scoped_to_the_organization,
            org_users::org_user_list_filters_by_role_activity_and_text,
            org_users::org_user_update_is_fenced_on_the_revision,
            org_users::last_active_admin_survives_a_race,
            audit::audit_chains_are_gapless_per_tenant,
            audit::concurrent_appends_never_share_a_sequence,
            audit::sealing_races_appends_and_reads,
            audit::audit_events_commit_with_their_change,
            audit::audit_list_filters_and_orders,
            identities::completing_session_upserts_its_identity,
            identities::concurrent_completions_of_one_person_make_one_identity,
            identities::identity_external_ref_is_unique_per_tenant,
            identities::identity_update_is_fenced_and_lists_filter,
            identities::identity_types_keep_one_default,
            identities::merge_moves_sessions_atomically,
            identities::identity_redaction_is_all_or_nothing,
            identity_search::identity_search_matches_hashes_of_one_result,
            identity_search::identity_search_follows_result_writes_and_merges,
            cases::a_case_opens_with_its_session_change,
            cases::case_updates_are_fenced_and_commit_with_the_session,
            cases::the_queue_orders_by_priority_then_time,
            cases::claim_next_takes_distinct_cases_in_queue_order,
            settings::settings_are_fenced_and_tenant_scoped,
            settings::concurrent_first_saves_store_one,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __contract_cases {
    ($mod_name:ident, $factory:expr; $($file:ident :: $case:ident),* $(,)?) => {
        mod $mod_name {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[$crate::__private::tokio::test(
                    flavor = "multi_thread",
                    worker_threads = 4,
                    crate = "verifa_testkit::__private::tokio"
                )]
                async fn $case() {
                    let (stores, _guard) = ($factory)().await;
                    $crate::contract::$file::$case(stores).await;
                }
            )*
        }
    };
}
