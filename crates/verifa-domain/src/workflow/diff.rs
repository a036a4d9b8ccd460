//! Structured diff between two graphs (CONTRACT §2.3 #14) and its coarse classification, which
//! pre-selects the publish rollout percentage.
//!
//! Changed fields are named per node: top-level node fields (`config`, `on_pass`, `policy`, …),
//! and per condition when the condition count is unchanged (`conditions[0].value`).
//! Classification: `structural` when a node is added or removed, the entry changes, or any
//! routing field changes (type, policy, next, on_*, default, gate action, condition
//! field/operator/next/count, terminal outcome); `patch` when only `config`, `max_retries`,
//! `timeout_seconds` or condition literals (`conditions[i].value`) change; `none` when identical.
//!
//! Suggested rollout: structural → 10 % (a new path through the graph is a canary), patch →
//! 25 % (the reference's own example figure for a tuning change), none → 100 % (nothing to
//! compare; publishing is a no-op).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::model::{Graph, Node, NodeKind};

/// Coarse classification of a diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    /// Routing changed.
    Structural,
    /// Only tuning changed.
    Patch,
    /// Identical.
    None,
}

impl Classification {
    /// Suggested rollout percentage for a publish of this kind.
    pub fn suggested_rollout_percentage(self) -> u8 {
        match self {
            Classification::Structural => 10,
            Classification::Patch => 25,
            Classification::None => 100,
        }
    }
}

/// One changed node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeChange {
    /// Node id.
    pub id: String,
    /// Changed field names, sorted.
    pub fields: Vec<String>,
}

/// Counts of a diff.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffCounts {
    /// Nodes added.
    pub added: usize,
    /// Nodes removed.
    pub removed: usize,
    /// Nodes changed.
    pub changed: usize,
    /// Policy nodes added.
    pub policy_added: usize,
    /// Policy nodes removed.
    pub policy_removed: usize,
    /// Policy nodes changed (policy in either version).
    pub policy_changed: usize,
}

/// The diff response body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphDiff {
    /// Ids only in the candidate.
    pub added_nodes: Vec<String>,
    /// Ids only in the base.
    pub removed_nodes: Vec<String>,
    /// Ids in both whose content differs.
    pub changed_nodes: Vec<NodeChange>,
    /// Counts.
    pub counts: DiffCounts,
    /// Whether the entry node changed (extension; counts as structural).
    pub entry_changed: bool,
    /// Coarse classification.
    pub classification: Classification,
    /// See the module docs.
    pub suggested_rollout_percentage: u8,
}

/// Fields whose change alone is a patch.
fn is_patch_field(field: &str) -> bool {
    matches!(field, "config" | "max_retries" | "timeout_seconds")
        || (field.starts_with("conditions[") && field.ends_with("].value"))
}

fn node_fields(a: &Node, b: &Node) -> Vec<String> {
    let (va, vb) = (
        serde_json::to_value(a).unwrap_or(Value::Null),
        serde_json::to_value(b).unwrap_or(Value::Null),
    );
    let (Some(oa), Some(ob)) = (va.as_object(), vb.as_object()) else {
        return vec!["type".to_owned()];
    };
    let keys: BTreeSet<&String> = oa.keys().chain(ob.keys()).collect();
    let mut out = Vec::new();
    for k in keys {
        let (x, y) = (oa.get(k), ob.get(k));
        if x == y {
            continue;
        }
        match (k.as_str(), x, y) {
            ("conditions", Some(Value::Array(ca)), Some(Value::Array(cb)))
                if ca.len() == cb.len() =>
            {
                for (i, (p, q)) in ca.iter().zip(cb).enumerate() {
                    let fields = ["field", "operator", "value", "next"];
                    for f in fields {
                        if p.get(f) != q.get(f) {
                            out.push(format!("conditions[{i}].{f}"));
                        }
                    }
                }
            }
            _ => out.push(k.clone()),
        }
    }
    out.sort();
    out
}

