//! The workflow definition model (CONTRACT §2.1): [`Definition`], [`Graph`], [`Node`] and the
//! legacy [`Step`]. Serde round-trips the contract JSON unchanged (absent optional fields stay
//! absent). Structural checks live in `validate`; lenient, all-problems-at-once parsing in `parse`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// Which authoring format a definition used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// A DAG of nodes.
    Graph,
    /// Legacy ordered list of policies, normalised into a graph.
    Steps,
}

impl Format {
    /// Every variant, in declaration order.
    pub const ALL: [Format; 2] = [Format::Graph, Format::Steps];

    /// Wire name (`graph`, `steps`).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Graph => "graph",
            Format::Steps => "steps",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "graph" => Some(Format::Graph),
            "steps" => Some(Format::Steps),
            _ => None,
        }
    }
}

/// A parsed workflow definition. For `steps` definitions `graph` is the normalised graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Definition {
    /// Authoring format.
    pub format: Format,
    /// The graph that runs (normalised from `steps` when `format` is `steps`).
    pub graph: Graph,
    /// The legacy steps as given, when `format` is `steps`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<Step>>,
}

/// A workflow graph: node id → node, plus the entry (start) node id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Graph {
    /// Id of the start node.
    pub entry: String,
    /// Nodes by id (sorted, so serialisation and iteration are deterministic).
    pub nodes: BTreeMap<String, Node>,
}

/// Terminal outcome of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Verified.
    Approved,
    /// Not verified.
    Rejected,
    /// Manual review needed.
    NeedsReview,
}

impl Outcome {
    /// Every variant, in declaration order.
    pub const ALL: [Outcome; 3] = [Outcome::Approved, Outcome::Rejected, Outcome::NeedsReview];

    /// The wire name (`approved`, `rejected`, `needs_review`).
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Approved => "approved",
            Outcome::Rejected => "rejected",
            Outcome::NeedsReview => "needs_review",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "approved" => Some(Outcome::Approved),
            "rejected" => Some(Outcome::Rejected),
            "needs_review" => Some(Outcome::NeedsReview),
            _ => None,
        }
    }
}

/// A graph node, tagged by `"type"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Node {
    /// The single entry point.
    Start {
        /// Following node.
        next: String,
    },
    /// Runs a verification check.
    Policy(PolicyNode),
    /// Routes on the run context.
    Conditional(ConditionalNode),
    /// External gate: pauses until a decision arrives.
    Wait(WaitNode),
    /// Ends the run with an outcome.
    Terminal {
        /// Final outcome.
        outcome: Outcome,
    },
}

/// A policy (check) node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyNode {
    /// Policy name from the catalogue, e.g. `document_ocr`.
    pub policy: String,
    /// Policy configuration (a JSON object matching the policy's config schema).
    #[serde(default = "empty_object")]
    pub config: Value,
    /// Next node when the check passes.
    pub on_pass: String,
    /// Next node when the check fails.
    pub on_fail: String,
    /// Next node on error; absent → the run ends with `needs_review`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_error: Option<String>,
    /// Next node when skipped; absent → routed like an error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_skip: Option<String>,
    /// Retries for transient `requires_retry` results, 0–4 (absent → 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<u8>,
}

/// Default retry budget of a policy node (CONTRACT §2.1).
pub const DEFAULT_MAX_RETRIES: u8 = 4;

impl PolicyNode {
    /// The effective retry budget.
    pub fn retries(&self) -> u8 {
        self.max_retries.unwrap_or(DEFAULT_MAX_RETRIES)
    }
}

/// A conditional node: first matching condition wins, else `default`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionalNode {
    /// Conditions evaluated in order.
    pub conditions: Vec<Condition>,
    /// Next node when no condition matches.
    pub default: String,
}

/// One routing condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    /// Dotted path into the run context, e.g. `checks.risk_assessment.risk_level`.
    pub field: String,
    /// Comparison operator.
    pub operator: Operator,
    /// Literal to compare with (absent for `exists`). An explicit `null` is kept as `Some(Null)`.
    #[serde(
        default,
        deserialize_with = "some_value",
        skip_serializing_if = "Option::is_none"
    )]
    pub value: Option<Value>,
    /// Next node when the condition matches.
    pub next: String,
}

/// Condition operators. Unknown operators are kept verbatim (so a graph round-trips and the
/// validator can report them) and always evaluate to false.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Operator {
    /// `>=`
    Ge,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `<`
    Lt,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `in`
    In,
    /// `not_in`
    NotIn,
    /// `contains`
    Contains,
    /// `exists`
    Exists,
    /// Anything else (invalid; reported by validation).
    Unknown(String),
}

impl Operator {
    /// The wire spelling.
    pub fn as_str(&self) -> &str {
        match self {
            Operator::Ge => ">=",
            Operator::Le => "<=",
            Operator::Gt => ">",
            Operator::Lt => "<",
            Operator::Eq => "==",
            Operator::Ne => "!=",
            Operator::In => "in",
            Operator::NotIn => "not_in",
            Operator::Contains => "contains",
            Operator::Exists => "exists",
            Operator::Unknown(s) => s,
        }
    }
}

impl From<&str> for Operator {
    fn from(s: &str) -> Self {
        match s {
            ">=" => Operator::Ge,
            "<=" => Operator::Le,
            ">" => Operator::Gt,
            "<" => Operator::Lt,
            "==" => Operator::Eq,
            "!=" => Operator::Ne,
            "in" => Operator::In,
            "not_in" => Operator::NotIn,
            "contains" => Operator::Contains,
            "exists" => Operator::Exists,
            other => Operator::Unknown(other.to_owned()),
        }
    }
}

