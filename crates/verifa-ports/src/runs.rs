//! Workflow runs: claiming runnable runs under a lease, committing their steps, and reading them
//! with their node attempts.

use crate::RepoError;
use crate::sessions::SessionChange;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use verifa_domain::run::WorkflowRun;
use verifa_domain::tenancy::Tenant;
use verifa_domain::workflow::{AttemptRecord, NodeType};

/// One stored node attempt of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeExecution {
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
    /// Node type.
    pub node_type: NodeType,
    /// The attempt as the engine recorded it.
    pub attempt: AttemptRecord,
}

/// A node attempt to store with a step (`nex_…` id chosen by the caller); the run's identity
/// columns come from the run it is committed with.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAttempt {
    /// `nex_…`.
    pub id: String,
    /// The attempt.
    pub attempt: AttemptRecord,
}

/// Stores runs.
#[async_trait]
pub trait RunStore: Send + Sync {
    /// The session's current run (the newest), if any; `None` for another tenant's session.
    async fn run_for_session(
        &self,
        tenant: &Tenant,
        session_id: &str,
    ) -> Result<Option<WorkflowRun>, RepoError>;

    /// Node attempts of the session's current run, oldest first (by start, then attempt),
    /// optionally for one policy.
    async fn executions(
        &self,
        tenant: &Tenant,
        session_id: &str,
        policy: Option<&str>,
    ) -> Result<Vec<NodeExecution>, RepoError>;

    /// Claims the next runnable run of any tenant — due (`due ≤ now`) and not leased (no
    /// `lease.until`, or one before `now`) — for `owner` until `lease_until`, earliest due first.
    ///
    /// MUST be exclusive: concurrent claimers (threads, processes, replicas) never get the same
    /// run while its lease holds. The claim MUST advance the revision, so a commit fenced on the
    /// revision read before it fails.
    async fn claim_run(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<WorkflowRun>, RepoError>;

    /// Commits one step of a claimed run, atomically: the run (its state, work, due time, lease,
    /// revision and update time), its new node attempts, and the session change it causes.
    ///
    /// MUST be fenced: it writes only when the stored run still has `expected_revision` and the
    /// lease owner of `run.lease`; otherwise nothing (attempts and session change included) is
    /// written. The pinned graph and the run's identity are never changed by a commit.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when the fence fails (the lease was lost) or the session change
    /// conflicts.
    async fn commit_run(
        &self,
        run: &WorkflowRun,
        expected_revision: i32,
        attempts: &[NewAttempt],
        change: Option<&SessionChange>,
    ) -> Result<(), RepoError>;
}
