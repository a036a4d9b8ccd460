//! The executor's data: run state, node results, attempts, decisions, events, effects, errors.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thiserror::Error;

use crate::workflow::condition::lookup_path;
use crate::workflow::model::{NodeKind, Outcome};

/// Lifecycle of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Created, not started.
    Pending,
    /// Executing (a check is in flight or a retry is scheduled).
    Running,
    /// Waiting at an external gate.
    Paused,
    /// Reached an outcome.
    Completed,
    /// Stopped by an infrastructure failure (set by the application); may be resumed.
    Failed,
}

impl RunStatus {
    /// Every variant, in declaration order.
    pub const ALL: [RunStatus; 5] = [
        RunStatus::Pending,
        RunStatus::Running,
        RunStatus::Paused,
        RunStatus::Completed,
        RunStatus::Failed,
    ];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Pending => "pending",
            RunStatus::Running => "running",
            RunStatus::Paused => "paused",
            RunStatus::Completed => "completed",
            RunStatus::Failed => "failed",
        }
    }
}

/// Status of a check (and of a node result).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// Executing.
    Pending,
    /// Completed and passed.
    Passed,
    /// Completed, subject did not pass.
    Failed,
    /// Unrecoverable error.
    Error,
    /// Prerequisites missing.
    Skipped,
    /// Transient failure; retried with backoff.
    RequiresRetry,
}

impl CheckStatus {
    /// Every variant, in declaration order.
    pub const ALL: [CheckStatus; 6] = [
        CheckStatus::Pending,
        CheckStatus::Passed,
        CheckStatus::Failed,
        CheckStatus::Error,
        CheckStatus::Skipped,
        CheckStatus::RequiresRetry,
    ];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pending => "pending",
            CheckStatus::Passed => "passed",
            CheckStatus::Failed => "failed",
            CheckStatus::Error => "error",
            CheckStatus::Skipped => "skipped",
            CheckStatus::RequiresRetry => "requires_retry",
        }
    }
}

/// Node type as shown in `node_results`.
pub type NodeType = NodeKind;

/// One `node_results` entry (CONTRACT §2.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeResult {
    /// Node type.
    pub node_type: NodeType,
    /// Policy name (null for non-policy nodes).
    pub policy: Option<String>,
    /// Status (see the module docs for non-policy nodes).
    pub status: CheckStatus,
    /// Pass/fail verdict; null while pending, on error/skip, and for routing nodes.
    pub passed: Option<bool>,
    /// Check attempts made during this visit (0 for non-policy nodes).
    pub attempts: u32,
    /// When the node was entered.
    pub started_at: Option<DateTime<Utc>>,
    /// When the node finished.
    pub completed_at: Option<DateTime<Utc>>,
    /// Total check time reported by the executors (policy) or wall time (wait), in ms.
    pub duration_ms: Option<u64>,
    /// Where the run went next.
    pub next_node: Option<String>,
    /// Check output (policy), `{matched_condition}` (conditional), `{outcome}` (terminal).
    pub output: Value,
    /// Error detail, if any.
    pub error: Option<String>,
    /// A reviewer's override of the check's verdict (the node then counts as passed).
    #[serde(default, rename = "override", skip_serializing_if = "Option::is_none")]
    pub check_override: Option<CheckOverride>,
}

/// A reviewer's override of a failed or errored check (CONTRACT §8.4): the node counts as
/// passed and the run went on at its `on_pass`. The attempts keep what the check reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckOverride {
    /// The reviewer (`orguser_…`).
    pub by: String,
    /// Why.
    pub reason: String,
    /// When.
    pub at: DateTime<Utc>,
    /// The status the check had.
    pub original_status: CheckStatus,
}

/// One check attempt (immutable once recorded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptRecord {
    /// Node that ran the check.
    pub node_id: String,
    /// Policy name.
    pub policy: String,
    /// Attempt number, 1-based, increasing across retries and resumes for the node.
    pub attempt: u32,
    /// Result status.
    pub status: CheckStatus,
    /// Check output.
    pub output: Value,
    /// Error detail.
    pub error: Option<String>,
    /// `completed_at - duration_ms`.
    pub started_at: DateTime<Utc>,
    /// When the result arrived.
    pub completed_at: DateTime<Utc>,
    /// Reported duration.
    pub duration_ms: u64,
}

/// An external gate decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Go on to the gate's `next`.
    Continue,
    /// Apply the gate's `on_fail`.
    Fail,
    /// Reject at once.
    Reject,
}

impl Decision {
    /// Every variant, in declaration order.
    pub const ALL: [Decision; 3] = [Decision::Continue, Decision::Fail, Decision::Reject];
}

/// A recorded external decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExternalDecision {
    /// Gate node.
    pub node_id: String,
    /// Decision.
    pub decision: Decision,
    /// Caller metadata.
    pub metadata: Value,
    /// When it was applied.
    pub decided_at: DateTime<Utc>,
}

