//! Problems found in a workflow definition or rollout: one [`Issue`] per problem, each tagged with
//! the [`Rule`] it breaks and the dotted path of the offending field (`graph.nodes.ocr.on_pass`).

use serde::{Deserialize, Serialize};

/// The rule a definition, graph or rollout breaks. One variant per rule so callers and tests can
/// match on the cause instead of the message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// A field has the wrong JSON type (e.g. a number where a node id string is expected).
    WrongType,
    /// A required field is absent.
    MissingField,
    /// A field that the schema does not know (typos must not be silently ignored).
    UnknownField,
    /// `format` is neither `graph` nor `steps`, or neither `graph` nor `steps` was given.
    InvalidFormat,
    /// A node's `type` is not one of start, policy, conditional, wait, terminal.
    UnknownNodeType,
    /// A terminal `outcome` is not approved, rejected or needs_review.
    InvalidOutcome,
    /// A wait node's `on_fail.action` is not review, reject or goto.
    InvalidGateAction,
    /// There must be exactly one start node.
    StartCount,
    /// `entry` does not name an existing node.
    EntryNotFound,
    /// `entry` names a node that is not the start node.
    EntryNotStart,
    /// An edge names a node that does not exist.
    DanglingReference,
    /// A node cannot be reached from the start.
    Unreachable,
    /// An edge closes a cycle.
    Cycle,
    /// A node from which no terminal can be reached (a path that does not end in a terminal).
    DeadEnd,
    /// A policy node names a policy that is not in the catalogue.
    UnknownPolicy,
    /// A policy node's `config` does not match the policy's config schema.
    InvalidConfig,
    /// A condition uses an operator outside the ten known ones.
    UnknownOperator,
    /// A condition's literal value does not fit its operator (`in` without an array, missing value).
    InvalidOperatorValue,
    /// A condition's `field` is not a path under `checks.`, `extracted_data.` or `session.`.
    InvalidFieldPath,
    /// A node id does not match `^[a-z0-9_\-]{1,64}$`.
    InvalidNodeId,
    /// The graph has more than [`crate::workflow::MAX_NODES`] nodes.
    TooManyNodes,
    /// `max_retries` outside 0–4.
    MaxRetries,
    /// Warning: a condition literal's type can never match its operator.
    LiteralTypeMismatch,
    /// Rollout: no entries.
    RolloutEmpty,
    /// Rollout: an entry names a version that does not exist.
    RolloutUnknownVersion,
    /// Rollout: the same version appears twice.
    RolloutDuplicateVersion,
    /// Rollout: a percentage outside 0–100.
    RolloutPercentage,
    /// Rollout: percentages do not sum to exactly 100.
    RolloutSum,
}

/// One problem: which rule, where (dotted path), and a human-readable message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    /// The rule broken.
    pub rule: Rule,
    /// Dotted path of the offending field, e.g. `graph.nodes.ocr.on_pass` or `steps[2].policy`.
    pub field: String,
    /// Human-readable sentence fragment, e.g. `refers to unknown node 'face'`.
    pub message: String,
}

/// Non-fatal findings share the shape of [`Issue`]; they are kept in a separate list.
pub type Warning = Issue;

impl Issue {
    /// Builds an issue.
    pub fn new(rule: Rule, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            rule,
            field: field.into(),
            message: message.into(),
        }
    }
}
