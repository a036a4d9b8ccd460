//! The [`WorkflowRun`] entity and its next piece of [`Work`].

use crate::session::Session;
use crate::tenancy::Tenant;
use crate::workflow::{Event, Graph, Outcome, RunContext, RunState, RunStatus, SessionFacts};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The next piece of work of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Work {
    /// Feed this event to the engine.
    Apply {
        /// The event.
        event: Event,
    },
    /// Execute a check, then feed `CheckFinished`.
    Execute {
        /// Node.
        node_id: String,
        /// Policy.
        policy: String,
        /// Config.
        config: Value,
        /// Attempt number (the same after a crash).
        attempt: u32,
    },
}

/// Who holds a run, and until when. The owner stays after the lease lapses so that the revision
/// fence of a late commit still names it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lease {
    /// Worker holding (or last holding) the lease.
    pub owner: Option<String>,
    /// Lease expiry; `None` or past means free.
    pub until: Option<DateTime<Utc>>,
}

/// The workflow version a run executes, chosen once when it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct PinnedVersion {
    /// `wfl_…`.
    pub workflow_id: String,
    /// Version number.
    pub version: i32,
    /// The version's executable graph.
    pub graph: Graph,
}

/// A workflow run of one session.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowRun {
    /// `wfr_…`.
    pub id: String,
    /// Owner.
    pub tenant: Tenant,
    /// Session.
    pub session_id: String,
    /// Workflow (empty for a simulation of a session without one).
    pub workflow_id: String,
    /// Version chosen by the rollout map (0 for simulations).
    pub workflow_version: i32,
    /// The pinned graph (`None` for simulations, which run no graph).
    pub graph: Option<Graph>,
    /// The engine's state.
    pub state: RunState,
    /// What to do next, if anything.
    pub work: Option<Work>,
    /// When the work is due (`None`: the run waits for an outside event).
    pub due: Option<DateTime<Utc>>,
    /// The worker lease.
    pub lease: Lease,
    /// Incremented on every write (fencing).
    pub revision: i32,
    /// Written by `simulate`.
    pub simulated: bool,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl WorkflowRun {
    /// A pending run of `pinned` for `session`, due at once (`id` from the caller).
    pub fn start(id: String, session: &Session, pinned: PinnedVersion, now: DateTime<Utc>) -> Self {
        Self {
            id,
            tenant: session.tenant.clone(),
            session_id: session.id.clone(),
            workflow_id: pinned.workflow_id,
            workflow_version: pinned.version,
            graph: Some(pinned.graph),
            state: RunState::new(context_of(session)),
            work: Some(Work::Apply {
                event: Event::Start,
            }),
            due: Some(now),
            lease: Lease::default(),
            revision: 0,
            simulated: false,
            created_at: now,
            updated_at: now,
        }
    }

    /// A run that a sandbox simulation completed at once in `state` (see
    /// [`simulate_outcome`](crate::workflow::simulate_outcome)); it has no work to do.
    pub fn simulated(
        id: String,
        session: &Session,
        pinned: PinnedVersion,
        state: RunState,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            tenant: session.tenant.clone(),
            session_id: session.id.clone(),
            workflow_id: pinned.workflow_id,
            workflow_version: pinned.version,
            graph: Some(pinned.graph),
            state,
            work: None,
            due: None,
            lease: Lease::default(),
            revision: 0,
            simulated: true,
            created_at: now,
            updated_at: now,
        }
    }

    /// Lifecycle status.
    pub fn status(&self) -> RunStatus {
        self.state.status
    }

    /// Outcome once completed.
    pub fn final_status(&self) -> Option<Outcome> {
        self.state.final_status
    }

    /// Whether the run can be restarted at a node.
    pub fn is_resumable(&self) -> bool {
        matches!(self.state.status, RunStatus::Paused | RunStatus::Failed)
    }

    /// Queues an outside event (a gate decision, a resume) to be applied at once.
    pub fn queue(&mut self, event: Event, now: DateTime<Utc>) {
        self.work = Some(Work::Apply { event });
        self.due = Some(now);
        self.updated_at = now;
    }
}

/// The facts conditions see under `session.`, frozen when the run starts.
fn context_of(session: &Session) -> RunContext {
    RunContext {
        extracted_data: Map::new(),
        session: SessionFacts {
            country: session.country.clone(),
            metadata: session.metadata.clone(),
            is_sandbox: session.tenant.environment.is_sandbox(),
        },
    }
}
