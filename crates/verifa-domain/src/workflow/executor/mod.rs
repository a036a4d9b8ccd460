//! The run executor: a pure state machine. [`step`] takes the graph, the current [`RunState`], one
//! [`Event`] and the time, and returns the next state plus the [`Effect`]s the application must
//! carry out (run a check, schedule a retry, pause at a gate, complete). No IO, no clock.
//!
//! One event advances through start and conditional nodes at once until it reaches a policy node
//! (emit `ExecuteCheck`), a wait node (pause) or a terminal (complete).
//!
//! `node_results` statuses for nodes that run no check: start, conditional and terminal nodes are
//! `passed` with `passed: null` (they route, they do not judge); a wait node is `pending` while
//! paused, then `passed` on `continue` and `failed` on `fail`, `reject` or timeout.

//!
//! - [`state`]: the run state and everything that goes in or comes out of a step.
//! - [`walk`]: [`step`] and the walk through the graph.
//! - [`redaction`]: dropping a finished run's personal data (CONTRACT §11.2).

mod redaction;
mod state;
mod walk;

pub use state::{
    AttemptRecord, CheckOverride, CheckStatus, Decision, Effect, Event, ExecError,
    ExecutorSettings, ExternalDecision, NodeResult, NodeType, RunContext, RunState, RunStatus,
    SessionFacts, Transition,
};
pub use walk::{overridable, step, step_in_place, step_into};

#[cfg(test)]
mod override_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod waiting_tests;
