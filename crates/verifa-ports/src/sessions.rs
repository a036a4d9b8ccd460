//! Sessions, their documents, results, event log and workflow runs. Every state change of a
//! session is one [`SessionChange`], committed atomically together with its events (the outbox)
//! and, where relevant, a run write.

use crate::RepoError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::session::SessionStatus;
use verifa_domain::tenancy::Tenant;

/// A session row.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    /// `ses_…`.
    pub id: String,
    /// Owner.
    pub tenant: Tenant,
    /// Status.
    pub status: SessionStatus,
    /// Workflow chosen at creation (default workflow otherwise).
    pub workflow_id: Option<String>,
    /// Caller's reference.
    pub external_ref: Option<String>,
    /// Caller's metadata.
    pub metadata: Map<String, Value>,
    /// ISO country.
    pub country: Option<String>,
    /// Per-session check overrides.
    pub checks: Option<Vec<String>>,
    /// Pre-fill fields, encrypted.
    pub fields_encrypted: Option<String>,
    /// Where the capture flow returns.
    pub redirect_url: Option<String>,
    /// SHA-256 of the capture token.
    pub capture_token_hash: Option<String>,
    /// Token expiry.
    pub token_expires_at: Option<DateTime<Utc>>,
    /// Detected or declared document type.
    pub document_type: Option<String>,
    /// `active` | `sensitive_redacted` | `redacted`.
    pub retention_status: String,
    /// Runs started.
    pub processing_attempts: i32,
    /// IP of consent.
    pub consent_ip: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// When it expired.
    pub expired_at: Option<DateTime<Utc>>,
    /// When it completed.
    pub completed_at: Option<DateTime<Utc>>,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A stored document's metadata (bytes live in document storage, encrypted).
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentRecord {
    /// `doc_…`.
    pub id: String,
    /// Session.
    pub session_id: String,
    /// Owner.
    pub tenant: Tenant,
    /// `id_front` | `id_back` | `selfie` | `proof_of_address`.
    pub document_type: String,
    /// Sniffed MIME type.
    pub mime_type: String,
    /// Plaintext size.
    pub file_size_bytes: i64,
    /// Storage key.
    pub storage_key: String,
    /// SHA-256 of the plaintext.
    pub sha256: String,
    /// Text submitted with the document (MRZ), encrypted.
    pub text_encrypted: Option<String>,
    /// Upload time.
    pub created_at: DateTime<Utc>,
}

/// The decision of a session.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultRecord {
    /// Session.
    pub session_id: String,
    /// Owner.
    pub tenant: Tenant,
    /// `approved` | `rejected` | `needs_review`.
    pub status: String,
    /// The result object minus extracted data.
    pub result: Value,
    /// Extracted data, encrypted.
    pub extracted_data_encrypted: Option<String>,
    /// Why it was rejected.
    pub rejection_reason: Option<String>,
    /// Run that decided.
    pub workflow_run_id: Option<String>,
    /// Written by `simulate`.
    pub simulated: bool,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// An event to append to the session event log (and webhook outbox).
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// `evt_…`.
    pub id: String,
    /// Catalogue name (`session.approved`, …).
    pub event_type: String,
    /// Flat event fields; never PII.
    pub data: Value,
}

/// An appended event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    /// Position in the log.
    pub seq: i64,
    /// `evt_…`.
    pub id: String,
    /// Session.
    pub session_id: String,
    /// Event name.
    pub event_type: String,
    /// Fields.
    pub data: Value,
    /// Time.
    pub created_at: DateTime<Utc>,
}

/// A workflow run row. `state` is the engine's `RunState` as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    /// `wfr_…`.
    pub id: String,
    /// Owner.
    pub tenant: Tenant,
    /// Session.
    pub session_id: String,
    /// Workflow.
    pub workflow_id: String,
    /// Version chosen by the rollout map.
    pub workflow_version: i32,
    /// `pending` | `running` | `paused` | `completed` | `failed`.
    pub status: String,
    /// Outcome.
    pub final_status: Option<String>,
    /// Current node.
    pub current_node: Option<String>,
    /// Gate the run waits at.
    pub paused_at_node: Option<String>,
    /// The graph as JSON text.
    pub graph_snapshot: String,
    /// Engine state as JSON text.
    pub state: String,
    /// Written by `simulate`.
    pub simulated: bool,
    /// When a worker should pick the run up (`None`: waits for an outside event).
    pub runnable_at: Option<DateTime<Utc>>,
    /// The next engine event to apply, as JSON (decisions, resumes), if any.
    pub next_event: Option<String>,
    /// Worker holding the lease.
    pub lease_owner: Option<String>,
    /// Lease expiry.
    pub lease_until: Option<DateTime<Utc>>,
    /// Incremented on every write (fencing).
    pub revision: i32,
    /// Start.
    pub started_at: Option<DateTime<Utc>>,
    /// End.
    pub completed_at: Option<DateTime<Utc>>,
    /// Duration.
    pub duration_ms: Option<i64>,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// One executed node attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeExecutionRecord {
    /// `nex_…`.
    pub id: String,
    /// Run.
    pub run_id: String,
    /// Owner.
    pub tenant: Tenant,
    /// Session.
    pub session_id: String,
    /// Workflow.
    pub workflow_id: String,
    /// Version.
    pub workflow_version: i32,
    /// Node.
    pub node_id: String,
    /// Node type.
    pub node_type: String,
    /// Policy.
    pub policy: Option<String>,
    /// Check status.
    pub status: String,
    /// Attempt number.
    pub attempt: i32,
    /// Output.
    pub output: Option<Value>,
    /// Error.
    pub error: Option<String>,
    /// Start.
    pub started_at: DateTime<Utc>,
    /// End.
    pub completed_at: DateTime<Utc>,
    /// Duration.
    pub duration_ms: i64,
}

