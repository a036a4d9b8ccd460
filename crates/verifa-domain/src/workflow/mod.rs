//! Workflow engine: the graph model, parsing, validation, auto-injection, condition evaluation,
//! the run executor (a pure state machine), dry-runs, version diffs and rollout bucketing.
//!
//! Everything here is pure: time and ids come in as arguments, nothing performs IO.

pub mod canonical;
pub mod catalog;
pub mod condition;
pub mod diff;
pub mod dry_run;
pub mod executor;
pub mod inject;
pub mod issue;
pub mod model;
pub mod parse;
pub mod partial;
pub mod rollout;
pub mod schema;
pub mod simulate;
pub mod steps;
pub mod validate;
pub mod versioning;

pub use canonical::canonical_json;
pub use catalog::{PolicyCatalog, PolicySpec};
pub use condition::{Context, evaluate};
pub use diff::{Classification, DiffCounts, GraphDiff, NodeChange, diff};
pub use dry_run::{DryRunInput, DryRunReport, SimulatedCheck, dry_run, dry_run_state};
pub use executor::{
    AttemptRecord, CheckOverride, CheckStatus, Decision, Effect, Event, ExecError,
    ExecutorSettings, ExternalDecision, NodeResult, NodeType, RunContext, RunState, RunStatus,
    SessionFacts, Transition, overridable, step,
};
pub use inject::inject_auto_checks;
pub use issue::{Issue, Rule, Warning};
pub use model::{
    Condition, ConditionalNode, Definition, Format, GateFailAction, Graph, Node, Operator, Outcome,
    PolicyNode, Step, WaitNode,
};
pub use parse::{Parsed, parse, parse_definition};
pub use partial::{BrokenNode, PartialGraph};
pub use rollout::{RolloutEntry, assign, bucket, normalize, validate_rollout, with_new_version};
pub use simulate::{SandboxChecks, Simulation, simulate_outcome};
pub use steps::steps_to_graph;
pub use validate::{MAX_NODES, Validation, validate, validate_partial};
pub use versioning::{DraftStatus, VersionSource};