/// Session facts visible to conditions under `session.`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionFacts {
    /// ISO country.
    pub country: Option<String>,
    /// Session metadata.
    #[serde(default)]
    pub metadata: Map<String, Value>,
    /// Sandbox session.
    #[serde(default)]
    pub is_sandbox: bool,
}

/// Data visible to conditions besides check results.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunContext {
    /// Extracted data (seeded by the caller, merged from checks' `output.extracted_data`).
    #[serde(default)]
    pub extracted_data: Map<String, Value>,
    /// Session facts.
    #[serde(default)]
    pub session: SessionFacts,
}

/// The complete, serialisable state of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    /// Lifecycle status.
    pub status: RunStatus,
    /// Current (or last executed) node.
    pub current_node: Option<String>,
    /// Gate the run is paused at.
    pub paused_at_node: Option<String>,
    /// Every node entered, in order (a node entered twice appears twice).
    pub path: Vec<String>,
    /// Latest result per node.
    pub node_results: BTreeMap<String, NodeResult>,
    /// Every check attempt.
    pub attempts: Vec<AttemptRecord>,
    /// Every external decision.
    pub external_decisions: Vec<ExternalDecision>,
    /// Outcome once completed.
    pub final_status: Option<Outcome>,
    /// When `Start` was applied.
    pub started_at: Option<DateTime<Utc>>,
    /// When the run completed.
    pub completed_at: Option<DateTime<Utc>>,
    /// `completed_at - started_at`.
    pub duration_ms: Option<i64>,
    /// Condition context.
    pub context: RunContext,
}

impl RunState {
    /// A pending run with the given context.
    pub fn new(context: RunContext) -> Self {
        Self {
            status: RunStatus::Pending,
            current_node: None,
            paused_at_node: None,
            path: Vec::new(),
            node_results: BTreeMap::new(),
            attempts: Vec::new(),
            external_decisions: Vec::new(),
            final_status: None,
            started_at: None,
            completed_at: None,
            duration_ms: None,
            context,
        }
    }

    /// Latest attempt for a policy.
    fn latest_check(&self, policy: &str) -> Option<&AttemptRecord> {
        self.attempts.iter().rev().find(|a| a.policy == policy)
    }

    /// The status `attempt` counts with: `passed` when it is its node's latest attempt and a
    /// reviewer overrode that node, else what the check reported.
    pub fn effective_status(&self, attempt: &AttemptRecord) -> CheckStatus {
        let overridden = self
            .node_results
            .get(&attempt.node_id)
            .is_some_and(|r| r.check_override.is_some());
        let latest_of_node = self
            .attempts
            .iter()
            .rev()
            .find(|a| a.node_id == attempt.node_id)
            .is_some_and(|a| a.attempt == attempt.attempt);
        if overridden && latest_of_node {
            CheckStatus::Passed
        } else {
            attempt.status
        }
    }

    /// The latest override made on this run, if any.
    pub fn latest_override(&self) -> Option<&CheckOverride> {
        self.node_results
            .values()
            .filter_map(|r| r.check_override.as_ref())
            .max_by_key(|o| o.at)
    }