/// A run to write with a session change.
#[derive(Debug, Clone, PartialEq)]
pub enum RunWrite {
    /// A new run; any earlier run of the session is deleted (trigger / reprocess replace it).
    Start(RunRecord),
    /// Update the run (decision, resume) — fenced on its revision.
    Update {
        /// New values.
        run: RunRecord,
        /// Revision read before the change.
        expected_revision: i32,
    },
}

/// An atomic change of a session: the new row (compare-and-set on the status it was read with),
/// events to append, a result to write or clear, a run to write.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionChange {
    /// The session after the change.
    pub session: SessionRecord,
    /// The status it had when read; the write fails with `Conflict` if it changed since.
    pub expected_status: SessionStatus,
    /// Events to append.
    pub events: Vec<NewEvent>,
    /// A result to insert or replace.
    pub result: Option<ResultRecord>,
    /// Remove the current result (a re-run starts).
    pub clear_result: bool,
    /// A run to write.
    pub run: Option<RunWrite>,
}

/// Filters of the session list.
#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    /// Status.
    pub status: Option<SessionStatus>,
    /// Session id or external reference.
    pub q: Option<String>,
    /// External reference.
    pub external_ref: Option<String>,
}

/// Stores sessions and runs.
#[async_trait]
pub trait SessionRepository: Send + Sync {
    /// Inserts a new session with its events.
    async fn insert(&self, session: &SessionRecord, events: &[NewEvent]) -> Result<(), RepoError>;

    /// Gets a session of the tenant. [`RepoError::NotFound`] when absent.
    async fn get(&self, tenant: &Tenant, id: &str) -> Result<SessionRecord, RepoError>;

    /// Lists sessions, newest first.
    async fn list(
        &self,
        tenant: &Tenant,
        filter: &SessionFilter,
        page: PageRequest,
    ) -> Result<Page<SessionRecord>, RepoError>;

    /// Applies a change atomically.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when the session's status is no longer `expected_status`, or a
    /// fenced run update lost its race.
    async fn apply(&self, change: &SessionChange) -> Result<(), RepoError>;

    /// Stores a document (replacing the one of the same type) with the session change that goes
    /// with it; returns the replaced document, whose bytes the caller deletes.
    async fn put_document(
        &self,
        document: &DocumentRecord,
        change: &SessionChange,
    ) -> Result<Option<DocumentRecord>, RepoError>;

    /// Documents of a session.
    async fn documents(
        &self,
        tenant: &Tenant,
        session_id: &str,
    ) -> Result<Vec<DocumentRecord>, RepoError>;

    /// The session's result.
    async fn result(
        &self,
        tenant: &Tenant,
        session_id: &str,
    ) -> Result<Option<ResultRecord>, RepoError>;

    /// The session's event log, oldest first.
    async fn events(
        &self,
        tenant: &Tenant,
        session_id: &str,
        page: PageRequest,
    ) -> Result<Page<EventRecord>, RepoError>;

    /// The session's current run.
    async fn run_for_session(
        &self,
        tenant: &Tenant,
        session_id: &str,
    ) -> Result<Option<RunRecord>, RepoError>;

    /// Node attempts of the session's current run, oldest first, optionally for one policy.
    async fn executions(
        &self,
        tenant: &Tenant,
        session_id: &str,
        policy: Option<&str>,
    ) -> Result<Vec<NodeExecutionRecord>, RepoError>;

    /// Sessions of any tenant still `pending` or `capturing` whose capture token expired before
    /// `now`, oldest first, at most `limit`.
    async fn stale_capture_sessions(
        &self,
        now: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<SessionRecord>, RepoError>;

    /// Claims the next runnable run (runnable_at ≤ now, lease free or expired) for `owner`.
    /// Concurrent claimers MUST never get the same run.
    async fn claim_run(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<RunRecord>, RepoError>;

    /// Commits one engine step of a claimed run: the run (fenced on owner and revision), its new
    /// node attempts, and the session change it causes — atomically.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when the lease was lost.
    async fn commit_run(
        &self,
        run: &RunRecord,
        expected_revision: i32,
        executions: &[NodeExecutionRecord],
        change: Option<&SessionChange>,
    ) -> Result<(), RepoError>;
}