/// Diffs `candidate` against `base`.
pub fn diff(base: &Graph, candidate: &Graph) -> GraphDiff {
    let is_policy = |n: Option<&Node>| n.is_some_and(|n| n.kind() == NodeKind::Policy);
    let added_nodes: Vec<String> = candidate
        .nodes
        .keys()
        .filter(|k| !base.nodes.contains_key(*k))
        .cloned()
        .collect();
    let removed_nodes: Vec<String> = base
        .nodes
        .keys()
        .filter(|k| !candidate.nodes.contains_key(*k))
        .cloned()
        .collect();
    let mut changed_nodes = Vec::new();
    let mut counts = DiffCounts {
        added: added_nodes.len(),
        removed: removed_nodes.len(),
        policy_added: added_nodes
            .iter()
            .filter(|k| is_policy(candidate.nodes.get(*k)))
            .count(),
        policy_removed: removed_nodes
            .iter()
            .filter(|k| is_policy(base.nodes.get(*k)))
            .count(),
        ..DiffCounts::default()
    };
    let mut structural = !added_nodes.is_empty() || !removed_nodes.is_empty();
    for (id, a) in &base.nodes {
        let Some(b) = candidate.nodes.get(id) else {
            continue;
        };
        if a == b {
            continue;
        }
        let fields = node_fields(a, b);
        if fields.is_empty() {
            continue;
        }
        structural |= fields.iter().any(|f| !is_patch_field(f));
        if is_policy(Some(a)) || is_policy(Some(b)) {
            counts.policy_changed += 1;
        }
        changed_nodes.push(NodeChange {
            id: id.clone(),
            fields,
        });
    }
    counts.changed = changed_nodes.len();
    let entry_changed = base.entry != candidate.entry;
    structural |= entry_changed;
    let classification = if structural {
        Classification::Structural
    } else if changed_nodes.is_empty() {
        Classification::None
    } else {
        Classification::Patch
    };
    GraphDiff {
        added_nodes,
        removed_nodes,
        changed_nodes,
        counts,
        entry_changed,
        classification,
        suggested_rollout_percentage: classification.suggested_rollout_percentage(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn g(v: Value) -> Graph {
        serde_json::from_value(v).expect("graph")
    }

    fn base() -> Value {
        json!({"entry": "start", "nodes": {
            "start": {"type": "start", "next": "age"},
            "age": {"type": "policy", "policy": "age_verification", "config": {"minimum_age": 18},
                    "on_pass": "c", "on_fail": "no"},
            "c": {"type": "conditional", "conditions": [
                    {"field": "checks.age_verification.age", "operator": ">=", "value": 21, "next": "ok"}],
                  "default": "gate"},
            "gate": {"type": "wait", "next": "ok", "on_fail": {"action": "review"}},
            "ok": {"type": "terminal", "outcome": "approved"},
            "no": {"type": "terminal", "outcome": "rejected"}}})
    }

    fn with(pointer: &str, v: Value) -> Graph {
        let mut b = base();
        if let Some(slot) = b.pointer_mut(pointer) {
            *slot = v;
        } else if let Some((parent, key)) = pointer.rsplit_once('/')
            && let Some(obj) = b.pointer_mut(parent).and_then(Value::as_object_mut)
        {
            obj.insert(key.to_owned(), v);
        }
        g(b)
    }

    #[test]
    fn classification_table() {
        let cases: Vec<(&str, Value, Classification, Vec<&str>)> = vec![
            (
                "/nodes/age/config/minimum_age",
                json!(21),
                Classification::Patch,
                vec!["config"],
            ),
            (
                "/nodes/age/max_retries",
                json!(2),
                Classification::Patch,
                vec!["max_retries"],
            ),
            (
                "/nodes/gate/timeout_seconds",
                json!(60),
                Classification::Patch,
                vec!["timeout_seconds"],
            ),
            (
                "/nodes/c/conditions/0/value",
                json!(25),
                Classification::Patch,
                vec!["conditions[0].value"],
            ),
            (
                "/nodes/c/conditions/0/operator",
                json!(">"),
                Classification::Structural,
                vec!["conditions[0].operator"],
            ),
            (
                "/nodes/c/conditions/0/next",
                json!("no"),
                Classification::Structural,
                vec!["conditions[0].next"],
            ),
            (
                "/nodes/c/default",
                json!("ok"),
                Classification::Structural,
                vec!["default"],
            ),
            (
                "/nodes/age/on_fail",
                json!("ok"),
                Classification::Structural,
                vec!["on_fail"],
            ),
            (
                "/nodes/age/on_error",
                json!("no"),
                Classification::Structural,
                vec!["on_error"],
            ),
            (
                "/nodes/age/policy",
                json!("face_match"),
                Classification::Structural,
                vec!["policy"],
            ),
            (
                "/nodes/gate/on_fail",
                json!({"action": "reject"}),
                Classification::Structural,
                vec!["on_fail"],
            ),
            (
                "/nodes/ok/outcome",
                json!("needs_review"),
                Classification::Structural,
                vec!["outcome"],
            ),
        ];
        let a = g(base());
        for (ptr, v, class, fields) in cases {
            let d = diff(&a, &with(ptr, v));
            assert_eq!(d.classification, class, "{ptr}");
            assert_eq!(d.changed_nodes.len(), 1, "{ptr}");
            assert_eq!(d.changed_nodes[0].fields, fields, "{ptr}");
        }
    }

    #[test]
    fn added_removed_and_counts() {
        let a = g(base());
        let mut b = base();
        if let Some(nodes) = b.pointer_mut("/nodes").and_then(Value::as_object_mut) {
            nodes.remove("gate");
            nodes.insert(
                "face".into(),
                json!({"type": "policy", "policy": "face_match", "on_pass": "ok", "on_fail": "no"}),
            );
        }
        let b = g(b);
        let d = diff(&a, &b);
        assert_eq!(d.added_nodes, ["face"]);
        assert_eq!(d.removed_nodes, ["gate"]);
        assert_eq!(d.counts.policy_added, 1);
        assert_eq!(d.counts.policy_removed, 0);
        assert_eq!(d.classification, Classification::Structural);
        assert_eq!(d.suggested_rollout_percentage, 10);
        let v = serde_json::to_value(&d).expect("serialises");
        for key in [
            "added_nodes",
            "removed_nodes",
            "changed_nodes",
            "counts",
            "classification",
            "suggested_rollout_percentage",
        ] {
            assert!(v.get(key).is_some(), "{key}");
        }
        assert_eq!(v["classification"], json!("structural"));
    }

    #[test]
    fn identical_is_none() {
        let a = g(base());
        let d = diff(&a, &a);
        assert_eq!(d.classification, Classification::None);
        assert_eq!(d.suggested_rollout_percentage, 100);
        let d = diff(&a, &with("/entry", json!("age")));
        assert_eq!(d.classification, Classification::Structural);
    }
}
