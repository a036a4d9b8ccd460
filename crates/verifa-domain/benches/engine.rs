//! Engine benchmarks: validating a 200-node graph, dry-running a 10-node graph with a
//! conditional and a retry, and assigning rollout versions to 10 000 session ids.

use std::collections::BTreeMap;
use std::hint::black_box;

use chrono::DateTime;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};
use verifa_domain::workflow::{
    CheckStatus, DryRunInput, Graph, PolicyCatalog, PolicySpec, RolloutEntry, SimulatedCheck,
    assign, dry_run, normalize, validate,
};

fn catalog() -> PolicyCatalog {
    PolicyCatalog::from_specs((0..5).map(|i| PolicySpec {
        name: format!("p{i}"),
        category: "bench".into(),
        description: String::new(),
        config_schema: json!({"type": "object", "additionalProperties": false,
            "properties": {"threshold": {"type": "number", "minimum": 0, "maximum": 1}}}),
        outputs: BTreeMap::new(),
        auto_injected: false,
        requires: Vec::new(),
    }))
}

/// start + 196 policy nodes (each also failing/erroring forward) + 3 terminals = 200 nodes.
fn big_graph() -> Graph {
    let mut nodes = serde_json::Map::new();
    let n = 196;
    nodes.insert("start".into(), json!({"type": "start", "next": "n0"}));
    for i in 0..n {
        let next = if i + 1 < n {
            format!("n{}", i + 1)
        } else {
            "ok".into()
        };
        nodes.insert(
            format!("n{i}"),
            json!({"type": "policy", "policy": format!("p{}", i % 5), "config": {"threshold": 0.5},
                   "on_pass": next, "on_fail": "no", "on_error": "rev", "max_retries": 2}),
        );
    }
    nodes.insert(
        "ok".into(),
        json!({"type": "terminal", "outcome": "approved"}),
    );
    nodes.insert(
        "no".into(),
        json!({"type": "terminal", "outcome": "rejected"}),
    );
    nodes.insert(
        "rev".into(),
        json!({"type": "terminal", "outcome": "needs_review"}),
    );
    serde_json::from_value(json!({"entry": "start", "nodes": nodes}))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// 10 nodes: start, 5 policies, 1 conditional, 3 terminals; `p0` needs one retry.
fn small_graph() -> Graph {
    serde_json::from_value(json!({"entry": "start", "nodes": {
        "start": {"type": "start", "next": "a"},
        "a": {"type": "policy", "policy": "p0", "on_pass": "b", "on_fail": "no", "on_error": "rev"},
        "b": {"type": "policy", "policy": "p1", "on_pass": "c", "on_fail": "no"},
        "c": {"type": "conditional", "conditions": [
                {"field": "checks.p1.score", "operator": ">", "value": 0.9, "next": "rev"},
                {"field": "extracted_data.country", "operator": "in", "value": ["KP", "IR"], "next": "no"}],
              "default": "d"},
        "d": {"type": "policy", "policy": "p2", "on_pass": "e", "on_fail": "no"},
        "e": {"type": "policy", "policy": "p3", "on_pass": "f", "on_fail": "no"},
        "f": {"type": "policy", "policy": "p4", "on_pass": "ok", "on_fail": "no"},
        "ok": {"type": "terminal", "outcome": "approved"},
        "no": {"type": "terminal", "outcome": "rejected"},
        "rev": {"type": "terminal", "outcome": "needs_review"}}}))
    .unwrap_or_else(|e| panic!("{e}"))
}

fn benches(c: &mut Criterion) {
    let cat = catalog();
    let big = big_graph();
    assert!(validate(&big, &cat).is_valid());
    let mut g = c.benchmark_group("validate");
    g.throughput(Throughput::Elements(1));
    g.bench_function("200_nodes", |b| {
        b.iter(|| validate(black_box(&big), black_box(&cat)))
    });
    g.finish();

    let small = small_graph();
    let input: DryRunInput = serde_json::from_value(json!({
        "extracted_data": {"country": "FR"},
        "check_results": {
            "a": [{"status": "requires_retry"}, {"status": "passed", "output": {"extracted_data": {"age": 30}}}],
            "p1": {"status": "passed", "output": {"score": 0.4}}
        }
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    let fallback = |_: &str, _: &Value| SimulatedCheck {
        status: CheckStatus::Passed,
        output: json!({}),
    };
    let now = DateTime::from_timestamp(1_770_000_000, 0).unwrap_or_default();
    let report = dry_run(&small, &input, &fallback, now).unwrap_or_else(|e| panic!("{e}"));
    // Node transitions per run: every node entered plus the retry of `a`.
    let transitions = report.path.len() as u64 + 1;
    let mut g = c.benchmark_group("dry_run");
    g.throughput(Throughput::Elements(transitions));
    g.bench_function("10_nodes_conditional_retry", |b| {
        b.iter(|| dry_run(black_box(&small), black_box(&input), &fallback, now))
    });
    g.finish();

    let entries = normalize(&[
        RolloutEntry {
            version: 3,
            percentage: 10,
        },
        RolloutEntry {
            version: 2,
            percentage: 25,
        },
        RolloutEntry {
            version: 1,
            percentage: 65,
        },
    ]);
    let ids: Vec<String> = (0..10_000).map(|i| format!("ses_{i:024}")).collect();
    let mut g = c.benchmark_group("rollout");
    g.throughput(Throughput::Elements(ids.len() as u64));
    g.bench_function("assign_10k_ids", |b| {
        b.iter(|| {
            ids.iter()
                .filter_map(|id| assign(black_box(&entries), id))
                .sum::<i32>()
        })
    });
    g.finish();
}

criterion_group!(engine, benches);
criterion_main!(engine);
