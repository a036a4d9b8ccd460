//! Auto-injected checks (CONTRACT §2.1): a graph with a `document_ocr` node that lacks a
//! `watchlist_screening` and/or `risk_assessment` node gets the missing ones inserted on the OCR
//! node's pass edge, each failing/erroring to a `needs_review` terminal. Idempotent.

use std::collections::{BTreeSet, VecDeque};

use serde_json::{Map, Value};

use super::model::{Graph, Node, Outcome, PolicyNode};

/// Policy whose presence triggers injection.
pub const OCR_POLICY: &str = "document_ocr";
/// Injected screening policy.
pub const WATCHLIST_POLICY: &str = "watchlist_screening";
/// Injected risk policy.
pub const RISK_POLICY: &str = "risk_assessment";

fn has_policy(g: &Graph, policy: &str) -> bool {
    g.nodes
        .values()
        .any(|n| matches!(n, Node::Policy(p) if p.policy == policy))
}

/// Picks `base`, else `base_2`, `base_3`, … — the first id that is free or already `fits`.
fn pick_id(g: &Graph, base: &str, fits: impl Fn(&Node) -> bool) -> String {
    let mut i = 1usize;
    loop {
        let id = if i == 1 {
            base.to_owned()
        } else {
            format!("{base}_{i}")
        };
        match g.nodes.get(&id) {
            None => return id,
            Some(n) if fits(n) => return id,
            Some(_) => i += 1,
        }
    }
}

/// First OCR node in BFS order from the entry (successors visited in id order); OCR nodes not
/// reachable from the entry come after, by id.
fn first_ocr(g: &Graph) -> Option<String> {
    let is_ocr =
        |id: &str| matches!(g.nodes.get(id), Some(Node::Policy(p)) if p.policy == OCR_POLICY);
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from([g.entry.as_str()]);
    while let Some(id) = queue.pop_front() {
        if !seen.insert(id) {
            continue;
        }
        if is_ocr(id) {
            return Some(id.to_owned());
        }
        if let Some(n) = g.nodes.get(id) {
            let mut next: Vec<&str> = n.targets().filter(|t| g.nodes.contains_key(*t)).collect();
            next.sort_unstable();
            queue.extend(next);
        }
    }
    g.nodes.keys().find(|id| is_ocr(id)).cloned()
}