impl From<String> for Operator {
    fn from(s: String) -> Self {
        Operator::from(s.as_str())
    }
}

impl From<Operator> for String {
    fn from(op: Operator) -> Self {
        match op {
            Operator::Unknown(s) => s,
            known => known.as_str().to_owned(),
        }
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A wait (external gate) node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitNode {
    /// Next node on a `continue` decision.
    pub next: String,
    /// What a `fail` decision or a timeout does.
    pub on_fail: GateFailAction,
    /// Seconds to wait before applying `on_fail` (absent → wait forever).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
}

/// The action a gate takes on `fail` or timeout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum GateFailAction {
    /// End with `needs_review`.
    Review,
    /// End with `rejected`.
    Reject,
    /// Continue at another node.
    Goto {
        /// Target node id.
        node: String,
    },
}

/// A legacy `steps` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Policy name.
    pub policy: String,
    /// Policy configuration.
    #[serde(default = "empty_object")]
    pub config: Value,
}

/// Which kind a node is, without its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// `start`
    Start,
    /// `policy`
    Policy,
    /// `conditional`
    Conditional,
    /// `wait`
    Wait,
    /// `terminal`
    Terminal,
}

impl Node {
    /// The node's kind.
    pub fn kind(&self) -> NodeKind {
        match self {
            Node::Start { .. } => NodeKind::Start,
            Node::Policy(_) => NodeKind::Policy,
            Node::Conditional(_) => NodeKind::Conditional,
            Node::Wait(_) => NodeKind::Wait,
            Node::Terminal { .. } => NodeKind::Terminal,
        }
    }

    /// Every outgoing edge as (field path relative to the node, target id), in a fixed order.
    /// Field names are static except for conditions (`conditions[2].next`).
    pub fn edges(&self) -> Vec<(Cow<'static, str>, &str)> {
        let mut out = Vec::new();
        match self {
            Node::Start { next } => out.push((Cow::Borrowed("next"), next.as_str())),
            Node::Policy(p) => {
                out.push((Cow::Borrowed("on_pass"), p.on_pass.as_str()));
                out.push((Cow::Borrowed("on_fail"), p.on_fail.as_str()));
                if let Some(e) = &p.on_error {
                    out.push((Cow::Borrowed("on_error"), e.as_str()));
                }
                if let Some(s) = &p.on_skip {
                    out.push((Cow::Borrowed("on_skip"), s.as_str()));
                }
            }
            Node::Conditional(c) => {
                for (i, cond) in c.conditions.iter().enumerate() {
                    out.push((
                        Cow::Owned(format!("conditions[{i}].next")),
                        cond.next.as_str(),
                    ));
                }
                out.push((Cow::Borrowed("default"), c.default.as_str()));
            }
            Node::Wait(w) => {
                out.push((Cow::Borrowed("next"), w.next.as_str()));
                if let GateFailAction::Goto { node } = &w.on_fail {
                    out.push((Cow::Borrowed("on_fail.node"), node.as_str()));
                }
            }
            Node::Terminal { .. } => {}
        }
        out
    }

    /// Outgoing edge targets only (no allocation of field names).
    pub fn targets(&self) -> impl Iterator<Item = &str> {
        let (a, b, c, d): (Option<&str>, Option<&str>, Option<&str>, Option<&str>) = match self {
            Node::Start { next } => (Some(next), None, None, None),
            Node::Policy(p) => (
                Some(&p.on_pass),
                Some(&p.on_fail),
                p.on_error.as_deref(),
                p.on_skip.as_deref(),
            ),
            Node::Conditional(c) => (Some(&c.default), None, None, None),
            Node::Wait(w) => (
                Some(&w.next),
                match &w.on_fail {
                    GateFailAction::Goto { node } => Some(node.as_str()),
                    _ => None,
                },
                None,
                None,
            ),
            Node::Terminal { .. } => (None, None, None, None),
        };
        let conds: &[Condition] = match self {
            Node::Conditional(c) => &c.conditions,
            _ => &[],
        };
        conds
            .iter()
            .map(|c| c.next.as_str())
            .chain([a, b, c, d].into_iter().flatten())
    }
}

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

fn some_value<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn contract_example_round_trips() {
        let g = json!({
           "entry": "start",
           "nodes": {
             "start":   {"type": "start", "next": "ocr"},
             "ocr":     {"type": "policy", "policy": "document_ocr", "config": {},
                         "on_pass": "risk", "on_fail": "reject", "on_error": "review", "max_retries": 4},
             "risk":    {"type": "conditional",
                         "conditions": [{"field": "checks.risk_assessment.risk_level", "operator": "in",
                                         "value": ["high", "critical"], "next": "review"},
                                        {"field": "session.country", "operator": "exists", "next": "gate"}],
                         "default": "gate"},
             "gate":    {"type": "wait", "next": "approve",
                         "on_fail": {"action": "goto", "node": "review"}, "timeout_seconds": 86400},
             "approve": {"type": "terminal", "outcome": "approved"},
             "reject":  {"type": "terminal", "outcome": "rejected"},
             "review":  {"type": "terminal", "outcome": "needs_review"}}
        });
        let graph: Graph = serde_json::from_value(g.clone()).expect("parses");
        assert_eq!(serde_json::to_value(&graph).expect("serialises"), g);
    }

    #[test]
    fn unknown_operator_round_trips() {
        let c = json!({"field": "checks.x.y", "operator": "~=", "value": null, "next": "a"});
        let cond: Condition = serde_json::from_value(c.clone()).expect("parses");
        assert_eq!(cond.operator, Operator::Unknown("~=".into()));
        assert_eq!(cond.value, Some(Value::Null));
        assert_eq!(serde_json::to_value(&cond).expect("serialises"), c);
    }
}
