//! Normalisation of the legacy `steps` format into a graph (CONTRACT §2.1): steps run in order,
//! any failure → rejected, any error (or skip) → needs_review, all pass → approved.

use std::collections::BTreeMap;

use super::model::{Graph, Node, Outcome, PolicyNode, Step};

/// Id of the start node of a normalised steps graph.
pub const STEPS_START: &str = "start";

/// Builds `start → step_1 → … → step_n → approved`, with every step's `on_fail` going to the
/// `rejected` terminal and `on_error` to the `needs_review` terminal. Empty steps → start →
/// approved (the unused terminals are then omitted so the graph stays fully reachable).
pub fn steps_to_graph(steps: &[Step]) -> Graph {
    let mut nodes = BTreeMap::new();
    let id = |i: usize| format!("step_{}", i + 1);
    let first = if steps.is_empty() {
        "approved".to_owned()
    } else {
        id(0)
    };
    nodes.insert(STEPS_START.to_owned(), Node::Start { next: first });
    for (i, step) in steps.iter().enumerate() {
        let on_pass = if i + 1 < steps.len() {
            id(i + 1)
        } else {
            "approved".to_owned()
        };
        nodes.insert(
            id(i),
            Node::Policy(PolicyNode {
                policy: step.policy.clone(),
                config: step.config.clone(),
                on_pass,
                on_fail: "rejected".to_owned(),
                on_error: Some("needs_review".to_owned()),
                on_skip: None,
                max_retries: None,
            }),
        );
    }
    nodes.insert(
        "approved".to_owned(),
        Node::Terminal {
            outcome: Outcome::Approved,
        },
    );
    if !steps.is_empty() {
        nodes.insert(
            "rejected".to_owned(),
            Node::Terminal {
                outcome: Outcome::Rejected,
            },
        );
        nodes.insert(
            "needs_review".to_owned(),
            Node::Terminal {
                outcome: Outcome::NeedsReview,
            },
        );
    }
    Graph {
        entry: STEPS_START.to_owned(),
        nodes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn two_steps() {
        let steps = vec![
            Step {
                policy: "document_ocr".into(),
                config: json!({}),
            },
            Step {
                policy: "age_verification".into(),
                config: json!({"minimum_age": 21}),
            },
        ];
        let g = steps_to_graph(&steps);
        let v = serde_json::to_value(&g).expect("serialises");
        assert_eq!(
            v,
            json!({"entry": "start", "nodes": {
                "start": {"type": "start", "next": "step_1"},
                "step_1": {"type": "policy", "policy": "document_ocr", "config": {},
                           "on_pass": "step_2", "on_fail": "rejected", "on_error": "needs_review"},
                "step_2": {"type": "policy", "policy": "age_verification", "config": {"minimum_age": 21},
                           "on_pass": "approved", "on_fail": "rejected", "on_error": "needs_review"},
                "approved": {"type": "terminal", "outcome": "approved"},
                "rejected": {"type": "terminal", "outcome": "rejected"},
                "needs_review": {"type": "terminal", "outcome": "needs_review"}}})
        );
    }

    #[test]
    fn empty_steps_go_straight_to_approved() {
        let g = steps_to_graph(&[]);
        assert_eq!(g.nodes.len(), 2);
        assert_eq!(
            g.nodes.get("start"),
            Some(&Node::Start {
                next: "approved".into()
            })
        );
    }
}