/// Returns the graph with the missing auto checks injected (or an unchanged clone).
pub fn inject_auto_checks(graph: &Graph) -> Graph {
    let mut g = graph.clone();
    let need_watchlist = !has_policy(&g, WATCHLIST_POLICY);
    let need_risk = !has_policy(&g, RISK_POLICY);
    if !need_watchlist && !need_risk {
        return g;
    }
    let Some(ocr_id) = first_ocr(&g) else {
        return g;
    };
    let review_id = pick_id(&g, "auto_review", |n| {
        matches!(
            n,
            Node::Terminal {
                outcome: Outcome::NeedsReview
            }
        )
    });
    g.nodes.entry(review_id.clone()).or_insert(Node::Terminal {
        outcome: Outcome::NeedsReview,
    });
    let mut chain: Vec<(String, &str)> = Vec::new();
    if need_watchlist {
        chain.push((
            pick_id(&g, "auto_watchlist_screening", |_| false),
            WATCHLIST_POLICY,
        ));
    }
    if need_risk {
        // Ids must be distinct from the one just chosen, which is not inserted yet.
        let taken: Vec<String> = chain.iter().map(|(id, _)| id.clone()).collect();
        let mut id = pick_id(&g, "auto_risk_assessment", |_| false);
        let mut i = 2usize;
        while taken.contains(&id) {
            id = format!("auto_risk_assessment_{i}");
            i += 1;
        }
        chain.push((id, RISK_POLICY));
    }
    let Some(Node::Policy(ocr)) = g.nodes.get_mut(&ocr_id) else {
        return g;
    };
    let original_target = std::mem::take(&mut ocr.on_pass);
    if let Some((first, _)) = chain.first() {
        ocr.on_pass = first.clone();
    }
    for (i, (id, policy)) in chain.iter().enumerate() {
        let on_pass = chain
            .get(i + 1)
            .map_or_else(|| original_target.clone(), |(next, _)| next.clone());
        g.nodes.insert(
            id.clone(),
            Node::Policy(PolicyNode {
                policy: (*policy).to_owned(),
                config: Value::Object(Map::new()),
                on_pass,
                on_fail: review_id.clone(),
                on_error: Some(review_id.clone()),
                on_skip: None,
                max_retries: None,
            }),
        );
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn graph(v: Value) -> Graph {
        serde_json::from_value(v).expect("test graph")
    }

    fn ocr_graph() -> Graph {
        graph(json!({"entry": "start", "nodes": {
            "start": {"type": "start", "next": "ocr"},
            "ocr": {"type": "policy", "policy": "document_ocr", "on_pass": "ok", "on_fail": "no"},
            "ok": {"type": "terminal", "outcome": "approved"},
            "no": {"type": "terminal", "outcome": "rejected"}}}))
    }

    #[test]
    fn injects_both_and_is_idempotent() {
        let g = inject_auto_checks(&ocr_graph());
        let v = serde_json::to_value(&g).expect("serialises");
        assert_eq!(
            v["nodes"]["ocr"]["on_pass"],
            json!("auto_watchlist_screening")
        );
        assert_eq!(
            v["nodes"]["auto_watchlist_screening"],
            json!({"type": "policy", "policy": "watchlist_screening", "config": {},
                   "on_pass": "auto_risk_assessment", "on_fail": "auto_review", "on_error": "auto_review"})
        );
        assert_eq!(v["nodes"]["auto_risk_assessment"]["on_pass"], json!("ok"));
        assert_eq!(
            v["nodes"]["auto_review"],
            json!({"type": "terminal", "outcome": "needs_review"})
        );
        assert_eq!(inject_auto_checks(&g), g);
    }

    #[test]
    fn injects_only_missing_one() {
        let mut g = ocr_graph();
        g.nodes.insert(
            "screen".into(),
            Node::Policy(PolicyNode {
                policy: "watchlist_screening".into(),
                config: json!({}),
                on_pass: "ok".into(),
                on_fail: "no".into(),
                on_error: None,
                on_skip: None,
                max_retries: None,
            }),
        );
        let out = inject_auto_checks(&g);
        assert!(!out.nodes.contains_key("auto_watchlist_screening"));
        let v = serde_json::to_value(&out).expect("serialises");
        assert_eq!(v["nodes"]["ocr"]["on_pass"], json!("auto_risk_assessment"));
        assert_eq!(v["nodes"]["auto_risk_assessment"]["on_pass"], json!("ok"));
    }

    #[test]
    fn no_ocr_no_change() {
        let g = graph(json!({"entry": "s", "nodes": {
            "s": {"type": "start", "next": "t"}, "t": {"type": "terminal", "outcome": "approved"}}}));
        assert_eq!(inject_auto_checks(&g), g);
    }

    #[test]
    fn reuses_or_avoids_auto_review_ids() {
        let mut g = ocr_graph();
        g.nodes.insert(
            "auto_review".into(),
            Node::Terminal {
                outcome: Outcome::Approved,
            },
        );
        let out = inject_auto_checks(&g);
        let v = serde_json::to_value(&out).expect("serialises");
        assert_eq!(
            v["nodes"]["auto_watchlist_screening"]["on_fail"],
            json!("auto_review_2")
        );
        assert_eq!(
            v["nodes"]["auto_review_2"]["outcome"],
            json!("needs_review")
        );
        assert_eq!(v["nodes"]["auto_review"]["outcome"], json!("approved"));

        let mut g = ocr_graph();
        g.nodes.insert(
            "auto_review".into(),
            Node::Terminal {
                outcome: Outcome::NeedsReview,
            },
        );
        let out = inject_auto_checks(&g);
        assert!(!out.nodes.contains_key("auto_review_2"));
    }

    #[test]
    fn picks_first_ocr_in_bfs_order() {
        let g = graph(json!({"entry": "start", "nodes": {
            "start": {"type": "start", "next": "z_ocr"},
            "z_ocr": {"type": "policy", "policy": "document_ocr", "on_pass": "a_ocr", "on_fail": "no"},
            "a_ocr": {"type": "policy", "policy": "document_ocr", "on_pass": "ok", "on_fail": "no"},
            "ok": {"type": "terminal", "outcome": "approved"},
            "no": {"type": "terminal", "outcome": "rejected"}}}));
        let out = inject_auto_checks(&g);
        let v = serde_json::to_value(&out).expect("serialises");
        assert_eq!(
            v["nodes"]["z_ocr"]["on_pass"],
            json!("auto_watchlist_screening")
        );
        assert_eq!(
            v["nodes"]["auto_risk_assessment"]["on_pass"],
            json!("a_ocr")
        );
    }
}
