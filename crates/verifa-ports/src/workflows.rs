//! Workflows storage: workflows with their immutable versions and rollout maps
//! ([`WorkflowStore`]), drafts ([`DraftStore`]) and the run statistics behind analytics
//! ([`WorkflowAnalytics`]).

use crate::RepoError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use verifa_domain::audit::AuditDraft;
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::tenancy::Tenant;
use verifa_domain::workflow::{
    DraftStatus, Format, Outcome, RolloutEntry, RunStatus, VersionSource,
};

/// A workflow row (its mutable head).
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowRecord {
    /// `wfl_…`.
    pub id: String,
    /// Owner.
    pub tenant: Tenant,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Newest version number (the optimistic-concurrency counter).
    pub version: i32,
    /// Default workflow of the tenant.
    pub is_default: bool,
    /// Accepts new sessions.
    pub is_active: bool,
    /// Authoring format of the newest version.
    pub format: Format,
    /// Screening settings (free object).
    pub screening_settings: Option<Value>,
    /// Builder layout (free object).
    pub graph_layout: Option<Value>,
    /// Rollout map.
    pub rollout: Vec<RolloutEntry>,
    /// When the rollout map last changed.
    pub rollout_updated_at: DateTime<Utc>,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Incremented by every stored change of the head; an update names the revision it read.
    pub revision: i32,
}

/// An immutable version. `graph_json` stays text on purpose: a version is stored and returned
/// byte for byte, so its content hash and every run's snapshot of it never drift.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionRecord {
    /// `wfv_…`.
    pub id: String,
    /// Workflow.
    pub workflow_id: String,
    /// Owner.
    pub tenant: Tenant,
    /// Version number (1, 2, …).
    pub version: i32,
    /// Authoring format.
    pub format: Format,
    /// The executable graph (after normalisation and auto-injection), as JSON text.
    pub graph_json: String,
    /// The legacy steps as submitted, as JSON text.
    pub steps_json: Option<String>,
    /// Data requirements, as JSON text.
    pub data_requirements_json: Option<String>,
    /// Why it was created.
    pub source: VersionSource,
    /// Draft published into this version.
    pub draft_id: Option<String>,
    /// Key that created it.
    pub created_by: String,
    /// sha256 of the canonical graph JSON.
    pub content_hash: String,
    /// Creation.
    pub created_at: DateTime<Utc>,
}

/// A draft.
#[derive(Debug, Clone, PartialEq)]
pub struct DraftRecord {
    /// `wfd_…`.
    pub id: String,
    /// Workflow.
    pub workflow_id: String,
    /// Owner.
    pub tenant: Tenant,
    /// Workflow version the draft started from.
    pub base_version: i32,
    /// Name to publish.
    pub name: String,
    /// Description to publish.
    pub description: Option<String>,
    /// Authoring format.
    pub format: Format,
    /// Graph as edited (may be invalid).
    pub graph: Option<Value>,
    /// Steps as edited.
    pub steps: Option<Value>,
    /// Data requirements.
    pub data_requirements: Option<Value>,
    /// Builder layout.
    pub graph_layout: Option<Value>,
    /// Open, published or discarded.
    pub status: DraftStatus,
    /// Version created by publishing.
    pub published_version: Option<i32>,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Incremented by every stored change; an update names the revision it read.
    pub revision: i32,
}

/// A new version together with the head changes that publish it.
#[derive(Debug, Clone)]
pub struct Publication {
    /// The version row.
    pub version: VersionRecord,
    /// The workflow head after publishing (version bumped, rollout updated).
    pub workflow: WorkflowRecord,
    /// The draft to mark `published`, if any.
    pub draft_id: Option<String>,
}

/// Filters of workflow analytics.
#[derive(Debug, Clone, Default)]
pub struct AnalyticsFilter {
    /// Runs created at or after.
    pub date_from: Option<DateTime<Utc>>,
    /// Runs created before.
    pub date_to: Option<DateTime<Utc>>,
    /// Only this version.
    pub version: Option<i32>,
}

/// Aggregates of one node.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NodeStats {
    /// Node id.
    pub node_id: String,
    /// Policy (policy nodes).
    pub policy: Option<String>,
    /// Attempts executed.
    pub executions: u64,
    /// Passed attempts.
    pub passed: u64,
    /// Failed attempts.
    pub failed: u64,
    /// Errored attempts.
    pub errors: u64,
    /// Attempts that were retries (attempt > 1).
    pub retries: u64,
    /// Attempt durations in milliseconds, ascending (for percentiles).
    pub durations_ms: Vec<i64>,
}

/// Raw run statistics; percentiles are computed by the caller from the sorted durations.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunStats {
    /// Runs.
    pub total: u64,
    /// Count by outcome (`None`: not completed yet).
    pub by_final_status: Vec<(Option<Outcome>, u64)>,
    /// Count by run status.
    pub by_status: Vec<(RunStatus, u64)>,
    /// Count by version.
    pub by_version: Vec<(i32, u64)>,
    /// Durations of completed runs in milliseconds, ascending.
    pub run_durations_ms: Vec<i64>,
    /// Per node.
    pub nodes: Vec<NodeStats>,
}