    /// Resolves a condition field path against the run: `checks.<policy>.status`,
    /// `checks.<policy>.<output...>` (latest attempt per policy), `extracted_data.<...>`,
    /// `session.country`, `session.metadata.<...>`, `session.is_sandbox`.
    pub fn lookup(&self, path: &str) -> Option<Cow<'_, Value>> {
        let mut segs = path.split('.');
        match segs.next()? {
            "checks" => {
                let attempt = self.latest_check(segs.next()?)?;
                let mut rest = segs.peekable();
                match rest.peek() {
                    None => None,
                    Some(&"status") => {
                        rest.next();
                        let status = self.effective_status(attempt).as_str().to_owned();
                        let status = Value::String(status);
                        if rest.peek().is_none() {
                            Some(Cow::Owned(status))
                        } else {
                            None
                        }
                    }
                    Some(_) => lookup_path(&attempt.output, rest).map(Cow::Borrowed),
                }
            }
            "extracted_data" => {
                let first = segs.next()?;
                lookup_path(self.context.extracted_data.get(first)?, segs).map(Cow::Borrowed)
            }
            "session" => match segs.next()? {
                "country" => {
                    let c = self.context.session.country.as_ref()?;
                    segs.next()
                        .is_none()
                        .then(|| Cow::Owned(Value::String(c.clone())))
                }
                "is_sandbox" => segs
                    .next()
                    .is_none()
                    .then_some(Cow::Owned(Value::Bool(self.context.session.is_sandbox))),
                "metadata" => {
                    let first = segs.next()?;
                    lookup_path(self.context.session.metadata.get(first)?, segs).map(Cow::Borrowed)
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// The attempt number the current visit of `node_id` is waiting for (1-based).
    pub(super) fn expected_attempt(&self, node_id: &str) -> u32 {
        let done = self
            .attempts
            .iter()
            .filter(|a| a.node_id == node_id)
            .count();
        u32::try_from(done).unwrap_or(u32::MAX).saturating_add(1)
    }
}

/// Executor tuning passed in as data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutorSettings {
    /// Delay before retry n is `retry_backoff[n-1]`, clamped to the last entry (empty → none).
    pub retry_backoff: Vec<Duration>,
}

impl Default for ExecutorSettings {
    fn default() -> Self {
        Self {
            retry_backoff: [1, 2, 4, 8].map(Duration::from_secs).to_vec(),
        }
    }
}

/// Inputs to the state machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Begin at the entry node.
    Start,
    /// A check finished.
    CheckFinished {
        /// Node that ran it.
        node_id: String,
        /// Attempt number from the `ExecuteCheck` effect.
        attempt: u32,
        /// Result.
        status: CheckStatus,
        /// Output fields.
        output: Value,
        /// Error detail.
        error: Option<String>,
        /// How long the check took.
        duration_ms: u64,
    },
    /// A scheduled retry is due.
    RetryDue {
        /// Node to retry.
        node_id: String,
    },
    /// An external gate decision arrived.
    ExternalDecision {
        /// The decision.
        decision: Decision,
        /// Caller metadata.
        metadata: Value,
    },
    /// A gate's timeout elapsed.
    GateTimeout {
        /// Gate node.
        node_id: String,
    },
    /// Restart a paused or failed run at a node.
    ResumeFrom {
        /// Node to restart at.
        node_id: String,
    },
    /// A reviewer overrode a failed or errored check of a finished run: the node passes and
    /// the run goes on at its `on_pass` (see [`overridable`](super::overridable)).
    OverrideCheck {
        /// The policy node.
        node_id: String,
        /// The reviewer.
        by: String,
        /// Why.
        reason: String,
    },
}

/// Outputs the application must carry out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    /// Run a check and feed back `CheckFinished` with this attempt number.
    ExecuteCheck {
        /// Node.
        node_id: String,
        /// Policy.
        policy: String,
        /// Node config.
        config: Value,
        /// Attempt number.
        attempt: u32,
    },
    /// Feed back `RetryDue` at `at`.
    ScheduleRetry {
        /// Node.
        node_id: String,
        /// The attempt number the retry will run as.
        attempt: u32,
        /// When.
        at: DateTime<Utc>,
    },
    /// The run paused at a gate; feed back `GateTimeout` at `timeout_at` if no decision came.
    PauseAtGate {
        /// Gate.
        node_id: String,
        /// Deadline, if the gate has a timeout.
        timeout_at: Option<DateTime<Utc>>,
    },
    /// The run ended.
    Complete {
        /// Outcome.
        outcome: Outcome,
    },
}

/// Result of one step.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// New state.
    pub state: RunState,
    /// Effects to carry out, in order.
    pub effects: Vec<Effect>,
}

/// Illegal events and graph inconsistencies.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ExecError {
    /// Any event after completion.
    #[error("the run is already completed")]
    RunCompleted,
    /// `Start` on a run that is not pending.
    #[error("the run has already started")]
    AlreadyStarted,
    /// An event that needs a started run on a pending one.
    #[error("the run has not started")]
    NotStarted,
    /// A decision or timeout while not paused (or at another gate).
    #[error("the run is not paused at gate '{0}'")]
    NotPaused(String),
    /// `CheckFinished` for a node that is not the pending check.
    #[error("node '{0}' has no check in flight")]
    NotPendingNode(String),
    /// `CheckFinished` with another attempt number than the one in flight.
    #[error("node '{node_id}' is waiting for attempt {expected}, got {got}")]
    WrongAttempt {
        /// Node.
        node_id: String,
        /// Attempt in flight.
        expected: u32,
        /// Attempt reported.
        got: u32,
    },
    /// `CheckFinished` reporting `pending`.
    #[error("a finished check cannot have status 'pending'")]
    PendingResult,
    /// `RetryDue` for a node with no retry scheduled.
    #[error("node '{0}' has no retry scheduled")]
    NoRetryScheduled(String),
    /// `ResumeFrom` on a run that is neither paused nor failed.
    #[error("only a paused or failed run can be resumed")]
    NotResumable,
    /// A node id that is not in the graph.
    #[error("unknown node '{0}'")]
    UnknownNode(String),
    /// `OverrideCheck` on a node or a run that does not allow it.
    #[error("node '{node_id}' cannot be overridden: {detail}")]
    NotOverridable {
        /// Node.
        node_id: String,
        /// Why not.
        detail: String,
    },
    /// The graph routes somewhere impossible (e.g. a dangling edge).
    #[error("graph inconsistency at node '{node_id}': {detail}")]
    GraphInconsistent {
        /// Node.
        node_id: String,
        /// What is wrong.
        detail: String,
    },
    /// More node transitions in one event than the graph has nodes: a cycle.
    #[error("more than {0} node transitions in one event; the graph loops")]
    LoopLimit(usize),
    /// A timeout or backoff that does not fit in a timestamp.
    #[error("time arithmetic overflowed")]
    TimeOverflow,
}
