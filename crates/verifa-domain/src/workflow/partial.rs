//! What a graph that did not fully parse still tells validation: the nodes that parsed, and for
//! every node that did not, its declared type and the references it names. Validating that view
//! means one structural slip (a missing `on_fail`) does not hide unknown policies, dangling
//! references or unreachable nodes elsewhere: every problem is reported at once (CONTRACT §2.1).

use std::collections::BTreeMap;

use serde_json::Value;

use super::model::Node;

/// A node whose own fields are wrong (reported by the parser), kept for the graph's shape.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BrokenNode {
    /// Its `type`, when it is a string.
    pub node_type: Option<String>,
    /// The references it names, `(field, target)`, as far as they are strings.
    pub edges: Vec<(String, String)>,
}

/// Every field that names another node, on any node type.
const REFERENCE_FIELDS: &[&str] = &[
    "next", "on_pass", "on_fail", "on_error", "on_skip", "default",
];

impl BrokenNode {
    /// Salvages the type and the references of a node that did not parse.
    pub fn salvage(node: &Value) -> Self {
        let Some(obj) = node.as_object() else {
            return Self::default();
        };
        let mut edges = Vec::new();
        for field in REFERENCE_FIELDS {
            match obj.get(*field) {
                Some(Value::String(target)) => edges.push(((*field).to_owned(), target.clone())),
                // A wait node's `on_fail` is an action that may name a node.
                Some(Value::Object(action)) => {
                    if let Some(Value::String(target)) = action.get("node") {
                        edges.push((format!("{field}.node"), target.clone()));
                    }
                }
                _ => {}
            }
        }
        if let Some(Value::Array(conditions)) = obj.get("conditions") {
            for (i, c) in conditions.iter().enumerate() {
                if let Some(Value::String(target)) = c.get("next") {
                    edges.push((format!("conditions[{i}].next"), target.clone()));
                }
            }
        }
        Self {
            node_type: obj.get("type").and_then(Value::as_str).map(str::to_owned),
            edges,
        }
    }

    /// Whether it declares itself a start node.
    pub fn is_start(&self) -> bool {
        self.node_type.as_deref() == Some("start")
    }
}

/// A graph as far as it parsed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PartialGraph {
    /// The entry, when it is a string.
    pub entry: Option<String>,
    /// Nodes that parsed.
    pub nodes: BTreeMap<String, Node>,
    /// Nodes that did not.
    pub broken: BTreeMap<String, BrokenNode>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::issue::Rule;
    use crate::workflow::parse::{Parsed, parse};
    use crate::workflow::validate::validate_partial;
    use crate::workflow::{PolicyCatalog, PolicySpec};
    use serde_json::json;

    #[test]
    fn salvages_every_kind_of_reference() {
        let policy = BrokenNode::salvage(&json!({"type": "policy", "on_pass": "a", "on_error": 5}));
        assert_eq!(policy.node_type.as_deref(), Some("policy"));
        assert_eq!(policy.edges, [("on_pass".to_owned(), "a".to_owned())]);

        let wait = BrokenNode::salvage(
            &json!({"type": "wait", "next": "n", "on_fail": {"action": "goto", "node": "g"}}),
        );
        let fields: Vec<&str> = wait.edges.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["next", "on_fail.node"]);

        let conditional = BrokenNode::salvage(&json!({"type": "conditional",
            "conditions": [{"next": "x"}, {"nxt": "y"}], "default": "d"}));
        assert_eq!(
            conditional.edges,
            [
                ("default".to_owned(), "d".to_owned()),
                ("conditions[0].next".to_owned(), "x".to_owned())
            ]
        );
        assert!(BrokenNode::salvage(&json!({"type": "start"})).is_start());
        assert_eq!(BrokenNode::salvage(&json!(7)), BrokenNode::default());
    }

    fn catalog() -> PolicyCatalog {
        PolicyCatalog::from_specs(["document_ocr", "age_verification"].map(|name| PolicySpec {
            name: name.into(),
            category: "test".into(),
            description: String::new(),
            config_schema: json!({"type": "object"}),
            outputs: BTreeMap::new(),
            auto_injected: false,
            requires: Vec::new(),
        }))
    }

    /// Parser problems and validation problems, all at once.
    fn problems(graph: Value) -> Vec<(Rule, String)> {
        let Parsed::Incomplete { issues, partial } = parse(&json!({ "graph": graph })) else {
            panic!("expected problems");
        };
        let rest = partial
            .map(|p| validate_partial(&p, &catalog()))
            .unwrap_or_default();
        issues
            .into_iter()
            .chain(rest.issues)
            .map(|i| (i.rule, i.field))
            .collect()
    }

    #[test]
    fn a_missing_on_fail_hides_nothing_else() {
        let got = problems(json!({"entry": "start", "nodes": {
            "start": {"type": "start", "next": "ocr"},
            // Broken: no on_fail. Its on_pass still leads on, and names a node that is absent.
            "ocr": {"type": "policy", "policy": "document_ocr", "on_pass": "ghost"},
            "age": {"type": "policy", "policy": "age_verification", "on_pass": "ok", "on_fail": "no"},
            "x": {"type": "policy", "policy": "telepathy", "on_pass": "ok", "on_fail": "no"},
            "ok": {"type": "terminal", "outcome": "approved"},
            "no": {"type": "terminal", "outcome": "rejected"}}}));
        let want = [
            (Rule::MissingField, "graph.nodes.ocr.on_fail"),
            (Rule::DanglingReference, "graph.nodes.ocr.on_pass"),
            (Rule::UnknownPolicy, "graph.nodes.x.policy"),
            (Rule::Unreachable, "graph.nodes.age"),
            (Rule::Unreachable, "graph.nodes.x"),
            (Rule::Unreachable, "graph.nodes.ok"),
            (Rule::Unreachable, "graph.nodes.no"),
        ];
        for (rule, field) in want {
            assert!(
                got.iter().any(|(r, f)| *r == rule && f == field),
                "missing {rule:?} at {field}: {got:?}"
            );
        }
        assert_eq!(
            got.len(),
            want.len(),
            "nothing reported twice or invented: {got:?}"
        );
    }

    #[test]
    fn a_broken_start_still_counts_and_leads_on() {
        // The start node has an unknown field and a wrong `next` type: the graph still has its
        // start, so neither "no start node" nor unreachable nodes are invented.
        let got = problems(json!({"entry": "s", "nodes": {
            "s": {"type": "start", "next": 3},
            "ok": {"type": "terminal", "outcome": "approved"}}}));
        assert_eq!(
            got,
            [
                (Rule::WrongType, "graph.nodes.s.next".to_owned()),
                (Rule::Unreachable, "graph.nodes.ok".to_owned())
            ]
        );
        // A broken node never counts as a dead end, nor do the paths into it.
        let got = problems(json!({"entry": "s", "nodes": {
            "s": {"type": "start", "next": "c"},
            "c": {"type": "conditional", "conditions": "all", "default": "ok"},
            "ok": {"type": "terminal", "outcome": "approved"}}}));
        assert_eq!(
            got,
            [(Rule::WrongType, "graph.nodes.c.conditions".to_owned())]
        );
    }
}
