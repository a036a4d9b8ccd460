//! Property tests: random valid DAGs validate, runs terminate and follow edges, runs are
//! deterministic, single mutations are caught by the right rule, diffs/rollout/serde/hashing hold.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use verifa_domain::workflow::{
    CheckStatus, Classification, Condition, ConditionalNode, Decision, Effect, Event,
    ExecutorSettings, GateFailAction, Graph, Node, Operator, Outcome, PolicyCatalog, PolicyNode,
    PolicySpec, RolloutEntry, Rule, RunContext, RunState, RunStatus, WaitNode, assign, diff,
    executor::step_in_place, normalize, validate,
};

const POLICIES: [&str; 3] = ["p_a", "p_b", "p_c"];
const TERMINALS: [(&str, Outcome); 3] = [
    ("t_ok", Outcome::Approved),
    ("t_no", Outcome::Rejected),
    ("t_rev", Outcome::NeedsReview),
];
const FIELDS: [&str; 5] = [
    "checks.p_a.status",
    "checks.p_b.score",
    "extracted_data.age",
    "session.country",
    "session.metadata.tier",
];

fn catalog() -> PolicyCatalog {
    PolicyCatalog::from_specs(POLICIES.iter().map(|p| PolicySpec {
        name: (*p).to_owned(),
        category: "test".into(),
        description: String::new(),
        config_schema: json!({"type": "object", "properties": {"level": {"type": "integer"}}}),
        outputs: BTreeMap::new(),
        auto_injected: false,
        requires: Vec::new(),
    }))
}

/// Raw material for one middle node: kind selector, edge/literal selectors, retries.
type NodePlan = (u8, Vec<u16>, u8);

fn plan() -> impl Strategy<Value = Vec<NodePlan>> {
    prop::collection::vec(
        (0u8..3, prop::collection::vec(any::<u16>(), 12), 0u8..6),
        1..30,
    )
}

/// Builds a valid DAG: `start → n0 → n1 → … → n(k-1) → t_ok` along primary edges (so every
/// node is reachable), other edges only forward (so no cycles).
fn build(plan: &[NodePlan]) -> Graph {
    let k = plan.len();
    let id = |i: usize| format!("n{i}");
    // Targets strictly after node i: later middle nodes and the terminals.
    let forward = |i: usize, sel: u16| -> String {
        let later = k - i - 1;
        let n = later + TERMINALS.len();
        let pick = usize::from(sel) % n;
        if pick < later {
            id(i + 1 + pick)
        } else {
            TERMINALS[pick - later].0.to_owned()
        }
    };
    let mut nodes = BTreeMap::new();
    nodes.insert("start".to_owned(), Node::Start { next: id(0) });
    for (i, (kind, sel, retries)) in plan.iter().enumerate() {
        let primary = if i + 1 < k {
            id(i + 1)
        } else {
            "t_ok".to_owned()
        };
        let s = |j: usize| sel[j % sel.len()];
        let node = match kind {
            0 => Node::Policy(PolicyNode {
                policy: POLICIES[usize::from(s(0)) % POLICIES.len()].to_owned(),
                config: if s(1) % 2 == 0 {
                    json!({})
                } else {
                    json!({"level": s(1)})
                },
                on_pass: primary,
                on_fail: forward(i, s(2)),
                on_error: (s(3) % 2 == 0).then(|| forward(i, s(4))),
                on_skip: (s(5) % 3 == 0).then(|| forward(i, s(6))),
                max_retries: (*retries < 5).then_some(*retries),
            }),
            1 => {
                let count = usize::from(s(0)) % 4;
                let conditions = (0..count)
                    .map(|c| {
                        let v = s(1 + c * 3);
                        let (operator, value) = match v % 6 {
                            0 => (Operator::Eq, Some(json!("passed"))),
                            1 => (Operator::Ge, Some(json!(v % 100))),
                            2 => (Operator::In, Some(json!(["US", "FR"]))),
                            3 => (Operator::Exists, None),
                            4 => (Operator::NotIn, Some(json!([1, 2]))),
                            _ => (Operator::Contains, Some(json!("gold"))),
                        };
                        Condition {
                            field: FIELDS[usize::from(s(2 + c * 3)) % FIELDS.len()].to_owned(),
                            operator,
                            value,
                            next: forward(i, s(3 + c * 3)),
                        }
                    })
                    .collect();
                Node::Conditional(ConditionalNode {
                    conditions,
                    default: primary,
                })
            }
            _ => Node::Wait(WaitNode {
                next: primary,
                on_fail: match s(0) % 3 {
                    0 => GateFailAction::Review,
                    1 => GateFailAction::Reject,
                    _ => GateFailAction::Goto {
                        node: forward(i, s(1)),
                    },
                },
                timeout_seconds: (s(2) % 2 == 0).then_some(u64::from(s(2))),
            }),
        };
        nodes.insert(id(i), node);
    }
    // Only the terminals something routes to (t_ok always is), so every node is reachable.
    for (tid, outcome) in TERMINALS {
        if nodes.values().any(|n| n.targets().any(|t| t == tid)) {
            nodes.insert(tid.to_owned(), Node::Terminal { outcome });
        }
    }
    Graph {
        entry: "start".to_owned(),
        nodes,
    }
}

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_770_000_000, 0).unwrap_or_default()
}