/// Stores workflows and their immutable versions. Reads are scoped to one tenant: another
/// tenant's workflow MUST be [`RepoError::NotFound`]. Every write appends its `audit` drafts in
/// the same transaction (see [`crate::audit`]); a refused write appends nothing.
#[async_trait]
pub trait WorkflowStore: Send + Sync {
    /// Inserts a workflow with its first version; when `workflow.is_default`, the tenant's
    /// previous default is cleared in the same transaction.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] on a uniqueness violation.
    async fn create(
        &self,
        workflow: &WorkflowRecord,
        first_version: &VersionRecord,
        audit: &[AuditDraft],
    ) -> Result<(), RepoError>;

    /// Gets a workflow of the tenant. [`RepoError::NotFound`] when absent.
    async fn get(&self, tenant: &Tenant, id: &str) -> Result<WorkflowRecord, RepoError>;

    /// The tenant's default workflow, if any.
    async fn get_default(&self, tenant: &Tenant) -> Result<Option<WorkflowRecord>, RepoError>;

    /// Lists workflows, newest first, optionally filtered by `is_active`.
    async fn list(
        &self,
        tenant: &Tenant,
        is_active: Option<bool>,
        page: PageRequest,
    ) -> Result<Page<WorkflowRecord>, RepoError>;

    /// Overwrites name, description, settings, layout and `is_active` (never the version).
    ///
    /// MUST be fenced: writes only when the stored revision still equals the record's `revision`
    /// (the one read), and stores `revision + 1`.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when the row moved on (re-read and retry); [`RepoError::NotFound`]
    /// when absent in the tenant.
    async fn update_head(
        &self,
        workflow: &WorkflowRecord,
        audit: &[AuditDraft],
    ) -> Result<(), RepoError>;

    /// Publishes a version: inserts it, sets the head (version, rollout, format…) only if the
    /// head's version is still `expected_version` and its revision still the one the
    /// publication's head was read at, and marks the draft published — atomically.
    /// Every write of a head (this one, defaults, rollouts) MUST advance its revision.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when another publication won the race.
    async fn publish(
        &self,
        expected_version: i32,
        publication: &Publication,
        audit: &[AuditDraft],
    ) -> Result<(), RepoError>;

    /// Makes `id` the tenant's only default (atomically).
    async fn set_default(
        &self,
        tenant: &Tenant,
        id: &str,
        now: DateTime<Utc>,
        audit: &[AuditDraft],
    ) -> Result<(), RepoError>;

    /// Replaces the rollout map.
    async fn set_rollout(
        &self,
        tenant: &Tenant,
        id: &str,
        entries: &[RolloutEntry],
        now: DateTime<Utc>,
        audit: &[AuditDraft],
    ) -> Result<(), RepoError>;

    /// Versions, newest first.
    async fn versions(
        &self,
        tenant: &Tenant,
        workflow_id: &str,
        page: PageRequest,
    ) -> Result<Page<VersionRecord>, RepoError>;

    /// One version. [`RepoError::NotFound`] when absent.
    async fn version(
        &self,
        tenant: &Tenant,
        workflow_id: &str,
        version: i32,
    ) -> Result<VersionRecord, RepoError>;

    /// Existing version numbers of a workflow.
    async fn version_numbers(
        &self,
        tenant: &Tenant,
        workflow_id: &str,
    ) -> Result<Vec<i32>, RepoError>;
}

/// Stores drafts of workflows.
#[async_trait]
pub trait DraftStore: Send + Sync {
    /// Inserts a draft.
    async fn insert_draft(
        &self,
        draft: &DraftRecord,
        audit: &[AuditDraft],
    ) -> Result<(), RepoError>;

    /// Gets a draft. [`RepoError::NotFound`] when absent.
    async fn draft(
        &self,
        tenant: &Tenant,
        workflow_id: &str,
        draft_id: &str,
    ) -> Result<DraftRecord, RepoError>;

    /// Lists drafts of a workflow, newest first, optionally by status.
    async fn drafts(
        &self,
        tenant: &Tenant,
        workflow_id: &str,
        status: Option<DraftStatus>,
        page: PageRequest,
    ) -> Result<Page<DraftRecord>, RepoError>;

    /// Overwrites a draft.
    ///
    /// MUST be fenced: writes only when the stored revision still equals the record's `revision`
    /// (the one read), and stores `revision + 1`.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when the row moved on (re-read and retry); [`RepoError::NotFound`]
    /// when absent in the tenant.
    async fn update_draft(
        &self,
        draft: &DraftRecord,
        audit: &[AuditDraft],
    ) -> Result<(), RepoError>;
}

/// Aggregates run statistics for workflow analytics.
#[async_trait]
pub trait WorkflowAnalytics: Send + Sync {
    /// Run statistics of a workflow for analytics.
    async fn run_stats(
        &self,
        tenant: &Tenant,
        workflow_id: &str,
        filter: &AnalyticsFilter,
    ) -> Result<RunStats, RepoError>;
}