#[derive(Debug, PartialEq)]
struct Trace {
    effects: Vec<Effect>,
    state: RunState,
    events: usize,
    checks: usize,
}

/// Drives a run to quiescence, taking check outcomes and gate decisions from `choices`.
fn drive(graph: &Graph, choices: &[u8]) -> Result<Trace, String> {
    let settings = ExecutorSettings::default();
    let mut state = RunState::new(RunContext {
        extracted_data: Map::from_iter([("age".to_owned(), json!(30))]),
        ..RunContext::default()
    });
    let mut pick = choices.iter().copied().cycle();
    let mut now = t0();
    let mut trace = Vec::new();
    let mut queue = step_in_place(graph, &mut state, Event::Start, now, &settings)
        .map_err(|e| e.to_string())?;
    let mut events = 1;
    let mut checks = 0;
    let limit = 10_000;
    while !queue.is_empty() {
        let effect = queue.remove(0);
        trace.push(effect.clone());
        let c = pick.next().unwrap_or(0);
        let event = match effect {
            Effect::ExecuteCheck {
                node_id, attempt, ..
            } => {
                checks += 1;
                let status = [
                    CheckStatus::Passed,
                    CheckStatus::Failed,
                    CheckStatus::Error,
                    CheckStatus::Skipped,
                    CheckStatus::RequiresRetry,
                    CheckStatus::RequiresRetry,
                ][usize::from(c) % 6];
                Event::CheckFinished {
                    node_id,
                    attempt,
                    status,
                    output: json!({"score": c}),
                    error: None,
                    duration_ms: u64::from(c),
                }
            }
            Effect::ScheduleRetry { node_id, at, .. } => {
                now = at;
                Event::RetryDue { node_id }
            }
            Effect::PauseAtGate { node_id, .. } => match c % 5 {
                0 => Event::ExternalDecision {
                    decision: Decision::Continue,
                    metadata: json!({}),
                },
                1 => Event::ExternalDecision {
                    decision: Decision::Fail,
                    metadata: json!({}),
                },
                2 => Event::ExternalDecision {
                    decision: Decision::Reject,
                    metadata: json!({}),
                },
                3 => Event::GateTimeout { node_id },
                _ => break, // stay paused
            },
            Effect::Complete { .. } => break,
        };
        events += 1;
        if events > limit {
            return Err("runaway run".into());
        }
        let more =
            step_in_place(graph, &mut state, event, now, &settings).map_err(|e| e.to_string())?;
        queue.extend(more);
    }
    Ok(Trace {
        effects: trace,
        state,
        events,
        checks,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]
    fn generated_graphs_validate(p in plan()) {
        let g = build(&p);
        let v = validate(&g, &catalog());
        prop_assert!(v.issues.is_empty(), "{:?}", v.issues);
    }

    #[test]
    fn runs_terminate_follow_edges_and_are_deterministic(
        p in plan(),
        choices in prop::collection::vec(any::<u8>(), 1..64),
    ) {
        let g = build(&p);
        let trace = drive(&g, &choices).map_err(TestCaseError::fail)?;
        let s = &trace.state;
        let nodes = g.nodes.len();
        // Every check attempt is bounded by nodes × (max_retries + 1); each retry costs one
        // extra RetryDue event on top of its CheckFinished.
        let max_attempts = 1 + usize::from(verifa_domain::workflow::model::DEFAULT_MAX_RETRIES);
        prop_assert!(trace.checks <= nodes * max_attempts);
        prop_assert!(trace.events <= 1 + nodes * (2 * max_attempts - 1));
        for pair in s.path.windows(2) {
            let from = g.nodes.get(&pair[0]).expect("path node exists");
            prop_assert!(from.targets().any(|t| t == pair[1]), "{} -> {} is not an edge", pair[0], pair[1]);
        }
        prop_assert_eq!(s.path.first().map(String::as_str), Some("start"));
        match s.status {
            RunStatus::Completed => {
                prop_assert!(s.final_status.is_some());
                if let Some(Node::Terminal { outcome }) = s.path.last().and_then(|l| g.nodes.get(l)) {
                    prop_assert_eq!(Some(*outcome), s.final_status);
                }
            }
            RunStatus::Paused => {
                prop_assert!(s.final_status.is_none());
                prop_assert!(matches!(s.paused_at_node.as_ref().and_then(|n| g.nodes.get(n)), Some(Node::Wait(_))));
            }
            other => prop_assert!(false, "run ended in {:?}", other),
        }
        let again = drive(&g, &choices).map_err(TestCaseError::fail)?;
        prop_assert_eq!(&trace, &again);

        let json = serde_json::to_string(s).expect("state serialises");
        let back: RunState = serde_json::from_str(&json).expect("state deserialises");
        prop_assert_eq!(&back, s);
    }

    #[test]
    fn single_mutations_are_rejected_by_their_rule(p in plan(), which in 0u8..7, at in any::<u16>()) {
        let mut g = build(&p);
        let k = p.len();
        let j = usize::from(at) % k;
        let rule = match which {
            0 => {
                g.nodes.insert("start".into(), Node::Start { next: "ghost".into() });
                Rule::DanglingReference
            }
            1 => {
                // Point n_j's primary edge back at n0: n0 → … → n_j → n0.
                match g.nodes.get_mut(&format!("n{j}")) {
                    Some(Node::Policy(pn)) => pn.on_pass = "n0".into(),
                    Some(Node::Conditional(c)) => c.default = "n0".into(),
                    Some(Node::Wait(w)) => w.next = "n0".into(),
                    _ => prop_assert!(false, "middle node missing"),
                }
                Rule::Cycle
            }
            2 => {
                g.nodes.insert("orphan".into(), Node::Terminal { outcome: Outcome::Approved });
                Rule::Unreachable
            }
            3 => {
                g.nodes.insert("start2".into(), Node::Start { next: "t_ok".into() });
                Rule::StartCount
            }
            4 => {
                g.nodes.insert(format!("N{j}.bad"), Node::Terminal { outcome: Outcome::Approved });
                Rule::InvalidNodeId
            }
            5 => {
                g.nodes.insert("extra".into(), Node::Policy(PolicyNode {
                    policy: "palm_reading".into(), config: json!({}), on_pass: "t_ok".into(),
                    on_fail: "t_no".into(), on_error: None, on_skip: None, max_retries: None,
                }));
                Rule::UnknownPolicy
            }
            _ => {
                g.nodes.insert("extra".into(), Node::Conditional(ConditionalNode {
                    conditions: vec![Condition { field: "session.country".into(),
                        operator: Operator::from("=~"), value: Some(json!("US")), next: "t_ok".into() }],
                    default: "t_no".into(),
                }));
                Rule::UnknownOperator
            }
        };
        let v = validate(&g, &catalog());
        prop_assert!(v.issues.iter().any(|i| i.rule == rule), "expected {:?}, got {:?}", rule, v.issues);
    }

    #[test]
    fn diff_with_itself_is_none_and_graph_round_trips(p in plan()) {
        let g = build(&p);
        let d = diff(&g, &g);
        prop_assert_eq!(d.classification, Classification::None);
        prop_assert!(d.changed_nodes.is_empty() && d.added_nodes.is_empty() && d.removed_nodes.is_empty());
        let json = serde_json::to_string(&g).expect("serialises");
        let back: Graph = serde_json::from_str(&json).expect("deserialises");
        prop_assert_eq!(&back, &g);
    }

    #[test]
    fn canonical_hash_ignores_key_order(p in plan()) {
        let g = build(&p);
        let v = serde_json::to_value(&g).expect("serialises");
        let reversed = reverse_keys(&v);
        prop_assert_eq!(
            verifa_domain::workflow::canonical_json(&v),
            verifa_domain::workflow::canonical_json(&reversed)
        );
        let back: Graph = serde_json::from_value(reversed).expect("deserialises");
        prop_assert_eq!(back.content_hash(), g.content_hash());
    }
}

/// Rebuilds every object with its keys in reverse insertion order (serde_json keeps order).
fn reverse_keys(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .rev()
                .map(|(k, v)| (k.clone(), reverse_keys(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(reverse_keys).collect()),
        other => other.clone(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]
    fn rollout_assignment_follows_percentages(cuts in prop::collection::vec(0u8..=100, 1..4), seed in any::<u32>()) {
        // Split 0..100 at the sorted cut points into up to four entries.
        let mut points: Vec<u8> = cuts;
        points.push(0);
        points.push(100);
        points.sort_unstable();
        let entries: Vec<RolloutEntry> = points
            .windows(2)
            .enumerate()
            .map(|(i, w)| RolloutEntry { version: i32::try_from(i).unwrap_or(0) + 1, percentage: w[1] - w[0] })
            .collect();
        let entries = normalize(&entries);
        let n = 100_000u32;
        let mut counts: BTreeMap<i32, u32> = BTreeMap::new();
        for i in 0..n {
            let v = assign(&entries, &format!("ses_{seed:08x}_{i}")).expect("sums to 100");
            *counts.entry(v).or_default() += 1;
        }
        for e in &entries {
            let got = f64::from(*counts.get(&e.version).unwrap_or(&0)) * 100.0 / f64::from(n);
            prop_assert!((got - f64::from(e.percentage)).abs() <= 1.5, "version {} wanted {}% got {got:.2}%", e.version, e.percentage);
        }
    }
}
